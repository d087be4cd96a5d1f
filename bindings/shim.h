// C helpers of package bindings: they fold several C API calls into one cgo
// transition on hot paths, and give wasmtime C function pointers that lead
// back into Go.
#ifndef DRIFTLESS_SHIM_H
#define DRIFTLESS_SHIM_H

#include <stdlib.h>
#include <string.h>
#include "capi.h"

// Outcome of dl_call.
enum {
  DL_CALL_OK = 0,           // results are set; post-return ran
  DL_CALL_FAILED = 1,       // the call failed; results are untouched
  DL_CALL_POST_FAILED = 2,  // results are set but post-return failed
  DL_CALL_FUEL_FAILED = 3,  // setting fuel failed; nothing ran
};

int dl_call(wasmtime_context_t *cx, const dl_func_t *f, int set_fuel, uint64_t fuel,
            int set_epoch, const dl_val_t *args, size_t nargs, dl_val_t *results,
            size_t nresults, wasmtime_error_t **err);

void dl_delete_vals(dl_val_t *vals, size_t n);

wasmtime_store_t *dl_store_new(wasm_engine_t *engine, uintptr_t handle, int epoch_callback);

wasmtime_error_t *dl_add_func(wasmtime_component_linker_instance_t *li, const char *name,
                              size_t len, uintptr_t handle);
wasmtime_error_t *dl_add_resource(wasmtime_component_linker_instance_t *li, const char *name,
                                  size_t len, uint32_t type_id, uintptr_t handle);

void dl_wasi_capture(wasi_config_t *c, uintptr_t handle);

#endif
