package bindings

import (
	"sync"
	"testing"
)

func TestHandles(t *testing.T) {
	a, b := newHandle("a"), newHandle(42)
	if a == 0 || b == 0 || a == b {
		t.Fatalf("handles %d and %d", a, b)
	}
	if a.value() != "a" || b.value() != 42 {
		t.Fatalf("values %v and %v", a.value(), b.value())
	}
	a.delete()
	a.delete() // twice: nothing
	if a.value() != nil {
		t.Fatalf("deleted handle has value %v", a.value())
	}
	for _, h := range []handle{0, handle(handleMaxSlot), 1 << 40, handle(a.slot())} {
		if h.value() != nil {
			t.Fatalf("%#x is not a handle but has a value", uint64(h))
		}
		h.delete()
	}
	c := newHandle("c") // reuses a's slot, under a new generation
	if c.slot() != a.slot() || c == a || c.value() != "c" || b.value() != 42 {
		t.Fatalf("after reuse: %#x=%v, %#x=%v", uint64(c), c.value(), uint64(b), b.value())
	}
	// The stale handle finds nothing, and deleting it spares the new one.
	if a.value() != nil {
		t.Fatalf("stale handle %#x reads %v", uint64(a), a.value())
	}
	a.delete()
	if c.value() != "c" {
		t.Fatal("deleting a stale handle deleted its slot's new handle")
	}
	b.delete()
	c.delete()
}

// Many goroutines making, reading and deleting handles: each sees its own
// value, and no stale handle of another goroutine's reads it (run under
// -race by make test).
func TestHandlesConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stale []handle
			for i := range 3000 {
				v := [2]int{g, i}
				h := newHandle(v)
				if got, ok := h.value().([2]int); !ok || got != v {
					t.Errorf("handle %#x: %v, want %v", uint64(h), h.value(), v)
					return
				}
				h.delete()
				stale = append(stale, h)
			}
			for _, h := range stale {
				if v := h.value(); v != nil {
					t.Errorf("stale handle %#x reads %v", uint64(h), v)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkHandleValue(b *testing.B) {
	h := newHandle(&storeState{})
	defer h.delete()
	for b.Loop() {
		if _, ok := h.value().(*storeState); !ok {
			b.Fatal("lost")
		}
	}
}
