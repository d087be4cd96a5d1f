package bindings

// ResourceTable holds the Go values behind the host resource handles of one
// store, as wasmtime's ResourceTable does for Rust hosts: each handle the
// host gives a guest gets its own representation (rep), under which the
// table keeps the value until the handle is dropped. The table belongs to
// its store (Store.ResourceTable) and goes with it; reps are unique across
// the store's resource types, and every lookup checks the type, so a rep
// of one type never reaches a value of another.
//
// Like its store, a ResourceTable is not safe for concurrent use.
type ResourceTable struct {
	next    uint32
	entries map[uint32]tableEntry
	owned   map[tableValue]int // owned handles per value
}

type tableEntry struct {
	typ    *ResourceType
	v      any
	borrow bool // a temporary handle lending the value to one call
}

type tableValue struct {
	typ *ResourceType
	v   any
}

// ResourceTable returns the store's table of host resource values.
func (s *Store) ResourceTable() *ResourceTable {
	if s.table == nil {
		s.table = &ResourceTable{next: 1, entries: map[uint32]tableEntry{}, owned: map[tableValue]int{}}
	}
	return s.table
}

// Push adds v, of resource type t, and returns its new rep. borrow marks an
// entry made only to lend v to one call (its handle is dropped when the
// call returns); it does not count as an owner of v. v must be comparable
// (it is counted by value).
func (t *ResourceTable) Push(typ *ResourceType, v any, borrow bool) uint32 {
	rep := t.next
	for {
		if _, used := t.entries[rep]; !used && rep != 0 {
			break
		}
		rep++
	}
	t.next = rep + 1
	t.entries[rep] = tableEntry{typ: typ, v: v, borrow: borrow}
	if !borrow {
		t.owned[tableValue{typ, v}]++
	}
	return rep
}

// Get returns the value of type typ under rep.
func (t *ResourceTable) Get(typ *ResourceType, rep uint32) (any, bool) {
	e, ok := t.entries[rep]
	if !ok || e.typ != typ {
		return nil, false
	}
	return e.v, true
}

// Delete removes the value of type typ under rep, and reports whether rep
// was the value's last owned handle (the value is then the host's alone).
func (t *ResourceTable) Delete(typ *ResourceType, rep uint32) (v any, last, ok bool) {
	e, ok := t.entries[rep]
	if !ok || e.typ != typ {
		return nil, false, false
	}
	delete(t.entries, rep)
	if e.borrow {
		return e.v, false, true
	}
	k := tableValue{typ, e.v}
	t.owned[k]--
	last = t.owned[k] <= 0
	if last {
		delete(t.owned, k)
	}
	return e.v, last, true
}

// Len returns the number of entries of type typ.
func (t *ResourceTable) Len(typ *ResourceType) int {
	n := 0
	for _, e := range t.entries {
		if e.typ == typ {
			n++
		}
	}
	return n
}
