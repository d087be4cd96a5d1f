;; Exports the legacy adapter refuses: unsafe_* and names containing
;; "syscall", and known exports with the wrong types.
(module
  (memory (export "memory") 1)
  (func (export "unsafe_exec") (param i32) (result i32) (local.get 0))
  (func (export "do_syscall") (result i32) (i32.const 0))
  (func (export "allocate") (result i32) (i32.const 1024))
  (func (export "execute_task") (param i32) (result i32) (local.get 0))
  (func (export "execute_template_filter") (param i32 i32) (result i32) (local.get 0))
  (func (export "deallocate") (param i32 i32) (result i32) (local.get 0))
  (func (export "get_task_definitions") (result i64) (i64.const 0))
)
