;; A legacy plugin that uses WASI preview1 (with allow_wasi = true): its
;; task writes a line to stdout and returns the number of environment
;; variables it sees and whether it could open "/etc" (errno).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "allocate") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $n) (i32.const 8))))
    (local.get $p))
  (func (export "get_task_definitions") (result i32) (i32.const 100))
  (func (export "execute_task") (param i32 i32) (result i32)
    (global.set $heap (i32.const 4096))
    ;; iovec at 0: "hello from wasi\n"
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $env (i32.const 12) (i32.const 16)))
    ;; {"changed":false,"output":{"env":N,"open":E}} with N, E one digit
    (i32.store8 (i32.const 333) (i32.add (i32.const 48) (i32.load (i32.const 12))))
    (i32.store8 (i32.const 342) (i32.add (i32.const 48)
      (call $open (i32.const 3) (i32.const 0) (i32.const 240) (i32.const 3) (i32.const 0)
        (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 64))))
    (i32.const 300))
  (data (i32.const 100) "[{\"name\":\"hello\"}]\00")
  (data (i32.const 200) "hello from wasi\n")
  (data (i32.const 240) "etc")
  (data (i32.const 300) "{\"changed\":false,\"output\":{\"env\":0,\"open\":0}}\00")
)
