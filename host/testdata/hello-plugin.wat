;; A minimal Driftless task plugin written by hand in the component text
;; format, for host/example_test.go: world driftless:plugin/task-plugin with
;; one task, "greet", whose config must have a string "name". execute logs
;; "greeting" through host.log and returns ok({changed: true,
;; message: "hello", output: <the config>, diff: none}).
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

  ;; Memory, a bump allocator for what the host passes in (reset after each
  ;; call by post-return), and the constant strings.
  (core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
        (then unreachable))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $heap (i32.const 4096)))
    (data (i32.const 1024) "hello")
    (data (i32.const 1032) "0.1.0")
    (data (i32.const 1040) "says hello")
    (data (i32.const 1056) "greet")
    (data (i32.const 1064) "Greets someone.")
    (data (i32.const 1088) "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}")
    (data (i32.const 1184) "greeting"))
  (core instance $libc (instantiate $libc))
  (core func $log (canon lower (func $host "log") (memory $libc "memory")))

  (core module $main
    (import "libc" "memory" (memory 1))
    (import "host" "log" (func $log (param i32 i32 i32)))
    (func $init
      ;; plugin-info at 64: name, version, description.
      (i32.store (i32.const 64) (i32.const 1024)) (i32.store (i32.const 68) (i32.const 5))
      (i32.store (i32.const 72) (i32.const 1032)) (i32.store (i32.const 76) (i32.const 5))
      (i32.store (i32.const 80) (i32.const 1040)) (i32.store (i32.const 84) (i32.const 10))
      ;; list<task-definition> at 96: one record at 128.
      (i32.store (i32.const 96) (i32.const 128)) (i32.store (i32.const 100) (i32.const 1))
      (i32.store (i32.const 128) (i32.const 1056)) (i32.store (i32.const 132) (i32.const 5))
      (i32.store8 (i32.const 136) (i32.const 0))  ;; kind: apply
      (i32.store (i32.const 140) (i32.const 1064)) (i32.store (i32.const 144) (i32.const 15))
      (i32.store (i32.const 148) (i32.const 1088)) (i32.store (i32.const 152) (i32.const 77))
      (i32.store8 (i32.const 156) (i32.const 0)))  ;; no check mode
    (start $init)
    (func (export "describe") (result i32) (i32.const 64))
    (func (export "definitions") (result i32) (i32.const 96))
    ;; execute(name, config, check-mode) -> result<task-result, plugin-error> at 192.
    (func (export "execute") (param i32 i32) (param $cfg i32) (param $cfg-len i32) (param i32) (result i32)
      (call $log (i32.const 2) (i32.const 1184) (i32.const 8))
      (i32.store8 (i32.const 192) (i32.const 0))  ;; ok
      (i32.store8 (i32.const 196) (i32.const 1))  ;; changed
      (i32.store (i32.const 200) (i32.const 1024)) (i32.store (i32.const 204) (i32.const 5))
      (i32.store (i32.const 208) (local.get $cfg)) (i32.store (i32.const 212) (local.get $cfg-len))
      (i32.store8 (i32.const 216) (i32.const 0))  ;; diff: none
      (i32.const 192)))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "log" (func $log))))))

  (type $plugin-info (record (field "name" string) (field "version" string) (field "description" string)))
  (func $describe (result $plugin-info) (canon lift (core func $main "describe") (memory $libc "memory")))
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
