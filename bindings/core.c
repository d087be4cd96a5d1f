#include "core.h"
#include "_cgo_export.h"

_Static_assert(sizeof(dl_core_func_t) == 16, "wasmtime_func_t");
_Static_assert(sizeof(dl_core_memory_t) == 24, "wasmtime_memory_t");
_Static_assert(sizeof(dl_core_val_t) == 32 && offsetof(dl_core_val_t, of) == 8, "wasmtime_val_t");

int dl_core_call(wasmtime_context_t *cx, uintptr_t scratch, size_t nargs, size_t nresults) {
  dl_core_scratch_t *sc = (dl_core_scratch_t *)scratch;
  // Inputs are copied out and outputs stored only once wasmtime returns: a
  // host function running inside the call may use the scratch space for a
  // call of its own.
  dl_core_func_t fn = sc->fn;
  dl_core_val_t a[DL_CORE_MAX_ARGS];
  dl_core_val_t r[1];
  sc->err = NULL;
  sc->trap = NULL;
  if (nargs > DL_CORE_MAX_ARGS || nresults > 1) {
    sc->err = wasmtime_error_new("driftless: dl_core_call supports at most 8 arguments and 1 result");
    return DL_CORE_ERROR;
  }
  for (size_t i = 0; i < nargs; i++) {
    a[i].kind = DL_CORE_I32;
    a[i].of.i64 = 0;
    a[i].of.i32 = sc->args[i];
  }
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *err = wasmtime_func_call(cx, &fn, a, nargs, r, nresults, &trap);
  if (err != NULL) {
    sc->err = err;
    return DL_CORE_ERROR;
  }
  if (trap != NULL) {
    sc->trap = trap;
    return DL_CORE_TRAP;
  }
  if (nresults == 1) {
    if (r[0].kind != DL_CORE_I32) {
      sc->err = wasmtime_error_new("driftless: function returned a value that is not an i32");
      return DL_CORE_ERROR;
    }
    sc->result = r[0].of.i32;
  }
  return DL_CORE_OK;
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

uint8_t *dl_core_memory(const wasmtime_context_t *cx, uintptr_t scratch) {
  dl_core_scratch_t *sc = (dl_core_scratch_t *)scratch;
  sc->size = wasmtime_memory_data_size(cx, &sc->mem);
  return sc->size == 0 ? NULL : wasmtime_memory_data(cx, &sc->mem);
}
