// Package handleshapes builds components whose types hold resource handles
// (records, variants, options, results, lists and tuples of own and
// borrow) on both their import and export sides: the shapes that made
// wasmtime's type comparison abort the process (issue 17), for the tests
// of every layer that reflects a component's types (bindings, host, CLI).
package handleshapes

import (
	"fmt"
	"regexp"
	"strings"
)

// Shape is a type holding a resource handle, declared the same way on the
// import side (in an instance type) and the export side (defined by the
// component). wasmtime (39 and 44) aborts the process when asked whether
// two such types are equal: its structural comparison reaches the handle
// and indexes an empty table of resources.
type Shape struct {
	Name string
	// Defs declares types over $thing (a resource); the function's
	// parameter is $p. The types in Named are declared under their
	// names in the interface.
	Defs  string
	Named []string
	Flat  string   // the core parameters of the lifted function test
	Want  []string // lines bindings' WIT() must show in both interfaces
}

// Shapes are the shape and its siblings.
var Shapes = []Shape{
	{
		Name:  "list of records of borrow (the issue)",
		Defs:  `(type $b (borrow $thing)) (type $foo (record (field "thing" $b))) (type $p (list $foo))`,
		Named: []string{"foo"},
		Flat:  "i32 i32",
		Want:  []string{"record foo { thing: borrow<thing> };", "test: func(a: list<foo>);"},
	},
	{
		Name:  "record of own",
		Defs:  `(type $o (own $thing)) (type $foo (record (field "thing" $o) (field "n" u32))) (type $p (list $foo))`,
		Named: []string{"foo"},
		Flat:  "i32 i32",
		Want:  []string{"record foo { thing: thing, n: u32 };", "test: func(a: list<foo>);"},
	},
	{
		Name:  "variant of own and borrow",
		Defs:  `(type $o (own $thing)) (type $b (borrow $thing)) (type $foo (variant (case "a" $o) (case "b" $b) (case "c"))) (type $p (list $foo))`,
		Named: []string{"foo"},
		Flat:  "i32 i32",
		Want:  []string{"variant foo { a(thing), b(borrow<thing>), c };", "test: func(a: list<foo>);"},
	},
	{
		Name:  "record of option of own",
		Defs:  `(type $o (own $thing)) (type $opt (option $o)) (type $foo (record (field "x" $opt))) (type $p (list $foo))`,
		Named: []string{"foo"},
		Flat:  "i32 i32",
		Want:  []string{"record foo { x: option<thing> };"},
	},
	{
		Name:  "record of result of own",
		Defs:  `(type $o (own $thing)) (type $res (result $o (error u8))) (type $foo (record (field "x" $res))) (type $p (list $foo))`,
		Named: []string{"foo"},
		Flat:  "i32 i32",
		Want:  []string{"record foo { x: result<thing, u8> };"},
	},
	{
		Name:  "record of tuple of own and borrow",
		Defs:  `(type $o (own $thing)) (type $b (borrow $thing)) (type $tup (tuple $o $b u32)) (type $foo (record (field "x" $tup))) (type $p (list $foo))`,
		Named: []string{"foo"},
		Flat:  "i32 i32",
		Want:  []string{"record foo { x: tuple<thing, borrow<thing>, u32> };"},
	},
	{
		Name:  "variant of list of own",
		Defs:  `(type $o (own $thing)) (type $l (list $o)) (type $foo (variant (case "many" $l) (case "none"))) (type $p (list $foo))`,
		Named: []string{"foo"},
		Flat:  "i32 i32",
		Want:  []string{"variant foo { many(list<thing>), none };"},
	},
	{
		// Two records whose first fields agree: a structural comparison
		// reaches the handle before it finds the difference.
		Name: "records differing after a handle",
		Defs: `(type $o (own $thing)) (type $foo (record (field "x" $o) (field "y" u32)))
		       (type $bar (record (field "x" $o) (field "y" u64))) (type $p (tuple $foo $bar))`,
		Named: []string{"foo", "bar"},
		Flat:  "i32 i32 i32 i64",
		Want:  []string{"record foo { x: thing, y: u32 };", "record bar { x: thing, y: u64 };", "test: func(a: tuple<foo, bar>);"},
	},
	{
		// Same-shaped records: wasmtime interns them as one type; the
		// names still come from the binary.
		Name:  "records of the same shape",
		Defs:  `(type $o (own $thing)) (type $foo (record (field "x" $o))) (type $bar (record (field "x" $o))) (type $p (tuple $foo $bar))`,
		Named: []string{"foo", "bar"},
		Flat:  "i32 i32",
		Want:  []string{"record foo { x: thing };", "record bar { x: thing };", "test: func(a: tuple<foo, bar>);"},
	},
}

// WAT builds a component that imports interface imp and exports
// interface exp, both of the shape's types, a function test(a: $p) and a
// resource thing with a method. The export side is built as wit-component
// builds it: functions lifted over the component's own resource, passed to
// a nested component that re-exports them under the interface's types.
func (s Shape) WAT(imp, exp string) string {
	// declare writes the shape's defs; a named type is defined, then
	// exported or imported under its name (how it appears in the
	// interface), and the other types refer to the name.
	declare := func(b *strings.Builder, defs, verb, prefix, suffix string) {
		for _, d := range splitDefs(defs) {
			named := ""
			for _, n := range s.Named {
				// Rebuilt from the prefix rather than with strings.Replace:
				// Index's vector loads read past a short concatenated
				// pattern into its uninitialised stack buffer, which
				// valgrind (make memcheck) reports all the way into the
				// WAT parser.
				if head := "(type $" + n + suffix; strings.HasPrefix(d, head+" ") {
					named = n
					d = head + "-def" + d[len(head):]
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
	declare(&b, s.Defs, "export", "", "")
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
`, s.Flat, s.Defs)
	declare(&b, s.Defs, "import", "import-type-", "")
	b.WriteString(`    (type $get (func (param "self" (borrow $thing)) (result u32)))
    (import "import-method-thing-get" (func $get (type $get)))
    (type $ft (func (param "a" $p)))
    (import "import-func-test" (func $test (type $ft)))
    (export $thing2 "thing" (type $thing))
`)
	// The exported types are defined again over the exported resource.
	declare(&b, identifier.ReplaceAllString(s.Defs, "${0}2"), "export", "", "2")
	b.WriteString(`    (export "[method]thing.get" (func $get) (func (param "self" (borrow $thing2)) (result u32)))
    (export "test" (func $test) (func (param "a" $p2))))
  (instance $exp (instantiate $shim (with "import-type-thing" (type $thing))`)
	for _, n := range s.Named {
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
