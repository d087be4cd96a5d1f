package bindings

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/bindings/internal/typenames"
	"github.com/driftless-dev/driftless/internal/builtexample"
)

// Each benchmark measures an operation of this package beside the raw C
// API doing the same work (package rawcapi, fed by baseline_test.go), in the same run:
//
//	bindings      this package's API, what embedders call
//	raw-cgo       one cgo call per C API call sequence, arguments prepared
//	              once, results deleted in C (what a Go program calling the
//	              C API directly pays at least)
//	raw-cgo-copy  raw-cgo, plus copying a string result into Go and
//	              deleting it with a second cgo call (the naive way to get
//	              the result out)
//	raw-c-loop    the C API called in a loop in C: no cgo at all
//
// docs/PERFORMANCE.md has the figures and how to reproduce them.

type benchEnv struct {
	engine *Engine
	smoke  *Component // smokeWAT: noop, echo, call-twice
	ident  *Component // identity functions for benchRecord and benchVariant
	linker *Linker
	direct *Linker // twice as a HostFuncDirect
}

var (
	benchOnce sync.Once
	bench     benchEnv
	benchErr  error

	benchRecordT = &Type{Kind: KindRecord, Fields: []FieldType{
		{"id", &Type{Kind: KindU64}},
		{"name", &Type{Kind: KindString}},
		{"score", &Type{Kind: KindF64}},
		{"tags", &Type{Kind: KindList, Elem: &Type{Kind: KindString}}},
		{"done", &Type{Kind: KindBool}},
	}}
	benchRecord = Record([]string{"id", "name", "score", "tags", "done"},
		[]Val{U64(42), String("driftless"), F64(0.5), List(String("a"), String("bc")), Bool(true)})
	benchVariantT = &Type{Kind: KindVariant, Cases: []CaseType{
		{"text", &Type{Kind: KindString}},
		{"code", &Type{Kind: KindU32}},
		{"pair", &Type{Kind: KindTuple, Elems: []*Type{{Kind: KindS64}, {Kind: KindF32}}}},
		{"none", nil},
	}}
	benchVariant = VariantWith("pair", Tuple(S64(-5), F32(1.5)))
)

func benchSetup(b testing.TB) *benchEnv {
	b.Helper()
	benchOnce.Do(func() {
		e, err := NewEngine(EngineConfig{})
		if err != nil {
			benchErr = err
			return
		}
		bench.engine = e
		for _, c := range []struct {
			dst *(*Component)
			wat string
		}{{&bench.smoke, smokeWAT}, {&bench.ident, identityWAT([]*Type{benchRecordT, benchVariantT})}} {
			wasm, err := wasmtime.Wat2Wasm(c.wat)
			if err != nil {
				benchErr = err
				return
			}
			if *c.dst, err = NewComponent(e, wasm); err != nil {
				benchErr = err
				return
			}
		}
		l := e.NewLinker()
		twice := func(ctx context.Context, p, r []Val) error {
			r[0] = U32(p[0].U32() * 2)
			return nil
		}
		echo := func(ctx context.Context, p, r []Val) error {
			r[0] = p[0]
			return nil
		}
		if err := l.Instance("test:host/env").DefineFunc("twice", twice); err != nil {
			benchErr = err
			return
		}
		for _, n := range []string{"host-a", "host-b"} {
			if err := l.Instance("test:fuzz/host").DefineFunc(n, echo); err != nil {
				benchErr = err
				return
			}
		}
		bench.linker = l
		d := e.NewLinker()
		if err := d.Instance("test:host/env").DefineFuncDirect("twice", func(ctx context.Context, c HostCall) error {
			c.Result(0).U32(c.Param(0).U32() * 2)
			return nil
		}); err != nil {
			benchErr = err
			return
		}
		bench.direct = d
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return &bench
}

// benchFunc instantiates c in a new store and returns its export fn.
func benchFunc(b *testing.B, c *Component, fn string) *Func {
	b.Helper()
	env := benchSetup(b)
	s, err := env.engine.NewStore(StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	inst, err := env.linker.Instantiate(s, c)
	if err != nil {
		b.Fatal(err)
	}
	f, err := inst.Func(fn)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// benchCall runs the bindings / raw-cgo / raw-cgo-copy / raw-c-loop
// variants of one call, after checking once that the call returns want.
func benchCall(b *testing.B, c *Component, fn string, args []Val, want Val) {
	ctx := context.Background()
	b.Run("bindings", func(b *testing.B) {
		f := benchFunc(b, c, fn)
		got, err := f.Call(ctx, args...)
		if err != nil || (want.IsValid() && !Equal(got, want)) {
			b.Fatalf("%s: %v, %v", fn, got, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Call(ctx, args...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-cgo", func(b *testing.B) {
		f := benchFunc(b, c, fn)
		b.ReportAllocs()
		b.ResetTimer()
		if err := baselineCgoCall(f, args, b.N); err != nil {
			b.Fatal(err)
		}
	})
	if want.Kind() == KindString {
		b.Run("raw-cgo-copy", func(b *testing.B) {
			f := benchFunc(b, c, fn)
			b.ReportAllocs()
			b.ResetTimer()
			last, err := baselineCgoCallCopy(f, args, b.N)
			if err != nil || last != want.Str() {
				b.Fatal(err)
			}
		})
	}
	b.Run("raw-c-loop", func(b *testing.B) {
		f := benchFunc(b, c, fn)
		b.ResetTimer()
		if err := baselineCall(f, args, b.N); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkNoop(b *testing.B) {
	benchCall(b, benchSetup(b).smoke, "noop", nil, Val{})
}

// BenchmarkEcho passes a string through the guest and back: ASCII text of
// 16 B, 1 KiB and 64 KiB, and 1 KiB of two-byte characters (both sides
// validate UTF-8, and validating non-ASCII text costs more).
func BenchmarkEcho(b *testing.B) {
	for _, c := range []struct {
		name string
		s    string
	}{
		{"16B", strings.Repeat("x", 16)},
		{"1KiB", strings.Repeat("abcdefgh", 128)},
		{"64KiB", strings.Repeat("abcdefgh", 8192)},
		{"1KiB-utf8", strings.Repeat("é", 512)},
	} {
		v := String(c.s)
		b.Run(c.name, func(b *testing.B) {
			benchCall(b, benchSetup(b).smoke, "echo", []Val{v}, v)
			var got string
			benchTyped(b, benchSetup(b).smoke, "echo", v, func(r Reader) error {
				got = r.String()
				return nil
			}, func() bool { return got == c.s })
		})
	}
}

// The typed path (Lowerer arguments, CallRead results), as generated
// bindings use it, beside the Val path and the raw C API in the same run.
func benchTyped(b *testing.B, c *Component, fn string, arg Val, read func(Reader) error, ok func() bool) {
	b.Run("bindings-typed", func(b *testing.B) {
		f := benchFunc(b, c, fn)
		ctx := context.Background()
		if err := f.CallRead(ctx, read, arg); err != nil || !ok() {
			b.Fatalf("%s: %v", fn, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := f.CallRead(ctx, read, arg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type benchRec struct {
	id    uint64
	name  string
	score float64
	tags  []string
	done  bool
}

func BenchmarkRecord(b *testing.B) {
	env := benchSetup(b)
	benchCall(b, env.ident, "id-a", []Val{benchRecord}, benchRecord)
	read, arg, _ := typedCase("record")
	benchTyped(b, env.ident, "id-a", arg, read, func() bool { return true })
}

func BenchmarkVariant(b *testing.B) {
	env := benchSetup(b)
	benchCall(b, env.ident, "id-b", []Val{benchVariant}, benchVariant)
	read, arg, _ := typedCase("variant")
	benchTyped(b, env.ident, "id-b", arg, read, func() bool { return true })
}

// BenchmarkHostCall: the guest calls a host function once per call
// (test:host/env#twice). raw-c-callback defines it in C, raw-go-callback
// as a C function calling the smallest Go function.
func BenchmarkHostCall(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	b.Run("bindings", func(b *testing.B) {
		f := benchFunc(b, env.smoke, "call-twice")
		if v, err := f.Call(ctx, U32(21)); err != nil || v.U32() != 42 {
			b.Fatal(v, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Call(ctx, U32(21)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bindings-typed", func(b *testing.B) {
		s, err := env.engine.NewStore(StoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		inst, err := env.direct.Instantiate(s, env.smoke)
		if err != nil {
			b.Fatal(err)
		}
		f, err := inst.Func("call-twice")
		if err != nil {
			b.Fatal(err)
		}
		read, arg, _ := typedCase("host callback")
		b.ReportAllocs()
		for b.Loop() {
			if err := f.CallRead(ctx, read, arg); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, goCallback := range []bool{false, true} {
		name := "raw-cgo-c-callback"
		if goCallback {
			name = "raw-cgo-go-callback"
		}
		b.Run(name, func(b *testing.B) {
			l, err := newBaselineLinker(env.engine, goCallback)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			s, err := env.engine.NewStore(StoreOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			inst, err := l.instantiate(s, env.smoke)
			if err != nil {
				b.Fatal(err)
			}
			f, err := inst.Func("call-twice")
			if err != nil {
				b.Fatal(err)
			}
			if v, err := f.Call(ctx, U32(21)); err != nil || v.U32() != 42 {
				b.Fatal(v, err)
			}
			b.ResetTimer()
			if err := baselineCgoCall(f, []Val{U32(21)}, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkInstantiate: a new store and an instance of the small (cached,
// compiled) smoke component in it, then the store is closed.
func BenchmarkInstantiate(b *testing.B) {
	env := benchSetup(b)
	b.Run("bindings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := env.engine.NewStore(StoreOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := env.linker.Instantiate(s, env.smoke); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("raw-cgo", func(b *testing.B) {
		l, err := newBaselineLinker(env.engine, true)
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		b.ResetTimer()
		for range b.N {
			if err := l.instantiateFresh(env.engine, env.smoke, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Most of the cost above is the kernel mapping and unmapping the
	// instance's linear memory (a 4 GiB reservation): the pooling allocator
	// reuses preallocated slots instead.
	b.Run("bindings-pooling", func(b *testing.B) {
		e, err := NewEngine(EngineConfig{PoolingAllocator: true, Pooling: PoolingConfig{
			TotalComponentInstances: 16, TotalCoreInstances: 16, TotalMemories: 16, TotalTables: 16, TotalStacks: 16,
		}})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		wasm, err := wasmtime.Wat2Wasm(smokeWAT)
		if err != nil {
			b.Fatal(err)
		}
		c, err := NewComponent(e, wasm)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		l := e.NewLinker()
		defer l.Close()
		if err := l.Instance("test:host/env").DefineFunc("twice", func(ctx context.Context, p, r []Val) error {
			r[0] = U32(p[0].U32() * 2)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			s, err := e.NewStore(StoreOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := l.Instantiate(s, c); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
}

// largeWAT is a component with n core functions of some arithmetic each
// and one export: big enough for compilation to take a while.
func largeWAT(n int) string {
	var sb strings.Builder
	sb.WriteString("(component\n  (core module $m\n")
	for i := range n {
		fmt.Fprintf(&sb, `    (func $f%d (param $x i32) (result i32) (local $i i32) (local $acc i32)
      (local.set $acc (i32.const %d))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $x)))
        (local.set $acc (i32.xor (i32.mul (local.get $acc) (i32.const 31)) (i32.add (local.get $i) (i32.const %d))))
        (local.set $acc (i32.rotl (local.get $acc) (i32.and (local.get $i) (i32.const 7))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $acc))
`, i, i, i*7+1)
	}
	sb.WriteString("    (func (export \"run\") (param i32) (result i32)")
	for i := range n {
		fmt.Fprintf(&sb, " (call $f%d (local.get 0))", i)
		if i > 0 {
			sb.WriteString(" (i32.add)")
		}
	}
	sb.WriteString(")\n  )\n  (core instance $i (instantiate $m))\n")
	sb.WriteString("  (func (export \"run\") (param \"n\" u32) (result u32) (canon lift (core func $i \"run\")))\n)\n")
	return sb.String()
}

// BenchmarkCompileVsDeserialize compiles a component with 2,000 functions,
// and loads the compiled form Serialize made of it, from memory and from a
// file: what the compile cache saves.
func BenchmarkCompileVsDeserialize(b *testing.B) {
	env := benchSetup(b)
	wasm, err := wasmtime.Wat2Wasm(largeWAT(2000))
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewComponent(env.engine, wasm)
	if err != nil {
		b.Fatal(err)
	}
	ser, err := c.Serialize()
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
	path := filepath.Join(b.TempDir(), "large.cwasm")
	if err := os.WriteFile(path, ser, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			c, err := NewComponent(env.engine, wasm)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("deserialize", func(b *testing.B) {
		for b.Loop() {
			c, err := DeserializeComponent(env.engine, ser)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("deserialize-file", func(b *testing.B) {
		for b.Loop() {
			c, err := DeserializeComponentFile(env.engine, path)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	// With the binary, to name types after it (what the host does).
	b.Run("deserialize-with-source", func(b *testing.B) {
		for b.Loop() {
			c, err := DeserializeComponentWithSource(env.engine, ser, wasm)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.ReportMetric(float64(len(wasm)), "wasm-bytes")
}

// BenchmarkReflectNames measures what naming types after the binary adds
// to loading a real plugin (the JavaScript example: 12 MB, WASI and the
// whole contract): reading the names from the binary, and deserializing
// without and with the binary (reflection included in both).
func BenchmarkReflectNames(b *testing.B) {
	wasm := builtexample.Wasm(b, "js-plugin")
	env := benchSetup(b)
	c, err := NewComponent(env.engine, wasm)
	if err != nil {
		b.Fatal(err)
	}
	ser, err := c.Serialize()
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
	b.Run("decode-names", func(b *testing.B) {
		for b.Loop() {
			if _, err := typenames.Decode(wasm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("deserialize", func(b *testing.B) {
		for b.Loop() {
			c, err := DeserializeComponent(env.engine, ser)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("deserialize-with-source", func(b *testing.B) {
		for b.Loop() {
			c, err := DeserializeComponentWithSource(env.engine, ser, wasm)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}

// TestBenchRatio measures this package against the raw C API on a shared,
// noisy machine: it alternates rounds of calls through the bindings and
// through the raw baseline, so that load hits both alike, and reports the
// median time per call of each and the median of the per-round ratios.
// Run with DRIFTLESS_BENCH_RATIO=1 (docs/PERFORMANCE.md).
func TestBenchRatio(t *testing.T) {
	if os.Getenv("DRIFTLESS_BENCH_RATIO") == "" {
		t.Skip("set DRIFTLESS_BENCH_RATIO=1 to measure")
	}
	env := benchSetup(t)
	ctx := context.Background()
	type side struct {
		name string
		run  func(n int) error
	}
	callF := func(f *Func, args []Val) func(int) error {
		return func(n int) error {
			for range n {
				if _, err := f.Call(ctx, args...); err != nil {
					return err
				}
			}
			return nil
		}
	}
	instFuncIn := func(l *Linker, c *Component, fn string) *Func {
		s, err := env.engine.NewStore(StoreOptions{})
		must(t, err)
		t.Cleanup(s.Close)
		inst, err := l.Instantiate(s, c)
		must(t, err)
		f, err := inst.Func(fn)
		must(t, err)
		return f
	}
	instFunc := func(c *Component, fn string) *Func { return instFuncIn(env.linker, c, fn) }
	cases := []struct {
		name       string
		c          *Component
		fn         string
		args       []Val
		n          int
		copyResult bool
	}{
		{"noop", env.smoke, "noop", nil, 4000, false},
		{"echo 16 B", env.smoke, "echo", []Val{String(strings.Repeat("x", 16))}, 2000, true},
		{"echo 1 KiB", env.smoke, "echo", []Val{String(strings.Repeat("abcdefgh", 128))}, 2000, true},
		{"echo 64 KiB", env.smoke, "echo", []Val{String(strings.Repeat("abcdefgh", 8192))}, 100, true},
		{"echo 1 KiB non-ASCII", env.smoke, "echo", []Val{String(strings.Repeat("é", 512))}, 2000, true},
		{"record", env.ident, "id-a", []Val{benchRecord}, 1000, false},
		{"variant", env.ident, "id-b", []Val{benchVariant}, 2000, false},
		{"host callback", env.smoke, "call-twice", []Val{U32(21)}, 2000, false},
	}
	const rounds = 31
	for _, c := range cases {
		ours := instFunc(c.c, c.fn)
		raw := instFunc(c.c, c.fn)
		sides := []side{{"bindings", callF(ours, c.args)}, {"raw-cgo", func(n int) error { return baselineCgoCall(raw, c.args, n) }}}
		if c.copyResult {
			sides = append(sides, side{"raw-cgo-copy", func(n int) error { _, err := baselineCgoCallCopy(raw, c.args, n); return err }})
		}
		if c.name == "host callback" {
			l, err := newBaselineLinker(env.engine, true)
			must(t, err)
			defer l.Close()
			s, err := env.engine.NewStore(StoreOptions{})
			must(t, err)
			defer s.Close()
			inst, err := l.instantiate(s, env.smoke)
			must(t, err)
			rf, err := inst.Func("call-twice")
			must(t, err)
			sides[1] = side{"raw-cgo (Go callback)", func(n int) error { return baselineCgoCall(rf, c.args, n) }}
		}
		// The typed path (Lowerer argument, result read in place) of the
		// calls with values, set against the same raw baselines.
		typed := -1
		if read, arg, ok := typedCase(c.name); ok {
			l := env.linker
			if c.name == "host callback" {
				l = env.direct // the host function reads and writes in place too
			}
			tf := instFuncIn(l, c.c, c.fn)
			typed = len(sides)
			sides = append(sides, side{"bindings-typed", func(n int) error {
				for range n {
					if err := tf.CallRead(ctx, read, arg); err != nil {
						return err
					}
				}
				return nil
			}})
		}
		per := make([][]float64, len(sides))
		ratios := make([][]float64, len(sides))
		var typedRatios [][]float64 // typed ÷ each raw side
		if typed > 0 {
			typedRatios = make([][]float64, typed)
		}
		for r := range rounds {
			times := make([]float64, len(sides))
			for i, sd := range sides {
				start := time.Now()
				must(t, sd.run(c.n))
				times[i] = float64(time.Since(start).Nanoseconds()) / float64(c.n)
			}
			if r == 0 {
				continue // warm-up
			}
			for i := range sides {
				per[i] = append(per[i], times[i])
				ratios[i] = append(ratios[i], times[0]/times[i])
			}
			for i := 1; i < typed; i++ {
				typedRatios[i] = append(typedRatios[i], times[typed]/times[i])
			}
		}
		line := fmt.Sprintf("%-22s bindings %8.0f ns/op", c.name, median(per[0]))
		last := len(sides)
		if typed > 0 {
			last = typed
		}
		for i := 1; i < last; i++ {
			line += fmt.Sprintf(" | %s %8.0f ns/op, ratio %.2f", sides[i].name, median(per[i]), median(ratios[i]))
		}
		if typed > 0 {
			line += fmt.Sprintf(" | bindings-typed %8.0f ns/op", median(per[typed]))
			for i := 1; i < typed; i++ {
				line += fmt.Sprintf(", ÷ %s %.2f", sides[i].name, median(typedRatios[i]))
			}
		}
		t.Log(line)
	}
}

// typedCase returns the typed-path read function and argument of a
// TestBenchRatio case with values.
func typedCase(name string) (func(Reader) error, Val, bool) {
	switch name {
	case "host callback":
		return func(r Reader) error {
			if r.U32() != 42 {
				return fmt.Errorf("twice(21) read back as %d", r.U32())
			}
			return nil
		}, U32(21), true
	case "echo 1 KiB":
		in := strings.Repeat("abcdefgh", 128)
		return func(r Reader) error {
			if r.String() != in {
				return fmt.Errorf("echo changed the string")
			}
			return nil
		}, String(in), true
	case "record":
		names := []string{"id", "name", "score", "tags", "done"}
		tags := []string{"a", "bc"}
		arg := Lowered(KindRecord, lowerFunc(func(w Writer) {
			p := w.Record(names)
			p.At(0).U64(42)
			p.At(1).String("driftless")
			p.At(2).F64(0.5)
			t := p.At(3).List(len(tags))
			for i, s := range tags {
				t.At(i).String(s)
			}
			p.At(4).Bool(true)
		}))
		var out benchRec
		return func(r Reader) error {
			out.id, out.name, out.score, out.done = r.At(0).U64(), r.At(1).String(), r.At(2).F64(), r.At(4).Bool()
			t := r.At(3)
			out.tags = make([]string, t.Len())
			for i := range out.tags {
				out.tags[i] = t.At(i).String()
			}
			if out.id != 42 || out.name != "driftless" || len(out.tags) != 2 || out.tags[1] != "bc" {
				return fmt.Errorf("record read back as %+v", out)
			}
			return nil
		}, arg, true
	case "variant":
		cases := []string{"text", "code", "pair", "none"}
		arg := Lowered(KindVariant, lowerFunc(func(w Writer) {
			t := w.VariantWith("pair").Tuple(2)
			t.At(0).S64(-5)
			t.At(1).F32(1.5)
		}))
		return func(r Reader) error {
			if r.Case(cases) != 2 {
				return fmt.Errorf("case %d", r.Case(cases))
			}
			p, _ := r.Payload()
			if x, y := p.At(0).S64(), p.At(1).F32(); x != -5 || y != 1.5 {
				return fmt.Errorf("variant read back as pair(%d, %g)", x, y)
			}
			return nil
		}, arg, true
	}
	return nil, Val{}, false
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	slices.Sort(s)
	return s[len(s)/2]
}
