package bindings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/internal/handleshapes"
)

func TestReflectHandlesOnBothSides(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	for _, s := range handleshapes.Shapes {
		for _, names := range [][2]string{{"test:t/test", "test:t/test"}, {"test:t/a", "test:t/b"}} {
			t.Run(s.Name+"/"+names[1], func(t *testing.T) {
				wat := s.WAT(names[0], names[1])
				wasm, err := wasmtime.Wat2Wasm(wat)
				if err != nil {
					t.Fatalf("%v\n%s", err, wat)
				}
				c, err := NewComponent(e, wasm)
				must(t, err)
				got := c.Type().WIT()
				for _, side := range []string{"import " + names[0], "export " + names[1]} {
					i := strings.Index(got, side+": interface {\n")
					if i < 0 {
						t.Fatalf("no %s in\n%s", side, got)
					}
					block := got[i:]
					block = block[:strings.Index(block, "\n}\n")]
					for _, w := range append(s.Want, "resource thing;", "[method]thing.get: func(self: borrow<thing>) -> u32;") {
						if !strings.Contains(block, w) {
							t.Errorf("%s lacks %q:\n%s", side, w, block)
						}
					}
				}
				// Compiled form, without the binary: same shape, no names
				// but the resource's, and no crash either.
				ser, err := c.Serialize()
				must(t, err)
				d, err := DeserializeComponent(e, ser)
				must(t, err)
				if w := d.Type().WIT(); !strings.Contains(w, "resource thing;") || strings.Count(w, "test: func(a: ") != 2 {
					t.Errorf("deserialized:\n%s", w)
				}

				// Instantiation type-checks the import against the host's
				// definitions: the other place that compares these types.
				l := e.NewLinker()
				in := l.Instance(names[0])
				must(t, in.DefineResource("thing", NewResourceType("thing"), nil))
				must(t, in.DefineFunc("[method]thing.get", func(ctx context.Context, p, r []Val) error { return nil }))
				must(t, in.DefineFunc("test", func(ctx context.Context, p, r []Val) error { return nil }))
				st, err := e.NewStore(StoreOptions{})
				must(t, err)
				defer st.Close()
				if _, err := l.Instantiate(st, c); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestReflectNamesFromTheBinary: names come from the binary, not from a
// structural match (which named every record {a: string} after the first
// such record, and showed an alias as a record).
func TestReflectNamesFromTheBinary(t *testing.T) {
	const wat = `(component
  (type $ti (instance
    (type $r1 (record (field "a" string)))
    (export "list-in-record1" (type $R1 (eq $r1)))
    (type $r2 (record (field "a" string)))
    (export "list-in-record2" (type $R2 (eq $r2)))
    (export "list-in-alias" (type $A (eq $R2)))
    (type $v (option string))
    (export "maybe" (type $V (eq $v)))
    (type $f1 (func (param "a" $R1)))
    (export "f-list-in-record1" (func (type $f1)))
    (type $f2 (func (result $R2)))
    (export "f-list-in-record2" (func (type $f2)))
    (type $f3 (func (param "a" $A) (result $V)))
    (export "f-alias" (func (type $f3)))
    (type $f4 (func (param "a" (list $R1)) (result (option $R2))))
    (export "f-nested" (func (type $f4)))))
  (import "test:lists/test" (instance $imp (type $ti))))`
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, wat)
	got := c.Type().WIT()
	for _, want := range []string{
		"  record list-in-record1 { a: string };\n",
		"  record list-in-record2 { a: string };\n",
		"  type list-in-alias = list-in-record2;\n",
		"  type maybe = option<string>;\n",
		"  f-list-in-record1: func(a: list-in-record1);\n",
		"  f-list-in-record2: func() -> list-in-record2;\n",
		"  f-alias: func(a: list-in-alias) -> maybe;\n",
		"  f-nested: func(a: list<list-in-record1>) -> option<list-in-record2>;\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("WIT lacks %q:\n%s", want, got)
		}
	}
}

// TestReflectTypeLimit: types that are DAGs in wasmtime but trees in Go
// (each tuple holds the previous one twice) are refused, not expanded into
// millions of nodes.
func TestReflectTypeLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("(component (type $ti (instance (type $t0 (tuple u8 u8))\n")
	for i := 1; i <= 16; i++ {
		fmt.Fprintf(&b, "(type $t%d (tuple $t%d $t%d))\n", i, i-1, i-1)
	}
	b.WriteString(`(type $f (func (param "a" $t16) (param "b" $t16) (param "c" $t16)))
	  (export "f" (func (type $f)))))
	  (import "test:big/api" (instance (type $ti))))`)
	wasm, err := wasmtime.Wat2Wasm(b.String())
	must(t, err)
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	_, err = NewComponent(e, wasm)
	var tl *TypeLimitError
	if !errors.As(err, &tl) || tl.Nodes != maxTypeNodes {
		t.Fatalf("NewComponent = %v, want a *TypeLimitError", err)
	}
	if !strings.Contains(err.Error(), "type nodes") {
		t.Fatalf("error %q", err)
	}
}
