package host

// The legacy adapter with a legacy plugin compiled from real source by a
// real compiler: examples/legacy-plugin (freestanding C, clang
// --target=wasm32), built into build/examples/legacy-plugin.wasm by
// `make -f mk/examples.mk example-legacy`. Like the other example tests
// (internal/builtexample), these skip when the file is missing, and fail
// instead under DRIFTLESS_REQUIRE_EXAMPLES=1.

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/metadata"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/internal/builtexample"
)

// kibConfig is an echo config of exactly 1 KiB.
func kibConfig() string {
	head, tail := `{"message":"hello","pad":"`, `"}`
	return head + strings.Repeat("x", 1024-len(head)-len(tail)) + tail
}

func TestLegacyExample(t *testing.T) {
	wasm := builtexample.Wasm(t, "legacy-plugin")
	h, rec := exampleHost(t, "[plugins.legacy-plugin]\ndebug_enabled = true\n")
	ctx := context.Background()
	p, err := h.LoadBytes(ctx, "legacy-plugin", wasm)
	if err != nil {
		t.Fatal(err)
	}
	if p.ABI() != ABILegacy {
		t.Fatalf("ABI %q", p.ABI())
	}
	wantInfo := metadata.PluginInfo{Name: "legacy-plugin", Version: "0.1.0",
		Description: "Example legacy JSON-ABI plugin (freestanding C): tasks echo and greet, facts collector legacy, template filter upper."}
	if p.Info() != wantInfo {
		t.Errorf("Info = %+v", p.Info())
	}
	if got := p.Provides(); !reflect.DeepEqual(got, []string{"tasks", "facts", "templates"}) {
		t.Errorf("Provides = %v", got)
	}
	if got := taskNames(p.Tasks()); !reflect.DeepEqual(got, []string{"echo", "greet"}) {
		t.Errorf("tasks %v", got)
	}
	for _, d := range p.Tasks() {
		if d.Kind != tasks.TaskKindApply || d.SupportsCheckMode || !strings.Contains(d.ConfigSchema, `"required":[`) {
			t.Errorf("task definition %+v", d)
		}
	}
	if c := p.Collectors(); len(c) != 1 || c[0].Name != "legacy" || c[0].Description != "Facts about this plugin and the host time." {
		t.Errorf("collectors %+v", c)
	}
	if e := p.Extensions(); len(e) != 1 || e[0].Name != "upper" || e[0].Kind.String() != "filter" || e[0].Category != "string" {
		t.Errorf("extensions %+v", e)
	}
	for _, line := range []string{
		"import env.host_log: func(i32, i32)\n",
		"import env.host_get_timestamp: func() -> i64\n",
		"export memory: memory(min 2 pages)\n",
		"export allocate: func(i32) -> i32\n",
		"export deallocate: func(i32, i32)\n",
		"export execute_template_filter: func(i32, i32, i32, i32) -> i32\n",
	} {
		if !strings.Contains(p.Interface(), line) {
			t.Errorf("Interface lacks %q:\n%s", line, p.Interface())
		}
	}

	res, err := p.ExecuteTask(ctx, "echo", `{"message": "hi"}`, false)
	if want := (tasks.TaskResult{Message: "hi", Output: `{"message": "hi"}`}); err != nil || !reflect.DeepEqual(res, want) {
		t.Errorf("echo = %+v, %v; want %+v", res, err, want)
	}
	res, err = p.ExecuteTask(ctx, "greet", `{"name":"Ada"}`, false)
	if want := (tasks.TaskResult{Changed: true, Message: "Hello, Ada!", Output: `{"greeting":"Hello, Ada!","name":"Ada"}`}); err != nil || !reflect.DeepEqual(res, want) {
		t.Errorf("greet = %+v, %v; want %+v", res, err, want)
	}
	if !hasLogLine(rec, LevelInfo, "Hello, Ada!", "legacy-plugin") {
		t.Errorf("greet's host_log is not in the log: %+v", rec.lines())
	}
	_, err = p.ExecuteTask(ctx, "greet", `{"name":""}`, false)
	wantLegacyError(t, err, KindInvalidConfig, `plugin legacy-plugin: tasks.execute: task "greet": config does not match the config-schema: at /name: minLength: got 0, want 1`)
	_, err = p.ExecuteTask(ctx, "greet", `{"name":"Ada"}`, true)
	wantLegacyError(t, err, KindUnsupported, `plugin legacy-plugin: tasks.execute: task "greet" does not support check mode`)

	defer func(old func() time.Time) { now = old }(now)
	now = func() time.Time { return time.Unix(1700000000, 0) }
	out, err := p.Collect(ctx, "legacy", "")
	if want := `{"abi":"legacy-json","plugin":"legacy-plugin","timestamp":1700000000}`; err != nil || out != want {
		t.Errorf("Collect = %s, %v; want %s", out, err, want)
	}
	if !hasLogLine(rec, LevelDebug, "collecting legacy facts", "legacy-plugin") {
		t.Errorf("the collector's debug log is missing")
	}

	out, err = p.ApplyFilter(ctx, "upper", "", `"héllo wörld"`, nil)
	if err != nil || out != `"HéLLO WöRLD"` {
		t.Errorf("upper = %s, %v", out, err)
	}
	_, err = p.ApplyFilter(ctx, "upper", "", `42`, nil)
	wantLegacyError(t, err, KindFailed, "plugin legacy-plugin: templates.apply-filter: upper: value must be a JSON string")

	// Strings go back through deallocate: memory stays flat over many calls
	// on the reused instance.
	cfg := kibConfig()
	for i := range 3000 {
		if _, err := p.ExecuteTask(ctx, "echo", cfg, false); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	rt := legacyRT(t, p)
	if rt.pool.size() != 1 {
		t.Fatalf("%d idle instances", rt.pool.size())
	}
	li := rt.pool.idle[variantPlain][0].inst
	if n := len(li.g.Tracked()); n > 2*wasmPage {
		t.Errorf("memory grew to %d bytes over 3000 calls", n)
	}
}

// The example's scanner reads strings eight bytes at a time: escapes, quotes
// and multi-byte characters at every offset of a word, in the message and in
// a member after it, come back as they went in.
func TestLegacyExampleScanner(t *testing.T) {
	wasm := builtexample.Wasm(t, "legacy-plugin")
	h, _ := exampleHost(t, "")
	ctx := context.Background()
	p, err := h.LoadBytes(ctx, "legacy-plugin", wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, special := range []string{`\"`, `\\`, `\u00e9`, `\n`, `\t`, "é", "日本", `\/`} {
		for lead := range 18 {
			msg := strings.Repeat("a", lead) + special + strings.Repeat("b", 17-lead)
			cfg := `{"message":"` + msg + `","pad":"` + strings.Repeat("c", lead) + special + `","n":[1,{"x":"}"}]}`
			res, err := p.ExecuteTask(ctx, "echo", cfg, false)
			if err != nil {
				t.Fatalf("echo %s: %v", cfg, err)
			}
			var want string
			if err := json.Unmarshal([]byte(`"`+msg+`"`), &want); err != nil {
				t.Fatal(err)
			}
			if res.Output != cfg || res.Message != want {
				t.Fatalf("echo %s = output %s, message %q; want the config and %q", cfg, res.Output, res.Message, want)
			}
		}
	}
}

func hasLogLine(rec *logRecorder, level interface{ String() string }, msg, plugin string) bool {
	for _, l := range rec.lines() {
		if l.Level.String() == level.String() && l.Msg == msg && l.Attrs["plugin"] == plugin {
			return true
		}
	}
	return false
}

// The same task through a legacy plugin and a component plugin, through the
// same API: the same result, and the same errors.
func TestLegacyMatchesComponent(t *testing.T) {
	legacyWasm := builtexample.Wasm(t, "legacy-plugin")
	jsWasm := builtexample.Wasm(t, "js-plugin")
	h, _ := exampleHost(t, "")
	ctx := context.Background()
	legacy, err := h.LoadBytes(ctx, "legacy", legacyWasm)
	if err != nil {
		t.Fatal(err)
	}
	js, err := h.LoadBytes(ctx, "js", jsWasm)
	if err != nil {
		t.Fatal(err)
	}
	if legacy.ABI() != ABILegacy || js.ABI() != ABIComponent {
		t.Fatalf("ABIs %q and %q", legacy.ABI(), js.ABI())
	}
	for _, cfg := range []string{
		`{"message":"hello"}`,
		`{"message": "with \"quotes\", ünïcode and \\ escapes", "extra": [1, 2.5, {"k": null}], "flag": true}`,
		"\n  {\"message\": \"padded\"}  \n",
		kibConfig(),
	} {
		fromLegacy, errL := legacy.ExecuteTask(ctx, "echo", cfg, false)
		fromJS, errJ := js.ExecuteTask(ctx, "echo", cfg, false)
		if errL != nil || errJ != nil {
			t.Fatalf("echo %s: legacy %v, js %v", cfg, errL, errJ)
		}
		if !reflect.DeepEqual(fromLegacy, fromJS) {
			t.Errorf("echo %q:\n legacy    %+v\n component %+v", cfg, fromLegacy, fromJS)
		}
		if fromLegacy.Changed || fromLegacy.Output != strings.TrimSpace(cfg) || fromLegacy.Diff != nil {
			t.Errorf("echo %q = %+v", cfg, fromLegacy)
		}
	}
	// A config the schema refuses: the same error, but for the plugin name.
	_, errL := legacy.ExecuteTask(ctx, "echo", `{"message": 1}`, false)
	_, errJ := js.ExecuteTask(ctx, "echo", `{"message": 1}`, false)
	var el, ej *Error
	if !errors.As(errL, &el) || !errors.As(errJ, &ej) || el.Kind != ej.Kind || el.Msg != ej.Msg || el.Func != ej.Func {
		t.Errorf("schema errors differ:\n legacy    %v\n component %v", errL, errJ)
	}
	// An unknown task: the same error.
	_, errL = legacy.ExecuteTask(ctx, "nope", "", false)
	_, errJ = js.ExecuteTask(ctx, "nope", "", false)
	if KindOf(errL) != KindNotFound || KindOf(errJ) != KindNotFound {
		t.Errorf("unknown task: %v / %v", errL, errJ)
	}
}

// Concurrent calls into one legacy plugin, with hostile calls mixed in:
// every answer right, the pool bounded (run under -race by make race).
func TestLegacyConcurrent(t *testing.T) {
	h, _ := newLegacyHost(t, "[security]\nmax_instances = 3\n")
	p := loadLegacy(t, h, "busy", fullFixture(defaultFx()).wasm(t))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				msg := `{"message":"` + litoa(g) + "-" + litoa(i) + `"}`
				switch {
				case i%50 == 49:
					_, err := p.ExecuteTask(ctx, "crash", "", false)
					if KindOf(err) != KindTrap {
						errs <- err
						return
					}
				case i%3 == 0:
					out, err := p.Collect(ctx, "host", msg)
					if err != nil || !strings.Contains(out, `"config":`+msg) {
						errs <- errors.New("collect: " + out)
						return
					}
				default:
					res, err := p.ExecuteTask(ctx, "echo", msg, false)
					if err != nil || res.Output != msg {
						errs <- errors.New("echo " + msg + ": " + res.Output)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := legacyRT(t, p).pool.size(); n > 3 {
		t.Errorf("%d idle instances, more than max_instances", n)
	}
}
