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
//     if (nres) wasmtime_component_val_delete(&res[0]);
//   }
//   return 0;
// }
// static int dl_baseline_call(wasmtime_context_t *cx, const dl_func_t *f, const dl_val_t *args,
//                             size_t nargs, size_t nres) {
//   return dl_baseline_loop(cx, f, args, nargs, nres, 1);
// }
// // One call that hands its result to Go, to be copied and then deleted
// // with dl_baseline_delete: what a Go caller of the raw API does to get a
// // result into Go.
// static int dl_baseline_call_keep(wasmtime_context_t *cx, const dl_func_t *f,
//                                  const dl_val_t *args, size_t nargs, size_t nres,
//                                  dl_val_t *res) {
//   memset(res, 0, sizeof *res);
//   wasmtime_error_t *e = wasmtime_component_func_call(f, cx, args, nargs, res, nres);
//   if (e) { wasmtime_error_delete(e); return 1; }
//   return 0;
// }
// static void dl_baseline_delete(dl_val_t *v) { wasmtime_component_val_delete(v); }
// // A host function for test:host/env#twice written in C, and one that
// // calls the smallest possible Go function.
// extern uint32_t dlBaselineGoTwice(uint32_t);
// static wasmtime_error_t *dl_baseline_twice_c(void *d, wasmtime_context_t *cx,
//     const wasmtime_component_func_type_t *ty, dl_val_t *args, size_t nargs,
//     dl_val_t *rets, size_t nrets) {
//   rets[0].kind = DL_VAL_U32;
//   rets[0].of.u32 = args[0].of.u32 * 2;
//   return NULL;
// }
// static wasmtime_error_t *dl_baseline_twice_go(void *d, wasmtime_context_t *cx,
//     const wasmtime_component_func_type_t *ty, dl_val_t *args, size_t nargs,
//     dl_val_t *rets, size_t nrets) {
//   rets[0].kind = DL_VAL_U32;
//   rets[0].of.u32 = dlBaselineGoTwice(args[0].of.u32);
//   return NULL;
// }
// static wasmtime_component_linker_t *dl_baseline_linker(wasm_engine_t *e, int go) {
//   wasmtime_component_linker_t *l = wasmtime_component_linker_new(e);
//   wasmtime_component_linker_instance_t *root = wasmtime_component_linker_root(l);
//   wasmtime_component_linker_instance_t *env = NULL;
//   wasmtime_error_t *err = wasmtime_component_linker_instance_add_instance(
//       root, "test:host/env", 13, &env);
//   if (err == NULL) {
//     err = wasmtime_component_linker_instance_add_func(env, "twice", 5,
//         go ? dl_baseline_twice_go : dl_baseline_twice_c, NULL, NULL);
//     wasmtime_component_linker_instance_delete(env);
//   }
//   wasmtime_component_linker_instance_delete(root);
//   if (err) { wasmtime_error_delete(err); wasmtime_component_linker_delete(l); return NULL; }
//   return l;
// }
// // n times: a new store, instantiate, delete the store.
// static int dl_baseline_instantiate(wasm_engine_t *e, wasmtime_component_linker_t *l,
//                                    const wasmtime_component_t *c, int n) {
//   for (int i = 0; i < n; i++) {
//     wasmtime_store_t *s = wasmtime_store_new(e, NULL, NULL);
//     dl_instance_t inst;
//     wasmtime_error_t *err = wasmtime_component_linker_instantiate(
//         l, wasmtime_store_context(s), c, &inst);
//     wasmtime_store_delete(s);
//     if (err) { wasmtime_error_delete(err); return 1; }
//   }
//   return 0;
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

// baselineCgoCallCopy is baselineCgoCall, but each result is copied into
// Go (a string for string results, else nothing) and then deleted by a
// second cgo call: the naive way to get a result out of the raw API.
func baselineCgoCallCopy(f *Func, args []Val, n int) (last string, err error) {
	err = baseline(f, args, func(cargs *C.dl_val_t, nres C.size_t) C.int {
		res := (*C.dl_val_t)(C.malloc(C.size_t(sizeofVal)))
		defer C.free(unsafe.Pointer(res))
		for range n {
			if rc := C.dl_baseline_call_keep(f.store.cx, &f.fn, cargs, C.size_t(len(args)), nres, res); rc != 0 {
				return rc
			}
			if cv := (*cVal)(unsafe.Pointer(res)); cv.kind == cKind(KindString) {
				last = cString(cv.a, cv.b)
			}
			C.dl_baseline_delete(res)
		}
		return 0
	})
	return last, err
}

// baselineLinker is a raw wasmtime linker defining test:host/env#twice as a
// C function (goCallback false) or as a C function calling a minimal Go
// function (true).
type baselineLinker struct {
	ptr *C.wasmtime_component_linker_t
}

func newBaselineLinker(e *Engine, goCallback bool) (*baselineLinker, error) {
	p := C.dl_baseline_linker(e.ptr, boolInt(goCallback))
	if p == nil {
		return nil, fmt.Errorf("baseline linker failed")
	}
	return &baselineLinker{ptr: p}, nil
}

func (l *baselineLinker) Close() { C.wasmtime_component_linker_delete(l.ptr) }

// instantiate instantiates c in s through the raw linker.
func (l *baselineLinker) instantiate(s *Store, c *Component) (*Instance, error) {
	var inst C.dl_instance_t
	if err := takeError("instantiate", C.wasmtime_component_linker_instantiate(l.ptr, s.cx, c.ptr, &inst)); err != nil {
		return nil, err
	}
	return &Instance{store: s, comp: c, inst: inst, funcs: map[string]*Func{}}, nil
}

// instantiateFresh runs n times: a new raw store, instantiate c, delete the
// store.
func (l *baselineLinker) instantiateFresh(e *Engine, c *Component, n int) error {
	if rc := C.dl_baseline_instantiate(e.ptr, l.ptr, c.ptr, C.int(n)); rc != 0 {
		return fmt.Errorf("baseline instantiate failed")
	}
	return nil
}
