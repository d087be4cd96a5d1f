package bindings

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// collected reports whether h stops being a live handle after garbage
// collections. Cleanups run one at a time on their own goroutine, behind
// those of every store earlier tests dropped; under valgrind on a busy
// machine that queue took more than five seconds, so the wait is long and
// ends as soon as the handle goes.
func collected(h handle) bool {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		if h.value() == nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// A store nobody holds any more is closed by the garbage collector: its
// handle goes, and with it what C code could reach. Close stays the way to
// free it promptly; this is the safety net.
func TestStoreCollectedWithoutClose(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	defer e.Close()
	c := compileWAT(t, e, smokeWAT)
	l := e.NewLinker()
	must(t, l.Instance("test:host/env").DefineFunc("twice", func(ctx context.Context, p, r []Val) error {
		r[0] = U32(p[0].U32() * 2)
		return nil
	}))
	h := func() handle {
		s, err := e.NewStore(StoreOptions{})
		must(t, err)
		inst, err := l.Instantiate(s, c)
		must(t, err)
		f, err := inst.Func("call-twice")
		must(t, err)
		if v, err := f.Call(context.Background(), U32(4)); err != nil || v.U32() != 8 {
			t.Fatalf("call-twice: %v %v", v, err)
		}
		if _, err := s.NewResource(NewResourceType("x"), 7); err != nil {
			t.Fatal(err)
		}
		return s.handle
	}()
	if h.value() == nil {
		t.Fatal("live store has no handle")
	}
	if !collected(h) {
		t.Fatal("an unreachable store was not closed")
	}
}

// Whatever belongs to a store keeps it: a function, an instance or a
// resource held alone keeps the store open and usable.
func TestStoreKeptByItsObjects(t *testing.T) {
	inst, h := newResources(t)
	ctx := context.Background()
	ctor, _ := inst.Func("[constructor]counter")
	v, err := ctor.Call(ctx, U32(1))
	must(t, err)
	res := v.Resource()
	incr, _ := inst.Func("[method]counter.incr")
	blob, err := inst.Store().NewResource(h.blobT, 3)
	must(t, err)
	sh := inst.Store().handle
	inst, ctor = nil, nil
	for range 3 {
		runtime.GC()
	}
	if sh.value() == nil {
		t.Fatal("the store was closed while its function and resources were held")
	}
	if got, err := incr.Call(ctx, ResourceVal(res)); err != nil || got.U32() != 2 {
		t.Fatalf("incr: %v %v", got, err)
	}
	if !blob.Live() || res.store != incr.store {
		t.Fatal("resources lost their store")
	}
	incr.store.Close()
	if sh.value() != nil {
		t.Fatal("Close left the handle")
	}
}

// A stale store handle, as C code could hold after the store is gone, finds
// nothing: not the store that took over its slot.
func TestStoreStaleHandle(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	a, err := e.NewStore(StoreOptions{})
	must(t, err)
	old := a.handle
	a.Close()
	var b *Store
	for range 100 { // the slot is reused soon; it may not be the very next
		b, err = e.NewStore(StoreOptions{})
		must(t, err)
		defer b.Close()
		if b.handle.slot() == old.slot() {
			break
		}
	}
	if b.handle.slot() != old.slot() {
		t.Skip("the old slot was not reused")
	}
	if v := old.value(); v != nil {
		t.Fatalf("stale handle %#x reaches %p", uint64(old), v)
	}
	if b.handle.value() != b.storeState {
		t.Fatal("the new store's handle does not reach it")
	}
}
