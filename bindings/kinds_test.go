package bindings

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// kindsWAT is a hand-written component whose exports compute something with
// a value of every WIT kind (so that the guest sees exactly the encoding the
// canonical ABI prescribes, not just the same bytes back), and whose host-*
// exports pass a value of every kind to an imported host function and return
// what the host returned. It also exports an interface (test:kinds/api) and
// imports an instance nested in an instance.
const kindsWAT = `(component
  (import "test:kinds/host" (instance $host
    (type $pt (record (field "x" s32) (field "y" s32)))
    (export "point" (type $point (eq $pt)))
    (type $sh (variant (case "circle" f32) (case "square" u32) (case "none")))
    (export "shape" (type $shape (eq $sh)))
    (type $co (enum "red" "green" "blue"))
    (export "color" (type $color (eq $co)))
    (type $pe (flags "read" "write" "exec"))
    (export "perms" (type $perms (eq $pe)))
    (export "h-bool" (func (param "x" bool) (result bool)))
    (export "h-s8" (func (param "x" s8) (result s8)))
    (export "h-u8" (func (param "x" u8) (result u8)))
    (export "h-s16" (func (param "x" s16) (result s16)))
    (export "h-u16" (func (param "x" u16) (result u16)))
    (export "h-s32" (func (param "x" s32) (result s32)))
    (export "h-u32" (func (param "x" u32) (result u32)))
    (export "h-s64" (func (param "x" s64) (result s64)))
    (export "h-u64" (func (param "x" u64) (result u64)))
    (export "h-f32" (func (param "x" f32) (result f32)))
    (export "h-f64" (func (param "x" f64) (result f64)))
    (export "h-char" (func (param "x" char) (result char)))
    (export "h-string" (func (param "x" string) (result string)))
    (export "h-list" (func (param "x" (list u32)) (result (list u32))))
    (export "h-record" (func (param "x" $point) (result $point)))
    (export "h-tuple" (func (param "x" (tuple u8 string)) (result (tuple u8 string))))
    (export "h-variant" (func (param "x" $shape) (result $shape)))
    (export "h-enum" (func (param "x" $color) (result $color)))
    (export "h-option" (func (param "x" (option u32)) (result (option u32))))
    (export "h-result" (func (param "x" (result u32 (error string))) (result (result u32 (error string)))))
    (export "h-flags" (func (param "x" $perms) (result $perms)))
  ))
  (import "test:kinds/outer" (instance $outer
    (export "inner" (instance
      (export "triple" (func (param "x" u32) (result u32)))))))
  (alias export $outer "inner" (instance $inner))

  (core module $Libc
    (memory (export "memory") 1)
    (data (i32.const 16) "too big")
    (global $heap (mut i32) (i32.const 1024))
    (func $alloc (export "alloc") (param $align i32) (param $size i32) (result i32)
      (local $p i32) (local $end i32) (local $have i32)
      (local.set $p (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $size)))
      (local.set $have (i32.shl (memory.size) (i32.const 16)))
      (if (i32.gt_u (local.get $end) (local.get $have))
        (then (if (i32.eq (i32.const -1)
            (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (local.get $have)) (i32.const 16)) (i32.const 1))))
          (then unreachable))))
      (global.set $heap (local.get $end))
      (local.get $p))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (call $alloc (local.get 2) (local.get 3)))
    (func (export "reset") (global.set $heap (i32.const 1024)))
  )
  (core instance $libc (instantiate $Libc))
  (core func $h-bool (canon lower (func $host "h-bool")))
  (core func $h-s8 (canon lower (func $host "h-s8")))
  (core func $h-u8 (canon lower (func $host "h-u8")))
  (core func $h-s16 (canon lower (func $host "h-s16")))
  (core func $h-u16 (canon lower (func $host "h-u16")))
  (core func $h-s32 (canon lower (func $host "h-s32")))
  (core func $h-u32 (canon lower (func $host "h-u32")))
  (core func $h-s64 (canon lower (func $host "h-s64")))
  (core func $h-u64 (canon lower (func $host "h-u64")))
  (core func $h-f32 (canon lower (func $host "h-f32")))
  (core func $h-f64 (canon lower (func $host "h-f64")))
  (core func $h-char (canon lower (func $host "h-char")))
  (core func $h-string (canon lower (func $host "h-string") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $h-list (canon lower (func $host "h-list") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $h-record (canon lower (func $host "h-record") (memory $libc "memory")))
  (core func $h-tuple (canon lower (func $host "h-tuple") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $h-variant (canon lower (func $host "h-variant") (memory $libc "memory")))
  (core func $h-enum (canon lower (func $host "h-enum")))
  (core func $h-option (canon lower (func $host "h-option") (memory $libc "memory")))
  (core func $h-result (canon lower (func $host "h-result") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $h-flags (canon lower (func $host "h-flags")))
  (core func $triple (canon lower (func $inner "triple")))

  (core module $Main
    (import "libc" "memory" (memory 1))
    (import "libc" "alloc" (func $alloc (param i32 i32) (result i32)))
    (import "libc" "reset" (func $reset))
    (import "host" "bool" (func $h-bool (param i32) (result i32)))
    (import "host" "s8" (func $h-s8 (param i32) (result i32)))
    (import "host" "u8" (func $h-u8 (param i32) (result i32)))
    (import "host" "s16" (func $h-s16 (param i32) (result i32)))
    (import "host" "u16" (func $h-u16 (param i32) (result i32)))
    (import "host" "s32" (func $h-s32 (param i32) (result i32)))
    (import "host" "u32" (func $h-u32 (param i32) (result i32)))
    (import "host" "s64" (func $h-s64 (param i64) (result i64)))
    (import "host" "u64" (func $h-u64 (param i64) (result i64)))
    (import "host" "f32" (func $h-f32 (param f32) (result f32)))
    (import "host" "f64" (func $h-f64 (param f64) (result f64)))
    (import "host" "char" (func $h-char (param i32) (result i32)))
    (import "host" "string" (func $h-string (param i32 i32 i32)))
    (import "host" "list" (func $h-list (param i32 i32 i32)))
    (import "host" "record" (func $h-record (param i32 i32 i32)))
    (import "host" "tuple" (func $h-tuple (param i32 i32 i32 i32)))
    (import "host" "variant" (func $h-variant (param i32 i32 i32)))
    (import "host" "enum" (func $h-enum (param i32) (result i32)))
    (import "host" "option" (func $h-option (param i32 i32 i32)))
    (import "host" "result" (func $h-result (param i32 i32 i32 i32)))
    (import "host" "flags" (func $h-flags (param i32) (result i32)))
    (import "outer" "triple" (func $triple (param i32) (result i32)))

    ;; Computations, one per kind.
    (func (export "bool-not") (param i32) (result i32) (i32.eqz (local.get 0)))
    (func (export "neg32") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
    (func (export "inc32") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func (export "neg64") (param i64) (result i64) (i64.sub (i64.const 0) (local.get 0)))
    (func (export "inc64") (param i64) (result i64) (i64.add (local.get 0) (i64.const 1)))
    (func (export "f32-half") (param f32) (result f32) (f32.mul (local.get 0) (f32.const 0.5)))
    (func (export "f64-half") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 0.5)))
    (func (export "str-len") (param i32 i32) (result i32) (local.get 1))
    (func (export "str-echo") (param i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (i32.store (local.get $p) (local.get 0))
      (i32.store offset=4 (local.get $p) (local.get 1))
      (local.get $p))
    (func (export "list-sum") (param $ptr i32) (param $len i32) (result i64) (local $sum i64)
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $sum (i64.add (local.get $sum) (i64.load32_u (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next)))
      (local.get $sum))
    (func (export "point-swap") (param i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (i32.store (local.get $p) (local.get 1))
      (i32.store offset=4 (local.get $p) (local.get 0))
      (local.get $p))
    (func (export "tuple-second") (param i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (i32.store (local.get $p) (local.get 1))
      (i32.store offset=4 (local.get $p) (local.get 2))
      (local.get $p))
    ;; shape: discriminant (u8 in memory), then a payload joined to i32:
    ;; circle's f32 arrives as its bits.
    (func (export "shape-scale") (param $tag i32) (param $v i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (i32.store8 (local.get $p) (local.get $tag))
      (if (i32.eq (local.get $tag) (i32.const 0))
        (then (f32.store offset=4 (local.get $p) (f32.mul (f32.reinterpret_i32 (local.get $v)) (f32.const 2)))))
      (if (i32.eq (local.get $tag) (i32.const 1))
        (then (i32.store offset=4 (local.get $p) (i32.mul (local.get $v) (i32.const 2)))))
      (local.get $p))
    (func (export "color-next") (param i32) (result i32)
      (i32.rem_u (i32.add (local.get 0) (i32.const 1)) (i32.const 3)))
    (func (export "option-double") (param $some i32) (param $v i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (i32.store8 (local.get $p) (local.get $some))
      (i32.store offset=4 (local.get $p) (i32.mul (local.get $v) (i32.const 2)))
      (local.get $p))
    ;; ok(x*2) for x < 100, else err("too big") from the data segment.
    (func (export "result-check") (param $x i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 12)))
      (if (i32.lt_u (local.get $x) (i32.const 100))
        (then
          (i32.store8 (local.get $p) (i32.const 0))
          (i32.store offset=4 (local.get $p) (i32.mul (local.get $x) (i32.const 2))))
        (else
          (i32.store8 (local.get $p) (i32.const 1))
          (i32.store offset=4 (local.get $p) (i32.const 16))
          (i32.store offset=8 (local.get $p) (i32.const 7))))
      (local.get $p))
    (func (export "perms-invert") (param i32) (result i32) (i32.xor (local.get 0) (i32.const 7)))
    (func (export "triple-plus-one") (param i32) (result i32)
      (i32.add (call $triple (local.get 0)) (i32.const 1)))

    ;; Pass-throughs to the host, one per kind.
    (func (export "host-bool") (param i32) (result i32) (call $h-bool (local.get 0)))
    (func (export "host-s8") (param i32) (result i32) (call $h-s8 (local.get 0)))
    (func (export "host-u8") (param i32) (result i32) (call $h-u8 (local.get 0)))
    (func (export "host-s16") (param i32) (result i32) (call $h-s16 (local.get 0)))
    (func (export "host-u16") (param i32) (result i32) (call $h-u16 (local.get 0)))
    (func (export "host-s32") (param i32) (result i32) (call $h-s32 (local.get 0)))
    (func (export "host-u32") (param i32) (result i32) (call $h-u32 (local.get 0)))
    (func (export "host-s64") (param i64) (result i64) (call $h-s64 (local.get 0)))
    (func (export "host-u64") (param i64) (result i64) (call $h-u64 (local.get 0)))
    (func (export "host-f32") (param f32) (result f32) (call $h-f32 (local.get 0)))
    (func (export "host-f64") (param f64) (result f64) (call $h-f64 (local.get 0)))
    (func (export "host-char") (param i32) (result i32) (call $h-char (local.get 0)))
    (func (export "host-enum") (param i32) (result i32) (call $h-enum (local.get 0)))
    (func (export "host-flags") (param i32) (result i32) (call $h-flags (local.get 0)))
    (func (export "host-string") (param i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (call $h-string (local.get 0) (local.get 1) (local.get $p))
      (local.get $p))
    (func (export "host-list") (param i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (call $h-list (local.get 0) (local.get 1) (local.get $p))
      (local.get $p))
    (func (export "host-record") (param i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (call $h-record (local.get 0) (local.get 1) (local.get $p))
      (local.get $p))
    (func (export "host-tuple") (param i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 12)))
      (call $h-tuple (local.get 0) (local.get 1) (local.get 2) (local.get $p))
      (local.get $p))
    (func (export "host-variant") (param i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (call $h-variant (local.get 0) (local.get 1) (local.get $p))
      (local.get $p))
    (func (export "host-option") (param i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 8)))
      (call $h-option (local.get 0) (local.get 1) (local.get $p))
      (local.get $p))
    (func (export "host-result") (param i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (call $alloc (i32.const 4) (i32.const 12)))
      (call $h-result (local.get 0) (local.get 1) (local.get 2) (local.get $p))
      (local.get $p))

    (func (export "pr-i32") (param i32) (call $reset))
    (func (export "pr-i64") (param i64) (call $reset))
    (func (export "pr-f32") (param f32) (call $reset))
    (func (export "pr-f64") (param f64) (call $reset))
  )
  (core instance $main (instantiate $Main
    (with "libc" (instance $libc))
    (with "outer" (instance (export "triple" (func $triple))))
    (with "host" (instance
      (export "bool" (func $h-bool)) (export "s8" (func $h-s8)) (export "u8" (func $h-u8))
      (export "s16" (func $h-s16)) (export "u16" (func $h-u16)) (export "s32" (func $h-s32))
      (export "u32" (func $h-u32)) (export "s64" (func $h-s64)) (export "u64" (func $h-u64))
      (export "f32" (func $h-f32)) (export "f64" (func $h-f64)) (export "char" (func $h-char))
      (export "string" (func $h-string)) (export "list" (func $h-list))
      (export "record" (func $h-record)) (export "tuple" (func $h-tuple))
      (export "variant" (func $h-variant)) (export "enum" (func $h-enum))
      (export "option" (func $h-option)) (export "result" (func $h-result))
      (export "flags" (func $h-flags))))))

  (type $pt (record (field "x" s32) (field "y" s32)))
  (export $point "point" (type $pt))
  (type $sh (variant (case "circle" f32) (case "square" u32) (case "none")))
  (export $shape "shape" (type $sh))
  (type $co (enum "red" "green" "blue"))
  (export $color "color" (type $co))
  (type $pe (flags "read" "write" "exec"))
  (export $perms "perms" (type $pe))

  (func (export "bool-not") (param "x" bool) (result bool) (canon lift (core func $main "bool-not")))
  (func (export "s8-neg") (param "x" s8) (result s8) (canon lift (core func $main "neg32")))
  (func (export "u8-inc") (param "x" u8) (result u8) (canon lift (core func $main "inc32")))
  (func (export "s16-neg") (param "x" s16) (result s16) (canon lift (core func $main "neg32")))
  (func (export "u16-inc") (param "x" u16) (result u16) (canon lift (core func $main "inc32")))
  (func (export "s32-neg") (param "x" s32) (result s32) (canon lift (core func $main "neg32")))
  (func (export "u32-inc") (param "x" u32) (result u32) (canon lift (core func $main "inc32")))
  (func (export "s64-neg") (param "x" s64) (result s64) (canon lift (core func $main "neg64")))
  (func (export "u64-inc") (param "x" u64) (result u64) (canon lift (core func $main "inc64")))
  (func (export "f32-half") (param "x" f32) (result f32) (canon lift (core func $main "f32-half")))
  (func (export "f64-half") (param "x" f64) (result f64) (canon lift (core func $main "f64-half")))
  (func (export "char-next") (param "x" char) (result char) (canon lift (core func $main "inc32")))
  (func (export "str-len") (param "s" string) (result u32)
    (canon lift (core func $main "str-len") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i32"))))
  (func (export "str-echo") (param "s" string) (result string)
    (canon lift (core func $main "str-echo") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i32"))))
  (func (export "list-sum") (param "l" (list u32)) (result u64)
    (canon lift (core func $main "list-sum") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i64"))))
  (func $point-swap (param "p" $point) (result $point)
    (canon lift (core func $main "point-swap") (memory $libc "memory") (post-return (func $main "pr-i32"))))
  (export "point-swap" (func $point-swap))
  (func (export "tuple-second") (param "t" (tuple u8 string)) (result string)
    (canon lift (core func $main "tuple-second") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i32"))))
  (func (export "shape-scale") (param "s" $shape) (result $shape)
    (canon lift (core func $main "shape-scale") (memory $libc "memory") (post-return (func $main "pr-i32"))))
  (func $color-next (param "c" $color) (result $color) (canon lift (core func $main "color-next")))
  (export "color-next" (func $color-next))
  (func (export "option-double") (param "o" (option u32)) (result (option u32))
    (canon lift (core func $main "option-double") (memory $libc "memory") (post-return (func $main "pr-i32"))))
  (func (export "result-check") (param "x" u32) (result (result u32 (error string)))
    (canon lift (core func $main "result-check") (memory $libc "memory") (post-return (func $main "pr-i32"))))
  (func (export "perms-invert") (param "p" $perms) (result $perms) (canon lift (core func $main "perms-invert")))
  (func (export "triple-plus-one") (param "x" u32) (result u32) (canon lift (core func $main "triple-plus-one")))

  (func (export "host-bool") (param "x" bool) (result bool) (canon lift (core func $main "host-bool")))
  (func (export "host-s8") (param "x" s8) (result s8) (canon lift (core func $main "host-s8")))
  (func (export "host-u8") (param "x" u8) (result u8) (canon lift (core func $main "host-u8")))
  (func (export "host-s16") (param "x" s16) (result s16) (canon lift (core func $main "host-s16")))
  (func (export "host-u16") (param "x" u16) (result u16) (canon lift (core func $main "host-u16")))
  (func (export "host-s32") (param "x" s32) (result s32) (canon lift (core func $main "host-s32")))
  (func (export "host-u32") (param "x" u32) (result u32) (canon lift (core func $main "host-u32")))
  (func (export "host-s64") (param "x" s64) (result s64) (canon lift (core func $main "host-s64")))
  (func (export "host-u64") (param "x" u64) (result u64) (canon lift (core func $main "host-u64")))
  (func (export "host-f32") (param "x" f32) (result f32) (canon lift (core func $main "host-f32")))
  (func (export "host-f64") (param "x" f64) (result f64) (canon lift (core func $main "host-f64")))
  (func (export "host-char") (param "x" char) (result char) (canon lift (core func $main "host-char")))
  (func (export "host-string") (param "x" string) (result string)
    (canon lift (core func $main "host-string") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i32"))))
  (func (export "host-list") (param "x" (list u32)) (result (list u32))
    (canon lift (core func $main "host-list") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i32"))))
  (func (export "host-record") (param "x" $point) (result $point)
    (canon lift (core func $main "host-record") (memory $libc "memory") (post-return (func $main "pr-i32"))))
  (func (export "host-tuple") (param "x" (tuple u8 string)) (result (tuple u8 string))
    (canon lift (core func $main "host-tuple") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i32"))))
  (func (export "host-variant") (param "x" $shape) (result $shape)
    (canon lift (core func $main "host-variant") (memory $libc "memory") (post-return (func $main "pr-i32"))))
  (func (export "host-enum") (param "x" $color) (result $color) (canon lift (core func $main "host-enum")))
  (func (export "host-option") (param "x" (option u32)) (result (option u32))
    (canon lift (core func $main "host-option") (memory $libc "memory") (post-return (func $main "pr-i32"))))
  (func (export "host-result") (param "x" (result u32 (error string))) (result (result u32 (error string)))
    (canon lift (core func $main "host-result") (memory $libc "memory") (realloc (func $libc "realloc")) (post-return (func $main "pr-i32"))))
  (func (export "host-flags") (param "x" $perms) (result $perms) (canon lift (core func $main "host-flags")))

  (instance $api
    (export "point" (type $point))
    (export "color" (type $color))
    (export "point-swap" (func $point-swap))
    (export "color-next" (func $color-next)))
  (export "test:kinds/api" (instance $api))
)`

// kindsHost defines the host side of kindsWAT. Every host function records
// what it received and applies a transformation the test knows.
type kindsHost struct {
	got map[string]Val
	// override replaces the host function of a kind.
	override map[string]HostFunc
}

// hostTransforms are the host functions' computations, by kind.
var hostTransforms = map[string]func(Val) Val{
	"bool":   func(v Val) Val { return Bool(!v.Bool()) },
	"s8":     func(v Val) Val { return S8(v.S8() - 1) },
	"u8":     func(v Val) Val { return U8(v.U8() - 1) },
	"s16":    func(v Val) Val { return S16(v.S16() - 1) },
	"u16":    func(v Val) Val { return U16(v.U16() - 1) },
	"s32":    func(v Val) Val { return S32(v.S32() - 1) },
	"u32":    func(v Val) Val { return U32(v.U32() - 1) },
	"s64":    func(v Val) Val { return S64(v.S64() - 1) },
	"u64":    func(v Val) Val { return U64(v.U64() - 1) },
	"f32":    func(v Val) Val { return F32(v.F32() * 4) },
	"f64":    func(v Val) Val { return F64(v.F64() * 4) },
	"char":   func(v Val) Val { return Char(v.Char() - 1) },
	"string": func(v Val) Val { return String("host:" + v.Str()) },
	"list": func(v Val) Val {
		out := []Val{U32(uint32(len(v.Elems())))}
		return List(append(out, v.Elems()...)...)
	},
	"record": func(v Val) Val {
		x, _ := v.Field("x")
		y, _ := v.Field("y")
		return Record([]string{"x", "y"}, []Val{S32(x.S32() + y.S32()), S32(x.S32() - y.S32())})
	},
	"tuple": func(v Val) Val {
		e := v.Elems()
		return Tuple(U8(e[0].U8()+1), String(strings.ToUpper(e[1].Str())))
	},
	"variant": func(v Val) Val {
		switch v.Case() {
		case "circle":
			p, _ := v.Payload()
			return VariantWith("square", U32(uint32(p.F32())))
		case "square":
			return Variant("none")
		}
		return VariantWith("circle", F32(0.25))
	},
	"enum": func(v Val) Val {
		return Enum(map[string]string{"red": "blue", "green": "red", "blue": "green"}[v.Case()])
	},
	"option": func(v Val) Val {
		if !v.IsSome() {
			return Some(U32(0))
		}
		return None()
	},
	"result": func(v Val) Val {
		p, _ := v.Payload()
		if v.IsOk() {
			return Err(String(fmt.Sprint(p.U32())))
		}
		return Ok(U32(uint32(len(p.Str()))))
	},
	"flags": func(v Val) Val {
		set := map[string]bool{}
		for _, f := range v.FlagsSet() {
			set[f] = true
		}
		var out []string
		for _, f := range []string{"read", "write", "exec"} {
			if !set[f] {
				out = append(out, f)
			}
		}
		return Flags(out...)
	},
}

func (h *kindsHost) define(t testing.TB, l *Linker) {
	t.Helper()
	host := l.Instance("test:kinds/host")
	for kind, fn := range hostTransforms {
		if o := h.override[kind]; o != nil {
			must(t, host.DefineFunc("h-"+kind, o))
			continue
		}
		if err := host.DefineFunc("h-"+kind, func(ctx context.Context, p, r []Val) error {
			if StoreFromContext(ctx) == nil {
				return errors.New("no store in the host function's context")
			}
			h.got[kind] = p[0]
			r[0] = fn(p[0])
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Instance("test:kinds/outer").Instance("inner").DefineFunc("triple", func(ctx context.Context, p, r []Val) error {
		r[0] = U32(3 * p[0].U32())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// kindsFixture compiles kindsWAT once per test binary.
var kindsFixture struct {
	engine *Engine
	comp   *Component
}

func kindsComponent(t testing.TB) (*Engine, *Component) {
	t.Helper()
	if kindsFixture.comp == nil {
		e, err := NewEngine(EngineConfig{})
		if err != nil {
			t.Fatal(err)
		}
		wasm, err := wasmtime.Wat2Wasm(kindsWAT)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewComponent(e, wasm)
		if err != nil {
			t.Fatal(err)
		}
		kindsFixture.engine, kindsFixture.comp = e, c
	}
	return kindsFixture.engine, kindsFixture.comp
}

func newKinds(t testing.TB) (*Instance, *kindsHost) {
	t.Helper()
	e, c := kindsComponent(t)
	h := &kindsHost{got: map[string]Val{}}
	l := e.NewLinker()
	h.define(t, l)
	s, err := e.NewStore(StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	inst, err := l.Instantiate(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return inst, h
}

func call(t testing.TB, inst *Instance, name string, args ...Val) Val {
	t.Helper()
	f, err := inst.Func(strings.Split(name, "#")...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	return v
}

func f32bits(b uint32) Val { return Val{kind: KindF32, bits: uint64(b)} }

// TestKindsExports calls a guest computation for every value kind.
func TestKindsExports(t *testing.T) {
	inst, _ := newKinds(t)
	point := func(x, y int32) Val { return Record([]string{"x", "y"}, []Val{S32(x), S32(y)}) }
	cases := []struct {
		fn   string
		args []Val
		want Val
	}{
		{"bool-not", []Val{Bool(true)}, Bool(false)},
		{"bool-not", []Val{Bool(false)}, Bool(true)},
		{"s8-neg", []Val{S8(5)}, S8(-5)},
		{"s8-neg", []Val{S8(-128)}, S8(-128)}, // wraps, as the canonical ABI says
		{"u8-inc", []Val{U8(41)}, U8(42)},
		{"u8-inc", []Val{U8(255)}, U8(0)},
		{"s16-neg", []Val{S16(-300)}, S16(300)},
		{"s16-neg", []Val{S16(math.MinInt16)}, S16(math.MinInt16)},
		{"u16-inc", []Val{U16(65535)}, U16(0)},
		{"s32-neg", []Val{S32(math.MaxInt32)}, S32(-math.MaxInt32)},
		{"u32-inc", []Val{U32(math.MaxUint32)}, U32(0)},
		{"s64-neg", []Val{S64(math.MinInt64 + 1)}, S64(math.MaxInt64)},
		{"u64-inc", []Val{U64(1 << 63)}, U64(1<<63 + 1)},
		{"f32-half", []Val{F32(3)}, F32(1.5)},
		{"f32-half", []Val{F32(float32(math.Inf(-1)))}, F32(float32(math.Inf(-1)))},
		{"f64-half", []Val{F64(1e300)}, F64(5e299)},
		{"f64-half", []Val{F64(math.Copysign(0, -1))}, F64(math.Copysign(0, -1))},
		{"char-next", []Val{Char('a')}, Char('b')},
		{"char-next", []Val{Char(0x1f5ff)}, Char(0x1f600)},
		{"str-len", []Val{String("")}, U32(0)},
		{"str-len", []Val{String("héllo, 世界")}, U32(uint32(len("héllo, 世界")))},
		{"str-echo", []Val{String("héllo, 世界 😀")}, String("héllo, 世界 😀")},
		{"str-echo", []Val{String("nul\x00inside")}, String("nul\x00inside")},
		{"list-sum", []Val{List()}, U64(0)},
		{"list-sum", []Val{List(U32(1), U32(2), U32(math.MaxUint32))}, U64(3 + math.MaxUint32)},
		{"point-swap", []Val{point(1, -2)}, point(-2, 1)},
		{"test:kinds/api#point-swap", []Val{point(7, 8)}, point(8, 7)},
		{"tuple-second", []Val{Tuple(U8(9), String("second"))}, String("second")},
		{"shape-scale", []Val{VariantWith("circle", F32(1.25))}, VariantWith("circle", F32(2.5))},
		{"shape-scale", []Val{VariantWith("square", U32(21))}, VariantWith("square", U32(42))},
		{"shape-scale", []Val{Variant("none")}, Variant("none")},
		{"color-next", []Val{Enum("red")}, Enum("green")},
		{"color-next", []Val{Enum("blue")}, Enum("red")},
		{"test:kinds/api#color-next", []Val{Enum("green")}, Enum("blue")},
		{"option-double", []Val{Some(U32(21))}, Some(U32(42))},
		{"option-double", []Val{None()}, None()},
		{"result-check", []Val{U32(21)}, Ok(U32(42))},
		{"result-check", []Val{U32(100)}, Err(String("too big"))},
		{"perms-invert", []Val{Flags("read")}, Flags("write", "exec")},
		{"perms-invert", []Val{Flags()}, Flags("read", "write", "exec")},
		{"perms-invert", []Val{Flags("exec", "read", "write")}, Flags()},
		{"triple-plus-one", []Val{U32(14)}, U32(43)},
	}
	for _, c := range cases {
		got := call(t, inst, c.fn, c.args...)
		if !Equal(got, c.want) {
			t.Errorf("%s%v = %s, want %s", c.fn, c.args, got, c.want)
		}
	}
	// Flags come back in declaration order.
	got := call(t, inst, "perms-invert", Flags())
	if fs := strings.Join(got.FlagsSet(), ","); fs != "read,write,exec" {
		t.Errorf("flags order: %s", fs)
	}
}

// TestKindsHostCallbacks passes a value of every kind through the guest to a
// Go host function and back.
func TestKindsHostCallbacks(t *testing.T) {
	inst, h := newKinds(t)
	point := func(x, y int32) Val { return Record([]string{"x", "y"}, []Val{S32(x), S32(y)}) }
	cases := []struct {
		kind string
		in   Val
	}{
		{"bool", Bool(true)}, {"bool", Bool(false)},
		{"s8", S8(-128)}, {"s8", S8(0)}, {"u8", U8(0)}, {"u8", U8(200)},
		{"s16", S16(math.MinInt16)}, {"u16", U16(65535)},
		{"s32", S32(math.MinInt32)}, {"u32", U32(0)},
		{"s64", S64(math.MinInt64)}, {"u64", U64(math.MaxUint64)},
		{"f32", F32(1.5)}, {"f32", f32bits(0x7fa00001)}, // a signalling NaN with a payload
		{"f64", F64(-2.5e-300)}, {"f64", Val{kind: KindF64, bits: 0xfff8000000000123}},
		{"char", Char('é')}, {"char", Char(0x10ffff)}, {"char", Char(0xe001)},
		{"string", String("")}, {"string", String("ünïcødé 😀")}, {"string", String(strings.Repeat("x", 100000))},
		{"list", List()}, {"list", List(U32(1), U32(2), U32(3))},
		{"record", point(10, 3)},
		{"tuple", Tuple(U8(254), String("abc"))},
		{"variant", VariantWith("circle", F32(7.9))}, {"variant", VariantWith("square", U32(3))}, {"variant", Variant("none")},
		{"enum", Enum("red")}, {"enum", Enum("blue")},
		{"option", Some(U32(5))}, {"option", None()},
		{"result", Ok(U32(77))}, {"result", Err(String("four"))},
		{"flags", Flags()}, {"flags", Flags("write")}, {"flags", Flags("read", "write", "exec")},
	}
	for _, c := range cases {
		want := hostTransforms[c.kind](c.in)
		got := call(t, inst, "host-"+c.kind, c.in)
		if !Equal(h.got[c.kind], c.in) {
			t.Errorf("host-%s(%s): host received %s", c.kind, c.in, h.got[c.kind])
		}
		if !Equal(got, want) {
			t.Errorf("host-%s(%s) = %s, want %s", c.kind, c.in, got, want)
		}
	}
}
