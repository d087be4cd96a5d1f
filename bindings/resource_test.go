package bindings

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// resourceWAT defines a guest resource, counter (its state is an i32 cell in
// linear memory; the rep is the cell's address; its destructor reports the
// rep to the host import "dropped"), and uses a host resource, blob, that the
// host defines.
const resourceWAT = `(component
  (import "test:res/host" (instance $host
    (export "blob" (type $blob (sub resource)))
    (export "make-blob" (func (param "n" u32) (result (own $blob))))
    (export "[method]blob.size" (func (param "self" (borrow $blob)) (result u32)))
    (export "consume-blob" (func (param "b" (own $blob)) (result u32)))
    (export "dropped" (func (param "rep" u32)))))
  (alias export $host "blob" (type $blob))

  (core module $Libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "cell") (param $v i32) (result i32) (local $p i32)
      (local.set $p (global.get $heap))
      (global.set $heap (i32.add (global.get $heap) (i32.const 4)))
      (i32.store (local.get $p) (local.get $v))
      (local.get $p)))
  (core instance $libc (instantiate $Libc))

  (core func $dropped (canon lower (func $host "dropped")))
  (core module $Dtor
    (import "host" "dropped" (func $dropped (param i32)))
    (func (export "dtor") (param i32) (call $dropped (local.get 0))))
  (core instance $dtor (instantiate $Dtor (with "host" (instance (export "dropped" (func $dropped))))))

  (type $counter (resource (rep i32) (dtor (func $dtor "dtor"))))
  (export $counter-x "counter" (type $counter))
  (core func $counter-new (canon resource.new $counter))
  (core func $counter-rep (canon resource.rep $counter))
  (core func $counter-drop (canon resource.drop $counter))
  (core func $blob-drop (canon resource.drop $blob))
  (core func $make-blob (canon lower (func $host "make-blob")))
  (core func $blob-size (canon lower (func $host "[method]blob.size")))
  (core func $consume-blob (canon lower (func $host "consume-blob")))

  (core module $Main
    (import "libc" "memory" (memory 1))
    (import "libc" "cell" (func $cell (param i32) (result i32)))
    (import "res" "counter-new" (func $counter-new (param i32) (result i32)))
    (import "res" "counter-rep" (func $counter-rep (param i32) (result i32)))
    (import "res" "counter-drop" (func $counter-drop (param i32)))
    (import "res" "blob-drop" (func $blob-drop (param i32)))
    (import "host" "make-blob" (func $make-blob (param i32) (result i32)))
    (import "host" "blob-size" (func $blob-size (param i32) (result i32)))
    (import "host" "consume-blob" (func $consume-blob (param i32) (result i32)))
    (func (export "counter-ctor") (param i32) (result i32)
      (call $counter-new (call $cell (local.get 0))))
    ;; A borrow of the component's own resource arrives as the rep.
    (func (export "counter-incr") (param $rep i32) (result i32)
      (i32.store (local.get $rep) (i32.add (i32.load (local.get $rep)) (i32.const 1)))
      (i32.load (local.get $rep)))
    ;; An own arrives as a handle: read the value, then drop it.
    (func (export "counter-consume") (param $h i32) (result i32) (local $v i32)
      (local.set $v (i32.load (call $counter-rep (local.get $h))))
      (call $counter-drop (local.get $h))
      (local.get $v))
    (func (export "blob-roundtrip") (param i32) (result i32) (local.get 0))
    (func (export "blob-drop") (param i32) (call $blob-drop (local.get 0)))
    (func (export "blob-make") (param i32) (result i32) (call $make-blob (local.get 0)))
    ;; A borrow of an imported resource arrives as a handle the callee
    ;; must drop before it returns.
    (func (export "blob-size-via-host") (param $h i32) (result i32) (local $n i32)
      (local.set $n (call $blob-size (local.get $h)))
      (call $blob-drop (local.get $h))
      (local.get $n))
    ;; Forgets to drop its borrow: the canonical ABI makes that an error.
    (func (export "blob-size-leaky") (param $h i32) (result i32) (call $blob-size (local.get $h)))
    (func (export "blob-give-host") (param i32) (result i32) (call $consume-blob (local.get 0))))
  (core instance $main (instantiate $Main
    (with "libc" (instance $libc))
    (with "res" (instance
      (export "counter-new" (func $counter-new)) (export "counter-rep" (func $counter-rep))
      (export "counter-drop" (func $counter-drop)) (export "blob-drop" (func $blob-drop))))
    (with "host" (instance
      (export "make-blob" (func $make-blob)) (export "blob-size" (func $blob-size))
      (export "consume-blob" (func $consume-blob))))))

  (func (export "[constructor]counter") (param "start" u32) (result (own $counter-x))
    (canon lift (core func $main "counter-ctor")))
  (func (export "[method]counter.incr") (param "self" (borrow $counter-x)) (result u32)
    (canon lift (core func $main "counter-incr")))
  (func (export "[static]counter.consume") (param "c" (own $counter-x)) (result u32)
    (canon lift (core func $main "counter-consume")))
  (func (export "blob-roundtrip") (param "b" (own $blob)) (result (own $blob))
    (canon lift (core func $main "blob-roundtrip")))
  (func (export "blob-drop") (param "b" (own $blob)) (canon lift (core func $main "blob-drop")))
  (func (export "blob-make") (param "n" u32) (result (own $blob)) (canon lift (core func $main "blob-make")))
  (func (export "blob-size-via-host") (param "b" (borrow $blob)) (result u32)
    (canon lift (core func $main "blob-size-via-host")))
  (func (export "blob-size-leaky") (param "b" (borrow $blob)) (result u32)
    (canon lift (core func $main "blob-size-leaky")))
  (func (export "blob-give-host") (param "b" (own $blob)) (result u32)
    (canon lift (core func $main "blob-give-host")))
)`

type resourceHost struct {
	blobT       *ResourceType
	sizes       map[uint32]uint32
	guestDrops  []uint32 // reps the counter destructor reported
	hostDrops   []uint32 // reps of blobs the host destructor saw
	sizeBorrows []bool   // Owned() of the handles blob.size received
	onSize      func(*Resource)
	skipRep     bool
}

func newResources(t *testing.T) (*Instance, *resourceHost) {
	t.Helper()
	e, err := NewEngine(EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := wasmtime.Wat2Wasm(resourceWAT)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	h := &resourceHost{blobT: NewResourceType("blob"), sizes: map[uint32]uint32{}}
	l := e.NewLinker()
	host := l.Instance("test:res/host")
	must(t, host.DefineResource("blob", h.blobT, func(ctx context.Context, rep uint32) error {
		h.hostDrops = append(h.hostDrops, rep)
		return nil
	}))
	must(t, host.DefineFunc("make-blob", func(ctx context.Context, p, r []Val) error {
		rep := 1000 + p[0].U32()
		h.sizes[rep] = p[0].U32()
		res, err := StoreFromContext(ctx).NewResource(h.blobT, rep)
		if err != nil {
			return err
		}
		r[0] = ResourceVal(res)
		return nil
	}))
	must(t, host.DefineFunc("[method]blob.size", func(ctx context.Context, p, r []Val) error {
		res := p[0].Resource()
		h.sizeBorrows = append(h.sizeBorrows, res.Owned())
		if h.onSize != nil {
			h.onSize(res)
		}
		if h.skipRep {
			r[0] = U32(0)
			return nil
		}
		rep, ty, err := res.HostRep()
		if err != nil {
			return err
		}
		if ty != h.blobT {
			return errors.New("blob.size got a resource of another type")
		}
		res.Close()
		r[0] = U32(h.sizes[rep])
		return nil
	}))
	must(t, host.DefineFunc("consume-blob", func(ctx context.Context, p, r []Val) error {
		res := p[0].Resource()
		rep, _, err := res.HostRep()
		if err != nil {
			return err
		}
		// Dropping an own handle from inside a host function runs the
		// host destructor right away.
		if err := res.Drop(ctx); err != nil {
			return err
		}
		r[0] = U32(rep)
		return nil
	}))
	must(t, host.DefineFunc("dropped", func(ctx context.Context, p, r []Val) error {
		h.guestDrops = append(h.guestDrops, p[0].U32())
		return nil
	}))
	s, err := e.NewStore(StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	inst, err := l.Instantiate(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return inst, h
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGuestResource(t *testing.T) {
	inst, h := newResources(t)
	ctx := context.Background()
	ctor, err := inst.Func("[constructor]counter")
	must(t, err)
	incr, _ := inst.Func("[method]counter.incr")
	consume, _ := inst.Func("[static]counter.consume")

	v, err := ctor.Call(ctx, U32(5))
	must(t, err)
	c := v.Resource()
	if !c.Owned() || !c.Live() {
		t.Fatalf("constructor returned %s", c)
	}
	if _, _, err := c.HostRep(); err == nil {
		t.Fatal("HostRep of a guest resource succeeded")
	}
	for want := uint32(6); want <= 8; want++ {
		got, err := incr.Call(ctx, ResourceVal(c))
		must(t, err)
		if got.U32() != want {
			t.Fatalf("incr = %d, want %d", got.U32(), want)
		}
	}
	if !c.Live() {
		t.Fatal("passing a borrow consumed the handle")
	}
	// An own parameter moves the handle into the guest, which drops it: its
	// destructor runs and reports the rep.
	got, err := consume.Call(ctx, ResourceVal(c))
	must(t, err)
	if got.U32() != 8 || len(h.guestDrops) != 1 {
		t.Fatalf("consume = %d, destructor calls %v", got.U32(), h.guestDrops)
	}
	if c.Live() || !strings.Contains(c.String(), "moved") {
		t.Fatalf("after an own parameter the handle is %s", c)
	}
	if _, err := incr.Call(ctx, ResourceVal(c)); err == nil || !strings.Contains(err.Error(), "cannot be used") {
		t.Fatalf("using a moved handle: %v", err)
	}

	// Drop from the host runs the guest destructor.
	v, err = ctor.Call(ctx, U32(1))
	must(t, err)
	c2 := v.Resource()
	must(t, c2.Drop(ctx))
	if len(h.guestDrops) != 2 || h.guestDrops[1] == h.guestDrops[0] {
		t.Fatalf("destructor calls after Drop: %v", h.guestDrops)
	}
	if err := c2.Drop(ctx); !errors.Is(err, errResourceGone) {
		t.Fatalf("second Drop: %v", err)
	}
	// Close abandons a handle without running the destructor; the store
	// reclaims the resource when it closes.
	v, err = ctor.Call(ctx, U32(2))
	must(t, err)
	v.Resource().Close()
	if len(h.guestDrops) != 2 {
		t.Fatalf("Close ran the destructor: %v", h.guestDrops)
	}
}

func TestHostResource(t *testing.T) {
	inst, h := newResources(t)
	ctx := context.Background()
	s := inst.Store()

	// A host resource passed in as own and returned comes back with its rep.
	r, err := s.NewResource(h.blobT, 42)
	must(t, err)
	roundtrip, _ := inst.Func("blob-roundtrip")
	v, err := roundtrip.Call(ctx, ResourceVal(r))
	must(t, err)
	if r.Live() {
		t.Fatal("the own argument was not moved")
	}
	back := v.Resource()
	rep, ty, err := back.HostRep()
	must(t, err)
	if rep != 42 || ty != h.blobT || !back.Owned() {
		t.Fatalf("round trip gave rep %d type %v owned %v", rep, ty, back.Owned())
	}

	// A borrow parameter lends the handle; the host function sees a borrow.
	h.sizes[42] = 4242
	size, _ := inst.Func("blob-size-via-host")
	v, err = size.Call(ctx, ResourceVal(back))
	must(t, err)
	if v.U32() != 4242 || len(h.sizeBorrows) != 1 || h.sizeBorrows[0] {
		t.Fatalf("blob.size = %d, borrows seen %v", v.U32(), h.sizeBorrows)
	}
	if !back.Live() {
		t.Fatal("lending the handle consumed it")
	}

	// The guest dropping an owned host resource runs the host destructor.
	drop, _ := inst.Func("blob-drop")
	_, err = drop.Call(ctx, ResourceVal(back))
	must(t, err)
	if len(h.hostDrops) != 1 || h.hostDrops[0] != 42 {
		t.Fatalf("host destructor calls: %v", h.hostDrops)
	}

	// A host function creates a resource that travels through the guest.
	mk, _ := inst.Func("blob-make")
	v, err = mk.Call(ctx, U32(7))
	must(t, err)
	rep, _, err = v.Resource().HostRep()
	must(t, err)
	if rep != 1007 {
		t.Fatalf("blob-make rep %d", rep)
	}
	// The host dropping a host resource releases the handle; the host owns
	// the representation, so wasmtime runs no destructor (the destructor
	// given to DefineResource is for drops by guests).
	must(t, v.Resource().Drop(ctx))
	if len(h.hostDrops) != 1 {
		t.Fatalf("host destructor calls after a host-side Drop: %v", h.hostDrops)
	}

	// A host function receiving an own handle can drop it itself.
	r, err = s.NewResource(h.blobT, 9)
	must(t, err)
	give, _ := inst.Func("blob-give-host")
	v, err = give.Call(ctx, ResourceVal(r))
	must(t, err)
	if v.U32() != 9 || len(h.hostDrops) != 1 {
		t.Fatalf("consume-blob = %d, host destructor calls %v", v.U32(), h.hostDrops)
	}
	// A borrow works for a handle that came back from the guest too, and
	// HostRep of an own handle leaves it usable.
	r, err = s.NewResource(h.blobT, 5)
	must(t, err)
	v, err = roundtrip.Call(ctx, ResourceVal(r))
	must(t, err)
	back = v.Resource()
	if rep, _, err := back.HostRep(); err != nil || rep != 5 {
		t.Fatalf("HostRep: %d %v", rep, err)
	}
	h.sizes[5] = 55
	for range 3 {
		v, err = size.Call(ctx, ResourceVal(back))
		must(t, err)
		if v.U32() != 55 {
			t.Fatalf("blob.size = %d", v.U32())
		}
	}
	_, err = drop.Call(ctx, ResourceVal(back))
	must(t, err)
	if len(h.hostDrops) != 2 || h.hostDrops[1] != 5 {
		t.Fatalf("host destructor calls: %v", h.hostDrops)
	}
}

// A borrow a host function keeps past its return is dead: wasmtime forgets
// the borrow when the call returns and reuses its table slot.
func TestBorrowEndsWithHostCall(t *testing.T) {
	inst, h := newResources(t)
	ctx := context.Background()
	s := inst.Store()
	var kept *Resource
	h.onSize = func(r *Resource) { kept = r }
	r, err := s.NewResource(h.blobT, 1)
	must(t, err)
	size, _ := inst.Func("blob-size-via-host")
	_, err = size.Call(ctx, ResourceVal(r))
	must(t, err)
	if kept == nil || kept.Live() || kept.Owned() {
		t.Fatalf("kept borrow: %v", kept)
	}
	if err := kept.Drop(ctx); !errors.Is(err, errResourceGone) {
		t.Fatalf("Drop of an ended borrow: %v", err)
	}
	if _, err := size.Call(ctx, ResourceVal(kept)); err == nil {
		t.Fatal("an ended borrow was accepted as an argument")
	}
	// Its representation, read during the call, stays known.
	if rep, _, err := kept.HostRep(); err != nil || rep != 1 {
		t.Fatalf("HostRep of the ended borrow: %d %v", rep, err)
	}
	// A host function that neither reads nor closes its borrow is fine.
	h.onSize = func(r *Resource) {}
	h.skipRep = true
	_, err = size.Call(ctx, ResourceVal(r))
	must(t, err)
	if !r.Live() {
		t.Fatal("lending consumed the handle")
	}
}

// A guest that breaks the canonical ABI's borrow rules gets an error, and
// its instance is not entered again.
func TestGuestKeepsBorrow(t *testing.T) {
	inst, h := newResources(t)
	ctx := context.Background()
	r, err := inst.Store().NewResource(h.blobT, 3)
	must(t, err)
	leaky, _ := inst.Func("blob-size-leaky")
	_, err = leaky.Call(ctx, ResourceVal(r))
	if err == nil || !strings.Contains(err.Error(), "borrow handles still remain") {
		t.Fatalf("leaky borrow: %v", err)
	}
	ctor, _ := inst.Func("[constructor]counter")
	_, err = ctor.Call(ctx, U32(1))
	var ite *InstanceTrappedError
	if !errors.As(err, &ite) {
		t.Fatalf("call after the broken call: %v", err)
	}
}

// Own arguments of a call that failed inside wasmtime cannot be used again.
func TestOwnArgumentOfFailedCall(t *testing.T) {
	inst, h := newResources(t)
	ctx := context.Background()
	s := inst.Store()
	ctor, _ := inst.Func("[constructor]counter")
	v, err := ctor.Call(ctx, U32(1))
	must(t, err)
	consume, _ := inst.Func("[static]counter.consume")
	blob, err := s.NewResource(h.blobT, 1)
	must(t, err)
	// A blob where an own<counter> is expected: Go cannot tell resource
	// types apart, so wasmtime finds the mismatch while lowering, after it
	// marked the instance as entered.
	if _, err := consume.Call(ctx, ResourceVal(blob)); err == nil || !strings.Contains(err.Error(), "mismatched resource types") {
		t.Fatalf("blob accepted as counter: %v", err)
	}
	if blob.Live() {
		t.Fatal("own argument of a failed call is still usable")
	}
	// The instance is not called again. wasmtime 44 found the mismatch
	// before entering the guest, so the store is not poisoned: the
	// counter's destructor still runs.
	incr, _ := inst.Func("[method]counter.incr")
	var ite *InstanceTrappedError
	if _, err := incr.Call(ctx, v); !errors.As(err, &ite) {
		t.Fatalf("incr after the failed call: %v", err)
	}
	if s.Trapped() != nil {
		t.Fatalf("a lowering error poisoned the store: %v", s.Trapped())
	}
	if err := v.Resource().Drop(ctx); err != nil {
		t.Fatalf("Drop after the failed call: %v", err)
	}
}

func TestResourceMisuse(t *testing.T) {
	inst, h := newResources(t)
	ctx := context.Background()
	s := inst.Store()
	incr, _ := inst.Func("[method]counter.incr")

	// A host blob where a guest counter is expected: an error, not a crash.
	r, err := s.NewResource(h.blobT, 1)
	must(t, err)
	if _, err := incr.Call(ctx, ResourceVal(r)); err == nil {
		t.Fatal("a blob was accepted as a counter")
	} else {
		t.Logf("blob as counter: %v", err)
	}
	// The failed call did not move the handle.
	if !r.Live() {
		t.Fatal("a failed call consumed the handle")
	}
	// A handle of another store is refused before wasmtime sees it.
	other, err := s.Engine().NewStore(StoreOptions{})
	must(t, err)
	defer other.Close()
	r2, err := other.NewResource(h.blobT, 2)
	must(t, err)
	roundtrip, _ := inst.Func("blob-roundtrip")
	if _, err := roundtrip.Call(ctx, ResourceVal(r2)); err == nil || !strings.Contains(err.Error(), "another store") {
		t.Fatalf("foreign handle: %v", err)
	}
	// A nil resource and a closed one are refused too.
	if _, err := roundtrip.Call(ctx, ResourceVal(nil)); err == nil {
		t.Fatal("nil resource accepted")
	}
	r.Close()
	if _, err := roundtrip.Call(ctx, ResourceVal(r)); err == nil {
		t.Fatal("closed resource accepted")
	}
	// A resource where a u32 is expected.
	ctor, _ := inst.Func("[constructor]counter")
	r3, err := s.NewResource(h.blobT, 3)
	must(t, err)
	if _, err := ctor.Call(ctx, ResourceVal(r3)); err == nil {
		t.Fatal("resource accepted as u32")
	}
}
