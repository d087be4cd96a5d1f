package host

// Tests with the example plugins of examples/, built by
// `make -f mk/examples.mk examples` into build/examples/. Without them these
// tests skip, unless DRIFTLESS_REQUIRE_EXAMPLES=1 (make test), which makes
// a missing example a failure.
//
// Compiling the JavaScript example takes seconds: every test shares one
// compile cache under os.TempDir(), so it is compiled once per machine (per
// wasmtime version and engine settings, which the cache keys cover).

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/pluginstate"
)

// sharedCacheDir is the compile cache the example tests share.
func sharedCacheDir() string {
	return filepath.Join(os.TempDir(), "driftless-host-test-cache")
}

// exampleHost is testHost with the shared compile cache.
func exampleHost(t testing.TB, toml string) (*Host, *logRecorder) {
	t.Helper()
	home := t.TempDir()
	if toml != "" {
		if err := os.WriteFile(filepath.Join(home, "plugins.toml"), []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := &logRecorder{}
	opts := homeOptions(t, home)
	opts.Cache, opts.Logger, opts.EpochTick = NewDirCache(sharedCacheDir()), slog.New(rec), 5*time.Millisecond
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, rec
}

func TestExampleJS(t *testing.T) {
	wasm := builtexample.Wasm(t, "js-plugin")
	// Every pooled call on a fresh instance: a log stage is not pooled.
	h, rec := exampleHost(t, "[security]\nmax_calls_per_instance = 1\n")
	ctx := context.Background()
	p, err := h.LoadBytes(ctx, "js", wasm)
	if err != nil {
		t.Fatal(err)
	}
	if p.Info().Name != "js-plugin" || len(p.Provides()) != 4 {
		t.Fatalf("info %+v provides %v", p.Info(), p.Provides())
	}

	res, err := p.ExecuteTask(ctx, "echo", `{"message":"hi"}`, false)
	if err != nil || res.Message != "hi" || res.Output != `{"message":"hi"}` {
		t.Fatalf("echo: %+v %v", res, err)
	}
	// The schema is checked before the plugin runs.
	_, err = p.ExecuteTask(ctx, "echo", `{}`, false)
	wantError(t, err, KindInvalidConfig, `plugin js: tasks.execute: task "echo": config does not match the config-schema: at (root): missing property 'message'`)
	// An error the plugin reports.
	_, err = p.ExecuteTask(ctx, "set-value", `{"key":"","value":"x"}`, false)
	if KindOf(err) != KindInvalidConfig {
		t.Fatalf("set-value with an empty key: %v", err)
	}
	// host.log reaches the host log with the plugin's name.
	rec.reset()
	if _, err := p.ExecuteTask(ctx, "set-value", `{"key":"k","value":"v"}`, false); err != nil {
		t.Fatal(err)
	}
	if lines := rec.lines(); len(lines) != 1 || lines[0].Msg != "set k" || lines[0].Attrs["plugin"] != "js" {
		t.Errorf("log: %+v", lines)
	}

	facts, err := p.Collect(ctx, "runtime", "")
	var v map[string]any
	if err != nil || json.Unmarshal([]byte(facts), &v) != nil {
		t.Fatalf("facts: %q %v", facts, err)
	}
	out, err := p.ApplyFilter(ctx, "shout", "", `"hey"`, nil)
	if err != nil || out != `"HEY"` {
		t.Errorf("shout: %q %v", out, err)
	}

	// A log filter keeps its instance (and the plugin's state) for its life.
	f, err := p.OpenFilter(ctx, "min-level", `{"level":"warn"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(ctx)
	lv := func(s string) *string { return &s }
	for i := range 3 {
		keep, err := f.Keep(ctx, []logs.LogEntry{{Level: lv("info"), Message: "a"}, {Level: lv("error"), Message: "b"}})
		if err != nil || len(keep) != 2 || keep[0] || !keep[1] {
			t.Errorf("keep %d: %v %v", i, keep, err)
		}
		// Pooled calls in between, each on a new instance, leave the
		// stage's instance (and the filter's level in it) alone.
		if _, err := p.ExecuteTask(ctx, "echo", `{"message":"between"}`, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = f.Keep(ctx, nil)
	wantError(t, err, KindFailed, "plugin js: logs.filter.keep: log stage is closed")
}

// Every example component loads from a plugin home and runs; the cache
// makes the second host's loads fast.
func TestExamplesLoadAll(t *testing.T) {
	names := []string{"js-plugin", "python-plugin", "c-plugin", "rust-plugin"}
	wasms := map[string][]byte{}
	for _, n := range names {
		wasms[n] = builtexample.Wasm(t, n)
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	for n, w := range wasms {
		if err := os.WriteFile(filepath.Join(home, "plugins", n+".wasm"), w, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for round := range 2 {
		opts := homeOptions(t, home)
		opts.Cache, opts.Logger = NewDirCache(sharedCacheDir()), slog.New(&logRecorder{})
		h, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ps, err := h.LoadAll(ctx)
		t.Logf("round %d: LoadAll of %d examples took %v", round, len(ps), time.Since(start))
		if err != nil || len(ps) != len(names) {
			t.Fatalf("LoadAll: %d plugins, %v", len(ps), err)
		}
		for _, p := range ps {
			if p.Err() != nil {
				t.Fatalf("%s: %v", p.Name(), p.Err())
			}
		}
		c, _ := h.Plugin("c-plugin")
		if res, err := c.ExecuteTask(ctx, "checksum", `{"text":"abc"}`, false); err != nil || res.Output == "" {
			t.Errorf("c checksum: %+v %v", res, err)
		}
		rs, _ := h.Plugin("rust-plugin")
		if res, err := rs.ExecuteTask(ctx, "bump-version", `{"version":"0.1.0"}`, true); err != nil || res.Message != "would bump 0.1.0 to 0.1.1" {
			t.Errorf("rust bump-version: %+v %v", res, err)
		}
		py, _ := h.Plugin("python-plugin")
		if out, err := py.CallFunction(ctx, "slugify", "", []string{`"Hello, World"`}); err != nil || out != `"hello-world"` {
			t.Errorf("python slugify: %q %v", out, err)
		}
		h.Close()
	}
}

// The JavaScript example's numbers source: each next is a transaction of
// its own, committed when it returns (not when the stage closes), so a
// source opened again resumes where the last one stopped.
func TestExampleJSSourceState(t *testing.T) {
	wasm := builtexample.Wasm(t, "js-plugin")
	h, _ := exampleHost(t, "")
	ctx := context.Background()
	p, err := h.LoadBytes(ctx, "js", wasm)
	if err != nil {
		t.Fatal(err)
	}
	cursor := func() string {
		s, err := h.State()
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := s.Get(ctx, "js", "cursor/t", p.Limits().StateLimits())
		if err != nil {
			t.Fatal(err)
		}
		return string(v)
	}
	next := func(src *LogSource, max int, want ...string) {
		t.Helper()
		es, err := src.Next(ctx, max)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Message)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("next(%d) = %q, want %q", max, got, want)
		}
	}
	src, err := p.OpenSource(ctx, "numbers", `{"count":5,"cursor":"t"}`)
	if err != nil {
		t.Fatal(err)
	}
	next(src, 2, "line 1", "line 2")
	if c := cursor(); c != "2" {
		t.Fatalf("cursor %q while the source is open", c)
	}
	src.Close(ctx)
	src, err = p.OpenSource(ctx, "numbers", `{"count":5,"cursor":"t"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	next(src, 10, "line 3", "line 4", "line 5")
	next(src, 10)
	// A cursor the plugin cannot read is its error, and changes nothing.
	s, _ := h.State()
	if err := s.Import(ctx, "js", []pluginstate.Item{{Key: "cursor/t", Value: []byte("x")}}, false, p.Limits().StateLimits()); err != nil {
		t.Fatal(err)
	}
	_, err = src.Next(ctx, 1)
	wantError(t, err, KindFailed, "plugin js: logs.source.next: numbers: the cursor in state (cursor/t) is not a line number: x")
}
