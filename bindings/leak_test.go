package bindings

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// rssBytes returns the resident set size of this process (Linux).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

func settledRSS(t *testing.T) int64 {
	for range 3 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	return rssBytes(t)
}

// TestLeakManyCalls makes calls with values of every shape (strings, lists,
// records, variants, options, results, flags), host callbacks, guest and
// host resources, refused arguments and traps, recycling stores as it goes,
// and checks that the process does not grow: no C value, error, handle or
// store may be left behind.
//
// Plain `go test` makes 40,000 calls; DRIFTLESS_LEAK_CALLS=1000000 (as `make
// memcheck` does) makes a million.
func TestLeakManyCalls(t *testing.T) {
	calls := 40_000
	if noSignalsForTests {
		// Under valgrind (see main_test.go): every path, fewer times; RSS
		// says nothing there (the leak check of that run is LeakSanitizer's).
		calls = 3_000
	}
	if v := os.Getenv("DRIFTLESS_LEAK_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("DRIFTLESS_LEAK_CALLS=%q", v)
		}
		calls = n
	}
	e, c := kindsComponent(t)
	rc := compileWAT(t, e, resourceWAT)
	defer rc.Close()
	kl := e.NewLinker()
	defer kl.Close()
	(&kindsHost{got: map[string]Val{}}).define(t, kl)
	blobT := NewResourceType("blob")
	rl := e.NewLinker()
	defer rl.Close()
	rh := rl.Instance("test:res/host")
	drops := 0
	must(t, rh.DefineResource("blob", blobT, func(ctx context.Context, rep uint32) error { drops++; return nil }))
	for _, name := range []string{"make-blob", "[method]blob.size", "consume-blob"} {
		must(t, rh.DefineFunc(name, func(ctx context.Context, p, r []Val) error { r[0] = U32(0); return nil }))
	}
	must(t, rh.DefineFunc("dropped", func(ctx context.Context, p, r []Val) error { return nil }))

	ctx := context.Background()
	big := strings.Repeat("ü", 512) // 1 KiB
	point := Record([]string{"x", "y"}, []Val{S32(1), S32(2)})
	var s *Store
	var fns map[string]*Func
	open := func() {
		var err error
		if s, err = e.NewStore(StoreOptions{}); err != nil {
			t.Fatal(err)
		}
		ki, err := kl.Instantiate(s, c)
		must(t, err)
		ri, err := rl.Instantiate(s, rc)
		must(t, err)
		fns = map[string]*Func{}
		for _, n := range []string{"str-echo", "host-string", "list-sum", "point-swap", "shape-scale",
			"result-check", "option-double", "perms-invert", "host-list", "host-variant"} {
			fns[n], err = ki.Func(n)
			must(t, err)
		}
		for _, n := range []string{"[constructor]counter", "[method]counter.incr", "blob-roundtrip", "blob-drop"} {
			fns[n], err = ri.Func(n)
			must(t, err)
		}
	}
	open()
	made := 0
	call := func(fn string, args ...Val) Val {
		made++
		v, err := fns[fn].Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		return v
	}
	round := func(i int) {
		if v := call("str-echo", String(big)); len(v.Str()) != len(big) {
			t.Fatal("echo")
		}
		call("host-string", String("leak?"))
		call("list-sum", List(U32(1), U32(2), U32(3)))
		call("point-swap", point)
		call("shape-scale", VariantWith("circle", F32(2)))
		call("result-check", U32(500)) // err("too big"): a string lifted from guest memory
		call("option-double", Some(U32(3)))
		call("perms-invert", Flags("read"))
		call("host-list", List(U32(7), U32(8)))
		call("host-variant", VariantWith("square", U32(2)))
		// A guest resource: create, lend, drop (its destructor runs).
		r := call("[constructor]counter", U32(1)).Resource()
		call("[method]counter.incr", ResourceVal(r))
		made++
		must(t, r.Drop(ctx))
		// A host resource in and out, read, and dropped by the guest.
		h, err := s.NewResource(blobT, uint32(i))
		must(t, err)
		back := call("blob-roundtrip", ResourceVal(h)).Resource()
		if rep, _, err := back.HostRep(); err != nil || rep != uint32(i) {
			t.Fatalf("HostRep: %d %v", rep, err)
		}
		call("blob-drop", ResourceVal(back))
		// Refused before any C code runs.
		if _, err := fns["str-echo"].Call(ctx, String("\xff")); err == nil {
			t.Fatal("invalid UTF-8 accepted")
		}
		// Now and then: a trap, and a fresh store.
		if i%500 == 499 {
			if _, err := fns["str-echo"].Call(ctx, U32(1)); err == nil {
				t.Fatal("wrong type accepted")
			}
			if len(s.resources) != 0 {
				t.Fatalf("%d resource handles left in the store", len(s.resources))
			}
			s.Close()
			open()
		}
	}
	const perRound = 15 // calls made by round
	rounds := calls / perRound
	warm := max(rounds/10, 200)
	for i := range warm {
		round(i)
	}
	before := settledRSS(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc
	made = 0
	for i := range rounds {
		round(warm + i)
	}
	s.Close()
	after := settledRSS(t)
	runtime.ReadMemStats(&ms)
	growth := after - before
	t.Logf("%d calls: RSS %.1f -> %.1f MiB (%+d bytes, %.2f bytes/call); Go heap %+d bytes; %d host destructor calls",
		made, float64(before)/(1<<20), float64(after)/(1<<20), growth, float64(growth)/float64(made),
		int64(ms.HeapAlloc)-int64(heapBefore), drops)
	// Allow for allocator noise: 2 MiB, or 3 bytes per call for long runs
	// (a leak of one small C value per call is 16 bytes or more).
	if limit := max(2<<20, 3*int64(made)); growth > limit && !noSignalsForTests && !underASan {
		t.Errorf("RSS grew by %d bytes over %d calls (limit %d)", growth, made, limit)
	}
	if drops != warm+rounds {
		t.Errorf("host destructor ran %d times, want %d", drops, warm+rounds)
	}
}
