#include <string.h>
#include "shim.h"
#include "_cgo_export.h"

// The layouts capi.h declares, as wasmtime 44's headers define them
// (TestCAPILayout compares them with the headers themselves).
_Static_assert(sizeof(dl_bytes_t) == 16, "wasm_byte_vec_t");
_Static_assert(sizeof(dl_val_t) == 32 && offsetof(dl_val_t, of) == 8, "wasmtime_component_val_t");
_Static_assert(sizeof(dl_field_t) == 48 && offsetof(dl_field_t, val) == 16,
               "wasmtime_component_valrecord_entry_t");
_Static_assert(sizeof(dl_instance_t) == 16, "wasmtime_component_instance_t");
_Static_assert(sizeof(dl_func_t) == 24 && offsetof(dl_func_t, private2) == 16,
               "wasmtime_component_func_t");
_Static_assert(sizeof(dl_valtype_t) == 16 && offsetof(dl_valtype_t, of) == 8,
               "wasmtime_component_valtype_t");
_Static_assert(sizeof(dl_item_t) == 24 && offsetof(dl_item_t, of) == 8,
               "wasmtime_component_item_t");

dl_slot_t *dl_slot_new(void) {
  // All zeroes: the result is bool false, which owns nothing.
  return calloc(1, sizeof(dl_slot_t));
}

void dl_slot_clear(dl_slot_t *slot) {
  wasmtime_component_val_delete(&slot->result);
  memset(&slot->result, 0, sizeof slot->result);
}

void dl_slot_free(dl_slot_t *slot) {
  if (slot == NULL) return;
  wasmtime_component_val_delete(&slot->result);
  free(slot);
}

int dl_call(wasmtime_context_t *cx, const dl_func_t *f, int set_fuel, uint64_t fuel,
            int set_epoch, const dl_val_t *args, size_t nargs, size_t nresults,
            uintptr_t slot_addr) {
  dl_slot_t *slot = (dl_slot_t *)slot_addr;
  slot->err = NULL;
  if (set_fuel) {
    slot->err = wasmtime_context_set_fuel(cx, fuel);
    if (slot->err != NULL) return DL_CALL_FUEL_FAILED;
  }
  if (set_epoch) wasmtime_context_set_epoch_deadline(cx, 1);
  // The result slot holds a valid value (see dl_slot_t), which wasmtime
  // drops when it assigns the new result: no memset, no delete call.
  // (A memset of zero bytes at NULL was measured at ~100 ns here: glibc's
  // AVX-512 memset does a masked store that needs a microcode assist.)
  slot->err = wasmtime_component_func_call(f, cx, args, nargs, &slot->result, nresults);
  // Since wasmtime 44 the call runs the canonical ABI's post-return itself
  // (wasmtime_component_func_post_return is a deprecated no-op).
  if (slot->err != NULL) return DL_CALL_FAILED;
  return DL_CALL_OK;
}

static wasmtime_error_t *dl_epoch_trampoline(wasmtime_context_t *cx, void *data, uint64_t *delta,
                                             uint8_t *kind) {
  (void)cx;
  *kind = 0; // continue
  return dlGoEpoch((uintptr_t)data, delta);
}

wasmtime_store_t *dl_store_new(wasm_engine_t *engine, uintptr_t handle, int epoch_callback) {
  wasmtime_store_t *s = wasmtime_store_new(engine, (void *)handle, NULL);
  if (epoch_callback)
    wasmtime_store_epoch_deadline_callback(s, dl_epoch_trampoline, (void *)handle, NULL);
  return s;
}

static void dl_finalize_handle(void *data) { dlGoFinalize((uintptr_t)data); }

static wasmtime_error_t *dl_host_trampoline(void *data, wasmtime_context_t *cx,
                                            const wasmtime_component_func_type_t *ty,
                                            dl_val_t *args, size_t nargs, dl_val_t *rets,
                                            size_t nrets) {
  (void)ty;
  dl_val_t *out = NULL;
  wasmtime_error_t *err = (wasmtime_error_t *)dlGoHostCall(
      (uintptr_t)data, (uintptr_t)wasmtime_context_get_data(cx), args, nargs, nrets, &out);
  if (err != NULL) return err;
  // The results Go built live in Go's C-memory arena; wasmtime frees what it
  // is given, so hand it deep copies made by wasmtime itself (Go reuses that
  // arena space on the next callback). Scalars own nothing: copied as they
  // are, as a C host function would write them.
  for (size_t i = 0; i < nrets; i++) {
    if (out[i].kind <= DL_VAL_CHAR) {
      rets[i] = out[i];
    } else {
      wasmtime_component_val_clone(&out[i], &rets[i]);
    }
  }
  return NULL;
}

wasmtime_error_t *dl_add_func(wasmtime_component_linker_instance_t *li, const char *name,
                              size_t len, uintptr_t handle) {
  return wasmtime_component_linker_instance_add_func(li, name, len, dl_host_trampoline,
                                                     (void *)handle, dl_finalize_handle);
}

static wasmtime_error_t *dl_dtor_trampoline(void *data, wasmtime_context_t *cx, uint32_t rep) {
  return dlGoResourceDrop((uintptr_t)data, (uintptr_t)wasmtime_context_get_data(cx), rep);
}

wasmtime_error_t *dl_add_resource(wasmtime_component_linker_instance_t *li, const char *name,
                                  size_t len, uint32_t type_id, uintptr_t handle) {
  wasmtime_component_resource_type_t *ty = wasmtime_component_resource_type_new_host(type_id);
  wasmtime_error_t *err = wasmtime_component_linker_instance_add_resource(
      li, name, len, ty, dl_dtor_trampoline, (void *)handle, dl_finalize_handle);
  wasmtime_component_resource_type_delete(ty);
  return err;
}

static ptrdiff_t dl_stdout_trampoline(void *data, const unsigned char *buf, size_t len) {
  return dlGoWASIWrite((uintptr_t)data, 1, (unsigned char *)buf, len);
}

static ptrdiff_t dl_stderr_trampoline(void *data, const unsigned char *buf, size_t len) {
  return dlGoWASIWrite((uintptr_t)data, 2, (unsigned char *)buf, len);
}

void dl_wasi_capture(wasi_config_t *c, uintptr_t handle) {
  wasi_config_set_stdout_custom(c, dl_stdout_trampoline, (void *)handle, NULL);
  wasi_config_set_stderr_custom(c, dl_stderr_trampoline, (void *)handle, NULL);
}
