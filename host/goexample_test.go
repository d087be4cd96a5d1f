package host

// Tests with examples/go-plugin, the plugin in standard Go (built by
// `make -f mk/examples.mk example-go` into build/examples/go-plugin.wasm;
// without it these tests skip, or fail under DRIFTLESS_REQUIRE_EXAMPLES=1).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/internal/builtexample"
)

// goPlugin loads the Go example into a host configured by toml.
func goPlugin(t *testing.T, toml string) (*Plugin, *logRecorder) {
	t.Helper()
	wasm := builtexample.Wasm(t, "go-plugin")
	h, rec := exampleHost(t, toml)
	p, err := h.LoadBytes(context.Background(), "go-plugin", wasm)
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

func TestExampleGo(t *testing.T) {
	p, rec := goPlugin(t, "[security]\ndebug_enabled = true\n")
	ctx := context.Background()
	if p.Info().Name != "go-plugin" || strings.Join(p.Provides(), ",") != "tasks,facts,templates,logs" {
		t.Fatalf("info %+v provides %v", p.Info(), p.Provides())
	}

	// A task with check mode.
	res, err := p.ExecuteTask(ctx, "ensure-line", `{"line": "x=1", "current": "a=0\n"}`, true)
	if err != nil || !res.Changed || res.Message != "would add line" || res.Diff == nil || *res.Diff != "+x=1" ||
		res.Output != `{"content":"a=0\nx=1\n"}` {
		t.Fatalf("ensure-line --check: %+v %v", res, err)
	}
	rec.reset()
	res, err = p.ExecuteTask(ctx, "ensure-line", `{"line": "x=1", "current": "a=0"}`, false)
	if err != nil || !res.Changed || res.Message != "added line" {
		t.Fatalf("ensure-line: %+v %v", res, err)
	}
	if lines := rec.lines(); len(lines) != 1 || !strings.HasPrefix(lines[0].Msg, `added "x=1" at `) || lines[0].Attrs["plugin"] != "go-plugin" {
		t.Errorf("host.log: %+v", lines)
	}
	res, err = p.ExecuteTask(ctx, "ensure-line", `{"line": "x=1", "current": "x=1\n"}`, false)
	if err != nil || res.Changed || res.Diff != nil {
		t.Fatalf("ensure-line present: %+v %v", res, err)
	}
	// The host checks the schema; the plugin what the schema cannot say.
	_, err = p.ExecuteTask(ctx, "ensure-line", `{}`, false)
	wantErrorPrefix(t, err, KindInvalidConfig, `plugin go-plugin: tasks.execute: task "ensure-line": config does not match the config-schema`)
	_, err = p.ExecuteTask(ctx, "ensure-line", `{"line": "a\nb"}`, false)
	wantError(t, err, KindInvalidConfig, "plugin go-plugin: tasks.execute: ensure-line: line must be one line")

	res, err = p.ExecuteTask(ctx, "checksum", `{"text": "abc", "algorithm": "sha1"}`, true)
	if err != nil || res.Output != `{"algorithm":"sha1","hex":"a9993e364706816aba3e25717850c26c9cd0d89d","length":3}` {
		t.Fatalf("checksum: %+v %v", res, err)
	}

	// Facts, a filter, a function.
	f, err := p.Collect(ctx, "go-runtime", "")
	var fv map[string]any
	if err != nil || json.Unmarshal([]byte(f), &fv) != nil || fv["engine"] != "go" || fv["goos"] != "wasip1" ||
		!strings.HasPrefix(fv["go_version"].(string), "go1.") {
		t.Fatalf("facts: %s %v", f, err)
	}
	if out, err := p.ApplyFilter(ctx, "quote", "", `"it's"`, nil); err != nil || out != `"'it'\\''s'"` {
		t.Errorf("quote: %s %v", out, err)
	}
	if out, err := p.ApplyFilter(ctx, "quote", "", `"a\"b"`, []string{`"json"`}); err != nil || out != `"\"a\\\"b\""` {
		t.Errorf("quote json: %s %v", out, err)
	}
	_, err = p.ApplyFilter(ctx, "quote", "", `42`, nil)
	wantError(t, err, KindInvalidInput, "plugin go-plugin: templates.apply-filter: quote: the value must be a string")
	if out, err := p.CallFunction(ctx, "sha256", "", []string{`"abc"`}); err != nil ||
		out != `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"` {
		t.Errorf("sha256: %s %v", out, err)
	}

	// A log filter is a resource: the Go value keeps its compiled
	// expression across batches, and its ResourceDrop runs when it closes.
	_, err = p.OpenFilter(ctx, "regex", `{"pattern": "("}`)
	wantErrorPrefix(t, err, KindInvalidConfig, "plugin go-plugin: logs.open-filter: regex: error parsing regexp")
	flt, err := p.OpenFilter(ctx, "regex", `{"pattern": "^GET ", "invert": true}`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		keep, err := flt.Keep(ctx, []logs.LogEntry{{Message: "GET /"}, {Message: "POST /"}, {Message: fmt.Sprint(i)}})
		if err != nil || fmt.Sprint(keep) != "[false true true]" {
			t.Fatalf("keep %d: %v %v", i, keep, err)
		}
	}
	rec.reset()
	if err := flt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var closed bool
	for _, l := range rec.lines() {
		closed = closed || l.Msg == `regex filter "^GET " closed`
	}
	if !closed {
		t.Errorf("the filter's ResourceDrop did not run: %+v", rec.lines())
	}
	if _, err := p.OpenSource(ctx, "nope", ""); KindOf(err) != KindNotFound {
		t.Errorf("open-source: %v", err)
	}
}

// TestExampleGoGoroutines: goroutines, channels and timers (time.Sleep
// parks them; the adapter's poll_oneoff sleeps) inside one call.
func TestExampleGoGoroutines(t *testing.T) {
	p, _ := goPlugin(t, "")
	ctx := context.Background()
	for _, workers := range []int{1, 7, 64} {
		res, err := p.ExecuteTask(ctx, "parallel-sum", fmt.Sprintf(`{"upto": 1000000, "workers": %d}`, workers), false)
		var out struct{ Sum, Workers int64 }
		if err != nil || json.Unmarshal([]byte(res.Output), &out) != nil || out.Sum != 500000500000 || out.Workers != int64(workers) {
			t.Fatalf("parallel-sum with %d workers: %+v %v", workers, res, err)
		}
	}
}

// TestExampleGoPanic: a Go panic is a trap; its message and stack reach the
// host log as stderr lines, and the next call gets a fresh instance.
func TestExampleGoPanic(t *testing.T) {
	p, rec := goPlugin(t, "[security]\ndebug_enabled = true\n")
	ctx := context.Background()
	_, err := p.ExecuteTask(ctx, "panic", `{"message": "kaboom"}`, false)
	wantErrorPrefix(t, err, KindTrap, "plugin go-plugin: tasks.execute: wasm trap: wasm `unreachable` instruction executed")
	var panicked, stack bool
	for _, l := range rec.lines() {
		panicked = panicked || l.Msg == "stderr: panic: kaboom"
		stack = stack || strings.HasPrefix(l.Msg, "stderr: main.plugin.Execute(")
	}
	if !panicked || !stack {
		t.Errorf("the panic is not in the log: %+v", rec.lines())
	}
	for range 3 {
		if _, err := p.ExecuteTask(ctx, "checksum", `{"text": "after"}`, false); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExampleGoMaxMemory: Go's heap grows within max_memory; beyond it Go's
// runtime aborts and the call traps, naming the limit.
func TestExampleGoMaxMemory(t *testing.T) {
	p, _ := goPlugin(t, "[security]\nmax_memory = 33554432\n")
	ctx := context.Background()
	if _, err := p.ExecuteTask(ctx, "allocate", `{"mib": 8}`, false); err != nil {
		t.Fatal(err)
	}
	_, err := p.ExecuteTask(ctx, "allocate", `{"mib": 64}`, false)
	wantError(t, err, KindTrap, "plugin go-plugin: tasks.execute: wasm trap: wasm `unreachable` instruction executed (the plugin aborted; if it ran out of memory: max_memory is 33554432 bytes)")
	if _, err := p.ExecuteTask(ctx, "allocate", `{"mib": 8}`, false); err != nil {
		t.Fatalf("after the trap: %v", err)
	}
}

// TestExampleGoManyCalls makes 100,000 calls on one instance: nothing the
// bindings pin for a call (arguments, results, handles) outlives it, so
// the Go heap after a collection stays small and no goroutine is left.
func TestExampleGoManyCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 calls")
	}
	p, _ := goPlugin(t, "[security]\nmax_instances = 1\nmax_calls_per_instance = 1000000\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	text := strings.Repeat("x", 1000)
	for i := range 100_000 {
		var err error
		switch i % 4 {
		case 0:
			_, err = p.ExecuteTask(ctx, "checksum", `{"text": "`+text+`"}`, false)
		case 1:
			_, err = p.ApplyFilter(ctx, "quote", "", `"`+text+`"`, nil)
		case 2:
			_, err = p.CallFunction(ctx, "sha256", "", []string{`"` + text + `"`})
		case 3:
			_, err = p.ExecuteTask(ctx, "ensure-line", `{"line": "l", "current": "`+text+`"}`, true)
		}
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	t.Logf("100000 calls in %v", time.Since(start))
	f, err := p.Collect(ctx, "go-runtime", "")
	var fv struct {
		Goroutines     int    `json:"goroutines"`
		HeapAllocBytes uint64 `json:"heap_alloc_bytes"`
		HeapSysBytes   uint64 `json:"heap_sys_bytes"`
	}
	if err != nil || json.Unmarshal([]byte(f), &fv) != nil {
		t.Fatalf("facts: %s %v", f, err)
	}
	t.Logf("after: %s", f)
	if fv.Goroutines != 1 || fv.HeapAllocBytes > 4<<20 || fv.HeapSysBytes > 32<<20 {
		t.Errorf("the plugin's Go heap grew: %s", f)
	}
}

// TestExampleGoFuelAndTimeout: a Go plugin busy in several goroutines is
// stopped by fuel_limit and execution_timeout_secs like any plugin.
func TestExampleGoFuelAndTimeout(t *testing.T) {
	ctx := context.Background()
	p, _ := goPlugin(t, "[security]\nfuel_limit = 20000000\n")
	_, err := p.ExecuteTask(ctx, "parallel-sum", `{"upto": 100000000, "workers": 4}`, false)
	if KindOf(err) != KindFuel {
		t.Errorf("fuel: %v", err)
	}
	if _, err := p.ExecuteTask(ctx, "parallel-sum", `{"upto": 1000, "workers": 4}`, false); err != nil {
		t.Errorf("after running out of fuel: %v", err)
	}
	p, _ = goPlugin(t, "[security]\nexecution_timeout_secs = 0.2\nfuel_limit = 1000000000000\n")
	start := time.Now()
	_, err = p.ExecuteTask(ctx, "parallel-sum", `{"upto": 4000000000, "workers": 4}`, false)
	if KindOf(err) != KindTimeout || time.Since(start) > 10*time.Second {
		t.Errorf("timeout after %v: %v", time.Since(start), err)
	}
}

// TestExampleGoFiles: the Go adapter gives a Go plugin the directories the
// configuration grants, and nothing else.
func TestExampleGoFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "motd"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ := goPlugin(t, fmt.Sprintf("[plugins.go-plugin]\nallow_wasi = true\ndirs = [{ host = %q, guest = \"/data\" }]\n", dir))
	res, err := p.ExecuteTask(ctx, "write-file", `{"path": "/data/motd", "content": "new\n"}`, true)
	if err != nil || !res.Changed || res.Message != "would write /data/motd" || res.Diff == nil || *res.Diff != "--- /data/motd\n+++ /data/motd\n-old\n+new\n" {
		t.Fatalf("write-file --check: %+v %v", res, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "motd")); string(data) != "old\n" {
		t.Fatalf("check mode wrote the file: %q", data)
	}
	for i, want := range []bool{true, false} {
		res, err = p.ExecuteTask(ctx, "write-file", `{"path": "/data/motd", "content": "new\n"}`, false)
		if err != nil || res.Changed != want {
			t.Fatalf("write-file %d: %+v %v", i, res, err)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "motd")); string(data) != "new\n" {
		t.Fatalf("file: %q", data)
	}
	if _, err := p.ExecuteTask(ctx, "write-file", `{"path": "/data/created", "content": "x"}`, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "created")); err != nil {
		t.Fatal(err)
	}
	// Outside the granted directory there is nothing.
	_, err = p.ExecuteTask(ctx, "write-file", `{"path": "/etc/passwd", "content": "x"}`, false)
	if KindOf(err) != KindUnsupported {
		t.Errorf("outside the grant: %v", err)
	}

	// Without a grant, no directory at all.
	p, _ = goPlugin(t, "")
	_, err = p.ExecuteTask(ctx, "write-file", `{"path": "/data/motd", "content": "x"}`, false)
	wantErrorPrefix(t, err, KindUnsupported, "plugin go-plugin: tasks.execute: write-file: the directory of /data/motd does not exist or is not granted")
}
