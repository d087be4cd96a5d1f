;; A Driftless task plugin that imports an interface of its host's own,
;; acme:deploy/secrets@0.1.0 (examples/embedding/wit/deploy.wit), written by
;; hand in the component text format for host/example_test.go
;; (ExampleInterface). Its one task, "connect", asks the host for the secret
;; "db-password" and returns ok({changed: true, message: <the secret>,
;; output: {}, diff: none}), or err(plugin-error{failed, "secret db-password:
;; not-found"}) (or "denied") when the host does not give it.
(component
  (import "driftless:plugin/types@0.1.0" (instance $types
    (type $ek' (enum "invalid-config" "invalid-input" "not-found" "unsupported" "failed"))
    (export "error-kind" (type $ek (eq $ek')))
    (type $pe' (record (field "kind" $ek) (field "message" string)))
    (export "plugin-error" (type (eq $pe')))))
  (alias export $types "plugin-error" (type $plugin-error))
  (import "acme:deploy/secrets@0.1.0" (instance $secrets
    (type $se' (enum "not-found" "denied"))
    (export "secret-error" (type $se (eq $se')))
    (export "get" (func (param "name" string) (result (result string (error $se)))))))

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
    (data (i32.const 1024) "secrets")
    (data (i32.const 1032) "0.1.0")
    (data (i32.const 1040) "reads a secret")
    (data (i32.const 1056) "connect")
    (data (i32.const 1064) "Connects with the db-password secret.")
    (data (i32.const 1104) "{\"type\":\"object\"}")
    (data (i32.const 1128) "{}")
    (data (i32.const 1136) "secret db-password: not-found")
    (data (i32.const 1168) "secret db-password: denied")
    (data (i32.const 1200) "db-password"))
  (core instance $libc (instantiate $libc))
  (core func $get (canon lower (func $secrets "get") (memory $libc "memory") (realloc (func $libc "realloc"))))

  (core module $main
    (import "libc" "memory" (memory 1))
    (import "secrets" "get" (func $get (param i32 i32 i32)))
    (func $init
      ;; plugin-info at 64: name, version, description.
      (i32.store (i32.const 64) (i32.const 1024)) (i32.store (i32.const 68) (i32.const 7))
      (i32.store (i32.const 72) (i32.const 1032)) (i32.store (i32.const 76) (i32.const 5))
      (i32.store (i32.const 80) (i32.const 1040)) (i32.store (i32.const 84) (i32.const 14))
      ;; list<task-definition> at 96: one record at 128.
      (i32.store (i32.const 96) (i32.const 128)) (i32.store (i32.const 100) (i32.const 1))
      (i32.store (i32.const 128) (i32.const 1056)) (i32.store (i32.const 132) (i32.const 7))
      (i32.store8 (i32.const 136) (i32.const 0))  ;; kind: apply
      (i32.store (i32.const 140) (i32.const 1064)) (i32.store (i32.const 144) (i32.const 37))
      (i32.store (i32.const 148) (i32.const 1104)) (i32.store (i32.const 152) (i32.const 17))
      (i32.store8 (i32.const 156) (i32.const 0)))  ;; no check mode
    (start $init)
    (func (export "describe") (result i32) (i32.const 64))
    (func (export "definitions") (result i32) (i32.const 96))
    ;; execute(name, config, check-mode) -> result<task-result, plugin-error> at 192.
    (func (export "execute") (param i32 i32 i32 i32 i32) (result i32)
      ;; get("db-password") -> result<string, secret-error> at 256.
      (call $get (i32.const 1200) (i32.const 11) (i32.const 256))
      (if (i32.load8_u (i32.const 256))
        (then
          (i32.store8 (i32.const 192) (i32.const 1))  ;; err
          (i32.store8 (i32.const 196) (i32.const 4))  ;; kind: failed
          (if (i32.load8_u (i32.const 260))
            (then (i32.store (i32.const 200) (i32.const 1168)) (i32.store (i32.const 204) (i32.const 26)))
            (else (i32.store (i32.const 200) (i32.const 1136)) (i32.store (i32.const 204) (i32.const 29))))
          (return (i32.const 192))))
      (i32.store8 (i32.const 192) (i32.const 0))  ;; ok
      (i32.store8 (i32.const 196) (i32.const 1))  ;; changed
      (i32.store (i32.const 200) (i32.load (i32.const 260))) (i32.store (i32.const 204) (i32.load (i32.const 264)))
      (i32.store (i32.const 208) (i32.const 1128)) (i32.store (i32.const 212) (i32.const 2))
      (i32.store8 (i32.const 216) (i32.const 0))  ;; diff: none
      (i32.const 192)))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "secrets" (instance (export "get" (func $get))))))

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
