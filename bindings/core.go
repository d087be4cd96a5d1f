package bindings

// Core modules: wasmtime-go runs them, but its Go API has no epoch deadline
// callback (so a call cannot be bounded by a Go context or a wall-clock
// timeout without killing the whole engine's epoch), no way to capture WASI
// stdout and stderr in Go, and a call path that allocates and crosses into C
// several times per call. CoreGuard adds those to a *wasmtime.Store, with the
// same typed errors (*Trap, *Error, TimeoutError) that components get from
// Store, so that callers classify both the same way.

// #include "core.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// CoreGuard enforces per-call limits on a wasmtime-go store that runs core
// modules, and makes fast calls into it:
//
//   - Begin starts an execution (one or more calls into the store): it sets
//     the store's fuel to the execution's budget and arms an epoch deadline
//     callback that stops the guest when the context ends or the timeout
//     passes. The engine must have fuel and epoch interruption enabled for
//     these limits to apply (the callback runs on every epoch tick of the
//     engine while guest code runs).
//   - Func checks a function's type once (i32 parameters, at most one i32
//     result); Call then calls it in one cgo transition, without wasmtime's
//     per-call type check, and converts its failure to a *Trap (with Kind
//     TrapInterrupted and Cause a *TimeoutError or the context's error when
//     the guard stopped it) or an *Error. Track keeps a view of a memory
//     current after every call.
//   - End finishes the execution.
//
// NewCoreGuard takes ownership of the store: Close closes it. A CoreGuard,
// like its store, is for one goroutine at a time.
type CoreGuard struct {
	store  *wasmtime.Store
	cx     *C.wasmtime_context_t
	st     *coreState
	handle handle // of st; deleted by wasmtime with the store
	fuel   bool   // whether the engine consumes fuel
	closed bool
	sc     *C.dl_core_scratch_t // C memory, freed by a cleanup with the guard
}

// coreState is what the C callbacks reach through a handle. It holds no
// reference to the store, so a store that is never closed can still be
// collected by wasmtime-go's finalizer, which then deletes the handle.
type coreState struct {
	ctx       context.Context
	deadline  time.Time // the earlier of timeoutAt and the context's deadline
	timeoutAt time.Time // when the timeout passes (zero: no timeout)
	timeout   time.Duration
	cause     error // why the epoch callback stopped the running call

	stdout, stderr io.Writer
}

// NewCoreGuard installs the guard's epoch deadline callback on s and takes
// ownership of s.
func NewCoreGuard(s *wasmtime.Store) *CoreGuard {
	st := &coreState{}
	h := newHandle(st)
	ptr := storePtr(s)
	if ptr == nil {
		h.delete()
		panic("bindings: NewCoreGuard: the store is closed")
	}
	C.dl_core_guard(ptr, C.uintptr_t(h))
	g := &CoreGuard{store: s, cx: C.wasmtime_store_context(ptr), st: st, handle: h}
	g.sc = (*C.dl_core_scratch_t)(C.calloc(1, C.sizeof_dl_core_scratch_t))
	if g.sc == nil {
		panic("bindings: NewCoreGuard: out of C memory")
	}
	runtime.AddCleanup(g, func(sc *C.dl_core_scratch_t) { C.free(unsafe.Pointer(sc)) }, g.sc)
	var f C.uint64_t
	if e := C.wasmtime_context_get_fuel(g.cx, &f); e != nil {
		C.wasmtime_error_delete(e) // the engine does not consume fuel
	} else {
		g.fuel = true
	}
	runtime.KeepAlive(s)
	return g
}

// Store returns the guarded store.
func (g *CoreGuard) Store() *wasmtime.Store { return g.store }

// Close closes the store (and with it the guard's callbacks). Close is
// idempotent.
func (g *CoreGuard) Close() {
	if g.closed {
		return
	}
	g.closed = true
	g.st.ctx = nil
	g.store.Close()
	g.cx = nil
}

var errGuardClosed = errors.New("bindings: core store is closed")

// Begin starts an execution under ctx and the limits l: l.Fuel is the fuel
// of the whole execution (0 means the maximum; ignored when the engine
// does not consume fuel), l.Timeout its wall-clock limit (0: only ctx
// bounds it). A context that has already ended gives a *Trap of kind
// TrapInterrupted and nothing is armed.
func (g *CoreGuard) Begin(ctx context.Context, l CallLimits) error {
	if g.closed {
		return errGuardClosed
	}
	if err := ctx.Err(); err != nil {
		return &Trap{Kind: TrapInterrupted, Cause: err}
	}
	st := g.st
	st.ctx, st.cause, st.timeout, st.deadline, st.timeoutAt = ctx, nil, l.Timeout, time.Time{}, time.Time{}
	if l.Timeout > 0 {
		st.timeoutAt = time.Now().Add(l.Timeout)
		st.deadline = st.timeoutAt
	}
	if d, ok := ctx.Deadline(); ok && (st.deadline.IsZero() || d.Before(st.deadline)) {
		st.deadline = d
	}
	fuel := l.Fuel
	if fuel == 0 {
		fuel = ^uint64(0)
	}
	if err := takeError("fuel", C.dl_core_begin(g.cx, boolInt(g.fuel), C.uint64_t(fuel))); err != nil {
		st.ctx = nil
		return err
	}
	return nil
}

// End finishes the execution started by Begin and returns why the guard
// stopped it, if it did (a *TimeoutError, context.Canceled or
// context.DeadlineExceeded), else nil.
func (g *CoreGuard) End() error {
	st := g.st
	cause := st.cause
	st.ctx, st.cause, st.timeout, st.deadline, st.timeoutAt = nil, nil, 0, time.Time{}, time.Time{}
	return cause
}

// Fuel returns the fuel left in the store (0 when the engine does not
// consume fuel).
func (g *CoreGuard) Fuel() uint64 {
	if g.closed || !g.fuel {
		return 0
	}
	var f C.uint64_t
	if e := C.wasmtime_context_get_fuel(g.cx, &f); e != nil {
		C.wasmtime_error_delete(e)
		return 0
	}
	return uint64(f)
}

// MaxCoreArgs is the most arguments Call passes.
const MaxCoreArgs = 8

// CoreFunc is a function of a guarded store whose type CoreGuard.Func
// checked once: i32 parameters (at most MaxCoreArgs) and no result or one
// i32. Calls through it skip wasmtime's per-call type check, a lookup in
// the engine's type registry that was an eighth of a legacy plugin call.
type CoreFunc struct {
	g       *CoreGuard
	fn      C.dl_core_func_t
	params  int
	results int
}

// Params returns the number of the function's i32 parameters.
func (f *CoreFunc) Params() int { return f.params }

// Results returns the number of its results: 0 or 1 (an i32).
func (f *CoreFunc) Results() int { return f.results }

// Func checks the type of f, an exported function of an instance in the
// guarded store, and returns it ready for Call: a function with another
// type (an i64 or float parameter, more than one result, more than
// MaxCoreArgs parameters) is an *Error naming what is wrong.
func (g *CoreGuard) Func(f *wasmtime.Func) (*CoreFunc, error) {
	if g.closed {
		return nil, errGuardClosed
	}
	sc := g.sc
	sc.fn = coreFunc(f)
	C.dl_core_functype(g.cx, C.uintptr_t(uintptr(unsafe.Pointer(sc))))
	runtime.KeepAlive(g.store)
	params, results := int(sc.args[0]), int(sc.args[1])
	badParam, paramKind, resultKind := int(sc.args[2]), int(sc.args[3]), int(sc.args[4])
	wrong := func(format string, args ...any) (*CoreFunc, error) {
		return nil, &Error{Op: "core function", Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case params > MaxCoreArgs:
		return wrong("%d parameters, more than the %d CoreGuard passes", params, MaxCoreArgs)
	case badParam >= 0:
		return wrong("parameter %d is %s, not i32", badParam, coreKindName(paramKind))
	case results > 1:
		return wrong("%d results, not at most one i32", results)
	case resultKind >= 0:
		return wrong("the result is %s, not i32", coreKindName(resultKind))
	}
	return &CoreFunc{g: g, fn: sc.fn, params: params, results: results}, nil
}

// coreKindName names a wasm_valkind_t.
func coreKindName(k int) string {
	switch k {
	case 0:
		return "i32"
	case 1:
		return "i64"
	case 2:
		return "f32"
	case 3:
		return "f64"
	case 4:
		return "v128"
	case 128:
		return "externref"
	case 129:
		return "funcref"
	}
	return fmt.Sprintf("a value of kind %d", k)
}

// Call calls f, which returns one i32, with args, and returns its result.
// Arguments that do not match f's parameters are an *Error, never a
// crash. Call outside Begin/End runs without the guard's limits.
func (g *CoreGuard) Call(f *CoreFunc, args ...int32) (int32, error) {
	return g.call(f, 1, args)
}

// CallNoResult is Call for functions that return nothing.
func (g *CoreGuard) CallNoResult(f *CoreFunc, args ...int32) error {
	_, err := g.call(f, 0, args)
	return err
}

func (g *CoreGuard) call(f *CoreFunc, nres int, args []int32) (int32, error) {
	if g.closed {
		return 0, errGuardClosed
	}
	switch {
	case f.g != g:
		// wasmtime aborts the process on a function of another store.
		return 0, &Error{Op: "call", Message: "the function belongs to another CoreGuard's store"}
	case len(args) != f.params:
		return 0, &Error{Op: "call", Message: fmt.Sprintf("the function takes %d arguments, got %d", f.params, len(args))}
	case nres != f.results:
		return 0, &Error{Op: "call", Message: fmt.Sprintf("the function returns %d results, the caller expects %d", f.results, nres)}
	}
	sc := g.sc
	for i, v := range args {
		sc.args[i] = C.int32_t(v)
	}
	sc.fn = f.fn
	rc := C.dl_core_call(g.cx, C.uintptr_t(uintptr(unsafe.Pointer(sc))), C.size_t(len(args)), C.size_t(nres))
	runtime.KeepAlive(g.store)
	switch rc {
	case C.DL_CORE_OK:
		return int32(sc.result), nil
	case C.DL_CORE_TRAP:
		return 0, g.interrupted(takeTrap(sc.trap))
	}
	return 0, g.interrupted(takeError("call", sc.err))
}

// The scratch space holds the arguments of a call.
var _ = [1]struct{}{}[MaxCoreArgs-C.DL_CORE_MAX_ARGS]

// Memory returns the current bytes of m, a memory of the guarded store.
// The slice aliases the guest's memory: it is valid until the next call
// into the store (which may grow and move the memory) or Close.
func (g *CoreGuard) Memory(m *wasmtime.Memory) []byte {
	if g.closed {
		return nil
	}
	sc := g.sc
	sc.mem = coreMemory(m)
	p := C.dl_core_memory(g.cx, C.uintptr_t(uintptr(unsafe.Pointer(sc))))
	runtime.KeepAlive(g.store)
	if sc.size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(sc.size))
}

// Track makes m, a memory of the guarded store, the guard's tracked memory
// and returns its bytes: from then on every Call refreshes the view of it
// that Tracked returns, in the same cgo call. A caller that reads memory
// after each guest call (the legacy ABI's strings) saves a transition per
// read.
func (g *CoreGuard) Track(m *wasmtime.Memory) []byte {
	if g.closed {
		return nil
	}
	sc := g.sc
	sc.tracked = coreMemory(m)
	sc.track = 1
	C.dl_core_view(g.cx, C.uintptr_t(uintptr(unsafe.Pointer(sc))))
	runtime.KeepAlive(g.store)
	return g.Tracked()
}

// Tracked returns the bytes of the tracked memory as of the last Call (or
// Track), without a cgo call; nil when no memory is tracked. Like Memory's,
// the slice is valid until the next call into the store. Guest code that
// runs other than through Call (wasmtime-go's Func.Call) may grow the
// memory: call Track again after it.
func (g *CoreGuard) Tracked() []byte {
	sc := g.sc
	if g.closed || sc.track == 0 || sc.view_size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(sc.view)), int(sc.view_size))
}

// Err converts an error wasmtime-go returned for an operation on the
// guarded store (Linker.Instantiate, Func.Call, ...) the way Call converts
// its own: traps become *Trap, limits and other failures *Error, and a call
// the guard stopped a *Trap of kind TrapInterrupted with its cause.
func (g *CoreGuard) Err(op string, err error) error {
	if err == nil {
		return nil
	}
	return g.interrupted(CoreError(op, err))
}

// interrupted makes err an interruption when the epoch callback stopped
// the call.
func (g *CoreGuard) interrupted(err error) error {
	cause := g.st.cause
	if cause == nil || err == nil {
		return err
	}
	t, ok := err.(*Trap)
	if !ok {
		t = &Trap{Message: trapLine(err.Error())}
	}
	t.Kind, t.Cause = TrapInterrupted, cause
	return t
}

// CoreError converts an error of wasmtime-go (a *wasmtime.Trap or a
// *wasmtime.Error) into this package's typed errors: a *Trap of the trap's
// kind, with a bounded backtrace, or an *Error (which matches
// ErrResourceLimit and friends when wasmtime refused a limit). Other errors
// are returned as they are.
func CoreError(op string, err error) error {
	var wt *wasmtime.Trap
	var we *wasmtime.Error
	switch {
	case errors.As(err, &wt):
		t := &Trap{Kind: TrapOther, Message: trapLine(wt.Message())}
		if code := wt.Code(); code != nil {
			t.Kind = coreTrapKind(uint8(*code))
		} else if k, ok := classify(wt.Message()); ok {
			t.Kind = k
		}
		frames := wt.Frames()
		keep := min(len(frames), MaxTraceFrames)
		for _, f := range frames[:keep] {
			fr := Frame{FuncIndex: f.FuncIndex(), ModuleOffset: uintptr(f.ModuleOffset())}
			if n := f.FuncName(); n != nil {
				fr.Func = bound(*n, 256)
			}
			if n := f.ModuleName(); n != nil {
				fr.Module = bound(*n, 256)
			}
			t.Frames = append(t.Frames, fr)
		}
		t.OmittedFrames = len(frames) - keep
		return t
	case errors.As(err, &we):
		msg := we.Error()
		if kind, isTrap := classify(msg); isTrap {
			return &Trap{Kind: kind, Message: trapLine(msg)}
		}
		return &Error{Op: op, Message: cleanMessage(msg), limit: classifyLimit(msg)}
	}
	return err
}

// takeTrap converts and frees a wasm_trap_t.
func takeTrap(p *C.wasm_trap_t) error {
	defer C.wasm_trap_delete(p)
	var b C.dl_bytes_t
	C.wasm_trap_message(p, &b)
	msg := C.GoStringN((*C.char)(unsafe.Pointer(b.data)), C.int(b.size))
	C.wasm_byte_vec_delete(&b)
	for len(msg) > 0 && msg[len(msg)-1] == 0 {
		msg = msg[:len(msg)-1]
	}
	t := &Trap{Kind: TrapOther, Message: trapLine(msg)}
	var code C.uint8_t
	if C.wasmtime_trap_code(p, &code) {
		t.Kind = coreTrapKind(uint8(code))
	} else if k, ok := classify(msg); ok {
		t.Kind = k
	}
	var v C.dl_frames_t
	C.wasm_trap_trace(p, &v)
	t.Frames, t.OmittedFrames = framesOf(&v)
	C.wasm_frame_vec_delete(&v)
	return t
}

func framesOf(v *C.dl_frames_t) ([]Frame, int) {
	n := int(v.size)
	if n == 0 {
		return nil, 0
	}
	all := unsafe.Slice(v.data, n)
	keep := min(n, MaxTraceFrames)
	frames := make([]Frame, keep)
	for i := range keep {
		f := all[i]
		frames[i] = Frame{
			FuncIndex:    uint32(C.wasm_frame_func_index(f)),
			ModuleOffset: uintptr(C.wasm_frame_module_offset(f)),
			Func:         bytesString(C.wasmtime_frame_func_name(f), 256),
			Module:       bytesString(C.wasmtime_frame_module_name(f), 256),
		}
	}
	return frames, n - keep
}

// Trap codes of wasmtime 44 (wasmtime/trap.h; TestCoreHeaders pins them).
// They are this package's own: wasmtime-go's TrapCode constants stop at
// OUT_OF_FUEL (and under wasmtime 39, whose enum had ALWAYS_TRAP_ADAPTER
// after INTERRUPT, they were off by one from OUT_OF_FUEL on).
const (
	coreTrapStackOverflow      = 0
	coreTrapMemoryOutOfBounds  = 1
	coreTrapHeapMisaligned     = 2
	coreTrapTableOutOfBounds   = 3
	coreTrapIndirectCallToNull = 4
	coreTrapBadSignature       = 5
	coreTrapIntegerOverflow    = 6
	coreTrapIntegerDivByZero   = 7
	coreTrapBadConversionToInt = 8
	coreTrapUnreachable        = 9
	coreTrapInterrupt          = 10
	coreTrapOutOfFuel          = 11
	coreTrapNullReference      = 13
	coreTrapArrayOutOfBounds   = 14
	coreTrapAllocationTooLarge = 15
)

func coreTrapKind(code uint8) TrapKind {
	switch code {
	case coreTrapStackOverflow:
		return TrapStackOverflow
	case coreTrapMemoryOutOfBounds, coreTrapHeapMisaligned, coreTrapTableOutOfBounds,
		coreTrapNullReference, coreTrapArrayOutOfBounds:
		return TrapOutOfBounds
	case coreTrapIndirectCallToNull, coreTrapBadSignature:
		return TrapIndirectCall
	case coreTrapIntegerOverflow:
		return TrapIntegerOverflow
	case coreTrapIntegerDivByZero:
		return TrapDivideByZero
	case coreTrapBadConversionToInt:
		return TrapBadConversion
	case coreTrapUnreachable:
		return TrapUnreachable
	case coreTrapInterrupt:
		return TrapInterrupted
	case coreTrapOutOfFuel:
		return TrapFuelExhausted
	}
	return TrapOther
}

// SetWASI gives the guarded store a WASI preview1 context configured by w,
// for core modules linked with wasmtime-go's Linker.DefineWasi. As for
// components, the zero WASIConfig is sealed: no arguments, no environment,
// no preopened directories, empty stdin, no network; stdout and stderr go to
// w.Stdout and w.Stderr (called synchronously from guest calls; nil
// discards).
func (g *CoreGuard) SetWASI(w *WASIConfig) error {
	if g.closed {
		return errGuardClosed
	}
	cfg, err := newWASIConfig(w)
	if err != nil {
		return err
	}
	g.st.stdout, g.st.stderr = w.Stdout, w.Stderr
	// The callbacks use the guard's handle, which lives as long as the
	// store (it is deleted with the epoch callback).
	C.dl_core_wasi_capture(cfg, C.uintptr_t(g.handle))
	// wasmtime takes cfg, even on error.
	return takeError("wasi", C.wasmtime_context_set_wasi(g.cx, cfg))
}

//export dlGoCoreEpoch
func dlGoCoreEpoch(h C.uintptr_t, delta *C.uint64_t) *C.wasmtime_error_t {
	st, ok := handle(h).value().(*coreState)
	if !ok {
		return newCError("bindings: epoch callback for an unknown core store")
	}
	if err := st.interruption(); err != nil {
		st.cause = err
		return newCError("driftless: call interrupted: " + err.Error())
	}
	*delta = 1
	return nil
}

func (st *coreState) interruption() error {
	if st.ctx != nil {
		if err := st.ctx.Err(); err != nil {
			return err
		}
	}
	if !st.deadline.IsZero() && !time.Now().Before(st.deadline) {
		// The earlier of the timeout and the context's deadline passed:
		// say which (the context's own timer may not have fired yet).
		if st.timeout > 0 && !st.timeoutAt.After(st.deadline) {
			return &TimeoutError{Limit: st.timeout}
		}
		return context.DeadlineExceeded
	}
	return nil
}

//export dlGoCoreWASIWrite
func dlGoCoreWASIWrite(h C.uintptr_t, stream C.int, buf *C.uchar, n C.size_t) C.ptrdiff_t {
	st, ok := handle(h).value().(*coreState)
	if !ok {
		return C.ptrdiff_t(n)
	}
	w := st.stdout
	if stream == 2 {
		w = st.stderr
	}
	if w != nil && n > 0 {
		// Writers must not panic into C; a failing writer loses the output,
		// not the call.
		func() {
			defer func() { _ = recover() }()
			_, _ = w.Write(C.GoBytes(unsafe.Pointer(buf), C.int(n)))
		}()
	}
	return C.ptrdiff_t(n)
}
