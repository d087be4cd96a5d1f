package host

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/internal/handleshapes"
)

// TestForeignComponentShapes: loading a component whose types hold resource
// handles on its import and export sides took the host down (issue 17:
// wasmtime's type comparison panics). Each is refused with its problems,
// compiled and from the compile cache, and the host keeps working.
func TestForeignComponentShapes(t *testing.T) {
	h, _ := testHost(t, "", true)
	after := bystander(t, h)
	for _, s := range handleshapes.Shapes {
		for _, names := range [][2]string{{"test:t/test", "test:t/test"}, {"test:t/a", "test:t/b"}} {
			t.Run(s.Name+"/"+names[1], func(t *testing.T) {
				wasm, err := wasmtime.Wat2Wasm(s.WAT(names[0], names[1]))
				if err != nil {
					t.Fatal(err)
				}
				for _, from := range []string{"compiled", "cached"} {
					_, err := h.LoadBytes(context.Background(), "shape", wasm)
					problems := strings.Join(Problems(err), "\n")
					if !strings.Contains(problems, "import "+names[0]+": unknown interface") ||
						!strings.Contains(problems, "does not export driftless:plugin/metadata@0.1.0") {
						t.Fatalf("%s: %v", from, err)
					}
				}
			})
		}
	}
	after()
}

// TestTypesTooLargeToReflect: types that wasmtime keeps as a DAG but that
// expand into millions of nodes (each tuple holds the previous one twice)
// are refused at load, naming the limit.
func TestTypesTooLargeToReflect(t *testing.T) {
	var b strings.Builder
	b.WriteString("(component (type $ti (instance (type $t0 (tuple u8 u8))\n")
	for i := 1; i <= 16; i++ {
		fmt.Fprintf(&b, "(type $t%d (tuple $t%d $t%d))\n", i, i-1, i-1)
	}
	b.WriteString(`(type $f (func (param "a" $t16) (param "b" $t16) (param "c" $t16)))
	  (export "f" (func (type $f)))))
	  (import "driftless:plugin/host@0.1.0" (instance (type $ti))))`)
	wasm, err := wasmtime.Wat2Wasm(b.String())
	if err != nil {
		t.Fatal(err)
	}
	h, _ := testHost(t, "", false)
	_, err = h.LoadBytes(context.Background(), "big", wasm)
	wantError(t, err, KindLoad, "plugin big: load: not a valid component: component types too large: its imports and exports expand to more than 262144 type nodes")
}
