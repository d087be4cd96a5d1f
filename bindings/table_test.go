package bindings

import "testing"

func TestResourceTable(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	tab := s.ResourceTable()
	if s.ResourceTable() != tab {
		t.Fatal("a store has one table")
	}
	a, b := NewResourceType("a"), NewResourceType("b")
	r1 := tab.Push(a, "x", false)
	r2 := tab.Push(a, "x", false)
	r3 := tab.Push(b, "y", true)
	if r1 == 0 || r1 == r2 || r2 == r3 || r1 == r3 {
		t.Fatalf("reps %d %d %d", r1, r2, r3)
	}
	if v, ok := tab.Get(a, r1); !ok || v != "x" {
		t.Fatalf("get: %v %v", v, ok)
	}
	// A rep of another type finds nothing.
	if _, ok := tab.Get(b, r1); ok {
		t.Fatal("a rep found under another type")
	}
	if _, _, ok := tab.Delete(b, r1); ok {
		t.Fatal("a rep deleted under another type")
	}
	if tab.Len(a) != 2 || tab.Len(b) != 1 {
		t.Fatalf("len %d %d", tab.Len(a), tab.Len(b))
	}
	// Two owned handles of one value: the second delete is the last.
	if v, last, ok := tab.Delete(a, r1); !ok || last || v != "x" {
		t.Fatalf("first delete: %v %v %v", v, last, ok)
	}
	if _, last, ok := tab.Delete(a, r2); !ok || !last {
		t.Fatalf("second delete: last=%v ok=%v", last, ok)
	}
	// A borrow entry never owns its value.
	if _, last, ok := tab.Delete(b, r3); !ok || last {
		t.Fatalf("borrow delete: last=%v ok=%v", last, ok)
	}
	if _, _, ok := tab.Delete(a, r1); ok {
		t.Fatal("deleted twice")
	}
	// Reps count on, and the table goes with its store.
	r4 := tab.Push(a, "z", false)
	if r4 == r1 || r4 == r2 || r4 == r3 {
		t.Fatalf("rep %d reused", r4)
	}
	s.Close()
	if s.table != nil {
		t.Fatal("Close kept the table")
	}
}
