package typenames

import (
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/internal/handleshapes"
)

// namesWAT imports an interface of same-shaped records, an alias and a
// named option, and exports a world-level function over an imported type.
const namesWAT = `(component
  (type $ti (instance
    (type $r1 (record (field "a" string)))
    (export "r1" (type $R1 (eq $r1)))
    (type $r2 (record (field "a" string)))
    (export "r2" (type $R2 (eq $r2)))
    (export "alias" (type $A (eq $R2)))
    (type $v (option string))
    (export "maybe" (type $V (eq $v)))
    (type $f (func (param "a" $A) (param "b" (list $R1)) (result $V)))
    (export "f" (func (type $f)))))
  (import "test:n/api" (instance $api (type $ti)))
  (alias export $api "maybe" (type $maybe))
  (import "maybe" (type $m (eq $maybe)))
  (core module $M (func (export "g") (param i32 i32)))
  (core instance $i (instantiate $M))
  (type $g (func (param "x" $m)))
  (func $g (type $g) (canon lift (core func $i "g")))
  (export "g" (func $g)))`

func wat(t testing.TB, src string) []byte {
	t.Helper()
	b, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeNames(t *testing.T) {
	n, err := Decode(wat(t, namesWAT))
	if err != nil {
		t.Fatal(err)
	}
	api := n.Imports["test:n/api"]
	if api == nil || api.Kind != ItemInstance {
		t.Fatalf("import test:n/api: %+v", api)
	}
	f := api.Exports["f"]
	if f == nil || f.Kind != ItemFunc || len(f.Func.Params) != 2 {
		t.Fatalf("f: %+v", f)
	}
	a, b := f.Func.Params[0].Type, f.Func.Params[1].Type
	if a.Name() != "alias" || a.Def().Kind != KindRecord || a.Def().Labels[0] != "a" {
		t.Errorf("param a: %q %v", a.Name(), a.Def().Kind)
	}
	if b.Name() != "" || b.Def().Kind != KindList || b.Def().Elems[0].Name() != "r1" {
		t.Errorf("param b: %q %v", b.Name(), b.Def().Kind)
	}
	if f.Func.Result.Name() != "maybe" || f.Func.Result.Def().Kind != KindOption {
		t.Errorf("result: %q", f.Func.Result.Name())
	}
	for name, alias := range map[string]string{"r1": "", "r2": "", "alias": "r2", "maybe": ""} {
		it := api.Exports[name]
		if it == nil || it.Kind != ItemType || it.Type.Name() != name || it.Type.AliasOf() != alias {
			t.Errorf("type %s: %+v, alias of %q", name, it, it.Type.AliasOf())
		}
	}
	// A world-level function, through a lift, over a type the world
	// imports under its own name.
	g := n.Exports["g"]
	if g == nil || g.Kind != ItemFunc || g.Func.Params[0].Type.Name() != "maybe" {
		t.Fatalf("g: %+v", g)
	}
	// The world's use of api's maybe is maybe itself, not an alias.
	if m := n.Imports["maybe"]; m == nil || m.Type.Name() != "maybe" || m.Type.AliasOf() != "" {
		t.Errorf("import maybe: %+v", m)
	}
}

// TestDecodeNestedComponentParams: the names of a nested component's
// imports are parameters (wit-component's "import-type-foo"), never type
// names; its exports are.
func TestDecodeNestedComponentParams(t *testing.T) {
	s := handleshapes.Shapes[0]
	n, err := Decode(wat(t, s.WAT("test:t/a", "test:t/b")))
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []*Item{n.Imports["test:t/a"], n.Exports["test:t/b"]} {
		if side == nil || side.Kind != ItemInstance {
			t.Fatalf("interface: %+v", side)
		}
		p := side.Exports["test"].Func.Params[0].Type
		foo := p.Def().Elems[0]
		if p.Name() != "" || foo.Name() != "foo" {
			t.Fatalf("test's parameter: %q of %q", p.Name(), foo.Name())
		}
		b := foo.Def().Elems[0]
		if b.Def().Kind != KindBorrow || b.Def().Elems[0].Name() != "thing" {
			t.Errorf("foo's field: %v of %q", b.Def().Kind, b.Def().Elems[0].Name())
		}
		if get := side.Exports["[method]thing.get"]; get.Func.Params[0].Type.Def().Elems[0].Name() != "thing" {
			t.Errorf("method's self")
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	core := wat(t, `(module)`)
	good := wat(t, namesWAT)
	for name, b := range map[string][]byte{
		"empty":       nil,
		"core module": core,
		"garbage":     []byte("\x00asm\x0d\x00\x01\x00\xff\xff\xff\xff\x0f"),
		"bad section": append(append([]byte{}, good[:8]...), 0x42, 0x00),
	} {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Every truncation of a good binary is an error or a result, never a
	// panic.
	for i := range len(good) {
		Decode(good[:i])
	}
}

// walk visits every item and type reachable from n, as a consumer would.
func walk(items map[string]*Item, depth int) {
	if depth > 50 {
		return
	}
	for _, it := range items {
		switch it.Kind {
		case ItemInstance:
			walk(it.Exports, depth+1)
		case ItemFunc:
			if it.Func != nil {
				for _, p := range it.Func.Params {
					walkType(p.Type, 0)
				}
				walkType(it.Func.Result, 0)
			}
		case ItemType:
			it.Type.AliasOf()
			walkType(it.Type, 0)
		}
	}
}

func walkType(t *Type, depth int) {
	if t == nil || depth > 20 {
		return
	}
	t.Name()
	for _, e := range t.Def().Elems {
		walkType(e, depth+1)
	}
}

// FuzzDecode: any input decodes or fails; nothing panics or loops.
func FuzzDecode(f *testing.F) {
	f.Add(wat(f, namesWAT))
	for _, s := range handleshapes.Shapes {
		f.Add(wat(f, s.WAT("test:t/test", "test:t/test")))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Decode(b)
		if err == nil {
			walk(n.Imports, 0)
			walk(n.Exports, 0)
		}
	})
}
