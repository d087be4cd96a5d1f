package main

// Behaviour tests: the bindings generated from testdata/corpus (checked in
// under internal/corpusgen) drive hand-written WAT components. The
// kitchen-sink component exports every function by calling the host's
// import of the same name, so each value goes Go → component → Go host →
// component → Go, through both the export and the import bindings.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusgen/witgen/corpus/importer"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusgen/witgen/corpus/kitchen"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusgen/witgen/corpus/kitchensink"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusgen/witgen/corpus/shared"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusgen/witgen/corpus/users"
)

// ---- the host side ----

// hostCounter is the host's implementation of resource counter.
type hostCounter struct {
	h *host
	n uint32
}

func (c *hostCounter) Add(ctx context.Context, n uint32) uint32 { c.n += n; return c.n }
func (c *hostCounter) Get(ctx context.Context) uint32           { return c.n }
func (c *hostCounter) Drop(ctx context.Context) {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	c.h.dropped = append(c.h.dropped, c.n)
}

type host struct {
	mu      sync.Mutex
	notes   []string
	dropped []uint32 // values of dropped host counters
	created int
}

func (h *host) counter(n uint32) *kitchen.Counter {
	h.mu.Lock()
	h.created++
	h.mu.Unlock()
	return kitchen.NewHostCounter(&hostCounter{h: h, n: n})
}

func value(c *kitchen.Counter) uint32 { return c.Host().(*hostCounter).n }

// kitchen.Imports: echo everything back.
func (h *host) EchoEverything(ctx context.Context, v kitchen.Everything) kitchen.Everything { return v }
func (h *host) EchoScalars(ctx context.Context, a bool, b int8, c uint16, d int64, e float32, f float64, g rune) struct {
	F0 bool
	F1 int8
	F2 uint16
	F3 int64
	F4 float32
	F5 float64
	F6 rune
} {
	return struct {
		F0 bool
		F1 int8
		F2 uint16
		F3 int64
		F4 float32
		F5 float64
		F6 rune
	}{a, b, c, d, e, f, g}
}
func (h *host) EchoShape(ctx context.Context, s shared.Shape) shared.Shape    { return s }
func (h *host) EchoFlags(ctx context.Context, p shared.Perms) shared.Perms    { return p }
func (h *host) EchoOption(ctx context.Context, o *shared.Point) *shared.Point { return o }
func (h *host) EchoList(ctx context.Context, l []shared.Pair) []shared.Pair   { return l }
func (h *host) Note(ctx context.Context, s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notes = append(h.notes, s)
}

func (h *host) Fallible(ctx context.Context, p shared.Point, fail bool) (shared.Point, error) {
	if fail {
		return shared.Point{}, &shared.Failure{Code: 7, Reason: "asked to fail"}
	}
	return shared.Point{X: p.Y, Y: p.X}, nil
}

var errBoom = errors.New("boom")

func (h *host) Check(ctx context.Context, code uint32) error {
	switch code {
	case 0:
		return nil
	case 1:
		return shared.ErrnoAgain
	case 2:
		return shared.ErrnoDenied
	}
	return errBoom // not an errno: traps
}

func (h *host) Solve(ctx context.Context, s string) (string, error) {
	switch s {
	case "":
		return "", shared.ProblemUnknown{}
	case "bad":
		return "", shared.ProblemInvalid{Value: "bad input"}
	}
	return s + "!", nil
}

func (h *host) Maybe(ctx context.Context, n uint32) (uint32, error) {
	if n == 0 {
		return 0, &kitchen.ResultError[string]{Value: "zero"}
	}
	return n * 2, nil
}

func (h *host) Bare(ctx context.Context, ok bool) error {
	if !ok {
		return &kitchen.ResultError[struct{}]{}
	}
	return nil
}

func (h *host) NewCounter(ctx context.Context, start uint32) *kitchen.Counter {
	return h.counter(start)
}
func (h *host) CounterMerge(ctx context.Context, a, b *kitchen.Counter) *kitchen.Counter {
	return h.counter(value(a) + value(b))
}

// users.Imports.
type usersHost struct{ h *host }

func (u usersHost) Sum(ctx context.Context, a, b *kitchen.Counter) uint32 { return value(a) + value(b) }
func (u usersHost) Make(ctx context.Context, n uint32) *kitchen.Counter   { return u.h.counter(n) }

// kitchensink.Functions.
type worldHost struct{}

func (worldHost) HostEcho(ctx context.Context, r kitchensink.WorldRec) kitchensink.WorldRec {
	r.Tags = append(r.Tags, "host")
	return r
}

// ---- fixtures ----

func compileWAT(t testing.TB, e *bindings.Engine, path string) *bindings.Component {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return compileWATText(t, e, string(src))
}

func compileWATText(t testing.TB, e *bindings.Engine, src string) *bindings.Component {
	t.Helper()
	wasm, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bindings.NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// kitchenSink compiles the component the corpus tests run: the WAT
// component, or the Go guest when guest_test.go runs them again.
var kitchenSink = func(t testing.TB, e *bindings.Engine) *bindings.Component {
	return compileWAT(t, e, filepath.Join("testdata", "corpus", "kitchen-sink.wat"))
}

func newKitchenSink(t testing.TB) (*kitchensink.Instance, *host, *bindings.Store) {
	t.Helper()
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	c := kitchenSink(t, e)
	h := &host{}
	l := e.NewLinker()
	if err := kitchensink.AddToLinker(l, kitchensink.Imports{Kitchen: h, Users: usersHost{h}, Functions: worldHost{}}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddWASIP2(); err != nil { // for the Go guest's runtime
		t.Fatal(err)
	}
	s, err := e.NewStore(bindings.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	inst, err := kitchensink.Instantiate(l, s, c)
	if err != nil {
		t.Fatal(err)
	}
	return inst, h, s
}

func ptr[T any](v T) *T { return &v }

func fullEverything() kitchen.Everything {
	return kitchen.Everything{
		B: true, S8v: -128, U8v: 255, S16v: -32768, U16v: 65535,
		S32v: math.MinInt32, U32v: math.MaxUint32, S64v: math.MinInt64, U64v: math.MaxUint64,
		F32v: -1.5, F64v: math.Pi, C: '𝄞',
		S: "héllo", T: "text", Lbl: "label",
		P:   shared.Point{X: -3, Y: 4},
		Col: shared.ColorGreen,
		Fl:  shared.PermsRead | shared.PermsExec,
		Sh:  shared.ShapeRect{Value: shared.Point{X: 1, Y: 2}},
		Tup: struct {
			F0 uint8
			F1 string
			F2 shared.Point
		}{F0: 9, F1: "nine", F2: shared.Point{X: 9, Y: 9}},
		Pr:     shared.Pair{F0: "pair", F1: 2},
		O:      ptr(uint32(42)),
		Oo:     ptr((*string)(nil)), // some(none)
		Mt:     ptr("maybe"),
		Bytes:  []uint8{0, 1, 254, 255},
		Pts:    []shared.Point{{X: 1}, {Y: 1}},
		Ws:     shared.Words{"a", "", "c"},
		Nested: [][]string{{"x"}, nil, {"y", "z"}},
		R: struct {
			OK    string
			Err   shared.Failure
			IsErr bool
		}{Err: shared.Failure{Code: 1, Reason: "r"}, IsErr: true},
		Ru: struct{ IsErr bool }{IsErr: false},
		Ro: struct {
			OK    uint32
			IsErr bool
		}{OK: 5},
		Rerr: struct {
			Err   string
			IsErr bool
		}{Err: "rerr", IsErr: true},
		Oc: shared.Outcome{OK: 77},
	}
}

// ---- tests ----

func TestCorpusEchoEverything(t *testing.T) {
	inst, _, _ := newKitchenSink(t)
	ctx := context.Background()
	want := fullEverything()
	got, err := inst.Kitchen.EchoEverything(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("echo-everything:\n got %+v\nwant %+v", got, want)
	}
	// Other cases of the options, results and variants.
	want.Oo = ptr(ptr("inner"))
	want.O, want.Mt = nil, nil
	want.Sh = shared.ShapeCircle{Value: -0.25}
	want.R.IsErr, want.R.OK, want.R.Err = false, "ok", shared.Failure{}
	want.Ru.IsErr, want.Ro.IsErr, want.Rerr = true, true, struct {
		Err   string
		IsErr bool
	}{}
	want.Oc = shared.Outcome{Err: "bad", IsErr: true}
	want.Ro.OK = 0
	want.Bytes, want.Pts, want.Ws, want.Nested = nil, nil, nil, nil // empty lists come back nil
	got, err = inst.Kitchen.EchoEverything(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("echo-everything:\n got %+v\nwant %+v", got, want)
	}
}

func TestCorpusScalarsShapesFlagsOptionsLists(t *testing.T) {
	inst, h, _ := newKitchenSink(t)
	ctx := context.Background()
	k := inst.Kitchen

	for _, c := range []struct {
		a bool
		b int8
		c uint16
		d int64
		e float32
		f float64
		g rune
	}{
		{true, -1, 1, -1, 0.5, -0.5, 'x'},
		{false, 127, 65535, math.MaxInt64, float32(math.Inf(1)), math.SmallestNonzeroFloat64, 0x10FFFF},
	} {
		got, err := k.EchoScalars(ctx, c.a, c.b, c.c, c.d, c.e, c.f, c.g)
		if err != nil {
			t.Fatal(err)
		}
		if got.F0 != c.a || got.F1 != c.b || got.F2 != c.c || got.F3 != c.d || got.F4 != c.e || got.F5 != c.f || got.F6 != c.g {
			t.Fatalf("echo-scalars %+v: %+v", c, got)
		}
	}
	nan, err := k.EchoScalars(ctx, false, 0, 0, 0, float32(math.NaN()), math.NaN(), 'a')
	if err != nil || !math.IsNaN(float64(nan.F4)) || !math.IsNaN(nan.F5) {
		t.Fatalf("NaN: %+v %v", nan, err)
	}

	for _, s := range []shared.Shape{shared.ShapeCircle{Value: 2}, shared.ShapeRect{Value: shared.Point{X: -1, Y: 1}}, shared.ShapeEmpty{}} {
		got, err := k.EchoShape(ctx, s)
		if err != nil || got != s {
			t.Fatalf("echo-shape %#v: %#v %v", s, got, err)
		}
	}
	// A nil variant is no value: an error, not a panic, and no trap.
	if _, err := k.EchoShape(ctx, nil); err == nil || !strings.Contains(err.Error(), "shared.Shape") {
		t.Fatalf("nil shape: %v", err)
	}

	for _, p := range []shared.Perms{0, shared.PermsRead, shared.PermsWrite | shared.PermsExec, shared.PermsRead | shared.PermsWrite | shared.PermsExec} {
		got, err := k.EchoFlags(ctx, p)
		if err != nil || got != p {
			t.Fatalf("echo-flags %v: %v %v", p, got, err)
		}
	}
	if s := (shared.PermsRead | shared.PermsExec).String(); s != "read|exec" {
		t.Fatalf("Perms.String: %q", s)
	}
	if _, err := k.EchoFlags(ctx, 1<<5); err == nil || !strings.Contains(err.Error(), "invalid shared.Perms") {
		t.Fatalf("undefined flag bits: %v", err)
	}
	if _, err := k.EchoShape(ctx, shared.ShapeEmpty{}); err != nil {
		t.Fatalf("the instance is still usable after conversion errors: %v", err)
	}

	if got, err := k.EchoOption(ctx, nil); err != nil || got != nil {
		t.Fatalf("echo-option none: %v %v", got, err)
	}
	if got, err := k.EchoOption(ctx, &shared.Point{X: 5, Y: 6}); err != nil || got == nil || *got != (shared.Point{X: 5, Y: 6}) {
		t.Fatalf("echo-option some: %v %v", got, err)
	}

	list := []shared.Pair{{F0: "a", F1: 1}, {F0: "ü", F1: math.MaxUint32}}
	if got, err := k.EchoList(ctx, list); err != nil || !reflect.DeepEqual(got, list) {
		t.Fatalf("echo-list: %v %v", got, err)
	}
	if got, err := k.EchoList(ctx, nil); err != nil || got != nil {
		t.Fatalf("echo-list empty: %v %v", got, err)
	}
	// Lists are written without Vals (bindings.Lowerer); what the C API
	// would abort on still fails the call, naming the parameter.
	var ae *bindings.ArgumentError
	if _, err := k.EchoList(ctx, []shared.Pair{{F0: "ok"}, {F0: "bad\xff"}}); !errors.As(err, &ae) || ae.Param != "l" {
		t.Fatalf("echo-list with invalid UTF-8: %v", err)
	}
	if got, err := k.EchoList(ctx, list); err != nil || !reflect.DeepEqual(got, list) {
		t.Fatalf("echo-list after a refused call: %v %v", got, err)
	}

	if err := k.Note(ctx, "noted"); err != nil {
		t.Fatal(err)
	}
	if len(h.notes) != 1 || h.notes[0] != "noted" {
		t.Fatalf("notes: %q", h.notes)
	}
	// Invalid UTF-8 never reaches wasmtime (whose C API would abort).
	if err := k.Note(ctx, "bad\xff"); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}

	rec := kitchensink.WorldRec{ID: 1 << 60, Tags: []string{"a", "b"}}
	got, err := inst.Echo(ctx, rec)
	if err != nil || got.ID != rec.ID || !reflect.DeepEqual(got.Tags, []string{"a", "b", "host"}) {
		t.Fatalf("world echo: %+v %v", got, err)
	}
}

func TestCorpusResults(t *testing.T) {
	inst, _, _ := newKitchenSink(t)
	ctx := context.Background()
	k := inst.Kitchen

	// result<point, failure>: the err case is a *shared.Failure.
	p, err := k.Fallible(ctx, shared.Point{X: 1, Y: 2}, false)
	if err != nil || p != (shared.Point{X: 2, Y: 1}) {
		t.Fatalf("fallible ok: %v %v", p, err)
	}
	_, err = k.Fallible(ctx, shared.Point{}, true)
	var failure *shared.Failure
	if !errors.As(err, &failure) || failure.Code != 7 || failure.Reason != "asked to fail" {
		t.Fatalf("fallible err: %v", err)
	}
	if err.Error() != `failure: code=7 reason="asked to fail"` {
		t.Fatalf("Failure.Error: %q", err.Error())
	}

	// result<_, errno>: the err case is the enum value.
	if err := k.Check(ctx, 0); err != nil {
		t.Fatal(err)
	}
	err = k.Check(ctx, 2)
	var errno shared.Errno
	if !errors.As(err, &errno) || errno != shared.ErrnoDenied || !errors.Is(err, shared.ErrnoDenied) {
		t.Fatalf("check: %v", err)
	}

	// result<string, problem>: the err case is the variant, itself an error.
	if s, err := k.Solve(ctx, "x"); err != nil || s != "x!" {
		t.Fatalf("solve: %q %v", s, err)
	}
	_, err = k.Solve(ctx, "bad")
	var problem shared.Problem
	if !errors.As(err, &problem) || problem != (shared.ProblemInvalid{Value: "bad input"}) {
		t.Fatalf("solve bad: %v", err)
	}
	_, err = k.Solve(ctx, "")
	if !errors.As(err, &problem) || problem != (shared.ProblemUnknown{}) {
		t.Fatalf("solve empty: %v", err)
	}

	// result<u32, string> and result: a *ResultError.
	if n, err := k.Maybe(ctx, 4); err != nil || n != 8 {
		t.Fatalf("maybe: %v %v", n, err)
	}
	_, err = k.Maybe(ctx, 0)
	var re *kitchen.ResultError[string]
	if !errors.As(err, &re) || re.Value != "zero" || re.Func != "witgen:corpus/kitchen@0.1.0#maybe" {
		t.Fatalf("maybe 0: %v", err)
	}
	if err := k.Bare(ctx, true); err != nil {
		t.Fatal(err)
	}
	var bare *kitchen.ResultError[struct{}]
	if err := k.Bare(ctx, false); !errors.As(err, &bare) {
		t.Fatalf("bare: %v", err)
	}

	// None of these is a trap. An error the host returns that is not the
	// function's error type traps, and the trap passes through unchanged.
	var trap *bindings.Trap
	if errors.As(err, &trap) {
		t.Fatalf("a result error is not a trap: %v", err)
	}
	err = k.Check(ctx, 3)
	if !errors.As(err, &trap) || !errors.Is(err, errBoom) || !errors.Is(err, bindings.ErrHostFunc) {
		t.Fatalf("host error: want a trap caused by errBoom, got %v", err)
	}
	var trapped *bindings.InstanceTrappedError
	if err := k.Check(ctx, 0); !errors.As(err, &trapped) {
		t.Fatalf("call after a trap: %v", err)
	}
}

func TestCorpusResources(t *testing.T) {
	inst, h, _ := newKitchenSink(t)
	ctx := context.Background()
	k := inst.Kitchen

	// The component's counters wrap host counters.
	c, err := k.NewCounter(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if c.Resource() == nil || c.Host() != nil {
		t.Fatal("an exported counter is a component resource")
	}
	if n, err := c.Add(ctx, 3); err != nil || n != 8 {
		t.Fatalf("add: %v %v", n, err)
	}
	d, err := k.NewCounter(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.CounterMerge(ctx, c, d) // static function, two borrows
	if err != nil {
		t.Fatal(err)
	}
	if n, err := m.Get(ctx); err != nil || n != 18 {
		t.Fatalf("merged: %v %v", n, err)
	}
	if h.created != 3 {
		t.Fatalf("host counters created: %d", h.created)
	}

	// Another interface using counter: borrows in, an own out.
	if n, err := inst.Users.Sum(ctx, c, d); err != nil || n != 18 {
		t.Fatalf("users.sum: %v %v", n, err)
	}
	made, err := inst.Users.Make(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := made.Get(ctx); err != nil || n != 42 {
		t.Fatalf("users.make: counter of %v %v", n, err)
	}

	// Dropping a component counter runs its destructor, which drops the
	// host counter: the host's Drop runs.
	for _, r := range []*kitchen.Counter{c, d, m, made} {
		if err := r.Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if want := []uint32{8, 10, 18, 42}; !reflect.DeepEqual(h.dropped, want) {
		t.Fatalf("host counters dropped: %v, want %v", h.dropped, want)
	}
	if _, err := c.Get(ctx); err == nil {
		t.Fatal("a dropped counter still answers")
	}
	// A nil handle is an error, not a panic.
	if _, err := k.CounterMerge(ctx, nil, nil); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Fatalf("nil counter: %v", err)
	}
	// Host values forward their methods.
	hv := h.counter(1)
	if n, err := hv.Add(ctx, 1); err != nil || n != 2 {
		t.Fatalf("host counter add: %v %v", n, err)
	}
}

// importerWAT implements world importer's export run by calling the
// method of the world-level (host) resource ticket it borrows.
const importerWAT = `(component
  (import "ticket" (type $ticket (sub resource)))
  (import "[method]ticket.number" (func $number (param "self" (borrow $ticket)) (result u32)))
  (core func $number (canon lower (func $number)))
  (core func $drop (canon resource.drop $ticket))
  (core module $m
    (import "" "number" (func $number (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "run") (param i32) (result i32)
      (local $n i32)
      (local.set $n (i32.add (call $number (local.get 0)) (i32.const 1000)))
      ;; A borrowed handle must be dropped before returning.
      (call $drop (local.get 0))
      (local.get $n)))
  (core instance $i (instantiate $m (with "" (instance
    (export "number" (func $number))
    (export "drop" (func $drop))))))
  (func (export "run") (param "t" (borrow $ticket)) (result u32) (canon lift (core func $i "run"))))`

type ticket struct {
	n       uint32
	dropped bool
}

func (t *ticket) Number(ctx context.Context) uint32 { return t.n }
func (t *ticket) Drop(ctx context.Context)          { t.dropped = true }

type importerHost struct{}

func (importerHost) Issue(ctx context.Context, n uint32) *importer.Ticket {
	return importer.NewHostTicket(&ticket{n: n})
}
func (importerHost) NewTicket(ctx context.Context, n uint32) *importer.Ticket {
	return importer.NewHostTicket(&ticket{n: n})
}

// TestCorpusHostResourceBorrow lends a host value to a component: a
// temporary handle for the call, dropped after it without running the
// value's Drop.
func TestCorpusHostResourceBorrow(t *testing.T) {
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := compileWATText(t, e, importerWAT)
	l := e.NewLinker()
	if err := importer.AddToLinker(l, importer.Imports{Functions: importerHost{}}); err != nil {
		t.Fatal(err)
	}
	s, err := e.NewStore(bindings.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inst, err := importer.Instantiate(l, s, c)
	if err != nil {
		t.Fatal(err)
	}
	tk := &ticket{n: 7}
	h := importer.NewHostTicket(tk)
	for range 3 {
		n, err := inst.Run(context.Background(), h)
		if err != nil || n != 1007 {
			t.Fatalf("run: %v %v", n, err)
		}
	}
	if tk.dropped {
		t.Fatal("lending a host value dropped it")
	}
}

// TestCorpusTypeChecks: a component whose functions do not have the types
// the bindings were generated for is refused, naming the function, before
// any call could misread a value.
func TestCorpusTypeChecks(t *testing.T) {
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l := e.NewLinker()
	if err := importer.AddToLinker(l, importer.Imports{Functions: importerHost{}}); err != nil {
		t.Fatal(err)
	}
	s, err := e.NewStore(bindings.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	wrongExport := compileWATText(t, e, `(component
  (core module $m (func (export "run") (param i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m))
  (func (export "run") (param "t" u32) (result u32) (canon lift (core func $i "run"))))`)
	_, err = importer.Instantiate(l, s, wrongExport)
	if err == nil || !strings.Contains(err.Error(), "function run has type (u32)->u32, but the bindings expect (borrow)->u32") {
		t.Fatalf("mistyped export: %v", err)
	}

	noExport := compileWATText(t, e, `(component)`)
	_, err = importer.Instantiate(l, s, noExport)
	if err == nil || !strings.Contains(err.Error(), "component does not export run") {
		t.Fatalf("missing export: %v", err)
	}

	wrongImport := compileWATText(t, e, `(component
  (import "issue" (func (param "n" string) (result u32))))`)
	_, err = importer.Instantiate(l, s, wrongImport)
	if err == nil || !strings.Contains(err.Error(), "function issue has type (string)->u32, but the bindings expect (u32)->own") {
		t.Fatalf("mistyped import: %v", err)
	}

	// Binding one interface of a component that lacks it names the
	// interface.
	inst, err := l.Instantiate(s, noExport)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.NewExports(inst); err == nil || !strings.Contains(err.Error(), users.InterfaceName) {
		t.Fatalf("missing interface: %v", err)
	}
}

// TestCorpusConcurrentStores runs instances in several stores at once: the
// host-resource tables are per store and shared by the goroutines.
func TestCorpusConcurrentStores(t *testing.T) {
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := kitchenSink(t, e)
	h := &host{}
	l := e.NewLinker()
	if err := kitchensink.AddToLinker(l, kitchensink.Imports{Kitchen: h, Users: usersHost{h}, Functions: worldHost{}}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddWASIP2(); err != nil { // for the Go guest's runtime
		t.Fatal(err)
	}
	const workers, rounds = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.NewStore(bindings.StoreOptions{})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			inst, err := kitchensink.Instantiate(l, s, c)
			if err != nil {
				errs <- err
				return
			}
			ctx := context.Background()
			for r := range rounds {
				base := uint32(w*1000 + r)
				a, err := inst.Kitchen.NewCounter(ctx, base)
				if err != nil {
					errs <- err
					return
				}
				b, err := inst.Users.Make(ctx, 1)
				if err != nil {
					errs <- err
					return
				}
				m, err := inst.Kitchen.CounterMerge(ctx, a, b)
				if err != nil {
					errs <- err
					return
				}
				if n, err := m.Get(ctx); err != nil || n != base+1 {
					errs <- fmt.Errorf("worker %d round %d: merged %v %v", w, r, n, err)
					return
				}
				for _, x := range []*kitchen.Counter{a, b, m} {
					if err := x.Drop(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.created != workers*rounds*3 || len(h.dropped) != h.created {
		t.Fatalf("created %d host counters, dropped %d", h.created, len(h.dropped))
	}
}

// FuzzCorpusRoundTrip sends arbitrary strings, bytes and numbers through
// echo-everything: they come back equal, or the call fails cleanly (invalid
// UTF-8, invalid chars) without trapping the instance.
func FuzzCorpusRoundTrip(f *testing.F) {
	f.Add("hello", []byte{1, 2, 3}, int64(-1), uint32(7), 1.5, int32('x'))
	f.Add("", []byte(nil), int64(math.MinInt64), uint32(math.MaxUint32), math.Inf(-1), int32(0x10FFFF))
	f.Add("bad\xff", []byte{0}, int64(0), uint32(0), math.NaN(), int32(0xD800))
	inst, _, _ := newKitchenSink(f)
	f.Fuzz(func(t *testing.T, s string, b []byte, n int64, u uint32, fl float64, c int32) {
		v := fullEverything()
		v.S, v.Bytes, v.S64v, v.U32v, v.F64v, v.C = s, b, n, u, fl, rune(c)
		v.Ws = []string{s, s}
		if len(b) == 0 {
			v.Bytes = nil
		}
		got, err := inst.Kitchen.EchoEverything(context.Background(), v)
		valid := utf8.ValidString(s) && utf8.ValidRune(rune(c))
		if !valid {
			if err == nil {
				t.Fatalf("invalid input accepted: %q %U", s, c)
			}
			var trap *bindings.Trap
			if errors.As(err, &trap) {
				t.Fatalf("invalid input trapped: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(got.F64v) != math.Float64bits(v.F64v) {
			t.Fatalf("f64 %v came back as %v", v.F64v, got.F64v)
		}
		got.F64v, v.F64v = 0, 0
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
		}
	})
}
