package builtexample

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// WasmTools returns the wasm-tools binary `make tools-cargo` installs (or
// $WASM_TOOLS, or one on PATH), or skips the test (fails it when Required)
// when there is none.
func WasmTools(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("WASM_TOOLS"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		// mk/examples.mk's default TOOLCACHE.
		p := filepath.Join(home, ".cache", "driftless", "cargo", "bin", "wasm-tools")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("wasm-tools"); err == nil {
		return p
	}
	msg := "wasm-tools is not installed; run `make -f mk/examples.mk tools-cargo` (make test installs it)"
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
