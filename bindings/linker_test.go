package bindings

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// wasiWAT uses WASI p2 (0.2.0 interfaces, which wasmtime's 0.2.6 ones
// satisfy): its arguments, environment and standard output.
const wasiWAT = `(component
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))
    (export "get-arguments" (func (result (list string))))))
  (import "wasi:io/error@0.2.0" (instance $ioerr
    (export "error" (type (sub resource)))))
  (alias export $ioerr "error" (type $error))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error (type $e))
    (export "error" (type $e2 (eq $e)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e2)) (case "closed")))
    (export "stream-error" (type $se2 (eq $se)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $se2)))))))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $output-stream (type $os))
    (export "output-stream" (type $os2 (eq $os)))
    (export "get-stdout" (func (result (own $os2))))))

  (core module $Libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $heap (i32.const 1024))))
  (core instance $libc (instantiate $Libc))
  (core func $get-args (canon lower (func $env "get-arguments") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $get-env (canon lower (func $env "get-environment") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $libc "memory")))
  (core func $drop-os (canon resource.drop $output-stream))
  (core module $Main
    (import "libc" "memory" (memory 1))
    (import "wasi" "get-args" (func $get-args (param i32)))
    (import "wasi" "get-env" (func $get-env (param i32)))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "drop-os" (func $drop-os (param i32)))
    (func (export "args") (result i32) (call $get-args (i32.const 16)) (i32.const 16))
    (func (export "env") (result i32) (call $get-env (i32.const 16)) (i32.const 16))
    ;; Writes s to stdout; returns 0 on success, 1 + the error case otherwise.
    (func (export "print") (param $ptr i32) (param $len i32) (result i32) (local $h i32)
      (local.set $h (call $get-stdout))
      (call $write (local.get $h) (local.get $ptr) (local.get $len) (i32.const 32))
      (call $drop-os (local.get $h))
      (if (result i32) (i32.load8_u (i32.const 32))
        (then (i32.add (i32.const 1) (i32.load8_u (i32.const 36))))
        (else (i32.const 0)))))
  (core instance $main (instantiate $Main
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "get-args" (func $get-args)) (export "get-env" (func $get-env))
      (export "get-stdout" (func $get-stdout)) (export "write" (func $write))
      (export "drop-os" (func $drop-os))))))
  (func (export "args") (result (list string))
    (canon lift (core func $main "args") (memory $libc "memory") (post-return (func $libc "reset"))))
  (func (export "env") (result (list (tuple string string)))
    (canon lift (core func $main "env") (memory $libc "memory") (post-return (func $libc "reset"))))
  (func (export "print") (param "s" string) (result u32)
    (canon lift (core func $main "print") (memory $libc "memory") (realloc (func $libc "realloc"))
      (post-return (func $libc "reset"))))
)`

func TestWASISealedAndConfigured(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, wasiWAT)
	l := e.NewLinker()
	must(t, l.AddWASIP2())
	if !l.HasWASI() || !l.Defines("wasi:cli/environment@0.2.0") {
		t.Fatal("linker does not report WASI")
	}

	// No WASIConfig: a sealed context.
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	must(t, err)
	if v := call(t, inst, "args"); len(v.Elems()) != 0 {
		t.Errorf("sealed args: %s", v)
	}
	if v := call(t, inst, "env"); len(v.Elems()) != 0 {
		t.Errorf("sealed env: %s", v)
	}
	if v := call(t, inst, "print", String("into the void")); v.U32() != 0 {
		t.Errorf("sealed print: %s", v)
	}

	// A configured context.
	var out bytes.Buffer
	s2, err := e.NewStore(StoreOptions{WASI: &WASIConfig{
		Args:   []string{"prog", "a b", "ünï"},
		Env:    [][2]string{{"K", "V"}, {"EMPTY", ""}},
		Stdout: &out,
	}})
	must(t, err)
	defer s2.Close()
	inst2, err := l.Instantiate(s2, c)
	must(t, err)
	want := List(String("prog"), String("a b"), String("ünï"))
	if v := call(t, inst2, "args"); !Equal(v, want) {
		t.Errorf("args: %s", v)
	}
	want = List(Tuple(String("K"), String("V")), Tuple(String("EMPTY"), String("")))
	if v := call(t, inst2, "env"); !Equal(v, want) {
		t.Errorf("env: %s", v)
	}
	for _, line := range []string{"hello\n", "wörld\n"} {
		if v := call(t, inst2, "print", String(line)); v.U32() != 0 {
			t.Errorf("print: %s", v)
		}
	}
	if out.String() != "hello\nwörld\n" {
		t.Errorf("stdout: %q", out.String())
	}
	// The first store's sealed context is unaffected.
	if v := call(t, inst, "args"); len(v.Elems()) != 0 {
		t.Errorf("sealed args after: %s", v)
	}

	// Without WASI in the linker, the WASI imports are unknown, by name.
	_, err = e.NewLinker().Instantiate(s, c)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Missing) != 4 || ie.Missing[0] != "wasi:cli/environment@0.2.0" {
		t.Fatalf("without WASI: %v", err)
	}
	// Invalid UTF-8 in the configuration is refused.
	if _, err := e.NewStore(StoreOptions{WASI: &WASIConfig{Args: []string{"\xff"}}}); err == nil {
		t.Fatal("invalid UTF-8 argument accepted")
	}
	if _, err := e.NewStore(StoreOptions{WASI: &WASIConfig{Dirs: []PreopenDir{{HostPath: "/does/not/exist", GuestPath: "/x"}}}}); err == nil {
		t.Fatal("missing preopen directory accepted")
	}
}

// badWASIConfigs are configurations the C API would misread (a NUL cuts a
// string short; '=' in a name splits it elsewhere) or refuse.
var badWASIConfigs = []struct {
	name, err string
	w         *WASIConfig
}{
	{"NUL in argument", "contains a NUL byte", &WASIConfig{Args: []string{"a\x00b"}}},
	{"NUL in env name", "not a valid name=value pair", &WASIConfig{Env: [][2]string{{"K\x00", "V"}}}},
	{"NUL in env value", "not a valid name=value pair", &WASIConfig{Env: [][2]string{{"K", "V\x00W"}}}},
	{"= in env name", "not a valid name=value pair", &WASIConfig{Env: [][2]string{{"K=1", "V"}}}},
	{"empty env name", "not a valid name=value pair", &WASIConfig{Env: [][2]string{{"", "V"}}}},
	{"NUL in host dir", "contains a NUL byte", &WASIConfig{Dirs: []PreopenDir{{HostPath: "/tmp\x00", GuestPath: "/x"}}}},
	{"NUL in guest dir", "contains a NUL byte", &WASIConfig{Dirs: []PreopenDir{{HostPath: "/tmp", GuestPath: "/x\x00"}}}},
	{"invalid UTF-8 argument", "not valid UTF-8", &WASIConfig{Args: []string{"\xff"}}},
	{"invalid UTF-8 env value", "not valid UTF-8", &WASIConfig{Env: [][2]string{{"A", "\xff"}}}},
	{"missing directory", "cannot preopen", &WASIConfig{Dirs: []PreopenDir{{HostPath: "/does/not/exist", GuestPath: "/x"}}}},
}

// TestWASIConfigChecks: components (Store) and core modules (CoreGuard)
// build their WASI context with the same checks.
func TestWASIConfigChecks(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	for _, c := range badWASIConfigs {
		t.Run("store/"+c.name, func(t *testing.T) {
			s, err := e.NewStore(StoreOptions{WASI: c.w})
			if err == nil {
				s.Close()
				t.Fatalf("WASI config %+v accepted", c.w)
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q, want %q", err, c.err)
			}
		})
		t.Run("core/"+c.name, func(t *testing.T) {
			g := NewCoreGuard(wasmtime.NewStore(e.Wasmtime()))
			defer g.Close()
			err := g.SetWASI(c.w)
			if err == nil {
				t.Fatalf("WASI config %+v accepted", c.w)
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q, want %q", err, c.err)
			}
		})
	}
}

// unknownWAT imports functions and instances a linker may or may not define.
const unknownWAT = `(component
  (import "root-fn" (func $root (param "x" u32) (result u32)))
  (import "test:x/a" (instance $a
    (export "f" (func (result u32)))
    (export "g" (func (result u32)))))
  (import "test:x/b" (instance $b (export "h" (func))))
  (import "test:x/outer" (instance $outer
    (export "inner" (instance (export "deep" (func (result u32)))))))
  (alias export $outer "inner" (instance $inner))
  (core func $root (canon lower (func $root)))
  (core func $f (canon lower (func $a "f")))
  (core func $g (canon lower (func $a "g")))
  (core func $h (canon lower (func $b "h")))
  (core func $deep (canon lower (func $inner "deep")))
  (core module $M
    (import "i" "root" (func $root (param i32) (result i32)))
    (import "i" "f" (func $f (result i32)))
    (import "i" "g" (func $g (result i32)))
    (import "i" "h" (func $h))
    (import "i" "deep" (func $deep (result i32)))
    (func (export "sum") (result i32)
      (call $h)
      (i32.add (i32.add (call $root (i32.const 1)) (call $f)) (i32.add (call $g) (call $deep)))))
  (core instance $m (instantiate $M (with "i" (instance
    (export "root" (func $root)) (export "f" (func $f)) (export "g" (func $g))
    (export "h" (func $h)) (export "deep" (func $deep))))))
  (func (export "sum") (result u32) (canon lift (core func $m "sum")))
)`

func TestUnknownImportsByName(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, unknownWAT)
	ret := func(n uint32) HostFunc {
		return func(ctx context.Context, p, r []Val) error {
			if len(r) > 0 {
				r[0] = U32(n)
			}
			return nil
		}
	}
	l := e.NewLinker()
	must(t, l.Instance("test:x/a").DefineFunc("f", ret(10)))
	must(t, l.Instance("test:x/outer").Instance("inner").DefineFunc("other", ret(0)))
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	_, err = l.Instantiate(s, c)
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("want *ImportError, got %v", err)
	}
	want := "root-fn,test:x/a#g,test:x/b,test:x/outer#inner#deep"
	if got := strings.Join(ie.Missing, ","); got != want {
		t.Fatalf("missing %s, want %s", got, want)
	}
	if !strings.Contains(err.Error(), "test:x/a#g") {
		t.Fatalf("message: %v", err)
	}
	if l.CheckImports(c) == nil {
		t.Fatal("CheckImports found nothing")
	}

	l2 := e.NewLinker()
	must(t, l2.Root().DefineFunc("root-fn", func(ctx context.Context, p, r []Val) error {
		r[0] = U32(p[0].U32() * 1000)
		return nil
	}))
	must(t, l2.Instance("test:x/a").DefineFunc("f", ret(100)))
	must(t, l2.Instance("test:x/a").DefineFunc("g", ret(20)))
	must(t, l2.Instance("test:x/b").DefineFunc("h", ret(0)))
	must(t, l2.Instance("test:x/outer").Instance("inner").DefineFunc("deep", ret(3)))
	if err := l2.CheckImports(c); err != nil {
		t.Fatal(err)
	}
	inst, err := l2.Instantiate(s, c)
	must(t, err)
	if v := call(t, inst, "sum"); v.U32() != 1123 {
		t.Fatalf("sum = %s", v)
	}
	// The linker is sealed once used; duplicates are refused.
	if err := l2.Instance("test:x/b").DefineFunc("late", ret(0)); err == nil {
		t.Fatal("definition after instantiation accepted")
	}
	if err := e.NewLinker().Instance("a").DefineFunc("f", nil); err == nil {
		t.Fatal("nil function accepted")
	}
	l3 := e.NewLinker()
	must(t, l3.Root().DefineFunc("x", ret(0)))
	if err := l3.Root().DefineFunc("x", ret(0)); err == nil {
		t.Fatal("duplicate accepted")
	}
}

// A host function that returns what its type does not allow fails the call
// (a trap of kind TrapHost), never the process.
func TestHostResultErrors(t *testing.T) {
	e, c := kindsComponent(t)
	ctx := context.Background()
	cases := []struct {
		kind string
		ret  func(p []Val) Val
		want string
	}{
		{"string", func(p []Val) Val { return String("bad \xff utf-8") }, "invalid UTF-8"},
		{"char", func(p []Val) Val { return Char(0xd800) }, "not a Unicode scalar value"},
		{"u32", func(p []Val) Val { return String("not a number") }, ""},
		{"record", func(p []Val) Val { return Record([]string{"y", "x"}, []Val{S32(1), S32(2)}) }, ""},
		{"enum", func(p []Val) Val { return Enum("purple") }, ""},
		{"flags", func(p []Val) Val { return Flags("read", "fly") }, ""},
		{"variant", func(p []Val) Val { return Variant("circle") }, ""},
		{"option", func(p []Val) Val { return Val{} }, "did not set result"},
		{"list", func(p []Val) Val { return List(U32(1), String("x")) }, ""},
	}
	for _, tc := range cases {
		l := e.NewLinker()
		h := &kindsHost{got: map[string]Val{}, override: map[string]HostFunc{
			tc.kind: func(ctx context.Context, p, r []Val) error {
				r[0] = tc.ret(p)
				return nil
			},
		}}
		h.define(t, l)
		s, err := e.NewStore(StoreOptions{})
		must(t, err)
		inst, err := l.Instantiate(s, c)
		must(t, err)
		arg := map[string]Val{"string": String("x"), "char": Char('x'), "u32": U32(1),
			"record": Record([]string{"x", "y"}, []Val{S32(1), S32(2)}), "enum": Enum("red"),
			"flags": Flags(), "variant": Variant("none"), "option": None(), "list": List()}[tc.kind]
		f, _ := inst.Func("host-" + tc.kind)
		_, err = f.Call(ctx, arg)
		var trap *Trap
		if !errors.As(err, &trap) || trap.Kind != TrapHost || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.kind, err)
		}
		s.Close()
	}
}

// Arguments of the wrong number or type are refused before the guest runs,
// and the instance stays usable.
func TestArgumentErrors(t *testing.T) {
	inst, _ := newKinds(t)
	ctx := context.Background()
	point := func(names ...string) Val {
		vals := make([]Val, len(names))
		for i := range vals {
			vals[i] = S32(int32(i))
		}
		return Record(names, vals)
	}
	cases := []struct {
		fn   string
		args []Val
		want string
	}{
		{"u32-inc", nil, "takes 1 arguments, got 0"},
		{"u32-inc", []Val{U32(1), U32(2)}, "takes 1 arguments, got 2"},
		{"u32-inc", []Val{S32(1)}, "s32 value where u32 is expected"},
		{"u32-inc", []Val{{}}, "invalid zero Val"},
		{"str-len", []Val{String("a\xc0")}, "invalid UTF-8 at byte 1"},
		{"char-next", []Val{Char(0xdfff)}, "not a Unicode scalar value"},
		{"char-next", []Val{Char(0x110000)}, "not a Unicode scalar value"},
		{"list-sum", []Val{List(U32(1), U64(2))}, "list element 1: u64 value where u32 is expected"},
		{"point-swap", []Val{point("x")}, "record with 1 fields"},
		{"point-swap", []Val{point("y", "x")}, `record field 0 is "y", want "x"`},
		{"point-swap", []Val{Record([]string{"x", "y"}, []Val{S32(1), String("2")})}, "field y: string value"},
		{"tuple-second", []Val{Tuple(U8(1))}, "tuple of 1"},
		{"shape-scale", []Val{Variant("triangle")}, `"triangle" is not a case`},
		{"shape-scale", []Val{Variant("circle")}, "needs a payload"},
		{"shape-scale", []Val{VariantWith("none", U32(1))}, "has no payload"},
		{"shape-scale", []Val{VariantWith("square", F32(1))}, "case square: f32 value where u32"},
		{"color-next", []Val{Enum("purple")}, `"purple" is not a case`},
		{"perms-invert", []Val{Flags("read", "fly")}, `"fly" is not a flag`},
		{"option-double", []Val{Some(String("x"))}, "some: string value"},
		{"result-check", []Val{Ok(U32(1))}, "result value where u32"},
		{"host-result", []Val{OkEmpty()}, "needs a payload"},
		{"host-result", []Val{Err(U32(1))}, "err: u32 value where string"},
	}
	for _, c := range cases {
		f, err := inst.Func(c.fn)
		must(t, err)
		_, err = f.Call(ctx, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s%v: %v, want %q", c.fn, c.args, err, c.want)
		}
	}
	if inst.Trapped() != nil {
		t.Fatalf("refused arguments poisoned the instance: %v", inst.Trapped())
	}
	if v := call(t, inst, "u32-inc", U32(1)); v.U32() != 2 {
		t.Fatalf("after the refused calls: %s", v)
	}
	var ae *ArgumentError
	f, _ := inst.Func("str-len")
	if _, err := f.Call(ctx, String("\xff")); !errors.As(err, &ae) || ae.Param != "s" || ae.Func != "str-len" {
		t.Fatalf("ArgumentError: %v", err)
	}
	// Unknown exports and non-functions.
	if _, err := inst.Func("nope"); err == nil {
		t.Fatal("unknown export found")
	}
	if _, err := inst.Func("test:kinds/api", "nope"); err == nil {
		t.Fatal("unknown interface function found")
	}
	if _, err := inst.Func("test:kinds/api"); err == nil {
		t.Fatal("an interface was returned as a function")
	}
	if _, err := inst.Func(); err == nil {
		t.Fatal("empty path accepted")
	}
}

// Lookups of interface functions are cached per instance, and export
// indices per component, safely across goroutines.
func TestExportLookupCaching(t *testing.T) {
	inst, _ := newKinds(t)
	f1, err := inst.Func("test:kinds/api", "point-swap")
	must(t, err)
	f2, err := inst.Func("test:kinds/api", "point-swap")
	must(t, err)
	if f1 != f2 || f1.Name() != "test:kinds/api#point-swap" {
		t.Fatalf("not cached: %p %p %s", f1, f2, f1.Name())
	}
	if got := f1.Type().String(); got != "func(p: point) -> point" {
		t.Fatalf("type: %s", got)
	}
	_, c := kindsComponent(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if _, err := c.exportIndex([]string{"test:kinds/api", "color-next"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A component importing an interface that holds only types (as plugins
// import driftless:plugin/types) needs nothing from the host.
func TestTypesOnlyImport(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, `(component
  (type $point (record (field "x" u32) (field "y" u32)))
  (import "test:x/types" (instance $types
    (type $p (record (field "x" u32) (field "y" u32)))
    (export "point" (type (eq $p)))
    (type $e (enum "a" "b"))
    (export "kind" (type (eq $e)))))
  (core module $M (func (export "f") (result i32) (i32.const 7)))
  (core instance $m (instantiate $M))
  (func (export "f") (result u32) (canon lift (core func $m "f")))
)`)
	l := e.NewLinker()
	if err := l.CheckImports(c); err != nil {
		t.Fatalf("types-only import reported: %v", err)
	}
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	must(t, err)
	if v := call(t, inst, "f"); v.U32() != 7 {
		t.Fatalf("f = %s", v)
	}
}

// An interface that uses another's resource (`use a.{r}`) imports it again
// as the same type: the host defines it once, where it is declared.
func TestImportedResourceUsedElsewhere(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, `(component
  (import "test:x/a" (instance $a
    (export "r" (type (sub resource)))))
  (alias export $a "r" (type $r))
  (import "test:x/b" (instance $b
    (alias outer 1 $r (type $ro))
    (export "r" (type (eq $ro)))))
  (core module $M (func (export "f") (result i32) (i32.const 7)))
  (core instance $m (instantiate $M))
  (func (export "f") (result u32) (canon lift (core func $m "f")))
)`)
	var ie *ImportError
	if err := e.NewLinker().CheckImports(c); !errors.As(err, &ie) || strings.Join(ie.Missing, ",") != "test:x/a,test:x/b" {
		t.Fatalf("undefined resource: got %v", err)
	}
	l := e.NewLinker()
	must(t, l.Instance("test:x/a").DefineResource("r", NewResourceType("r"), nil))
	if err := l.CheckImports(c); err != nil {
		t.Fatalf("resource defined where declared, reported: %v", err)
	}
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	must(t, err)
	if v := call(t, inst, "f"); v.U32() != 7 {
		t.Fatalf("f = %s", v)
	}
}
