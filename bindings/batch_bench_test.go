package bindings

import (
	"context"
	"fmt"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// batchWAT exports count: func(x: list<entry>) -> u32, with entry shaped
// like driftless:plugin/logs' log-entry. The guest does nothing but take
// the list (its strings land in memory from a bump allocator reset by
// post-return), so the call's cost is the host's and the C API's: what a
// log filter's keep pays per entry before the filter itself runs.
const batchWAT = `(component
  (core module $M
    (memory (export "memory") 64)
    (global $top (mut i32) (i32.const 8))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $top (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "count") (param i32 i32) (result i32) (local.get 1))
    (func (export "reset") (param i32) (global.set $top (i32.const 8))))
  (core instance $m (instantiate $M))
  (type $e (record (field "timestamp" u64) (field "level" (option string))
    (field "message" string) (field "source" string) (field "fields" (list (tuple string string)))))
  (export $entry "log-entry" (type $e))
  (func (export "count") (param "x" (list $entry)) (result u32)
    (canon lift (core func $m "count") (memory $m "memory") (realloc (func $m "realloc"))
      (post-return (func $m "reset"))))
)`

type batchEntry struct {
	ts                   uint64
	level                string
	message, source      string
	fieldKeys, fieldVals [2]string
}

var batchNames = []string{"timestamp", "level", "message", "source", "fields"}

func batchEntries(n int) []batchEntry {
	es := make([]batchEntry, n)
	for i := range es {
		es[i] = batchEntry{
			ts: uint64(i), level: "warn", message: fmt.Sprintf("request %d served", i), source: "/var/log/app.log",
			fieldKeys: [2]string{"path", "status"}, fieldVals: [2]string{fmt.Sprintf("/api/items/%d", i), "200"},
		}
	}
	return es
}

func batchVals(es []batchEntry) Val {
	vals := make([]Val, len(es))
	for i, e := range es {
		vals[i] = Record(batchNames, []Val{U64(e.ts), Some(String(e.level)), String(e.message), String(e.source),
			List(Tuple(String(e.fieldKeys[0]), String(e.fieldVals[0])), Tuple(String(e.fieldKeys[1]), String(e.fieldVals[1])))})
	}
	return List(vals...)
}

type batchLowerer []batchEntry

func (es batchLowerer) Lower(w Writer) {
	p := w.List(len(es))
	for i := range es {
		e := &es[i]
		r := p.At(i).Record(batchNames)
		r.At(0).U64(e.ts)
		r.At(1).Some().String(e.level)
		r.At(2).String(e.message)
		r.At(3).String(e.source)
		fs := r.At(4).List(2)
		for j := range 2 {
			t := fs.At(j).Tuple(2)
			t.At(0).String(e.fieldKeys[j])
			t.At(1).String(e.fieldVals[j])
		}
	}
}

// BenchmarkBatchArg: a list of 1,024 log-entry records as one argument,
// per entry: built as Vals each call (what generated code did before
// Lowerers), written by a Lowerer, and the raw C API calling in a C loop
// with the C values prepared once (the floor any Go binding has).
func BenchmarkBatchArg(b *testing.B) {
	const n = 1024
	e, err := NewEngine(EngineConfig{})
	if err != nil {
		b.Fatal(err)
	}
	wasm, err := wasmtime.Wat2Wasm(batchWAT)
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewComponent(e, wasm)
	if err != nil {
		b.Fatal(err)
	}
	es := batchEntries(n)
	fn := func(b *testing.B) *Func {
		s, err := e.NewStore(StoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Close)
		inst, err := e.NewLinker().Instantiate(s, c)
		if err != nil {
			b.Fatal(err)
		}
		f, err := inst.Func("count")
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	perEntry := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
	}
	ctx := context.Background()
	b.Run("vals", func(b *testing.B) {
		f := fn(b)
		b.ReportAllocs()
		for b.Loop() {
			if v, err := f.Call(ctx, batchVals(es)); err != nil || v.U32() != n {
				b.Fatal(v, err)
			}
		}
		perEntry(b)
	})
	b.Run("lowered", func(b *testing.B) {
		f := fn(b)
		b.ReportAllocs()
		for b.Loop() {
			if v, err := f.Call(ctx, Lowered(KindList, batchLowerer(es))); err != nil || v.U32() != n {
				b.Fatal(v, err)
			}
		}
		perEntry(b)
	})
	b.Run("raw-c-loop", func(b *testing.B) {
		f := fn(b)
		arg := batchVals(es)
		b.ResetTimer()
		if err := baselineCall(f, []Val{arg}, b.N); err != nil {
			b.Fatal(err)
		}
		perEntry(b)
	})
}
