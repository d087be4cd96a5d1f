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
  DL_CALL_FAILED = 1,       // the call (post-return included) failed
  DL_CALL_FUEL_FAILED = 2,  // setting fuel failed; nothing ran
};

// A call slot: where one call level of a store receives its result and
// error. Slots live in C memory (so nothing of a call escapes to the Go heap)
// and belong to their store; one per nesting depth, because a host function
// may call into another instance of the same store while the outer call is
// in wasmtime.
//
// result always holds a valid value: wasmtime_component_func_call assigns
// its result slot, which drops (frees) what the slot held before. So a
// result is freed by the next call at the same depth, or by dl_slot_free,
// and never needs a cgo call of its own.
typedef struct {
  dl_val_t result;
  wasmtime_error_t *err;
} dl_slot_t;

dl_slot_t *dl_slot_new(void);
void dl_slot_free(dl_slot_t *slot);
// dl_slot_clear frees the slot's result now (used for large results, so a
// store does not keep a big string alive until its next call).
void dl_slot_clear(dl_slot_t *slot);

// dl_call sets the fuel and the epoch deadline if asked and calls f with
// args (wasmtime runs post-return inside the call). The slot (a dl_slot_t *) is passed as an integer:
// it is C memory, and an integer spares the cgo pointer check that a
// pointer to a struct holding pointers would cost on every call.
int dl_call(wasmtime_context_t *cx, const dl_func_t *f, int set_fuel, uint64_t fuel,
            int set_epoch, const dl_val_t *args, size_t nargs, size_t nresults,
            uintptr_t slot);

wasmtime_store_t *dl_store_new(wasm_engine_t *engine, uintptr_t handle, int epoch_callback);

wasmtime_error_t *dl_add_func(wasmtime_component_linker_instance_t *li, const char *name,
                              size_t len, uintptr_t handle);
wasmtime_error_t *dl_add_resource(wasmtime_component_linker_instance_t *li, const char *name,
                                  size_t len, uint32_t type_id, uintptr_t handle);

void dl_wasi_capture(wasi_config_t *c, uintptr_t handle);

#endif
