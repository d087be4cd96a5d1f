package bindings

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

const smokeWAT = `(component
  (import "test:host/env" (instance $env
    (export "twice" (func (param "x" u32) (result u32)))))
  (core func $twice (canon lower (func $env "twice")))
  (core module $m
    (import "env" "twice" (func $twice (param i32) (result i32)))
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $heap))
      (global.set $heap (i32.add (global.get $heap) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.add (i32.div_u (local.get 3) (i32.const 65536)) (i32.const 1))))))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $heap (i32.const 1024)))
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 0) (local.get $ptr))
      (i32.store (i32.const 4) (local.get $len))
      (i32.const 0))
    (func (export "noop"))
    (func (export "spin") (loop $l (br $l)))
    (func (export "boom") unreachable)
    (func (export "call-twice") (param i32) (result i32) (call $twice (local.get 0)))
  )
  (core instance $i (instantiate $m (with "env" (instance (export "twice" (func $twice))))))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $i "memory") (realloc (func $i "realloc")) (post-return (func $i "reset"))))
  (func (export "noop") (canon lift (core func $i "noop")))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "boom") (canon lift (core func $i "boom")))
  (func (export "call-twice") (param "x" u32) (result u32) (canon lift (core func $i "call-twice")))
)`

func TestSmoke(t *testing.T) {
	e, err := NewEngine(EngineConfig{ConsumeFuel: true, EpochInterruption: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	wasm, err := wasmtime.Wat2Wasm(smokeWAT)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + c.Type().WIT())
	l := e.NewLinker()
	if err := l.Instance("test:host/env").DefineFunc("twice", func(ctx context.Context, p, r []Val) error {
		if p[0].U32() == 13 {
			panic("unlucky")
		}
		r[0] = U32(p[0].U32() * 2)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s, err := e.NewStore(StoreOptions{Call: CallLimits{Fuel: 1_000_000, Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	if err != nil {
		t.Fatal(err)
	}
	echo, err := inst.Func("echo")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, in := range []string{"", "hello", strings.Repeat("x", 200000)} {
		out, err := echo.Call(ctx, String(in))
		if err != nil {
			t.Fatal(err)
		}
		if out.Str() != in {
			t.Fatalf("echo %d bytes: got %d bytes", len(in), len(out.Str()))
		}
	}
	if _, err := echo.Call(ctx, String("bad\xff")); err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
		t.Fatalf("invalid utf8: %v", err)
	}
	spin, _ := inst.Func("spin")
	_, err = spin.Call(ctx)
	t.Logf("spin: %v", err)
	if !errors.Is(err, ErrFuelExhausted) {
		t.Fatalf("want fuel exhausted, got %v", err)
	}
	// A trap makes the whole store unusable (wasmtime 44): a new store.
	var ite *InstanceTrappedError
	if _, err := l.Instantiate(s, c); !errors.As(err, &ite) || !errors.Is(err, ErrFuelExhausted) || s.Trapped() == nil {
		t.Fatalf("instantiate in the trapped store: %v", err)
	}
	newStore := func() *Store {
		s, err := e.NewStore(StoreOptions{Call: CallLimits{Fuel: 1_000_000, Timeout: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	inst, _ = l.Instantiate(newStore(), c)
	boom, _ := inst.Func("boom")
	_, err = boom.Call(ctx)
	t.Logf("boom: %v", err)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("want unreachable, got %v", err)
	}
	_, err = boom.Call(ctx)
	if !errors.As(err, &ite) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("boom again: %v", err)
	}
	inst, _ = l.Instantiate(newStore(), c)
	tw, _ := inst.Func("call-twice")
	v, err := tw.Call(ctx, U32(21))
	if err != nil || v.U32() != 42 {
		t.Fatalf("twice: %v %v", v, err)
	}
}

func TestSmokeTimeout(t *testing.T) {
	e, _ := NewEngine(EngineConfig{EpochInterruption: true})
	defer e.Close()
	wasm, _ := wasmtime.Wat2Wasm(smokeWAT)
	c, _ := NewComponent(e, wasm)
	l := e.NewLinker()
	l.Instance("test:host/env").DefineFunc("twice", func(ctx context.Context, p, r []Val) error {
		if p[0].U32() == 13 {
			panic("unlucky")
		}
		r[0] = U32(p[0].U32() * 2)
		return nil
	})
	s, _ := e.NewStore(StoreOptions{Call: CallLimits{Timeout: 100 * time.Millisecond}})
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	if err != nil {
		t.Fatal(err)
	}
	spin, _ := inst.Func("spin")
	start := time.Now()
	_, err = spin.Call(context.Background())
	t.Logf("spin: %v after %v", err, time.Since(start))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrInterrupted) {
		t.Fatalf("want timeout, got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(30 * time.Millisecond); cancel() }()
	s2, _ := e.NewStore(StoreOptions{})
	defer s2.Close()
	inst, _ = l.Instantiate(s2, c)
	spin, _ = inst.Func("spin")
	_, err = spin.Call(ctx)
	t.Logf("spin cancelled: %v after %v", err, time.Since(start))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want canceled, got %v", err)
	}
	// A fresh store works; the trapped ones are poisoned.
	s3, _ := e.NewStore(StoreOptions{})
	defer s3.Close()
	inst2, err := l.Instantiate(s3, c)
	if err != nil {
		t.Fatal(err)
	}
	tw, _ := inst2.Func("call-twice")
	v, err := tw.Call(context.Background(), U32(21))
	if err != nil || v.U32() != 42 {
		t.Fatalf("twice: %v %v", v, err)
	}
	_, err = tw.Call(context.Background(), U32(13))
	t.Logf("panic: %v", err)
	var hp *HostPanicError
	if !errors.As(err, &hp) {
		t.Fatalf("want host panic, got %v", err)
	}
	_, err = tw.Call(context.Background(), U32(5))
	var ite *InstanceTrappedError
	if !errors.As(err, &ite) || !errors.As(err, &hp) {
		t.Fatalf("after panic: %v", err)
	}
}
