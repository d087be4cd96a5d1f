package bindings

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// The dl_core_* names stand for wasmtime's own types when core.h is
// compiled against wasmtime's headers.
const coreCheckPrelude = `#include <wasmtime.h>
#include <wasi.h>
typedef wasm_byte_vec_t dl_bytes_t;
typedef wasm_frame_vec_t dl_frames_t;
typedef wasmtime_component_val_t dl_val_t;
typedef wasmtime_component_valrecord_entry_t dl_field_t;
typedef wasmtime_component_instance_t dl_instance_t;
typedef wasmtime_component_func_t dl_func_t;
typedef wasmtime_component_func_callback_t dl_host_callback_t;
typedef wasmtime_component_resource_destructor_t dl_resource_dtor_t;
typedef wasmtime_component_valtype_t dl_valtype_t;
typedef wasmtime_component_item_t dl_item_t;
typedef wasmtime_func_t dl_core_func_t;
typedef wasmtime_memory_t dl_core_memory_t;
typedef wasmtime_val_raw_t dl_core_val_raw_t;
typedef wasm_valtype_vec_t dl_core_valtypes_t;
#define DL_CAPI_CHECK 1
#include "core.h"
`

const coreLayoutProgram = `#include <stdio.h>
#include <stddef.h>
#define P(name, v) printf("%s %lld\n", name, (long long)(v))
int main(void) {
  P("sizeof(func)", sizeof(T_FUNC));
  P("sizeof(memory)", sizeof(T_MEMORY));
  P("sizeof(raw)", sizeof(T_RAW));
  P("alignof(raw)", _Alignof(T_RAW));
  P("offsetof(raw.i32)", offsetof(T_RAW, i32));
  P("offsetof(raw.i64)", offsetof(T_RAW, i64));
  P("sizeof(valtypes)", sizeof(T_VALTYPES));
  P("offsetof(valtypes.data)", offsetof(T_VALTYPES, data));
  CONSTANTS
  return 0;
}
`

// Our constants (left) and wasmtime's (right).
var coreConstants = [][2]string{
	{"coreTrapStackOverflow", "WASMTIME_TRAP_CODE_STACK_OVERFLOW"},
	{"coreTrapMemoryOutOfBounds", "WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS"},
	{"coreTrapHeapMisaligned", "WASMTIME_TRAP_CODE_HEAP_MISALIGNED"},
	{"coreTrapTableOutOfBounds", "WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS"},
	{"coreTrapIndirectCallToNull", "WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL"},
	{"coreTrapBadSignature", "WASMTIME_TRAP_CODE_BAD_SIGNATURE"},
	{"coreTrapIntegerOverflow", "WASMTIME_TRAP_CODE_INTEGER_OVERFLOW"},
	{"coreTrapIntegerDivByZero", "WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO"},
	{"coreTrapBadConversionToInt", "WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER"},
	{"coreTrapUnreachable", "WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED"},
	{"coreTrapInterrupt", "WASMTIME_TRAP_CODE_INTERRUPT"},
	{"coreTrapOutOfFuel", "WASMTIME_TRAP_CODE_OUT_OF_FUEL"},
	{"coreTrapNullReference", "WASMTIME_TRAP_CODE_NULL_REFERENCE"},
	{"coreTrapArrayOutOfBounds", "WASMTIME_TRAP_CODE_ARRAY_OUT_OF_BOUNDS"},
	{"coreTrapAllocationTooLarge", "WASMTIME_TRAP_CODE_ALLOCATION_TOO_LARGE"},
}

var coreTrapValues = map[string]int{
	"coreTrapStackOverflow": coreTrapStackOverflow, "coreTrapMemoryOutOfBounds": coreTrapMemoryOutOfBounds,
	"coreTrapHeapMisaligned": coreTrapHeapMisaligned, "coreTrapTableOutOfBounds": coreTrapTableOutOfBounds,
	"coreTrapIndirectCallToNull": coreTrapIndirectCallToNull, "coreTrapBadSignature": coreTrapBadSignature,
	"coreTrapIntegerOverflow": coreTrapIntegerOverflow, "coreTrapIntegerDivByZero": coreTrapIntegerDivByZero,
	"coreTrapBadConversionToInt": coreTrapBadConversionToInt, "coreTrapUnreachable": coreTrapUnreachable,
	"coreTrapInterrupt": coreTrapInterrupt, "coreTrapOutOfFuel": coreTrapOutOfFuel,
	"coreTrapNullReference": coreTrapNullReference, "coreTrapArrayOutOfBounds": coreTrapArrayOutOfBounds,
	"coreTrapAllocationTooLarge": coreTrapAllocationTooLarge,
}

// TestCoreHeaders checks core.h against the headers wasmtime-go ships, as
// TestCAPIHeaders does for capi.h: every function it declares must be
// compatible with wasmtime's declaration, and the layouts and constants
// core.go relies on (the trap codes included) must be wasmtime's.
func TestCoreHeaders(t *testing.T) {
	inc := wasmtimeInclude(t)
	compiler := cc(t)
	dir := t.TempDir()
	here, err := os.Getwd()
	must(t, err)

	check := filepath.Join(dir, "check.c")
	must(t, os.WriteFile(check, []byte(coreCheckPrelude), 0o644))
	if out, err := exec.Command(compiler, "-std=c11", "-Wall", "-Werror", "-fsyntax-only",
		"-I", inc, "-I", here, check).CombinedOutput(); err != nil {
		t.Fatalf("core.h disagrees with wasmtime's headers:\n%s", out)
	}

	var ours, theirs strings.Builder
	for _, c := range coreConstants {
		v := c[0]
		if n, ok := coreTrapValues[c[0]]; ok {
			v = strconv.Itoa(n)
		}
		ours.WriteString(`P("` + c[1] + `", ` + v + `); `)
		theirs.WriteString(`P("` + c[1] + `", ` + c[1] + `); `)
	}
	run := func(name, header string, defs map[string]string, constants string) string {
		src := filepath.Join(dir, name+".c")
		prog := header + strings.Replace(coreLayoutProgram, "CONSTANTS", constants, 1)
		must(t, os.WriteFile(src, []byte(prog), 0o644))
		bin := filepath.Join(dir, name)
		args := []string{"-std=c11", "-o", bin, "-I", inc, "-I", here}
		for k, v := range defs {
			args = append(args, "-D"+k+"="+v)
		}
		if out, err := exec.Command(compiler, append(args, src)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		out, err := exec.Command(bin).Output()
		must(t, err)
		return string(out)
	}
	got := run("ours", "#include \"core.h\"\n", map[string]string{
		"T_FUNC": "dl_core_func_t", "T_MEMORY": "dl_core_memory_t", "T_RAW": "dl_core_val_raw_t", "T_VALTYPES": "dl_core_valtypes_t",
	}, ours.String())
	want := run("theirs", "#include <wasmtime.h>\n", map[string]string{
		"T_FUNC": "wasmtime_func_t", "T_MEMORY": "wasmtime_memory_t", "T_RAW": "wasmtime_val_raw_t", "T_VALTYPES": "wasm_valtype_vec_t",
	}, theirs.String())
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Errorf("ours %q, wasmtime's %q", gl[i], wl[i])
			}
		}
		if len(gl) != len(wl) {
			t.Errorf("%d lines against %d", len(gl), len(wl))
		}
	}
}

const coreTestWAT = `(module
  (import "host" "fail" (func $fail))
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "noop") (param i32))
  (func (export "store") (param $p i32) (param $v i32) (result i32)
    (i32.store8 (local.get $p) (local.get $v)) (i32.const 0))
  (func (export "spin") (result i32) (loop $l (br $l)) (i32.const 0))
  (func $crash (export "crash") (result i32) unreachable)
  (func (export "oob") (result i32) (i32.load (i32.const 0x7fffffff)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "callhost") (result i32) (call $fail) (i32.const 0))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)`

type coreFixture struct {
	engine *Engine
	module *wasmtime.Module
}

var (
	coreOnce sync.Once
	coreFix  coreFixture
	coreErr  error
)

// coreEngine returns an engine with fuel and epoch interruption (ticking
// every 2ms) and the test module compiled in it.
func coreEngine(t testing.TB) coreFixture {
	t.Helper()
	coreOnce.Do(func() {
		e, err := NewEngine(EngineConfig{ConsumeFuel: true, EpochInterruption: true, EpochTick: 2 * time.Millisecond})
		if err != nil {
			coreErr = err
			return
		}
		wasm, err := wasmtime.Wat2Wasm(coreTestWAT)
		if err != nil {
			coreErr = err
			return
		}
		m, err := wasmtime.NewModule(e.Wasmtime(), wasm)
		if err != nil {
			coreErr = err
			return
		}
		coreFix = coreFixture{engine: e, module: m}
	})
	if coreErr != nil {
		t.Fatal(coreErr)
	}
	return coreFix
}

type coreInst struct {
	g    *CoreGuard
	inst *wasmtime.Instance
	mem  *wasmtime.Memory
}

func newCoreInst(t testing.TB, memLimit int64) *coreInst {
	t.Helper()
	f := coreEngine(t)
	s := wasmtime.NewStore(f.engine.Wasmtime())
	s.Limiter(memLimit, -1, -1, -1, -1)
	g := NewCoreGuard(s)
	t.Cleanup(g.Close)
	fail := wasmtime.NewFunc(s, wasmtime.NewFuncType(nil, nil), func(*wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		return nil, wasmtime.NewTrap("host says no")
	})
	inst, err := wasmtime.NewInstance(s, f.module, []wasmtime.AsExtern{fail})
	if err != nil {
		t.Fatal(g.Err("instantiate", err))
	}
	return &coreInst{g: g, inst: inst, mem: inst.GetExport(s, "memory").Memory()}
}

func (c *coreInst) fn(name string) *CoreFunc {
	f, err := c.g.Func(c.inst.GetFunc(c.g.Store(), name))
	if err != nil {
		panic(err)
	}
	return f
}

func (c *coreInst) call(t testing.TB, ctx context.Context, l CallLimits, name string, args ...int32) (int32, error) {
	t.Helper()
	if err := c.g.Begin(ctx, l); err != nil {
		return 0, err
	}
	defer c.g.End()
	return c.g.Call(c.fn(name), args...)
}

func TestCoreGuardCall(t *testing.T) {
	c := newCoreInst(t, -1)
	ctx := context.Background()
	l := CallLimits{Fuel: 1_000_000, Timeout: 5 * time.Second}
	got, err := c.call(t, ctx, l, "add", 40, 2)
	if err != nil || got != 42 {
		t.Fatalf("add(40, 2) = %d, %v; want 42", got, err)
	}
	if got, err := c.call(t, ctx, l, "add", -1, -2); err != nil || got != -3 {
		t.Fatalf("add(-1, -2) = %d, %v; want -3", got, err)
	}
	must(t, c.g.Begin(ctx, l))
	must(t, c.g.CallNoResult(c.fn("noop"), 7))
	if _, err := c.g.Call(c.fn("store"), 100, 0x5a); err != nil {
		t.Fatal(err)
	}
	if cause := c.g.End(); cause != nil {
		t.Fatalf("End = %v, want nil", cause)
	}
	if m := c.g.Memory(c.mem); len(m) != 65536 || m[100] != 0x5a {
		t.Fatalf("Memory: %d bytes, [100] = %#x; want 65536 bytes, 0x5a", len(m), m[100])
	}
	// Fuel is per execution: what the last one left, not more.
	if f := c.g.Fuel(); f == 0 || f >= 1_000_000 {
		t.Errorf("Fuel after a cheap execution = %d, want in (0, 1000000)", f)
	}
}

// Track: every Call refreshes the view of the tracked memory, a trap
// included, and the view follows growth.
func TestCoreGuardTrack(t *testing.T) {
	c := newCoreInst(t, 4<<16)
	ctx := context.Background()
	l := CallLimits{Fuel: 1_000_000}
	if c.g.Tracked() != nil {
		t.Fatal("Tracked before Track must be nil")
	}
	if m := c.g.Track(c.mem); len(m) != 1<<16 {
		t.Fatalf("Track: %d bytes, want one page", len(m))
	}
	if _, err := c.call(t, ctx, l, "store", 7, 0x42); err != nil {
		t.Fatal(err)
	}
	if m := c.g.Tracked(); len(m) != 1<<16 || m[7] != 0x42 {
		t.Fatalf("after store: %d bytes, [7] = %#x", len(m), m[7])
	}
	if got, err := c.call(t, ctx, l, "grow", 2); err != nil || got != 1 {
		t.Fatalf("grow(2) = %d, %v", got, err)
	}
	if m := c.g.Tracked(); len(m) != 3<<16 || m[7] != 0x42 {
		t.Fatalf("after grow: %d bytes, want 3 pages and the byte kept", len(m))
	}
	if _, err := c.call(t, ctx, l, "crash"); err == nil {
		t.Fatal("crash did not trap")
	}
	if m := c.g.Tracked(); len(m) != 3<<16 {
		t.Fatalf("after a trap: %d bytes", len(m))
	}
	c.g.Close()
	if c.g.Tracked() != nil || c.g.Track(c.mem) != nil {
		t.Error("Track and Tracked after Close must be nil")
	}
}

func TestCoreGuardWrongCall(t *testing.T) {
	c := newCoreInst(t, -1)
	ctx := context.Background()
	_, err := c.call(t, ctx, CallLimits{}, "add", 1)
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "takes 2 arguments, got 1") {
		t.Fatalf("add(1) = %v (%T), want an *Error about the argument count", err, err)
	}
	err = c.g.CallNoResult(c.fn("add"), 1, 2)
	if !errors.As(err, &e) || !strings.Contains(e.Message, "returns 1 results, the caller expects 0") {
		t.Fatalf("add as no-result = %v, want an *Error about the result count", err)
	}
	_, err = c.g.Call(c.fn("add"), make([]int32, 9)...)
	if err == nil || !strings.Contains(err.Error(), "takes 2 arguments, got 9") {
		t.Fatalf("9 arguments: %v", err)
	}
	// A function of another guard's store is refused before wasmtime sees it.
	other := newCoreInst(t, -1)
	if _, err := c.g.Call(other.fn("add"), 1, 2); err == nil || !strings.Contains(err.Error(), "another CoreGuard") {
		t.Fatalf("a function of another store: %v", err)
	}
	if got, err := c.call(t, ctx, CallLimits{}, "add", 1, 1); err != nil || got != 2 {
		t.Fatalf("after wrong calls: add(1, 1) = %d, %v", got, err)
	}
}

// Func takes only what CoreGuard can call: i32 parameters, at most one i32
// result.
func TestCoreGuardFuncTypes(t *testing.T) {
	wasm, err := wasmtime.Wat2Wasm(`(module
  (func (export "i64") (param i64))
  (func (export "f32") (result f32) (f32.const 0))
  (func (export "two") (result i32 i32) (i32.const 0) (i32.const 0))
  (func (export "nine") (param i32 i32 i32 i32 i32 i32 i32 i32 i32))
  (func (export "ok") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32) (local.get 7)))`)
	must(t, err)
	f := coreEngine(t)
	m, err := wasmtime.NewModule(f.engine.Wasmtime(), wasm)
	must(t, err)
	g := NewCoreGuard(wasmtime.NewStore(f.engine.Wasmtime()))
	defer g.Close()
	inst, err := wasmtime.NewInstance(g.Store(), m, nil)
	must(t, err)
	for name, want := range map[string]string{
		"i64":  "parameter 0 is i64, not i32",
		"f32":  "the result is f32, not i32",
		"two":  "2 results, not at most one i32",
		"nine": "9 parameters, more than the 8",
	} {
		_, err := g.Func(inst.GetFunc(g.Store(), name))
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Message, want) {
			t.Errorf("Func(%s) = %v, want an *Error containing %q", name, err, want)
		}
	}
	ok, err := g.Func(inst.GetFunc(g.Store(), "ok"))
	must(t, err)
	must(t, g.Begin(context.Background(), CallLimits{Fuel: 1000}))
	defer g.End()
	if ok.Params() != 8 || ok.Results() != 1 {
		t.Fatalf("ok: %d params, %d results", ok.Params(), ok.Results())
	}
	if r, err := g.Call(ok, 1, 2, 3, 4, 5, 6, 7, -8); err != nil || r != -8 {
		t.Fatalf("ok(1..-8) = %d, %v", r, err)
	}
}

func TestCoreGuardTraps(t *testing.T) {
	c := newCoreInst(t, 2<<16)
	ctx := context.Background()
	l := CallLimits{Fuel: 10_000_000, Timeout: 5 * time.Second}
	cases := []struct {
		name     string
		args     []int32
		kind     TrapKind
		sentinel error
		msg      string
	}{
		{"crash", nil, TrapUnreachable, ErrUnreachable, "wasm `unreachable` instruction executed"},
		{"oob", nil, TrapOutOfBounds, ErrOutOfBounds, "out of bounds memory access"},
		{"deep", []int32{0}, TrapStackOverflow, ErrStackOverflow, "call stack exhausted"},
		{"div", []int32{0}, TrapDivideByZero, nil, "integer divide by zero"},
		{"callhost", nil, TrapOther, nil, "host says no"},
		{"spin", nil, TrapFuelExhausted, ErrFuelExhausted, "all fuel consumed by WebAssembly"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.call(t, ctx, l, tc.name, tc.args...)
			var trap *Trap
			if !errors.As(err, &trap) {
				t.Fatalf("%s: %v (%T), want a *Trap", tc.name, err, err)
			}
			if trap.Kind != tc.kind || !strings.Contains(trap.Message, tc.msg) {
				t.Errorf("%s: kind %v message %q; want %v containing %q", tc.name, trap.Kind, trap.Message, tc.kind, tc.msg)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("%s: errors.Is(%v) is false", tc.name, tc.sentinel)
			}
			if len(trap.Frames) == 0 && tc.name != "callhost" {
				t.Errorf("%s: no frames", tc.name)
			}
			if len(trap.Frames) > MaxTraceFrames {
				t.Errorf("%s: %d frames kept, more than %d", tc.name, len(trap.Frames), MaxTraceFrames)
			}
			// The guard and the store keep working.
			if got, err := c.call(t, ctx, l, "add", 2, 3); err != nil || got != 5 {
				t.Fatalf("after %s: add(2, 3) = %d, %v", tc.name, got, err)
			}
		})
	}
	// The stack-overflow trap kept the innermost frames wasmtime captured.
	_, err := c.call(t, ctx, l, "deep", 0)
	var trap *Trap
	if errors.As(err, &trap) && len(trap.Frames) != min(wasmtimeMaxFrames, MaxTraceFrames) {
		t.Errorf("deep: %d frames, %d omitted; want %d", len(trap.Frames), trap.OmittedFrames, min(wasmtimeMaxFrames, MaxTraceFrames))
	}
	// A memory at its limit: memory.grow gives -1, no trap.
	if got, err := c.call(t, ctx, l, "grow", 1); err != nil || got != 1 {
		t.Fatalf("grow(1) under a 2-page limit = %d, %v; want 1", got, err)
	}
	if got, err := c.call(t, ctx, l, "grow", 1); err != nil || got != -1 {
		t.Fatalf("grow(1) at the 2-page limit = %d, %v; want -1", got, err)
	}
}

func TestCoreGuardTimeout(t *testing.T) {
	c := newCoreInst(t, -1)
	start := time.Now()
	_, err := c.call(t, context.Background(), CallLimits{Timeout: 50 * time.Millisecond}, "spin")
	elapsed := time.Since(start)
	var trap *Trap
	var te *TimeoutError
	if !errors.As(err, &trap) || trap.Kind != TrapInterrupted || !errors.As(err, &te) || te.Limit != 50*time.Millisecond {
		t.Fatalf("spin with a 50ms timeout: %v (%T), want an interrupted *Trap caused by a 50ms TimeoutError", err, err)
	}
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrInterrupted) {
		t.Errorf("errors.Is(ErrTimeout) = %t, errors.Is(ErrInterrupted) = %t", errors.Is(err, ErrTimeout), errors.Is(err, ErrInterrupted))
	}
	if err.Error() != "execution timeout of 50ms exceeded" {
		t.Errorf("message %q", err.Error())
	}
	if elapsed < 50*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("stopped after %s", elapsed)
	}
	if got, err := c.call(t, context.Background(), CallLimits{Timeout: time.Second}, "add", 1, 2); err != nil || got != 3 {
		t.Fatalf("after the timeout: %d, %v", got, err)
	}
}

func TestCoreGuardContext(t *testing.T) {
	c := newCoreInst(t, -1)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	must(t, c.g.Begin(ctx, CallLimits{}))
	_, err := c.g.Call(c.fn("spin"))
	if cause := c.g.End(); cause != context.Canceled {
		t.Errorf("End = %v, want context.Canceled", cause)
	}
	var trap *Trap
	if !errors.As(err, &trap) || trap.Kind != TrapInterrupted || !errors.Is(err, context.Canceled) {
		t.Fatalf("spin cancelled: %v (%T)", err, err)
	}
	// A context that already ended: nothing runs.
	err = c.g.Begin(ctx, CallLimits{})
	if !errors.As(err, &trap) || trap.Kind != TrapInterrupted || !errors.Is(err, context.Canceled) {
		t.Fatalf("Begin with a cancelled context: %v", err)
	}
	// A context deadline is enforced like a timeout, and reported as the
	// context's.
	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer dcancel()
	_, err = c.call(t, dctx, CallLimits{Timeout: time.Minute}, "spin")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("spin past the context deadline: %v", err)
	}
	// The earlier of the two says why, even before the context's own timer
	// fires (a context whose Err stays nil past its deadline).
	late := lateContext{context.Background(), time.Now().Add(30 * time.Millisecond)}
	_, err = c.call(t, late, CallLimits{Timeout: time.Minute}, "spin")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("spin past a deadline its context has not noticed: %v", err)
	}
	late = lateContext{context.Background(), time.Now().Add(time.Minute)}
	_, err = c.call(t, late, CallLimits{Timeout: 30 * time.Millisecond}, "spin")
	if !errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("spin past the timeout, before the context's deadline: %v", err)
	}
	if got, err := c.call(t, context.Background(), CallLimits{}, "add", 2, 2); err != nil || got != 4 {
		t.Fatalf("after cancellation: %d, %v", got, err)
	}
}

// lateContext has a deadline but never reports it through Err.
type lateContext struct {
	context.Context
	d time.Time
}

func (c lateContext) Deadline() (time.Time, bool) { return c.d, true }

func TestCoreErrorInstantiate(t *testing.T) {
	f := coreEngine(t)
	wasm, err := wasmtime.Wat2Wasm(`(module (memory (export "memory") 4))`)
	must(t, err)
	m, err := wasmtime.NewModule(f.engine.Wasmtime(), wasm)
	must(t, err)
	s := wasmtime.NewStore(f.engine.Wasmtime())
	s.Limiter(2<<16, -1, -1, -1, -1)
	g := NewCoreGuard(s)
	defer g.Close()
	_, err = wasmtime.NewInstance(s, m, nil)
	err = g.Err("instantiate", err)
	var e *Error
	if !errors.As(err, &e) || e.Op != "instantiate" || !errors.Is(err, ErrMemoryLimit) || !errors.Is(err, ErrResourceLimit) {
		t.Fatalf("instantiating 4 pages under a 2-page limit: %v (%T), want an *Error matching ErrMemoryLimit", err, err)
	}
	// A start function runs under the limits of the execution around it
	// (a new store has no fuel).
	wasm, err = wasmtime.Wat2Wasm(`(module (func $s (loop $l (br $l))) (start $s))`)
	must(t, err)
	m, err = wasmtime.NewModule(f.engine.Wasmtime(), wasm)
	must(t, err)
	_, err = wasmtime.NewInstance(s, m, nil)
	var trap *Trap
	if err = g.Err("instantiate", err); !errors.As(err, &trap) || trap.Kind != TrapFuelExhausted {
		t.Fatalf("start function without fuel: %v (%T)", err, err)
	}
	must(t, g.Begin(context.Background(), CallLimits{Timeout: 20 * time.Millisecond}))
	_, err = wasmtime.NewInstance(s, m, nil)
	err = g.Err("instantiate", err)
	if cause := g.End(); !errors.Is(cause, ErrTimeout) {
		t.Errorf("End = %v, want the timeout", cause)
	}
	if !errors.As(err, &trap) || trap.Kind != TrapInterrupted || !errors.Is(err, ErrTimeout) {
		t.Fatalf("endless start function with a timeout: %v (%T)", err, err)
	}
	if CoreError("x", nil) != nil || g.Err("x", nil) != nil {
		t.Error("nil errors must stay nil")
	}
	plain := errors.New("plain")
	if CoreError("x", plain) != plain {
		t.Error("other errors must pass through")
	}
}

func TestCoreGuardClose(t *testing.T) {
	c := newCoreInst(t, -1)
	f := c.fn("add")
	c.g.Close()
	c.g.Close()
	if err := c.g.Begin(context.Background(), CallLimits{}); err != errGuardClosed {
		t.Errorf("Begin after Close: %v", err)
	}
	if _, err := c.g.Call(f, 1, 2); err != errGuardClosed {
		t.Errorf("Call after Close: %v", err)
	}
	if c.g.Memory(c.mem) != nil || c.g.Fuel() != 0 {
		t.Error("Memory and Fuel after Close must be empty")
	}
	if err := c.g.SetWASI(&WASIConfig{}); err != errGuardClosed {
		t.Errorf("SetWASI after Close: %v", err)
	}
}

// TestCoreGuardUnclosed checks that a guarded store nobody closes is still
// freed: the handle of the guard's callback holds no reference to it.
func TestCoreGuardUnclosed(t *testing.T) {
	f := coreEngine(t)
	for range 200 {
		s := wasmtime.NewStore(f.engine.Wasmtime())
		g := NewCoreGuard(s)
		must(t, g.Begin(context.Background(), CallLimits{Timeout: time.Second}))
		g.End()
	}
	// Nothing to assert beyond not crashing when finalizers run: run them.
	for range 3 {
		runtime.GC()
	}
}

const coreWASIWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello out\n")
  (data (i32.const 32) "to err\n")
  (data (i32.const 48) "etc")
  ;; write(fd, ptr, len) -> errno
  (func (export "write") (param $fd i32) (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (local.get $n))
    (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
  ;; number of environment variables
  (func (export "envcount") (result i32)
    (drop (call $env (i32.const 0) (i32.const 4)))
    (i32.load (i32.const 0)))
  ;; open "etc" relative to fd 3 -> errno (no preopens: EBADF = 8)
  (func (export "open") (result i32)
    (call $open (i32.const 3) (i32.const 0) (i32.const 48) (i32.const 3) (i32.const 0)
      (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 64)))
)`

func TestCoreGuardWASI(t *testing.T) {
	f := coreEngine(t)
	wasm, err := wasmtime.Wat2Wasm(coreWASIWAT)
	must(t, err)
	m, err := wasmtime.NewModule(f.engine.Wasmtime(), wasm)
	must(t, err)
	l := wasmtime.NewLinker(f.engine.Wasmtime())
	must(t, l.DefineWasi())
	s := wasmtime.NewStore(f.engine.Wasmtime())
	g := NewCoreGuard(s)
	defer g.Close()
	var out, errOut bytes.Buffer
	must(t, g.SetWASI(&WASIConfig{Stdout: &out, Stderr: &errOut}))
	inst, err := l.Instantiate(s, m)
	must(t, g.Err("instantiate", err))
	call := func(name string, args ...int32) int32 {
		t.Helper()
		must(t, g.Begin(context.Background(), CallLimits{Fuel: 1_000_000}))
		defer g.End()
		f, err := g.Func(inst.GetFunc(s, name))
		must(t, err)
		r, err := g.Call(f, args...)
		must(t, err)
		return r
	}
	if errno := call("write", 1, 16, 10); errno != 0 {
		t.Fatalf("fd_write(stdout) errno %d", errno)
	}
	if errno := call("write", 2, 32, 7); errno != 0 {
		t.Fatalf("fd_write(stderr) errno %d", errno)
	}
	if out.String() != "hello out\n" || errOut.String() != "to err\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if n := call("envcount"); n != 0 {
		t.Errorf("sealed context has %d environment variables", n)
	}
	if errno := call("open"); errno != 8 {
		t.Errorf("path_open without preopens: errno %d, want 8 (badf)", errno)
	}
	// A panicking writer loses the output, not the call.
	g2 := NewCoreGuard(wasmtime.NewStore(f.engine.Wasmtime()))
	defer g2.Close()
	must(t, g2.SetWASI(&WASIConfig{Stdout: panicWriter{}}))
	inst2, err := l.Instantiate(g2.Store(), m)
	must(t, err)
	must(t, g2.Begin(context.Background(), CallLimits{}))
	write2, err := g2.Func(inst2.GetFunc(g2.Store(), "write"))
	must(t, err)
	if r, err := g2.Call(write2, 1, 16, 10); err != nil || r != 0 {
		t.Fatalf("write to a panicking writer: %d, %v", r, err)
	}
	g2.End()
	// The environment is what the config says.
	g3 := NewCoreGuard(wasmtime.NewStore(f.engine.Wasmtime()))
	defer g3.Close()
	must(t, g3.SetWASI(&WASIConfig{Env: [][2]string{{"A", "1"}, {"B", "2"}}}))
	inst3, err := l.Instantiate(g3.Store(), m)
	must(t, err)
	must(t, g3.Begin(context.Background(), CallLimits{}))
	envcount3, err := g3.Func(inst3.GetFunc(g3.Store(), "envcount"))
	must(t, err)
	if r, err := g3.Call(envcount3); err != nil || r != 2 {
		t.Fatalf("envcount with 2 variables: %d, %v", r, err)
	}
	g3.End()
	if err := g3.SetWASI(&WASIConfig{Env: [][2]string{{"A", "\xff"}}}); err == nil {
		t.Error("invalid UTF-8 in the environment was accepted")
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("writer panics") }

// BenchmarkCoreGuardCall measures a no-op i32 call through the guard
// against wasmtime-go's own Func.Call, in the same run.
func BenchmarkCoreGuardCall(b *testing.B) {
	c := newCoreInst(b, -1)
	f, raw := c.fn("add"), c.inst.GetFunc(c.g.Store(), "add")
	b.Run("guard", func(b *testing.B) {
		must(b, c.g.Begin(context.Background(), CallLimits{}))
		defer c.g.End()
		for b.Loop() {
			if _, err := c.g.Call(f, 1, 2); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wasmtime-go", func(b *testing.B) {
		must(b, c.g.Begin(context.Background(), CallLimits{}))
		defer c.g.End()
		for b.Loop() {
			if _, err := raw.Call(c.g.Store(), int32(1), int32(2)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
