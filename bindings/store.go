package bindings

// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
	"unsafe"
	"weak"
)

// Limits bound what the guests of one store may allocate. They are enforced
// by wasmtime's store limiter: a memory cannot grow past MemoryBytes (the
// guest's memory.grow fails), and instantiation fails when a count limit or
// a memory's initial size is exceeded. Zero fields mean "wasmtime's default"
// (no memory or table-size limit; 10,000 instances, tables and memories).
type Limits struct {
	MemoryBytes   int64 // the most bytes any one linear memory may have
	TableElements int64 // the most elements any one table may have
	Instances     int64 // core instances per store
	Tables        int64 // tables per store
	Memories      int64 // linear memories per store
}

// CallLimits apply to each call made in a store.
type CallLimits struct {
	// Fuel is the fuel each call starts with, when the engine consumes fuel.
	// Fuel is per store in wasmtime, so it is reset before every call: a
	// long-lived instance never runs dry from many cheap calls. 0 means the
	// maximum.
	Fuel uint64
	// Timeout is the wall-clock time a call may run, enforced by epoch
	// interruption (the engine needs EpochInterruption). 0 means no limit
	// beyond the call's context.
	Timeout time.Duration
}

// WASIConfig configures the WASI p2 context of a store. The zero value is
// sealed: no arguments, no environment, no preopened directories, empty
// stdin, discarded stdout and stderr, and no network access.
type WASIConfig struct {
	Args []string
	Env  [][2]string // name, value
	// Dirs are host directories the guest may open, by guest path.
	Dirs []PreopenDir
	// Stdout and Stderr receive what the guest writes; nil discards it.
	// They are called synchronously from guest calls and must not block.
	Stdout io.Writer
	Stderr io.Writer
}

// PreopenDir is a host directory made visible to a guest.
type PreopenDir struct {
	HostPath  string
	GuestPath string
	ReadOnly  bool
}

// StoreOptions configure a new Store.
type StoreOptions struct {
	Limits Limits
	Call   CallLimits
	// WASI, if set, configures the store's WASI context. A store without one
	// gets a sealed context when it first instantiates a component with a
	// linker that has WASI (the C API would abort a guest WASI call
	// otherwise).
	WASI *WASIConfig
	// Data is any value the embedder wants to reach from host functions
	// through StoreFromContext(ctx).Data().
	Data any
}

// Store holds instances and their state. A Store is not safe for
// concurrent use: one goroutine at a time may use it and everything in it.
// Stores are cheap; use one per instance or per goroutine.
//
// Close a store when done with it. A store that becomes unreachable without
// Close (nothing holds it, nor any of its instances, functions or
// resources) is closed when the garbage collector finds it, as a safety
// net; that may be much later, and until then its memory stays reserved.
type Store struct {
	*storeState
}

// storeState is a Store's content. C code reaches it through the store's
// handle (wasmtime's callbacks: host functions, destructors, the epoch
// check, WASI output), so it holds no strong pointer to its Store: a Store
// nobody holds can be collected, and its cleanup closes the state.
type storeState struct {
	engine  *Engine
	ptr     *C.wasmtime_store_t
	cx      *C.wasmtime_context_t
	handle  handle
	call    CallLimits
	data    any
	wasi    *WASIConfig
	hasWASI bool

	arena arena
	// slots[d] receives the result and error of calls at nesting depth d.
	slots []*C.dl_slot_t
	// cbBase is where host callbacks of the running call allocate.
	cbBase arenaMark

	// State of the call in progress.
	ctx      context.Context
	cbCtx    context.Context // ctx with the store attached, made at the first callback
	bgCtx    context.Context // context.Background() with the store attached
	deadline time.Time
	// deadlineIsCtx tells whether deadline is the context's (else the
	// store's Timeout).
	deadlineIsCtx bool
	hostErr       error // why a host callback or the epoch callback failed the call
	depth         int

	resources map[*resourceCell]struct{}
	borrows   []*resourceCell // borrowed handles of the running host calls, innermost last
	hostTypes map[*hostFunc]*FuncType
	table     *ResourceTable // made by the first ResourceTable call
	// trapped is the first trap of a call in the store: wasmtime enters no
	// component instance of the store after one.
	trapped error
	closed  bool

	// cur is the Store while a call runs in it (callbacks run only then);
	// self finds it otherwise, while someone holds it.
	cur  *Store
	self weak.Pointer[Store]
}

// owner returns the Store of st, or nil once nobody holds it.
func (st *storeState) owner() *Store {
	if st.cur != nil {
		return st.cur
	}
	return st.self.Value()
}

// NewStore creates a store in engine e.
func (e *Engine) NewStore(opts StoreOptions) (*Store, error) {
	if err := opts.Limits.validate(); err != nil {
		return nil, err
	}
	st := &storeState{engine: e, call: opts.Call, data: opts.Data, wasi: opts.WASI}
	s := &Store{st}
	st.self = weak.Make(s)
	st.handle = newHandle(st)
	s.ptr = C.dl_store_new(e.ptr, C.uintptr_t(s.handle), boolInt(e.config.EpochInterruption))
	s.cx = C.wasmtime_store_context(s.ptr)
	l := opts.Limits
	C.wasmtime_store_limiter(s.ptr, limit(l.MemoryBytes), limit(l.TableElements),
		limit(l.Instances), limit(l.Tables), limit(l.Memories))
	if opts.WASI != nil {
		if err := s.setWASI(opts.WASI); err != nil {
			s.Close()
			return nil, err
		}
	}
	runtime.AddCleanup(s, (*storeState).close, st)
	return s, nil
}

func (l Limits) validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{{"MemoryBytes", l.MemoryBytes}, {"TableElements", l.TableElements},
		{"Instances", l.Instances}, {"Tables", l.Tables}, {"Memories", l.Memories}} {
		if f.v < 0 {
			return fmt.Errorf("bindings: Limits.%s is negative (%d)", f.name, f.v)
		}
	}
	return nil
}

func limit(v int64) C.int64_t {
	if v == 0 {
		return -1
	}
	return C.int64_t(v)
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Engine returns the store's engine.
func (s *Store) Engine() *Engine { return s.engine }

// Data returns the value given as StoreOptions.Data.
func (s *Store) Data() any { return s.data }

// SetCallLimits changes the limits applied to the next calls.
func (s *Store) SetCallLimits(l CallLimits) { s.call = l }

// CallLimits returns the limits applied to calls.
func (s *Store) CallLimits() CallLimits { return s.call }

// Fuel returns the fuel left after the last call, when the engine consumes
// fuel.
func (s *Store) Fuel() (uint64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	var f C.uint64_t
	if err := takeError("fuel", C.wasmtime_context_get_fuel(s.cx, &f)); err != nil {
		return 0, err
	}
	return uint64(f), nil
}

// Trapped returns the trap that made the store unusable, or nil. Since
// wasmtime 44, a trap in any call (a guest trap, a failed host function, an
// interruption, fuel exhaustion) makes wasmtime refuse to enter any
// component instance of the store again: later calls and instantiations
// return an *InstanceTrappedError. Use a new store.
func (s *Store) Trapped() error { return s.trapped }

// poisonedBy records err as the store's trap if it is one (or is wasmtime's
// refusal to enter an instance, which only a trap causes) and reports
// whether the store is now unusable.
func (s *storeState) poisonedBy(err error) bool {
	var t *Trap
	if errors.As(err, &t) || refusedEntry(err) {
		if s.trapped == nil {
			s.trapped = err
		}
		return true
	}
	return false
}

// refusedEntry tells whether err is wasmtime's refusal to enter a
// component instance. The component C API gives no trap code, so the
// message is matched; TestStorePoisonedByTrap pins it.
func refusedEntry(err error) bool {
	return err != nil && strings.Contains(err.Error(), "cannot enter component instance")
}

func (s *storeState) usable() error {
	if s.closed {
		return errStoreClosed
	}
	return nil
}

var errStoreClosed = errors.New("bindings: store is closed")

// Close frees the store and everything in it: instances, their memories,
// and resource handles not yet closed. Close is idempotent.
func (s *Store) Close() {
	if s.depth > 0 {
		panic("bindings: Store.Close called from inside a call in that store")
	}
	s.close()
}

// close is Close, and the cleanup of a Store that was not closed.
func (s *storeState) close() {
	if s.closed {
		return
	}
	s.closed = true
	for c := range s.resources {
		s.freeCell(c)
	}
	s.resources = nil
	// Results held by the slots may refer to the store (resources): free
	// them first.
	for _, sl := range s.slots {
		C.dl_slot_free(sl)
	}
	s.slots = nil
	C.wasmtime_store_delete(s.ptr)
	s.table = nil // the values it held are the host's again
	s.ptr, s.cx = nil, nil
	s.arena.free()
	s.handle.delete()
}

func (s *storeState) setWASI(w *WASIConfig) error {
	cfg, err := newWASIConfig(w)
	if err != nil {
		return err
	}
	C.dl_wasi_capture(cfg, C.uintptr_t(s.handle))
	// wasmtime takes cfg, even on error.
	if err := takeError("wasi", C.wasmtime_context_set_wasi(s.cx, cfg)); err != nil {
		return err
	}
	s.wasi = w
	s.hasWASI = true
	return nil
}

// checkWASI refuses what the C API would silently misread: it takes
// NUL-terminated strings (a NUL inside one would cut it short) and an
// environment of name=value pairs (a name with '=' would be split
// elsewhere by the guest).
func checkWASI(w *WASIConfig) error {
	for _, a := range w.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("bindings: WASI argument %q contains a NUL byte", a)
		}
	}
	for _, kv := range w.Env {
		if strings.IndexByte(kv[0], 0) >= 0 || strings.IndexByte(kv[1], 0) >= 0 || kv[0] == "" || strings.Contains(kv[0], "=") {
			return fmt.Errorf("bindings: WASI environment variable %q is not a valid name=value pair", kv[0])
		}
	}
	for _, d := range w.Dirs {
		if strings.IndexByte(d.HostPath, 0) >= 0 || strings.IndexByte(d.GuestPath, 0) >= 0 {
			return fmt.Errorf("bindings: WASI directory %q contains a NUL byte", d.HostPath)
		}
	}
	return nil
}

// newWASIConfig checks w and builds the C configuration of it, for
// components (Store) and core modules (CoreGuard) alike. The caller owns
// the result: it hands it to wasmtime or deletes it.
func newWASIConfig(w *WASIConfig) (*C.wasi_config_t, error) {
	if err := checkWASI(w); err != nil {
		return nil, err
	}
	cfg := C.wasi_config_new()
	fail := func(err error) (*C.wasi_config_t, error) {
		C.wasi_config_delete(cfg)
		return nil, err
	}
	if len(w.Args) > 0 {
		cs := cStrings(w.Args)
		ok := C.wasi_config_set_argv(cfg, C.size_t(len(w.Args)), (**C.char)(cs.ptr))
		cs.free()
		if !ok {
			return fail(fmt.Errorf("bindings: WASI args are not valid UTF-8"))
		}
	}
	if len(w.Env) > 0 {
		names, values := make([]string, len(w.Env)), make([]string, len(w.Env))
		for i, kv := range w.Env {
			names[i], values[i] = kv[0], kv[1]
		}
		cn, cv := cStrings(names), cStrings(values)
		ok := C.wasi_config_set_env(cfg, C.size_t(len(names)), (**C.char)(cn.ptr), (**C.char)(cv.ptr))
		cn.free()
		cv.free()
		if !ok {
			return fail(fmt.Errorf("bindings: WASI environment is not valid UTF-8"))
		}
	}
	for _, d := range w.Dirs {
		perms := C.size_t(3) // read | write
		if d.ReadOnly {
			perms = 1
		}
		hp, gp := C.CString(d.HostPath), C.CString(d.GuestPath)
		ok := C.wasi_config_preopen_dir(cfg, hp, gp, perms, perms)
		C.free(unsafe.Pointer(hp))
		C.free(unsafe.Pointer(gp))
		if !ok {
			return fail(fmt.Errorf("bindings: cannot preopen directory %q for WASI", d.HostPath))
		}
	}
	return cfg, nil
}

type cStringArray struct {
	ptr   unsafe.Pointer
	items []unsafe.Pointer
}

func cStrings(ss []string) cStringArray {
	arr := C.malloc(C.size_t(len(ss)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	items := unsafe.Slice((*unsafe.Pointer)(arr), len(ss))
	for i, s := range ss {
		items[i] = unsafe.Pointer(C.CString(s))
	}
	return cStringArray{ptr: arr, items: items}
}

func (c cStringArray) free() {
	for _, p := range c.items {
		C.free(p)
	}
	C.free(c.ptr)
}

// slot returns the call slot for a call about to start at the current depth.
func (s *storeState) slot() *C.dl_slot_t {
	for len(s.slots) <= s.depth {
		sl := C.dl_slot_new()
		if sl == nil {
			panic("bindings: out of C memory")
		}
		s.slots = append(s.slots, sl)
	}
	return s.slots[s.depth]
}

// storeKey is the context key under which host functions find their store.
type storeKey struct{}

// StoreFromContext returns the store whose call is running the host
// function that received ctx, or nil.
func StoreFromContext(ctx context.Context) *Store {
	if st, _ := ctx.Value(storeKey{}).(*storeState); st != nil {
		return st.owner()
	}
	return nil
}

// beginCall records the state of a call about to enter the guest.
func (s *Store) beginCall(ctx context.Context) (prev callState) {
	prev = callState{s.ctx, s.deadline, s.deadlineIsCtx, s.hostErr}
	s.ctx = ctx
	s.cbCtx = nil
	s.hostErr = nil
	s.deadline = time.Time{}
	if s.call.Timeout > 0 {
		s.deadline = time.Now().Add(s.call.Timeout)
	}
	s.deadlineIsCtx = false
	if s.depth == 0 {
		s.cur = s
	}
	if d, ok := ctx.Deadline(); ok && (s.deadline.IsZero() || d.Before(s.deadline)) {
		// The context's own deadline is enforced by the same epoch check;
		// remember which of the two it is, to blame the right one.
		s.deadline = d
		s.deadlineIsCtx = true
	}
	s.depth++
	return
}

// callState is what a nested call saves of the call it runs inside.
type callState struct {
	ctx           context.Context
	deadline      time.Time
	deadlineIsCtx bool
	hostErr       error
}

func (s *Store) endCall(prev callState) {
	s.depth--
	if s.depth == 0 {
		s.cur = nil
	}
	s.ctx, s.deadline, s.deadlineIsCtx, s.hostErr = prev.ctx, prev.deadline, prev.deadlineIsCtx, prev.hostErr
	s.cbCtx = nil
}

// callbackContext returns the context host functions and destructors of the
// running call receive: the call's context, carrying the store. It is made
// once per call.
func (s *storeState) callbackContext() context.Context {
	if s.cbCtx == nil {
		ctx := s.ctx
		if ctx == nil || ctx == context.Background() {
			// The common case: made once per store.
			if s.bgCtx == nil {
				s.bgCtx = context.WithValue(context.Background(), storeKey{}, s)
			}
			s.cbCtx = s.bgCtx
		} else {
			s.cbCtx = context.WithValue(ctx, storeKey{}, s)
		}
	}
	return s.cbCtx
}

// interruption tells whether the running call must stop, and why.
func (s *storeState) interruption() error {
	if s.ctx != nil {
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	if !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
		if s.deadlineIsCtx {
			return context.DeadlineExceeded
		}
		return &TimeoutError{Limit: s.call.Timeout}
	}
	return nil
}

// TimeoutError is the cause of a trap raised because a call ran past its
// store's CallLimits.Timeout. It matches ErrTimeout with errors.Is.
type TimeoutError struct{ Limit time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("execution timeout of %s exceeded", e.Limit)
}

// Is makes errors.Is(err, ErrTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

//export dlGoEpoch
func dlGoEpoch(h C.uintptr_t, delta *C.uint64_t) *C.wasmtime_error_t {
	s, ok := handle(h).value().(*storeState)
	if !ok {
		return newCError("bindings: epoch callback for an unknown store")
	}
	if err := s.interruption(); err != nil {
		s.hostErr = err
		return newCError("driftless: call interrupted: " + err.Error())
	}
	*delta = 1
	return nil
}

//export dlGoWASIWrite
func dlGoWASIWrite(h C.uintptr_t, stream C.int, buf *C.uchar, n C.size_t) C.ptrdiff_t {
	s, ok := handle(h).value().(*storeState)
	if !ok || s.wasi == nil {
		return C.ptrdiff_t(n)
	}
	w := s.wasi.Stdout
	if stream == 2 {
		w = s.wasi.Stderr
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

//export dlGoFinalize
func dlGoFinalize(h C.uintptr_t) {
	handle(h).delete()
}
