package wasmscan

import (
	"errors"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

func wat(t testing.TB, src string) []byte {
	t.Helper()
	wasm, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

var scanCases = []struct {
	name     string
	wat      string
	memories []uint64 // MinBytes of each
	tables   int
}{
	{"empty", `(module)`, nil, 0},
	{"one memory", `(module (memory 3))`, []uint64{3 * PageSize}, 0},
	{"memory with a maximum", `(module (memory 1 5))`, []uint64{PageSize}, 0},
	{"exported memory and a function", `(module (memory (export "memory") 2) (func (export "f")))`, []uint64{2 * PageSize}, 0},
	{"two memories", `(module (memory 1) (memory 0))`, []uint64{PageSize, 0}, 0},
	{"64-bit memory", `(module (memory i64 4))`, []uint64{4 * PageSize}, 0},
	{"shared memory", `(module (memory 1 2 shared))`, []uint64{PageSize}, 0},
	{"custom page size", `(module (memory 7 (pagesize 1)))`, []uint64{7}, 0},
	{"huge 64-bit minimum saturates", `(module (memory i64 0x1000000000000 (pagesize 1)))`, []uint64{0x1000000000000}, 0},
	{"tables", `(module (table 1 funcref) (table 0 10 externref))`, nil, 2},
	{"imports do not count", `(module (import "m" "mem" (memory 1)) (import "m" "t" (table 1 funcref)))`, nil, 0},
	{"everything", `(module (import "m" "mem" (memory 1)) (memory 2) (table 3 funcref) (func) (data (memory 1) (i32.const 0) "x"))`,
		[]uint64{2 * PageSize}, 1},
}

func TestScan(t *testing.T) {
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Scan(wat(t, c.wat))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Memories) != len(c.memories) || m.Tables != c.tables {
				t.Fatalf("got %+v, want memories %v and %d tables", m, c.memories, c.tables)
			}
			for i, want := range c.memories {
				if m.Memories[i].MinBytes != want {
					t.Errorf("memory %d: %d bytes, want %d", i, m.Memories[i].MinBytes, want)
				}
			}
		})
	}
}

// Every prefix of a module cut inside a section is an error, never a
// panic or a read past the end.
func TestScanTruncated(t *testing.T) {
	wasm := wat(t, scanCases[len(scanCases)-1].wat)
	for n := range len(wasm) {
		if _, err := Scan(wasm[:n]); err == nil && n < 8 {
			t.Fatalf("%d bytes: no error", n)
		}
	}
	// A section whose size runs past the end.
	bad := append(append([]byte{}, wasm[:8]...), sectionMemory, 0x7f, 1)
	if _, err := Scan(bad); !errors.Is(err, ErrTruncated) {
		t.Fatalf("oversized section: %v", err)
	}
	// A count of memories the section cannot hold.
	bad = append(append([]byte{}, wasm[:8]...), sectionMemory, 3, 0xff, 0xff, 0x0f)
	if _, err := Scan(bad); err == nil {
		t.Fatal("impossible memory count accepted")
	}
	// A LEB128 longer than its type allows.
	bad = append(append([]byte{}, wasm[:8]...), sectionTable, 6, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)
	if _, err := Scan(bad); err == nil {
		t.Fatal("overlong integer accepted")
	}
	// A page size above 64 KiB.
	bad = append(append([]byte{}, wasm[:8]...), sectionMemory, 4, 1, 8, 1, 17)
	if _, err := Scan(bad); err == nil {
		t.Fatal("page size 2^17 accepted")
	}
}

// FuzzScan: any input gives a result or an error, never a panic, and what
// it reads stays within the input.
func FuzzScan(f *testing.F) {
	for _, c := range scanCases {
		f.Add(wat(f, c.wat))
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		m, err := Scan(wasm)
		if err != nil {
			return
		}
		if len(m.Memories) > len(wasm) || m.Tables < 0 {
			t.Fatalf("%d memories, %d tables from %d bytes", len(m.Memories), m.Tables, len(wasm))
		}
	})
}
