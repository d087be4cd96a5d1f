package bindings

import (
	"sync"
	"sync/atomic"
)

// handle is a number C code holds for a Go value (a store's state, a host
// function's or resource's closure data, a core guard's state), as with
// runtime/cgo.Handle, which cannot be used because Go pointers may not be
// kept in C memory. Reading one is two atomic loads instead of
// cgo.Handle's sync.Map lookup: every host call reads two, and the lookups
// were ~4% of a host-callback round trip.
//
// The low 32 bits are a slot number, the high 32 bits the slot's
// generation: a slot is reused after its handle is deleted, under a new
// generation, so a stale handle (kept by C code past its deletion) finds
// nothing instead of another value. Handles point at inner state, never at
// what the package's users hold (a Store, a CoreGuard), so that those can
// be garbage collected while C code still has their handle.
type handle uintptr

// Handles need 64-bit addresses (as wasmtime does): this does not compile
// where uintptr is narrower.
const _ uintptr = 1 << 63

const (
	handlePageBits = 10
	handlePageSize = 1 << handlePageBits
	handleMaxPages = 1 << 14 // at most 16M live handles
	handleMaxSlot  = handleMaxPages * handlePageSize
)

type handlePage struct {
	boxes [handlePageSize]atomic.Pointer[handleBox]
	gens  [handlePageSize]uint32 // the generation of each slot's last handle (handles.mu)
}

type handleBox struct {
	v   any
	gen uint32
}

var handles struct {
	mu    sync.Mutex
	free  []uint32
	next  uint32 // slots start at 1: 0 is never a handle
	pages [handleMaxPages]atomic.Pointer[handlePage]
}

func (h handle) slot() uint32 { return uint32(h) }
func (h handle) gen() uint32  { return uint32(uint64(h) >> 32) }

// newHandle returns a handle for v.
func newHandle(v any) handle {
	handles.mu.Lock()
	defer handles.mu.Unlock()
	var slot uint32
	if n := len(handles.free); n > 0 {
		slot, handles.free = handles.free[n-1], handles.free[:n-1]
	} else {
		if handles.next+1 >= handleMaxSlot {
			panic("bindings: more than 16M live handles")
		}
		handles.next++
		slot = handles.next
	}
	p := &handles.pages[slot>>handlePageBits]
	page := p.Load()
	if page == nil {
		page = new(handlePage)
		p.Store(page)
	}
	i := slot & (handlePageSize - 1)
	page.gens[i]++
	gen := page.gens[i]
	page.boxes[i].Store(&handleBox{v: v, gen: gen})
	return handle(uint64(gen)<<32 | uint64(slot))
}

// box returns the live box of h, or nil when h is not a live handle (never
// made, deleted, or of an earlier generation of its slot).
func (h handle) box() *handleBox {
	slot := h.slot()
	if slot == 0 || slot >= handleMaxSlot {
		return nil
	}
	page := handles.pages[slot>>handlePageBits].Load()
	if page == nil {
		return nil
	}
	b := page.boxes[slot&(handlePageSize-1)].Load()
	if b == nil || b.gen != h.gen() {
		return nil
	}
	return b
}

// value returns the value of h, or nil when h is not a live handle.
func (h handle) value() any {
	if b := h.box(); b != nil {
		return b.v
	}
	return nil
}

// delete frees h; deleting a handle that is not live (a stale one
// included) does nothing.
func (h handle) delete() {
	slot := h.slot()
	if slot == 0 || slot >= handleMaxSlot {
		return
	}
	handles.mu.Lock()
	defer handles.mu.Unlock()
	page := handles.pages[slot>>handlePageBits].Load()
	if page == nil {
		return
	}
	box := &page.boxes[slot&(handlePageSize-1)]
	if b := box.Load(); b != nil && b.gen == h.gen() {
		box.Store(nil)
		handles.free = append(handles.free, slot)
	}
}
