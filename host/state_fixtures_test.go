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
