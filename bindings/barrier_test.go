package bindings

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// The arena's C memory is reused without being zeroed, so what a value
// is written over can be anything, including bytes that look like an
// address in the Go heap. Had the C mirrors kept addresses in pointer-typed
// fields, each write would run Go's write barrier, which reads the old
// contents as a pointer while the collector marks, and the process would
// abort with "found bad pointer in Go heap" (a host test did so about once
// in twenty runs). This fills the arena with the address of a freed Go
// object and writes values over it while the collector runs non-stop.
func TestArenaGarbageIsNotAPointer(t *testing.T) {
	env := benchSetup(t)
	s, err := env.engine.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	inst, err := env.linker.Instantiate(s, env.ident)
	must(t, err)
	f, err := inst.Func("id-a")
	must(t, err)

	// An address inside a large object that the collector has freed: its
	// span is no longer in use.
	big := make([]byte, 1<<20)
	stale := uintptr(unsafe.Pointer(&big[4096]))
	big = nil
	runtime.GC()
	runtime.GC()

	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			runtime.GC()
		}
	}()
	defer func() {
		stop.Store(true)
		<-done
	}()
	ctx := context.Background()
	deadline := time.Now().Add(time.Second)
	for i := 0; time.Now().Before(deadline) || i < 200; i++ {
		m := s.arena.mark()
		words := unsafe.Slice((*uintptr)(s.arena.alloc(64<<10)), (64<<10)/8)
		for j := range words {
			words[j] = stale
		}
		s.arena.release(m)
		got, err := f.Call(ctx, benchRecord)
		if err != nil || !Equal(got, benchRecord) {
			t.Fatalf("round %d: %v, %v", i, got, err)
		}
	}
}
