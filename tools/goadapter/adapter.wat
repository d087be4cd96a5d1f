;; The WASI preview1 adapter for Go components (see README.md).
;;
;; A Go module built with GOOS=wasip1 imports WASI preview1 functions
;; (module wasi_snapshot_preview1); `wasm-tools component new --adapt`
;; replaces those imports with this module's exports, which call WASI 0.2
;; interfaces instead. It is written for Go's runtime:
;;
;; - It owns no memory and never calls into the Go module (the stock
;;   preview1 adapter allocates its state through the module's
;;   cabi_realloc, which Go refuses before its runtime is initialised).
;;   The results of the WASI 0.2 calls it makes go to a scratch area at
;;   SCRATCH (4096) in the module's memory: Go's linker reserves 4096-12287
;;   on wasm for wasm_exec.js's arguments and never uses it under wasip1
;;   (cmd/link: wasmMinDataAddr). The generated Go glue checks at start-up
;;   that its data lies above it.
;; - It has a no-leave mode (driftless_noleave) that the generated glue
;;   turns on while Go runs inside cabi_realloc or a post-return function,
;;   where the component model forbids any call out of the component (Go's
;;   allocator reads the clock). Meanwhile clocks answer from the last
;;   reading (the monotonic clock still advances, by 1 ns a read and by
;;   every sleep), random bytes come from a generator seeded by real random
;;   bytes, output is dropped and sleeps return at once.
;; - No arguments, no files, no sockets: every fd but 0-2 is EBADF, there
;;   are no preopened directories. The environment is the host's (empty
;;   unless the plugin's configuration grants one), read once into the
;;   scratch area, so it is limited to about 8 KB.
;; - proc_exit traps: a plugin never exits the host. A Go panic prints its
;;   stack to stderr (the host log) and ends in proc_exit(2): a trap.
(module
  (import "wasi:clocks/monotonic-clock@0.2.0" "now" (func $mono_now (result i64)))
  (import "wasi:clocks/monotonic-clock@0.2.0" "subscribe-duration" (func $subscribe_duration (param i64) (result i32)))
  (import "wasi:clocks/wall-clock@0.2.0" "now" (func $wall_now (param i32)))
  (import "wasi:random/random@0.2.0" "get-random-u64" (func $random_u64 (result i64)))
  (import "wasi:cli/environment@0.2.0" "get-environment" (func $get_environment (param i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get_stdout (result i32)))
  (import "wasi:cli/stderr@0.2.0" "get-stderr" (func $get_stderr (result i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $blocking_write_and_flush (param i32 i32 i32 i32)))
  (import "wasi:io/error@0.2.0" "[resource-drop]error" (func $drop_error (param i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/poll@0.2.0" "[resource-drop]pollable" (func $drop_pollable (param i32)))
  (import "env" "memory" (memory 0))

  ;; The scratch area: results of WASI calls at SCRATCH, the arena of
  ;; cabi_import_realloc (the environment) from ARENA to ARENA_END.
  (global $SCRATCH i32 (i32.const 4096))
  (global $ARENA i32 (i32.const 4128))
  (global $ARENA_END i32 (i32.const 12288))

  (global $noleave (mut i32) (i32.const 0))
  (global $stdout (mut i32) (i32.const 0))  ;; output-stream handles, 0 until fetched
  (global $stderr (mut i32) (i32.const 0))
  (global $mono_last (mut i64) (i64.const 0)) ;; the last monotonic time answered
  (global $wall_base (mut i64) (i64.const 0)) ;; wall time at the last real reading...
  (global $mono_base (mut i64) (i64.const 0)) ;; ...and the monotonic time then
  (global $rng (mut i64) (i64.const 0))       ;; state of the no-leave generator
  (global $bump (mut i32) (i32.const 4128))   ;; next free byte of the arena
  (global $env_loaded (mut i32) (i32.const 0))
  (global $env_ptr (mut i32) (i32.const 0))   ;; list<tuple<string, string>>
  (global $env_len (mut i32) (i32.const 0))

  ;; ---- private: the generated Go glue's switch ---------------------------
  (func (export "driftless_noleave") (param $on i32)
    (global.set $noleave (local.get $on)))

  ;; The realloc the canonical ABI uses for this adapter's own imports (only
  ;; get-environment returns memory): a bump allocator in the arena.
  (func (export "cabi_import_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (if (local.get $old) (then unreachable))
    (local.set $p (i32.and
      (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get $align))))
    ;; An environment larger than the arena: trap rather than overwrite Go's data.
    (if (i32.gt_u (i32.add (local.get $p) (local.get $size)) (global.get $ARENA_END))
      (then unreachable))
    (global.set $bump (i32.add (local.get $p) (local.get $size)))
    (local.get $p))

  ;; ---- clocks -------------------------------------------------------------
  ;; $mono returns the monotonic time: the host's, never less than an answer
  ;; given before; in no-leave mode the last answer plus 1 ns.
  (func $mono (result i64)
    (local $t i64)
    (if (global.get $noleave)
      (then
        (global.set $mono_last (i64.add (global.get $mono_last) (i64.const 1)))
        (return (global.get $mono_last))))
    (local.set $t (call $mono_now))
    (if (i64.gt_u (local.get $t) (global.get $mono_last))
      (then (global.set $mono_last (local.get $t))))
    (global.get $mono_last))

  ;; $wall returns the wall-clock time in ns since the Unix epoch; in no-leave
  ;; mode the last reading advanced by the monotonic clock.
  (func $wall (result i64)
    (local $t i64)
    (if (global.get $noleave)
      (then (return (i64.add (global.get $wall_base)
        (i64.sub (call $mono) (global.get $mono_base))))))
    (call $wall_now (global.get $SCRATCH))
    (local.set $t (i64.add
      (i64.mul (i64.load (global.get $SCRATCH)) (i64.const 1000000000))
      (i64.extend_i32_u (i32.load offset=8 (global.get $SCRATCH)))))
    (global.set $wall_base (local.get $t))
    (global.set $mono_base (call $mono))
    (local.get $t))

  (func (export "clock_time_get") (param $id i32) (param $precision i64) (param $ret i32) (result i32)
    (if (i32.eqz (local.get $id))
      (then (i64.store (local.get $ret) (call $wall)) (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 1))
      (then (i64.store (local.get $ret) (call $mono)) (return (i32.const 0))))
    (i32.const 28)) ;; inval: no CPU-time clocks

  (func (export "clock_res_get") (param $id i32) (param $ret i32) (result i32)
    (if (i32.gt_u (local.get $id) (i32.const 1)) (then (return (i32.const 28))))
    (i64.store (local.get $ret) (i64.const 1000))
    (i32.const 0))

  ;; ---- random -------------------------------------------------------------
  ;; $random64 returns 8 random bytes: the host's, or in no-leave mode the next
  ;; output of a splitmix64 generator whose state every real reading reseeds.
  (func $random64 (result i64)
    (local $z i64)
    (if (i32.eqz (global.get $noleave))
      (then
        (local.set $z (call $random_u64))
        (global.set $rng (i64.xor (global.get $rng) (local.get $z)))
        (return (local.get $z))))
    (global.set $rng (i64.add (global.get $rng) (i64.const 0x9e3779b97f4a7c15)))
    (local.set $z (global.get $rng))
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 30))) (i64.const 0xbf58476d1ce4e5b9)))
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 27))) (i64.const 0x94d049bb133111eb)))
    (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 31))))

  (func (export "random_get") (param $buf i32) (param $len i32) (result i32)
    (local $r i64)
    (block $done
      (loop $words
        (br_if $done (i32.lt_u (local.get $len) (i32.const 8)))
        (i64.store (local.get $buf) (call $random64))
        (local.set $buf (i32.add (local.get $buf) (i32.const 8)))
        (local.set $len (i32.sub (local.get $len) (i32.const 8)))
        (br $words)))
    (if (local.get $len)
      (then
        (local.set $r (call $random64))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.eqz (local.get $len)))
            (i64.store8 (local.get $buf) (local.get $r))
            (local.set $r (i64.shr_u (local.get $r) (i64.const 8)))
            (local.set $buf (i32.add (local.get $buf) (i32.const 1)))
            (local.set $len (i32.sub (local.get $len) (i32.const 1)))
            (br $tail)))))
    (i32.const 0))

  ;; ---- output -------------------------------------------------------------
  ;; $write writes len bytes at ptr to stream s, in pieces of at most 4096
  ;; bytes (the most blocking-write-and-flush takes). Returns an errno.
  (func $write (param $s i32) (param $ptr i32) (param $len i32) (result i32)
    (local $n i32)
    (block $done
      (loop $pieces
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $n (select (i32.const 4096) (local.get $len) (i32.gt_u (local.get $len) (i32.const 4096))))
        (call $blocking_write_and_flush (local.get $s) (local.get $ptr) (local.get $n) (global.get $SCRATCH))
        ;; result<_, stream-error>: the case at +0, stream-error's case at +4,
        ;; last-operation-failed's error handle at +8.
        (if (i32.load8_u (global.get $SCRATCH))
          (then
            (if (i32.eqz (i32.load8_u offset=4 (global.get $SCRATCH)))
              (then
                (call $drop_error (i32.load offset=8 (global.get $SCRATCH)))
                (return (i32.const 29)))) ;; io
            (return (i32.const 64)))) ;; pipe: the stream is closed
        (local.set $ptr (i32.add (local.get $ptr) (local.get $n)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $pieces)))
    (i32.const 0))

  (func (export "fd_write") (param $fd i32) (param $iovs i32) (param $iovs_len i32) (param $nwritten i32) (result i32)
    (local $s i32) (local $total i32) (local $len i32) (local $errno i32)
    (if (i32.eq (local.get $fd) (i32.const 1))
      (then
        (if (i32.and (i32.eqz (global.get $stdout)) (i32.eqz (global.get $noleave)))
          (then (global.set $stdout (call $get_stdout))))
        (local.set $s (global.get $stdout)))
      (else
        (if (i32.eq (local.get $fd) (i32.const 2))
          (then
            (if (i32.and (i32.eqz (global.get $stderr)) (i32.eqz (global.get $noleave)))
              (then (global.set $stderr (call $get_stderr))))
            (local.set $s (global.get $stderr)))
          (else (return (i32.const 8)))))) ;; badf
    (block $done
      (loop $iov
        (br_if $done (i32.eqz (local.get $iovs_len)))
        (local.set $len (i32.load offset=4 (local.get $iovs)))
        ;; In no-leave mode output is dropped, reported as written.
        (if (i32.eqz (global.get $noleave))
          (then
            (local.set $errno (call $write (local.get $s) (i32.load (local.get $iovs)) (local.get $len)))
            (if (local.get $errno)
              (then
                (i32.store (local.get $nwritten) (local.get $total))
                (return (local.get $errno))))))
        (local.set $total (i32.add (local.get $total) (local.get $len)))
        (local.set $iovs (i32.add (local.get $iovs) (i32.const 8)))
        (local.set $iovs_len (i32.sub (local.get $iovs_len) (i32.const 1)))
        (br $iov)))
    (i32.store (local.get $nwritten) (local.get $total))
    (i32.const 0))

  ;; ---- poll_oneoff: sleeping ---------------------------------------------
  ;; Subscriptions are 48 bytes (userdata u64 @0, tag u8 @8, clock id u32 @16,
  ;; timeout u64 @24, flags u16 @40); events 32 bytes (userdata @0, errno u16
  ;; @8, type u8 @10). Clock subscriptions sleep until the earliest; fd
  ;; subscriptions (there are no pollable fds) report EBADF at once, without
  ;; sleeping.
  ;; $timeout returns the time from now until the clock subscription at sub
  ;; is due (0 when it is).
  (func $timeout (param $sub i32) (result i64)
    (local $t i64) (local $now i64)
    (local.set $t (i64.load offset=24 (local.get $sub)))
    (if (i32.eqz (i32.and (i32.load16_u offset=40 (local.get $sub)) (i32.const 1)))
      (then (return (local.get $t)))) ;; relative
    (local.set $now (if (result i64) (i32.load offset=16 (local.get $sub))
      (then (call $mono)) (else (call $wall))))
    (select (i64.sub (local.get $t) (local.get $now)) (i64.const 0)
      (i64.gt_u (local.get $t) (local.get $now))))

  (func (export "poll_oneoff") (param $in i32) (param $out i32) (param $nsubs i32) (param $nevents i32) (result i32)
    (local $i i32) (local $sub i32) (local $ev i32) (local $n i32)
    (local $has_fd i32) (local $min i64) (local $t i64) (local $p i32)
    (if (i32.eqz (local.get $nsubs)) (then (return (i32.const 28))))
    (local.set $min (i64.const -1))
    ;; The earliest clock timeout, relative.
    (local.set $i (i32.const 0))
    (block $scanned
      (loop $scan
        (br_if $scanned (i32.ge_u (local.get $i) (local.get $nsubs)))
        (local.set $sub (i32.add (local.get $in) (i32.mul (local.get $i) (i32.const 48))))
        (if (i32.eqz (i32.load8_u offset=8 (local.get $sub)))
          (then
            (local.set $t (call $timeout (local.get $sub)))
            (if (i64.lt_u (local.get $t) (local.get $min)) (then (local.set $min (local.get $t)))))
          (else (local.set $has_fd (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (if (i32.and (i32.eqz (local.get $has_fd)) (i64.ne (local.get $min) (i64.const -1)))
      (then
        (if (global.get $noleave)
          (then (global.set $mono_last (i64.add (global.get $mono_last) (local.get $min))))
          (else
            (local.set $p (call $subscribe_duration (local.get $min)))
            (call $block (local.get $p))
            (call $drop_pollable (local.get $p))))))
    (if (local.get $has_fd) (then (local.set $min (i64.const 0))))
    ;; Events: every clock due by now, every fd subscription.
    (local.set $i (i32.const 0))
    (local.set $ev (local.get $out))
    (block $written
      (loop $events
        (br_if $written (i32.ge_u (local.get $i) (local.get $nsubs)))
        (local.set $sub (i32.add (local.get $in) (i32.mul (local.get $i) (i32.const 48))))
        (if (i32.or
              (i32.load8_u offset=8 (local.get $sub))
              (i64.le_u (call $timeout (local.get $sub)) (local.get $min)))
          (then
            (i64.store (local.get $ev) (i64.load (local.get $sub)))
            (i32.store16 offset=8 (local.get $ev)
              (select (i32.const 8) (i32.const 0) (i32.load8_u offset=8 (local.get $sub))))
            (i32.store8 offset=10 (local.get $ev) (i32.load8_u offset=8 (local.get $sub)))
            (i64.store offset=16 (local.get $ev) (i64.const 0))
            (i64.store offset=24 (local.get $ev) (i64.const 0))
            (local.set $ev (i32.add (local.get $ev) (i32.const 32)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $events)))
    (i32.store (local.get $nevents) (local.get $n))
    (i32.const 0))

  (func (export "sched_yield") (result i32) (i32.const 0))
  (func (export "proc_exit") (param i32) unreachable)
  (func (export "proc_raise") (param i32) (result i32) (i32.const 52)) ;; nosys

  ;; ---- arguments and environment -------------------------------------------
  (func (export "args_sizes_get") (param $argc i32) (param $size i32) (result i32)
    (i32.store (local.get $argc) (i32.const 0))
    (i32.store (local.get $size) (i32.const 0))
    (i32.const 0))
  (func (export "args_get") (param i32 i32) (result i32) (i32.const 0))

  ;; $env loads the environment once: a list of (name, value) string pairs.
  (func $env
    (if (i32.or (global.get $env_loaded) (global.get $noleave)) (then return))
    (call $get_environment (global.get $SCRATCH))
    (global.set $env_ptr (i32.load (global.get $SCRATCH)))
    (global.set $env_len (i32.load offset=4 (global.get $SCRATCH)))
    (global.set $env_loaded (i32.const 1)))

  (func (export "environ_sizes_get") (param $count i32) (param $size i32) (result i32)
    (local $i i32) (local $e i32) (local $total i32)
    (call $env)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (global.get $env_len)))
        (local.set $e (i32.add (global.get $env_ptr) (i32.mul (local.get $i) (i32.const 16))))
        ;; "NAME=VALUE\0"
        (local.set $total (i32.add (local.get $total) (i32.add (i32.const 2)
          (i32.add (i32.load offset=4 (local.get $e)) (i32.load offset=12 (local.get $e))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store (local.get $count) (global.get $env_len))
    (i32.store (local.get $size) (local.get $total))
    (i32.const 0))

  (func (export "environ_get") (param $ptrs i32) (param $buf i32) (result i32)
    (local $i i32) (local $e i32) (local $n i32)
    (call $env)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (global.get $env_len)))
        (local.set $e (i32.add (global.get $env_ptr) (i32.mul (local.get $i) (i32.const 16))))
        (i32.store (i32.add (local.get $ptrs) (i32.mul (local.get $i) (i32.const 4))) (local.get $buf))
        (local.set $n (i32.load offset=4 (local.get $e)))
        (memory.copy (local.get $buf) (i32.load (local.get $e)) (local.get $n))
        (local.set $buf (i32.add (local.get $buf) (local.get $n)))
        (i32.store8 (local.get $buf) (i32.const 61)) ;; '='
        (local.set $buf (i32.add (local.get $buf) (i32.const 1)))
        (local.set $n (i32.load offset=12 (local.get $e)))
        (memory.copy (local.get $buf) (i32.load offset=8 (local.get $e)) (local.get $n))
        (local.set $buf (i32.add (local.get $buf) (local.get $n)))
        (i32.store8 (local.get $buf) (i32.const 0))
        (local.set $buf (i32.add (local.get $buf) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.const 0))

  ;; ---- file descriptors: only 0-2, character devices ------------------------
  (func $stdio (param $fd i32) (result i32) (i32.lt_u (local.get $fd) (i32.const 3)))

  (func (export "fd_fdstat_get") (param $fd i32) (param $buf i32) (result i32)
    (if (i32.eqz (call $stdio (local.get $fd))) (then (return (i32.const 8))))
    (i64.store (local.get $buf) (i64.const 0))
    (i32.store8 (local.get $buf) (i32.const 2)) ;; character device, flags 0
    ;; Rights: read on 0, write on 1 and 2.
    (i64.store offset=8 (local.get $buf)
      (select (i64.const 2) (i64.const 64) (i32.eqz (local.get $fd))))
    (i64.store offset=16 (local.get $buf) (i64.const 0))
    (i32.const 0))

  (func (export "fd_filestat_get") (param $fd i32) (param $buf i32) (result i32)
    (if (i32.eqz (call $stdio (local.get $fd))) (then (return (i32.const 8))))
    (memory.fill (local.get $buf) (i32.const 0) (i32.const 64))
    (i32.store8 offset=16 (local.get $buf) (i32.const 2)) ;; character device
    (i32.const 0))

  ;; Reading stdin: always at its end.
  (func (export "fd_read") (param $fd i32) (param i32 i32) (param $nread i32) (result i32)
    (if (local.get $fd) (then (return (i32.const 8))))
    (i32.store (local.get $nread) (i32.const 0))
    (i32.const 0))

  (func (export "fd_close") (param $fd i32) (result i32)
    (select (i32.const 0) (i32.const 8) (call $stdio (local.get $fd))))

  (func (export "fd_seek") (param $fd i32) (param i64 i32 i32) (result i32)
    (select (i32.const 70) (i32.const 8) (call $stdio (local.get $fd)))) ;; spipe or badf
  (func (export "fd_tell") (param $fd i32) (param i32) (result i32)
    (select (i32.const 70) (i32.const 8) (call $stdio (local.get $fd))))
  (func (export "fd_fdstat_set_flags") (param $fd i32) (param i32) (result i32)
    (select (i32.const 58) (i32.const 8) (call $stdio (local.get $fd)))) ;; notsup or badf
  (func (export "fd_sync") (param $fd i32) (result i32)
    (select (i32.const 0) (i32.const 8) (call $stdio (local.get $fd))))
  (func (export "fd_datasync") (param $fd i32) (result i32)
    (select (i32.const 0) (i32.const 8) (call $stdio (local.get $fd))))

  ;; No preopened directories: the first fd_prestat_get ends Go's scan.
  (func (export "fd_prestat_get") (param i32 i32) (result i32) (i32.const 8))
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 8))

  ;; Everything else names a file descriptor that cannot exist.
  (func (export "fd_advise") (param i32 i64 i64 i32) (result i32) (i32.const 8))
  (func (export "fd_allocate") (param i32 i64 i64) (result i32) (i32.const 8))
  (func (export "fd_fdstat_set_rights") (param i32 i64 i64) (result i32) (i32.const 8))
  (func (export "fd_filestat_set_size") (param i32 i64) (result i32) (i32.const 8))
  (func (export "fd_filestat_set_times") (param i32 i64 i64 i32) (result i32) (i32.const 8))
  (func (export "fd_pread") (param i32 i32 i32 i64 i32) (result i32) (i32.const 8))
  (func (export "fd_pwrite") (param i32 i32 i32 i64 i32) (result i32) (i32.const 8))
  (func (export "fd_readdir") (param i32 i32 i32 i64 i32) (result i32) (i32.const 8))
  (func (export "fd_renumber") (param i32 i32) (result i32) (i32.const 8))
  (func (export "path_create_directory") (param i32 i32 i32) (result i32) (i32.const 8))
  (func (export "path_filestat_get") (param i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "path_filestat_set_times") (param i32 i32 i32 i32 i64 i64 i32) (result i32) (i32.const 8))
  (func (export "path_link") (param i32 i32 i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "path_open") (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32) (i32.const 8))
  (func (export "path_readlink") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "path_remove_directory") (param i32 i32 i32) (result i32) (i32.const 8))
  (func (export "path_rename") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "path_symlink") (param i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "path_unlink_file") (param i32 i32 i32) (result i32) (i32.const 8))
  (func (export "sock_accept") (param i32 i32 i32) (result i32) (i32.const 8))
  (func (export "sock_recv") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "sock_send") (param i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "sock_shutdown") (param i32 i32) (result i32) (i32.const 8))
)
