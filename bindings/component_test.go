package bindings

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

func TestCompileSerializeDeserialize(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	wasm, err := wasmtime.Wat2Wasm(kindsWAT)
	must(t, err)
	if !IsComponent(wasm) {
		t.Fatal("IsComponent(component) = false")
	}
	core, err := wasmtime.Wat2Wasm(`(module (func (export "f")))`)
	must(t, err)
	if IsComponent(core) {
		t.Fatal("IsComponent(core module) = true")
	}

	// From a file.
	dir := t.TempDir()
	path := filepath.Join(dir, "kinds.wasm")
	must(t, os.WriteFile(path, wasm, 0o644))
	c, err := NewComponentFromFile(e, path)
	must(t, err)
	if c.Engine() != e {
		t.Fatal("Engine()")
	}
	ser, err := c.Serialize()
	must(t, err)
	if len(ser) < len(wasm) {
		t.Fatalf("serialized %d bytes from %d", len(ser), len(wasm))
	}

	// Deserialized from bytes and from a file, it works like the original.
	c2, err := DeserializeComponentWithSource(e, ser, wasm)
	must(t, err)
	serPath := filepath.Join(dir, "kinds.cwasm")
	must(t, os.WriteFile(serPath, ser, 0o644))
	c3, err := DeserializeComponentFile(e, serPath)
	must(t, err)
	c4, err := DeserializeComponent(e, ser)
	must(t, err)
	if c2.Type().WIT() != c.Type().WIT() {
		t.Errorf("deserialized with its source: a different type:\n%s\nwant\n%s", c2.Type().WIT(), c.Type().WIT())
	}
	// Without the binary, the compiled form has no type names: records
	// show their structure, never a guessed name.
	for i, comp := range []*Component{c3, c4} {
		got := comp.Type().WIT()
		if !strings.Contains(got, "point-swap: func(p: record { x: s32, y: s32 }) -> record { x: s32, y: s32 };") ||
			strings.Contains(got, "func(p: point)") {
			t.Errorf("deserialized %d without source:\n%s", i, got)
		}
	}
	for i, comp := range []*Component{c, c2, c3, c4} {
		l := e.NewLinker()
		(&kindsHost{got: map[string]Val{}}).define(t, l)
		s, err := e.NewStore(StoreOptions{})
		must(t, err)
		inst, err := l.Instantiate(s, comp)
		must(t, err)
		if v := call(t, inst, "str-echo", String("cached")); v.Str() != "cached" {
			t.Errorf("component %d: echo %s", i, v)
		}
		s.Close()
	}

	// Errors, not crashes, for bad input; a FIFO does not block.
	fifo := filepath.Join(dir, "fifo.cwasm")
	must(t, syscall.Mkfifo(fifo, 0o644))
	bad := []struct {
		name string
		fn   func() (*Component, error)
	}{
		{"empty", func() (*Component, error) { return NewComponent(e, nil) }},
		{"garbage", func() (*Component, error) { return NewComponent(e, []byte("definitely not wasm")) }},
		{"core module", func() (*Component, error) { return NewComponent(e, core) }},
		{"missing file", func() (*Component, error) { return NewComponentFromFile(e, filepath.Join(dir, "none")) }},
		{"deserialize empty", func() (*Component, error) { return DeserializeComponent(e, nil) }},
		{"deserialize wasm", func() (*Component, error) { return DeserializeComponent(e, wasm) }},
		{"deserialize truncated", func() (*Component, error) { return DeserializeComponent(e, ser[:len(ser)/2]) }},
		{"deserialize missing file", func() (*Component, error) { return DeserializeComponentFile(e, filepath.Join(dir, "none")) }},
		{"deserialize NUL in path", func() (*Component, error) { return DeserializeComponentFile(e, serPath+"\x00.x") }},
		{"deserialize a FIFO", func() (*Component, error) { return DeserializeComponentFile(e, fifo) }},
		{"compile a FIFO", func() (*Component, error) { return NewComponentFromFile(e, fifo) }},
	}
	for _, b := range bad {
		if c, err := b.fn(); err == nil || c != nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	// An engine with other settings refuses the artifact.
	e2, err := NewEngine(EngineConfig{ConsumeFuel: true})
	must(t, err)
	if _, err := DeserializeComponent(e2, ser); err == nil {
		t.Error("artifact of an engine without fuel accepted by one with fuel")
	}
	c.Close()
	c.Close()
	if _, err := c.Serialize(); err == nil {
		t.Error("Serialize after Close")
	}
}

// future, stream and error-context need wasmtime's component-model-async
// feature, which the C API of wasmtime 44 cannot enable: components using
// them are refused at compile time, with an error.
func TestAsyncTypesRefused(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	for _, ty := range []string{"(future u8)", "(stream u8)", "error-context"} {
		for _, where := range []string{"export", "import"} {
			var wat string
			if where == "export" {
				wat = `(component
  (type $t ` + ty + `)
  (core module $m (func (export "f") (param i32)))
  (core instance $i (instantiate $m))
  (func (export "f") (param "x" $t) (canon lift (core func $i "f"))))`
			} else {
				wat = `(component
  (type $t ` + ty + `)
  (import "f" (func (param "x" $t))))`
			}
			wasm, err := wasmtime.Wat2Wasm(wat)
			if err != nil {
				t.Logf("%s %s: the WAT parser refuses it: %v", where, ty, err)
				continue
			}
			_, err = NewComponent(e, wasm)
			if err == nil || !strings.Contains(err.Error(), "requires the component model") {
				t.Errorf("%s %s: %v", where, ty, err)
			}
		}
	}
	// Should a future wasmtime accept them, calls are refused before the C
	// API (which has todo!() for these values) could see one.
	ft := &FuncType{Params: []Param{{Name: "x", Type: &Type{Kind: KindList, Elem: &Type{Kind: KindFuture}}}}}
	if k := asyncKind(ft.Params[0].Type); k != KindFuture {
		t.Fatalf("asyncKind = %v", k)
	}
	if why := asyncInItem("f", &Item{Kind: ItemFunc, Func: ft}); !strings.Contains(why, "future") {
		t.Fatalf("asyncInItem = %q", why)
	}
	rt := &FuncType{Result: &Type{Kind: KindOption, Elem: &Type{Kind: KindStream}}}
	if why := asyncInItem("g", &Item{Kind: ItemInstance, Exports: []ItemDef{{Name: "h", Item: &Item{Kind: ItemFunc, Func: rt}}}}); !strings.Contains(why, "g#h: result has a stream type") {
		t.Fatalf("asyncInItem = %q", why)
	}
}

func TestTypeReflectionWIT(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, resourceWAT)
	got := c.Type().WIT()
	for _, want := range []string{
		"import test:res/host: interface {\n  resource blob;\n  make-blob: func(n: u32) -> blob;\n  [method]blob.size: func(self: borrow<blob>) -> u32;\n",
		"export resource counter;\n",
		"export [constructor]counter: func(start: u32) -> counter;\n",
		"export [method]counter.incr: func(self: borrow<counter>) -> u32;\n",
		"export blob-drop: func(b: blob);\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("WIT lacks %q:\n%s", want, got)
		}
	}
	_, kc := kindsComponent(t)
	got = kc.Type().WIT()
	for _, want := range []string{
		"import test:kinds/host: interface {\n  record point { x: s32, y: s32 };\n  variant shape { circle(f32), square(u32), none };\n  enum color { red, green, blue };\n  flags perms { read, write, exec };\n",
		"  h-tuple: func(x: tuple<u8, string>) -> tuple<u8, string>;\n",
		"  h-result: func(x: result<u32, string>) -> result<u32, string>;\n",
		"import test:kinds/outer: interface {\n  inner: interface {\n    triple: func(x: u32) -> u32;\n  }\n}\n",
		"export test:kinds/api: interface {\n  record point { x: s32, y: s32 };\n  enum color { red, green, blue };\n  point-swap: func(p: point) -> point;\n  color-next: func(c: color) -> color;\n}\n",
		"export list-sum: func(l: list<u32>) -> u64;\n",
		"export option-double: func(o: option<u32>) -> option<u32>;\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("WIT lacks %q:\n%s", want, got)
		}
	}
	// Structured access.
	ft := kc.Type().Func("test:kinds/api", "point-swap")
	if ft == nil || ft.Params[0].Type.Kind != KindRecord || ft.Params[0].Type.Fields[1].Name != "y" {
		t.Fatalf("Func(api, point-swap) = %v", ft)
	}
	if kc.Type().Import("test:kinds/host") == nil || kc.Type().Export("nope") != nil {
		t.Fatal("Import/Export lookup")
	}
	rt := kc.Type().Func("result-check").Result
	if rt.String() != "result<u32, string>" || rt.Ok.Kind != KindU32 || rt.Err.Kind != KindString {
		t.Fatalf("result type %s", rt)
	}
	for _, c := range []struct {
		t    *Type
		want string
	}{
		{&Type{Kind: KindResult}, "result"},
		{&Type{Kind: KindResult, Err: &Type{Kind: KindU8}}, "result<_, u8>"},
		{&Type{Kind: KindResult, Ok: &Type{Kind: KindU8}}, "result<u8>"},
		{&Type{Kind: KindOwn}, "own<resource>"},
		{&Type{Kind: KindFuture, Elem: &Type{Kind: KindU8}}, "future<u8>"},
		{&Type{Kind: KindErrorContext}, "error-context"},
	} {
		if c.t.String() != c.want {
			t.Errorf("%#v renders as %s, want %s", c.t, c.t, c.want)
		}
	}
}

// Instances of one component in many stores share the compiled code; a
// closed store makes its objects fail cleanly.
func TestClosedStore(t *testing.T) {
	inst, _ := newKinds(t)
	f, err := inst.Func("u32-inc")
	must(t, err)
	s := inst.Store()
	s.Close()
	s.Close()
	if _, err := f.Call(context.Background(), U32(1)); !errors.Is(err, errStoreClosed) {
		t.Fatalf("call in a closed store: %v", err)
	}
	if _, err := inst.Func("u32-inc"); err != nil {
		t.Fatalf("cached Func lookup: %v", err)
	}
	if _, err := inst.Func("s8-neg"); !errors.Is(err, errStoreClosed) {
		t.Fatalf("lookup in a closed store: %v", err)
	}
	if _, err := s.NewResource(NewResourceType("x"), 1); !errors.Is(err, errStoreClosed) {
		t.Fatalf("NewResource in a closed store: %v", err)
	}
	if _, err := s.Fuel(); !errors.Is(err, errStoreClosed) {
		t.Fatalf("Fuel in a closed store: %v", err)
	}
}
