package bindings

import (
	"errors"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// trapPatternsWAT has one function per entry of trapPatterns, run as a
// core module through wasmtime-go, which reports a trap code beside the
// message.
const trapPatternsWAT = `(module
  (memory 1)
  (table 2 funcref)
  (type $void (func))
  (func $other (param i32) (result i32) (local.get 0))
  (elem (i32.const 0) func $other)
  (func (export "fuel") (loop $l (br $l)))
  (func (export "interrupt") (loop $l (br $l)))
  (func (export "oob-memory") (drop (i32.load (i32.const 0x7ffffff0))))
  (func (export "oob-table") (call_indirect (type $void) (i32.const 5)))
  (func (export "misaligned") (drop (i32.atomic.load (i32.const 1))))
  (func $recurse (export "stack") (call $recurse))
  (func (export "unreachable") unreachable)
  (func (export "overflow") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))
  (func (export "div0") (drop (i32.div_u (i32.const 1) (i32.const 0))))
  (func (export "badconv") (drop (i32.trunc_f32_s (f32.const nan))))
  (func (export "indirect-sig") (call_indirect (type $void) (i32.const 0)))
  (func (export "indirect-null") (call_indirect (type $void) (i32.const 1)))
  (func (export "null-ref") (call_ref $void (ref.null $void)))
)`

// TestTrapPatternsPinned checks trapPatterns, the messages by which traps of
// component calls are classified (the component C API gives no trap code),
// against the wasmtime this package is built with: for every pattern, a
// real trap's message contains it, and the trap code wasmtime reports for
// that trap (which core traps are classified by) gives the same kind. A
// wasmtime upgrade that rewords a trap fails here instead of making its
// traps TrapOther.
func TestTrapPatternsPinned(t *testing.T) {
	// The package's engine: under valgrind it checks traps explicitly
	// instead of taking signals, as every engine of the package does.
	e, err := NewEngine(EngineConfig{ConsumeFuel: true, EpochInterruption: true,
		features: func(c *wasmtime.Config) { c.SetWasmFunctionReferences(true) }})
	must(t, err)
	defer e.Close()
	engine := e.Wasmtime()
	wasm, err := wasmtime.Wat2Wasm(trapPatternsWAT)
	must(t, err)
	module, err := wasmtime.NewModule(engine, wasm)
	must(t, err)
	byPattern := map[string]string{
		"all fuel consumed by WebAssembly":        "fuel",
		"wasm trap: interrupt":                    "interrupt",
		"out of bounds memory access":             "oob-memory",
		"out of bounds table access":              "oob-table",
		"unaligned atomic":                        "misaligned",
		"call stack exhausted":                    "stack",
		"wasm `unreachable` instruction executed": "unreachable",
		"integer overflow":                        "overflow",
		"integer divide by zero":                  "div0",
		"invalid conversion to integer":           "badconv",
		"indirect call type mismatch":             "indirect-sig",
		"uninitialized element":                   "indirect-null",
		"null reference":                          "null-ref",
	}
	if len(byPattern) != len(trapPatterns) {
		t.Errorf("%d patterns have a fixture, trapPatterns has %d", len(byPattern), len(trapPatterns))
	}
	for _, p := range trapPatterns {
		t.Run(p.text, func(t *testing.T) {
			fn, ok := byPattern[p.text]
			if !ok {
				t.Fatal("no fixture makes this trap")
			}
			store := wasmtime.NewStore(engine)
			defer store.Close()
			must(t, store.SetFuel(1_000_000))
			store.SetEpochDeadline(1 << 40) // the engine's ticker advances the epoch
			if fn == "interrupt" {
				must(t, store.SetFuel(^uint64(0)>>1))
				store.SetEpochDeadline(1)
				engine.IncrementEpoch()
			}
			inst, err := wasmtime.NewInstance(store, module, nil)
			must(t, err)
			_, err = inst.GetFunc(store, fn).Call(store)
			var wt *wasmtime.Trap
			if !errors.As(err, &wt) {
				t.Fatalf("%s: %v is not a trap", fn, err)
			}
			msg := wt.Message()
			if !strings.Contains(msg, p.text) {
				t.Errorf("%s: wasmtime says %q", fn, msg)
			}
			if kind, isTrap := classify(msg); !isTrap || kind != p.kind {
				t.Errorf("%s: classified as %v (%t), want %v", fn, kind, isTrap, p.kind)
			}
			code := wt.Code()
			if code == nil {
				t.Fatalf("%s: no trap code", fn)
			}
			if kind := coreTrapKind(uint8(*code)); kind != p.kind {
				t.Errorf("%s: trap code %d is %v, the message %v", fn, *code, kind, p.kind)
			}
		})
	}
}
