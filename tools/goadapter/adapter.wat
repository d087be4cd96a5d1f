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
;; - Files are the host's preopened directories (none unless the plugin's
;;   configuration grants some): path_open, fd_read/fd_write (straight between
;;   Go's buffers and the host), seek, stat, directory listing, mkdir, unlink,
;;   rename, through wasi:filesystem. No links, symbolic links or times. At
;;   most 64 descriptors (stdio included). No arguments, no sockets. The
;;   environment is the host's (empty unless granted), read once. The
;;   environment and the names of the preopened directories share about 6 KB
;;   of the scratch area.
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
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $get_directories (param i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.open-at"
    (func $open_at (param i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.get-type" (func $get_type (param i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.read" (func $fs_read (param i32 i64 i64 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.write" (func $fs_write (param i32 i32 i32 i64 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.stat" (func $stat (param i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.stat-at" (func $stat_at (param i32 i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.set-size" (func $set_size (param i32 i64 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.sync" (func $sync (param i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.sync-data" (func $sync_data (param i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.read-directory" (func $read_directory (param i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.create-directory-at" (func $create_directory_at (param i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.remove-directory-at" (func $remove_directory_at (param i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.unlink-file-at" (func $unlink_file_at (param i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.rename-at" (func $rename_at (param i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]directory-entry-stream.read-directory-entry"
    (func $read_directory_entry (param i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[resource-drop]descriptor" (func $drop_descriptor (param i32)))
  (import "wasi:filesystem/types@0.2.0" "[resource-drop]directory-entry-stream" (func $drop_stream (param i32)))
  (import "env" "memory" (memory 0))

  ;; The scratch area: results of WASI calls at SCRATCH (128 bytes), the
  ;; file descriptor table at FDS (FD_MAX entries of 32 bytes), and the arena
  ;; of cabi_import_realloc (the environment, the names of preopened
  ;; directories and directory entries) from ARENA to ARENA_END.
  (global $SCRATCH i32 (i32.const 4096))
  (global $FDS i32 (i32.const 4224))
  (global $FD_MAX i32 (i32.const 64))
  (global $ARENA i32 (i32.const 6272))
  (global $ARENA_END i32 (i32.const 12288))

  (global $noleave (mut i32) (i32.const 0))
  (global $stdout (mut i32) (i32.const 0))  ;; output-stream handles, 0 until fetched
  (global $stderr (mut i32) (i32.const 0))
  (global $mono_last (mut i64) (i64.const 0)) ;; the last monotonic time answered
  (global $wall_base (mut i64) (i64.const 0)) ;; wall time at the last real reading...
  (global $mono_base (mut i64) (i64.const 0)) ;; ...and the monotonic time then
  (global $rng (mut i64) (i64.const 0))       ;; state of the no-leave generator
  (global $bump (mut i32) (i32.const 6272))   ;; next free byte of the arena
  ;; The arena below the mark holds what stays (the environment, the names of
  ;; the preopened directories); above it what one call needs.
  (global $arena_mark (mut i32) (i32.const 6272))
  ;; Where cabi_import_realloc puts the next allocation instead of the arena:
  ;; the data a file read returns lands in the caller's buffer.
  (global $target (mut i32) (i32.const 0))
  (global $preopens_loaded (mut i32) (i32.const 0))
  (global $env_loaded (mut i32) (i32.const 0))
  (global $env_ptr (mut i32) (i32.const 0))   ;; list<tuple<string, string>>
  (global $env_len (mut i32) (i32.const 0))

  ;; ---- private: the generated Go glue's switch ---------------------------
  (func (export "driftless_noleave") (param $on i32)
    (global.set $noleave (local.get $on)))

  ;; The realloc the canonical ABI uses for this adapter's own imports: the
  ;; target of a file read, or a bump allocator in the arena.
  (func (export "cabi_import_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (if (local.get $old) (then unreachable))
    (if (global.get $target)
      (then
        (local.set $p (global.get $target))
        (global.set $target (i32.const 0))
        (return (local.get $p))))
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
          (else (return (call $fd_write_file (local.get $fd) (local.get $iovs) (local.get $iovs_len) (local.get $nwritten))))))) 
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
    (global.set $bump (global.get $arena_mark))
    (call $get_environment (global.get $SCRATCH))
    (global.set $arena_mark (global.get $bump)) ;; the environment stays
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

  ;; ---- file descriptors ---------------------------------------------------------
  ;; 0-2 are stdio (character devices). 3 and up are the preopened directories
  ;; (in the order of wasi:filesystem/preopens), then what path_open opens. The
  ;; table has FD_MAX entries of 32 bytes at FDS: descriptor handle @0 (0: free),
  ;; kind u8 @4 (1 file, 2 directory), preview1 filetype u8 @5, append u8 @6,
  ;; preopen u8 @7, file offset or next directory cookie u64 @8, directory-entry
  ;; stream @16 (0: none), preopen name @20 (ptr) @24 (len).
  (func $stdio (param $fd i32) (result i32) (i32.lt_u (local.get $fd) (i32.const 3)))

  ;; $preopens loads the preopened directories once, into fds 3 and up.
  (func $preopens
    (local $list i32) (local $n i32) (local $i i32) (local $e i32) (local $fd i32)
    (if (i32.or (global.get $preopens_loaded) (global.get $noleave)) (then return))
    (global.set $preopens_loaded (i32.const 1))
    (global.set $bump (global.get $arena_mark))
    (call $get_directories (global.get $SCRATCH))
    (local.set $list (i32.load (global.get $SCRATCH)))
    (local.set $n (i32.load offset=4 (global.get $SCRATCH)))
    (global.set $arena_mark (global.get $bump)) ;; the names stay
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ;; tuple<own<descriptor>, string>: 12 bytes
        (local.set $e (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 12))))
        (local.set $fd (i32.add (local.get $i) (i32.const 3)))
        (if (i32.lt_u (local.get $fd) (global.get $FD_MAX))
          (then
            (call $set_entry (local.get $fd) (i32.load (local.get $e)) (i32.const 2) (i32.const 3))
            (i32.store8 offset=7 (call $slot (local.get $fd)) (i32.const 1))
            (i32.store offset=20 (call $slot (local.get $fd)) (i32.load offset=4 (local.get $e)))
            (i32.store offset=24 (call $slot (local.get $fd)) (i32.load offset=8 (local.get $e))))
          (else (call $drop_descriptor (i32.load (local.get $e)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; $slot returns the address of fd's table entry.
  (func $slot (param $fd i32) (result i32)
    (i32.add (global.get $FDS) (i32.shl (local.get $fd) (i32.const 5))))

  (func $set_entry (param $fd i32) (param $handle i32) (param $kind i32) (param $filetype i32)
    (local $s i32)
    (local.set $s (call $slot (local.get $fd)))
    (memory.fill (local.get $s) (i32.const 0) (i32.const 32))
    (i32.store (local.get $s) (local.get $handle))
    (i32.store8 offset=4 (local.get $s) (local.get $kind))
    (i32.store8 offset=5 (local.get $s) (local.get $filetype)))

  ;; $entry returns fd's table entry, or 0 when fd is not open (or stdio).
  (func $entry (param $fd i32) (result i32)
    (call $preopens)
    (if (i32.or (call $stdio (local.get $fd)) (i32.ge_u (local.get $fd) (global.get $FD_MAX)))
      (then (return (i32.const 0))))
    (if (i32.eqz (i32.load (call $slot (local.get $fd)))) (then (return (i32.const 0))))
    (call $slot (local.get $fd)))

  ;; $file returns fd's entry if it is an open file, else 0.
  (func $file (param $fd i32) (result i32)
    (local $e i32)
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 0))))
    (select (local.get $e) (i32.const 0) (i32.eq (i32.load8_u offset=4 (local.get $e)) (i32.const 1))))

  ;; $dir returns fd's entry if it is an open directory, else 0.
  (func $dir (param $fd i32) (result i32)
    (local $e i32)
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 0))))
    (select (local.get $e) (i32.const 0) (i32.eq (i32.load8_u offset=4 (local.get $e)) (i32.const 2))))

  ;; $fd_errno is EBADF for fd, or ENOTDIR/EISDIR when it is open as the
  ;; other kind.
  (func $fd_errno (param $fd i32) (param $want_dir i32) (result i32)
    (if (i32.eqz (call $entry (local.get $fd))) (then (return (i32.const 8))))
    (select (i32.const 54) (i32.const 31) (local.get $want_dir)))

  ;; $filetype maps a wasi:filesystem descriptor-type to a preview1 filetype.
  (func $filetype (param $t i32) (result i32)
    (block $other (block $symlink (block $regular (block $socket
      (br_table $other $other $other $other $other $symlink $regular $socket $other (local.get $t)))
      (return (i32.const 6)))  ;; socket_stream
      (return (i32.const 4)))  ;; regular_file
      (return (i32.const 7)))  ;; symbolic_link
    ;; unknown 0, block 1, character 2, directory 3 are the same; fifo is unknown.
    (select (local.get $t) (i32.const 0) (i32.lt_u (local.get $t) (i32.const 4))))

  ;; $errno maps the wasi:filesystem error-code at SCRATCH+off to an errno.
  (func $errno (param $off i32) (result i32)
    (local $c i32)
    (local.set $c (i32.load8_u (i32.add (global.get $SCRATCH) (local.get $off))))
    (block $b36 (block $b35 (block $b34 (block $b33 (block $b32 (block $b31 (block $b30
    (block $b29 (block $b28 (block $b27 (block $b26 (block $b25 (block $b24 (block $b23
    (block $b22 (block $b21 (block $b20 (block $b19 (block $b18 (block $b17 (block $b16
    (block $b15 (block $b14 (block $b13 (block $b12 (block $b11 (block $b10 (block $b9
    (block $b8 (block $b7 (block $b6 (block $b5 (block $b4 (block $b3 (block $b2 (block $b1
    (block $b0
      (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 $b10 $b11 $b12 $b13 $b14 $b15 $b16
        $b17 $b18 $b19 $b20 $b21 $b22 $b23 $b24 $b25 $b26 $b27 $b28 $b29 $b30 $b31 $b32
        $b33 $b34 $b35 $b36 $b13 (local.get $c)))
    (return (i32.const 2)))   ;; access → acces
    (return (i32.const 6)))   ;; would-block → again
    (return (i32.const 7)))   ;; already
    (return (i32.const 8)))   ;; bad-descriptor → badf
    (return (i32.const 10)))  ;; busy
    (return (i32.const 16)))  ;; deadlock → deadlk
    (return (i32.const 19)))  ;; quota → dquot
    (return (i32.const 20)))  ;; exist
    (return (i32.const 22)))  ;; file-too-large → fbig
    (return (i32.const 25)))  ;; illegal-byte-sequence → ilseq
    (return (i32.const 26)))  ;; in-progress
    (return (i32.const 27)))  ;; interrupted → intr
    (return (i32.const 28)))  ;; invalid → inval
    (return (i32.const 29)))  ;; io
    (return (i32.const 31)))  ;; is-directory → isdir
    (return (i32.const 32)))  ;; loop
    (return (i32.const 34)))  ;; too-many-links → mlink
    (return (i32.const 35)))  ;; message-size
    (return (i32.const 37)))  ;; name-too-long
    (return (i32.const 43)))  ;; no-device → nodev
    (return (i32.const 44)))  ;; no-entry → noent
    (return (i32.const 46)))  ;; no-lock → nolck
    (return (i32.const 48)))  ;; insufficient-memory → nomem
    (return (i32.const 51)))  ;; insufficient-space → nospc
    (return (i32.const 54)))  ;; not-directory → notdir
    (return (i32.const 55)))  ;; not-empty
    (return (i32.const 56)))  ;; not-recoverable
    (return (i32.const 58)))  ;; unsupported → notsup
    (return (i32.const 59)))  ;; no-tty → notty
    (return (i32.const 60)))  ;; no-such-device → nxio
    (return (i32.const 61)))  ;; overflow
    (return (i32.const 63)))  ;; not-permitted → perm
    (return (i32.const 64)))  ;; pipe
    (return (i32.const 69)))  ;; read-only → rofs
    (return (i32.const 70)))  ;; invalid-seek → spipe
    (return (i32.const 74)))  ;; text-file-busy → txtbsy
    (i32.const 75))           ;; cross-device → xdev

  ;; $failed reports whether the result<_, error-code> at SCRATCH is an error.
  (func $failed (result i32) (i32.load8_u (global.get $SCRATCH)))

  ;; No call may leave the component in no-leave mode: file operations then
  ;; fail with EAGAIN.
  (func $busy (result i32) (global.get $noleave))

  (func (export "fd_prestat_get") (param $fd i32) (param $buf i32) (result i32)
    (local $e i32)
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.or (i32.eqz (local.get $e)) (i32.eqz (i32.load8_u offset=7 (local.get $e))))
      (then (return (i32.const 8))))
    (i32.store (local.get $buf) (i32.const 0)) ;; a directory
    (i32.store offset=4 (local.get $buf) (i32.load offset=24 (local.get $e)))
    (i32.const 0))

  (func (export "fd_prestat_dir_name") (param $fd i32) (param $path i32) (param $len i32) (result i32)
    (local $e i32)
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.or (i32.eqz (local.get $e)) (i32.eqz (i32.load8_u offset=7 (local.get $e))))
      (then (return (i32.const 8))))
    (memory.copy (local.get $path) (i32.load offset=20 (local.get $e))
      (select (local.get $len) (i32.load offset=24 (local.get $e))
        (i32.lt_u (local.get $len) (i32.load offset=24 (local.get $e)))))
    (i32.const 0))

  ;; Rights and flags of preview1 that matter here.
  ;;   rights: FD_READ 2, FD_WRITE 64, FD_READDIR 0x4000; oflags: CREAT 1,
  ;;   DIRECTORY 2, EXCL 4, TRUNC 8 (the bits of open-flags too); fdflags:
  ;;   APPEND 1, DSYNC 2, RSYNC 8, SYNC 16.
  (func (export "path_open") (param $dirfd i32) (param $dirflags i32) (param $path i32) (param $len i32)
      (param $oflags i32) (param $rights i64) (param $inheriting i64) (param $fdflags i32) (param $out i32) (result i32)
    (local $d i32) (local $flags i32) (local $h i32) (local $fd i32) (local $type i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $d (call $dir (local.get $dirfd)))
    (if (i32.eqz (local.get $d)) (then (return (call $fd_errno (local.get $dirfd) (i32.const 1)))))
    (if (i64.ne (i64.and (local.get $rights) (i64.const 0x4002)) (i64.const 0))
      (then (local.set $flags (i32.const 1)))) ;; read
    (if (i64.ne (i64.and (local.get $rights) (i64.const 64)) (i64.const 0))
      (then (local.set $flags (i32.or (local.get $flags) (i32.const 2))))) ;; write
    (if (i32.and (local.get $fdflags) (i32.const 16))
      (then (local.set $flags (i32.or (local.get $flags) (i32.const 4))))) ;; file-integrity-sync
    (if (i32.and (local.get $fdflags) (i32.const 2))
      (then (local.set $flags (i32.or (local.get $flags) (i32.const 8))))) ;; data-integrity-sync
    (if (i32.and (local.get $fdflags) (i32.const 8))
      (then (local.set $flags (i32.or (local.get $flags) (i32.const 16))))) ;; requested-write-sync
    ;; A free fd first: nothing to undo if there is none.
    (local.set $fd (i32.const 3))
    (block $found
      (loop $scan
        (if (i32.ge_u (local.get $fd) (global.get $FD_MAX)) (then (return (i32.const 33)))) ;; mfile
        (br_if $found (i32.eqz (i32.load (call $slot (local.get $fd)))))
        (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
        (br $scan)))
    (call $open_at (i32.load (local.get $d)) (i32.and (local.get $dirflags) (i32.const 1))
      (local.get $path) (local.get $len) (i32.and (local.get $oflags) (i32.const 15)) (local.get $flags)
      (global.get $SCRATCH))
    (if (call $failed) (then (return (call $errno (i32.const 4)))))
    (local.set $h (i32.load offset=4 (global.get $SCRATCH)))
    (call $get_type (local.get $h) (global.get $SCRATCH))
    (if (call $failed)
      (then (call $drop_descriptor (local.get $h)) (return (call $errno (i32.const 1)))))
    (local.set $type (i32.load8_u offset=1 (global.get $SCRATCH)))
    (call $set_entry (local.get $fd) (local.get $h)
      (select (i32.const 2) (i32.const 1) (i32.eq (local.get $type) (i32.const 3)))
      (call $filetype (local.get $type)))
    (i32.store8 offset=6 (call $slot (local.get $fd)) (i32.and (local.get $fdflags) (i32.const 1)))
    (i32.store (local.get $out) (local.get $fd))
    (i32.const 0))

  (func (export "fd_close") (param $fd i32) (result i32)
    (local $e i32)
    (if (call $stdio (local.get $fd)) (then (return (i32.const 0))))
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 8))))
    (if (i32.load offset=16 (local.get $e)) (then (call $drop_stream (i32.load offset=16 (local.get $e)))))
    (call $drop_descriptor (i32.load (local.get $e)))
    (memory.fill (local.get $e) (i32.const 0) (i32.const 32))
    (i32.const 0))

  ;; $read reads into the iovecs at file entry e from offset, zero-copy: the
  ;; list the host returns is "allocated" at the iovec (cabi_import_realloc
  ;; answers $target). Stores the byte count at $nread; returns an errno.
  (func $read (param $e i32) (param $iovs i32) (param $n i32) (param $offset i64) (param $nread i32) (result i32)
    (local $total i32) (local $len i32) (local $got i32)
    (block $done
      (loop $iov
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $len (i32.load offset=4 (local.get $iovs)))
        (if (local.get $len)
          (then
            (global.set $target (i32.load (local.get $iovs)))
            (call $fs_read (i32.load (local.get $e)) (i64.extend_i32_u (local.get $len)) (local.get $offset) (global.get $SCRATCH))
            (global.set $target (i32.const 0))
            (if (call $failed)
              (then
                (if (local.get $total) (then (br $done)))
                (return (call $errno (i32.const 4)))))
            ;; tuple<list<u8>, bool>: the list @4, @8; end of file @12
            (local.set $got (i32.load offset=8 (global.get $SCRATCH)))
            (if (i32.and (local.get $got)
                  (i32.ne (i32.load offset=4 (global.get $SCRATCH)) (i32.load (local.get $iovs))))
              (then (memory.copy (i32.load (local.get $iovs)) (i32.load offset=4 (global.get $SCRATCH)) (local.get $got))))
            (local.set $total (i32.add (local.get $total) (local.get $got)))
            (local.set $offset (i64.add (local.get $offset) (i64.extend_i32_u (local.get $got))))
            (br_if $done (i32.lt_u (local.get $got) (local.get $len)))))
        (local.set $iovs (i32.add (local.get $iovs) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $iov)))
    (i32.store (local.get $nread) (local.get $total))
    (i32.const 0))

  ;; Reading stdin: always at its end.
  (func (export "fd_read") (param $fd i32) (param $iovs i32) (param $n i32) (param $nread i32) (result i32)
    (local $e i32) (local $errno i32)
    (if (i32.eqz (local.get $fd)) (then (i32.store (local.get $nread) (i32.const 0)) (return (i32.const 0))))
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $file (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 0)))))
    (local.set $errno (call $read (local.get $e) (local.get $iovs) (local.get $n) (i64.load offset=8 (local.get $e)) (local.get $nread)))
    (i64.store offset=8 (local.get $e) (i64.add (i64.load offset=8 (local.get $e)) (i64.extend_i32_u (i32.load (local.get $nread)))))
    (local.get $errno))

  (func (export "fd_pread") (param $fd i32) (param $iovs i32) (param $n i32) (param $offset i64) (param $nread i32) (result i32)
    (local $e i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $file (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 0)))))
    (call $read (local.get $e) (local.get $iovs) (local.get $n) (local.get $offset) (local.get $nread)))

  ;; $size stores the size of file entry e at $out; returns an errno.
  (func $size (param $e i32) (param $out i32) (result i32)
    (call $stat (i32.load (local.get $e)) (global.get $SCRATCH))
    (if (call $failed) (then (return (call $errno (i32.const 8)))))
    (i64.store (local.get $out) (i64.load offset=24 (global.get $SCRATCH)))
    (i32.const 0))

  ;; $write writes the iovecs to file entry e at offset; stores the byte
  ;; count at $nwritten; returns an errno.
  (func $write_file (param $e i32) (param $iovs i32) (param $n i32) (param $offset i64) (param $nwritten i32) (result i32)
    (local $total i32) (local $ptr i32) (local $len i32) (local $done i32)
    (block $end
      (loop $iov
        (br_if $end (i32.eqz (local.get $n)))
        (local.set $ptr (i32.load (local.get $iovs)))
        (local.set $len (i32.load offset=4 (local.get $iovs)))
        (block $written
          (loop $rest
            (br_if $written (i32.eqz (local.get $len)))
            (call $fs_write (i32.load (local.get $e)) (local.get $ptr) (local.get $len) (local.get $offset) (global.get $SCRATCH))
            (if (call $failed)
              (then
                (if (local.get $total) (then (br $end)))
                (return (call $errno (i32.const 8)))))
            (local.set $done (i32.wrap_i64 (i64.load offset=8 (global.get $SCRATCH))))
            (br_if $end (i32.eqz (local.get $done)))
            (local.set $ptr (i32.add (local.get $ptr) (local.get $done)))
            (local.set $len (i32.sub (local.get $len) (local.get $done)))
            (local.set $total (i32.add (local.get $total) (local.get $done)))
            (local.set $offset (i64.add (local.get $offset) (i64.extend_i32_u (local.get $done))))
            (br $rest)))
        (local.set $iovs (i32.add (local.get $iovs) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $iov)))
    (i32.store (local.get $nwritten) (local.get $total))
    (i32.const 0))

  ;; $fd_write_file is fd_write for fd 3 and up.
  (func $fd_write_file (param $fd i32) (param $iovs i32) (param $n i32) (param $nwritten i32) (result i32)
    (local $e i32) (local $errno i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $file (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 0)))))
    (if (i32.load8_u offset=6 (local.get $e)) ;; append: at the end
      (then
        (local.set $errno (call $size (local.get $e) (i32.add (local.get $e) (i32.const 8))))
        (if (local.get $errno) (then (return (local.get $errno))))))
    (local.set $errno (call $write_file (local.get $e) (local.get $iovs) (local.get $n) (i64.load offset=8 (local.get $e)) (local.get $nwritten)))
    (i64.store offset=8 (local.get $e) (i64.add (i64.load offset=8 (local.get $e)) (i64.extend_i32_u (i32.load (local.get $nwritten)))))
    (local.get $errno))

  (func (export "fd_pwrite") (param $fd i32) (param $iovs i32) (param $n i32) (param $offset i64) (param $nwritten i32) (result i32)
    (local $e i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $file (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 0)))))
    (call $write_file (local.get $e) (local.get $iovs) (local.get $n) (local.get $offset) (local.get $nwritten)))

  (func (export "fd_seek") (param $fd i32) (param $delta i64) (param $whence i32) (param $out i32) (result i32)
    (local $e i32) (local $base i64) (local $errno i32)
    (if (call $stdio (local.get $fd)) (then (return (i32.const 70)))) ;; spipe
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $file (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 0)))))
    (if (i32.eq (local.get $whence) (i32.const 1)) (then (local.set $base (i64.load offset=8 (local.get $e)))))
    (if (i32.eq (local.get $whence) (i32.const 2))
      (then
        (local.set $errno (call $size (local.get $e) (global.get $SCRATCH)))
        (if (local.get $errno) (then (return (local.get $errno))))
        (local.set $base (i64.load (global.get $SCRATCH)))))
    (if (i32.gt_u (local.get $whence) (i32.const 2)) (then (return (i32.const 28))))
    (local.set $base (i64.add (local.get $base) (local.get $delta)))
    (if (i64.lt_s (local.get $base) (i64.const 0)) (then (return (i32.const 28))))
    (i64.store offset=8 (local.get $e) (local.get $base))
    (i64.store (local.get $out) (local.get $base))
    (i32.const 0))

  (func (export "fd_tell") (param $fd i32) (param $out i32) (result i32)
    (local $e i32)
    (if (call $stdio (local.get $fd)) (then (return (i32.const 70))))
    (local.set $e (call $file (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 0)))))
    (i64.store (local.get $out) (i64.load offset=8 (local.get $e)))
    (i32.const 0))

  (func (export "fd_fdstat_get") (param $fd i32) (param $buf i32) (result i32)
    (local $e i32)
    (i64.store (local.get $buf) (i64.const 0))
    (i64.store offset=16 (local.get $buf) (i64.const 0))
    (if (call $stdio (local.get $fd))
      (then
        (i32.store8 (local.get $buf) (i32.const 2)) ;; character device, flags 0
        ;; Rights: read on 0, write on 1 and 2.
        (i64.store offset=8 (local.get $buf)
          (select (i64.const 2) (i64.const 64) (i32.eqz (local.get $fd))))
        (return (i32.const 0))))
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 8))))
    (i32.store8 (local.get $buf) (i32.load8_u offset=5 (local.get $e)))
    (i32.store16 offset=2 (local.get $buf) (i32.load8_u offset=6 (local.get $e))) ;; append
    ;; Every right: the host decides what each call may do.
    (i64.store offset=8 (local.get $buf) (i64.const 0x1fffffff))
    (i64.store offset=16 (local.get $buf) (i64.const 0x1fffffff))
    (i32.const 0))

  ;; $filestat writes the preview1 filestat (64 bytes) at $buf from the
  ;; result<descriptor-stat, error-code> at SCRATCH (the stat @8: type u8 @8,
  ;; link count @16, size @24, and option<datetime> access @32, modification
  ;; @56, status change @80).
  (func $filestat (param $buf i32) (result i32)
    (if (call $failed) (then (return (call $errno (i32.const 8)))))
    (memory.fill (local.get $buf) (i32.const 0) (i32.const 64))
    (i32.store8 offset=16 (local.get $buf) (call $filetype (i32.load8_u offset=8 (global.get $SCRATCH))))
    (i64.store offset=24 (local.get $buf) (i64.load offset=16 (global.get $SCRATCH)))
    (i64.store offset=32 (local.get $buf) (i64.load offset=24 (global.get $SCRATCH)))
    (i64.store offset=40 (local.get $buf) (call $timestamp (i32.const 32)))
    (i64.store offset=48 (local.get $buf) (call $timestamp (i32.const 56)))
    (i64.store offset=56 (local.get $buf) (call $timestamp (i32.const 80)))
    (i32.const 0))

  ;; $timestamp converts the option<datetime> at SCRATCH+off to ns (0: none).
  (func $timestamp (param $off i32) (result i64)
    (local $a i32)
    (local.set $a (i32.add (global.get $SCRATCH) (local.get $off)))
    (if (i32.eqz (i32.load8_u (local.get $a))) (then (return (i64.const 0))))
    (i64.add (i64.mul (i64.load offset=8 (local.get $a)) (i64.const 1000000000))
      (i64.extend_i32_u (i32.load offset=16 (local.get $a)))))

  (func (export "fd_filestat_get") (param $fd i32) (param $buf i32) (result i32)
    (local $e i32)
    (if (call $stdio (local.get $fd))
      (then
        (memory.fill (local.get $buf) (i32.const 0) (i32.const 64))
        (i32.store8 offset=16 (local.get $buf) (i32.const 2)) ;; character device
        (return (i32.const 0))))
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 8))))
    (call $stat (i32.load (local.get $e)) (global.get $SCRATCH))
    (call $filestat (local.get $buf)))

  (func (export "path_filestat_get") (param $fd i32) (param $flags i32) (param $path i32) (param $len i32) (param $buf i32) (result i32)
    (local $d i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $d (call $dir (local.get $fd)))
    (if (i32.eqz (local.get $d)) (then (return (call $fd_errno (local.get $fd) (i32.const 1)))))
    (call $stat_at (i32.load (local.get $d)) (i32.and (local.get $flags) (i32.const 1)) (local.get $path) (local.get $len) (global.get $SCRATCH))
    (call $filestat (local.get $buf)))

  ;; fd_readdir writes dirents (d_next u64, d_ino u64, d_namlen u32, d_type u8,
  ;; 24 bytes, then the name) from the entry numbered cookie on. The entry's
  ;; directory-entry stream continues where the last call ended; another
  ;; cookie reopens it and skips entries up to the cookie.
  (func (export "fd_readdir") (param $fd i32) (param $buf i32) (param $len i32) (param $cookie i64) (param $used i32) (result i32)
    (local $e i32) (local $s i32) (local $n i32) (local $name i32) (local $nlen i32) (local $room i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $dir (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 1)))))
    (local.set $s (i32.load offset=16 (local.get $e)))
    (if (i32.or (i32.eqz (local.get $s)) (i64.ne (local.get $cookie) (i64.load offset=8 (local.get $e))))
      (then
        (if (local.get $s) (then (call $drop_stream (local.get $s))))
        (i32.store offset=16 (local.get $e) (i32.const 0))
        (call $read_directory (i32.load (local.get $e)) (global.get $SCRATCH))
        (if (call $failed) (then (return (call $errno (i32.const 4)))))
        (local.set $s (i32.load offset=4 (global.get $SCRATCH)))
        (i32.store offset=16 (local.get $e) (local.get $s))
        (i64.store offset=8 (local.get $e) (i64.const 0))
        ;; Skip to the cookie.
        (block $skipped
          (loop $skip
            (br_if $skipped (i64.ge_u (i64.load offset=8 (local.get $e)) (local.get $cookie)))
            (global.set $bump (global.get $arena_mark))
            (call $read_directory_entry (local.get $s) (global.get $SCRATCH))
            (if (call $failed) (then (return (call $errno (i32.const 4)))))
            (br_if $skipped (i32.eqz (i32.load8_u offset=4 (global.get $SCRATCH)))) ;; the end
            (i64.store offset=8 (local.get $e) (i64.add (i64.load offset=8 (local.get $e)) (i64.const 1)))
            (br $skip)))))
    (block $full
      (loop $entries
        (br_if $full (i32.ge_u (local.get $n) (local.get $len)))
        (global.set $bump (global.get $arena_mark))
        (call $read_directory_entry (local.get $s) (global.get $SCRATCH))
        (if (call $failed)
          (then
            (if (local.get $n) (then (br $full)))
            (return (call $errno (i32.const 4)))))
        (br_if $full (i32.eqz (i32.load8_u offset=4 (global.get $SCRATCH)))) ;; the end
        ;; directory-entry: type u8 @8, name @12, @16
        (local.set $name (i32.load offset=12 (global.get $SCRATCH)))
        (local.set $nlen (i32.load offset=16 (global.get $SCRATCH)))
        (i64.store offset=8 (local.get $e) (i64.add (i64.load offset=8 (local.get $e)) (i64.const 1)))
        ;; The dirent in the scratch area's tail, then as much of it as fits.
        (i64.store offset=32 (global.get $SCRATCH) (i64.load offset=8 (local.get $e)))
        (i64.store offset=40 (global.get $SCRATCH) (i64.const 0))
        (i32.store offset=48 (global.get $SCRATCH) (local.get $nlen))
        (i32.store offset=52 (global.get $SCRATCH) (call $filetype (i32.load8_u offset=8 (global.get $SCRATCH))))
        (local.set $room (i32.sub (local.get $len) (local.get $n)))
        (memory.copy (i32.add (local.get $buf) (local.get $n)) (i32.add (global.get $SCRATCH) (i32.const 32))
          (select (local.get $room) (i32.const 24) (i32.lt_u (local.get $room) (i32.const 24))))
        (if (i32.gt_u (local.get $room) (i32.const 24))
          (then
            (local.set $room (i32.sub (local.get $room) (i32.const 24)))
            (memory.copy (i32.add (local.get $buf) (i32.add (local.get $n) (i32.const 24))) (local.get $name)
              (select (local.get $room) (local.get $nlen) (i32.lt_u (local.get $room) (local.get $nlen))))))
        (local.set $n (i32.add (local.get $n) (i32.add (i32.const 24) (local.get $nlen))))
        (br $entries)))
    (i32.store (local.get $used) (select (local.get $len) (local.get $n) (i32.gt_u (local.get $n) (local.get $len))))
    (i32.const 0))

  ;; $at runs a path operation (create-directory-at, remove-directory-at,
  ;; unlink-file-at: $op 0, 1, 2) on directory fd.
  (func $at (param $op i32) (param $fd i32) (param $path i32) (param $len i32) (result i32)
    (local $d i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $d (call $dir (local.get $fd)))
    (if (i32.eqz (local.get $d)) (then (return (call $fd_errno (local.get $fd) (i32.const 1)))))
    (if (i32.eqz (local.get $op))
      (then (call $create_directory_at (i32.load (local.get $d)) (local.get $path) (local.get $len) (global.get $SCRATCH))))
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (call $remove_directory_at (i32.load (local.get $d)) (local.get $path) (local.get $len) (global.get $SCRATCH))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (call $unlink_file_at (i32.load (local.get $d)) (local.get $path) (local.get $len) (global.get $SCRATCH))))
    (if (call $failed) (then (return (call $errno (i32.const 1)))))
    (i32.const 0))

  (func (export "path_create_directory") (param $fd i32) (param $path i32) (param $len i32) (result i32)
    (call $at (i32.const 0) (local.get $fd) (local.get $path) (local.get $len)))
  (func (export "path_remove_directory") (param $fd i32) (param $path i32) (param $len i32) (result i32)
    (call $at (i32.const 1) (local.get $fd) (local.get $path) (local.get $len)))
  (func (export "path_unlink_file") (param $fd i32) (param $path i32) (param $len i32) (result i32)
    (call $at (i32.const 2) (local.get $fd) (local.get $path) (local.get $len)))

  (func (export "path_rename") (param $fd i32) (param $old i32) (param $oldlen i32) (param $newfd i32) (param $new i32) (param $newlen i32) (result i32)
    (local $d i32) (local $nd i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $d (call $dir (local.get $fd)))
    (if (i32.eqz (local.get $d)) (then (return (call $fd_errno (local.get $fd) (i32.const 1)))))
    (local.set $nd (call $dir (local.get $newfd)))
    (if (i32.eqz (local.get $nd)) (then (return (call $fd_errno (local.get $newfd) (i32.const 1)))))
    (call $rename_at (i32.load (local.get $d)) (local.get $old) (local.get $oldlen)
      (i32.load (local.get $nd)) (local.get $new) (local.get $newlen) (global.get $SCRATCH))
    (if (call $failed) (then (return (call $errno (i32.const 1)))))
    (i32.const 0))

  (func (export "fd_filestat_set_size") (param $fd i32) (param $size i64) (result i32)
    (local $e i32)
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $file (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (call $fd_errno (local.get $fd) (i32.const 0)))))
    (call $set_size (i32.load (local.get $e)) (local.get $size) (global.get $SCRATCH))
    (if (call $failed) (then (return (call $errno (i32.const 1)))))
    (i32.const 0))

  ;; Syncing: a no-op on stdio; on files and directories the host's sync.
  (func $sync_fd (param $fd i32) (param $data i32) (result i32)
    (local $e i32)
    (if (call $stdio (local.get $fd)) (then (return (i32.const 0))))
    (if (call $busy) (then (return (i32.const 6))))
    (local.set $e (call $entry (local.get $fd)))
    (if (i32.eqz (local.get $e)) (then (return (i32.const 8))))
    (if (local.get $data)
      (then (call $sync_data (i32.load (local.get $e)) (global.get $SCRATCH)))
      (else (call $sync (i32.load (local.get $e)) (global.get $SCRATCH))))
    (if (call $failed) (then (return (call $errno (i32.const 1)))))
    (i32.const 0))
  (func (export "fd_sync") (param $fd i32) (result i32) (call $sync_fd (local.get $fd) (i32.const 0)))
  (func (export "fd_datasync") (param $fd i32) (result i32) (call $sync_fd (local.get $fd) (i32.const 1)))

  (func (export "fd_fdstat_set_flags") (param $fd i32) (param i32) (result i32)
    (select (i32.const 58) (i32.const 8) ;; notsup, or badf
      (i32.or (call $stdio (local.get $fd)) (i32.ne (call $entry (local.get $fd)) (i32.const 0)))))

  ;; Not supported: links, symbolic links, times, allocation, renumbering.
  (func (export "fd_advise") (param i32 i64 i64 i32) (result i32) (i32.const 0))
  (func (export "fd_allocate") (param i32 i64 i64) (result i32) (i32.const 58))
  (func (export "fd_fdstat_set_rights") (param i32 i64 i64) (result i32) (i32.const 0))
  (func (export "fd_filestat_set_times") (param i32 i64 i64 i32) (result i32) (i32.const 58))
  (func (export "fd_renumber") (param i32 i32) (result i32) (i32.const 58))
  (func (export "path_filestat_set_times") (param i32 i32 i32 i32 i64 i64 i32) (result i32) (i32.const 58))
  (func (export "path_link") (param i32 i32 i32 i32 i32 i32 i32) (result i32) (i32.const 58))
  (func (export "path_readlink") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 58))
  (func (export "path_symlink") (param i32 i32 i32 i32 i32) (result i32) (i32.const 58))
  (func (export "sock_accept") (param i32 i32 i32) (result i32) (i32.const 8))
  (func (export "sock_recv") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "sock_send") (param i32 i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "sock_shutdown") (param i32 i32) (result i32) (i32.const 8))
)
