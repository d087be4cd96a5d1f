package bindings

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	"unsafe"
)

// HostFuncDirect implements an imported function in Go, like HostFunc, for
// code that knows the function's type (bindings generated from WIT): it
// reads its parameters where wasmtime left them and writes its results
// straight into the C values wasmtime lowers, so that no Val is built
// either way. It is the callback counterpart of Func.CallRead and Lowered.
//
// Errors and panics trap the guest as HostFunc's do. A Reader accessor
// used on a value of another kind panics, and so fails the call with a
// *HostPanicError; a result the function did not write, or wrote with
// invalid UTF-8, fails it with an error naming the function.
type HostFuncDirect func(ctx context.Context, call HostCall) error

// HostCall is one call of a HostFuncDirect: the parameters to read and the
// results to write. It is a small value, passed by copy, valid only until
// the function returns.
type HostCall struct {
	s       *storeState
	params  []cVal
	results []cVal
}

// NumParams returns the number of parameters.
func (c HostCall) NumParams() int { return len(c.params) }

// Param returns the reader of parameter i. Strings read from it are copied
// into Go memory; a resource read with Reader.Val is a handle the store
// owns until the call returns (for a borrow) or that the caller now owns.
func (c HostCall) Param(i int) Reader { return Reader{c.s, &c.params[i]} }

// NumResults returns the number of results: 0 or 1.
func (c HostCall) NumResults() int { return len(c.results) }

// Result returns the writer of result i; every result must be written
// exactly once.
func (c HostCall) Result(i int) Writer { return Writer{&c.s.arena, &c.results[i]} }

// DefineFuncDirect defines a host function named name in li, implemented by
// a HostFuncDirect.
func (li LinkerInstance) DefineFuncDirect(name string, fn HostFuncDirect) error {
	if fn == nil {
		return fmt.Errorf("bindings: DefineFuncDirect %s: nil function", li.qualified(name))
	}
	return li.define(name, &hostFunc{name: li.qualified(name), direct: fn})
}

// unwritten marks a result slot the function has not written: no kind of
// wasmtime's has this value.
const unwritten = 0xff

// hostCallDirect runs a HostFuncDirect: results are written into arena
// values above the running call's data (the previous callback's results
// were already copied by wasmtime), then handed to wasmtime as they are.
func (s *storeState) hostCallDirect(f *hostFunc, cargs []cVal, nrets int, out **C.dl_val_t) (err error) {
	borrowMark := len(s.borrows)
	s.arena.release(s.cbBase)
	cs := s.arena.vals(nrets)
	results := unsafe.Slice(cs, nrets)
	for i := range results {
		results[i].kind = unwritten
	}
	// One deferred function for the panic and the borrows: a host call is
	// short, and each defer is a visible part of it.
	defer func() {
		if p := recover(); p != nil {
			s.arena.err = nil
			err = hostPanic(f.name, p)
		}
		if len(s.borrows) > borrowMark {
			if berr := s.endBorrows(borrowMark); err == nil {
				err = berr
			}
		}
	}()
	err = f.direct(s.callbackContext(), HostCall{s: s, params: cargs, results: results})
	if werr := s.arena.takeErr(); err == nil && werr != nil {
		err = fmt.Errorf("host function %s result: %w", f.name, werr)
	}
	if err != nil {
		return err
	}
	for i := range results {
		if results[i].kind == unwritten {
			return fmt.Errorf("host function %s did not write result %d", f.name, i)
		}
	}
	*out = (*C.dl_val_t)(unsafe.Pointer(cs))
	return nil
}
