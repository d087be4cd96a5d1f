package host

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
)

// testHost makes a host whose plugin home is a fresh temporary directory,
// with plugins.toml holding toml (none if empty), logging into the returned
// recorder. The compile cache is off unless cache is true.
func testHost(t testing.TB, toml string, cache bool) (*Host, *logRecorder) {
	t.Helper()
	home := t.TempDir()
	if toml != "" {
		if err := os.WriteFile(filepath.Join(home, "plugins.toml"), []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := &logRecorder{}
	opts := homeOptions(t, home)
	opts.Logger, opts.EpochTick = slog.New(rec), 5*time.Millisecond
	if !cache {
		opts.Cache = nil
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, rec
}

// homeOptions returns HomeOptions(home), failing the test on error.
func homeOptions(t testing.TB, home string) Options {
	t.Helper()
	opts, err := HomeOptions(home)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// testKey is the compile cache key of wasm as a binary of the given kind.
func testKey(kind string, wasm []byte) string {
	return cacheKey(kind, sha256.Sum256(wasm), engineFingerprint())
}

// entryPath is the file of key's entry in c.
func (c *DirCache) entryPath(key string) string {
	p, err := c.path(key)
	if err != nil {
		panic(err)
	}
	return p
}

// load loads fixture f into h under f.name and fails the test on error.
func load(t testing.TB, h *Host, f fixture) *Plugin {
	t.Helper()
	p, err := h.LoadBytes(context.Background(), f.name, f.wasm(t))
	if err != nil {
		t.Fatalf("load %s: %v", f.name, err)
	}
	return p
}

// wantError checks that err is a host *Error of the kind, whose message is
// exactly want.
func wantError(t testing.TB, err error, kind ErrorKind, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %q is not a *host.Error", err, err)
	}
	if e.Kind != kind || err.Error() != want {
		t.Fatalf("error\n got  %s: %q\n want %s: %q", e.Kind, err.Error(), kind, want)
	}
}

// wantErrorPrefix is wantError for messages that end in details outside the
// host's control (wasmtime's wording): the message must start with want.
func wantErrorPrefix(t testing.TB, err error, kind ErrorKind, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q...", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %q is not a *host.Error", err, err)
	}
	if e.Kind != kind || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error\n got  %s: %q\n want %s: %q...", e.Kind, err.Error(), kind, want)
	}
}

// echo runs the plugin's well-behaved task and checks its answer.
func echo(t testing.TB, p *Plugin, id string) {
	t.Helper()
	cfg := `{"id":"` + id + `"}`
	res, err := p.ExecuteTask(context.Background(), "echo", cfg, false)
	if err != nil {
		t.Fatalf("%s: echo after the hostile call: %v", p.Name(), err)
	}
	if res.Output != cfg || res.Message != p.Info().Name {
		t.Fatalf("%s: echo: got output %q message %q", p.Name(), res.Output, res.Message)
	}
}

// logRecorder is a slog.Handler that keeps every record, and panics on
// messages containing "PANIC" (a broken log handler, for the host-callback
// panic test).
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
	attrs   []slog.Attr
	parent  *logRecorder
	// hook, if set on the root, runs first for every record.
	hook func(slog.Record)
}

func (r *logRecorder) root() *logRecorder {
	for r.parent != nil {
		r = r.parent
	}
	return r
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	if strings.Contains(rec.Message, "PANIC") {
		panic("log handler exploded on " + rec.Message)
	}
	root := r.root()
	if root.hook != nil {
		root.hook(rec)
	}
	rec = rec.Clone()
	rec.AddAttrs(r.attrs...)
	root.mu.Lock()
	root.records = append(root.records, rec)
	root.mu.Unlock()
	return nil
}

func (r *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{parent: r, attrs: append(append([]slog.Attr(nil), r.attrs...), attrs...)}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// logLine is a record flattened for assertions.
type logLine struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (r *logRecorder) lines() []logLine {
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	out := make([]logLine, len(root.records))
	for i, rec := range root.records {
		l := logLine{Level: rec.Level, Msg: rec.Message, Attrs: map[string]string{}}
		rec.Attrs(func(a slog.Attr) bool {
			l.Attrs[a.Key] = a.Value.String()
			return true
		})
		out[i] = l
	}
	return out
}

func (r *logRecorder) reset() {
	root := r.root()
	root.mu.Lock()
	root.records = nil
	root.mu.Unlock()
}

func taskNames(defs []tasks.TaskDefinition) []string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	return names
}
