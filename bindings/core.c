#include "core.h"
#include "_cgo_export.h"

_Static_assert(sizeof(dl_core_func_t) == 16, "wasmtime_func_t");
_Static_assert(sizeof(dl_core_memory_t) == 24, "wasmtime_memory_t");
_Static_assert(sizeof(dl_core_val_raw_t) == 16 && _Alignof(dl_core_val_raw_t) == 8, "wasmtime_val_raw_t");

int dl_core_call(wasmtime_context_t *cx, uintptr_t scratch, size_t nargs, size_t nresults) {
  dl_core_scratch_t *sc = (dl_core_scratch_t *)scratch;
  // Inputs are copied out and outputs stored only once wasmtime returns: a
  // host function running inside the call may use the scratch space for a
  // call of its own.
  dl_core_func_t fn = sc->fn;
  dl_core_val_raw_t v[DL_CORE_MAX_ARGS];
  sc->err = NULL;
  sc->trap = NULL;
  if (nargs > DL_CORE_MAX_ARGS || nresults > 1) {
    sc->err = wasmtime_error_new("driftless: dl_core_call supports at most 8 arguments and 1 result");
    return DL_CORE_ERROR;
  }
  for (size_t i = 0; i < nargs; i++) {
    v[i].i64 = 0;
    v[i].i32 = sc->args[i];
  }
  if (nargs == 0) v[0].i64 = 0; // the result slot, all of whose bits are read back
  wasm_trap_t *trap = NULL;
  // The buffer holds the arguments, then the results (at least one slot).
  size_t len = nargs > nresults ? nargs : nresults;
  wasmtime_error_t *err = wasmtime_func_call_unchecked(cx, &fn, v, len, &trap);
  if (sc->track) dl_core_view(cx, scratch);
  if (err != NULL) {
    sc->err = err;
    return DL_CORE_ERROR;
  }
  if (trap != NULL) {
    sc->trap = trap;
    return DL_CORE_TRAP;
  }
  if (nresults == 1) sc->result = v[0].i32;
  return DL_CORE_OK;
}

void dl_core_functype(const wasmtime_context_t *cx, uintptr_t scratch) {
  dl_core_scratch_t *sc = (dl_core_scratch_t *)scratch;
  wasm_functype_t *t = wasmtime_func_type(cx, &sc->fn);
  const dl_core_valtypes_t *ps = wasm_functype_params(t), *rs = wasm_functype_results(t);
  sc->args[0] = (int32_t)ps->size;
  sc->args[1] = (int32_t)rs->size;
  sc->args[2] = sc->args[3] = sc->args[4] = -1;
  for (size_t i = 0; i < ps->size; i++) {
    uint8_t k = wasm_valtype_kind(ps->data[i]);
    if (k != 0) { // WASM_I32
      sc->args[2] = (int32_t)i;
      sc->args[3] = k;
      break;
    }
  }
  for (size_t i = 0; i < rs->size; i++) {
    uint8_t k = wasm_valtype_kind(rs->data[i]);
    if (k != 0) {
      sc->args[4] = k;
      break;
    }
  }
  wasm_functype_delete(t);
}

wasmtime_error_t *dl_core_begin(wasmtime_context_t *cx, int set_fuel, uint64_t fuel) {
  if (set_fuel) {
    wasmtime_error_t *e = wasmtime_context_set_fuel(cx, fuel);
    if (e != NULL) return e;
  }
  wasmtime_context_set_epoch_deadline(cx, 1);
  return NULL;
}

static wasmtime_error_t *dl_core_epoch_trampoline(wasmtime_context_t *cx, void *data,
                                                  uint64_t *delta, uint8_t *kind) {
  (void)cx;
  *kind = 0; // continue (or fail with the returned error)
  return dlGoCoreEpoch((uintptr_t)data, delta);
}

static void dl_core_finalize(void *data) { dlGoFinalize((uintptr_t)data); }

void dl_core_guard(wasmtime_store_t *s, uintptr_t handle) {
  wasmtime_store_epoch_deadline_callback(s, dl_core_epoch_trampoline, (void *)handle,
                                         dl_core_finalize);
}

static ptrdiff_t dl_core_stdout(void *data, const unsigned char *buf, size_t len) {
  return dlGoCoreWASIWrite((uintptr_t)data, 1, (unsigned char *)buf, len);
}

static ptrdiff_t dl_core_stderr(void *data, const unsigned char *buf, size_t len) {
  return dlGoCoreWASIWrite((uintptr_t)data, 2, (unsigned char *)buf, len);
}

void dl_core_wasi_capture(wasi_config_t *c, uintptr_t handle) {
  wasi_config_set_stdout_custom(c, dl_core_stdout, (void *)handle, NULL);
  wasi_config_set_stderr_custom(c, dl_core_stderr, (void *)handle, NULL);
}

void dl_core_view(const wasmtime_context_t *cx, uintptr_t scratch) {
  dl_core_scratch_t *sc = (dl_core_scratch_t *)scratch;
  sc->view_size = wasmtime_memory_data_size(cx, &sc->tracked);
  sc->view = sc->view_size == 0 ? NULL : wasmtime_memory_data(cx, &sc->tracked);
}

uint8_t *dl_core_memory(const wasmtime_context_t *cx, uintptr_t scratch) {
  dl_core_scratch_t *sc = (dl_core_scratch_t *)scratch;
  sc->size = wasmtime_memory_data_size(cx, &sc->mem);
  return sc->size == 0 ? NULL : wasmtime_memory_data(cx, &sc->mem);
}
