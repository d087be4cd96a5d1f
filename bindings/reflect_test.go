package bindings

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// handleShape is a type holding a resource handle, declared the same way
// on the import side (in an instance type) and the export side (defined by
// the component). wasmtime 39 aborted the process reflecting such a
// component when asked whether an imported type equals an exported one
// (its structural comparison reaches the handle and indexes an empty
// resource table); reflection now never asks.
type handleShape struct {
	name string
	// defs declares types over $thing (a resource) and $u (a spare
	// named record); the func's parameter is $p. Each named type is
	// "(export ...)"ed in the instance type and the export instance.
	defs  string
	named []string // identifiers of defs exported under their names
	flat  string   // the core parameters of the lifted function
	want  []string // lines WIT() must contain, in both interfaces
}

var handleShapes = []handleShape{
	{
		name:  "list of records of borrow (the issue)",
		defs:  `(type $b (borrow $thing)) (type $foo (record (field "thing" $b))) (type $p (list $foo))`,
		named: []string{"foo"},
		flat:  "i32 i32",
		want:  []string{"record foo { thing: borrow<thing> };", "test: func(a: list<foo>);"},
	},
	{
		name:  "record of own",
		defs:  `(type $o (own $thing)) (type $foo (record (field "thing" $o) (field "n" u32))) (type $p (list $foo))`,
		named: []string{"foo"},
		flat:  "i32 i32",
		want:  []string{"record foo { thing: thing, n: u32 };", "test: func(a: list<foo>);"},
	},
	{
		name:  "variant of own and borrow",
		defs:  `(type $o (own $thing)) (type $b (borrow $thing)) (type $foo (variant (case "a" $o) (case "b" $b) (case "c"))) (type $p (list $foo))`,
		named: []string{"foo"},
		flat:  "i32 i32",
		want:  []string{"variant foo { a(thing), b(borrow<thing>), c };", "test: func(a: list<foo>);"},
	},
	{
		name:  "record of option of own",
		defs:  `(type $o (own $thing)) (type $opt (option $o)) (type $foo (record (field "x" $opt))) (type $p (list $foo))`,
		named: []string{"foo"},
		flat:  "i32 i32",
		want:  []string{"record foo { x: option<thing> };"},
	},
	{
		name:  "record of result of own",
		defs:  `(type $o (own $thing)) (type $res (result $o (error u8))) (type $foo (record (field "x" $res))) (type $p (list $foo))`,
		named: []string{"foo"},
		flat:  "i32 i32",
		want:  []string{"record foo { x: result<thing, u8> };"},
	},
	{
		name:  "record of tuple of own and borrow",
		defs:  `(type $o (own $thing)) (type $b (borrow $thing)) (type $tup (tuple $o $b u32)) (type $foo (record (field "x" $tup))) (type $p (list $foo))`,
		named: []string{"foo"},
		flat:  "i32 i32",
		want:  []string{"record foo { x: tuple<thing, borrow<thing>, u32> };"},
	},
	{
		name:  "variant of list of own",
		defs:  `(type $o (own $thing)) (type $l (list $o)) (type $foo (variant (case "many" $l) (case "none"))) (type $p (list $foo))`,
		named: []string{"foo"},
		flat:  "i32 i32",
		want:  []string{"variant foo { many(list<thing>), none };"},
	},
	{
		// Two records whose first fields agree: a structural comparison
		// reaches the handle before it finds the difference.
		name: "records differing after a handle",
		defs: `(type $o (own $thing)) (type $foo (record (field "x" $o) (field "y" u32)))
		       (type $bar (record (field "x" $o) (field "y" u64))) (type $p (tuple $foo $bar))`,
		named: []string{"foo", "bar"},
		flat:  "i32 i32 i32 i64",
		want:  []string{"record foo { x: thing, y: u32 };", "record bar { x: thing, y: u64 };", "test: func(a: tuple<foo, bar>);"},
	},
	{
		// Same-shaped records: wasmtime interns them as one type; the
		// names still come from the binary.
		name:  "records of the same shape",
		defs:  `(type $o (own $thing)) (type $foo (record (field "x" $o))) (type $bar (record (field "x" $o))) (type $p (tuple $foo $bar))`,
		named: []string{"foo", "bar"},
		flat:  "i32 i32",
		want:  []string{"record foo { x: thing };", "record bar { x: thing };", "test: func(a: tuple<foo, bar>);"},
	},
}

// handleShapeWAT builds a component that imports interface imp and exports
// interface exp, both of the shape's types, a function test(a: $p) and a
// resource thing with a method. The export side is built as wit-component
// builds it: functions lifted over the component's own resource, passed to
// a nested component that re-exports them under the interface's types.
func handleShapeWAT(s handleShape, imp, exp string) string {
	// declare writes the shape's defs; a named type is defined, then
	// exported or imported under its name (how it appears in the
	// interface), and the other types refer to the name.
	declare := func(b *strings.Builder, defs, verb, prefix, suffix string) {
		for _, d := range splitDefs(defs) {
			named := ""
			for _, n := range s.named {
				if strings.HasPrefix(d, "(type $"+n+suffix+" ") {
					named = n
					d = strings.Replace(d, "$"+n+suffix, "$"+n+suffix+"-def", 1)
				}
			}
			b.WriteString("    " + d + "\n")
			switch {
			case named == "":
			case verb == "export" && suffix != "":
				// A component's export, not a type's declaration.
				fmt.Fprintf(b, "    (export $%s%s %q (type $%s%s-def))\n", named, suffix, named, named, suffix)
			default:
				fmt.Fprintf(b, "    (%s %q (type $%s%s (eq $%s%s-def)))\n", verb, prefix+named, named, suffix, named, suffix)
			}
		}
	}
	var b strings.Builder
	b.WriteString("(component\n  (type $ti (instance\n    (export \"thing\" (type $thing (sub resource)))\n")
	declare(&b, s.defs, "export", "", "")
	b.WriteString(`    (type $get (func (param "self" (borrow $thing)) (result u32)))
    (export "[method]thing.get" (func (type $get)))
    (type $ft (func (param "a" $p)))
    (export "test" (func (type $ft)))))
`)
	fmt.Fprintf(&b, "  (import %q (instance $imp (type $ti)))\n", imp)
	fmt.Fprintf(&b, `  (core module $M
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
    (func (export "test") (param %s))
    (func (export "get") (param i32) (result i32) (local.get 0)))
  (core instance $m (instantiate $M))
  (type $thing (resource (rep i32)))
  %s
  (type $get (func (param "self" (borrow $thing)) (result u32)))
  (func $get (type $get) (canon lift (core func $m "get")))
  (type $ft (func (param "a" $p)))
  (func $test (type $ft) (canon lift (core func $m "test") (memory $m "mem") (realloc (func $m "realloc"))))
  (component $shim
    (import "import-type-thing" (type $thing (sub resource)))
`, s.flat, s.defs)
	declare(&b, s.defs, "import", "import-type-", "")
	b.WriteString(`    (type $get (func (param "self" (borrow $thing)) (result u32)))
    (import "import-method-thing-get" (func $get (type $get)))
    (type $ft (func (param "a" $p)))
    (import "import-func-test" (func $test (type $ft)))
    (export $thing2 "thing" (type $thing))
`)
	// The exported types are defined again over the exported resource.
	declare(&b, identifier.ReplaceAllString(s.defs, "${0}2"), "export", "", "2")
	b.WriteString(`    (export "[method]thing.get" (func $get) (func (param "self" (borrow $thing2)) (result u32)))
    (export "test" (func $test) (func (param "a" $p2))))
  (instance $exp (instantiate $shim (with "import-type-thing" (type $thing))`)
	for _, n := range s.named {
		fmt.Fprintf(&b, " (with %q (type $%s))", "import-type-"+n, n)
	}
	b.WriteString(` (with "import-method-thing-get" (func $get)) (with "import-func-test" (func $test))))
`)
	fmt.Fprintf(&b, "  (export %q (instance $exp)))\n", exp)
	return b.String()
}

var identifier = regexp.MustCompile(`\$[a-z]+`)

// splitDefs splits "(type ...) (type ...)" into its top-level forms.
func splitDefs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			if depth == 0 {
				start = i
			}
			depth++
		case ')':
			depth--
			if depth == 0 {
				out = append(out, s[start:i+1])
			}
		}
	}
	return out
}

func TestReflectHandlesOnBothSides(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	for _, s := range handleShapes {
		for _, names := range [][2]string{{"test:t/test", "test:t/test"}, {"test:t/a", "test:t/b"}} {
			t.Run(s.name+"/"+names[1], func(t *testing.T) {
				wat := handleShapeWAT(s, names[0], names[1])
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
					for _, w := range append(s.want, "resource thing;", "[method]thing.get: func(self: borrow<thing>) -> u32;") {
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
