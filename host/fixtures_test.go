package host

// A builder of hostile (and friendly) task-plugin components, written in the
// component text format and compiled with wasmtime.Wat2Wasm, so that each
// fixture of the hostile-plugin suite is a few lines of WAT.
//
// Every fixture is a complete driftless:plugin task plugin: it imports
// driftless:plugin/types and driftless:plugin/host, exports
// driftless:plugin/metadata (describe) and driftless:plugin/tasks
// (definitions, execute) with the canonical ABI, and defines two tasks:
//
//   - "echo" returns ok({changed: false, message: <plugin name>,
//     output: <the config it was given>, diff: some(N)}), N counting the
//     calls of execute the instance served, this one included (1 on a
//     fresh instance): a well-behaved call that proves the plugin still
//     works after its hostile call, and tells whether its instance is new;
//   - "evil" runs the fixture's hostile body.
//
// Memory layout of the core code (linear memory of the "libc" module):
//
//	  64  plugin-info record        (describe)
//	  96  list<task-definition>     (definitions: pointer, length)
//	 128  two task-definition records of 32 bytes
//	 192  result<task-result, plugin-error> built by $ok / $fail
//	 512  scratch for the fixture (e.g. decimal digits written by $itoa)
//	 544  the decimal call count of the result's diff
//	1024  constant strings of the builder
//	2048  the fixture's own data (fixture.data), up to 4095
//	4096  heap: a bump allocator (realloc) reset after every call
//	      (post-return); it grows the memory as needed and executes
//	      `unreachable` when memory.grow fails, as guests' allocators do.

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// fixture describes one task-plugin component.
type fixture struct {
	// name is what describe returns and what "echo" puts in its message.
	name string
	// evil is the body of the core function run by the "evil" task:
	//   (func $evil (param $cfg i32) (param $cfg-len i32) (result i32) ...)
	// It returns the address of a result<task-result, plugin-error>, usually
	// (call $ok ptr len) or (call $fail kind ptr len). Empty: like echo.
	evil string
	// funcs are extra core functions of the main module.
	funcs string
	// data is the fixture's constant data, a WAT data string placed at 2048.
	data string
	// pages and maxPages size the linear memory (pages: default 1; maxPages:
	// 0 for no maximum).
	pages, maxPages int

	// imports are extra component-level imports (e.g. forbidden ones);
	// lowers are core funcs (canon lower ...) defined after the libc core
	// instance exists (refer to (memory $libc "memory") and
	// (realloc (func $libc "realloc"))); coreImports are the main module's
	// imports of them, from module "ext"; extExports are the exports of the
	// "ext" instance passed to main, e.g. (export "f" (func $f)).
	imports, lowers, coreImports, extExports string

	// hostImport, if set, replaces the import of driftless:plugin/host
	// (fixtureHost), e.g. to import it with the wrong types.
	hostImport string

	// noMetadata leaves driftless:plugin/metadata out; noTasks leaves
	// driftless:plugin/tasks out.
	noMetadata, noTasks bool
	// describeType, if set, replaces the WIT type of describe's result (to
	// make an export of the wrong type).
	describeType string
}

const fixtureTypes = `
  (import "driftless:plugin/types@0.1.0" (instance $types
    (type $level' (enum "trace" "debug" "info" "warn" "error"))
    (export "level" (type (eq $level')))
    (type $ek' (enum "invalid-config" "invalid-input" "not-found" "unsupported" "failed"))
    (export "error-kind" (type $ek (eq $ek')))
    (type $pe' (record (field "kind" $ek) (field "message" string)))
    (export "plugin-error" (type (eq $pe')))))
  (alias export $types "level" (type $level))
  (alias export $types "plugin-error" (type $plugin-error))
`

const fixtureHost = `
  (import "driftless:plugin/host@0.1.0" (instance $host
    (export "level" (type $l (eq $level)))
    (export "log" (func (param "level" $l) (param "message" string)))
    (export "timestamp" (func (result u64)))))
`

// Addresses of the layout above.
const (
	addrInfo    = 64
	addrDefs    = 96
	addrRecords = 128
	addrResult  = 192
	addrScratch = 512
	addrStrings = 1024
	addrData    = 2048
	addrHeap    = 4096
)

// wat returns the component text of f.
func (f fixture) wat() string {
	pages := f.pages
	if pages == 0 {
		pages = 1
	}
	mem := fmt.Sprint(pages)
	if f.maxPages > 0 {
		mem += fmt.Sprint(" ", f.maxPages)
	}
	// Constant strings, and the records pointing at them.
	var strs []byte
	place := func(s string) (uint32, uint32) {
		p := uint32(addrStrings + len(strs))
		strs = append(strs, s...)
		for len(strs)%8 != 0 {
			strs = append(strs, 0)
		}
		return p, uint32(len(s))
	}
	rec := map[int][]byte{}
	put := func(addr int, words ...uint32) {
		b := make([]byte, 4*len(words))
		for i, w := range words {
			binary.LittleEndian.PutUint32(b[4*i:], w)
		}
		rec[addr] = b
	}
	np, nl := place(f.name)
	vp, vl := place("0.1.0")
	dp, dl := place("a test fixture: " + f.name)
	put(addrInfo, np, nl, vp, vl, dp, dl)
	put(addrDefs, addrRecords, 2)
	for i, task := range []string{"echo", "evil"} {
		tp, tl := place(task)
		sp, sl := place(`{"type":"object"}`)
		ddp, ddl := place("the " + task + " task")
		// name, kind (apply = 0), description, config-schema, check mode.
		put(addrRecords+32*i, tp, tl, 0, ddp, ddl, sp, sl, 1)
	}
	if len(strs) > addrData-addrStrings {
		panic("fixture strings do not fit")
	}
	var data strings.Builder
	for _, addr := range []int{addrInfo, addrDefs, addrRecords, addrRecords + 32} {
		fmt.Fprintf(&data, "    (data (i32.const %d) %s)\n", addr, watBytes(rec[addr]))
	}
	fmt.Fprintf(&data, "    (data (i32.const %d) %s)\n", addrStrings, watBytes(strs))
	if f.data != "" {
		fmt.Fprintf(&data, "    (data (i32.const %d) %s)\n", addrData, f.data)
	}
	evil := f.evil
	if evil == "" {
		evil = "(call $ok (local.get $cfg) (local.get $cfg-len))"
	}
	describeType := `(record (field "name" string) (field "version" string) (field "description" string))`
	if f.describeType != "" {
		describeType = f.describeType
	}

	var b strings.Builder
	b.WriteString("(component\n")
	b.WriteString(fixtureTypes)
	if f.hostImport != "" {
		b.WriteString(f.hostImport)
	} else {
		b.WriteString(fixtureHost)
	}
	b.WriteString(f.imports)
	fmt.Fprintf(&b, `
  (core module $libc
    (memory (export "memory") %s)
    (global $heap (mut i32) (i32.const %d))
    (func (export "realloc") (param $old i32) (param $old-size i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32) (local $end i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then (if (i32.eq (i32.const -1) (memory.grow (i32.add (i32.shr_u
                  (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16))) (i32.const 16)) (i32.const 1))))
          (then unreachable))))
      (global.set $heap (local.get $end))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $heap (i32.const %d)))
%s  )
  (core instance $libc (instantiate $libc))
  (core func $log (canon lower (func $host "log") (memory $libc "memory")))
  (core func $timestamp (canon lower (func $host "timestamp")))
`, mem, addrHeap, addrHeap, data.String())
	b.WriteString(f.lowers)
	fmt.Fprintf(&b, `
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "host" "log" (func $log (param i32 i32 i32)))
    (import "host" "timestamp" (func $timestamp (result i64)))
%s
    (global $calls (mut i32) (i32.const 0))
    ;; ok({changed: false, message: <name>, output: (ptr, len),
    ;;     diff: some(<decimal count of the calls this instance served>)})
    (func $ok (param $ptr i32) (param $len i32) (result i32)
      (i32.store8 (i32.const %[2]d) (i32.const 0))
      (i32.store8 (i32.const %[3]d) (i32.const 0))
      (i32.store (i32.const %[4]d) (i32.const %[5]d))
      (i32.store (i32.const %[6]d) (i32.const %[7]d))
      (i32.store (i32.const %[8]d) (local.get $ptr))
      (i32.store (i32.const %[9]d) (local.get $len))
      (i32.store8 (i32.const %[10]d) (i32.const 1))
      (i32.store (i32.const %[19]d) (i32.const %[20]d))
      (i32.store (i32.const %[21]d) (call $itoa (global.get $calls) (i32.const %[20]d)))
      (i32.const %[2]d))
    ;; err({kind, message: (ptr, len)})
    (func $fail (param $kind i32) (param $ptr i32) (param $len i32) (result i32)
      (i32.store8 (i32.const %[2]d) (i32.const 1))
      (i32.store8 (i32.const %[3]d) (local.get $kind))
      (i32.store (i32.const %[11]d) (local.get $ptr))
      (i32.store (i32.const %[12]d) (local.get $len))
      (i32.const %[2]d))
    ;; Writes n in decimal at addr; returns the length.
    (func $itoa (param $n i32) (param $addr i32) (result i32)
      (local $len i32) (local $m i32) (local $i i32)
      (local.set $m (local.get $n))
      (loop $count
        (local.set $len (i32.add (local.get $len) (i32.const 1)))
        (local.set $m (i32.div_u (local.get $m) (i32.const 10)))
        (br_if $count (local.get $m)))
      (local.set $i (local.get $len))
      (local.set $m (local.get $n))
      (loop $digits
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (i32.store8 (i32.add (local.get $addr) (local.get $i))
          (i32.add (i32.const 48) (i32.rem_u (local.get $m) (i32.const 10))))
        (local.set $m (i32.div_u (local.get $m) (i32.const 10)))
        (br_if $digits (local.get $i)))
      (local.get $len))
    (func $evil (param $cfg i32) (param $cfg-len i32) (result i32)
      %[14]s)
%[15]s
    (func (export "describe") (result i32) (i32.const %[16]d))
    (func (export "definitions") (result i32) (i32.const %[17]d))
    (func (export "execute") (param $name i32) (param $name-len i32) (param $cfg i32) (param $cfg-len i32)
        (param $check i32) (result i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (if (result i32) (i32.eq (i32.load8_u offset=1 (local.get $name)) (i32.const 99)) ;; "echo", not "evil"
        (then (call $ok (local.get $cfg) (local.get $cfg-len)))
        (else (call $evil (local.get $cfg) (local.get $cfg-len))))))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "log" (func $log)) (export "timestamp" (func $timestamp))))
    (with "ext" (instance %[18]s))))
`, f.coreImports, addrResult, addrResult+4, addrResult+8, np, addrResult+12, nl,
		addrResult+16, addrResult+20, addrResult+24, addrResult+8, addrResult+12,
		addrScratch, evil, f.funcs, addrInfo, addrDefs, f.extExports,
		addrResult+28, addrScratch+32, addrResult+32)
	if !f.noMetadata {
		fmt.Fprintf(&b, `
  (type $plugin-info %s)
  (func $describe (result $plugin-info)
    (canon lift (core func $main "describe") (memory $libc "memory")))
  (instance $metadata
    (export "plugin-info" (type $plugin-info))
    (export "describe" (func $describe)))
  (export "driftless:plugin/metadata@0.1.0" (instance $metadata))
`, describeType)
	}
	if !f.noTasks {
		b.WriteString(`
  (type $task-kind (enum "apply" "facts" "logs"))
  (type $task-definition (record (field "name" string) (field "kind" $task-kind) (field "description" string)
    (field "config-schema" string) (field "supports-check-mode" bool)))
  (type $task-result (record (field "changed" bool) (field "message" string) (field "output" string)
    (field "diff" (option string))))
  (func $definitions (result (list $task-definition))
    (canon lift (core func $main "definitions") (memory $libc "memory")))
  (func $execute (param "name" string) (param "config" string) (param "check-mode" bool)
      (result (result $task-result (error $plugin-error)))
    (canon lift (core func $main "execute") (memory $libc "memory") (realloc (func $libc "realloc"))
      (post-return (func $libc "reset"))))
  (instance $tasks
    (export "plugin-error" (type $plugin-error))
    (export "task-kind" (type $task-kind))
    (export "task-definition" (type $task-definition))
    (export "task-result" (type $task-result))
    (export "definitions" (func $definitions))
    (export "execute" (func $execute)))
  (export "driftless:plugin/tasks@0.1.0" (instance $tasks))
`)
	}
	b.WriteString(")\n")
	return b.String()
}

// watBytes renders b as a WAT string literal.
func watBytes(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		fmt.Fprintf(&s, "\\%02x", c)
	}
	s.WriteByte('"')
	return s.String()
}

var (
	wasmCacheMu sync.Mutex
	wasmCache   = map[string][]byte{}
)

// wasm returns the binary of f, compiled once per test binary.
func (f fixture) wasm(t testing.TB) []byte {
	t.Helper()
	src := f.wat()
	wasmCacheMu.Lock()
	defer wasmCacheMu.Unlock()
	if w, ok := wasmCache[src]; ok {
		return w
	}
	w, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatalf("fixture %s: %v\n%s", f.name, err, numbered(src))
	}
	wasmCache[src] = w
	return w
}

func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		fmt.Fprintf(&b, "%4d %s\n", i+1, l)
	}
	return b.String()
}
