// Declarations of the parts of wasmtime's C API (v44) that package bindings
// uses.
//
// Why this file exists: the wasmtime library comes with
// github.com/bytecodealliance/wasmtime-go/v44, which links libwasmtime.a, but
// its headers live in the Go module cache, whose path a plain `go build`
// cannot know. So this package declares, in its own words, only the types and
// functions it calls. The layouts below must match wasmtime 44 exactly.
// TestCAPIHeaders checks that against wasmtime's own headers (found in the
// module cache at test time): it compiles this file with DL_CAPI_CHECK
// defined, which leaves out the type definitions below so that the
// dl_* names can stand for wasmtime's types and every function declared
// here is redeclared over wasmtime's declaration (the C compiler rejects any
// difference), and it compares the layouts and constants of both.
#ifndef DRIFTLESS_CAPI_H
#define DRIFTLESS_CAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// ---- wasm.h basics ---------------------------------------------------------

#ifndef DL_CAPI_CHECK
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_frame_t wasm_frame_t;

typedef struct {
  size_t size;
  uint8_t *data;
} dl_bytes_t; // wasm_byte_vec_t and wasm_name_t

typedef struct {
  size_t size;
  wasm_frame_t **data;
} dl_frames_t; // wasm_frame_vec_t
#endif

extern void wasm_byte_vec_delete(dl_bytes_t *v);
extern void wasm_frame_vec_delete(dl_frames_t *v);
extern uint32_t wasm_frame_func_index(const wasm_frame_t *f);
extern size_t wasm_frame_module_offset(const wasm_frame_t *f);
extern const dl_bytes_t *wasmtime_frame_func_name(const wasm_frame_t *f);
extern const dl_bytes_t *wasmtime_frame_module_name(const wasm_frame_t *f);

// ---- errors ------------------------------------------------------------------

#ifndef DL_CAPI_CHECK
typedef struct wasmtime_error_t wasmtime_error_t;
#endif

extern wasmtime_error_t *wasmtime_error_new(const char *msg);
extern void wasmtime_error_delete(wasmtime_error_t *err);
extern void wasmtime_error_message(const wasmtime_error_t *err, dl_bytes_t *out);
extern void wasmtime_error_wasm_trace(const wasmtime_error_t *err, dl_frames_t *out);

// ---- config and engine -------------------------------------------------------

#ifndef DL_CAPI_CHECK
typedef struct wasmtime_pooling_allocation_config_t wasmtime_pooling_allocation_config_t;
#endif

extern wasmtime_pooling_allocation_config_t *wasmtime_pooling_allocation_config_new(void);
extern void wasmtime_pooling_allocation_config_delete(wasmtime_pooling_allocation_config_t *c);
extern void wasmtime_pooling_allocation_config_total_component_instances_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_total_core_instances_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_total_memories_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_total_tables_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_total_stacks_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_max_memory_size_set(
    wasmtime_pooling_allocation_config_t *c, size_t v);
extern void wasmtime_pooling_allocation_config_max_memories_per_component_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_max_core_instances_per_component_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_max_tables_per_component_set(
    wasmtime_pooling_allocation_config_t *c, uint32_t v);
extern void wasmtime_pooling_allocation_config_max_component_instance_size_set(
    wasmtime_pooling_allocation_config_t *c, size_t v);
extern void wasmtime_pooling_allocation_config_max_core_instance_size_set(
    wasmtime_pooling_allocation_config_t *c, size_t v);
extern void wasmtime_pooling_allocation_config_table_elements_set(
    wasmtime_pooling_allocation_config_t *c, size_t v);
extern void wasmtime_pooling_allocation_strategy_set(
    wasm_config_t *cfg, const wasmtime_pooling_allocation_config_t *c);
extern void wasmtime_config_wasm_component_model_set(wasm_config_t *cfg, bool on);
extern void wasmtime_config_signals_based_traps_set(wasm_config_t *cfg, bool on);
extern void wasmtime_config_memory_reservation_set(wasm_config_t *cfg, uint64_t bytes);
extern void wasmtime_config_memory_guard_size_set(wasm_config_t *cfg, uint64_t bytes);
extern void wasmtime_engine_increment_epoch(wasm_engine_t *engine);

// ---- stores ------------------------------------------------------------------

#ifndef DL_CAPI_CHECK
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasi_config_t wasi_config_t;
#endif

extern wasmtime_store_t *wasmtime_store_new(wasm_engine_t *engine, void *data,
                                            void (*finalizer)(void *));
extern wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *store);
extern void *wasmtime_context_get_data(const wasmtime_context_t *cx);
extern void wasmtime_store_delete(wasmtime_store_t *store);
extern void wasmtime_store_limiter(wasmtime_store_t *store, int64_t memory_size,
                                   int64_t table_elements, int64_t instances,
                                   int64_t tables, int64_t memories);
extern wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *cx, uint64_t fuel);
extern wasmtime_error_t *wasmtime_context_get_fuel(const wasmtime_context_t *cx, uint64_t *fuel);
extern void wasmtime_context_set_epoch_deadline(wasmtime_context_t *cx, uint64_t ticks);
extern wasmtime_error_t *wasmtime_context_set_wasi(wasmtime_context_t *cx, wasi_config_t *wasi);
extern void wasmtime_store_epoch_deadline_callback(
    wasmtime_store_t *store,
    wasmtime_error_t *(*func)(wasmtime_context_t *, void *, uint64_t *, uint8_t *),
    void *data, void (*finalizer)(void *));

// ---- WASI configuration --------------------------------------------------------

extern wasi_config_t *wasi_config_new(void);
extern void wasi_config_delete(wasi_config_t *c);
extern bool wasi_config_set_argv(wasi_config_t *c, size_t argc, const char **argv);
extern bool wasi_config_set_env(wasi_config_t *c, size_t n, const char **names,
                                const char **values);
extern void wasi_config_set_stdout_custom(wasi_config_t *c,
                                          ptrdiff_t (*cb)(void *, const unsigned char *, size_t),
                                          void *data, void (*finalizer)(void *));
extern void wasi_config_set_stderr_custom(wasi_config_t *c,
                                          ptrdiff_t (*cb)(void *, const unsigned char *, size_t),
                                          void *data, void (*finalizer)(void *));
extern bool wasi_config_preopen_dir(wasi_config_t *c, const char *host_path,
                                    const char *guest_path, size_t dir_perms,
                                    size_t file_perms);

// ---- component values ------------------------------------------------------------

enum {
  DL_VAL_BOOL = 0,
  DL_VAL_S8 = 1,
  DL_VAL_U8 = 2,
  DL_VAL_S16 = 3,
  DL_VAL_U16 = 4,
  DL_VAL_S32 = 5,
  DL_VAL_U32 = 6,
  DL_VAL_S64 = 7,
  DL_VAL_U64 = 8,
  DL_VAL_F32 = 9,
  DL_VAL_F64 = 10,
  DL_VAL_CHAR = 11,
  DL_VAL_STRING = 12,
  DL_VAL_LIST = 13,
  DL_VAL_RECORD = 14,
  DL_VAL_TUPLE = 15,
  DL_VAL_VARIANT = 16,
  DL_VAL_ENUM = 17,
  DL_VAL_OPTION = 18,
  DL_VAL_RESULT = 19,
  DL_VAL_FLAGS = 20,
  DL_VAL_RESOURCE = 21,
};

#ifndef DL_CAPI_CHECK
typedef struct wasmtime_component_resource_any wasmtime_component_resource_any_t;
typedef struct wasmtime_component_resource_host wasmtime_component_resource_host_t;
typedef struct wasmtime_component_resource_type wasmtime_component_resource_type_t;

struct dl_val;

typedef struct {
  size_t size;
  struct dl_val *data;
} dl_vals_t; // list and tuple payloads

typedef struct dl_field dl_field_t;

typedef struct {
  size_t size;
  dl_field_t *data;
} dl_fields_t; // record payload

typedef struct {
  size_t size;
  dl_bytes_t *data;
} dl_names_t; // flags payload

typedef struct {
  dl_bytes_t name;
  struct dl_val *val;
} dl_variant_t;

typedef struct {
  bool is_ok;
  struct dl_val *val;
} dl_result_t;

// wasmtime_component_val_t: a one-byte kind and a 24-byte union.
typedef struct dl_val {
  uint8_t kind;
  union {
    bool b;
    int8_t s8;
    uint8_t u8;
    int16_t s16;
    uint16_t u16;
    int32_t s32;
    uint32_t u32;
    int64_t s64;
    uint64_t u64;
    float f32;
    double f64;
    uint32_t ch;
    dl_bytes_t str;
    dl_vals_t list;
    dl_fields_t record;
    dl_vals_t tuple;
    dl_variant_t variant;
    dl_bytes_t enumeration;
    struct dl_val *option;
    dl_result_t result;
    dl_names_t flags;
    wasmtime_component_resource_any_t *resource;
  } of;
} dl_val_t;

struct dl_field {
  dl_bytes_t name;
  dl_val_t val;
};
#endif

extern void wasmtime_component_val_clone(const dl_val_t *src, dl_val_t *dst);
extern void wasmtime_component_val_delete(dl_val_t *v);

extern wasmtime_component_resource_any_t *wasmtime_component_resource_any_clone(
    const wasmtime_component_resource_any_t *r);
extern bool wasmtime_component_resource_any_owned(const wasmtime_component_resource_any_t *r);
extern wasmtime_error_t *wasmtime_component_resource_any_drop(
    wasmtime_context_t *cx, const wasmtime_component_resource_any_t *r);
extern void wasmtime_component_resource_any_delete(wasmtime_component_resource_any_t *r);
extern wasmtime_component_resource_type_t *wasmtime_component_resource_any_type(
    const wasmtime_component_resource_any_t *r);
extern wasmtime_component_resource_host_t *wasmtime_component_resource_host_new(
    bool owned, uint32_t rep, uint32_t ty);
extern uint32_t wasmtime_component_resource_host_rep(const wasmtime_component_resource_host_t *r);
extern uint32_t wasmtime_component_resource_host_type(const wasmtime_component_resource_host_t *r);
extern void wasmtime_component_resource_host_delete(wasmtime_component_resource_host_t *r);
extern wasmtime_error_t *wasmtime_component_resource_any_to_host(
    wasmtime_context_t *cx, const wasmtime_component_resource_any_t *r,
    wasmtime_component_resource_host_t **out);
extern wasmtime_error_t *wasmtime_component_resource_host_to_any(
    wasmtime_context_t *cx, const wasmtime_component_resource_host_t *r,
    wasmtime_component_resource_any_t **out);
extern wasmtime_component_resource_type_t *wasmtime_component_resource_type_new_host(uint32_t ty);
extern wasmtime_component_resource_type_t *wasmtime_component_resource_type_clone(
    const wasmtime_component_resource_type_t *t);
extern bool wasmtime_component_resource_type_equal(const wasmtime_component_resource_type_t *a,
                                                   const wasmtime_component_resource_type_t *b);
extern void wasmtime_component_resource_type_delete(wasmtime_component_resource_type_t *t);

// ---- components, instances, functions -------------------------------------------

#ifndef DL_CAPI_CHECK
typedef struct wasmtime_component_t wasmtime_component_t;
typedef struct wasmtime_component_export_index_t wasmtime_component_export_index_t;
typedef struct wasmtime_component_type_t wasmtime_component_type_t;
typedef struct wasmtime_component_func_type_t wasmtime_component_func_type_t;
typedef struct wasmtime_component_instance_type_t wasmtime_component_instance_type_t;

typedef struct {
  uint64_t store_id;
  uint32_t private1;
} dl_instance_t; // wasmtime_component_instance_t

// wasmtime_component_func_t: the instance part is a struct of its own, so
// private2 comes after that struct's padding, at offset 16 (24 bytes in
// all). TestCAPILayout checks every layout here against wasmtime's headers.
typedef struct {
  struct {
    uint64_t store_id;
    uint32_t private1;
  } instance;
  uint32_t private2;
} dl_func_t;
#endif

extern wasmtime_error_t *wasmtime_component_new(const wasm_engine_t *engine, const uint8_t *buf,
                                                size_t len, wasmtime_component_t **out);
extern wasmtime_error_t *wasmtime_component_serialize(const wasmtime_component_t *c,
                                                      dl_bytes_t *out);
extern wasmtime_error_t *wasmtime_component_deserialize(const wasm_engine_t *engine,
                                                        const uint8_t *buf, size_t len,
                                                        wasmtime_component_t **out);
extern wasmtime_error_t *wasmtime_component_deserialize_file(const wasm_engine_t *engine,
                                                             const char *path,
                                                             wasmtime_component_t **out);
extern wasmtime_component_type_t *wasmtime_component_type(const wasmtime_component_t *c);
extern void wasmtime_component_delete(wasmtime_component_t *c);
extern wasmtime_component_export_index_t *wasmtime_component_get_export_index(
    const wasmtime_component_t *c, const wasmtime_component_export_index_t *parent,
    const char *name, size_t len);
extern void wasmtime_component_export_index_delete(wasmtime_component_export_index_t *i);

extern bool wasmtime_component_instance_get_func(const dl_instance_t *inst,
                                                 wasmtime_context_t *cx,
                                                 const wasmtime_component_export_index_t *idx,
                                                 dl_func_t *out);
extern wasmtime_component_func_type_t *wasmtime_component_func_type(const dl_func_t *f,
                                                                    wasmtime_context_t *cx);
extern wasmtime_error_t *wasmtime_component_func_call(const dl_func_t *f, wasmtime_context_t *cx,
                                                      const dl_val_t *args, size_t nargs,
                                                      dl_val_t *results, size_t nresults);

// ---- linker ----------------------------------------------------------------------

#ifndef DL_CAPI_CHECK
typedef struct wasmtime_component_linker_t wasmtime_component_linker_t;
typedef struct wasmtime_component_linker_instance_t wasmtime_component_linker_instance_t;

typedef wasmtime_error_t *(*dl_host_callback_t)(void *, wasmtime_context_t *,
                                                const wasmtime_component_func_type_t *,
                                                dl_val_t *, size_t, dl_val_t *, size_t);
typedef wasmtime_error_t *(*dl_resource_dtor_t)(void *, wasmtime_context_t *, uint32_t);
#endif

extern wasmtime_component_linker_t *wasmtime_component_linker_new(const wasm_engine_t *engine);
extern void wasmtime_component_linker_delete(wasmtime_component_linker_t *l);
extern wasmtime_component_linker_instance_t *wasmtime_component_linker_root(
    wasmtime_component_linker_t *l);
extern void wasmtime_component_linker_instance_delete(wasmtime_component_linker_instance_t *li);
extern wasmtime_error_t *wasmtime_component_linker_instance_add_instance(
    wasmtime_component_linker_instance_t *li, const char *name, size_t len,
    wasmtime_component_linker_instance_t **out);
extern wasmtime_error_t *wasmtime_component_linker_instance_add_func(
    wasmtime_component_linker_instance_t *li, const char *name, size_t len,
    dl_host_callback_t cb, void *data, void (*finalizer)(void *));
extern wasmtime_error_t *wasmtime_component_linker_instance_add_resource(
    wasmtime_component_linker_instance_t *li, const char *name, size_t len,
    const wasmtime_component_resource_type_t *ty, dl_resource_dtor_t dtor, void *data,
    void (*finalizer)(void *));
extern wasmtime_error_t *wasmtime_component_linker_add_wasip2(wasmtime_component_linker_t *l);
extern wasmtime_error_t *wasmtime_component_linker_instantiate(const wasmtime_component_linker_t *l,
                                                               wasmtime_context_t *cx,
                                                               const wasmtime_component_t *c,
                                                               dl_instance_t *out);

// ---- type reflection -----------------------------------------------------------------

enum {
  DL_TYPE_BOOL = 0,
  DL_TYPE_S8 = 1,
  DL_TYPE_S16 = 2,
  DL_TYPE_S32 = 3,
  DL_TYPE_S64 = 4,
  DL_TYPE_U8 = 5,
  DL_TYPE_U16 = 6,
  DL_TYPE_U32 = 7,
  DL_TYPE_U64 = 8,
  DL_TYPE_F32 = 9,
  DL_TYPE_F64 = 10,
  DL_TYPE_CHAR = 11,
  DL_TYPE_STRING = 12,
  DL_TYPE_LIST = 13,
  DL_TYPE_RECORD = 14,
  DL_TYPE_TUPLE = 15,
  DL_TYPE_VARIANT = 16,
  DL_TYPE_ENUM = 17,
  DL_TYPE_OPTION = 18,
  DL_TYPE_RESULT = 19,
  DL_TYPE_FLAGS = 20,
  DL_TYPE_OWN = 21,
  DL_TYPE_BORROW = 22,
  DL_TYPE_FUTURE = 23,
  DL_TYPE_STREAM = 24,
  DL_TYPE_ERROR_CONTEXT = 25,
};

#ifndef DL_CAPI_CHECK
// wasmtime_component_valtype_t: a one-byte kind and a pointer to the
// kind's type object (unused for primitives).
typedef struct {
  uint8_t kind;
  void *of;
} dl_valtype_t;
#endif

enum {
  DL_ITEM_COMPONENT = 0,
  DL_ITEM_INSTANCE = 1,
  DL_ITEM_MODULE = 2,
  DL_ITEM_FUNC = 3,
  DL_ITEM_RESOURCE = 4,
  DL_ITEM_CORE_FUNC = 5,
  DL_ITEM_TYPE = 6,
};

#ifndef DL_CAPI_CHECK
// wasmtime_component_item_t: a one-byte kind and a union that is either a
// pointer to a type object or, for DL_ITEM_TYPE, a whole valtype.
typedef struct {
  uint8_t kind;
  union {
    void *ptr;
    dl_valtype_t type;
  } of;
} dl_item_t;
#endif

extern void wasmtime_component_type_delete(wasmtime_component_type_t *t);
extern size_t wasmtime_component_type_import_count(const wasmtime_component_type_t *t,
                                                   const wasm_engine_t *e);
extern bool wasmtime_component_type_import_nth(const wasmtime_component_type_t *t,
                                               const wasm_engine_t *e, size_t n,
                                               const char **name, size_t *len, dl_item_t *out);
extern size_t wasmtime_component_type_export_count(const wasmtime_component_type_t *t,
                                                   const wasm_engine_t *e);
extern bool wasmtime_component_type_export_nth(const wasmtime_component_type_t *t,
                                               const wasm_engine_t *e, size_t n,
                                               const char **name, size_t *len, dl_item_t *out);
extern void wasmtime_component_item_delete(dl_item_t *item);
extern size_t wasmtime_component_instance_type_export_count(
    const wasmtime_component_instance_type_t *t, const wasm_engine_t *e);
extern bool wasmtime_component_instance_type_export_nth(
    const wasmtime_component_instance_type_t *t, const wasm_engine_t *e, size_t n,
    const char **name, size_t *len, dl_item_t *out);

extern void wasmtime_component_func_type_delete(wasmtime_component_func_type_t *t);
extern size_t wasmtime_component_func_type_param_count(const wasmtime_component_func_type_t *t);
extern bool wasmtime_component_func_type_param_nth(const wasmtime_component_func_type_t *t,
                                                   size_t n, const char **name, size_t *len,
                                                   dl_valtype_t *out);
extern bool wasmtime_component_func_type_result(const wasmtime_component_func_type_t *t,
                                                dl_valtype_t *out);
extern void wasmtime_component_valtype_delete(dl_valtype_t *t);
// Not declared, so that nothing here can call them: wasmtime_component_valtype_equal
// and the per-kind *_type_equal functions compare structurally, and reaching a
// resource handle inside a record, variant, list, ... of an uninstantiated
// component's types they index an empty resource table and panic (wasmtime
// 39 and 44: types.rs TypeChecker::resources_equal), aborting the process. Reflection
// compares nothing through the C API but resource types, by identity
// (wasmtime_component_resource_type_equal, which cannot panic).

#ifndef DL_CAPI_CHECK
typedef struct wasmtime_component_list_type wasmtime_component_list_type_t;
typedef struct wasmtime_component_record_type wasmtime_component_record_type_t;
typedef struct wasmtime_component_tuple_type wasmtime_component_tuple_type_t;
typedef struct wasmtime_component_variant_type wasmtime_component_variant_type_t;
typedef struct wasmtime_component_enum_type wasmtime_component_enum_type_t;
typedef struct wasmtime_component_option_type wasmtime_component_option_type_t;
typedef struct wasmtime_component_result_type wasmtime_component_result_type_t;
typedef struct wasmtime_component_flags_type wasmtime_component_flags_type_t;
typedef struct wasmtime_component_future_type wasmtime_component_future_type_t;
typedef struct wasmtime_component_stream_type wasmtime_component_stream_type_t;
#endif

extern void wasmtime_component_list_type_element(const wasmtime_component_list_type_t *t,
                                                 dl_valtype_t *out);
extern size_t wasmtime_component_record_type_field_count(const wasmtime_component_record_type_t *t);
extern bool wasmtime_component_record_type_field_nth(const wasmtime_component_record_type_t *t, size_t n, const char **name,
                                                     size_t *len, dl_valtype_t *out);
extern size_t wasmtime_component_tuple_type_types_count(const wasmtime_component_tuple_type_t *t);
extern bool wasmtime_component_tuple_type_types_nth(const wasmtime_component_tuple_type_t *t, size_t n, dl_valtype_t *out);
extern size_t wasmtime_component_variant_type_case_count(const wasmtime_component_variant_type_t *t);
extern bool wasmtime_component_variant_type_case_nth(const wasmtime_component_variant_type_t *t, size_t n, const char **name,
                                                     size_t *len, bool *has_payload,
                                                     dl_valtype_t *payload);
extern size_t wasmtime_component_enum_type_names_count(const wasmtime_component_enum_type_t *t);
extern bool wasmtime_component_enum_type_names_nth(const wasmtime_component_enum_type_t *t, size_t n, const char **name,
                                                   size_t *len);
extern void wasmtime_component_option_type_ty(const wasmtime_component_option_type_t *t, dl_valtype_t *out);
extern bool wasmtime_component_result_type_ok(const wasmtime_component_result_type_t *t, dl_valtype_t *out);
extern bool wasmtime_component_result_type_err(const wasmtime_component_result_type_t *t, dl_valtype_t *out);
extern size_t wasmtime_component_flags_type_names_count(const wasmtime_component_flags_type_t *t);
extern bool wasmtime_component_flags_type_names_nth(const wasmtime_component_flags_type_t *t, size_t n, const char **name,
                                                    size_t *len);
extern bool wasmtime_component_future_type_ty(const wasmtime_component_future_type_t *t, dl_valtype_t *out);
extern bool wasmtime_component_stream_type_ty(const wasmtime_component_stream_type_t *t, dl_valtype_t *out);

#endif
