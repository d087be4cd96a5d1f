;; More memories and tables than a legacy plugin may have, and a 64-bit
;; memory exported as "memory".
(module
  (memory (export "memory") i64 1)
  (memory 1)
  (table 1 funcref) (table 1 funcref) (table 1 funcref) (table 1 funcref) (table 1 funcref)
  (func (export "get_task_definitions") (result i32) (i32.const 0))
)
