package bindings

// Raw C API calls, without this package's conversions and checks. The
// benchmarks measure every wrapped operation against these, in the same run.

// #include "shim.h"
// static int dl_baseline_loop(wasmtime_context_t *cx, const dl_func_t *f, const dl_val_t *args,
//                             size_t nargs, size_t nres, int n) {
//   dl_val_t res[1];
//   for (int i = 0; i < n; i++) {
//     memset(res, 0, sizeof res);
//     wasmtime_error_t *e = wasmtime_component_func_call(f, cx, args, nargs, res, nres);
//     if (e) { wasmtime_error_delete(e); return 1; }
//     e = wasmtime_component_func_post_return(f, cx);
//     if (e) { wasmtime_error_delete(e); return 2; }
//     if (nres) wasmtime_component_val_delete(&res[0]);
//   }
//   return 0;
// }
// static int dl_baseline_call(wasmtime_context_t *cx, const dl_func_t *f, const dl_val_t *args,
//                             size_t nargs, size_t nres) {
//   return dl_baseline_loop(cx, f, args, nargs, nres, 1);
// }
import "C"

import (
	"fmt"
	"unsafe"
)

// baselineCall calls f n times from C with args prepared once: the cost of
// the C API itself, without any cgo transition per call.
func baselineCall(f *Func, args []Val, n int) error {
	return baseline(f, args, func(cargs *C.dl_val_t, nres C.size_t) C.int {
		return C.dl_baseline_loop(f.store.cx, &f.fn, cargs, C.size_t(len(args)), nres, C.int(n))
	})
}

// baselineCgoCall calls f n times, one cgo transition each, with args
// prepared once: what a Go program calling the C API directly would pay.
func baselineCgoCall(f *Func, args []Val, n int) error {
	return baseline(f, args, func(cargs *C.dl_val_t, nres C.size_t) C.int {
		for range n {
			if rc := C.dl_baseline_call(f.store.cx, &f.fn, cargs, C.size_t(len(args)), nres); rc != 0 {
				return rc
			}
		}
		return 0
	})
}

func baseline(f *Func, args []Val, run func(*C.dl_val_t, C.size_t) C.int) error {
	s := f.store
	mark := s.arena.mark()
	defer s.arena.release(mark)
	cargs := s.arena.list(args)
	nres := C.size_t(0)
	if f.ty.Result != nil {
		nres = 1
	}
	if rc := run((*C.dl_val_t)(unsafe.Pointer(cargs)), nres); rc != 0 {
		return fmt.Errorf("baseline call of %s failed (%d)", f.name, rc)
	}
	return nil
}
