package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/builtexample"
)

// repoRoot is the repository root, from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// testCache is a compile cache kept across test runs: the JavaScript
// example takes tens of seconds to compile.
func testCache() host.CompileCache {
	return host.NewDirCache(filepath.Join(os.TempDir(), "driftless-pipeline-test-home", "cache"))
}

// newHost returns a host with default limits or cfg, closed with the test.
// Its plugins' state is the test's own.
func newHost(t testing.TB, cfg *host.Config) *host.Host {
	t.Helper()
	if cfg == nil {
		cfg = &host.Config{}
	}
	h, err := host.New(host.Options{Config: cfg, Cache: testCache(), StatePath: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// watlogsWasm is testdata/watlogs.wat compiled.
var watlogs struct {
	once sync.Once
	wasm []byte
	err  error
}

func watlogsWasm(t testing.TB) []byte {
	t.Helper()
	watlogs.once.Do(func() {
		src, err := os.ReadFile(filepath.Join(repoRoot(), "pipeline", "testdata", "watlogs.wat"))
		if err != nil {
			watlogs.err = err
			return
		}
		watlogs.wasm, watlogs.err = wasmtime.Wat2Wasm(string(src))
	})
	if watlogs.err != nil {
		t.Fatal(watlogs.err)
	}
	return watlogs.wasm
}

// loadWatlogs loads the WAT plugin into h as "watlogs".
func loadWatlogs(t testing.TB, h *host.Host) {
	t.Helper()
	if _, err := h.LoadBytes(context.Background(), "watlogs", watlogsWasm(t)); err != nil {
		t.Fatal(err)
	}
}

// loadJS loads the JavaScript example into h as "js-plugin", or skips.
func loadJS(t testing.TB, h *host.Host) {
	t.Helper()
	path := builtexample.Path(t, "js-plugin")
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.LoadBytes(context.Background(), "js-plugin", wasm); err != nil {
		t.Fatal(err)
	}
}
