;; watlogs: a small component of world driftless:plugin/log-plugin, written by
;; hand in WebAssembly text for the tests and benchmarks of package pipeline.
;; It runs without any toolchain (the tests compile it with wasmtime's WAT
;; parser) and costs next to nothing per entry, so a benchmark that uses its
;; filter measures what the host and the pipeline pay for a wasm stage.
;;
;; Log components (names, configs and semantics as in `components`):
;;   source seq        config {"count": N}: N entries "seq 1" .. "seq N", level
;;                     info, source "seq", timestamp 1700000000+N seconds.
;;   parser raw        message = the line, no level; empty lines -> none.
;;   filter min-level  config {"level": L}: keeps entries whose level is at
;;                     least L (trace < debug < info < warn < error; also
;;                     warning, err, fatal, critical; any case); entries
;;                     without a level or with an unknown one are kept. The
;;                     same rule as the JavaScript example's min-level and the
;;                     pipeline's built-in "level" filter.
;;   filter poison     keeps everything, except a message starting with FAIL
;;                     (the call returns error failed), TRAP (unreachable) or
;;                     SPIN (loops until fuel or the timeout stops it).
;;   filter flaky      keeps everything, but traps (unreachable) on every
;;                     tenth call of its instance: a fresh instance does the
;;                     call again.
;;   output message    one record per entry: its message.
;;
;; Memory: the canonical ABI's realloc is a bump allocator from 64 KiB that
;; every post-return resets (nothing a call allocates outlives it); results
;; are built at address 0; stage state lives in a table at 512, one 16-byte
;; slot per resource (rep = slot number): kind, parameter, position.
(component
  (import "driftless:plugin/types@0.1.0" (instance $types
    (type $ek' (enum "invalid-config" "invalid-input" "not-found" "unsupported" "failed"))
    (export "error-kind" (type $ek (eq $ek')))
    (type $pe' (record (field "kind" $ek) (field "message" string)))
    (export "plugin-error" (type (eq $pe')))))
  (alias export $types "plugin-error" (type $plugin-error))

  ;; The resource types: their core destructors are reached through a table
  ;; filled once the main module is instantiated (it needs resource.new).
  (core module $dtors
    (type $d (func (param i32)))
    (table (export "t") 4 4 funcref)
    (func (export "source") (param i32) (call_indirect (type $d) (local.get 0) (i32.const 0)))
    (func (export "parser") (param i32) (call_indirect (type $d) (local.get 0) (i32.const 1)))
    (func (export "filter") (param i32) (call_indirect (type $d) (local.get 0) (i32.const 2)))
    (func (export "output") (param i32) (call_indirect (type $d) (local.get 0) (i32.const 3))))
  (core instance $dtors (instantiate $dtors))
  (type $source (resource (rep i32) (dtor (func $dtors "source"))))
  (type $parser (resource (rep i32) (dtor (func $dtors "parser"))))
  (type $filter (resource (rep i32) (dtor (func $dtors "filter"))))
  (type $output (resource (rep i32) (dtor (func $dtors "output"))))
  (core func $source-new (canon resource.new $source))
  (core func $parser-new (canon resource.new $parser))
  (core func $filter-new (canon resource.new $filter))
  (core func $output-new (canon resource.new $output))

  (core module $main
    (import "res" "source-new" (func $source-new (param i32) (result i32)))
    (import "res" "parser-new" (func $parser-new (param i32) (result i32)))
    (import "res" "filter-new" (func $filter-new (param i32) (result i32)))
    (import "res" "output-new" (func $output-new (param i32) (result i32)))
    (import "dtors" "t" (table $dtors 4 4 funcref))
    (memory (export "memory") 2)
    (global $heap (mut i32) (i32.const 65536))
    (global $next-rep (mut i32) (i32.const 1))
    (global $flaky-calls (mut i32) (i32.const 0))

    ;; Canonical ABI realloc: a bump allocator that grows memory as needed.
    (func $alloc (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32) (local $end i32) (local $have i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (local.set $end (i32.add (local.get $p) (local.get 3)))
      (local.set $have (i32.shl (memory.size) (i32.const 16)))
      (if (i32.gt_u (local.get $end) (local.get $have))
        (then (if (i32.lt_s (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have))
                                                              (i32.const 65535)) (i32.const 16)))
                            (i32.const 0))
          (then unreachable))))
      (global.set $heap (local.get $end))
      (local.get $p))
    (func $new (param $size i32) (param $align i32) (result i32)
      (call $alloc (i32.const 0) (i32.const 0) (local.get $align) (local.get $size)))
    ;; Every post-return: what the call allocated is no longer needed.
    (func (export "reset") (param i32) (global.set $heap (i32.const 65536)))
    ;; Resource destructors free nothing: a slot is not reused.
    (func $dtor (param i32))
    (elem (table $dtors) (i32.const 0) func $dtor $dtor $dtor $dtor)

    ;; --- helpers ----------------------------------------------------------
    ;; Whether bytes [a, a+n) equal [b, b+n).
    (func $same (param $a i32) (param $b i32) (param $n i32) (result i32)
      (block $no
        (loop $l
          (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
          (br_if $no (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
          (local.set $a (i32.add (local.get $a) (i32.const 1)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
      (i32.const 0))
    ;; Whether string (p, n) is (q, m).
    (func $is (param $p i32) (param $n i32) (param $q i32) (param $m i32) (result i32)
      (if (i32.ne (local.get $n) (local.get $m)) (then (return (i32.const 0))))
      (call $same (local.get $p) (local.get $q) (local.get $n)))
    ;; Offset of (q, m) in (p, n), or -1.
    (func $find (param $p i32) (param $n i32) (param $q i32) (param $m i32) (result i32)
      (local $i i32)
      (block $none
        (loop $l
          (br_if $none (i32.gt_s (i32.add (local.get $i) (local.get $m)) (local.get $n)))
          (if (call $same (i32.add (local.get $p) (local.get $i)) (local.get $q) (local.get $m))
            (then (return (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (i32.const -1))
    ;; The rank of level name (p, n), any case: trace 0 .. error 4, or -1.
    (func $rank (param $p i32) (param $n i32) (result i32)
      (local $t i32) (local $i i32) (local $ok i32)
      (local.set $t (i32.const 1536))
      (block $done
        (loop $entries
          (br_if $done (i32.ge_u (local.get $t) (i32.const 1644)))
          (if (i32.eq (local.get $n) (i32.load offset=4 (local.get $t)))
            (then
              ;; Compare folding ASCII upper case: b|0x20 equals a lower-case
              ;; letter only when b is that letter in either case.
              (local.set $i (i32.const 0))
              (local.set $ok (i32.const 1))
              (block $cmp
                (loop $c
                  (br_if $cmp (i32.ge_u (local.get $i) (local.get $n)))
                  (if (i32.ne (i32.or (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 0x20))
                              (i32.load8_u (i32.add (i32.load (local.get $t)) (local.get $i))))
                    (then (local.set $ok (i32.const 0)) (br $cmp)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $c)))
              (if (local.get $ok) (then (return (i32.load offset=8 (local.get $t)))))))
          (local.set $t (i32.add (local.get $t) (i32.const 12)))
          (br $entries)))
      (i32.const -1))
    ;; The string value of JSON key (k, kn) in (p, n): writes its start at
    ;; 16 and returns its length, or -1. The host validated the config
    ;; against the component's schema, so a plain scan is enough.
    (func $json-string (param $p i32) (param $n i32) (param $k i32) (param $kn i32) (result i32)
      (local $i i32) (local $s i32)
      (local.set $i (call $find (local.get $p) (local.get $n) (local.get $k) (local.get $kn)))
      (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $i (i32.add (local.get $i) (local.get $kn)))
      ;; to the opening quote of the value
      (block $found
        (loop $l
          (if (i32.ge_s (local.get $i) (local.get $n)) (then (return (i32.const -1))))
          (br_if $found (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 0x22)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (local.set $s (i32.add (local.get $i) (i32.const 1)))
      (local.set $i (local.get $s))
      (block $end
        (loop $l
          (if (i32.ge_s (local.get $i) (local.get $n)) (then (return (i32.const -1))))
          (br_if $end (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 0x22)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (i32.store (i32.const 16) (i32.add (local.get $p) (local.get $s)))
      (i32.sub (local.get $i) (local.get $s)))
    ;; The unsigned integer value of JSON key (k, kn) in (p, n), or 0.
    (func $json-uint (param $p i32) (param $n i32) (param $k i32) (param $kn i32) (result i32)
      (local $i i32) (local $v i32) (local $c i32)
      (local.set $i (call $find (local.get $p) (local.get $n) (local.get $k) (local.get $kn)))
      (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (local.get $kn)))
      (block $end
        (loop $l
          (br_if $end (i32.ge_s (local.get $i) (local.get $n)))
          (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 0x30)) (i32.le_u (local.get $c) (i32.const 0x39)))
            (then (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (i32.sub (local.get $c) (i32.const 0x30)))))
            (else (br_if $end (i32.gt_u (local.get $v) (i32.const 0)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (local.get $v))
    ;; Writes the decimal digits of v at p; returns how many.
    (func $itoa (param $p i32) (param $v i32) (result i32)
      (local $n i32) (local $t i32) (local $i i32)
      (local.set $t (local.get $v))
      (loop $count
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
        (br_if $count (local.get $t)))
      (local.set $i (local.get $n))
      (loop $digits
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (i32.store8 (i32.add (local.get $p) (local.get $i))
          (i32.add (i32.const 0x30) (i32.rem_u (local.get $v) (i32.const 10))))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $digits (local.get $i)))
      (local.get $n))
    ;; err(plugin-error{kind, message}) at 0.
    (func $err (param $kind i32) (param $msg i32) (param $len i32) (result i32)
      (i32.store8 (i32.const 0) (i32.const 1))
      (i32.store8 (i32.const 4) (local.get $kind))
      (i32.store (i32.const 8) (local.get $msg))
      (i32.store (i32.const 12) (local.get $len))
      (i32.const 0))
    ;; ok(payload) at 0, for a handle or a list (ptr, len).
    (func $ok (param $a i32) (param $b i32) (result i32)
      (i32.store8 (i32.const 0) (i32.const 0))
      (i32.store (i32.const 4) (local.get $a))
      (i32.store (i32.const 8) (local.get $b))
      (i32.const 0))
    ;; A new state slot (kind, param); returns its rep, or 0 when full.
    (func $slot (param $kind i32) (param $param i32) (result i32)
      (local $r i32)
      (local.set $r (global.get $next-rep))
      (if (i32.ge_u (local.get $r) (i32.const 64)) (then (return (i32.const 0))))
      (global.set $next-rep (i32.add (local.get $r) (i32.const 1)))
      (i32.store (i32.add (i32.const 512) (i32.shl (local.get $r) (i32.const 4))) (local.get $kind))
      (i32.store offset=4 (i32.add (i32.const 512) (i32.shl (local.get $r) (i32.const 4))) (local.get $param))
      (i32.store offset=8 (i32.add (i32.const 512) (i32.shl (local.get $r) (i32.const 4))) (i32.const 0))
      (local.get $r))
    (func $kind (param $rep i32) (result i32)
      (i32.load (i32.add (i32.const 512) (i32.shl (local.get $rep) (i32.const 4)))))
    (func $param (param $rep i32) (result i32)
      (i32.load offset=4 (i32.add (i32.const 512) (i32.shl (local.get $rep) (i32.const 4)))))

    ;; --- constant data ----------------------------------------------------
    ;; Strings (address, length in the comment).
    (data (i32.const 4096) "watlogs") ;; $name 4096 7
    (data (i32.const 4104) "0.1.0") ;; $version 4104 5
    (data (i32.const 4112) "Log components in hand-written WebAssembly text: a source, a parser, two filters and an output, for the pipeline tests and benchmarks.") ;; $desc 4112 134
    (data (i32.const 4248) "seq") ;; $seq 4248 3
    (data (i32.const 4256) "raw") ;; $raw 4256 3
    (data (i32.const 4264) "min-level") ;; $minlevel 4264 9
    (data (i32.const 4280) "poison") ;; $poison 4280 6
    (data (i32.const 4288) "message") ;; $message 4288 7
    (data (i32.const 4296) "Produces config.count entries: level info, message \22seq N\22 (N from 1), source \22seq\22, timestamp N seconds after 2023-11-14T22:13:20Z.") ;; $d_seq 4296 132
    (data (i32.const 4432) "One entry per line: message = the line, no level; empty lines are dropped.") ;; $d_raw 4432 74
    (data (i32.const 4512) "Keeps entries whose level is at least config.level; entries without a level (or with one it does not know) are kept.") ;; $d_minlevel 4512 116
    (data (i32.const 4632) "Keeps every entry, except: a message starting with FAIL fails the call, TRAP traps, SPIN loops forever.") ;; $d_poison 4632 103
    (data (i32.const 4736) "Renders each entry as its message.") ;; $d_message 4736 34
    (data (i32.const 4776) "{\22type\22:\22object\22,\22properties\22:{\22count\22:{\22type\22:\22integer\22,\22minimum\22:0}},\22additionalProperties\22:false}") ;; $s_seq 4776 100
    (data (i32.const 4880) "{\22type\22:\22object\22,\22additionalProperties\22:false}") ;; $s_empty 4880 46
    (data (i32.const 4928) "{\22type\22:\22object\22,\22properties\22:{\22level\22:{\22enum\22:[\22trace\22,\22debug\22,\22info\22,\22warn\22,\22error\22]}},\22required\22:[\22level\22],\22additionalProperties\22:false}") ;; $s_minlevel 4928 139
    (data (i32.const 5072) "\22level\22") ;; $k_level 5072 7
    (data (i32.const 5080) "\22count\22") ;; $k_count 5080 7
    (data (i32.const 5088) "trace") ;; $l_trace 5088 5
    (data (i32.const 5096) "debug") ;; $l_debug 5096 5
    (data (i32.const 5104) "info") ;; $l_info 5104 4
    (data (i32.const 5112) "warn") ;; $l_warn 5112 4
    (data (i32.const 5120) "error") ;; $l_error 5120 5
    (data (i32.const 5128) "warning") ;; $l_warning 5128 7
    (data (i32.const 5136) "err") ;; $l_err 5136 3
    (data (i32.const 5144) "fatal") ;; $l_fatal 5144 5
    (data (i32.const 5152) "critical") ;; $l_critical 5152 8
    (data (i32.const 5160) "watlogs has no log source of that name (it has: seq)") ;; $e_nosource 5160 52
    (data (i32.const 5216) "watlogs has no log parser of that name (it has: raw)") ;; $e_noparser 5216 52
    (data (i32.const 5344) "watlogs has no log output of that name (it has: message)") ;; $e_nooutput 5344 56
    (data (i32.const 5400) "min-level: config.level must be one of trace, debug, info, warn, error") ;; $e_level 5400 70
    (data (i32.const 5472) "poisoned entry (message starts with FAIL)") ;; $e_poison 5472 41
    (data (i32.const 5520) "too many open stages in one instance") ;; $e_full 5520 36
    (data (i32.const 5560) "flaky") ;; $flaky 5560 5
    (data (i32.const 5568) "Keeps every entry, but traps on every tenth call of its instance.") ;; $d_flaky 5568 65
    (data (i32.const 5640) "watlogs has no log filter of that name (it has: min-level, poison, flaky)") ;; $e_nofilter 5640 73
    ;; plugin-info at 64; the component-definition list (128, 6) at 96; the
    ;; level table (name, length, rank) at 1536.
    (func $def (param $at i32) (param $name i32) (param $nl i32) (param $kind i32)
        (param $d i32) (param $dl i32) (param $s i32) (param $sl i32)
      (i32.store (local.get $at) (local.get $name))
      (i32.store offset=4 (local.get $at) (local.get $nl))
      (i32.store8 offset=8 (local.get $at) (local.get $kind))
      (i32.store offset=12 (local.get $at) (local.get $d))
      (i32.store offset=16 (local.get $at) (local.get $dl))
      (i32.store offset=20 (local.get $at) (local.get $s))
      (i32.store offset=24 (local.get $at) (local.get $sl)))
    (func $level (param $at i32) (param $name i32) (param $nl i32) (param $rank i32)
      (i32.store (local.get $at) (local.get $name))
      (i32.store offset=4 (local.get $at) (local.get $nl))
      (i32.store offset=8 (local.get $at) (local.get $rank)))
    (func $init
      (i32.store (i32.const 64) (i32.const 4096)) (i32.store (i32.const 68) (i32.const 7))
      (i32.store (i32.const 72) (i32.const 4104)) (i32.store (i32.const 76) (i32.const 5))
      (i32.store (i32.const 80) (i32.const 4112)) (i32.store (i32.const 84) (i32.const 134))
      (i32.store (i32.const 96) (i32.const 128)) (i32.store (i32.const 100) (i32.const 6))
      ;; kinds: source 0, parser 1, filter 2, output 3
      (call $def (i32.const 128) (i32.const 4248) (i32.const 3) (i32.const 0) (i32.const 4296) (i32.const 132) (i32.const 4776) (i32.const 100))
      (call $def (i32.const 156) (i32.const 4256) (i32.const 3) (i32.const 1) (i32.const 4432) (i32.const 74) (i32.const 4880) (i32.const 46))
      (call $def (i32.const 184) (i32.const 4264) (i32.const 9) (i32.const 2) (i32.const 4512) (i32.const 116) (i32.const 4928) (i32.const 139))
      (call $def (i32.const 212) (i32.const 4280) (i32.const 6) (i32.const 2) (i32.const 4632) (i32.const 103) (i32.const 4880) (i32.const 46))
      (call $def (i32.const 240) (i32.const 4288) (i32.const 7) (i32.const 3) (i32.const 4736) (i32.const 34) (i32.const 4880) (i32.const 46))
      (call $def (i32.const 268) (i32.const 5560) (i32.const 5) (i32.const 2) (i32.const 5568) (i32.const 65) (i32.const 4880) (i32.const 46))
      (call $level (i32.const 1536) (i32.const 5088) (i32.const 5) (i32.const 0))
      (call $level (i32.const 1548) (i32.const 5096) (i32.const 5) (i32.const 1))
      (call $level (i32.const 1560) (i32.const 5104) (i32.const 4) (i32.const 2))
      (call $level (i32.const 1572) (i32.const 5112) (i32.const 4) (i32.const 3))
      (call $level (i32.const 1584) (i32.const 5120) (i32.const 5) (i32.const 4))
      (call $level (i32.const 1596) (i32.const 5128) (i32.const 7) (i32.const 3))
      (call $level (i32.const 1608) (i32.const 5136) (i32.const 3) (i32.const 4))
      (call $level (i32.const 1620) (i32.const 5144) (i32.const 5) (i32.const 4))
      (call $level (i32.const 1632) (i32.const 5152) (i32.const 8) (i32.const 4)))
    (start $init)

    ;; --- metadata and logs --------------------------------------------------
    (func (export "describe") (result i32) (i32.const 64))
    (func (export "components") (result i32) (i32.const 96))

    (func (export "open-source") (param $n i32) (param $nl i32) (param $c i32) (param $cl i32) (result i32)
      (local $r i32)
      (if (i32.eqz (call $is (local.get $n) (local.get $nl) (i32.const 4248) (i32.const 3)))
        (then (return (call $err (i32.const 2) (i32.const 5160) (i32.const 52)))))
      (local.set $r (call $slot (i32.const 1)
        (call $json-uint (local.get $c) (local.get $cl) (i32.const 5080) (i32.const 7))))
      (if (i32.eqz (local.get $r)) (then (return (call $err (i32.const 4) (i32.const 5520) (i32.const 36)))))
      (call $ok (call $source-new (local.get $r)) (i32.const 0)))

    (func (export "open-parser") (param $n i32) (param $nl i32) (param $c i32) (param $cl i32) (result i32)
      (local $r i32)
      (if (i32.eqz (call $is (local.get $n) (local.get $nl) (i32.const 4256) (i32.const 3)))
        (then (return (call $err (i32.const 2) (i32.const 5216) (i32.const 52)))))
      (local.set $r (call $slot (i32.const 2) (i32.const 0)))
      (if (i32.eqz (local.get $r)) (then (return (call $err (i32.const 4) (i32.const 5520) (i32.const 36)))))
      (call $ok (call $parser-new (local.get $r)) (i32.const 0)))

    (func (export "open-filter") (param $n i32) (param $nl i32) (param $c i32) (param $cl i32) (result i32)
      (local $r i32) (local $len i32) (local $rank i32)
      (if (call $is (local.get $n) (local.get $nl) (i32.const 4264) (i32.const 9))
        (then
          (local.set $len (call $json-string (local.get $c) (local.get $cl) (i32.const 5072) (i32.const 7)))
          (local.set $rank (i32.const -1))
          (if (i32.ge_s (local.get $len) (i32.const 0))
            (then (local.set $rank (call $rank (i32.load (i32.const 16)) (local.get $len)))))
          (if (i32.lt_s (local.get $rank) (i32.const 0))
            (then (return (call $err (i32.const 0) (i32.const 5400) (i32.const 70)))))
          (local.set $r (call $slot (i32.const 3) (local.get $rank))))
        (else
          (if (call $is (local.get $n) (local.get $nl) (i32.const 5560) (i32.const 5))
            (then (local.set $r (call $slot (i32.const 6) (i32.const 0))))
            (else
              (if (i32.eqz (call $is (local.get $n) (local.get $nl) (i32.const 4280) (i32.const 6)))
                (then (return (call $err (i32.const 2) (i32.const 5640) (i32.const 73)))))
              (local.set $r (call $slot (i32.const 4) (i32.const 0)))))))
      (if (i32.eqz (local.get $r)) (then (return (call $err (i32.const 4) (i32.const 5520) (i32.const 36)))))
      (call $ok (call $filter-new (local.get $r)) (i32.const 0)))

    (func (export "open-output") (param $n i32) (param $nl i32) (param $c i32) (param $cl i32) (result i32)
      (local $r i32)
      (if (i32.eqz (call $is (local.get $n) (local.get $nl) (i32.const 4288) (i32.const 7)))
        (then (return (call $err (i32.const 2) (i32.const 5344) (i32.const 56)))))
      (local.set $r (call $slot (i32.const 5) (i32.const 0)))
      (if (i32.eqz (local.get $r)) (then (return (call $err (i32.const 4) (i32.const 5520) (i32.const 36)))))
      (call $ok (call $output-new (local.get $r)) (i32.const 0)))

    ;; source.next: up to max of the remaining entries. A log-entry is 48
    ;; bytes: timestamp u64 @0, level option<string> @8 (case), @12, @16,
    ;; message @20 @24, source @28 @32, fields list @36 @40.
    (func (export "source-next") (param $rep i32) (param $max i32) (result i32)
      (local $st i32) (local $left i32) (local $n i32) (local $list i32) (local $e i32)
      (local $i i32) (local $k i32) (local $msg i32)
      (local.set $st (i32.add (i32.const 512) (i32.shl (local.get $rep) (i32.const 4))))
      (local.set $left (i32.sub (i32.load offset=4 (local.get $st)) (i32.load offset=8 (local.get $st))))
      (local.set $n (select (local.get $max) (local.get $left) (i32.lt_u (local.get $max) (local.get $left))))
      (local.set $list (call $new (i32.mul (local.get $n) (i32.const 48)) (i32.const 8)))
      (block $done
        (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $e (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 48))))
          (local.set $k (i32.add (i32.add (i32.load offset=8 (local.get $st)) (local.get $i)) (i32.const 1)))
          (i64.store (local.get $e)
            (i64.mul (i64.add (i64.const 1700000000) (i64.extend_i32_u (local.get $k))) (i64.const 1000000000)))
          (i32.store8 offset=8 (local.get $e) (i32.const 1))
          (i32.store offset=12 (local.get $e) (i32.const 5104))
          (i32.store offset=16 (local.get $e) (i32.const 4))
          ;; "seq " then the digits of k
          (local.set $msg (call $new (i32.const 16) (i32.const 1)))
          (i32.store (local.get $msg) (i32.const 0x20716573))
          (i32.store offset=20 (local.get $e) (local.get $msg))
          (i32.store offset=24 (local.get $e)
            (i32.add (i32.const 4) (call $itoa (i32.add (local.get $msg) (i32.const 4)) (local.get $k))))
          (i32.store offset=28 (local.get $e) (i32.const 4248))
          (i32.store offset=32 (local.get $e) (i32.const 3))
          (i32.store offset=36 (local.get $e) (i32.const 8))
          (i32.store offset=40 (local.get $e) (i32.const 0))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (i32.store offset=8 (local.get $st) (i32.add (i32.load offset=8 (local.get $st)) (local.get $n)))
      (call $ok (local.get $list) (local.get $n)))

    ;; parser.parse: an option<log-entry> is 56 bytes, the entry at +8.
    (func (export "parser-parse") (param $rep i32) (param $lines i32) (param $n i32) (result i32)
      (local $out i32) (local $o i32) (local $i i32) (local $len i32)
      (local.set $out (call $new (i32.mul (local.get $n) (i32.const 56)) (i32.const 8)))
      (block $done
        (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $o (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 56))))
          (local.set $len (i32.load offset=4 (i32.add (local.get $lines) (i32.shl (local.get $i) (i32.const 3)))))
          (if (i32.eqz (local.get $len))
            (then (i32.store8 (local.get $o) (i32.const 0)))
            (else
              (i32.store8 (local.get $o) (i32.const 1))
              (i64.store offset=8 (local.get $o) (i64.const 0))
              (i32.store8 offset=16 (local.get $o) (i32.const 0))
              (i32.store offset=28 (local.get $o)
                (i32.load (i32.add (local.get $lines) (i32.shl (local.get $i) (i32.const 3)))))
              (i32.store offset=32 (local.get $o) (local.get $len))
              (i32.store offset=36 (local.get $o) (i32.const 0))
              (i32.store offset=40 (local.get $o) (i32.const 0))
              (i32.store offset=44 (local.get $o) (i32.const 8))
              (i32.store offset=48 (local.get $o) (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (call $ok (local.get $out) (local.get $n)))

    ;; filter.keep: one bool (a byte) per entry.
    (func (export "filter-keep") (param $rep i32) (param $es i32) (param $n i32) (result i32)
      (local $out i32) (local $e i32) (local $i i32) (local $min i32) (local $r i32) (local $head i32)
      (local.set $out (call $new (local.get $n) (i32.const 1)))
      (if (i32.eq (call $kind (local.get $rep)) (i32.const 6))
        (then
          ;; flaky
          (global.set $flaky-calls (i32.add (global.get $flaky-calls) (i32.const 1)))
          (if (i32.eqz (i32.rem_u (global.get $flaky-calls) (i32.const 10))) (then unreachable))
          (memory.fill (local.get $out) (i32.const 1) (local.get $n))
          (return (call $ok (local.get $out) (local.get $n)))))
      (if (i32.eq (call $kind (local.get $rep)) (i32.const 3))
        (then
          (local.set $min (call $param (local.get $rep)))
          (block $done
            (loop $l
              (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
              (local.set $e (i32.add (local.get $es) (i32.mul (local.get $i) (i32.const 48))))
              (local.set $r (i32.const -1))
              (if (i32.load8_u offset=8 (local.get $e))
                (then (local.set $r (call $rank (i32.load offset=12 (local.get $e)) (i32.load offset=16 (local.get $e))))))
              (i32.store8 (i32.add (local.get $out) (local.get $i))
                (i32.or (i32.lt_s (local.get $r) (i32.const 0)) (i32.ge_s (local.get $r) (local.get $min))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l))))
        (else
          ;; poison
          (block $done
            (loop $l
              (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
              (local.set $e (i32.add (local.get $es) (i32.mul (local.get $i) (i32.const 48))))
              (if (i32.ge_u (i32.load offset=24 (local.get $e)) (i32.const 4))
                (then
                  (local.set $head (i32.load (i32.load offset=20 (local.get $e))))
                  (if (i32.eq (local.get $head) (i32.const 0x4c494146)) ;; "FAIL"
                    (then (return (call $err (i32.const 4) (i32.const 5472) (i32.const 41)))))
                  (if (i32.eq (local.get $head) (i32.const 0x50415254)) ;; "TRAP"
                    (then unreachable))
                  (if (i32.eq (local.get $head) (i32.const 0x4e495053)) ;; "SPIN"
                    (then (loop $forever (br $forever))))))
              (i32.store8 (i32.add (local.get $out) (local.get $i)) (i32.const 1))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l)))))
      (call $ok (local.get $out) (local.get $n)))

    ;; output.write: each entry's message, as a list<string> of (ptr, len).
    (func (export "output-write") (param $rep i32) (param $es i32) (param $n i32) (result i32)
      (local $out i32) (local $e i32) (local $i i32)
      (local.set $out (call $new (i32.shl (local.get $n) (i32.const 3)) (i32.const 4)))
      (block $done
        (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $e (i32.add (local.get $es) (i32.mul (local.get $i) (i32.const 48))))
          (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (i32.load offset=20 (local.get $e)))
          (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (i32.load offset=24 (local.get $e)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
      (call $ok (local.get $out) (local.get $n))))

  (core instance $main (instantiate $main
    (with "res" (instance
      (export "source-new" (func $source-new))
      (export "parser-new" (func $parser-new))
      (export "filter-new" (func $filter-new))
      (export "output-new" (func $output-new))))
    (with "dtors" (instance (export "t" (table $dtors "t"))))))

  ;; --- the exports ------------------------------------------------------------
  (type $plugin-info (record (field "name" string) (field "version" string) (field "description" string)))
  (func $describe (result $plugin-info)
    (canon lift (core func $main "describe") (memory $main "memory")))
  (instance $metadata
    (export "plugin-info" (type $plugin-info))
    (export "describe" (func $describe)))
  (export "driftless:plugin/metadata@0.1.0" (instance $metadata))

  (type $component-kind (enum "source" "parser" "filter" "output"))
  (type $component-definition (record (field "name" string) (field "kind" $component-kind)
    (field "description" string) (field "config-schema" string)))
  (type $log-entry (record (field "timestamp" u64) (field "level" (option string)) (field "message" string)
    (field "source" string) (field "fields" (list (tuple string string)))))
  (func $components (result (list $component-definition))
    (canon lift (core func $main "components") (memory $main "memory")))
  (func $open-source (param "name" string) (param "config" string) (result (result (own $source) (error $plugin-error)))
    (canon lift (core func $main "open-source") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  (func $open-parser (param "name" string) (param "config" string) (result (result (own $parser) (error $plugin-error)))
    (canon lift (core func $main "open-parser") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  (func $open-filter (param "name" string) (param "config" string) (result (result (own $filter) (error $plugin-error)))
    (canon lift (core func $main "open-filter") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  (func $open-output (param "name" string) (param "config" string) (result (result (own $output) (error $plugin-error)))
    (canon lift (core func $main "open-output") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  (func $source-next (param "self" (borrow $source)) (param "max" u32)
      (result (result (list $log-entry) (error $plugin-error)))
    (canon lift (core func $main "source-next") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  (func $parser-parse (param "self" (borrow $parser)) (param "lines" (list string))
      (result (result (list (option $log-entry)) (error $plugin-error)))
    (canon lift (core func $main "parser-parse") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  (func $filter-keep (param "self" (borrow $filter)) (param "entries" (list $log-entry))
      (result (result (list bool) (error $plugin-error)))
    (canon lift (core func $main "filter-keep") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  (func $output-write (param "self" (borrow $output)) (param "entries" (list $log-entry))
      (result (result (list string) (error $plugin-error)))
    (canon lift (core func $main "output-write") (memory $main "memory") (realloc (func $main "realloc"))
      (post-return (func $main "reset"))))
  ;; The exported interface instance comes from a small component that
  ;; imports the types and functions and exports them again: resources used
  ;; by an exported function must be named in the instance it belongs to.
  (component $logs-shim
    (type $ek' (enum "invalid-config" "invalid-input" "not-found" "unsupported" "failed"))
    (import "error-kind" (type $ek (eq $ek')))
    (type $pe' (record (field "kind" $ek) (field "message" string)))
    (import "plugin-error" (type $pe (eq $pe')))
    (type $kind' (enum "source" "parser" "filter" "output"))
    (import "component-kind" (type $kind (eq $kind')))
    (type $def' (record (field "name" string) (field "kind" $kind) (field "description" string)
      (field "config-schema" string)))
    (import "component-definition" (type $def (eq $def')))
    (type $entry' (record (field "timestamp" u64) (field "level" (option string)) (field "message" string)
      (field "source" string) (field "fields" (list (tuple string string)))))
    (import "log-entry" (type $entry (eq $entry')))
    (import "source" (type $source (sub resource)))
    (import "parser" (type $parser (sub resource)))
    (import "filter" (type $filter (sub resource)))
    (import "output" (type $output (sub resource)))
    (import "next" (func $next (param "self" (borrow $source)) (param "max" u32)
      (result (result (list $entry) (error $pe)))))
    (import "parse" (func $parse (param "self" (borrow $parser)) (param "lines" (list string))
      (result (result (list (option $entry)) (error $pe)))))
    (import "keep" (func $keep (param "self" (borrow $filter)) (param "entries" (list $entry))
      (result (result (list bool) (error $pe)))))
    (import "write" (func $write (param "self" (borrow $output)) (param "entries" (list $entry))
      (result (result (list string) (error $pe)))))
    (import "components" (func $components (result (list $def))))
    (import "open-source" (func $open-source (param "name" string) (param "config" string)
      (result (result (own $source) (error $pe)))))
    (import "open-parser" (func $open-parser (param "name" string) (param "config" string)
      (result (result (own $parser) (error $pe)))))
    (import "open-filter" (func $open-filter (param "name" string) (param "config" string)
      (result (result (own $filter) (error $pe)))))
    (import "open-output" (func $open-output (param "name" string) (param "config" string)
      (result (result (own $output) (error $pe)))))
    (export $pe2 "plugin-error" (type $pe))
    (export $kind2 "component-kind" (type $kind))
    (type $def2' (record (field "name" string) (field "kind" $kind2) (field "description" string)
      (field "config-schema" string)))
    (export $def2 "component-definition" (type $def2'))
    (export $entry2 "log-entry" (type $entry))
    (export $source2 "source" (type $source))
    (export $parser2 "parser" (type $parser))
    (export $filter2 "filter" (type $filter))
    (export $output2 "output" (type $output))
    (export "[method]source.next" (func $next) (func (param "self" (borrow $source2)) (param "max" u32)
      (result (result (list $entry2) (error $pe2)))))
    (export "[method]parser.parse" (func $parse) (func (param "self" (borrow $parser2)) (param "lines" (list string))
      (result (result (list (option $entry2)) (error $pe2)))))
    (export "[method]filter.keep" (func $keep) (func (param "self" (borrow $filter2)) (param "entries" (list $entry2))
      (result (result (list bool) (error $pe2)))))
    (export "[method]output.write" (func $write) (func (param "self" (borrow $output2)) (param "entries" (list $entry2))
      (result (result (list string) (error $pe2)))))
    (export "components" (func $components) (func (result (list $def2))))
    (export "open-source" (func $open-source) (func (param "name" string) (param "config" string)
      (result (result (own $source2) (error $pe2)))))
    (export "open-parser" (func $open-parser) (func (param "name" string) (param "config" string)
      (result (result (own $parser2) (error $pe2)))))
    (export "open-filter" (func $open-filter) (func (param "name" string) (param "config" string)
      (result (result (own $filter2) (error $pe2)))))
    (export "open-output" (func $open-output) (func (param "name" string) (param "config" string)
      (result (result (own $output2) (error $pe2))))))
  (alias export $types "error-kind" (type $error-kind))
  (instance $logs (instantiate $logs-shim
    (with "error-kind" (type $error-kind))
    (with "plugin-error" (type $plugin-error))
    (with "component-kind" (type $component-kind))
    (with "component-definition" (type $component-definition))
    (with "log-entry" (type $log-entry))
    (with "source" (type $source))
    (with "parser" (type $parser))
    (with "filter" (type $filter))
    (with "output" (type $output))
    (with "next" (func $source-next))
    (with "parse" (func $parser-parse))
    (with "keep" (func $filter-keep))
    (with "write" (func $output-write))
    (with "components" (func $components))
    (with "open-source" (func $open-source))
    (with "open-parser" (func $open-parser))
    (with "open-filter" (func $open-filter))
    (with "open-output" (func $open-output))))
  (export "driftless:plugin/logs@0.1.0" (instance $logs))
)
