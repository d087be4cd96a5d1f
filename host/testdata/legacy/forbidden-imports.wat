;; Imports of every kind the legacy adapter refuses (default-deny): the
;; seed's blocked categories, an unknown module, the old WASI module name,
;; WASI without allow_wasi, memory from the host, an unknown env function,
;; and the two host functions with types the host does not provide.
(module
  (import "env" "syscall_open" (func (param i32) (result i32)))
  (import "env" "system" (func (param i32) (result i32)))
  (import "env" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "path_open" (func (param i32) (result i32)))
  (import "env" "socket_connect" (func (param i32) (result i32)))
  (import "env" "net_send" (func (param i32) (result i32)))
  (import "env" "mystery" (func))
  (import "env" "host_log" (func (param i32)))
  (import "env" "host_get_timestamp" (func (result i32)))
  (import "evil" "steal" (func))
  (import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "table" (table 1 funcref))
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "get_task_definitions") (result i32) (i32.const 16))
  (data (i32.const 16) "[]\00")
)
