package host

// State fixtures: task-plugin components (fixtures_test.go) that also
// import driftless:plugin/state, with its four functions lowered into the
// main module as
//
//	$state_get    (param $kptr i32) (param $klen i32) (param $ret i32)
//	              ;; ret: option<list<u8>> = disc u8 @0, ptr @4, len @8
//	$state_set    (param $kptr i32) (param $klen i32) (param $vptr i32) (param $vlen i32) (param $ret i32)
//	              ;; ret: result<_, plugin-error> = disc u8 @0, kind u8 @4, msg ptr @8, len @12
//	$state_delete (param $kptr i32) (param $klen i32)
//	$state_keys   (param $pptr i32) (param $plen i32) (param $some i32) (param $aptr i32) (param $alen i32)
//	              (param $limit i32) (param $ret i32)
//	              ;; ret: list<string> = ptr @0, len @4; each element ptr, len
//
// so that a fixture's evil body can use the store in a few lines of WAT.

import "strings"

// fixtureStateImport is the component-level import of the state interface.
const fixtureStateImport = `
  (import "driftless:plugin/state@0.1.0" (instance $state
    (export "plugin-error" (type $spe (eq $plugin-error)))
    (export "get" (func (param "key" string) (result (option (list u8)))))
    (export "set" (func (param "key" string) (param "value" (list u8)) (result (result (error $spe)))))
    (export "delete" (func (param "key" string)))
    (export "keys" (func (param "prefix" string) (param "start-after" (option string)) (param "limit" u32)
      (result (list string))))))
`

// withState adds the state import to f (replaced by stateImport when that
// is not empty, e.g. to import it with other types).
func (f fixture) withState(stateImport string) fixture {
	if stateImport == "" {
		stateImport = fixtureStateImport
	}
	f.imports += stateImport
	f.lowers += `
  (core func $state_get (canon lower (func $state "get") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $state_set (canon lower (func $state "set") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $state_delete (canon lower (func $state "delete") (memory $libc "memory")))
  (core func $state_keys (canon lower (func $state "keys") (memory $libc "memory") (realloc (func $libc "realloc"))))
`
	f.coreImports += `
    (import "ext" "state_get" (func $state_get (param i32 i32 i32)))
    (import "ext" "state_set" (func $state_set (param i32 i32 i32 i32 i32)))
    (import "ext" "state_delete" (func $state_delete (param i32 i32)))
    (import "ext" "state_keys" (func $state_keys (param i32 i32 i32 i32 i32 i32 i32)))
`
	f.extExports += ` (export "state_get" (func $state_get)) (export "state_set" (func $state_set))` +
		` (export "state_delete" (func $state_delete)) (export "state_keys" (func $state_keys))`
	return f
}

// mistypedState is the state import with get returning a string.
var mistypedState = strings.Replace(fixtureStateImport,
	`(export "get" (func (param "key" string) (result (option (list u8)))))`,
	`(export "get" (func (param "key" string) (result (option string))))`, 1)

// counterFixture is a state fixture whose "evil" task increments a 4-byte
// little-endian counter under key "n" (get, then set), reads it back, and
// then, by the config's first key, answers:
//
//	{}             ok, with the counter it read back as output
//	{"err":..}     a plugin error
//	{"trap":..}    a trap (unreachable)
//	{"loop":..}    an endless loop (fuel or timeout)
//	{"mem":..}     memory.grow until refused, then unreachable
//	{"out":..}     a malformed output (not JSON)
//	{"keys":..}    ok, with the number of keys (listed by pages of 2) as output
//
// A set that fails returns its plugin error as the task's.
func counterFixture(name string) fixture {
	return fixture{name: name, data: `"n\00not json"`, funcs: `
    (func $counter (result i32)
      (call $state_get (i32.const 2048) (i32.const 1) (i32.const 600))
      (if (result i32) (i32.load8_u (i32.const 600))
        (then (i32.load (i32.load (i32.const 604))))
        (else (i32.const 0))))
    ;; Counts the keys, two by two: start-after is the last key of a page.
    (func $count-keys (result i32)
      (local $n i32) (local $got i32) (local $some i32) (local $aptr i32) (local $alen i32)
      (loop $page
        (call $state_keys (i32.const 0) (i32.const 0) (local.get $some) (local.get $aptr) (local.get $alen)
          (i32.const 2) (i32.const 680))
        (local.set $got (i32.load (i32.const 684)))
        (local.set $n (i32.add (local.get $n) (local.get $got)))
        (if (local.get $got)
          (then
            (local.set $some (i32.const 1))
            (local.set $aptr (i32.load (i32.add (i32.load (i32.const 680)) (i32.mul (i32.sub (local.get $got) (i32.const 1)) (i32.const 8)))))
            (local.set $alen (i32.load offset=4 (i32.add (i32.load (i32.const 680)) (i32.mul (i32.sub (local.get $got) (i32.const 1)) (i32.const 8)))))
            (br $page))))
      (local.get $n))
`, evil: `
      (local $c i32)
      (i32.store (i32.const 620) (i32.add (call $counter) (i32.const 1)))
      (call $state_set (i32.const 2048) (i32.const 1) (i32.const 620) (i32.const 4) (i32.const 640))
      (if (i32.load8_u (i32.const 640))
        (then (return (call $fail (i32.const 4) (i32.load (i32.const 648)) (i32.load (i32.const 652))))))
      (if (i32.gt_u (local.get $cfg-len) (i32.const 2))
        (then (local.set $c (i32.load8_u offset=2 (local.get $cfg)))))
      (if (i32.eq (local.get $c) (i32.const 101)) ;; e
        (then (return (call $fail (i32.const 4) (local.get $cfg) (local.get $cfg-len)))))
      (if (i32.eq (local.get $c) (i32.const 116)) ;; t
        (then unreachable))
      (if (i32.eq (local.get $c) (i32.const 108)) ;; l
        (then (loop $l (br $l))))
      (if (i32.eq (local.get $c) (i32.const 109)) ;; m
        (then (loop $g (br_if $g (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable))
      (if (i32.eq (local.get $c) (i32.const 111)) ;; o
        (then (return (call $ok (i32.const 2050) (i32.const 8)))))
      (if (i32.eq (local.get $c) (i32.const 107)) ;; k
        (then (return (call $ok (i32.const 700) (call $itoa (call $count-keys) (i32.const 700))))))
      (call $ok (i32.const 700) (call $itoa (call $counter) (i32.const 700)))`}.withState("")
}
