package host

// The Rust example (examples/rust-plugin, the reference plugin of the
// `plugin` world) through the host API: every task, collector, template
// extension and log component, their errors, check mode, host.log, and
// its log stages chained into a pipeline.

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/internal/builtexample"
)

func loadRustExample(t *testing.T) (*Plugin, *logRecorder) {
	t.Helper()
	wasm := builtexample.Wasm(t, "rust-plugin")
	h, rec := exampleHost(t, "")
	p, err := h.LoadBytes(context.Background(), "rust-plugin", wasm)
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

func TestExampleRustLoads(t *testing.T) {
	p, _ := loadRustExample(t)
	if p.Info().Name != "rust-plugin" || p.Info().Version != "0.1.0" {
		t.Errorf("info %+v", p.Info())
	}
	if got := strings.Join(p.Provides(), ","); got != "tasks,facts,templates,logs" {
		t.Errorf("provides %s", got)
	}
	var names []string
	for _, d := range p.Tasks() {
		names = append(names, d.Name)
		if !d.SupportsCheckMode {
			t.Errorf("task %s: no check mode", d.Name)
		}
	}
	for _, d := range p.Collectors() {
		names = append(names, d.Name)
	}
	for _, d := range p.Extensions() {
		names = append(names, d.Name)
	}
	for _, d := range p.LogComponents() {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "bump-version,ensure-line,pin-version,rust,truncate,semver_bump,sequence,logfmt,contains,logfmt-out" {
		t.Errorf("items %s", got)
	}
}

func TestExampleRustTasks(t *testing.T) {
	p, rec := loadRustExample(t)
	ctx := context.Background()
	output := func(res map[string]any, key string) any { return res[key] }
	decode := func(s string) map[string]any {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("output %q: %v", s, err)
		}
		return v
	}

	t.Run("bump-version", func(t *testing.T) {
		rec.reset()
		res, err := p.ExecuteTask(ctx, "bump-version", `{"version":"1.2.3","part":"minor"}`, false)
		if err != nil || !res.Changed || res.Message != "bumped 1.2.3 to 1.3.0" ||
			res.Diff == nil || *res.Diff != "--- version\n+++ version\n-1.2.3\n+1.3.0\n" {
			t.Fatalf("%+v %v", res, err)
		}
		if out := decode(res.Output); output(out, "version") != "1.3.0" || out["check_mode"] != false {
			t.Errorf("output %v", out)
		}
		// host.log reaches the host's log, tagged with the plugin.
		lines := rec.lines()
		if len(lines) != 1 || lines[0].Msg != "bump-version: bumped 1.2.3 to 1.3.0" ||
			lines[0].Level != slog.LevelInfo || lines[0].Attrs["plugin"] != "rust-plugin" {
			t.Errorf("log %+v", lines)
		}
	})
	t.Run("bump-version check mode", func(t *testing.T) {
		res, err := p.ExecuteTask(ctx, "bump-version", `{"version":"1.2.3"}`, true)
		if err != nil || !res.Changed || res.Message != "would bump 1.2.3 to 1.2.4" || decode(res.Output)["check_mode"] != true {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("ensure-line", func(t *testing.T) {
		res, err := p.ExecuteTask(ctx, "ensure-line", `{"text":"a\nb\n","line":"c"}`, false)
		if err != nil || !res.Changed || decode(res.Output)["text"] != "a\nb\nc\n" || res.Diff == nil || *res.Diff != "--- text\n+++ text\n+c\n" {
			t.Fatalf("%+v %v", res, err)
		}
		res, err = p.ExecuteTask(ctx, "ensure-line", `{"text":"a\nc","line":"c"}`, true)
		if err != nil || res.Changed || res.Diff != nil || res.Message != "line already present" {
			t.Fatalf("present: %+v %v", res, err)
		}
		res, err = p.ExecuteTask(ctx, "ensure-line", `{"text":"c\na\n","line":"c","state":"absent"}`, true)
		if err != nil || !res.Changed || res.Message != `would remove line "c" (1x)` || decode(res.Output)["text"] != "a\n" {
			t.Fatalf("absent: %+v %v", res, err)
		}
	})
	for _, c := range []struct {
		name, task, config string
		kind               ErrorKind
		want               string
	}{
		// Refused by the host against the task's config-schema: the plugin does not run.
		{"schema", "bump-version", `{"version":"1.2"}`, KindInvalidConfig,
			`plugin rust-plugin: tasks.execute: task "bump-version": config does not match the config-schema: at /version: '1.2' does not match pattern`},
		{"unknown property", "ensure-line", `{"text":"","line":"x","mode":1}`, KindInvalidConfig,
			`plugin rust-plugin: tasks.execute: task "ensure-line": config does not match the config-schema: at (root): additional properties 'mode' not allowed`},
		// Refused by the plugin: rules the schema cannot express.
		{"overflow", "bump-version", `{"version":"1.99999999999999999999.0"}`, KindInvalidConfig,
			`plugin rust-plugin: tasks.execute: bump-version: "1.99999999999999999999.0" is not a MAJOR.MINOR.PATCH version`},
		{"line break", "ensure-line", `{"text":"","line":"a\nb"}`, KindInvalidConfig,
			`plugin rust-plugin: tasks.execute: ensure-line: "line" must be one non-empty line`},
		{"no such task", "nope", `{}`, KindNotFound,
			`plugin rust-plugin: tasks.execute: no task named "nope" (available: bump-version, ensure-line, pin-version)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.ExecuteTask(ctx, c.task, c.config, false)
			wantErrorPrefix(t, err, c.kind, c.want)
		})
	}
}

func TestExampleRustFactsAndTemplates(t *testing.T) {
	p, _ := loadRustExample(t)
	ctx := context.Background()
	before := time.Now().Unix()
	out, err := p.Collect(ctx, "rust", "")
	var facts map[string]any
	if err != nil || json.Unmarshal([]byte(out), &facts) != nil {
		t.Fatalf("collect: %q %v", out, err)
	}
	if ts, _ := facts["timestamp"].(float64); facts["language"] != "rust" || facts["wit_bindgen"] != "0.63.0" || int64(ts) < before || int64(ts) > time.Now().Unix() {
		t.Errorf("facts %v", facts)
	}
	out, err = p.Collect(ctx, "rust", `{"timestamp":false}`)
	if err != nil || strings.Contains(out, "timestamp") {
		t.Errorf("without timestamp: %q %v", out, err)
	}
	_, err = p.Collect(ctx, "rust", `{"timestamp":"yes"}`)
	wantErrorPrefix(t, err, KindInvalidConfig, `plugin rust-plugin: facts.collect: collector "rust": config does not match the config-schema`)

	for _, c := range []struct {
		name, value string
		args        []string
		want        string
	}{
		{"truncate", `"hello world"`, []string{"5"}, `"hello..."`},
		{"truncate", `"héllo wörld"`, []string{"7", `"…"`}, `"héllo w…"`},
		{"truncate", `"short"`, []string{"10"}, `"short"`},
	} {
		got, err := p.ApplyFilter(ctx, c.name, "", c.value, c.args)
		if err != nil || got != c.want {
			t.Errorf("%s(%s, %v) = %q, %v; want %q", c.name, c.value, c.args, got, err, c.want)
		}
	}
	got, err := p.CallFunction(ctx, "semver_bump", "", []string{`"1.4.2"`, `"major"`})
	if err != nil || got != `"2.0.0"` {
		t.Errorf("semver_bump: %q %v", got, err)
	}
	// A keyword argument that leaves a gap passes null: the default part.
	got, err = p.CallFunction(ctx, "semver_bump", "", []string{`"1.4.2"`, `null`})
	if err != nil || got != `"1.4.3"` {
		t.Errorf("semver_bump with null: %q %v", got, err)
	}
	_, err = p.ApplyFilter(ctx, "truncate", "", `42`, []string{"1"})
	wantErrorPrefix(t, err, KindInvalidInput, "plugin rust-plugin: templates.apply-filter: truncate: value must be a string: invalid type: integer `42`")
	_, err = p.ApplyFilter(ctx, "truncate", "", `"x"`, []string{"-1"})
	wantError(t, err, KindInvalidInput, "plugin rust-plugin: templates.apply-filter: truncate: length must be an integer from 0 to 1000000")
	_, err = p.CallFunction(ctx, "semver_bump", "", []string{`"1.2.3"`, `"huge"`})
	wantError(t, err, KindInvalidInput, `plugin rust-plugin: templates.call-function: part "huge" is not major, minor or patch`)
	_, err = p.ApplyFilter(ctx, "semver_bump", "", `"1.2.3"`, nil)
	wantError(t, err, KindNotFound, `plugin rust-plugin: templates.apply-filter: template extension "semver_bump" is a function, not a filter`)
}

func TestExampleRustLogStages(t *testing.T) {
	p, rec := loadRustExample(t)
	ctx := context.Background()
	str := func(s string) *string { return &s }

	src, err := p.OpenSource(ctx, "sequence", `{"count":5,"message":"beat","level":"warn"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	parser, err := p.OpenParser(ctx, "logfmt", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	defer parser.Close(ctx)
	filter, err := p.OpenFilter(ctx, "contains", `{"text":"3","invert":true}`)
	if err != nil {
		t.Fatal(err)
	}
	defer filter.Close(ctx)
	out, err := p.OpenOutput(ctx, "logfmt-out", `{}`)
	if err != nil {
		t.Fatal(err)
	}

	// A pipeline of the plugin's own stages: source -> filter -> output,
	// in batches of 2, each stage keeping its state across batches.
	var rendered []string
	for {
		batch, err := src.Next(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		keep, err := filter.Keep(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		var kept []logs.LogEntry
		for i, e := range batch {
			if e.Level == nil || *e.Level != "warn" || e.Timestamp == 0 {
				t.Errorf("entry %+v", e)
			}
			if keep[i] {
				e.Timestamp = 0 // deterministic output
				kept = append(kept, e)
			}
		}
		lines, err := out.Write(ctx, kept)
		if err != nil {
			t.Fatal(err)
		}
		rendered = append(rendered, lines...)
	}
	want := []string{`level=warn msg="beat 1" seq=1`, `level=warn msg="beat 2" seq=2`, `level=warn msg="beat 4" seq=4`, `level=warn msg="beat 5" seq=5`}
	if strings.Join(rendered, "\n") != strings.Join(want, "\n") {
		t.Errorf("rendered\n%s", strings.Join(rendered, "\n"))
	}
	// Dropping the output runs its Rust destructor, which logs what it wrote.
	rec.reset()
	if err := out.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if lines := rec.lines(); len(lines) != 1 || lines[0].Msg != "logfmt-out: wrote 4 entries" {
		t.Errorf("destructor log %+v", lines)
	}

	got, err := parser.Parse(ctx, []string{`time=2024-05-01T10:00:00Z level=ERROR msg="disk full" path=/var`, ``, `plain words`})
	if err != nil || len(got) != 3 || got[1] != nil {
		t.Fatalf("parse: %v %v", got, err)
	}
	if e := got[0]; e.Timestamp != 1714557600000000000 || e.Level == nil || *e.Level != "error" || e.Message != "disk full" ||
		len(e.Fields) != 1 || e.Fields[0].F0 != "path" || e.Fields[0].F1 != "/var" {
		t.Errorf("entry %+v", *e)
	}
	if got[2].Message != "plain words" || got[2].Level != nil {
		t.Errorf("plain line %+v", *got[2])
	}
	keep, err := filter.Keep(ctx, []logs.LogEntry{{Message: "a3"}, {Message: "b", Level: str("info")}})
	if err != nil || len(keep) != 2 || keep[0] || !keep[1] {
		t.Errorf("keep %v %v", keep, err)
	}

	t.Run("errors", func(t *testing.T) {
		strict, err := p.OpenParser(ctx, "logfmt", `{"strict":true}`)
		if err != nil {
			t.Fatal(err)
		}
		defer strict.Close(ctx)
		_, err = strict.Parse(ctx, []string{"a=1", "no pairs"})
		wantError(t, err, KindInvalidInput, "plugin rust-plugin: logs.parser.parse: logfmt: line 2 of the batch: no key=value pair: no pairs")
		// The stage lives on after an error it reports.
		if got, err := strict.Parse(ctx, []string{"msg=ok"}); err != nil || got[0].Message != "ok" {
			t.Errorf("after an error: %v %v", got, err)
		}
		_, err = p.OpenFilter(ctx, "contains", `{"invert":true}`)
		wantErrorPrefix(t, err, KindInvalidConfig, `plugin rust-plugin: logs.open-filter: log "contains": config does not match the config-schema: at (root): missing property 'text'`)
		_, err = p.OpenSource(ctx, "sequence", `{"count":1,"level":"loud"}`)
		wantErrorPrefix(t, err, KindInvalidConfig, `plugin rust-plugin: logs.open-source: log "sequence": config does not match the config-schema: at /level`)
		_, err = p.OpenParser(ctx, "contains", `{"text":"x"}`)
		wantError(t, err, KindNotFound, `plugin rust-plugin: logs.open-parser: log component "contains" is a filter, not a parser`)
	})
}

// pin-version keeps what it applied in the plugin's state: changed only
// when the version differs from the one it last pinned, nothing kept in
// check mode, and the rust collector lists what it pinned.
func TestExampleRustState(t *testing.T) {
	p, _ := loadRustExample(t)
	ctx := context.Background()
	pin := func(version string, check bool) (string, bool, error) {
		res, err := p.ExecuteTask(ctx, "pin-version", `{"name":"web","version":"`+version+`"}`, check)
		return res.Message, res.Changed, err
	}
	if msg, changed, err := pin("1.2.3", true); err != nil || !changed || msg != "would pin web to 1.2.3" {
		t.Fatalf("check mode: %q %v %v", msg, changed, err)
	}
	if msg, changed, err := pin("1.2.3", false); err != nil || !changed || msg != "pinned web to 1.2.3" {
		t.Fatalf("first pin: %q %v %v", msg, changed, err)
	}
	if msg, changed, err := pin("1.2.3", false); err != nil || changed || msg != "web is already pinned to 1.2.3" {
		t.Errorf("same version: %q %v %v", msg, changed, err)
	}
	// Check mode keeps nothing: 1.2.3 is still what is pinned.
	if msg, changed, err := pin("2.0.0", true); err != nil || !changed || msg != "would pin web to 2.0.0 (from 1.2.3)" {
		t.Errorf("check mode, other version: %q %v %v", msg, changed, err)
	}
	if msg, changed, err := pin("1.2.3", true); err != nil || changed || msg != "web is already pinned to 1.2.3" {
		t.Errorf("after check mode: %q %v %v", msg, changed, err)
	}
	if msg, changed, err := pin("1.3.0", false); err != nil || !changed || msg != "pinned web to 1.3.0 (from 1.2.3)" {
		t.Errorf("new version: %q %v %v", msg, changed, err)
	}
	out, err := p.Collect(ctx, "rust", `{"timestamp":false}`)
	if err != nil || !strings.Contains(out, `"pinned":{"web":"1.3.0"}`) {
		t.Errorf("facts: %s %v", out, err)
	}
}
