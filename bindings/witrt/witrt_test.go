package witrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/bindings"
)

func newStore(t *testing.T, e *bindings.Engine) *bindings.Store {
	t.Helper()
	s, err := e.NewStore(bindings.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestHostTable(t *testing.T) {
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s1, s2 := newStore(t, e), newStore(t, e)
	type value struct{ n int }
	tab := NewHostTable[*value]("test#value")
	other := NewHostTable[*value]("test#other")
	v := &value{1}

	// Two owned handles to one value: the value is live until both go.
	a, err := tab.New(s1, v, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tab.New(s1, v, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tab.Lookup(s1, a); err != nil || got != v {
		t.Fatalf("lookup: %v %v", got, err)
	}
	if tab.Live(s1) != 2 || tab.Live(s2) != 0 {
		t.Fatalf("live: %d %d", tab.Live(s1), tab.Live(s2))
	}
	repA, _, _ := a.HostRep()
	repB, _, _ := b.HostRep()
	if repA == repB {
		t.Fatal("each handle gets its own rep")
	}
	if got, last := tab.Dropped(s1, repA); got != v || last {
		t.Fatalf("first drop: %v last=%v", got, last)
	}
	if got, last := tab.Dropped(s1, repB); got != v || !last {
		t.Fatalf("second drop: %v last=%v", got, last)
	}
	if _, err := tab.Lookup(s1, a); err == nil {
		t.Fatal("a dropped handle is still found")
	}

	// A handle given back to the host (Take) is forgotten without a drop.
	c, _ := tab.New(s2, v, false)
	if got, err := tab.Take(s2, c); err != nil || got != v || tab.Live(s2) != 0 {
		t.Fatalf("take: %v %v live=%d", got, err, tab.Live(s2))
	}

	// A temporary handle for a borrow: DropBorrow forgets it.
	d, _ := tab.New(s1, v, true)
	if tab.Live(s1) != 1 {
		t.Fatalf("borrow handle not recorded: %d", tab.Live(s1))
	}
	repD, _, _ := d.HostRep()
	if _, last := tab.Dropped(s1, repD); last {
		t.Fatal("dropping a borrow handle is never the last owned handle")
	}
	d2, _ := tab.New(s1, v, true)
	DropBorrow(context.Background(), s1, d2)
	if tab.Live(s1) != 0 {
		t.Fatalf("DropBorrow left %d handles", tab.Live(s1))
	}

	// A handle of another type is refused by name.
	f, _ := other.New(s1, v, false)
	if _, err := tab.Lookup(s1, f); err == nil || !strings.Contains(err.Error(), "test#other") {
		t.Fatalf("foreign handle: %v", err)
	}
	if _, err := tab.New(nil, v, false); err == nil {
		t.Fatal("a handle without a store")
	}
}

// The values behind host handles live in their store's ResourceTable: a
// store's handles are not another's, and the values go with the store.
func TestHostTableBelongsToStore(t *testing.T) {
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s1, s2 := newStore(t, e), newStore(t, e)
	type value struct{ n int }
	tab := NewHostTable[*value]("test#value")
	a, _ := tab.New(s1, &value{1}, false)
	b, _ := tab.New(s2, &value{2}, false)
	repA, _, _ := a.HostRep()
	repB, _, _ := b.HostRep()
	if repA != repB {
		t.Fatalf("each store numbers its own reps: %d and %d", repA, repB)
	}
	if v, err := tab.Lookup(s2, b); err != nil || v.n != 2 {
		t.Fatalf("s2: %v %v", v, err)
	}
	if s1.ResourceTable() == s2.ResourceTable() || s1.ResourceTable().Len(tab.Type) != 1 {
		t.Fatal("stores share a table")
	}
	s1.Close()
	if v, err := tab.Lookup(s2, b); err != nil || v.n != 2 {
		t.Fatalf("s2 after s1 closed: %v %v", v, err)
	}
}

// Generated code of a version outside [MinVersion, MaxVersion] does not
// compile: the checks it declares are negative constants.
func TestVersionBounds(t *testing.T) {
	if MinVersion > Version || MaxVersion != Version || MinVersion < 1 {
		t.Fatalf("versions: min %d, current %d, max %d", MinVersion, Version, MaxVersion)
	}
	// What generated code of the current version declares compiles here.
	const _ = EnforceVersion(Version - MinVersion)
	const _ = EnforceVersion(MaxVersion - Version)
}

func TestCatch(t *testing.T) {
	f := func(fail bool) (err error) {
		defer Catch(&err)
		if fail {
			panic(Faultf("bad value %d", 7))
		}
		return nil
	}
	if err := f(false); err != nil {
		t.Fatal(err)
	}
	err := f(true)
	var ce *ConversionError
	if !errors.As(err, &ce) || err.Error() != "bad value 7" {
		t.Fatalf("fault: %T %v", err, err)
	}
	// Fault keeps the error it is given: errors.Is finds it.
	sentinel := errors.New("sentinel")
	g := func() (err error) {
		defer Catch(&err)
		panic(Fault(sentinel))
	}
	if err := g(); !errors.Is(err, sentinel) || !errors.As(err, &ce) {
		t.Fatalf("Fault: %v", err)
	}
	// Other panics go on.
	defer func() {
		if r := recover(); r != "other" {
			t.Fatalf("recovered %v", r)
		}
	}()
	func() (err error) {
		defer Catch(&err)
		panic("other")
	}()
}

func TestSigAndExportFunc(t *testing.T) {
	wasm, err := wasmtime.Wat2Wasm(`(component
  (type $r (record (field "a" u32) (field "b" (list (option string)))))
  (type $v (variant (case "x" $r) (case "y")))
  (type $fl (flags "m" "n"))
  (type $en (enum "e"))
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 0))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64)))
  (core instance $i (instantiate $m))
  (func $f (param "p" $v) (param "q" (tuple s8 char)) (result (result $fl (error $en)))
    (canon lift (core func $i "f") (memory $i "memory") (realloc (func $i "realloc"))))
  (instance $x (export "r" (type $r)) (export "v" (type $v)) (export "fl" (type $fl)) (export "en" (type $en))
    (export "f" (func $f)))
  (export "t:t/x" (instance $x)))`)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err := bindings.NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	const want = "(variant{x(record{a:u32,b:list<option<string>>}),y},tuple<s8,char>)->result<flags{m,n},enum{e}>"
	if got := Sig(c.Type().Func("t:t/x", "f")); got != want {
		t.Fatalf("Sig:\n got %s\nwant %s", got, want)
	}
	inst, err := e.NewLinker().Instantiate(newStore(t, e), c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ExportFunc(inst, "t:t/x", "f", want); err != nil {
		t.Fatal(err)
	}
	_, err = ExportFunc(inst, "t:t/x", "f", "()")
	var te *TypeError
	if !errors.As(err, &te) || te.Func != "t:t/x#f" || te.Got != want {
		t.Fatalf("mistyped: %v", err)
	}
	var me *MissingExportError
	if _, err := ExportFunc(inst, "t:t/x", "g", "()"); !errors.As(err, &me) || me.Name != "t:t/x#g" {
		t.Fatalf("missing function: %v", err)
	}
	if _, err := ExportFunc(inst, "t:t/y", "f", "()"); !errors.As(err, &me) || me.Name != "t:t/y" {
		t.Fatalf("missing interface: %v", err)
	}
}

// Code generated for a version this witrt does not support fails to build.
func TestVersionEnforcedAtCompileTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages")
	}
	dir, err := os.MkdirTemp(".", "_versioncheck") // "_": away from ./... patterns
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, c := range []struct {
		v  int
		ok bool
	}{{Version, true}, {MaxVersion + 1, false}, {MinVersion - 1, false}} {
		src := fmt.Sprintf("package versioncheck\n\nimport \"github.com/driftless-dev/driftless/bindings/witrt\"\n\n"+
			"const _ = witrt.EnforceVersion(%d - witrt.MinVersion)\nconst _ = witrt.EnforceVersion(witrt.MaxVersion - %d)\n", c.v, c.v)
		if err := os.WriteFile(filepath.Join(dir, "v.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("go", "build", "-o", os.DevNull, "./"+dir).CombinedOutput()
		if (err == nil) != c.ok {
			t.Errorf("version %d: build error %v, want ok=%t\n%s", c.v, err, c.ok, out)
		}
		if !c.ok && !strings.Contains(string(out), "overflows") {
			t.Errorf("version %d: %s", c.v, out)
		}
	}
}
