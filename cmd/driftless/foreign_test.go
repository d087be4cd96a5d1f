package main

import (
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/internal/handleshapes"
)

// TestForeignComponentShapes: components whose types hold resource handles
// on both sides (issue 17: `plugins validate` died with wasmtime's panic,
// exit 2 by accident) are refused with the plugin's problems, and a plugin
// home holding one still lists, runs and inspects.
func TestForeignComponentShapes(t *testing.T) {
	home := fixtureHome(t)
	dir := t.TempDir()
	for i, s := range handleshapes.Shapes {
		for _, names := range [][2]string{{"test:t/test", "test:t/test"}, {"test:t/a", "test:t/b"}} {
			t.Run(s.Name+"/"+names[1], func(t *testing.T) {
				wasm, err := wasmtime.Wat2Wasm(s.WAT(names[0], names[1]))
				if err != nil {
					t.Fatal(err)
				}
				file := writeFile(t, dir, "shape.wasm", string(wasm))
				e := errorOf(t, runJSON(t, home, 2, "plugins", "validate", file), "load")
				problems, _ := e["problems"].([]any)
				all := ""
				for _, p := range problems {
					all += p.(string) + "\n"
				}
				contains(t, "problems", all, "metadata", names[0])
				r := runCLI(t, home, 2, "plugins", "validate", file)
				contains(t, "validate", r.stderr, "error: plugin shape: load:")
				if strings.Contains(r.stderr, "panicked") {
					t.Fatalf("validate:\n%s", r.stderr)
				}
			})
		}
		if i == 0 {
			wasm, err := wasmtime.Wat2Wasm(s.WAT("test:t/test", "test:t/test"))
			if err != nil {
				t.Fatal(err)
			}
			put(t, home, "shape", wasm)
		}
	}
	r := runCLI(t, home, 0, "plugins", "list")
	contains(t, "list", r.stdout, "shape", "ERROR: plugin shape: load:")
	errorOf(t, runJSON(t, home, 2, "plugins", "inspect", "shape"), "load")
	runCLI(t, home, 0, "task", "run", "fixture.ok")
}
