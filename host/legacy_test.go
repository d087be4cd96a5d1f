package host

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/facts"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/metadata"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/templates"
)

// syncBuffer collects log output from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLegacyHost makes a host whose plugin home is a temporary directory,
// configured by the plugins.toml text cfg, logging everything into the
// returned buffer.
func newLegacyHost(t testing.TB, cfg string) (*Host, *syncBuffer) {
	t.Helper()
	c := &Config{}
	if cfg != "" {
		var err error
		if c, err = ParseConfig("plugins.toml", []byte(cfg)); err != nil {
			t.Fatal(err)
		}
	}
	out := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: LevelTrace}))
	h, err := New(Options{Config: c, Logger: logger, Cache: NewDirCache(filepath.Join(t.TempDir(), "cache"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, out
}

func loadLegacy(t testing.TB, h *Host, name string, wasm []byte) *Plugin {
	t.Helper()
	p, err := h.LoadBytes(context.Background(), name, wasm)
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	if p.ABI() != ABILegacy {
		t.Fatalf("%s: ABI %q", name, p.ABI())
	}
	return p
}

// wantLegacyError checks that err is a host *Error of the kind, whose message is
// exactly msg.
func wantLegacyError(t testing.TB, err error, kind ErrorKind, msg string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a *host.Error of kind %s: %q", err, err, kind, msg)
	}
	if e.Kind != kind || e.Error() != msg {
		t.Fatalf("error\n  %q (kind %s)\nwant\n  %q (kind %s)", e.Error(), e.Kind, msg, kind)
	}
	return e
}

func legacyRT(t testing.TB, p *Plugin) *legacyRuntime {
	t.Helper()
	rt, ok := p.rt.(*legacyRuntime)
	if !ok {
		t.Fatalf("plugin %s runs on %T", p.Name(), p.rt)
	}
	return rt
}

// countCalls runs the "count" task: how many execute_task calls the
// instance that served it has made, this one included.
func countCalls(t testing.TB, p *Plugin) string {
	t.Helper()
	res, err := p.ExecuteTask(context.Background(), "count", "", false)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return res.Output
}

func TestLegacyDefinitions(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	p := loadLegacy(t, h, "full", fullFixture(defaultFx()).wasm(t))

	if got, want := p.Info(), (metadata.PluginInfo{Name: "fixture", Version: "1.2.3", Description: "every export of the legacy ABI"}); got != want {
		t.Errorf("Info = %+v, want %+v", got, want)
	}
	if got, want := p.Provides(), []string{"tasks", "facts", "templates", "logs"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Provides = %v, want %v", got, want)
	}
	wantTasks := []tasks.TaskDefinition{
		{Name: "echo", Kind: tasks.TaskKindApply, Description: "echoes", ConfigSchema: `{"type":"object","properties":{"message":{"type":"string"}}}`},
		{Name: "raw", Kind: tasks.TaskKindFacts, ConfigSchema: `{"type":"object"}`},
		{Name: "diff", Kind: tasks.TaskKindLogs},
		{Name: "fail"}, {Name: "kind"}, {Name: "count"}, {Name: "null-output"}, {Name: "greet"},
	}
	for _, n := range []string{"spin", "bomb", "oom", "deep", "crash", "past-end", "null", "no-nul", "long",
		"bad-utf8", "bad-json", "not-object", "bad-changed", "bad-log"} {
		wantTasks = append(wantTasks, tasks.TaskDefinition{Name: n})
	}
	if got := p.Tasks(); !reflect.DeepEqual(got, wantTasks) {
		t.Errorf("Tasks =\n%+v\nwant\n%+v", got, wantTasks)
	}
	wantCollectors := []facts.CollectorDefinition{{Name: "host", Description: "host facts", ConfigSchema: `{"type":"object"}`}}
	if got := p.Collectors(); !reflect.DeepEqual(got, wantCollectors) {
		t.Errorf("Collectors = %+v, want %+v", got, wantCollectors)
	}
	wantExt := []templates.ExtensionDefinition{
		{Name: "wrap", Kind: templates.ExtensionKindFilter, Description: "wraps", Category: "text",
			Arguments: []templates.Argument{{Name: "left"}, {Name: "right", Description: "right side", Required: true}, {Name: "pad", Description: "padding"}}},
		{Name: "join", Kind: templates.ExtensionKindFunction, ConfigSchema: "{}"},
	}
	if got := p.Extensions(); !reflect.DeepEqual(got, wantExt) {
		t.Errorf("Extensions =\n%+v\nwant\n%+v", got, wantExt)
	}
	wantLogs := []logs.ComponentDefinition{
		{Name: "canned", Kind: logs.ComponentKindSource, Description: "canned entries"},
		{Name: "plain", Kind: logs.ComponentKindParser, ConfigSchema: `{"type":"object"}`},
		{Name: "no-debug", Kind: logs.ComponentKindFilter},
		{Name: "pipe", Kind: logs.ComponentKindOutput},
	}
	if got := p.LogComponents(); !reflect.DeepEqual(got, wantLogs) {
		t.Errorf("LogComponents =\n%+v\nwant\n%+v", got, wantLogs)
	}
	if s, ok := p.Schema("task", "raw"); !ok || s != `{"type":"object"}` {
		t.Errorf("Schema(task, raw) = %q, %t", s, ok)
	}
	for _, line := range []string{
		"// legacy JSON-string ABI core module\n",
		"import env.host_log: func(i32, i32)\n",
		"import env.host_get_timestamp: func() -> i64\n",
		"export memory: memory(min 1 pages)\n",
		"export allocate: func(i32) -> i32\n",
		"export deallocate: func(i32, i32)\n",
		"export get_task_definitions: func() -> i32\n",
		"export execute_task: func(i32, i32) -> i32\n",
		"export execute_template_filter: func(i32, i32, i32, i32) -> i32\n",
		"export execute_log_parser: func(i32, i32, i32) -> i32\n",
	} {
		if !strings.Contains(p.Interface(), line) {
			t.Errorf("Interface() lacks %q:\n%s", line, p.Interface())
		}
	}
}

func TestLegacyNoMetadata(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	o := defaultFx()
	o.noMeta = true
	p := loadLegacy(t, h, "anonymous", fullFixture(o).wasm(t))
	if got, want := p.Info(), (metadata.PluginInfo{Name: "anonymous"}); got != want {
		t.Errorf("Info without get_plugin_metadata = %+v, want %+v", got, want)
	}
	// Metadata without a name keeps the plugin's.
	f := newLegacyFixture().static("get_plugin_metadata", `{"version":"2"}`).static("get_task_definitions", `[]`)
	p = loadLegacy(t, h, "unnamed", f.wasm(t))
	if got, want := p.Info(), (metadata.PluginInfo{Name: "unnamed", Version: "2"}); got != want {
		t.Errorf("Info of metadata without a name = %+v, want %+v", got, want)
	}
	// Missing definition exports mean "provides none".
	if len(p.Collectors()) != 0 || len(p.Extensions()) != 0 || len(p.LogComponents()) != 0 || len(p.Tasks()) != 0 {
		t.Errorf("definitions of a module with only get_task_definitions: %v %v %v %v", p.Tasks(), p.Collectors(), p.Extensions(), p.LogComponents())
	}
	if got := p.Provides(); !reflect.DeepEqual(got, []string{"tasks"}) {
		t.Errorf("Provides = %v", got)
	}
}

func TestLegacyExecuteTask(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	p := loadLegacy(t, h, "full", fullFixture(defaultFx()).wasm(t))
	ctx := context.Background()

	res, err := p.ExecuteTask(ctx, "echo", `{"message": "hi"}`, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tasks.TaskResult{Changed: true, Message: "task echo", Output: `{"message": "hi"}`}); !reflect.DeepEqual(res, want) {
		t.Errorf("echo = %+v, want %+v", res, want)
	}
	// No "output": the whole object is the output.
	res, err = p.ExecuteTask(ctx, "raw", `{"x":1}`, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tasks.TaskResult{Changed: true, Output: `{"changed":true,"detail":{"x":1}}`}); !reflect.DeepEqual(res, want) {
		t.Errorf("raw = %+v, want %+v", res, want)
	}
	res, err = p.ExecuteTask(ctx, "diff", "", false)
	if err != nil {
		t.Fatal(err)
	}
	diff := "--- a\n+++ b\n"
	if want := (tasks.TaskResult{Changed: true, Message: "m", Output: `{"a":1}`, Diff: &diff}); !reflect.DeepEqual(res, want) {
		t.Errorf("diff = %+v, want %+v", res, want)
	}
	res, err = p.ExecuteTask(ctx, "null-output", "", false)
	if err != nil || res.Output != "null" || res.Message != "nothing" || res.Changed {
		t.Errorf("null-output = %+v, %v", res, err)
	}
	// The config the host passes is "{}" for an empty one.
	res, err = p.ExecuteTask(ctx, "fail-not", "  ", false)
	wantLegacyError(t, err, KindNotFound, `plugin full: tasks.execute: no task named "fail-not" (available: bad-changed, bad-json, bad-log, bad-utf8, bomb, count, crash, deep, diff, echo, fail, greet, kind, `+
		`long, no-nul, not-object, null, null-output, oom, past-end, and 2 more)`)
	if res, err = p.ExecuteTask(ctx, "diff", "", false); err != nil {
		t.Fatal(err)
	}
	// Envelopes are plugin errors, which keep the instance.
	before := countCalls(t, p)
	_, err = p.ExecuteTask(ctx, "fail", "", false)
	wantLegacyError(t, err, KindFailed, "plugin full: tasks.execute: task failed on purpose")
	_, err = p.ExecuteTask(ctx, "kind", "", false)
	wantLegacyError(t, err, KindInvalidInput, "plugin full: tasks.execute: bad input")
	if after := countCalls(t, p); after != litoa(latoi(before)+3) {
		t.Errorf("calls after two plugin errors: %s then %s; the instance was not kept", before, after)
	}
	// The config is checked against the schema before any call.
	_, err = p.ExecuteTask(ctx, "echo", `{"message": 7}`, false)
	wantLegacyError(t, err, KindInvalidConfig, `plugin full: tasks.execute: task "echo": config does not match the config-schema: at /message: got number, want string`)
	_, err = p.ExecuteTask(ctx, "raw", `[]`, false)
	wantLegacyError(t, err, KindInvalidConfig, `plugin full: tasks.execute: task "raw": config does not match the config-schema: at (root): got array, want object`)
}

func TestLegacyCheckMode(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	p := loadLegacy(t, h, "full", fullFixture(defaultFx()).wasm(t))
	before := countCalls(t, p)
	_, err := p.ExecuteTask(context.Background(), "echo", `{"message":"x"}`, true)
	wantLegacyError(t, err, KindUnsupported, `plugin full: tasks.execute: task "echo" does not support check mode`)
	if after := countCalls(t, p); after != litoa(latoi(before)+1) {
		t.Errorf("execute_task calls %s then %s: check mode reached the plugin", before, after)
	}
	for _, d := range p.Tasks() {
		if d.SupportsCheckMode {
			t.Errorf("task %s says it supports check mode", d.Name)
		}
	}
	// The runtime itself refuses too, should anything call it directly.
	_, err = legacyRT(t, p).executeTask(context.Background(), "echo", "{}", true)
	if err == nil || err.Error() != `plugin-error: kind=unsupported message="task \"echo\" does not support check mode"` {
		t.Errorf("runtime in check mode: %v", err)
	}
}

func TestLegacyInstanceReuse(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	p := loadLegacy(t, h, "full", fullFixture(defaultFx()).wasm(t))
	for i := 1; i <= 3; i++ {
		if got := countCalls(t, p); got != litoa(i) {
			t.Fatalf("call %d served by an instance that made %s calls: not reused", i, got)
		}
	}
	if n := legacyRT(t, p).pool.size(); n != 1 {
		t.Errorf("%d idle instances, want 1", n)
	}
	// max_calls_per_instance recycles.
	h2, _ := newLegacyHost(t, "[security]\nmax_calls_per_instance = 2\n")
	p2 := loadLegacy(t, h2, "full", fullFixture(defaultFx()).wasm(t))
	// The definitions were read in the first instance: one call.
	got := []string{countCalls(t, p2), countCalls(t, p2), countCalls(t, p2)}
	if want := []string{"1", "1", "2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("counts with max_calls_per_instance = 2: %v, want %v", got, want)
	}
}

func TestLegacyFacts(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	p := loadLegacy(t, h, "full", fullFixture(defaultFx()).wasm(t))
	defer func(old func() time.Time) { now = old }(now)
	now = func() time.Time { return time.Unix(1700000123, 0) }
	out, err := p.Collect(context.Background(), "host", `{"deep":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"collector":"host","config":{"deep":true},"time":1700000123}`; out != want {
		t.Errorf("Collect = %s, want %s", out, want)
	}
}

func TestLegacyTemplates(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		filter, function string
		wantFilter       string
		wantFunction     string
	}{
		{"execute_template_filter/4", "execute_template_function/3",
			`{"filter":"wrap","config":{"c":1},"value":"v","args":["<",">"]}`,
			`{"function":"join","config":{"c":1},"args":[1,[2]]}`},
		{"execute_template_filter/3", "execute_template_function/2",
			`{"filter":"wrap","value":"v","args":["<",">"]}`,
			`{"function":"join","args":[1,[2]]}`},
		{"execute_filter", "execute_function",
			`{"filter":"wrap","value":"v","args":["<",">"]}`,
			`{"function":"join","args":[1,[2]]}`},
	}
	for _, tc := range cases {
		t.Run(tc.filter+"+"+tc.function, func(t *testing.T) {
			h, _ := newLegacyHost(t, "")
			o := defaultFx()
			o.filter, o.function = tc.filter, tc.function
			p := loadLegacy(t, h, "tmpl", fullFixture(o).wasm(t))
			got, err := p.ApplyFilter(ctx, "wrap", `{"c":1}`, `"v"`, []string{`"<"`, `">"`})
			if err != nil || got != tc.wantFilter {
				t.Errorf("ApplyFilter = %s, %v; want %s", got, err, tc.wantFilter)
			}
			got, err = p.CallFunction(ctx, "join", `{"c":1}`, []string{"1", " [2] "})
			if err != nil || got != tc.wantFunction {
				t.Errorf("CallFunction = %s, %v; want %s", got, err, tc.wantFunction)
			}
			// Kinds are checked against the definitions.
			_, err = p.CallFunction(ctx, "wrap", "", nil)
			wantLegacyError(t, err, KindNotFound, `plugin tmpl: templates.call-function: template extension "wrap" is a filter, not a function`)
		})
	}
}

func TestLegacyLogStages(t *testing.T) {
	ctx := context.Background()
	for _, arity := range []int{3, 2} {
		t.Run(litoa(arity), func(t *testing.T) {
			h, _ := newLegacyHost(t, "")
			o := defaultFx()
			o.parser = arity
			p := loadLegacy(t, h, "logs", fullFixture(o).wasm(t))

			src, err := p.OpenSource(ctx, "canned", "")
			if err != nil {
				t.Fatal(err)
			}
			var all []logs.LogEntry
			var sizes []int
			for {
				batch, err := src.Next(ctx, 3)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(batch))
				if len(batch) == 0 {
					break
				}
				all = append(all, batch...)
			}
			if err := src.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sizes, []int{3, 1, 0}) {
				t.Errorf("batch sizes %v, want [3 1 0]", sizes)
			}
			info := "info"
			want := []logs.LogEntry{
				{Timestamp: 1700000000_000000000, Level: &info, Message: "one", Source: "fixture",
					Fields: lfields("code", "42", "user", "ada", "ctx", `{"a":[1,2]}`)},
				{Message: "a raw line"},
				{Timestamp: uint64(time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.UTC).UnixNano()), Message: "two",
					Fields: lfields("user", "y")},
				{Timestamp: 1700000000_123000000, Message: "ms", Fields: lfields("ok", "true", "none", "null")},
			}
			if !reflect.DeepEqual(all, want) {
				t.Errorf("source entries:\n%s\nwant\n%s", dumpEntries(all), dumpEntries(want))
			}

			parser, err := p.OpenParser(ctx, "plain", `{"p":1}`)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := parser.Parse(ctx, []string{`say "hi"`, "# comment", "plain"})
			if err != nil {
				t.Fatal(err)
			}
			cfg := `{"p":1}`
			if arity == 2 {
				cfg = "null"
			}
			wantParsed := []*logs.LogEntry{
				{Message: `say "hi"`, Source: "plain", Fields: lfields("config", cfg)},
				nil,
				{Message: "plain", Source: "plain", Fields: lfields("config", cfg)},
			}
			if !reflect.DeepEqual(parsed, wantParsed) {
				t.Errorf("parsed %s, want %s", dumpPtrEntries(parsed), dumpPtrEntries(wantParsed))
			}
			_, err = parser.Parse(ctx, []string{"fine", "bad"})
			wantLegacyError(t, err, KindInvalidInput, "plugin logs: logs.parser.parse: line 2: cannot parse")
			_, err = parser.Parse(ctx, []string{"ok", "nul\x00byte"})
			wantLegacyError(t, err, KindInvalidInput, "plugin logs: logs.parser.parse: line 2 contains a NUL byte, which the legacy ABI cannot pass")
			_, err = parser.Parse(ctx, []string{"\xff"})
			wantLegacyError(t, err, KindInvalidInput, "plugin logs: logs.parser.parse: line 1 is not valid UTF-8, which the legacy ABI requires")
			// The stage still works after its plugin's errors.
			if got, err := parser.Parse(ctx, []string{"again"}); err != nil || len(got) != 1 || got[0].Message != "again" {
				t.Errorf("parse after errors: %v, %v", got, err)
			}
			if got, err := parser.Parse(ctx, nil); err != nil || len(got) != 0 {
				t.Errorf("parse of no lines: %v, %v", got, err)
			}
			// A trap breaks the stage's instance: the stage fails from then
			// on, as a component's does; other stages are not affected.
			_, err = parser.Parse(ctx, []string{"fine", "crash"})
			wantLegacyErrorPrefix(t, err, KindTrap, "plugin logs: logs.parser.parse: wasm trap: wasm `unreachable` instruction executed")
			_, err = parser.Parse(ctx, []string{"fine"})
			wantLegacyError(t, err, KindTrap, "plugin logs: logs.parser.parse: instance unusable after an earlier trap")
			lmust(t, parser.Close(ctx))
			_, err = parser.Parse(ctx, []string{"fine"})
			if err == nil || err.Error() != "plugin logs: logs.parser.parse: log stage is closed" {
				t.Errorf("parse after close: %v", err)
			}
			other, err := p.OpenParser(ctx, "plain", "{}")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := other.Parse(ctx, []string{"fine"}); err != nil || got[0].Message != "fine" {
				t.Errorf("a new parser after the trap: %v, %v", got, err)
			}
			lmust(t, other.Close(ctx))

			filter, err := p.OpenFilter(ctx, "no-debug", "")
			if err != nil {
				t.Fatal(err)
			}
			debug := "debug"
			keep, err := filter.Keep(ctx, []logs.LogEntry{all[0], {Level: &debug, Message: "noise"}, all[1]})
			if err != nil || !reflect.DeepEqual(keep, []bool{true, false, true}) {
				t.Errorf("Keep = %v, %v; want [true false true]", keep, err)
			}
			lmust(t, filter.Close(ctx))

			output, err := p.OpenOutput(ctx, "pipe", "")
			if err != nil {
				t.Fatal(err)
			}
			recs, err := output.Write(ctx, []logs.LogEntry{all[0], {Message: "silent please"}, all[2]})
			if err != nil {
				t.Fatal(err)
			}
			wantRecs := []string{
				`{"timestamp":"2023-11-14T22:13:20Z","level":"info","message":"one","source":"fixture","code":42,"user":"ada","ctx":{"a":[1,2]}}`,
				`{"timestamp":"2024-01-02T03:04:05.5Z","message":"two","source":"","user":"y"}`,
			}
			if !reflect.DeepEqual(recs, wantRecs) {
				t.Errorf("Write =\n%q\nwant\n%q", recs, wantRecs)
			}
			_, err = output.Write(ctx, []logs.LogEntry{{Message: "ok"}, {Message: "boom"}})
			wantLegacyError(t, err, KindFailed, "plugin logs: logs.output.write: entry 2: cannot deliver")
			lmust(t, output.Close(ctx))
		})
	}
}

func lfields(kv ...string) []struct {
	F0 string
	F1 string
} {
	var out []struct {
		F0 string
		F1 string
	}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, struct {
			F0 string
			F1 string
		}{kv[i], kv[i+1]})
	}
	return out
}

func dumpEntries(es []logs.LogEntry) string {
	var b strings.Builder
	for i := range es {
		b.WriteString(entryJSON(&es[i]) + "\n")
	}
	return b.String()
}

func dumpPtrEntries(es []*logs.LogEntry) string {
	var b strings.Builder
	for _, e := range es {
		if e == nil {
			b.WriteString("nil\n")
			continue
		}
		b.WriteString(entryJSON(e) + "\n")
	}
	return b.String()
}

func lmust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func litoa(n int) string { return strconv.Itoa(n) }

func latoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// A log stage whose instance trapped is unusable until Restart gives it a
// fresh instance with the component opened again; a legacy stage's memory
// size is known.
func TestLogStageRestart(t *testing.T) {
	ctx := context.Background()
	h, _ := newLegacyHost(t, "")
	p := loadLegacy(t, h, "logs", fullFixture(defaultFx()).wasm(t))
	parser, err := p.OpenParser(ctx, "plain", `{"p":1}`)
	if err != nil {
		t.Fatal(err)
	}
	defer parser.Close(ctx)
	if n, ok := parser.MemorySize(); !ok || n <= 0 || n%65536 != 0 {
		t.Errorf("memory size %d, %t", n, ok)
	}
	if _, err := parser.Parse(ctx, []string{"crash"}); KindOf(err) != KindTrap {
		t.Fatalf("crash: %v", err)
	}
	if _, err := parser.Parse(ctx, []string{"fine"}); err == nil {
		t.Fatal("a trapped instance served another call")
	}
	for range 2 {
		if err := parser.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := parser.Parse(ctx, []string{"fine"})
		if err != nil || len(got) != 1 || got[0].Message != "fine" {
			t.Fatalf("after restart: %v, %v", got, err)
		}
	}
	// A stage whose component cannot be opened again fails its calls with
	// that error, until a restart succeeds.
	h.Unload("logs")
	if err := parser.Restart(ctx); err == nil {
		t.Fatal("restarted a stage of an unloaded plugin")
	}
	_, err = parser.Parse(ctx, []string{"fine"})
	wantLegacyError(t, err, KindFailed, "plugin logs: logs.parser.parse: log stage could not be restarted: plugin logs: logs.open-parser: plugin was unloaded")
	if err := parser.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := parser.Restart(ctx); err == nil {
		t.Error("restarted a closed stage")
	}
}
