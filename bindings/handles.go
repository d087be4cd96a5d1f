package bindings

import (
	"sync"
	"sync/atomic"
)

// handle is a number C code holds for a Go value (a store's data, a host
// function's or resource's closure data, a core guard's state), as with
// runtime/handle, which cannot be used because Go pointers may not be
// kept in C memory. Reading one is two atomic loads instead of handle's
// sync.Map lookup: every host call reads two, and the lookups were ~4% of a
// host-callback round trip.
//
// A deleted handle's number is reused: C code must not use a handle after
// it was deleted, which holds because handles are deleted only when
// wasmtime drops what holds them (dlGoFinalize) or after the store that
// holds them is deleted (Store.Close).
type handle uintptr

const (
	handlePageBits = 10
	handlePageSize = 1 << handlePageBits
	handleMaxPages = 1 << 14 // at most 16M live handles
)

type handlePage [handlePageSize]atomic.Pointer[handleBox]

type handleBox struct{ v any }

var handles struct {
	mu    sync.Mutex
	free  []handle
	next  handle // numbers start at 1: 0 is never a handle
	pages [handleMaxPages]atomic.Pointer[handlePage]
}

// newHandle returns a handle for v.
func newHandle(v any) handle {
	handles.mu.Lock()
	defer handles.mu.Unlock()
	var h handle
	if n := len(handles.free); n > 0 {
		h, handles.free = handles.free[n-1], handles.free[:n-1]
	} else {
		if handles.next+1 >= handleMaxPages*handlePageSize {
			panic("bindings: more than 16M live handles")
		}
		handles.next++
		h = handles.next
	}
	slot := &handles.pages[h>>handlePageBits]
	page := slot.Load()
	if page == nil {
		page = new(handlePage)
		slot.Store(page)
	}
	page[h&(handlePageSize-1)].Store(&handleBox{v})
	return h
}

// value returns the value of h, or nil when h is not a live handle.
func (h handle) value() any {
	if h == 0 || h >= handleMaxPages*handlePageSize {
		return nil
	}
	page := handles.pages[h>>handlePageBits].Load()
	if page == nil {
		return nil
	}
	b := page[h&(handlePageSize-1)].Load()
	if b == nil {
		return nil
	}
	return b.v
}

// delete frees h; deleting a handle that is not live does nothing.
func (h handle) delete() {
	if h == 0 || h >= handleMaxPages*handlePageSize {
		return
	}
	handles.mu.Lock()
	defer handles.mu.Unlock()
	page := handles.pages[h>>handlePageBits].Load()
	if page == nil {
		return
	}
	if page[h&(handlePageSize-1)].Swap(nil) != nil {
		handles.free = append(handles.free, h)
	}
}
