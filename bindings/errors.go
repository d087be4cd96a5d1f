package bindings

// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// TrapKind says why guest execution stopped.
type TrapKind uint8

// The kinds of trap. TrapHost means a host function failed or panicked; the
// Trap's Cause is the host's error.
const (
	TrapOther TrapKind = iota
	TrapFuelExhausted
	TrapInterrupted
	TrapMemoryLimit
	TrapOutOfBounds
	TrapUnreachable
	TrapStackOverflow
	TrapIntegerOverflow
	TrapDivideByZero
	TrapBadConversion
	TrapIndirectCall
	TrapHost
)

var trapKindNames = [...]string{
	TrapOther:           "trap",
	TrapFuelExhausted:   "fuel exhausted",
	TrapInterrupted:     "interrupted",
	TrapMemoryLimit:     "memory limit exceeded",
	TrapOutOfBounds:     "out-of-bounds access",
	TrapUnreachable:     "unreachable executed",
	TrapStackOverflow:   "stack overflow",
	TrapIntegerOverflow: "integer overflow",
	TrapDivideByZero:    "integer divide by zero",
	TrapBadConversion:   "invalid conversion to integer",
	TrapIndirectCall:    "bad indirect call",
	TrapHost:            "host function failed",
}

func (k TrapKind) String() string {
	if int(k) < len(trapKindNames) {
		return trapKindNames[k]
	}
	return fmt.Sprintf("TrapKind(%d)", uint8(k))
}

// Sentinel errors for errors.Is. A *Trap matches the sentinel of its kind;
// ErrTimeout and context.Canceled / context.DeadlineExceeded additionally
// tell the two causes of TrapInterrupted apart.
var (
	ErrFuelExhausted = errors.New("fuel exhausted")
	ErrInterrupted   = errors.New("execution interrupted")
	ErrTimeout       = errors.New("execution timeout exceeded")
	ErrMemoryLimit   = errors.New("memory limit exceeded")
	ErrOutOfBounds   = errors.New("out-of-bounds memory or table access")
	ErrUnreachable   = errors.New("unreachable instruction executed")
	ErrStackOverflow = errors.New("wasm stack overflow")
	ErrHostFunc      = errors.New("host function failed")

	// ErrResourceLimit is matched by every *Error in which wasmtime refused
	// to go beyond a limit of the store (Limits) or of the pooling
	// allocator; ErrMemoryLimit, ErrTableLimit and ErrInstanceLimit tell
	// which kind of limit it was. (A guest growing a memory or table past
	// its limit gets -1 from memory.grow / table.grow instead: no error.)
	ErrResourceLimit = errors.New("resource limit exceeded")
	ErrTableLimit    = errors.New("table limit exceeded")
	ErrInstanceLimit = errors.New("instance limit exceeded")
)

// limitPatterns are wasmtime 44's messages for refused limits (store
// limiter and pooling allocator), by the sentinel they match, the most
// specific first. TestLimitPatternsPinned makes every one of these errors.
var limitPatterns = []struct {
	text  string
	limit error
}{
	// The store limiter (Limits), at instantiation.
	{"exceeds memory limits", ErrMemoryLimit}, // memory minimum size of N pages exceeds memory limits
	{"memory count too high", ErrMemoryLimit}, // resource limit exceeded: memory count too high at N
	{"exceeds table limits", ErrTableLimit},   // table minimum size of N elements exceeds table limits
	{"table count too high", ErrTableLimit},
	{"instance count too high", ErrInstanceLimit},
	// The pooling allocator, at instantiation: maximum concurrent limit
	// of N for memory stripe M / tables / component instances / core
	// instances reached.
	{"for memory stripe", ErrMemoryLimit},
	{"for tables reached", ErrTableLimit},
	{"instances reached", ErrInstanceLimit},
	{"maximum concurrent limit of", ErrResourceLimit},
	// The pooling allocator, at compile time: a module's memories or
	// tables, or the component's core instances, exceed what a slot holds.
	{"module memory does not fit in pooling allocator", ErrMemoryLimit},
	{"module table does not fit in pooling allocator", ErrTableLimit},
	{"core module instances, which exceeds the configured maximum", ErrInstanceLimit},
}

func classifyLimit(msg string) error {
	for _, p := range limitPatterns {
		if strings.Contains(msg, p.text) {
			return p.limit
		}
	}
	return nil
}

var trapSentinels = map[TrapKind]error{
	TrapFuelExhausted: ErrFuelExhausted,
	TrapInterrupted:   ErrInterrupted,
	TrapMemoryLimit:   ErrMemoryLimit,
	TrapOutOfBounds:   ErrOutOfBounds,
	TrapUnreachable:   ErrUnreachable,
	TrapStackOverflow: ErrStackOverflow,
	TrapHost:          ErrHostFunc,
}

// MaxTraceFrames bounds the backtrace a Trap keeps. Guests compiled from
// high-level languages trap with thousands of frames; the first ones say
// where, the rest are omitted and counted.
const MaxTraceFrames = 32

// maxMessage bounds the wasmtime message kept in errors.
const maxMessage = 2048

// Frame is one frame of a guest backtrace.
type Frame struct {
	Module       string // module name, if the binary has one
	Func         string // function name, if the binary has one
	FuncIndex    uint32
	ModuleOffset uintptr
}

func (f Frame) String() string {
	name := f.Func
	if name == "" {
		name = fmt.Sprintf("<func %d>", f.FuncIndex)
	}
	mod := f.Module
	if mod == "" {
		mod = "<module>"
	}
	return fmt.Sprintf("%#x %s!%s", f.ModuleOffset, mod, name)
}

// Trap is the error of a call whose guest code stopped abnormally.
type Trap struct {
	Kind    TrapKind
	Message string // wasmtime's description, first line first, bounded in size
	// Frames is the start of the guest backtrace, at most MaxTraceFrames.
	Frames []Frame
	// OmittedFrames counts the frames beyond Frames.
	OmittedFrames int
	// Cause is the Go error behind the trap: a host function's error, a
	// *HostPanicError, context.Canceled, ErrTimeout...; nil for guest traps.
	Cause error
}

func (t *Trap) Error() string {
	switch {
	case t.Cause != nil && t.Kind == TrapInterrupted:
		return t.Cause.Error()
	case t.Cause != nil:
		return t.Kind.String() + ": " + t.Cause.Error()
	case t.Message != "":
		return "wasm trap: " + t.Message
	}
	return "wasm trap: " + t.Kind.String()
}

// Unwrap returns the Go cause of the trap, if any.
func (t *Trap) Unwrap() error { return t.Cause }

// Is matches the sentinel error of the trap's kind.
func (t *Trap) Is(target error) bool {
	s, ok := trapSentinels[t.Kind]
	return ok && s == target
}

// Backtrace formats the kept frames, one per line, for logs.
func (t *Trap) Backtrace() string {
	var b strings.Builder
	for i, f := range t.Frames {
		fmt.Fprintf(&b, "%3d: %s\n", i, f)
	}
	if t.OmittedFrames > 0 {
		fmt.Fprintf(&b, "     ... %d more frames\n", t.OmittedFrames)
	}
	return b.String()
}

// HostPanicError is the cause of a trap raised because a Go host function
// panicked. The panic is contained: the guest traps and the host goes on.
type HostPanicError struct {
	Func  string // "instance#name" of the host function
	Value any    // the value passed to panic
	Stack string // the goroutine stack at the panic, bounded in size
}

func (e *HostPanicError) Error() string {
	return fmt.Sprintf("host function %s panicked: %v", e.Func, e.Value)
}

// Error is a wasmtime failure that is not a trap: a compile error, a link
// error, a resource handle of the wrong type, an instance limit...
// Errors about limits match ErrResourceLimit and the sentinel of their kind
// (ErrMemoryLimit, ErrTableLimit, ErrInstanceLimit) with errors.Is.
type Error struct {
	Op      string // what failed: "compile", "instantiate", "call", ...
	Message string // wasmtime's message, bounded in size

	limit error // the limit sentinel, if the message is about one
}

func (e *Error) Error() string { return "wasmtime: " + e.Op + ": " + e.Message }

// Is makes errors.Is(err, ErrResourceLimit) (and the sentinel of the kind
// of limit) true for errors about limits.
func (e *Error) Is(target error) bool {
	return e.limit != nil && (target == e.limit || target == ErrResourceLimit)
}

// takeError converts and frees a wasmtime error. A nil pointer gives nil.
func takeError(op string, p *C.wasmtime_error_t) error {
	if p == nil {
		return nil
	}
	defer C.wasmtime_error_delete(p)
	msg := errorMessage(p)
	kind, isTrap := classify(msg)
	if !isTrap {
		return &Error{Op: op, Message: cleanMessage(msg), limit: classifyLimit(msg)}
	}
	t := &Trap{Kind: kind, Message: trapLine(msg)}
	t.Frames, t.OmittedFrames = traceOf(p)
	return t
}

func errorMessage(p *C.wasmtime_error_t) string {
	var b C.dl_bytes_t
	C.wasmtime_error_message(p, &b)
	s := C.GoStringN((*C.char)(unsafe.Pointer(b.data)), C.int(b.size))
	C.wasm_byte_vec_delete(&b)
	return s
}

func traceOf(p *C.wasmtime_error_t) ([]Frame, int) {
	var v C.dl_frames_t
	C.wasmtime_error_wasm_trace(p, &v)
	defer C.wasm_frame_vec_delete(&v)
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

func bytesString(b *C.dl_bytes_t, max int) string {
	if b == nil || b.size == 0 {
		return ""
	}
	n := min(int(b.size), max)
	return C.GoStringN((*C.char)(unsafe.Pointer(b.data)), C.int(n))
}

// Trap descriptions as wasmtime 44 prints them, and the kind of each. They
// are matched against the error chain because the component C API returns
// traps as plain errors without a trap code (core traps are classified by
// their code). TestTrapPatternsPinned makes every one of these traps and
// checks its message and that its code gives the same kind.
var trapPatterns = []struct {
	text string
	kind TrapKind
}{
	{"all fuel consumed by WebAssembly", TrapFuelExhausted},
	{"wasm trap: interrupt", TrapInterrupted},
	{"out of bounds memory access", TrapOutOfBounds},
	{"out of bounds table access", TrapOutOfBounds},
	{"unaligned atomic", TrapOutOfBounds}, // wasmtime 39: "misaligned memory access"
	{"call stack exhausted", TrapStackOverflow},
	{"wasm `unreachable` instruction executed", TrapUnreachable},
	{"integer overflow", TrapIntegerOverflow},
	{"integer divide by zero", TrapDivideByZero},
	{"invalid conversion to integer", TrapBadConversion},
	{"indirect call type mismatch", TrapIndirectCall},
	{"uninitialized element", TrapIndirectCall},
	{"null reference", TrapOutOfBounds},
}

func classify(msg string) (TrapKind, bool) {
	if strings.Contains(msg, "cannot enter component instance") {
		return 0, false
	}
	for _, p := range trapPatterns {
		if strings.Contains(msg, p.text) {
			return p.kind, true
		}
	}
	if strings.Contains(msg, "wasm trap: ") || strings.Contains(msg, "wasm backtrace:") {
		return TrapOther, true
	}
	return 0, false
}

// trapLine extracts the trap description ("wasm trap: ...") from wasmtime's
// multi-line message.
func trapLine(msg string) string {
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "wasm trap: "); ok {
			return bound(rest, maxMessage)
		}
	}
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		for _, p := range trapPatterns {
			if strings.Contains(line, p.text) {
				return bound(line, maxMessage)
			}
		}
	}
	return bound(cleanMessage(msg), maxMessage)
}

// cleanMessage drops the Rust stack backtrace wasmtime appends to errors and
// bounds what is left.
func cleanMessage(msg string) string {
	if i := strings.Index(msg, "\nStack backtrace:"); i >= 0 {
		msg = msg[:i]
	}
	return bound(strings.TrimSpace(msg), maxMessage)
}

func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d more bytes)", len(s)-cut)
}

// newCError makes a wasmtime error carrying msg, to return from callbacks.
func newCError(msg string) *C.wasmtime_error_t {
	cs := C.CString(msg)
	defer C.free(unsafe.Pointer(cs))
	return C.wasmtime_error_new(cs)
}
