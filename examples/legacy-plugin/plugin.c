/*
 * legacy-plugin: a Driftless plugin for the legacy JSON-string ABI
 * (shared/spec/legacy-abi.md): a plain core WebAssembly module, not a component.
 *
 * Built freestanding (clang --target=wasm32 -nostdlib): no libc and no WASI imports.
 * The only imports are env.host_log(level, message) (two NUL-terminated strings) and
 * env.host_get_timestamp() -> i64.
 *
 * Provides:
 *   task  echo   config {"message": "..."} -> {"changed":false,"message":<message>,"output":<config>}
 *   task  greet  config {"name": "..."}    -> {"changed":true,"message":"Hello, <name>!","output":{...}}
 *   facts legacy -> {"abi":"legacy-json","plugin":"legacy-plugin","timestamp":<host time>}
 *   filter upper -> the string value in ASCII upper case
 *
 * Strings: every string from the host comes from `allocate` and goes back through
 * `deallocate`; every string returned to the host lives in one result buffer that is
 * reused by the next call (the host copies it out before calling again).
 */

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long size_t;
typedef long long i64;

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))

IMPORT("host_log") void host_log(const char *level, const char *message);
IMPORT("host_get_timestamp") i64 host_get_timestamp(void);

/* ------------------------------------------------------------------------------------
 * memory: first-fit free list over a heap grown with memory.grow
 */

extern u8 __heap_base;

#define PAGE 65536u
#define ALIGN 8u

typedef struct block {
  u32 size;           /* usable bytes after the header */
  u32 free;
  struct block *next; /* every block, in address order */
  u32 pad;
} block;

static block *blocks;    /* first block */
static block *last;      /* last block */
static u8 *heap_end;     /* end of the carved heap */

static int grow_to(u8 *end) {
  u32 have = __builtin_wasm_memory_size(0) * PAGE;
  if ((size_t)end <= have) return 1;
  u32 need = (u32)(((size_t)end - have + PAGE - 1) / PAGE);
  return __builtin_wasm_memory_grow(0, need) != (size_t)-1;
}

static void *mem_alloc(u32 size) {
  if (size == 0) size = 1;
  if (size > 0x40000000u) return 0;
  size = (size + ALIGN - 1) & ~(ALIGN - 1);
  for (block *b = blocks; b; b = b->next) {
    if (!b->free || b->size < size) continue;
    if (b->size >= size + sizeof(block) + 64) { /* split off the rest */
      block *r = (block *)((u8 *)(b + 1) + size);
      r->size = b->size - size - (u32)sizeof(block);
      r->free = 1;
      r->next = b->next;
      b->next = r;
      b->size = size;
      if (last == b) last = r;
    }
    b->free = 0;
    return b + 1;
  }
  if (!heap_end) heap_end = (u8 *)(((size_t)&__heap_base + ALIGN - 1) & ~(size_t)(ALIGN - 1));
  if (last && last->free) { /* extend the free block at the end of the heap */
    u8 *end = (u8 *)(last + 1) + size;
    if (!grow_to(end)) return 0;
    heap_end = end;
    last->size = size;
    last->free = 0;
    return last + 1;
  }
  block *b = (block *)heap_end;
  u8 *end = heap_end + sizeof(block) + size;
  if (!grow_to(end)) return 0;
  heap_end = end;
  b->size = size;
  b->free = 0;
  b->next = 0;
  if (last) last->next = b; else blocks = b;
  last = b;
  return b + 1;
}

static void mem_free(void *p) {
  if (!p) return;
  ((block *)p - 1)->free = 1;
  /* coalesce every run of adjacent free blocks (the list is short) */
  for (block *b = blocks; b; b = b->next) {
    while (b->free && b->next && b->next->free) {
      block *n = b->next;
      b->size += (u32)sizeof(block) + n->size;
      b->next = n->next;
      if (last == n) last = b;
    }
  }
}

/* Built with -mbulk-memory, these are single memory.copy / memory.fill
 * instructions: the guest's copies run at the host's memcpy speed. */
void *memcpy(void *dst, const void *src, size_t n) {
  __builtin_memcpy(dst, src, n);
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  __builtin_memset(dst, c, n);
  return dst;
}

EXPORT("allocate") void *allocate(int size) {
  if (size < 0) return 0;
  return mem_alloc((u32)size);
}

EXPORT("deallocate") void deallocate(void *ptr, int size) {
  (void)size;
  mem_free(ptr);
}

/* ------------------------------------------------------------------------------------
 * strings and the result buffer
 */

/* strlen a word at a time, as libcs do: aligned 8-byte loads never cross a
 * page, so they cannot run past the end of memory. */
static size_t cstrlen(const char *s) {
  typedef unsigned long long __attribute__((may_alias)) u64;
  const char *p = s;
  for (; (size_t)p & 7; p++)
    if (!*p) return (size_t)(p - s);
  const u64 ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  const u64 *w = (const u64 *)p;
  while (!((*w - ones) & ~*w & high)) w++;
  for (p = (const char *)w; *p; p++) {
  }
  return (size_t)(p - s);
}

static int bytes_eq(const char *a, size_t alen, const char *b) {
  size_t blen = cstrlen(b);
  if (alen != blen) return 0;
  for (size_t i = 0; i < alen; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static int streq(const char *a, const char *b) { return bytes_eq(a, cstrlen(a), b); }

typedef struct {
  char *buf;
  u32 len, cap;
  int oom;
} sbuf;

static char *result; /* the last string returned to the host */

/* Makes room for n more bytes and the NUL. */
static void sb_reserve(sbuf *sb, size_t n) {
  if (sb->oom) return;
  if (sb->len + n + 1 > sb->cap) {
    u32 cap = sb->cap ? sb->cap : 256;
    while (sb->len + n + 1 > cap) cap *= 2;
    char *nb = mem_alloc(cap);
    if (!nb) { sb->oom = 1; return; }
    if (sb->buf) { memcpy(nb, sb->buf, sb->len); mem_free(sb->buf); }
    sb->buf = nb;
    sb->cap = cap;
  }
}

static void sb_put(sbuf *sb, const char *s, size_t n) {
  sb_reserve(sb, n);
  if (sb->oom) return;
  memcpy(sb->buf + sb->len, s, n);
  sb->len += (u32)n;
  sb->buf[sb->len] = 0;
}

static void sb_str(sbuf *sb, const char *s) { sb_put(sb, s, cstrlen(s)); }

static void sb_i64(sbuf *sb, i64 v) {
  char tmp[24];
  int i = 23;
  int neg = v < 0;
  unsigned long long u = neg ? 0ull - (unsigned long long)v : (unsigned long long)v;
  tmp[i] = 0;
  do { tmp[--i] = (char)('0' + u % 10); u /= 10; } while (u);
  if (neg) tmp[--i] = '-';
  sb_str(sb, tmp + i);
}

/* Hands sb's text to the host: frees the previous result, keeps this one. */
static const char *finish(sbuf *sb) {
  if (result) mem_free(result);
  result = 0;
  if (sb->oom || !sb->buf) {
    if (sb->buf) mem_free(sb->buf);
    /* static text: never freed */
    return "{\"status\":\"error\",\"message\":\"legacy-plugin: out of memory\"}";
  }
  result = sb->buf;
  return result;
}

static const char *ret_static(const char *s) {
  if (result) mem_free(result);
  result = 0;
  return s;
}

static const char *error_result(const char *what, const char *msg) {
  sbuf sb = {0};
  sb_str(&sb, "{\"status\":\"error\",\"message\":\"");
  sb_str(&sb, what);
  sb_str(&sb, ": ");
  sb_str(&sb, msg);
  sb_str(&sb, "\"}");
  return finish(&sb);
}

/* ------------------------------------------------------------------------------------
 * a minimal JSON scanner: enough to find top-level members of an object and to
 * check/copy string tokens. Values are returned as spans of the original text.
 */

typedef struct {
  const char *p;
  size_t n;
} span;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && is_ws(*p)) p++;
  return p;
}

typedef unsigned long long __attribute__((may_alias, aligned(1))) u64u;

/* Whether none of the 8 bytes at p is '"', '\\' or a control character:
 * for each test, (v - 0x01..*k) & ~v & 0x80.. is non-zero iff a byte is
 * below k (after the xor, iff a byte equals the character). */
static int plain8(const char *p) {
  const unsigned long long ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  unsigned long long v = *(const u64u *)p;
  unsigned long long q = v ^ (ones * '"'), b = v ^ (ones * '\\');
  return !((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high);
}

/* p at a '"': returns the position after the closing quote, or 0 if malformed.
 * Plain runs are skipped 8 bytes at a time: configs are mostly long strings. */
static const char *skip_string(const char *p, const char *end) {
  p++;
  while (p < end) {
    while (end - p >= 8 && plain8(p)) p += 8;
    if (p >= end) break;
    u8 c = (u8)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return 0;
    if (c == '\\') {
      if (p + 1 >= end) return 0;
      p += (p[1] == 'u') ? 6 : 2;
      continue;
    }
    p++;
  }
  return 0;
}

/* Skips one JSON value (strings, objects and arrays are scanned; literals and numbers
 * are taken up to the next delimiter). Returns the end, or 0 if malformed. */
static const char *skip_value(const char *p, const char *end) {
  p = skip_ws(p, end);
  if (p >= end) return 0;
  if (*p == '"') return skip_string(p, end);
  if (*p == '{' || *p == '[') {
    int depth = 0;
    while (p < end) {
      char c = *p;
      if (c == '"') {
        p = skip_string(p, end);
        if (!p) return 0;
        continue;
      }
      if (c == '{' || c == '[') depth++;
      else if (c == '}' || c == ']') {
        if (--depth == 0) return p + 1;
      }
      p++;
    }
    return 0;
  }
  const char *s = p;
  while (p < end && !is_ws(*p) && *p != ',' && *p != '}' && *p != ']') p++;
  return p > s ? p : 0;
}

static span trim(const char *s) {
  const char *end = s + cstrlen(s);
  const char *p = skip_ws(s, end);
  while (end > p && is_ws(end[-1])) end--;
  span r = {p, (size_t)(end - p)};
  return r;
}

/* Whether t is exactly one JSON object (by the scanner's standards). */
static int is_object(span t) {
  if (t.n < 2 || t.p[0] != '{') return 0;
  const char *e = skip_value(t.p, t.p + t.n);
  return e == t.p + t.n;
}

/* Finds the value of the top-level member `key` of t, which is_object has
 * accepted. Keys are compared as raw bytes (keys with escapes never match).
 * Returns 1 and sets *out if found. */
static int find_member(span t, const char *key, span *out) {
  const char *p = t.p, *end = t.p + t.n;
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}') return 0;
  while (p < end) {
    if (*p != '"') return 0;
    const char *ks = p + 1;
    const char *ke = skip_string(p, end);
    if (!ke) return 0;
    p = skip_ws(ke, end);
    if (p >= end || *p != ':') return 0;
    p = skip_ws(p + 1, end);
    const char *ve = skip_value(p, end);
    if (!ve) return 0;
    if (bytes_eq(ks, (size_t)(ke - 1 - ks), key)) {
      out->p = p;
      out->n = (size_t)(ve - p);
      return 1;
    }
    p = skip_ws(ve, end);
    if (p < end && *p == ',') { p = skip_ws(p + 1, end); continue; }
    return 0;
  }
  return 0;
}

static int is_string_token(span v) { return v.n >= 2 && v.p[0] == '"' && skip_string(v.p, v.p + v.n) == v.p + v.n; }

/* ------------------------------------------------------------------------------------
 * definitions
 */

EXPORT("get_plugin_metadata") const char *get_plugin_metadata(void) {
  return ret_static(
      "{\"name\":\"legacy-plugin\",\"version\":\"0.1.0\","
      "\"description\":\"Example legacy JSON-ABI plugin (freestanding C): tasks echo and greet, "
      "facts collector legacy, template filter upper.\"}");
}

EXPORT("get_task_definitions") const char *get_task_definitions(void) {
  return ret_static(
      "["
      "{\"name\":\"echo\",\"type\":\"apply\","
      "\"description\":\"Returns its config unchanged: changed=false, message=config.message, output=the config.\","
      "\"config_schema\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"}},"
      "\"required\":[\"message\"]}},"
      "{\"name\":\"greet\",\"type\":\"apply\","
      "\"description\":\"Greets someone: message \\\"Hello, <name>!\\\".\","
      "\"config_schema\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1}},"
      "\"required\":[\"name\"]}}"
      "]");
}

EXPORT("get_facts_collectors") const char *get_facts_collectors(void) {
  return ret_static(
      "[{\"name\":\"legacy\",\"description\":\"Facts about this plugin and the host time.\","
      "\"category\":\"system\",\"config_schema\":{\"type\":\"object\",\"properties\":{}}}]");
}

EXPORT("get_template_extensions") const char *get_template_extensions(void) {
  return ret_static(
      "[{\"name\":\"upper\",\"type\":\"filter\",\"description\":\"ASCII upper case of a string value.\","
      "\"category\":\"string\",\"arguments\":[],\"config_schema\":{\"type\":\"object\",\"properties\":{}}}]");
}

/* ------------------------------------------------------------------------------------
 * execution
 */

static const char *task_echo(const char *config) {
  span c = trim(config), msg;
  if (!is_object(c)) return error_result("echo", "config must be a JSON object");
  if (!find_member(c, "message", &msg) || !is_string_token(msg))
    return error_result("echo", "config.message (string) is required");
  sbuf sb = {0};
  sb_reserve(&sb, msg.n + c.n + 64); /* one buffer, no regrowth */
  sb_str(&sb, "{\"changed\":false,\"message\":");
  sb_put(&sb, msg.p, msg.n);
  sb_str(&sb, ",\"output\":");
  sb_put(&sb, c.p, c.n);
  sb_str(&sb, "}");
  return finish(&sb);
}

static const char *task_greet(const char *config) {
  span c = trim(config), name;
  if (!is_object(c)) return error_result("greet", "config must be a JSON object");
  if (!find_member(c, "name", &name) || !is_string_token(name) || name.n == 2)
    return error_result("greet", "config.name (non-empty string) is required");
  /* name's escaped content, without the quotes, is valid inside another JSON string */
  span inner = {name.p + 1, name.n - 2};
  sbuf greeting = {0};
  sb_str(&greeting, "Hello, ");
  sb_put(&greeting, inner.p, inner.n);
  sb_str(&greeting, "!");
  if (greeting.oom) return error_result("greet", "out of memory");
  host_log("info", greeting.buf);

  sbuf sb = {0};
  sb_str(&sb, "{\"changed\":true,\"message\":\"");
  sb_str(&sb, greeting.buf);
  sb_str(&sb, "\",\"output\":{\"greeting\":\"");
  sb_str(&sb, greeting.buf);
  sb_str(&sb, "\",\"name\":");
  sb_put(&sb, name.p, name.n);
  sb_str(&sb, "}}");
  mem_free(greeting.buf);
  return finish(&sb);
}

EXPORT("execute_task") const char *execute_task(const char *name, const char *config) {
  if (streq(name, "echo")) return task_echo(config);
  if (streq(name, "greet")) return task_greet(config);
  return error_result("execute_task", "unknown task");
}

EXPORT("execute_facts_collector") const char *execute_facts_collector(const char *name, const char *config) {
  (void)config;
  if (!streq(name, "legacy")) return error_result("execute_facts_collector", "unknown facts collector");
  host_log("debug", "collecting legacy facts");
  sbuf sb = {0};
  sb_str(&sb, "{\"abi\":\"legacy-json\",\"plugin\":\"legacy-plugin\",\"timestamp\":");
  sb_i64(&sb, host_get_timestamp());
  sb_str(&sb, "}");
  return finish(&sb);
}

EXPORT("execute_template_filter")
const char *execute_template_filter(const char *name, const char *config, const char *value, const char *args) {
  (void)config;
  (void)args;
  if (!streq(name, "upper")) return error_result("execute_template_filter", "unknown filter");
  span v = trim(value);
  if (!is_string_token(v)) return error_result("upper", "value must be a JSON string");
  sbuf sb = {0};
  sb_put(&sb, v.p, v.n);
  if (sb.oom) return finish(&sb);
  /* upper-case ASCII letters, leaving escape sequences (\n, \u00e9, ...) alone */
  for (u32 i = 1; i + 1 < sb.len; i++) {
    char ch = sb.buf[i];
    if (ch == '\\') {
      i += (sb.buf[i + 1] == 'u') ? 5 : 1;
      continue;
    }
    if (ch >= 'a' && ch <= 'z') sb.buf[i] = (char)(ch - 'a' + 'A');
  }
  return finish(&sb);
}
