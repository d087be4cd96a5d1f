package gen_test

// The JavaScript example plugin (examples/js-plugin, built with
// componentize-js from wit/) called through the generated bindings.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/host"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/plugin"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/state"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
	"github.com/driftless-dev/driftless/internal/builtexample"
)

// The JavaScript component takes seconds to compile: once per test binary.
var jsPlugin struct {
	once   sync.Once
	engine *bindings.Engine
	comp   *bindings.Component
	err    error
}

func jsComponent(t testing.TB) (*bindings.Engine, *bindings.Component) {
	t.Helper()
	path := builtexample.Path(t, "js-plugin")
	jsPlugin.once.Do(func() {
		e, err := bindings.NewEngine(bindings.EngineConfig{})
		if err != nil {
			jsPlugin.err = err
			return
		}
		jsPlugin.engine = e
		jsPlugin.comp, jsPlugin.err = bindings.NewComponentFromFile(e, path)
	})
	if jsPlugin.err != nil {
		t.Fatal(jsPlugin.err)
	}
	return jsPlugin.engine, jsPlugin.comp
}

// testHost implements driftless:plugin/host for the tests.
type testHost struct {
	mu   sync.Mutex
	logs []string
}

func (h *testHost) Log(ctx context.Context, level types.Level, message string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, level.String()+": "+message)
}

func (h *testHost) Timestamp(ctx context.Context) uint64 { return 1_700_000_000 }

func (h *testHost) logged() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.logs...)
}

// memState implements driftless:plugin/state for the tests: a map, without
// transactions (the host's store is tested in host/).
type memState struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memState) Get(ctx context.Context, key string) *[]uint8 {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil
	}
	v = append([]byte(nil), v...)
	return &v
}

func (s *memState) Set(ctx context.Context, key string, value []uint8) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = append([]byte(nil), value...)
	return nil
}

func (s *memState) Delete(ctx context.Context, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}

func (s *memState) Keys(ctx context.Context, prefix string, startAfter *string, limit uint32) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) && (startAfter == nil || k > *startAfter) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if len(out) > int(limit) {
		out = out[:limit]
	}
	return out
}

func instantiateJS(t *testing.T) (*plugin.Instance, *testHost) {
	t.Helper()
	e, c := jsComponent(t)
	l := e.NewLinker()
	if err := l.AddWASIP2(); err != nil {
		t.Fatal(err)
	}
	th := &testHost{}
	if err := plugin.AddToLinker(l, plugin.Imports{Host: th, State: &memState{}}); err != nil {
		t.Fatal(err)
	}
	s, err := e.NewStore(bindings.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	inst, err := plugin.Instantiate(l, s, c)
	if err != nil {
		t.Fatal(err)
	}
	return inst, th
}

func TestJSPlugin(t *testing.T) {
	inst, th := instantiateJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("metadata", func(t *testing.T) {
		info, err := inst.Metadata.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Name != "js-plugin" || info.Version == "" || info.Description == "" {
			t.Fatalf("describe: %+v", info)
		}
	})

	t.Run("tasks", func(t *testing.T) {
		defs, err := inst.Tasks.Definitions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]tasks.TaskDefinition{}
		for _, d := range defs {
			names[d.Name] = d
		}
		echo, ok := names["echo"]
		if !ok || echo.Kind != tasks.TaskKindApply || !echo.SupportsCheckMode || !json.Valid([]byte(echo.ConfigSchema)) {
			t.Fatalf("definitions: %+v", defs)
		}
		if _, ok := names["set-value"]; !ok {
			t.Fatalf("no set-value task: %+v", defs)
		}

		res, err := inst.Tasks.Execute(ctx, "echo", `{"message":"hi"}`, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed || res.Message != "hi" || res.Output != `{"message":"hi"}` || res.Diff != nil {
			t.Fatalf("echo: %+v", res)
		}

		// Check mode: a diff, and nothing set.
		res, err = inst.Tasks.Execute(ctx, "set-value", `{"key":"k","value":"v"}`, true)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Diff == nil || !strings.Contains(*res.Diff, "+v") || !strings.HasPrefix(res.Message, "would set") {
			t.Fatalf("set-value check mode: %+v", res)
		}
		res, err = inst.Tasks.Execute(ctx, "set-value", `{"key":"k","value":"v"}`, false)
		if err != nil || !res.Changed {
			t.Fatalf("set-value: %+v %v", res, err)
		}
		res, err = inst.Tasks.Execute(ctx, "set-value", `{"key":"k","value":"v"}`, false)
		if err != nil || res.Changed || res.Diff != nil {
			t.Fatalf("set-value again: %+v %v", res, err)
		}
		if got := th.logged(); !containsAll(got, "info: check mode: would set k", "info: set k") {
			t.Fatalf("host log: %q", got)
		}

		// A plugin-error result is an error that errors.As finds; it is no trap.
		_, err = inst.Tasks.Execute(ctx, "nope", `{}`, false)
		var pe *types.PluginError
		if !errors.As(err, &pe) || pe.Kind != types.ErrorKindNotFound || !strings.Contains(pe.Message, "nope") {
			t.Fatalf("unknown task: %v", err)
		}
		var trap *bindings.Trap
		if errors.As(err, &trap) {
			t.Fatalf("a plugin error is not a trap: %v", err)
		}
		_, err = inst.Tasks.Execute(ctx, "echo", `[1]`, false)
		if !errors.As(err, &pe) || pe.Kind != types.ErrorKindInvalidConfig {
			t.Fatalf("bad config: %v", err)
		}
	})

	t.Run("facts", func(t *testing.T) {
		cols, err := inst.Facts.Collectors(ctx)
		if err != nil || len(cols) != 1 || cols[0].Name != "runtime" {
			t.Fatalf("collectors: %+v %v", cols, err)
		}
		out, err := inst.Facts.Collect(ctx, "runtime", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		var facts map[string]any
		if err := json.Unmarshal([]byte(out), &facts); err != nil {
			t.Fatal(err)
		}
		if facts["engine"] != "javascript" || facts["timestamp"] != float64(1_700_000_000) {
			t.Fatalf("facts: %v", facts)
		}
		if !containsAll(th.logged(), "debug: collecting runtime facts") {
			t.Fatalf("host log: %q", th.logged())
		}
	})

	t.Run("templates", func(t *testing.T) {
		exts, err := inst.Templates.Extensions(ctx)
		if err != nil || len(exts) != 2 {
			t.Fatalf("extensions: %+v %v", exts, err)
		}
		out, err := inst.Templates.ApplyFilter(ctx, "shout", `{}`, `"hey"`, []types.JSON{`2`})
		if err != nil || out != `"HEY!!"` {
			t.Fatalf("shout: %q %v", out, err)
		}
		out, err = inst.Templates.CallFunction(ctx, "greet", `{}`, []types.JSON{`"Ada"`})
		if err != nil || out != `"Hello, Ada!"` {
			t.Fatalf("greet: %q %v", out, err)
		}
		_, err = inst.Templates.ApplyFilter(ctx, "shout", `{}`, `1`, nil)
		var pe *types.PluginError
		if !errors.As(err, &pe) || pe.Kind != types.ErrorKindInvalidInput {
			t.Fatalf("shout 1: %v", err)
		}
	})

	t.Run("logs", func(t *testing.T) {
		comps, err := inst.Logs.Components(ctx)
		if err != nil || len(comps) != 4 {
			t.Fatalf("components: %+v %v", comps, err)
		}
		parser, err := inst.Logs.OpenParser(ctx, "colon", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := parser.Parse(ctx, []string{"INFO: started", "garbage", "warning: low disk", "debug: x"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 4 || entries[1] != nil || entries[0] == nil || *entries[0].Level != "info" ||
			entries[0].Message != "started" || *entries[2].Level != "warn" {
			t.Fatalf("parse: %+v", entries)
		}
		var kept []logs.LogEntry
		for _, e := range entries {
			if e != nil {
				kept = append(kept, *e)
			}
		}
		filter, err := inst.Logs.OpenFilter(ctx, "min-level", `{"level":"info"}`)
		if err != nil {
			t.Fatal(err)
		}
		keep, err := filter.Keep(ctx, kept)
		if err != nil || len(keep) != 3 || !keep[0] || !keep[1] || keep[2] {
			t.Fatalf("keep: %v %v", keep, err)
		}
		output, err := inst.Logs.OpenOutput(ctx, "bracket", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := output.Write(ctx, kept[:2])
		if err != nil || len(lines) != 2 || lines[0] != "[INFO] started" || lines[1] != "[WARN] low disk" {
			t.Fatalf("write: %q %v", lines, err)
		}
		for _, r := range []interface{ Drop(context.Context) error }{parser, filter, output} {
			if err := r.Drop(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := parser.Parse(ctx, []string{"INFO: x"}); err == nil {
			t.Fatal("a dropped parser still parses")
		}

		// The numbers source keeps its cursor in state (here the test's
		// map): a second source with the same cursor goes on from there.
		for _, want := range []string{"line 1,line 2", "line 3"} {
			src, err := inst.Logs.OpenSource(ctx, "numbers", `{"count":3,"cursor":"gen"}`)
			if err != nil {
				t.Fatal(err)
			}
			es, err := src.Next(ctx, 2)
			var got []string
			for _, e := range es {
				got = append(got, e.Message)
			}
			if err != nil || strings.Join(got, ",") != want {
				t.Fatalf("numbers: %q %v, want %q", got, err, want)
			}
			if err := src.Drop(ctx); err != nil {
				t.Fatal(err)
			}
		}

		_, err = inst.Logs.OpenSource(ctx, "files", `{}`)
		var pe *types.PluginError
		if !errors.As(err, &pe) || pe.Kind != types.ErrorKindNotFound {
			t.Fatalf("open-source: %v", err)
		}
		_, err = inst.Logs.OpenFilter(ctx, "min-level", `{"level":"loud"}`)
		if !errors.As(err, &pe) || pe.Kind != types.ErrorKindInvalidConfig {
			t.Fatalf("open-filter with a bad level: %v", err)
		}
	})
}

// TestJSPluginPerInterface binds only the interfaces a host needs, as the
// host does for plugins exporting a subset.
func TestJSPluginPerInterface(t *testing.T) {
	e, c := jsComponent(t)
	for _, exported := range []func(*bindings.Component) bool{tasks.Exported, logs.Exported} {
		if !exported(c) {
			t.Fatal("the JS plugin exports tasks and logs")
		}
	}
	if host.Exported(c) {
		t.Fatal("the JS plugin does not export host")
	}
	l := e.NewLinker()
	if err := l.AddWASIP2(); err != nil {
		t.Fatal(err)
	}
	if err := host.AddToLinker(l, &testHost{}); err != nil {
		t.Fatal(err)
	}
	if err := state.AddToLinker(l, &memState{}); err != nil {
		t.Fatal(err)
	}
	s, err := e.NewStore(bindings.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bi, err := l.Instantiate(s, c)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := tasks.NewExports(bi)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.Execute(context.Background(), "echo", `{"message":"one"}`, true)
	if err != nil || res.Message != "one" {
		t.Fatalf("execute: %+v %v", res, err)
	}
	// An interface the component does not export is reported by name.
	if _, err := host.NewExports(bi); err == nil || !strings.Contains(err.Error(), host.InterfaceName) {
		t.Fatalf("binding an interface the plugin does not export: %v", err)
	}
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
