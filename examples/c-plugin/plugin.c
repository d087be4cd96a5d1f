/*
 * c-plugin: a Driftless component plugin in C.
 *
 * Guest bindings come from `wit-bindgen c` (generated at build time into
 * build/examples/c-plugin/gen/); the module is compiled with clang for wasm32-wasi
 * against wasi-libc and made into a component with `wasm-tools component new` and the
 * WASI preview1 reactor adapter. World `driftless-examples:c-plugin/c-plugin`
 * (wit/world.wit): imports driftless:plugin/host, exports metadata, tasks, templates.
 *
 *   task   checksum  config {"text": "..."} -> output {"length": N, "fnv1a32": "xxxxxxxx"};
 *                    read-only, so changed=false, and check mode gives the same answer.
 *   filter repeat    {{ "ab" | repeat(3, "-") }} -> "ab-ab-ab"
 *
 * Ownership (wit-bindgen C): arguments of exported functions belong to the callee (freed
 * here); everything returned must be malloc'ed (the generated post-return frees it).
 */

#include "c_plugin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_NAME "c-plugin"
#define PLUGIN_VERSION "0.1.0"
#define MAX_REPEAT 1000

typedef c_plugin_string_t str_t;
typedef driftless_plugin_types_plugin_error_t plugin_error_t;

static void set_str(str_t *out, const char *s) { c_plugin_string_dup(out, s); }

static bool fail(plugin_error_t *err, uint8_t kind, const char *msg) {
  err->kind = kind;
  set_str(&err->message, msg);
  return false;
}

/* ---------------------------------------------------------------------------------------
 * a small JSON reader: top-level object members and string values (with escapes)
 */

typedef struct {
  const uint8_t *p, *end;
} cur_t;

static void skip_ws(cur_t *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int hex4(const uint8_t *p, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t ch = p[i];
    v <<= 4;
    if (ch >= '0' && ch <= '9') v |= ch - '0';
    else if (ch >= 'a' && ch <= 'f') v |= ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') v |= ch - 'A' + 10;
    else return 0;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(uint8_t *o, uint32_t cp) {
  if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) { o[0] = 0xC0 | (cp >> 6); o[1] = 0x80 | (cp & 0x3F); return 2; }
  if (cp < 0x10000) {
    o[0] = 0xE0 | (cp >> 12); o[1] = 0x80 | ((cp >> 6) & 0x3F); o[2] = 0x80 | (cp & 0x3F);
    return 3;
  }
  o[0] = 0xF0 | (cp >> 18); o[1] = 0x80 | ((cp >> 12) & 0x3F);
  o[2] = 0x80 | ((cp >> 6) & 0x3F); o[3] = 0x80 | (cp & 0x3F);
  return 4;
}

/* Reads a JSON string at c->p into a malloc'ed buffer (*out, *out_len; NUL-terminated).
 * Returns 0 if it is not a well-formed string. */
static int read_string(cur_t *c, uint8_t **out, size_t *out_len) {
  if (c->p >= c->end || *c->p != '"') return 0;
  c->p++;
  /* decoded text is never longer than the escaped text */
  uint8_t *buf = malloc((size_t)(c->end - c->p) + 1);
  if (!buf) return 0;
  size_t n = 0;
  while (c->p < c->end) {
    uint8_t ch = *c->p++;
    if (ch == '"') {
      buf[n] = 0;
      *out = buf;
      *out_len = n;
      return 1;
    }
    if (ch < 0x20) break;
    if (ch != '\\') { buf[n++] = ch; continue; }
    if (c->p >= c->end) break;
    ch = *c->p++;
    switch (ch) {
      case '"': case '\\': case '/': buf[n++] = ch; break;
      case 'b': buf[n++] = '\b'; break;
      case 'f': buf[n++] = '\f'; break;
      case 'n': buf[n++] = '\n'; break;
      case 'r': buf[n++] = '\r'; break;
      case 't': buf[n++] = '\t'; break;
      case 'u': {
        uint32_t cp, lo;
        if (c->end - c->p < 4 || !hex4(c->p, &cp)) goto bad;
        c->p += 4;
        if (cp >= 0xD800 && cp < 0xDC00) { /* surrogate pair */
          if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || !hex4(c->p + 2, &lo) ||
              lo < 0xDC00 || lo >= 0xE000)
            goto bad;
          c->p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          goto bad;
        }
        n += put_utf8(buf + n, cp);
        break;
      }
      default: goto bad;
    }
  }
bad:
  free(buf);
  return 0;
}

/* Skips any JSON value (scanning strings, objects and arrays). */
static int skip_value(cur_t *c) {
  skip_ws(c);
  if (c->p >= c->end) return 0;
  if (*c->p == '"') {
    uint8_t *s; size_t n;
    if (!read_string(c, &s, &n)) return 0;
    free(s);
    return 1;
  }
  if (*c->p == '{' || *c->p == '[') {
    int depth = 0;
    while (c->p < c->end) {
      uint8_t ch = *c->p;
      if (ch == '"') { if (!skip_value(c)) return 0; continue; }
      if (ch == '{' || ch == '[') depth++;
      else if (ch == '}' || ch == ']') { if (--depth == 0) { c->p++; return 1; } }
      c->p++;
    }
    return 0;
  }
  const uint8_t *s = c->p;
  while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']' && *c->p != ' ' &&
         *c->p != '\n' && *c->p != '\t' && *c->p != '\r')
    c->p++;
  return c->p > s;
}

/* Finds top-level member `key` of the JSON object in text; on success *val is positioned
 * at its value. Returns -1 if text is not an object, 0 if the key is absent, 1 if found. */
static int find_member(const str_t *text, const char *key, cur_t *val) {
  cur_t c = {text->ptr, text->ptr + text->len};
  skip_ws(&c);
  if (c.p >= c.end || *c.p != '{') return -1;
  c.p++;
  skip_ws(&c);
  if (c.p < c.end && *c.p == '}') return 0;
  while (c.p < c.end) {
    uint8_t *k; size_t kn;
    if (!read_string(&c, &k, &kn)) return -1;
    int match = strlen(key) == kn && memcmp(k, key, kn) == 0;
    free(k);
    skip_ws(&c);
    if (c.p >= c.end || *c.p != ':') return -1;
    c.p++;
    skip_ws(&c);
    if (match) { *val = c; return 1; }
    if (!skip_value(&c)) return -1;
    skip_ws(&c);
    if (c.p < c.end && *c.p == ',') { c.p++; skip_ws(&c); continue; }
    if (c.p < c.end && *c.p == '}') return 0;
    return -1;
  }
  return -1;
}

/* Parses a whole JSON text that must be one string. */
static int parse_string_value(const str_t *text, uint8_t **out, size_t *n) {
  cur_t c = {text->ptr, text->ptr + text->len};
  skip_ws(&c);
  if (!read_string(&c, out, n)) return 0;
  skip_ws(&c);
  if (c.p != c.end) { free(*out); return 0; }
  return 1;
}

/* Parses a whole JSON text that must be a non-negative integer <= max. */
static int parse_count(const str_t *text, long max, long *out) {
  char buf[32];
  if (text->len == 0 || text->len >= sizeof buf) return 0;
  memcpy(buf, text->ptr, text->len);
  buf[text->len] = 0;
  char *end;
  long v = strtol(buf, &end, 10);
  while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r') end++;
  if (*end || end == buf || v < 0 || v > max) return 0;
  *out = v;
  return 1;
}

/* Appends s as a JSON string literal (quoted, escaped). */
typedef struct {
  uint8_t *buf;
  size_t len, cap;
  int oom;
} sb_t;

static void sb_put(sb_t *b, const void *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (b->len + n + 1 > cap) cap *= 2;
    uint8_t *nb = realloc(b->buf, cap);
    if (!nb) { b->oom = 1; return; }
    b->buf = nb;
    b->cap = cap;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = 0;
}

static void sb_json_string(sb_t *b, const uint8_t *s, size_t n) {
  sb_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    uint8_t ch = s[i];
    char esc[8];
    if (ch == '"' || ch == '\\') { esc[0] = '\\'; esc[1] = (char)ch; sb_put(b, esc, 2); }
    else if (ch == '\n') sb_put(b, "\\n", 2);
    else if (ch == '\r') sb_put(b, "\\r", 2);
    else if (ch == '\t') sb_put(b, "\\t", 2);
    else if (ch < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", ch); sb_put(b, esc, 6); }
    else sb_put(b, &ch, 1);
  }
  sb_put(b, "\"", 1);
}

/* Moves the builder's text into out (no copy). */
static bool sb_take(sb_t *b, str_t *out, plugin_error_t *err) {
  if (b->oom) { free(b->buf); return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_FAILED, "out of memory"); }
  if (!b->buf) sb_put(b, "", 0);
  out->ptr = b->buf;
  out->len = b->len;
  return true;
}

/* ---------------------------------------------------------------------------------------
 * metadata
 */

void exports_driftless_plugin_metadata_describe(exports_driftless_plugin_metadata_plugin_info_t *ret) {
  set_str(&ret->name, PLUGIN_NAME);
  set_str(&ret->version, PLUGIN_VERSION);
  set_str(&ret->description, "Example C plugin (wit-bindgen c + wasi-libc): task checksum, template filter repeat.");
}

/* ---------------------------------------------------------------------------------------
 * tasks
 */

void exports_driftless_plugin_tasks_definitions(exports_driftless_plugin_tasks_list_task_definition_t *ret) {
  ret->len = 1;
  ret->ptr = calloc(1, sizeof *ret->ptr);
  exports_driftless_plugin_tasks_task_definition_t *d = &ret->ptr[0];
  set_str(&d->name, "checksum");
  d->kind = EXPORTS_DRIFTLESS_PLUGIN_TASKS_TASK_KIND_APPLY;
  set_str(&d->description, "FNV-1a (32 bit) checksum and length of config.text. Read-only: never changes anything.");
  set_str(&d->config_schema,
          "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
          "\"properties\":{\"text\":{\"type\":\"string\",\"description\":\"Text to checksum.\"}},"
          "\"required\":[\"text\"],\"additionalProperties\":false}");
  d->supports_check_mode = true;
}

static bool task_checksum(const str_t *config, bool check_mode, exports_driftless_plugin_tasks_task_result_t *ret,
                          plugin_error_t *err) {
  cur_t v;
  int found = find_member(config, "text", &v);
  if (found < 0) return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_INVALID_CONFIG, "checksum: config must be a JSON object");
  uint8_t *text;
  size_t n;
  if (found == 0 || !read_string(&v, &text, &n))
    return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_INVALID_CONFIG, "checksum: config.text (string) is required");
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) { h ^= text[i]; h *= 16777619u; }
  free(text);

  char out[128], msg[96];
  snprintf(out, sizeof out, "{\"length\":%zu,\"fnv1a32\":\"%08x\",\"check_mode\":%s}", n, (unsigned)h,
           check_mode ? "true" : "false");
  snprintf(msg, sizeof msg, "fnv1a32 of %zu bytes is %08x", n, (unsigned)h);
  c_plugin_string_t logmsg;
  c_plugin_string_set(&logmsg, msg); /* borrowed by the import: no copy needed */
  driftless_plugin_host_log(DRIFTLESS_PLUGIN_TYPES_LEVEL_DEBUG, &logmsg);

  ret->changed = false;
  set_str(&ret->message, msg);
  set_str(&ret->output, out);
  ret->diff.is_some = false;
  return true;
}

bool exports_driftless_plugin_tasks_execute(c_plugin_string_t *name, exports_driftless_plugin_tasks_json_t *config,
                                            bool check_mode, exports_driftless_plugin_tasks_task_result_t *ret,
                                            exports_driftless_plugin_tasks_plugin_error_t *err) {
  bool ok;
  if (name->len == 8 && memcmp(name->ptr, "checksum", 8) == 0) {
    ok = task_checksum(config, check_mode, ret, err);
  } else {
    ok = fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_NOT_FOUND, "no task with that name");
  }
  c_plugin_string_free(name);
  c_plugin_string_free(config);
  return ok;
}

/* ---------------------------------------------------------------------------------------
 * templates
 */

static void set_arg(exports_driftless_plugin_templates_argument_t *a, const char *name, const char *desc, bool req) {
  set_str(&a->name, name);
  set_str(&a->description, desc);
  a->required = req;
}

void exports_driftless_plugin_templates_extensions(exports_driftless_plugin_templates_list_extension_definition_t *ret) {
  ret->len = 1;
  ret->ptr = calloc(1, sizeof *ret->ptr);
  exports_driftless_plugin_templates_extension_definition_t *d = &ret->ptr[0];
  set_str(&d->name, "repeat");
  d->kind = EXPORTS_DRIFTLESS_PLUGIN_TEMPLATES_EXTENSION_KIND_FILTER;
  set_str(&d->description, "Repeats a string `count` times, joined by `separator`.");
  set_str(&d->category, "string");
  d->arguments.len = 2;
  d->arguments.ptr = calloc(2, sizeof *d->arguments.ptr);
  set_arg(&d->arguments.ptr[0], "count", "How many times (0-1000).", true);
  set_arg(&d->arguments.ptr[1], "separator", "Put between the copies (default \"\").", false);
  set_str(&d->config_schema, "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}");
}

static bool filter_repeat(const str_t *value, const exports_driftless_plugin_templates_list_json_t *args, str_t *ret,
                          plugin_error_t *err) {
  uint8_t *s = NULL, *sep = NULL;
  size_t n, sepn = 0;
  long count;
  if (args->len < 1 || args->len > 2)
    return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_INVALID_INPUT, "repeat: takes one or two arguments (count, separator?)");
  if (!parse_count(&args->ptr[0], MAX_REPEAT, &count))
    return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_INVALID_INPUT, "repeat: count must be an integer from 0 to 1000");
  if (args->len == 2 && !parse_string_value(&args->ptr[1], &sep, &sepn))
    return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_INVALID_INPUT, "repeat: separator must be a string");
  if (!parse_string_value(value, &s, &n)) {
    free(sep);
    return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_INVALID_INPUT, "repeat: value must be a string");
  }
  sb_t raw = {0};
  for (long i = 0; i < count; i++) {
    if (i > 0) sb_put(&raw, sep, sepn);
    sb_put(&raw, s, n);
  }
  free(s);
  free(sep);
  sb_t out = {0};
  if (raw.oom) out.oom = 1;
  else sb_json_string(&out, raw.buf ? raw.buf : (const uint8_t *)"", raw.len);
  free(raw.buf);
  return sb_take(&out, ret, err);
}

bool exports_driftless_plugin_templates_apply_filter(c_plugin_string_t *name, exports_driftless_plugin_templates_json_t *config,
                                                     exports_driftless_plugin_templates_json_t *value,
                                                     exports_driftless_plugin_templates_list_json_t *args,
                                                     exports_driftless_plugin_templates_json_t *ret,
                                                     exports_driftless_plugin_templates_plugin_error_t *err) {
  bool ok;
  if (name->len == 6 && memcmp(name->ptr, "repeat", 6) == 0) {
    ok = filter_repeat(value, args, ret, err);
  } else {
    ok = fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_NOT_FOUND, "no template filter with that name");
  }
  c_plugin_string_free(name);
  c_plugin_string_free(config);
  c_plugin_string_free(value);
  exports_driftless_plugin_templates_list_json_free(args);
  return ok;
}

bool exports_driftless_plugin_templates_call_function(c_plugin_string_t *name, exports_driftless_plugin_templates_json_t *config,
                                                      exports_driftless_plugin_templates_list_json_t *args,
                                                      exports_driftless_plugin_templates_json_t *ret,
                                                      exports_driftless_plugin_templates_plugin_error_t *err) {
  (void)ret;
  c_plugin_string_free(name);
  c_plugin_string_free(config);
  exports_driftless_plugin_templates_list_json_free(args);
  return fail(err, DRIFTLESS_PLUGIN_TYPES_ERROR_KIND_NOT_FOUND, "this plugin has no template functions");
}
