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
	if handle(0).value() != nil || handle(handleMaxPages*handlePageSize).value() != nil || handle(1<<40).value() != nil {
		t.Fatal("a number that is not a handle has a value")
	}
	handle(1 << 40).delete()
	c := newHandle("c") // reuses a's number
	if c != a || c.value() != "c" || b.value() != 42 {
		t.Fatalf("after reuse: %d=%v, %d=%v", c, c.value(), b, b.value())
	}
	b.delete()
	c.delete()
}

// Many goroutines making, reading and deleting handles: each sees its own
// value (run under -race by make test).
func TestHandlesConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				v := [2]int{g, i}
				h := newHandle(v)
				if got, ok := h.value().([2]int); !ok || got != v {
					t.Errorf("handle %d: %v, want %v", h, h.value(), v)
					return
				}
				h.delete()
			}
		}()
	}
	wg.Wait()
}

func BenchmarkHandleValue(b *testing.B) {
	h := newHandle(&Store{})
	defer h.delete()
	for b.Loop() {
		if _, ok := h.value().(*Store); !ok {
			b.Fatal("lost")
		}
	}
}
