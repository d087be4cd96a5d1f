package goadapter

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

// The adapter.wasm that Assembled embeds is adapter.wat and its world as the
// pinned wasm-tools assembles them today.
func TestAssembledIsCurrent(t *testing.T) {
	wasmTools := builtexample.WasmTools(t)
	mk, err := os.ReadFile(filepath.Join(builtexample.Root(), "mk", "examples.mk"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^WASM_TOOLS_VERSION := (\S+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("mk/examples.mk sets no WASM_TOOLS_VERSION")
	}
	out, err := exec.Command(wasmTools, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", wasmTools, err)
	}
	if got := strings.Fields(string(out)); len(got) < 2 || got[1] != string(m[1]) {
		builtexample.Unavailable(t, "the comparison needs the pinned wasm-tools "+string(m[1])+", not "+strings.TrimSpace(string(out))+" ("+wasmTools+")")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	file := filepath.Join(t.TempDir(), "adapter.wasm")
	if err := Assemble(ctx, wasmTools, file); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Assembled, want) {
		t.Errorf("tools/goadapter/adapter.wasm (%d bytes) is not adapter.wat assembled (%d bytes): run make generate and commit it", len(Assembled), len(want))
	}
}
