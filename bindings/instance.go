package bindings

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	"strings"
	"unsafe"
)

// Instance is an instantiated component in a store.
type Instance struct {
	store *Store
	comp  *Component
	inst  C.dl_instance_t
	funcs map[string]*Func
	// trapped is set by the first failure of a call inside wasmtime: the
	// instance may be in an unknown state, so it is not entered again.
	trapped error
}

// Trapped returns the failure that made the instance unusable, or nil: the
// first failed call into it, or the trap that made its store unusable
// (Store.Trapped).
func (i *Instance) Trapped() error {
	if i.trapped != nil {
		return i.trapped
	}
	return i.store.trapped
}

// Store returns the instance's store.
func (i *Instance) Store() *Store { return i.store }

// Component returns the component i was instantiated from.
func (i *Instance) Component() *Component { return i.comp }

// Func returns the exported function at path: a root function by its name,
// or a function of an exported interface by the interface's name and the
// function's, e.g. Func("driftless:plugin/tasks@0.1.0", "execute").
// Functions are looked up once per instance and cached.
func (i *Instance) Func(path ...string) (*Func, error) {
	key := strings.Join(path, "#")
	if f, ok := i.funcs[key]; ok {
		return f, nil
	}
	if err := i.store.usable(); err != nil {
		return nil, err
	}
	if len(path) == 0 {
		return nil, fmt.Errorf("bindings: Func needs a name")
	}
	ty := i.comp.Type().Func(path...)
	if ty == nil {
		return nil, fmt.Errorf("component has no exported function %s", key)
	}
	for _, p := range ty.Params {
		if k := asyncKind(p.Type); k != 0 {
			return nil, fmt.Errorf("function %s: parameter %s has a %s type, which this host cannot call", key, p.Name, k)
		}
	}
	if k := asyncKind(ty.Result); k != 0 {
		return nil, fmt.Errorf("function %s: result has a %s type, which this host cannot call", key, k)
	}
	idx, err := i.comp.exportIndex(path)
	if err != nil {
		return nil, err
	}
	f := &Func{inst: i, store: i.store, name: key, ty: ty}
	if !C.wasmtime_component_instance_get_func(&i.inst, i.store.cx, idx, &f.fn) {
		return nil, fmt.Errorf("export %s is not a function", key)
	}
	for pi, p := range ty.Params {
		if p.Type.Kind == KindOwn {
			f.ownParams = append(f.ownParams, pi)
		}
	}
	i.funcs[key] = f
	return f, nil
}

// Func is an exported function of an instance.
type Func struct {
	inst      *Instance
	store     *Store
	name      string
	ty        *FuncType
	fn        C.dl_func_t
	ownParams []int // parameters that take ownership of a resource
}

// Name returns the function's export path, "interface#name" or "name".
func (f *Func) Name() string { return f.name }

// Type returns the function's type.
func (f *Func) Type() *FuncType { return f.ty }

// Call calls the function with args and returns its result (the zero Val
// for functions without one).
//
// Before the guest runs, the arguments are checked (count, valid UTF-8,
// valid chars; wasmtime checks their types) and the store's CallLimits
// applied: fuel reset to CallLimits.Fuel and the deadline set. ctx's
// cancellation or deadline interrupts the guest within one epoch tick.
//
// A guest trap returns a *Trap; other failures a *Error or a plain error.
// Resources passed as own<T> belong to the guest once the call reached
// wasmtime, even if it failed: their handles cannot be used afterwards.
func (f *Func) Call(ctx context.Context, args ...Val) (Val, error) {
	return f.call(ctx, nil, args)
}

// call is Call, with the result read by read instead when it is not nil.
func (f *Func) call(ctx context.Context, read func(Reader) error, args []Val) (Val, error) {
	s := f.store
	if err := s.usable(); err != nil {
		return Val{}, err
	}
	if len(args) != len(f.ty.Params) {
		return Val{}, fmt.Errorf("function %s takes %d arguments, got %d", f.name, len(f.ty.Params), len(args))
	}
	for i := range args {
		if err := args[i].checkType(f.ty.Params[i].Type, s.storeState); err != nil {
			return Val{}, &ArgumentError{Func: f.name, Param: f.ty.Params[i].Name, Err: err}
		}
	}
	if f.inst.trapped != nil {
		return Val{}, &InstanceTrappedError{Trap: f.inst.trapped}
	}
	if s.trapped != nil {
		return Val{}, &InstanceTrappedError{Trap: s.trapped, store: true}
	}
	if err := ctx.Err(); err != nil {
		return Val{}, &Trap{Kind: TrapInterrupted, Cause: err}
	}

	mark := s.arena.mark()
	cargs, err := s.putArgs(f, mark, args)
	if err != nil {
		return Val{}, err
	}
	nres := 0
	if f.ty.Result != nil {
		nres = 1
	}
	slot := s.slot()
	prevBase := s.cbBase
	s.cbBase = s.arena.mark()
	prev := s.beginCall(ctx)

	rc := C.dl_call(s.cx, &f.fn, boolInt(s.engine.config.ConsumeFuel), C.uint64_t(s.fuel()),
		boolInt(s.engine.config.EpochInterruption),
		(*C.dl_val_t)(unsafe.Pointer(cargs)), C.size_t(len(args)), C.size_t(nres), C.uintptr_t(uintptr(unsafe.Pointer(slot))))

	var result Val
	var readErr error // the reader's: the instance is fine
	var readPanic any
	switch rc {
	case C.DL_CALL_OK:
		if nres == 1 {
			res := (*cVal)(unsafe.Pointer(&slot.result))
			if read != nil {
				readErr, readPanic = f.readResult(read, res)
			} else {
				result, err = s.getT(res, f.ty.Result)
			}
			if large(res) {
				C.dl_slot_clear(slot)
			}
		}
	case C.DL_CALL_FUEL_FAILED:
		err = takeError("fuel", slot.err)
	default:
		err = s.callError("call "+f.name, slot.err)
	}
	slot.err = nil
	if rc != C.DL_CALL_FUEL_FAILED {
		// Own handles belong to the guest once the call ran. A failed call
		// may have moved them before it failed, and a stale handle could
		// later reach a reused table slot: treat them as moved either way.
		for _, pi := range f.ownParams {
			if r := args[pi].res; r != nil {
				r.moved()
			}
		}
	}
	s.endCall(prev)
	s.cbBase = prevBase
	s.arena.release(mark)
	if err != nil && rc != C.DL_CALL_FUEL_FAILED {
		// A failure inside a call may leave the instance in an unknown
		// state: it is not entered again. A trap does more: since wasmtime
		// 44 it makes wasmtime refuse to enter any instance of the store
		// ("cannot enter component instance"), so the store is marked too.
		f.inst.trapped = err
		if s.poisonedBy(err) && s.depth == 0 && refusedEntry(err) {
			// No call of this store is running: the store was left
			// unusable by a failure this package did not see.
			return Val{}, &InstanceTrappedError{Trap: err, store: true}
		}
	}
	if readPanic != nil {
		panic(readPanic)
	}
	if err == nil {
		err = readErr
	}
	return result, err
}

// putArgs writes the arguments of a call to f into the arena. What a
// Lowerer refuses, or a panic inside one, fails the call before anything
// reaches wasmtime, with the arena as it was at mark.
func (s *Store) putArgs(f *Func, mark arenaMark, args []Val) (cargs *cVal, err error) {
	if len(args) == 0 {
		return nil, nil
	}
	// Scalars and strings run no Lowerer and fail no check here: no
	// deferred recovery for them (most calls).
	plain := true
	for i := range args {
		if args[i].kind > KindString || args[i].low != nil {
			plain = false
			break
		}
	}
	if plain {
		cargs = s.arena.vals(len(args))
		for i := range args {
			s.arena.put(&unsafe.Slice(cargs, len(args))[i], args[i])
		}
		return cargs, nil
	}
	defer func() {
		if err != nil {
			s.arena.release(mark)
		}
		if p := recover(); p != nil {
			s.arena.err = nil
			s.arena.release(mark)
			panic(p)
		}
	}()
	cargs = s.arena.vals(len(args))
	for i := range args {
		s.arena.put(&unsafe.Slice(cargs, len(args))[i], args[i])
		if err := s.arena.takeErr(); err != nil {
			return nil, &ArgumentError{Func: f.name, Param: f.ty.Params[i].Name, Err: err}
		}
	}
	return cargs, nil
}

// InstanceTrappedError is returned by calls into an instance in which an
// earlier call failed inside wasmtime, and by calls and instantiations in a
// store in which a call trapped (wasmtime 44 enters no instance of such a
// store again). Instantiate the component again (in a new store, after a
// trap) to go on.
type InstanceTrappedError struct {
	Trap error // the first failure: usually a *Trap, else a *Error

	store bool // the failure made the whole store unusable
}

func (e *InstanceTrappedError) Error() string {
	if e.store {
		return "store cannot be used after a trap (" + e.Trap.Error() + "); instantiate again in a new store"
	}
	return "instance cannot be used after a failed call (" + e.Trap.Error() + "); instantiate it again"
}

// Unwrap returns the first failure.
func (e *InstanceTrappedError) Unwrap() error { return e.Trap }

// ArgumentError is returned, before anything runs, by calls whose arguments
// do not fit the function's parameter types (or carry invalid UTF-8, an
// invalid char, or a resource handle that cannot be used).
type ArgumentError struct {
	Func  string // the function's export path
	Param string // the parameter's name
	Err   error
}

func (e *ArgumentError) Error() string {
	return "function " + e.Func + ": argument " + e.Param + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *ArgumentError) Unwrap() error { return e.Err }
