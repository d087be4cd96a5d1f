;; A minimal component of world driftless:plugin/task-plugin, written by hand
;; for the benchmarks of the generated bindings against the raw bindings
;; calls they wrap: its functions return constant values from memory, so
;; that a call costs little beyond crossing the boundary and converting.
;;
;; execute: a name starting with "l" first calls host.log(info, ...); any
;; other name just returns ok({changed: true, message: "done", output: "{}",
;; diff: some("+x")}).
(component
  (import "driftless:plugin/types@0.1.0" (instance $types
    (type $level' (enum "trace" "debug" "info" "warn" "error"))
    (export "level" (type (eq $level')))
    (type $ek' (enum "invalid-config" "invalid-input" "not-found" "unsupported" "failed"))
    (export "error-kind" (type $ek (eq $ek')))
    (type $pe' (record (field "kind" $ek) (field "message" string)))
    (export "plugin-error" (type (eq $pe')))))
  (alias export $types "level" (type $level))
  (alias export $types "plugin-error" (type $plugin-error))
  (import "driftless:plugin/host@0.1.0" (instance $host
    (export "level" (type $l (eq $level)))
    (export "log" (func (param "level" $l) (param "message" string)))
    (export "timestamp" (func (result u64)))))

  (core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $heap (i32.const 4096)))
    ;; Constant strings and the results that point at them.
    (data (i32.const 1024) "bench")
    (data (i32.const 1032) "0.1.0")
    (data (i32.const 1040) "a benchmark plugin")
    (data (i32.const 1064) "echo")
    (data (i32.const 1072) "{}")
    (data (i32.const 1080) "done")
    (data (i32.const 1088) "+x")
    (data (i32.const 1096) "a task")
    (data (i32.const 1104) "hello from wasm"))
  (core instance $libc (instantiate $libc))
  (core func $log (canon lower (func $host "log") (memory $libc "memory")))

  (core module $main
    (import "libc" "memory" (memory 1))
    (import "host" "log" (func $log (param i32 i32 i32)))
    (func $init
      ;; describe: plugin-info at 64.
      (i32.store (i32.const 64) (i32.const 1024)) (i32.store (i32.const 68) (i32.const 5))
      (i32.store (i32.const 72) (i32.const 1032)) (i32.store (i32.const 76) (i32.const 5))
      (i32.store (i32.const 80) (i32.const 1040)) (i32.store (i32.const 84) (i32.const 18))
      ;; definitions: the list (128, 1) at 96; one task-definition at 128.
      (i32.store (i32.const 96) (i32.const 128)) (i32.store (i32.const 100) (i32.const 1))
      (i32.store (i32.const 128) (i32.const 1064)) (i32.store (i32.const 132) (i32.const 4))
      (i32.store8 (i32.const 136) (i32.const 0))
      (i32.store (i32.const 140) (i32.const 1096)) (i32.store (i32.const 144) (i32.const 6))
      (i32.store (i32.const 148) (i32.const 1072)) (i32.store (i32.const 152) (i32.const 2))
      (i32.store8 (i32.const 156) (i32.const 1))
      ;; execute: ok(task-result) at 192.
      (i32.store8 (i32.const 192) (i32.const 0))
      (i32.store8 (i32.const 196) (i32.const 1))
      (i32.store (i32.const 200) (i32.const 1080)) (i32.store (i32.const 204) (i32.const 4))
      (i32.store (i32.const 208) (i32.const 1072)) (i32.store (i32.const 212) (i32.const 2))
      (i32.store8 (i32.const 216) (i32.const 1))
      (i32.store (i32.const 220) (i32.const 1088)) (i32.store (i32.const 224) (i32.const 2)))
    (start $init)
    (func (export "describe") (result i32) (i32.const 64))
    (func (export "definitions") (result i32) (i32.const 96))
    (func (export "execute") (param $name i32) (param $name-len i32) (param i32 i32) (param i32) (result i32)
      (if (i32.and (i32.gt_u (local.get $name-len) (i32.const 0))
                   (i32.eq (i32.load8_u (local.get $name)) (i32.const 108)))
        (then (call $log (i32.const 2) (i32.const 1104) (i32.const 15))))
      (i32.const 192)))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "log" (func $log))))))

  (type $plugin-info (record (field "name" string) (field "version" string) (field "description" string)))
  (func $describe (result $plugin-info)
    (canon lift (core func $main "describe") (memory $libc "memory")))
  (instance $metadata
    (export "plugin-info" (type $plugin-info))
    (export "describe" (func $describe)))
  (export "driftless:plugin/metadata@0.1.0" (instance $metadata))

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
)
