package bindings

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// directEnv is the identity component of lowerT and list<lowerT> with its
// host functions defined as HostFuncDirects.
func directEnv(t *testing.T, hostA, hostB HostFuncDirect) *Instance {
	return newDirectEnv(t, hostA, hostB).inst
}

func newDirectEnv(t *testing.T, hostA, hostB HostFuncDirect) *identityEnv {
	t.Helper()
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, identityWAT([]*Type{lowerT, {Kind: KindList, Elem: lowerT}}))
	l := e.NewLinker()
	must(t, l.Instance("test:fuzz/host").DefineFuncDirect("host-a", hostA))
	must(t, l.Instance("test:fuzz/host").DefineFuncDirect("host-b", hostB))
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	t.Cleanup(s.Close)
	inst, err := l.Instantiate(s, c)
	must(t, err)
	return &identityEnv{l, s, c, inst}
}

// Every kind a Reader reads and a Writer writes crosses a direct host
// function both ways: what the guest passed is what the host read, and
// what the host wrote is what the guest returns.
func TestHostFuncDirect(t *testing.T) {
	var seen []Val
	var store *Store
	one := func(ctx context.Context, c HostCall) error {
		if c.NumParams() != 1 || c.NumResults() != 1 {
			t.Errorf("%d params, %d results", c.NumParams(), c.NumResults())
		}
		store = StoreFromContext(ctx)
		seen = append(seen, readLowerVal(c.Param(0)))
		writeLowerVal(c.Result(0), 7)
		return nil
	}
	many := func(ctx context.Context, c HostCall) error {
		in := c.Param(0)
		out := c.Result(0).List(in.Len())
		for i := range in.Len() {
			seen = append(seen, readLowerVal(in.At(i)))
			writeLowerVal(out.At(i), i+10)
		}
		return nil
	}
	inst := directEnv(t, one, many)
	ctx := context.Background()
	viaA, err := inst.Func("via-host-a")
	must(t, err)
	got, err := viaA.Call(ctx, Lowered(KindRecord, lowerFunc(func(w Writer) { writeLowerVal(w, 3) })))
	must(t, err)
	if !Equal(got, lowerVal(7)) || len(seen) != 1 || !Equal(seen[0], lowerVal(3)) {
		t.Fatalf("via-host-a: got %s, the host saw %v", got, seen)
	}
	if store != inst.Store() {
		t.Error("StoreFromContext in a direct host function is not the call's store")
	}
	seen = nil
	viaB, err := inst.Func("via-host-b")
	must(t, err)
	got, err = viaB.Call(ctx, Lowered(KindList, lowerFunc(func(w Writer) {
		p := w.List(3)
		for i := range 3 {
			writeLowerVal(p.At(i), i)
		}
	})))
	must(t, err)
	if len(got.Elems()) != 3 || len(seen) != 3 {
		t.Fatalf("via-host-b: %d elements back, %d seen", len(got.Elems()), len(seen))
	}
	for i := range 3 {
		if !Equal(seen[i], lowerVal(i)) || !Equal(got.Elems()[i], lowerVal(i+10)) {
			t.Fatalf("element %d: seen %s, returned %s", i, seen[i], got.Elems()[i])
		}
	}
}

// What a direct host function gets wrong traps the guest with an error
// naming it, never crashes: a result left unwritten, invalid UTF-8, a
// Reader used for the wrong kind, a panic, its own error, a wrong kind
// written (wasmtime's to find).
func TestHostFuncDirectFailures(t *testing.T) {
	errMine := errors.New("mine")
	cases := []struct {
		name string
		fn   HostFuncDirect
		want string
		as   func(error) bool
	}{
		{"unwritten", func(context.Context, HostCall) error { return nil },
			"host function test:fuzz/host#host-a did not write result 0", nil},
		{"utf8", func(_ context.Context, c HostCall) error { c.Result(0).String("a\xff"); return nil },
			"host function test:fuzz/host#host-a result: string contains invalid UTF-8 at byte 1", nil},
		{"wrong-read", func(_ context.Context, c HostCall) error { _ = c.Param(0).String(); return nil },
			"string read from a record value", func(err error) bool { var hp *HostPanicError; return errors.As(err, &hp) }},
		{"panic", func(context.Context, HostCall) error { panic("host bug") },
			"host bug", func(err error) bool { var hp *HostPanicError; return errors.As(err, &hp) && hp.Value == "host bug" }},
		{"error", func(context.Context, HostCall) error { return errMine },
			"mine", func(err error) bool { return errors.Is(err, errMine) && errors.Is(err, ErrHostFunc) }},
		{"wrong-kind", func(_ context.Context, c HostCall) error { c.Result(0).U32(1); return nil },
			"", nil},
	}
	ok := func(_ context.Context, c HostCall) error {
		c.Result(0).List(0)
		return nil
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newDirectEnv(t, tc.fn, ok)
			via, err := env.inst.Func("via-host-a")
			must(t, err)
			_, err = via.Call(context.Background(), Lowered(KindRecord, lowerFunc(func(w Writer) { writeLowerVal(w, 1) })))
			var trap *Trap
			if tc.name == "wrong-kind" {
				if err == nil {
					t.Fatal("a u32 written for a record was accepted")
				}
			} else if !errors.As(err, &trap) || trap.Kind != TrapHost {
				t.Fatalf("%v (%T), want a host trap", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if tc.as != nil && !tc.as(err) {
				t.Errorf("error %v is not what was expected of its type", err)
			}
			// A failed host function traps the guest, which makes the store
			// unusable (wasmtime 44); the engine, linker and component go
			// on in a new store.
			if _, err := env.l.Instantiate(env.s, env.c); err == nil || env.s.Trapped() == nil {
				t.Fatalf("instantiate in the trapped store: %v", err)
			}
			s2, err := env.inst.Store().Engine().NewStore(StoreOptions{})
			must(t, err)
			defer s2.Close()
			inst2, err := env.l.Instantiate(s2, env.c)
			must(t, err)
			viaB, err := inst2.Func("via-host-b")
			must(t, err)
			if v, err := viaB.Call(context.Background(), List()); err != nil || len(v.Elems()) != 0 {
				t.Fatalf("after the failure: %v, %v", v, err)
			}
		})
	}
}

func TestDefineFuncDirectNil(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	l := e.NewLinker()
	if err := l.Instance("x").DefineFuncDirect("f", nil); err == nil {
		t.Error("a nil HostFuncDirect was accepted")
	}
	must(t, l.Instance("x").DefineFuncDirect("f", func(context.Context, HostCall) error { return nil }))
	if err := l.Instance("x").DefineFunc("f", func(context.Context, []Val, []Val) error { return nil }); err == nil {
		t.Error("a second definition of x#f was accepted")
	}
}
