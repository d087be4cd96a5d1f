;; A module that provides nothing: a memory and an allocator only.
(module
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) (i32.const 1024))
)
