package bindings

import (
	"context"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

func benchInstance(b *testing.B) *Instance {
	e, _ := NewEngine(EngineConfig{})
	wasm, _ := wasmtime.Wat2Wasm(smokeWAT)
	c, err := NewComponent(e, wasm)
	if err != nil {
		b.Fatal(err)
	}
	l := e.NewLinker()
	l.Instance("test:host/env").DefineFunc("twice", func(ctx context.Context, p, r []Val) error {
		r[0] = U32(p[0].U32() * 2)
		return nil
	})
	s, _ := e.NewStore(StoreOptions{})
	inst, err := l.Instantiate(s, c)
	if err != nil {
		b.Fatal(err)
	}
	return inst
}

func BenchmarkSmokeNoop(b *testing.B) {
	inst := benchInstance(b)
	f, _ := inst.Func("noop")
	ctx := context.Background()
	for b.Loop() {
		if _, err := f.Call(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSmokeEcho1K(b *testing.B) {
	inst := benchInstance(b)
	f, _ := inst.Func("echo")
	ctx := context.Background()
	arg := String(strings.Repeat("x", 1024))
	for b.Loop() {
		if _, err := f.Call(ctx, arg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSmokeHostCall(b *testing.B) {
	inst := benchInstance(b)
	f, _ := inst.Func("call-twice")
	ctx := context.Background()
	for b.Loop() {
		if _, err := f.Call(ctx, U32(3)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawNoopCLoop(b *testing.B) {
	f, _ := benchInstance(b).Func("noop")
	b.ResetTimer()
	if err := baselineCall(f, nil, b.N); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRawNoopCgo(b *testing.B) {
	f, _ := benchInstance(b).Func("noop")
	b.ResetTimer()
	if err := baselineCgoCall(f, nil, b.N); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRawEcho1KCgo(b *testing.B) {
	f, _ := benchInstance(b).Func("echo")
	b.ResetTimer()
	if err := baselineCgoCall(f, []Val{String(strings.Repeat("x", 1024))}, b.N); err != nil {
		b.Fatal(err)
	}
}
