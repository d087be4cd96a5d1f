// Package rawcapi calls wasmtime's component C API the way a program
// without package bindings would: the raw baselines the benchmarks of
// package bindings measure every wrapped operation against, in the same
// run (bindings/bench_test.go). Only those tests import it, so none of this
// C code, nor its //export, is in any program built from this repository
// (TestRawCAPIIsTestOnly).
//
// Pointers cross as unsafe.Pointer: the caller (package bindings' tests)
// holds the C objects under its own cgo types, which are not this
// package's.
package rawcapi

/*
#cgo CFLAGS: -I${SRCDIR}/../..
#include <stdlib.h>
#include <string.h>
#include "capi.h"
static int dl_baseline_loop(wasmtime_context_t *cx, const dl_func_t *f, const dl_val_t *args,
                            size_t nargs, size_t nres, int n) {
  dl_val_t res[1];
  for (int i = 0; i < n; i++) {
    memset(res, 0, sizeof res);
    wasmtime_error_t *e = wasmtime_component_func_call(f, cx, args, nargs, res, nres);
    if (e) { wasmtime_error_delete(e); return 1; }
    if (nres) wasmtime_component_val_delete(&res[0]);
  }
  return 0;
}
static int dl_baseline_call(wasmtime_context_t *cx, const dl_func_t *f, const dl_val_t *args,
                            size_t nargs, size_t nres) {
  return dl_baseline_loop(cx, f, args, nargs, nres, 1);
}
// One call that hands its result to Go, to be copied and then deleted
// with dl_baseline_delete: what a Go caller of the raw API does to get a
// result into Go.
static int dl_baseline_call_keep(wasmtime_context_t *cx, const dl_func_t *f,
                                 const dl_val_t *args, size_t nargs, size_t nres,
                                 dl_val_t *res) {
  memset(res, 0, sizeof *res);
  wasmtime_error_t *e = wasmtime_component_func_call(f, cx, args, nargs, res, nres);
  if (e) { wasmtime_error_delete(e); return 1; }
  return 0;
}
static void dl_baseline_delete(dl_val_t *v) { wasmtime_component_val_delete(v); }
// A host function for test:host/env#twice written in C, and one that
// calls the smallest possible Go function.
extern uint32_t dlBaselineGoTwice(uint32_t);
static wasmtime_error_t *dl_baseline_twice_c(void *d, wasmtime_context_t *cx,
    const wasmtime_component_func_type_t *ty, dl_val_t *args, size_t nargs,
    dl_val_t *rets, size_t nrets) {
  rets[0].kind = DL_VAL_U32;
  rets[0].of.u32 = args[0].of.u32 * 2;
  return NULL;
}
static wasmtime_error_t *dl_baseline_twice_go(void *d, wasmtime_context_t *cx,
    const wasmtime_component_func_type_t *ty, dl_val_t *args, size_t nargs,
    dl_val_t *rets, size_t nrets) {
  rets[0].kind = DL_VAL_U32;
  rets[0].of.u32 = dlBaselineGoTwice(args[0].of.u32);
  return NULL;
}
static wasmtime_component_linker_t *dl_baseline_linker(wasm_engine_t *e, int go) {
  wasmtime_component_linker_t *l = wasmtime_component_linker_new(e);
  wasmtime_component_linker_instance_t *root = wasmtime_component_linker_root(l);
  wasmtime_component_linker_instance_t *env = NULL;
  wasmtime_error_t *err = wasmtime_component_linker_instance_add_instance(
      root, "test:host/env", 13, &env);
  if (err == NULL) {
    err = wasmtime_component_linker_instance_add_func(env, "twice", 5,
        go ? dl_baseline_twice_go : dl_baseline_twice_c, NULL, NULL);
    wasmtime_component_linker_instance_delete(env);
  }
  wasmtime_component_linker_instance_delete(root);
  if (err) { wasmtime_error_delete(err); wasmtime_component_linker_delete(l); return NULL; }
  return l;
}
// n times: a new store, instantiate, delete the store.
static int dl_baseline_instantiate(wasm_engine_t *e, wasmtime_component_linker_t *l,
                                   const wasmtime_component_t *c, int n) {
  for (int i = 0; i < n; i++) {
    wasmtime_store_t *s = wasmtime_store_new(e, NULL, NULL);
    dl_instance_t inst;
    wasmtime_error_t *err = wasmtime_component_linker_instantiate(
        l, wasmtime_store_context(s), c, &inst);
    wasmtime_store_delete(s);
    if (err) { wasmtime_error_delete(err); return 1; }
  }
  return 0;
}static wasmtime_error_t *dl_baseline_instantiate_one(const wasmtime_component_linker_t *l,
    wasmtime_context_t *cx, const wasmtime_component_t *c, void *out) {
  return wasmtime_component_linker_instantiate(l, cx, c, (dl_instance_t *)out);
}
*/
import "C"

import (
	"errors"
	"unsafe"

	// The test binaries that import this package link wasmtime through
	// package bindings; the import says where the symbols come from.
	_ "github.com/bytecodealliance/wasmtime-go/v44"
)

// Loop calls the function f (a dl_func_t) of the store context cx n times
// from C, with the nargs C values at args prepared once: the cost of the C
// API itself, without a cgo transition per call. It returns 0 on success.
func Loop(cx, f, args unsafe.Pointer, nargs, nres, n int) int {
	return int(C.dl_baseline_loop((*C.wasmtime_context_t)(cx), (*C.dl_func_t)(f), (*C.dl_val_t)(args),
		C.size_t(nargs), C.size_t(nres), C.int(n)))
}

// Call is Loop for one call: one cgo transition per call.
func Call(cx, f, args unsafe.Pointer, nargs, nres int) int {
	return int(C.dl_baseline_call((*C.wasmtime_context_t)(cx), (*C.dl_func_t)(f), (*C.dl_val_t)(args),
		C.size_t(nargs), C.size_t(nres)))
}

// CallKeep is Call that leaves the result in res (a dl_val_t in C memory),
// for the caller to read and then Delete.
func CallKeep(cx, f, args unsafe.Pointer, nargs, nres int, res unsafe.Pointer) int {
	return int(C.dl_baseline_call_keep((*C.wasmtime_context_t)(cx), (*C.dl_func_t)(f), (*C.dl_val_t)(args),
		C.size_t(nargs), C.size_t(nres), (*C.dl_val_t)(res)))
}

// Delete frees the value CallKeep left in res.
func Delete(res unsafe.Pointer) { C.dl_baseline_delete((*C.dl_val_t)(res)) }

// Malloc and Free manage C memory for CallKeep's result.
func Malloc(n int) unsafe.Pointer { return C.malloc(C.size_t(n)) }
func Free(p unsafe.Pointer)       { C.free(p) }

// NewLinker returns a raw wasmtime linker for engine (a wasm_engine_t)
// defining test:host/env#twice as a C function (goCallback false) or as a
// C function calling the smallest Go function; nil if that failed.
func NewLinker(engine unsafe.Pointer, goCallback bool) unsafe.Pointer {
	g := C.int(0)
	if goCallback {
		g = 1
	}
	return unsafe.Pointer(C.dl_baseline_linker((*C.wasm_engine_t)(engine), g))
}

// DeleteLinker frees a linker of NewLinker.
func DeleteLinker(l unsafe.Pointer) {
	C.wasmtime_component_linker_delete((*C.wasmtime_component_linker_t)(l))
}

// Instantiate instantiates component c in the store context cx through
// linker l, writing the instance (a dl_instance_t) to out.
func Instantiate(l, cx, c, out unsafe.Pointer) error {
	e := C.dl_baseline_instantiate_one((*C.wasmtime_component_linker_t)(l), (*C.wasmtime_context_t)(cx),
		(*C.wasmtime_component_t)(c), out)
	if e == nil {
		return nil
	}
	defer C.wasmtime_error_delete(e)
	var b C.dl_bytes_t
	C.wasmtime_error_message(e, &b)
	msg := C.GoStringN((*C.char)(unsafe.Pointer(b.data)), C.int(b.size))
	C.wasm_byte_vec_delete(&b)
	return errors.New("raw instantiate: " + msg)
}

// InstantiateFresh runs n times: a new raw store in engine, instantiate c
// through l, delete the store. It returns 0 on success.
func InstantiateFresh(engine, l, c unsafe.Pointer, n int) int {
	return int(C.dl_baseline_instantiate((*C.wasm_engine_t)(engine), (*C.wasmtime_component_linker_t)(l),
		(*C.wasmtime_component_t)(c), C.int(n)))
}
