package bindings

import (
	"context"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// threadCPU returns the CPU time the calling OS thread has used
// (CLOCK_THREAD_CPUTIME_ID): unlike wall time, other processes on a busy
// machine do not inflate it.
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// TestBatchFloor measures BenchmarkBatchArg's batch (1,024 log-entry
// records as one argument) in the calling thread's CPU time, alternating
// 21 rounds of each way of passing it, and reports the median per entry:
// the raw C API in a C loop with the values prepared once (the floor any
// Go host has on this API) and the Lowerer gen/ uses. It is how wasmtime
// versions are compared on a machine too busy for wall-clock figures
// (docs/PERFORMANCE.md). Opt-in: DRIFTLESS_BENCH_RATIO=1.
func TestBatchFloor(t *testing.T) {
	if os.Getenv("DRIFTLESS_BENCH_RATIO") != "1" {
		t.Skip("set DRIFTLESS_BENCH_RATIO=1 to measure")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const n, calls, rounds = 1024, 20, 21
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	wasm, err := wasmtime.Wat2Wasm(batchWAT)
	must(t, err)
	c, err := NewComponent(e, wasm)
	must(t, err)
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	inst, err := e.NewLinker().Instantiate(s, c)
	must(t, err)
	f, err := inst.Func("count")
	must(t, err)
	es := batchEntries(n)
	arg := batchVals(es)
	ctx := context.Background()
	sides := []struct {
		name string
		run  func() error
		per  []float64
	}{
		{name: "raw-c-loop", run: func() error { return baselineCall(f, []Val{arg}, calls) }},
		{name: "lowered", run: func() error {
			for range calls {
				if _, err := f.Call(ctx, Lowered(KindList, batchLowerer(es))); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for range rounds {
		for i := range sides {
			start := threadCPU()
			must(t, sides[i].run())
			sides[i].per = append(sides[i].per, float64(threadCPU()-start)/float64(calls*n))
		}
	}
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	raw, low := med(sides[0].per), med(sides[1].per)
	t.Logf("thread CPU ns per entry, median of %d rounds: raw-c-loop %.0f (fastest %.0f), lowered %.0f (fastest %.0f); lowered/raw %.2f",
		rounds, raw, sides[0].per[0], low, sides[1].per[0], low/raw)
}
