package pipeline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
)

func parseJSONLines(t *testing.T, p *jsonParser, lines ...string) ([]logs.LogEntry, int) {
	t.Helper()
	b := &batch{source: "src", lines: lines}
	d, err := p.parse(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return b.entries, d
}

func TestJSONParser(t *testing.T) {
	p := newJSONParser(&ParserConfig{})
	ts := func(s string) uint64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return uint64(tm.UnixNano())
	}
	for _, c := range []struct {
		line   string
		ts     uint64
		level  string // "" for none
		msg    string
		fields string // k=v;k=v
	}{
		{`{"timestamp":"2026-11-22T10:00:00.123456789+01:00","level":"info","message":"m"}`, ts("2026-11-22T09:00:00.123456789Z"), "info", "m", ""},
		{`{"time":1795341600,"level":"WARN","msg":"secs"}`, ts("2026-11-22T10:00:00Z"), "warn", "secs", ""},
		{`{"time":1795341600.25,"msg":"fractional secs"}`, ts("2026-11-22T10:00:00.25Z"), "", "fractional secs", ""},
		{`{"ts":1795341600123,"msg":"ms"}`, ts("2026-11-22T10:00:00.123Z"), "", "ms", ""},
		{`{"ts":1795341600123456,"msg":"us"}`, ts("2026-11-22T10:00:00.123456Z"), "", "us", ""},
		{`{"@timestamp":1795341600123456789,"msg":"ns"}`, 1795341600123456789, "", "ns", ""},
		{`{"time":"yesterday","msg":"bad time stays a field"}`, 0, "", "bad time stays a field", "time=yesterday"},
		{`{"level":30,"msg":"pino info"}`, 0, "info", "pino info", ""},
		{`{"level":60,"msg":"pino fatal"}`, 0, "error", "pino fatal", ""},
		{`{"severity":"NOTICE","msg":"unknown level kept as is"}`, 0, "NOTICE", "unknown level kept as is", ""},
		{`{"lvl":"Critical","message":"first message key wins","msg":"other"}`, 0, "error", "first message key wins", "msg=other"},
		{`{"msg":42}`, 0, "", "", "msg=42"},
		{` { "a" : "x\"y\\z\u00e9\ud83d\ude00\n" , "b" : [1, {"c": null}], "d": true, "e": -1.5e+3 } `, 0, "", "",
			"a=x\"y\\zé😀\n;b=[1, {\"c\": null}];d=true;e=-1.5e+3"},
		{`{}`, 0, "", "", ""},
	} {
		es, d := parseJSONLines(t, p, c.line)
		if d != 0 || len(es) != 1 {
			t.Errorf("%s: dropped", c.line)
			continue
		}
		e := es[0]
		lv := ""
		if e.Level != nil {
			lv = *e.Level
		}
		var fs []string
		for _, f := range e.Fields {
			fs = append(fs, f.F0+"="+f.F1)
		}
		if e.Timestamp != c.ts || lv != c.level || e.Message != c.msg || strings.Join(fs, ";") != c.fields || e.Source != "src" {
			t.Errorf("%s:\n got ts=%d level=%q msg=%q fields=%q source=%q\nwant ts=%d level=%q msg=%q fields=%q",
				c.line, e.Timestamp, lv, e.Message, strings.Join(fs, ";"), e.Source, c.ts, c.level, c.msg, c.fields)
		}
	}
	for _, bad := range []string{``, `null`, `[]`, `"s"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`,
		`{"a":tru}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":"\u12"}`, `{"a":1} x`, `{"a":[1,]}`, `{"a":{"b"}}`,
		`{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, `{a:1}`} {
		if es, d := parseJSONLines(t, p, bad); d != 1 || len(es) != 0 {
			t.Errorf("%q: not dropped", bad)
		}
	}
	// The keys can be chosen.
	p = newJSONParser(&ParserConfig{TimestampKey: "when", LevelKey: "sev", MessageKey: "text"})
	es, _ := parseJSONLines(t, p, `{"when":"2026-11-22T10:00:00Z","sev":"error","text":"t","msg":"m","level":"info"}`)
	if es[0].Timestamp != ts("2026-11-22T10:00:00Z") || *es[0].Level != "error" || es[0].Message != "t" || len(es[0].Fields) != 2 {
		t.Errorf("chosen keys: %+v", es[0])
	}
}

// The JSON parser agrees with encoding/json about what is valid.
func FuzzJSONParser(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"level":"info","msg":"x","n":[1,{"b":null}]}`, `{"a":"\u00e9"}`, `{]`, `{"a":1e5}`} {
		f.Add(s)
	}
	p := newJSONParser(&ParserConfig{})
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") || !utf8Valid(line) {
			return // sources pass single lines of valid UTF-8
		}
		b := &batch{lines: []string{line}}
		d, _ := p.parse(context.Background(), b)
		var v map[string]json.RawMessage
		valid := json.Unmarshal([]byte(line), &v) == nil && v != nil && strings.HasPrefix(strings.TrimSpace(line), "{")
		if valid != (d == 0) {
			t.Errorf("%q: encoding/json says valid=%v, the parser dropped=%d", line, valid, d)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestRenderers(t *testing.T) {
	lv := "warn"
	es := []logs.LogEntry{
		{Timestamp: uint64(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).UnixNano()), Level: &lv, Message: "disk full", Source: "a.log",
			Fields: []field{{"path", "/var"}, {"msg", "two words"}, {"empty", ""}, {"q", `a"b`}, {"eq", "a=b"}}},
		{Timestamp: uint64(time.Date(2026, 11, 22, 10, 0, 0, 5e6, time.UTC).UnixNano()), Message: "line\nbreak\r", Source: "b"},
		{Message: "plain", Source: "c"},
		{Message: "ctl \x01 \"q\" \\ é \t", Source: "d", Fields: []field{{"k", "v"}}},
	}
	b := &batch{entries: es}
	text, n, _ := textRenderer{}.render(context.Background(), b, nil)
	wantText := `2026-11-22T10:00:00Z [warn] disk full path=/var msg="two words" empty="" q="a\"b" eq="a=b"
2026-11-22T10:00:00.005Z line\nbreak\r
plain
ctl ` + "\x01" + ` "q" \ é ` + "\t" + ` k=v
`
	if string(text) != wantText || n != 4 {
		t.Errorf("text:\n%s\nwant:\n%s", text, wantText)
	}
	js, _, _ := jsonRenderer{}.render(context.Background(), b, nil)
	lines := strings.Split(strings.TrimSuffix(string(js), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("json: %s", js)
	}
	for i, l := range lines {
		var v struct {
			Timestamp string            `json:"timestamp"`
			Level     *string           `json:"level"`
			Message   string            `json:"message"`
			Source    string            `json:"source"`
			Fields    map[string]string `json:"fields"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("json line %d: %v: %s", i, err, l)
		}
		if v.Message != es[i].Message || v.Source != es[i].Source || len(v.Fields) != len(es[i].Fields) || (v.Level == nil) != (es[i].Level == nil) {
			t.Errorf("json line %d: %s", i, l)
		}
	}
	if !strings.HasPrefix(lines[0], `{"timestamp":"2026-11-22T10:00:00Z","level":"warn","message":"disk full","source":"a.log","fields":{"path":"/var",`) {
		t.Errorf("json line 0: %s", lines[0])
	}
	if got := string(appendJSONString(nil, "a\xffb\u2028")); got != `"a\ufffdb`+"\u2028"+`"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
}

func TestLevels(t *testing.T) {
	for s, want := range map[string]int{"trace": 0, "DEBUG": 1, "Info": 2, "warn": 3, "WARNING": 3, "error": 4, "err": 4,
		"FATAL": 4, "critical": 4, "notice": -1, "": -1, "w@rn": -1, "inf0": -1} {
		if got := levelRank(s); got != want {
			t.Errorf("levelRank(%q) = %d, want %d", s, got, want)
		}
	}
	mk := func(levels ...string) *batch {
		b := &batch{}
		for _, l := range levels {
			e := logs.LogEntry{Message: l}
			if l != "-" {
				e.Level = &l
			}
			b.entries = append(b.entries, e)
		}
		return b
	}
	b := mk("debug", "-", "WARN", "info", "notice", "error")
	d, _ := levelFilter{min: 3}.filter(context.Background(), b)
	var kept []string
	for _, e := range b.entries {
		kept = append(kept, e.Message)
	}
	if d != 2 || strings.Join(kept, ",") != "-,WARN,notice,error" {
		t.Errorf("level filter: dropped %d, kept %v", d, kept)
	}
}

func TestMatchFilter(t *testing.T) {
	lv := "info"
	es := func() *batch {
		return &batch{entries: []logs.LogEntry{
			{Message: "GET /a", Source: "x.log", Level: &lv, Fields: []field{{"status", "200"}}},
			{Message: "POST /b", Source: "y.log", Fields: []field{{"status", "500"}}},
			{Message: "GET /c", Source: "x.log"},
		}}
	}
	for _, c := range []struct {
		cfg  FilterConfig
		kept string
	}{
		{FilterConfig{Pattern: "^GET"}, "GET /a,GET /c"},
		{FilterConfig{Contains: "/b"}, "POST /b"},
		{FilterConfig{Pattern: "^GET", Invert: true}, "POST /b"},
		{FilterConfig{Field: "status", Pattern: "^5"}, "POST /b"},
		{FilterConfig{Field: "status", Pattern: "^5", Invert: true}, "GET /a,GET /c"},
		{FilterConfig{Field: "source", Contains: "x"}, "GET /a,GET /c"},
		{FilterConfig{Field: "level", Contains: "info"}, "GET /a"},
	} {
		b := es()
		newMatchFilter(&c.cfg).filter(context.Background(), b)
		var kept []string
		for _, e := range b.entries {
			kept = append(kept, e.Message)
		}
		if strings.Join(kept, ",") != c.kept {
			t.Errorf("%+v: kept %v, want %s", c.cfg, kept, c.kept)
		}
	}
}

func TestStatsJSON(t *testing.T) {
	st := Stats{LinesIn: 10, LinesOut: 7, Dropped: 3, DroppedParser: 1, DroppedFilters: 2, Duration: 2 * time.Second, LinesPerSecond: 5}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"lines_in":10,"lines_out":7,"dropped":3,"dropped_parser":1,"dropped_filters":2,"dropped_errors":0,"filters":[],"outputs":[],"plugin_stages":[],"duration_seconds":2,"lines_per_second":5,"interrupted":false}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if s := st.Summary(); s != "10 lines in, 7 out, 3 dropped (parser 1, filters 2), 2s, 5 lines/s" {
		t.Errorf("summary: %s", s)
	}
}
