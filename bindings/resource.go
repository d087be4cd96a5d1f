package bindings

// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// ResourceType is a host-defined resource type. Define it in a linker with
// LinkerInstance.DefineResource, create handles with Store.NewResource.
type ResourceType struct {
	id   uint32
	name string
}

var (
	resourceTypeID atomic.Uint32
	resourceTypes  sync.Map // id -> *ResourceType
)

// NewResourceType returns a new, distinct host resource type; name is for
// messages.
func NewResourceType(name string) *ResourceType {
	t := &ResourceType{id: resourceTypeID.Add(1), name: name}
	resourceTypes.Store(t.id, t)
	return t
}

// Name returns the name given to NewResourceType.
func (t *ResourceType) Name() string { return t.name }

// Resource is a handle to a resource: one a guest created and returned
// (guest resource), or one the host created with Store.NewResource (host
// resource). It belongs to its store and is freed with it.
type Resource struct {
	store *Store
	*resourceCell
	owned bool

	// The host representation, once known (NewResource, HostRep).
	hostRepKnown bool
	hostRep      uint32
	hostType     *ResourceType
}

// resourceCell is what a Resource's store keeps of it, to free it on Close:
// the C handle and its state, without the Resource, which holds the Store
// (a pointer back from the store's state would keep the Store from being
// collected).
type resourceCell struct {
	ptr   *C.wasmtime_component_resource_any_t
	state resourceState
}

type resourceState uint8

const (
	resourceLive resourceState = iota
	resourceDropped
	resourceMoved
	resourceClosed
	resourceBorrowEnded
)

var errResourceGone = errors.New("bindings: resource handle was already dropped, moved into the guest or closed, or is a borrow whose host call returned")

// adoptResource wraps a resource_any the store now owns.
func (st *storeState) adoptResource(p *C.wasmtime_component_resource_any_t) *Resource {
	s := st.owner()
	if s == nil {
		// Resources arrive in calls and from NewResource, whose caller
		// holds the Store.
		panic("bindings: a resource for a store nobody holds")
	}
	c := &resourceCell{ptr: p}
	r := &Resource{store: s, resourceCell: c, owned: bool(C.wasmtime_component_resource_any_owned(p))}
	if st.resources == nil {
		st.resources = map[*resourceCell]struct{}{}
	}
	st.resources[c] = struct{}{}
	if !r.owned {
		st.borrows = append(st.borrows, c)
	}
	return r
}

// freeCell frees c's handle and forgets it.
func (st *storeState) freeCell(c *resourceCell) {
	if c.ptr != nil {
		C.wasmtime_component_resource_any_delete(c.ptr)
		c.ptr = nil
	}
	delete(st.resources, c)
}

// endBorrows ends the borrowed handles received since mark (see
// Store.hostCall): the component model requires a host function to release
// its borrows before it returns, so those the host function did not close
// are dropped here.
func (s *storeState) endBorrows(mark int) error {
	var first error
	for _, c := range s.borrows[mark:] {
		if c.state != resourceLive {
			continue
		}
		if err := takeError("resource", C.wasmtime_component_resource_any_drop(s.cx, c.ptr)); err != nil && first == nil {
			first = err
		}
		s.freeCell(c)
		c.state = resourceBorrowEnded
	}
	clear(s.borrows[mark:])
	s.borrows = s.borrows[:mark]
	return first
}

// NewResource creates an owned handle to a host resource of type t whose
// representation is rep; pass it to the guest as ResourceVal(r).
func (s *Store) NewResource(t *ResourceType, rep uint32) (*Resource, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errors.New("bindings: NewResource with a nil type")
	}
	h := C.wasmtime_component_resource_host_new(true, C.uint32_t(rep), C.uint32_t(t.id))
	defer C.wasmtime_component_resource_host_delete(h)
	var any *C.wasmtime_component_resource_any_t
	if err := takeError("resource", C.wasmtime_component_resource_host_to_any(s.cx, h, &any)); err != nil {
		return nil, err
	}
	r := s.adoptResource(any)
	r.hostRepKnown, r.hostRep, r.hostType = true, rep, t
	return r, nil
}

// Owned reports whether the handle is an own<T> (as opposed to a borrow).
func (r *Resource) Owned() bool { return r.owned }

// Live reports whether the handle can still be used.
func (r *Resource) Live() bool { return r.state == resourceLive }

// HostRep returns the representation and type of a host resource. It fails
// for guest resources.
//
// wasmtime can only read the representation by taking the handle out of its
// table. For an own handle, HostRep puts an equivalent handle back, so r
// stays usable. For a borrow (as received by host functions), reading the
// representation ends the borrow, as the component model allows: r is
// closed afterwards. The result is remembered, so asking again is free.
func (r *Resource) HostRep() (rep uint32, t *ResourceType, err error) {
	if r.hostRepKnown {
		return r.hostRep, r.hostType, nil
	}
	if r.state != resourceLive {
		return 0, nil, errResourceGone
	}
	s := r.store
	if err := s.usable(); err != nil {
		return 0, nil, err
	}
	var h *C.wasmtime_component_resource_host_t
	if err := takeError("resource", C.wasmtime_component_resource_any_to_host(s.cx, r.ptr, &h)); err != nil {
		return 0, nil, fmt.Errorf("not a host resource: %w", err)
	}
	defer C.wasmtime_component_resource_host_delete(h)
	rep = uint32(C.wasmtime_component_resource_host_rep(h))
	id := uint32(C.wasmtime_component_resource_host_type(h))
	if v, ok := resourceTypes.Load(id); ok {
		t = v.(*ResourceType)
	}
	r.hostRep, r.hostType, r.hostRepKnown = rep, t, true
	if !r.owned {
		r.free()
		r.state = resourceClosed
		return rep, t, nil
	}
	// The own handle left wasmtime's table: put it back.
	var back *C.wasmtime_component_resource_any_t
	if err := takeError("resource", C.wasmtime_component_resource_host_to_any(s.cx, h, &back)); err != nil {
		r.free()
		r.state = resourceClosed
		return rep, t, fmt.Errorf("bindings: could not restore the handle after reading its representation: %w", err)
	}
	C.wasmtime_component_resource_any_delete(r.ptr)
	r.ptr = back
	return rep, t, nil
}

// Drop drops the resource: for a guest resource, its destructor runs in the
// guest (under the store's call limits and ctx, like a call). The handle is
// then closed. Dropping a borrow only ends the borrow.
func (r *Resource) Drop(ctx context.Context) error {
	if r.state != resourceLive {
		return errResourceGone
	}
	s := r.store
	if err := s.usable(); err != nil {
		return err
	}
	prev := s.beginCall(ctx)
	var err error
	if s.engine.config.ConsumeFuel {
		err = takeError("fuel", C.wasmtime_context_set_fuel(s.cx, C.uint64_t(s.fuel())))
	}
	if err == nil {
		if s.engine.config.EpochInterruption {
			C.wasmtime_context_set_epoch_deadline(s.cx, 1)
		}
		err = s.callError("resource drop", C.wasmtime_component_resource_any_drop(s.cx, r.ptr))
		if err != nil {
			s.poisonedBy(err) // a trapping destructor
		}
	}
	s.endCall(prev)
	r.free()
	r.state = resourceDropped
	return err
}

// Close frees the handle without dropping the resource. Use it for borrows
// received in host functions, or to abandon a handle; the store reclaims the
// resource itself when it closes.
func (r *Resource) Close() {
	if r.state == resourceLive {
		if !r.owned && r.store.depth > 0 && !r.store.closed {
			// A borrow received by a running host function: end it, as
			// the component model requires before the function returns.
			_ = takeError("resource", C.wasmtime_component_resource_any_drop(r.store.cx, r.ptr))
		}
		r.free()
		r.state = resourceClosed
	}
}

func (r *Resource) moved() {
	if r.state == resourceLive {
		r.free()
		r.state = resourceMoved
	}
}

func (r *Resource) free() { r.store.freeCell(r.resourceCell) }

func (r *Resource) String() string {
	if r == nil {
		return "resource(nil)"
	}
	kind := "borrow"
	if r.owned {
		kind = "own"
	}
	switch r.state {
	case resourceDropped:
		return "resource(" + kind + ", dropped)"
	case resourceMoved:
		return "resource(" + kind + ", moved)"
	case resourceClosed:
		return "resource(" + kind + ", closed)"
	case resourceBorrowEnded:
		return "resource(" + kind + ", borrow ended)"
	}
	return "resource(" + kind + ")"
}
