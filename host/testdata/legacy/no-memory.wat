;; No exported memory, and execution exports without allocate.
(module
  (memory 1)
  (func (export "get_task_definitions") (result i32) (i32.const 16))
  (func (export "execute_task") (param i32 i32) (result i32) (i32.const 16))
  (func (export "execute_log_filter") (param i32 i32 i32) (result i32) (i32.const 16))
  (data (i32.const 16) "[]\00")
)
