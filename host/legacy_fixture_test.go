package host

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// Legacy fixtures are WAT modules assembled from a common prelude (a bump
// allocator, string helpers, a result buffer) and the exports a test needs.
// Static strings are laid out by the builder, which returns the WAT that
// refers to them.
//
// Memory layout of every fixture (one page to start with):
//
//	0..64          scratch (number formatting)
//	1024..8192     static strings (data segment)
//	8192..40960    the result buffer ($reset, $lit, $str, $jstr, $num, $done)
//	40960..        the heap of allocate; reset when every string was freed
const (
	fxData    = 1024
	fxDataEnd = 8192
	fxOut     = 8192
	fxHeap    = 40960
)

type legacyFixture struct {
	imports []string // import declarations, first in the module
	funcs   []string // functions and other fields
	data    []byte   // static strings, at fxData
	// memory is the memory declaration; "" means one exported page.
	memory string
	// noPrelude leaves out allocate/deallocate (the helpers stay).
	noAllocator bool
	// allocBody replaces the body of allocate (param $n, result i32).
	allocBody string
}

func newLegacyFixture() *legacyFixture { return &legacyFixture{} }

func (f *legacyFixture) addData(s string) int {
	off := fxData + len(f.data)
	f.data = append(f.data, s...)
	if fxData+len(f.data) > fxDataEnd {
		panic("fixture: static strings overflow")
	}
	return off
}

// cstr places s, NUL-terminated, among the static strings and returns the
// WAT of its address.
func (f *legacyFixture) cstr(s string) string {
	return fmt.Sprintf("(i32.const %d)", f.addData(s+"\x00"))
}

// lit returns the WAT that appends the static text s to the result.
func (f *legacyFixture) lit(s string) string {
	return fmt.Sprintf("(call $lit (i32.const %d) (i32.const %d))", f.addData(s), len(s))
}

func (f *legacyFixture) fn(wat string, args ...any) *legacyFixture {
	f.funcs = append(f.funcs, fmt.Sprintf(wat, args...))
	return f
}

func (f *legacyFixture) imp(wat string) *legacyFixture {
	f.imports = append(f.imports, wat)
	return f
}

// static adds export name () -> i32 returning the static string s.
func (f *legacyFixture) static(name, s string) *legacyFixture {
	return f.fn(`(func (export %q) (result i32) %s)`, name, f.cstr(s))
}

func watString(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\%02x", c)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

const fxPrelude = `
  (global $out (mut i32) (i32.const 8192))
  (global $calls (mut i32) (i32.const 0))
  (func $reset (global.set $out (i32.const 8192)))
  (func $byte (param $c i32)
    (i32.store8 (global.get $out) (local.get $c))
    (global.set $out (i32.add (global.get $out) (i32.const 1))))
  (func $lit (param $p i32) (param $n i32)
    (memory.copy (global.get $out) (local.get $p) (local.get $n))
    (global.set $out (i32.add (global.get $out) (local.get $n))))
  ;; $strlen reads a word at a time once aligned, as libc strlens do
  ;; (aligned loads cannot run past the end of memory): a zero byte sets
  ;; the lowest flagged bit of (w - 0x01..) & ~w & 0x80...
  (func $strlen (param $p i32) (result i32) (local $q i32) (local $m i64)
    (local.set $q (local.get $p))
    (block $aligned (loop $a
      (br_if $aligned (i32.eqz (i32.and (local.get $q) (i32.const 7))))
      (if (i32.eqz (i32.load8_u (local.get $q))) (then (return (i32.sub (local.get $q) (local.get $p)))))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $a)))
    (block $found (loop $w
      (local.set $m (i64.load (local.get $q)))
      (local.set $m (i64.and (i64.and (i64.sub (local.get $m) (i64.const 0x0101010101010101))
        (i64.xor (local.get $m) (i64.const -1))) (i64.const 0x8080808080808080)))
      (br_if $found (i64.ne (local.get $m) (i64.const 0)))
      (local.set $q (i32.add (local.get $q) (i32.const 8)))
      (br $w)))
    (i32.add (i32.sub (local.get $q) (local.get $p)) (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $m)) (i64.const 3)))))
  (func $str (param $p i32) (call $lit (local.get $p) (call $strlen (local.get $p))))
  ;; $jstr appends the C string at $p as a JSON string (escaping " and \).
  (func $jstr (param $p i32) (local $c i32)
    (call $byte (i32.const 34))
    (block $d (loop $l
      (local.set $c (i32.load8_u (local.get $p)))
      (br_if $d (i32.eqz (local.get $c)))
      (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
        (then (call $byte (i32.const 92))))
      (call $byte (local.get $c))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (call $byte (i32.const 34)))
  ;; $num appends a non-negative i64 in decimal.
  (func $num (param $v i64) (local $b i32)
    (local.set $b (i32.const 64))
    (if (i64.eqz (local.get $v)) (then (call $byte (i32.const 48)) (return)))
    (block $d (loop $l
      (br_if $d (i64.eqz (local.get $v)))
      (local.set $b (i32.sub (local.get $b) (i32.const 1)))
      (i32.store8 (local.get $b) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br $l)))
    (call $lit (local.get $b) (i32.sub (i32.const 64) (local.get $b))))
  (func $done (result i32)
    (i32.store8 (global.get $out) (i32.const 0))
    (i32.const 8192))
  ;; $eq: C-string equality.
  (func $eq (param $p i32) (param $q i32) (result i32) (local $a i32)
    (loop $l
      (local.set $a (i32.load8_u (local.get $p)))
      (if (i32.ne (local.get $a) (i32.load8_u (local.get $q))) (then (return (i32.const 0))))
      (if (i32.eqz (local.get $a)) (then (return (i32.const 1))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $l))
    (i32.const 0))
  (func $prefix (param $h i32) (param $n i32) (result i32) (local $c i32)
    (loop $l
      (local.set $c (i32.load8_u (local.get $n)))
      (if (i32.eqz (local.get $c)) (then (return (i32.const 1))))
      (if (i32.ne (local.get $c) (i32.load8_u (local.get $h))) (then (return (i32.const 0))))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l))
    (i32.const 0))
  ;; $contains: whether C string $n occurs in C string $h.
  (func $contains (param $h i32) (param $n i32) (result i32)
    (block $d (loop $l
      (if (call $prefix (local.get $h) (local.get $n)) (then (return (i32.const 1))))
      (br_if $d (i32.eqz (i32.load8_u (local.get $h))))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br $l)))
    (i32.const 0))
`

const fxAllocator = `
  (global $heap (mut i32) (i32.const 40960))
  (global $live (mut i32) (i32.const 0))
  (global $frees (mut i32) (i32.const 0))
  (func (export "allocate") (param $n i32) (result i32) %s)
  (func (export "deallocate") (param $p i32) (param $n i32)
    (global.set $frees (i32.add (global.get $frees) (i32.const 1)))
    (global.set $live (i32.sub (global.get $live) (i32.const 1)))
    (if (i32.eqz (global.get $live)) (then (global.set $heap (i32.const 40960)))))
`

const fxAllocBody = `(local $p i32) (local $end i32) (local $have i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (local.get $have)) (i32.const 16)) (i32.const 1))) (i32.const -1))
        (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $p)`

func (f *legacyFixture) wat() string {
	var b strings.Builder
	b.WriteString("(module\n")
	for _, i := range f.imports {
		b.WriteString("  " + i + "\n")
	}
	if f.memory == "" {
		b.WriteString(`  (memory (export "memory") 1)` + "\n")
	} else {
		b.WriteString("  " + f.memory + "\n")
	}
	b.WriteString(fxPrelude)
	if !f.noAllocator {
		body := f.allocBody
		if body == "" {
			body = fxAllocBody
		}
		fmt.Fprintf(&b, fxAllocator, body)
	}
	for _, fn := range f.funcs {
		b.WriteString("  " + fn + "\n")
	}
	if len(f.data) > 0 {
		fmt.Fprintf(&b, "  (data (i32.const %d) %s)\n", fxData, watString(f.data))
	}
	b.WriteString(")\n")
	return b.String()
}

func (f *legacyFixture) wasm(t testing.TB) []byte {
	t.Helper()
	return legacyWat(t, f.wat())
}

func legacyWat(t testing.TB, wat string) []byte {
	t.Helper()
	wasm, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, wat)
	}
	return wasm
}

// Definitions of the full fixture.
const (
	fxMetadata = `{"name":"fixture","version":"1.2.3","description":"every export of the legacy ABI"}`
	fxTasks    = `[` +
		`{"name":"echo","type":"apply","description":"echoes","config_schema":{"type":"object","properties":{"message":{"type":"string"}}}},` +
		`{"name":"raw","type":"facts","config_schema":"{\"type\":\"object\"}"},` +
		`{"name":"diff","type":"logs"},` +
		`{"name":"fail"},{"name":"kind"},{"name":"count"},{"name":"null-output"},{"name":"greet"},` + fxHostileDefs + `]`
	// The hostile tasks (see hostileTasks), defined as any others.
	fxHostileDefs = `{"name":"spin"},{"name":"bomb"},{"name":"oom"},{"name":"deep"},{"name":"crash"},` +
		`{"name":"past-end"},{"name":"null"},{"name":"no-nul"},{"name":"long"},{"name":"bad-utf8"},` +
		`{"name":"bad-json"},{"name":"not-object"},{"name":"bad-changed"},{"name":"bad-log"}`
	fxCollectors = `[{"name":"host","description":"host facts","category":"system","config_schema":{"type":"object"}}]`
	fxExtensions = `[` +
		`{"name":"wrap","type":"filter","description":"wraps","category":"text","arguments":["left",{"name":"right","description":"right side","required":true},["pad","padding"]]},` +
		`{"name":"join","extension_type":"function","config_schema":"{}"}]`
	fxSources = `[{"name":"canned","description":"canned entries"}]`
	fxParsers = `[{"name":"plain","config_schema":{"type":"object"}}]`
	fxFilters = `[{"name":"no-debug"}]`
	fxOutputs = `[{"name":"pipe"}]`
	// What execute_log_source returns.
	fxSourceEntries = `[` +
		`{"timestamp":1700000000,"level":"info","message":"one","source":"fixture","code":42,"user":"ada","ctx":{"a":[1, 2]}},` +
		`"a raw line",` +
		`{"timestamp":"2024-01-02T03:04:05.5Z","message":"two","level":null,"user":"x","user":"y"},` +
		`{"timestamp":1700000000123,"message":"ms","ok":true,"none":null}]`
)

type fxOptions struct {
	filter   string // "execute_template_filter/4", "execute_template_filter/3", "execute_filter", ""
	function string // "execute_template_function/3", "execute_template_function/2", "execute_function", ""
	parser   int    // 3 or 2 parameters
	hostLog  int    // 0, 2 (C strings) or 4 (pointer/length)
	noMeta   bool
}

func defaultFx() fxOptions {
	return fxOptions{filter: "execute_template_filter/4", function: "execute_template_function/3", parser: 3, hostLog: 2}
}

// fullFixture is a module with every export of the ABI: the definitions
// above, and execution functions whose results show what they received.
//
// Tasks: "echo" and others return {"changed":true,"message":"task NAME","output":CONFIG};
// "raw" returns {"changed":true,"detail":CONFIG} (no output member); "diff"
// a result with a diff; "fail" an error envelope; "kind" an envelope with
// kind invalid-input; "count" the number of execute_task calls this instance
// served; "null-output" a result whose output is null. Plus the hostile ones
// of hostileTasks.
func fullFixture(o fxOptions) *legacyFixture {
	f := newLegacyFixture()
	switch o.hostLog {
	case 2:
		f.imp(`(import "env" "host_log" (func $log (param i32 i32)))`)
	case 4:
		f.imp(`(import "env" "host_log" (func $log (param i32 i32 i32 i32)))`)
	}
	f.imp(`(import "env" "host_get_timestamp" (func $ts (result i64)))`)
	if !o.noMeta {
		f.static("get_plugin_metadata", fxMetadata)
	}
	f.static("get_task_definitions", fxTasks)
	f.static("get_facts_collectors", fxCollectors)
	f.static("get_template_extensions", fxExtensions)
	f.static("get_log_sources", fxSources)
	f.static("get_log_parsers", fxParsers)
	f.static("get_log_filters", fxFilters)
	f.static("get_log_outputs", fxOutputs)

	logCall := ""
	switch o.hostLog {
	case 2:
		logCall = fmt.Sprintf(`(if (call $eq (local.get $name) %s) (then (call $log %s (local.get $config))))`,
			f.cstr("greet"), f.cstr("warn"))
	case 4:
		logCall = fmt.Sprintf(`(if (call $eq (local.get $name) %s) (then (call $log %s (i32.const 4) (local.get $config) (call $strlen (local.get $config)))))`,
			f.cstr("greet"), f.cstr("warnXXX"))
	}
	f.fn(`(func (export "execute_task") (param $name i32) (param $config i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    %s
    %s
    (if (call $eq (local.get $name) %s) (then (return %s)))
    (if (call $eq (local.get $name) %s) (then (return %s)))
    (call $reset)
    (if (call $eq (local.get $name) %s) (then
      %s (call $str (local.get $config)) %s (return (call $done))))
    (if (call $eq (local.get $name) %s) (then
      %s (return (call $done))))
    (if (call $eq (local.get $name) %s) (then
      %s (call $num (i64.extend_i32_u (global.get $calls))) %s (return (call $done))))
    (if (call $eq (local.get $name) %s) (then
      %s (return (call $done))))
    %s (call $str (local.get $name)) %s (call $str (local.get $config)) %s
    (call $done))`,
		logCall,
		hostileTasks(f),
		f.cstr("fail"), f.cstr(`{"status":"error","message":"task failed on purpose"}`),
		f.cstr("kind"), f.cstr(`{"status":"error","kind":"invalid_input","error":"bad input"}`),
		f.cstr("raw"), f.lit(`{"changed":true,"detail":`), f.lit(`}`),
		f.cstr("diff"), f.lit(`{"changed":true,"message":"m","output":{"a":1},"diff":"--- a\n+++ b\n"}`),
		f.cstr("count"), f.lit(`{"changed":false,"output":`), f.lit(`}`),
		f.cstr("null-output"), f.lit(`{"message":"nothing","output":null}`),
		f.lit(`{"changed":true,"message":"task `), f.lit(`","output":`), f.lit(`}`))

	f.fn(`(func (export "execute_facts_collector") (param $name i32) (param $config i32) (result i32)
    (call $reset)
    %s (call $jstr (local.get $name)) %s (call $str (local.get $config)) %s (call $num (call $ts)) %s
    (call $done))`,
		f.lit(`{"collector":`), f.lit(`,"config":`), f.lit(`,"time":`), f.lit(`}`))

	switch o.filter {
	case "execute_template_filter/4":
		f.fn(`(func (export "execute_template_filter") (param $name i32) (param $config i32) (param $value i32) (param $args i32) (result i32)
    (call $reset)
    %s (call $jstr (local.get $name)) %s (call $str (local.get $config)) %s (call $str (local.get $value)) %s (call $str (local.get $args)) %s
    (call $done))`, f.lit(`{"filter":`), f.lit(`,"config":`), f.lit(`,"value":`), f.lit(`,"args":`), f.lit(`}`))
	case "execute_template_filter/3", "execute_filter":
		f.fn(`(func (export %q) (param $name i32) (param $value i32) (param $args i32) (result i32)
    (call $reset)
    %s (call $jstr (local.get $name)) %s (call $str (local.get $value)) %s (call $str (local.get $args)) %s
    (call $done))`, strings.TrimSuffix(o.filter, "/3"), f.lit(`{"filter":`), f.lit(`,"value":`), f.lit(`,"args":`), f.lit(`}`))
	}
	switch o.function {
	case "execute_template_function/3":
		f.fn(`(func (export "execute_template_function") (param $name i32) (param $config i32) (param $args i32) (result i32)
    (call $reset)
    %s (call $jstr (local.get $name)) %s (call $str (local.get $config)) %s (call $str (local.get $args)) %s
    (call $done))`, f.lit(`{"function":`), f.lit(`,"config":`), f.lit(`,"args":`), f.lit(`}`))
	case "execute_template_function/2", "execute_function":
		f.fn(`(func (export %q) (param $name i32) (param $args i32) (result i32)
    (call $reset)
    %s (call $jstr (local.get $name)) %s (call $str (local.get $args)) %s
    (call $done))`, strings.TrimSuffix(o.function, "/2"), f.lit(`{"function":`), f.lit(`,"args":`), f.lit(`}`))
	}

	f.fn(`(func (export "execute_log_source") (param i32 i32) (result i32) %s)`, f.cstr(fxSourceEntries))

	parserParams, parserConfig := `(param $name i32) (param $line i32)`, f.lit(`null`)
	if o.parser == 3 {
		parserParams, parserConfig = `(param $name i32) (param $config i32) (param $line i32)`, `(call $str (local.get $config))`
	}
	f.fn(`(func (export "execute_log_parser") %s (result i32)
    (if (call $prefix (local.get $line) %s) (then (return %s)))
    (if (call $eq (local.get $line) %s) (then (return %s)))
    (if (call $eq (local.get $line) %s) (then unreachable))
    (call $reset)
    %s (call $jstr (local.get $line)) %s (call $jstr (local.get $name)) %s %s %s
    (call $done))`, parserParams,
		f.cstr("#"), f.cstr("null"),
		f.cstr("bad"), f.cstr(`{"status":"error","message":"cannot parse","kind":"invalid-input"}`),
		f.cstr("crash"),
		f.lit(`{"message":`), f.lit(`,"source":`), f.lit(`,"config":`), parserConfig, f.lit(`}`))

	f.fn(`(func (export "execute_log_filter") (param $name i32) (param $config i32) (param $entry i32) (result i32)
    (if (call $contains (local.get $entry) %s) (then (return %s)))
    %s)`, f.cstr(`"level":"debug"`), f.cstr(`{"keep":false}`), f.cstr(" true "))

	f.fn(`(func (export "execute_log_output") (param $name i32) (param $config i32) (param $entry i32) (result i32)
    (if (call $contains (local.get $entry) %s) (then (return %s)))
    (if (call $contains (local.get $entry) %s) (then (return %s)))
    (call $reset)
    %s (call $jstr (local.get $entry)) %s
    (call $done))`,
		f.cstr("silent"), f.cstr(`{"status":"ok"}`),
		f.cstr("boom"), f.cstr(`{"status":"error","message":"cannot deliver"}`),
		f.lit(`{"output":`), f.lit(`}`))
	return f
}

// hostileTasks returns the dispatch of the hostile tasks of execute_task:
//
//	spin       loops forever
//	bomb       grows memory by 16 pages until refused, then traps
//	oom        grows memory until refused, then reports an error envelope
//	deep       recurses until the stack overflows
//	crash      executes unreachable
//	past-end   returns a pointer past the end of memory
//	null       returns a null pointer
//	no-nul     returns a string that runs to the end of memory without NUL
//	long       returns 200 bytes of 'a' then NUL (over a lowered bound)
//	bad-utf8   returns bytes that are not UTF-8
//	bad-json   returns text that is not JSON
//	not-object returns a JSON array
//	bad-changed returns a result whose "changed" is a string
//	bad-log    calls host_log with a pointer past the end of memory
func hostileTasks(f *legacyFixture) string {
	var b strings.Builder
	when := func(name, body string) {
		fmt.Fprintf(&b, "(if (call $eq (local.get $name) %s) (then %s))\n    ", f.cstr(name), body)
	}
	when("spin", `(loop $l (br $l))`)
	when("bomb", `(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable`)
	when("oom", fmt.Sprintf(`(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) (return %s)`,
		f.cstr(`{"status":"error","message":"out of memory"}`)))
	when("deep", `(return (call $deep (i32.const 0)))`)
	when("crash", `unreachable`)
	when("past-end", `(return (i32.const 0x7ffffff0))`)
	when("null", `(return (i32.const 0))`)
	when("no-nul", `(memory.fill (i32.const 65000) (i32.const 97) (i32.const 536)) (return (i32.const 65000))`)
	when("long", `(memory.fill (i32.const 50000) (i32.const 97) (i32.const 200)) (i32.store8 (i32.const 50200) (i32.const 0)) (return (i32.const 50000))`)
	when("bad-utf8", fmt.Sprintf(`(return %s)`, f.cstr("\"ok\xff\xfe\"")))
	when("bad-json", fmt.Sprintf(`(return %s)`, f.cstr(`{"changed": tru`)))
	when("not-object", fmt.Sprintf(`(return %s)`, f.cstr(`[1,2]`)))
	when("bad-changed", fmt.Sprintf(`(return %s)`, f.cstr(`{"changed":"yes"}`)))
	f.fn(`(func $deep (param i32) (result i32) (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))`)
	return b.String()
}

// withBadLog adds the bad-log task (needs the C-string host_log import).
func withBadLog(f *legacyFixture) {
	for i, fn := range f.funcs {
		if strings.HasPrefix(fn, `(func (export "execute_task")`) {
			f.funcs[i] = strings.Replace(fn, "(global.set $calls", fmt.Sprintf(
				`(if (call $eq (local.get $name) %s) (then (call $log (i32.const 0x7ffffff0) (local.get $config)) (return %s)))
    (global.set $calls`, f.cstr("bad-log"), f.cstr(`{}`)), 1)
		}
	}
}
