package bindings

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// growWAT's "grow-all" grows its memory one page at a time until memory.grow
// fails and returns the pages it has then; "grow" asks for n pages at once
// and returns what memory.grow returned; "table-grow" does the same for its
// table. "echo" is a string echo whose realloc traps (unreachable) when it
// cannot grow the memory, as a guest's allocator typically aborts.
const growWAT = `(component
  (core module $M
    (memory (export "memory") 1)
    (table 1 funcref)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "grow-all") (result i32)
      (block $full (loop $more
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $more)))
      (memory.size))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "table-grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32) (local $end i32)
      (local.set $p (global.get $heap))
      (local.set $end (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then (if (i32.eq (i32.const -1)
            (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16))) (i32.const 16)) (i32.const 1))))
          (then unreachable))))
      (global.set $heap (local.get $end))
      (local.get $p))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    (func (export "reset") (param i32) (global.set $heap (i32.const 1024))))
  (core instance $i (instantiate $M))
  (func (export "grow-all") (result u32) (canon lift (core func $i "grow-all")))
  (func (export "grow") (param "pages" u32) (result s32) (canon lift (core func $i "grow")))
  (func (export "table-grow") (param "n" u32) (result s32) (canon lift (core func $i "table-grow")))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $i "memory") (realloc (func $i "realloc"))
      (post-return (func $i "reset"))))
)`

// sizedWAT returns a component with `memories` memories of minPages pages,
// `tables` tables of minElems elements and `instances` core instances.
func sizedWAT(memories, minPages, tables, minElems, instances int) string {
	var b strings.Builder
	b.WriteString("(component\n  (core module $M\n")
	for range memories {
		fmt.Fprintf(&b, "    (memory %d)\n", minPages)
	}
	for range tables {
		fmt.Fprintf(&b, "    (table %d funcref)\n", minElems)
	}
	b.WriteString("    (func (export \"f\") (result i32) (i32.const 7)))\n")
	for i := range instances {
		fmt.Fprintf(&b, "  (core instance $i%d (instantiate $M))\n", i)
	}
	b.WriteString("  (func (export \"f\") (result u32) (canon lift (core func $i0 \"f\")))\n)")
	return b.String()
}

func compileWAT(t testing.TB, e *Engine, wat string) *Component {
	t.Helper()
	wasm, err := wasmtime.Wat2Wasm(wat)
	must(t, err)
	c, err := NewComponent(e, wasm)
	must(t, err)
	return c
}

// The memory cap is hard: a guest growing its memory gets -1 from
// memory.grow at the limit, and never more memory than the limit.
func TestMemoryLimitIsHard(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, growWAT)
	l := e.NewLinker()
	ctx := context.Background()
	for _, limit := range []int64{64 << 10, 1 << 20, 10<<20 + 12345} {
		s, err := e.NewStore(StoreOptions{Limits: Limits{MemoryBytes: limit}})
		must(t, err)
		inst, err := l.Instantiate(s, c)
		must(t, err)
		growAll, _ := inst.Func("grow-all")
		v, err := growAll.Call(ctx)
		must(t, err)
		pages := int64(v.U32())
		if pages*65536 > limit || (pages+1)*65536 <= limit {
			t.Errorf("limit %d: the guest got %d pages (%d bytes)", limit, pages, pages*65536)
		}
		// memory.grow keeps failing, without a trap, and the instance
		// goes on working.
		grow, _ := inst.Func("grow")
		for _, n := range []uint32{1, 1000, 65536} {
			v, err = grow.Call(ctx, U32(n))
			if err != nil || v.S32() != -1 {
				t.Errorf("limit %d: grow(%d) = %v, %v", limit, n, v, err)
			}
		}
		v, err = growAll.Call(ctx)
		if err != nil || int64(v.U32()) != pages {
			t.Errorf("limit %d: grow-all again = %v, %v", limit, v, err)
		}
		s.Close()
	}

	// The host's data must fit too: a string the guest cannot allocate
	// makes its allocator fail (this one traps with unreachable).
	s, err := e.NewStore(StoreOptions{Limits: Limits{MemoryBytes: 1 << 20}})
	must(t, err)
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	must(t, err)
	echo, _ := inst.Func("echo")
	if v, err := echo.Call(ctx, String(strings.Repeat("a", 512<<10))); err != nil || len(v.Str()) != 512<<10 {
		t.Fatalf("echo within the limit: %v", err)
	}
	_, err = echo.Call(ctx, String(strings.Repeat("a", 2<<20)))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("echo beyond the limit: %v", err)
	}
}

func TestTableGrowLimit(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, growWAT)
	s, err := e.NewStore(StoreOptions{Limits: Limits{TableElements: 10}})
	must(t, err)
	defer s.Close()
	inst, err := e.NewLinker().Instantiate(s, c)
	must(t, err)
	grow, _ := inst.Func("table-grow")
	ctx := context.Background()
	for _, c := range []struct {
		n    uint32
		want int32
	}{{5, 1}, {4, 6}, {1, -1}, {100, -1}, {0, 10}} {
		v, err := grow.Call(ctx, U32(c.n))
		if err != nil || v.S32() != c.want {
			t.Errorf("table.grow(%d) = %v, %v; want %d", c.n, v, err, c.want)
		}
	}
}

// Limits that wasmtime checks when it creates instances, memories and
// tables are errors of instantiation, matched by their sentinels.
func TestInstantiationLimits(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	l := e.NewLinker()
	cases := []struct {
		name   string
		wat    string
		limits Limits
		want   error
		msg    string
	}{
		{"memory minimum", sizedWAT(1, 32, 0, 0, 1), Limits{MemoryBytes: 1 << 20}, ErrMemoryLimit, "memory minimum size of 32 pages exceeds memory limits"},
		{"memory count", sizedWAT(2, 1, 0, 0, 1), Limits{Memories: 1}, ErrMemoryLimit, "memory count too high"},
		{"memory count across instances", sizedWAT(1, 1, 0, 0, 3), Limits{Memories: 2}, ErrMemoryLimit, "memory count too high"},
		{"table minimum", sizedWAT(0, 0, 1, 100, 1), Limits{TableElements: 10}, ErrTableLimit, "table minimum size of 100 elements exceeds table limits"},
		{"table count", sizedWAT(0, 0, 3, 1, 1), Limits{Tables: 2}, ErrTableLimit, "table count too high"},
		{"instance count", sizedWAT(0, 0, 0, 0, 3), Limits{Instances: 2}, ErrInstanceLimit, "instance count too high"},
	}
	sentinels := []error{ErrMemoryLimit, ErrTableLimit, ErrInstanceLimit}
	for _, c := range cases {
		comp := compileWAT(t, e, c.wat)
		s, err := e.NewStore(StoreOptions{Limits: c.limits})
		must(t, err)
		_, err = l.Instantiate(s, comp)
		var we *Error
		if !errors.As(err, &we) || !strings.Contains(we.Message, c.msg) {
			t.Errorf("%s: %v", c.name, err)
		}
		if !errors.Is(err, ErrResourceLimit) {
			t.Errorf("%s: not a resource limit: %v", c.name, err)
		}
		for _, sn := range sentinels {
			if errors.Is(err, sn) != (sn == c.want) {
				t.Errorf("%s: errors.Is(%q) = %v", c.name, sn, !(sn == c.want))
			}
		}
		// Within the limits it instantiates.
		s2, err := e.NewStore(StoreOptions{})
		must(t, err)
		inst, err := l.Instantiate(s2, comp)
		must(t, err)
		f, _ := inst.Func("f")
		if v, err := f.Call(context.Background()); err != nil || v.U32() != 7 {
			t.Errorf("%s without limits: %v %v", c.name, v, err)
		}
		s.Close()
		s2.Close()
	}
	// Other errors are not limits.
	comp := compileWAT(t, e, kindsWAT)
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	_, err = l.Instantiate(s, comp)
	if err == nil || errors.Is(err, ErrResourceLimit) {
		t.Fatalf("missing imports: %v", err)
	}
	if _, err := e.NewStore(StoreOptions{Limits: Limits{MemoryBytes: -1}}); err == nil {
		t.Fatal("negative limit accepted")
	}
}

// vmSize returns the process's address space in bytes (Linux), or -1.
func vmSize() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

// A small MemoryReservation bounds the address space each live instance
// holds (the default reserves over 4 GiB per memory), and memories still
// grow past it, to the store's limit, keeping their contents.
func TestMemoryReservation(t *testing.T) {
	if noSignalsForTests {
		t.Skip("the valgrind build sets its own reservation")
	}
	e, err := NewEngine(EngineConfig{MemoryReservation: 1 << 20, MemoryGuardSize: 64 << 10})
	must(t, err)
	c := compileWAT(t, e, growWAT)
	l := e.NewLinker()
	ctx := context.Background()

	before := vmSize()
	const n = 64
	var stores []*Store
	for range n {
		s, err := e.NewStore(StoreOptions{Limits: Limits{MemoryBytes: 8 << 20}})
		must(t, err)
		stores = append(stores, s)
		_, err = l.Instantiate(s, c)
		must(t, err)
	}
	if after := vmSize(); before > 0 && after-before > n<<30 {
		t.Errorf("%d instances took %d MiB of address space; a 1 MiB reservation should keep that far below %d GiB",
			n, (after-before)>>20, n)
	}
	for _, s := range stores {
		s.Close()
	}

	s, err := e.NewStore(StoreOptions{Limits: Limits{MemoryBytes: 8 << 20}})
	must(t, err)
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	must(t, err)
	echo, _ := inst.Func("echo")
	// 3 MiB of string makes the guest grow its memory past the
	// reservation: the memory moves, and the bytes come back intact.
	big := strings.Repeat("0123456789abcdef", 3<<16)
	v, err := echo.Call(ctx, String(big))
	if err != nil || v.Str() != big {
		t.Fatalf("echo of %d bytes past the reservation: %d bytes back, %v", len(big), len(v.Str()), err)
	}
	growAll, _ := inst.Func("grow-all")
	v, err = growAll.Call(ctx)
	must(t, err)
	if pages := v.U32(); pages != 128 {
		t.Errorf("grow-all stopped at %d pages, want the 8 MiB limit's 128", pages)
	}
}

// TestLimitPatternsPinned makes, against the wasmtime this package is
// built with, every error limitPatterns knows (the C API gives no code for
// them): each is refused with a message containing its pattern, matches its
// sentinel and ErrResourceLimit, and is matched by no earlier pattern.
func TestLimitPatternsPinned(t *testing.T) {
	cases := []struct {
		pattern string
		pool    *PoolingConfig // nil: the store limiter
		limits  Limits
		wat     string
		stores  int // instantiations, each in a store kept open
		// fallback: the pattern is the catch-all of pooling limits that
		// wasmtime 44 has no other message for here (stacks exist only
		// with async), so the case is one an earlier pattern matches too.
		fallback bool
	}{
		{"exceeds memory limits", nil, Limits{MemoryBytes: 1 << 20}, sizedWAT(1, 32, 0, 0, 1), 1, false},
		{"memory count too high", nil, Limits{Memories: 1}, sizedWAT(2, 1, 0, 0, 1), 1, false},
		{"exceeds table limits", nil, Limits{TableElements: 10}, sizedWAT(0, 0, 1, 100, 1), 1, false},
		{"table count too high", nil, Limits{Tables: 2}, sizedWAT(0, 0, 3, 1, 1), 1, false},
		{"instance count too high", nil, Limits{Instances: 2}, sizedWAT(0, 0, 0, 0, 3), 1, false},
		{"for memory stripe", &PoolingConfig{TotalMemories: 1}, Limits{}, sizedWAT(1, 1, 0, 0, 1), 2, false},
		{"for tables reached", &PoolingConfig{TotalTables: 1}, Limits{}, sizedWAT(0, 0, 1, 1, 1), 2, false},
		{"instances reached", &PoolingConfig{TotalComponentInstances: 1}, Limits{}, sizedWAT(0, 0, 0, 0, 1), 2, false},
		{"maximum concurrent limit of", &PoolingConfig{TotalCoreInstances: 2}, Limits{}, sizedWAT(0, 0, 0, 0, 3), 1, true},
		{"module memory does not fit in pooling allocator", &PoolingConfig{MaxMemorySize: 1 << 20}, Limits{}, sizedWAT(1, 32, 0, 0, 1), 0, false},
		{"module table does not fit in pooling allocator", &PoolingConfig{TableElements: 10}, Limits{}, sizedWAT(0, 0, 1, 100, 1), 0, false},
		{"core module instances, which exceeds the configured maximum", &PoolingConfig{MaxCoreInstancesPerComp: 1}, Limits{}, sizedWAT(0, 0, 0, 0, 3), 0, false},
	}
	if len(cases) != len(limitPatterns) {
		t.Errorf("%d cases for %d patterns", len(cases), len(limitPatterns))
	}
	for i, c := range cases {
		t.Run(c.pattern, func(t *testing.T) {
			if limitPatterns[i].text != c.pattern {
				t.Fatalf("case %d is %q, limitPatterns[%d] is %q", i, c.pattern, i, limitPatterns[i].text)
			}
			cfg := EngineConfig{}
			if c.pool != nil {
				if noSignalsForTests {
					t.Skip("the valgrind build reserves no memory: no pooling allocator fits it")
				}
				cfg.PoolingAllocator, cfg.Pooling = true, *c.pool
			}
			e, err := NewEngine(cfg)
			must(t, err)
			defer e.Close()
			wasm, err := wasmtime.Wat2Wasm(c.wat)
			must(t, err)
			comp, err := NewComponent(e, wasm)
			if c.stores > 0 {
				must(t, err)
				l := e.NewLinker()
				for range c.stores {
					s, serr := e.NewStore(StoreOptions{Limits: c.limits})
					must(t, serr)
					defer s.Close()
					_, err = l.Instantiate(s, comp)
				}
			}
			var we *Error
			if !errors.As(err, &we) || !strings.Contains(we.Message, c.pattern) {
				t.Fatalf("got %v, want a message with %q", err, c.pattern)
			}
			if !errors.Is(err, limitPatterns[i].limit) || !errors.Is(err, ErrResourceLimit) {
				t.Errorf("%v does not match %v", err, limitPatterns[i].limit)
			}
			for _, p := range limitPatterns[:i] {
				if !c.fallback && strings.Contains(we.Message, p.text) {
					t.Errorf("an earlier pattern, %q, matches it", p.text)
				}
			}
		})
	}
}

// Engine configurations wasmtime refuses by aborting the process (its C
// API unwraps the configuration error): NewEngine refuses each with an
// error before wasmtime sees it, and accepts their neighbours.
func TestEngineConfigRefused(t *testing.T) {
	pool := func(p PoolingConfig) EngineConfig { return EngineConfig{PoolingAllocator: true, Pooling: p} }
	for _, c := range []struct {
		name string
		cfg  EngineConfig
		want string
	}{
		{"stack above the async stack", EngineConfig{MaxWasmStack: 2<<20 + 1}, "MaxWasmStack"},
		{"negative stack", EngineConfig{MaxWasmStack: -1}, "negative"},
		{"pool memories above the reservation", EngineConfig{PoolingAllocator: true, MemoryReservation: 1 << 20}, "MaxMemorySize"},
		{"pool max memory above the reservation", pool(PoolingConfig{MaxMemorySize: 8 << 30}), "MaxMemorySize"},
		{"pool of too many memories", pool(PoolingConfig{TotalMemories: 1 << 31}), "address space"},
		{"pool of huge tables", pool(PoolingConfig{TableElements: 1 << 40}), "address space"},
		{"pool of huge guards", EngineConfig{PoolingAllocator: true, MemoryGuardSize: 1 << 40}, "address space"},
		{"pool of too many stacks", pool(PoolingConfig{TotalStacks: 1 << 24}), "TotalStacks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := NewEngine(c.cfg)
			if noSignalsForTests && c.cfg.PoolingAllocator && err != nil {
				return // refused for the valgrind build's zero reservation first
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				if e != nil {
					e.Close()
				}
				t.Fatalf("got %v, want an error about %s", err, c.want)
			}
		})
	}
	if noSignalsForTests {
		t.Skip("the valgrind build reserves no memory: no pooling allocator fits it")
	}
	for _, cfg := range []EngineConfig{
		{MaxWasmStack: 2 << 20},
		{PoolingAllocator: true},
		{PoolingAllocator: true, MemoryReservation: 1 << 20, Pooling: PoolingConfig{MaxMemorySize: 1 << 20}},
		pool(PoolingConfig{TotalMemories: 2000, TotalStacks: 2000}),
	} {
		e, err := NewEngine(cfg)
		if err != nil {
			t.Errorf("%+v: %v", cfg, err)
			continue
		}
		e.Close()
	}
}
