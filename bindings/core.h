// C helpers of core.go: limits and fast calls for core WebAssembly modules
// run through wasmtime-go.
//
// Like capi.h, this file declares, in its own words, only the parts of
// wasmtime's C API it uses (capi.h is included for the rest). The layouts
// below must match wasmtime 44; TestCoreHeaders compiles this file against
// wasmtime's own headers with DL_CAPI_CHECK defined and compares them.
#ifndef DRIFTLESS_CORE_H
#define DRIFTLESS_CORE_H

#include <stdlib.h>
#include "capi.h"

#ifndef DL_CAPI_CHECK
typedef struct wasm_trap_t wasm_trap_t;

// wasmtime_func_t: a function of a store (wasmtime-go's Func holds one as
// its only field).
typedef struct {
  uint64_t store_id;
  void *private_;
} dl_core_func_t;

// wasmtime_memory_t: a linear memory of a store (wasmtime-go's Memory holds
// one as its only field).
typedef struct {
  struct {
    uint64_t store_id;
    uint32_t private1;
  } id;
  uint32_t private2;
} dl_core_memory_t;

// wasmtime_val_raw_t: a core value without its type, as
// wasmtime_func_call_unchecked passes arguments and results (only i32 is
// used here).
typedef union {
  int32_t i32;
  int64_t i64;
  uint8_t v128[16];
} dl_core_val_raw_t;
#endif

#ifndef DL_CAPI_CHECK
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasm_valtype_t wasm_valtype_t;
// wasm_valtype_vec_t: the parameter or result types of a function type.
typedef struct {
  size_t size;
  wasm_valtype_t **data;
} dl_core_valtypes_t;
#endif

extern wasm_functype_t *wasmtime_func_type(const wasmtime_context_t *cx, const dl_core_func_t *f);
extern const dl_core_valtypes_t *wasm_functype_params(const wasm_functype_t *t);
extern const dl_core_valtypes_t *wasm_functype_results(const wasm_functype_t *t);
extern uint8_t wasm_valtype_kind(const wasm_valtype_t *t);
extern void wasm_functype_delete(wasm_functype_t *t);

extern wasmtime_error_t *wasmtime_func_call_unchecked(wasmtime_context_t *cx, const dl_core_func_t *f,
                                                      dl_core_val_raw_t *args_and_results,
                                                      size_t args_and_results_len, wasm_trap_t **trap);
extern uint8_t *wasmtime_memory_data(const wasmtime_context_t *cx, const dl_core_memory_t *m);
extern size_t wasmtime_memory_data_size(const wasmtime_context_t *cx, const dl_core_memory_t *m);
extern void wasm_trap_delete(wasm_trap_t *t);
extern void wasm_trap_message(const wasm_trap_t *t, dl_bytes_t *out);
extern void wasm_trap_trace(const wasm_trap_t *t, dl_frames_t *out);
extern bool wasmtime_trap_code(const wasm_trap_t *t, uint8_t *code);

// dl_core_scratch_t holds what one guest call or memory read passes
// between Go and C, in C memory allocated once per guard: passing Go
// pointers instead made every call allocate (they escape to the heap).
#define DL_CORE_MAX_ARGS 8
typedef struct {
  dl_core_func_t fn;
  dl_core_memory_t mem;
  int32_t args[DL_CORE_MAX_ARGS];
  int32_t result;
  size_t size;
  wasmtime_error_t *err;
  wasm_trap_t *trap;
  // The tracked memory (when track is set): dl_core_call refreshes its
  // view after every call.
  dl_core_memory_t tracked;
  int32_t track;
  uint8_t *view;
  size_t view_size;
} dl_core_scratch_t;

// Outcome of dl_core_call.
enum {
  DL_CORE_OK = 0,    // scratch->result is set (when nresults is 1)
  DL_CORE_ERROR = 1, // scratch->err is set
  DL_CORE_TRAP = 2,  // scratch->trap is set
};

// dl_core_call calls scratch->fn with the first nargs i32 arguments of
// scratch->args; nresults is 0 or 1 (an i32). The caller has checked that
// these are the function's parameters and results (CoreGuard.Func):
// wasmtime does not check them again. scratch is a dl_core_scratch_t*,
// passed as an integer so that cgo checks no pointer. With scratch->track
// set, it then stores the tracked memory's data and size in scratch->view
// and scratch->view_size, whatever the outcome.
int dl_core_call(wasmtime_context_t *cx, uintptr_t scratch, size_t nargs, size_t nresults);

// dl_core_functype describes the type of scratch->fn in scratch->args: [0]
// the number of parameters, [1] of results, [2] the index of the first
// parameter that is not an i32 (-1 if none) and [3] its kind, [4] the
// kind of the first result that is not an i32 (-1 if none). One cgo call
// instead of wasmtime-go's FuncType, which builds Go objects per type.
void dl_core_functype(const wasmtime_context_t *cx, uintptr_t scratch);

// dl_core_view stores the tracked memory's data and size in scratch->view
// and scratch->view_size.
void dl_core_view(const wasmtime_context_t *cx, uintptr_t scratch);

// dl_core_memory returns the data of scratch->mem and stores its size in
// scratch->size (one cgo call instead of two).
uint8_t *dl_core_memory(const wasmtime_context_t *cx, uintptr_t scratch);

// dl_core_begin sets the fuel of a call (when set_fuel) and its epoch
// deadline to the next tick.
wasmtime_error_t *dl_core_begin(wasmtime_context_t *cx, int set_fuel, uint64_t fuel);

// dl_core_guard installs the epoch deadline callback of a core store; the
// handle is deleted when wasmtime drops the callback (with the store).
void dl_core_guard(wasmtime_store_t *s, uintptr_t handle);

// dl_core_wasi_capture routes a WASI configuration's stdout and stderr to
// the guard behind handle.
void dl_core_wasi_capture(wasi_config_t *c, uintptr_t handle);

#endif
