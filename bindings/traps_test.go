package bindings

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// trapsWAT exports one function per way guest code can stop abnormally.
const trapsWAT = `(component
  (import "test:traps/host" (instance $host
    (export "fail" (func))
    (export "call-other" (func))))
  (core func $fail (canon lower (func $host "fail")))
  (core func $call-other (canon lower (func $host "call-other")))
  (core module $M
    (import "host" "fail" (func $fail))
    (import "host" "call-other" (func $call-other))
    (memory 1)
    (table 2 funcref)
    (type $void (func))
    (func $other (param i32) (result i32) (local.get 0))
    (elem (i32.const 0) func $other)
    (func (export "spin") (loop $l (br $l)))
    (func (export "cheap") (result i32) (i32.add (i32.const 1) (i32.const 2)))
    (func (export "unreachable") unreachable)
    (func (export "oob") (drop (i32.load (i32.const 0x7ffffff0))))
    (func $recurse (export "recurse") (call $recurse))
    (func (export "div0") (drop (i32.div_u (i32.const 1) (i32.const 0))))
    (func (export "overflow") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))
    (func (export "badconv") (drop (i32.trunc_f32_s (f32.const nan))))
    (func (export "indirect-sig") (call_indirect (type $void) (i32.const 0)))
    (func (export "indirect-null") (call_indirect (type $void) (i32.const 1)))
    (func $deep (export "deep") (param $n i32)
      (if (local.get $n)
        (then (call $deep (i32.sub (local.get $n) (i32.const 1))))
        (else unreachable)))
    (func (export "call-fail") (call $fail))
    (func (export "call-other") (call $call-other))
  )
  (core instance $i (instantiate $M (with "host" (instance
    (export "fail" (func $fail)) (export "call-other" (func $call-other))))))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "cheap") (result u32) (canon lift (core func $i "cheap")))
  (func (export "unreachable") (canon lift (core func $i "unreachable")))
  (func (export "oob") (canon lift (core func $i "oob")))
  (func (export "recurse") (canon lift (core func $i "recurse")))
  (func (export "div0") (canon lift (core func $i "div0")))
  (func (export "overflow") (canon lift (core func $i "overflow")))
  (func (export "badconv") (canon lift (core func $i "badconv")))
  (func (export "indirect-sig") (canon lift (core func $i "indirect-sig")))
  (func (export "indirect-null") (canon lift (core func $i "indirect-null")))
  (func (export "deep") (param "n" u32) (canon lift (core func $i "deep")))
  (func (export "call-fail") (canon lift (core func $i "call-fail")))
  (func (export "call-other") (canon lift (core func $i "call-other")))
)`

var errHostSentinel = errors.New("host says no")

type trapsEnv struct {
	engine *Engine
	comp   *Component
	linker *Linker
	// hostFail is what test:traps/host#fail does.
	hostFail func(ctx context.Context) error
	// other is what test:traps/host#call-other calls.
	other *Func
}

func newTrapsEnv(t *testing.T) *trapsEnv {
	t.Helper()
	e, err := NewEngine(EngineConfig{ConsumeFuel: true, EpochInterruption: true, EpochTick: 2 * time.Millisecond})
	must(t, err)
	t.Cleanup(e.Close)
	wasm, err := wasmtime.Wat2Wasm(trapsWAT)
	must(t, err)
	c, err := NewComponent(e, wasm)
	must(t, err)
	env := &trapsEnv{engine: e, comp: c, linker: e.NewLinker()}
	host := env.linker.Instance("test:traps/host")
	must(t, host.DefineFunc("fail", func(ctx context.Context, p, r []Val) error { return env.hostFail(ctx) }))
	must(t, host.DefineFunc("call-other", func(ctx context.Context, p, r []Val) error {
		_, err := env.other.Call(ctx)
		return err
	}))
	return env
}

// call instantiates the component in a fresh store and calls fn.
func (env *trapsEnv) call(t *testing.T, ctx context.Context, limits CallLimits, fn string, args ...Val) (*Instance, error) {
	t.Helper()
	s, err := env.engine.NewStore(StoreOptions{Call: limits})
	must(t, err)
	t.Cleanup(s.Close)
	inst, err := env.linker.Instantiate(s, env.comp)
	must(t, err)
	f, err := inst.Func(fn)
	must(t, err)
	_, err = f.Call(ctx, args...)
	return inst, err
}

func TestTrapKinds(t *testing.T) {
	env := newTrapsEnv(t)
	bg := context.Background()
	cases := []struct {
		fn       string
		kind     TrapKind
		sentinel error // nil: the kind has no sentinel of its own
	}{
		{"unreachable", TrapUnreachable, ErrUnreachable},
		{"oob", TrapOutOfBounds, ErrOutOfBounds},
		{"recurse", TrapStackOverflow, ErrStackOverflow},
		{"div0", TrapDivideByZero, nil},
		{"overflow", TrapIntegerOverflow, nil},
		{"badconv", TrapBadConversion, nil},
		{"indirect-sig", TrapIndirectCall, nil},
		{"indirect-null", TrapIndirectCall, nil},
		{"spin", TrapFuelExhausted, ErrFuelExhausted},
	}
	all := []error{ErrUnreachable, ErrOutOfBounds, ErrStackOverflow, ErrFuelExhausted, ErrInterrupted,
		ErrTimeout, ErrMemoryLimit, ErrHostFunc}
	for _, c := range cases {
		inst, err := env.call(t, bg, CallLimits{Fuel: 100_000}, c.fn)
		var trap *Trap
		if !errors.As(err, &trap) {
			t.Errorf("%s: want a *Trap, got %T %v", c.fn, err, err)
			continue
		}
		if trap.Kind != c.kind {
			t.Errorf("%s: kind %v (%s), want %v", c.fn, trap.Kind, trap.Message, c.kind)
		}
		for _, s := range all {
			if errors.Is(err, s) != (s == c.sentinel) {
				t.Errorf("%s: errors.Is(err, %q) = %v", c.fn, s, errors.Is(err, s))
			}
		}
		if len(trap.Frames) == 0 || trap.Message == "" {
			t.Errorf("%s: trap without backtrace or message: %+v", c.fn, trap)
		}
		// The instance is not entered again; the error says why.
		f, _ := inst.Func("cheap")
		_, err2 := f.Call(bg)
		var ite *InstanceTrappedError
		if !errors.As(err2, &ite) || ite.Trap != err || (c.sentinel != nil && !errors.Is(err2, c.sentinel)) {
			t.Errorf("%s: call after the trap: %v", c.fn, err2)
		}
		if inst.Trapped() != err {
			t.Errorf("%s: Trapped() = %v", c.fn, inst.Trapped())
		}
	}
}

// wasmtimeMaxFrames is how many frames wasmtime 44 keeps of a trap's
// backtrace (its Config::wasm_backtrace_max_frames default, which the C API
// cannot change).
const wasmtimeMaxFrames = 20

func TestTrapBacktraceBounded(t *testing.T) {
	env := newTrapsEnv(t)
	_, err := env.call(t, context.Background(), CallLimits{}, "deep", U32(200))
	var trap *Trap
	if !errors.As(err, &trap) || trap.Kind != TrapUnreachable {
		t.Fatalf("deep: %v", err)
	}
	// wasmtime 44 captures the innermost wasmtimeMaxFrames frames and no
	// count of the others; the package's own bound is above that.
	if len(trap.Frames) != wasmtimeMaxFrames || trap.OmittedFrames != 0 {
		t.Fatalf("frames kept %d, omitted %d; want %d and 0", len(trap.Frames), trap.OmittedFrames, wasmtimeMaxFrames)
	}
	if trap.Frames[0].Func != "deep" {
		t.Errorf("innermost frame: %+v", trap.Frames[0])
	}
	bt := trap.Backtrace()
	if strings.Count(bt, "\n") != wasmtimeMaxFrames || strings.Contains(bt, "more frames") {
		t.Errorf("backtrace:\n%s", bt)
	}
	if len(err.Error()) > 200 {
		t.Errorf("error text carries the backtrace (%d bytes): %s", len(err.Error()), err)
	}
	// Stack overflow: thousands of frames, a bounded error.
	_, err = env.call(t, context.Background(), CallLimits{}, "recurse")
	if !errors.As(err, &trap) || len(trap.Frames) != min(wasmtimeMaxFrames, MaxTraceFrames) {
		t.Fatalf("recurse: %d frames kept, %d omitted", len(trap.Frames), trap.OmittedFrames)
	}
}

func TestTrapInterrupted(t *testing.T) {
	env := newTrapsEnv(t)
	// The store's timeout.
	start := time.Now()
	_, err := env.call(t, context.Background(), CallLimits{Timeout: 30 * time.Millisecond}, "spin")
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrInterrupted) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	var te *TimeoutError
	if !errors.As(err, &te) || te.Limit != 30*time.Millisecond {
		t.Fatalf("timeout cause: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second && !noSignalsForTests {
		// (Under valgrind, which runs one thread at a time, the ticker
		// goroutine may wait long for its turn.)
		t.Fatalf("timeout took %v", d)
	}
	// The context's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = env.call(t, ctx, CallLimits{}, "spin")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrInterrupted) || errors.Is(err, ErrTimeout) {
		t.Fatalf("context deadline: %v", err)
	}
	// Cancellation while the guest runs.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = env.call(t, ctx, CallLimits{}, "spin")
	var trap *Trap
	if !errors.Is(err, context.Canceled) || !errors.As(err, &trap) || trap.Kind != TrapInterrupted {
		t.Fatalf("cancel: %v", err)
	}
	// A context cancelled before the call: nothing runs, the instance stays
	// usable.
	inst, err := env.call(t, ctx, CallLimits{}, "cheap")
	if !errors.Is(err, context.Canceled) || inst.Trapped() != nil {
		t.Fatalf("cancelled before: %v (trapped %v)", err, inst.Trapped())
	}
	f, _ := inst.Func("cheap")
	if v, err := f.Call(context.Background()); err != nil || v.U32() != 3 {
		t.Fatalf("after a refused call: %v %v", v, err)
	}
}

func TestFuelPerCall(t *testing.T) {
	env := newTrapsEnv(t)
	s, err := env.engine.NewStore(StoreOptions{Call: CallLimits{Fuel: 1000}})
	must(t, err)
	defer s.Close()
	inst, err := env.linker.Instantiate(s, env.comp)
	must(t, err)
	f, _ := inst.Func("cheap")
	// Far more calls than one budget of fuel would pay for: fuel is reset
	// before every call.
	for range 2000 {
		if _, err := f.Call(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	left, err := s.Fuel()
	must(t, err)
	if left >= 1000 || left < 900 {
		t.Fatalf("fuel left after a cheap call: %d", left)
	}
}

func TestHostFailureTraps(t *testing.T) {
	env := newTrapsEnv(t)
	bg := context.Background()

	env.hostFail = func(ctx context.Context) error { return errHostSentinel }
	_, err := env.call(t, bg, CallLimits{}, "call-fail")
	var trap *Trap
	if !errors.As(err, &trap) || trap.Kind != TrapHost || !errors.Is(err, errHostSentinel) || !errors.Is(err, ErrHostFunc) {
		t.Fatalf("host error: %v", err)
	}

	env.hostFail = func(ctx context.Context) error { panic("host bug") }
	_, err = env.call(t, bg, CallLimits{}, "call-fail")
	var hp *HostPanicError
	if !errors.As(err, &hp) || hp.Value != "host bug" || hp.Func != "test:traps/host#fail" ||
		!strings.Contains(hp.Stack, "traps_test.go") || !errors.Is(err, ErrHostFunc) {
		t.Fatalf("host panic: %v", err)
	}
	var nilMap map[string]int
	env.hostFail = func(ctx context.Context) error { nilMap["x"] = 1; return nil }
	_, err = env.call(t, bg, CallLimits{}, "call-fail")
	if !errors.As(err, &hp) {
		t.Fatalf("runtime panic in host: %v", err)
	}

	// A host function calling into another instance that traps: the inner
	// trap is the cause of the outer one.
	inner, err := env.engine.NewStore(StoreOptions{})
	must(t, err)
	defer inner.Close()
	innerInst, err := env.linker.Instantiate(inner, env.comp)
	must(t, err)
	env.other, _ = innerInst.Func("oob")
	_, err = env.call(t, bg, CallLimits{}, "call-other")
	if !errors.As(err, &trap) || trap.Kind != TrapHost || !errors.Is(err, ErrOutOfBounds) {
		t.Fatalf("nested trap: %v", err)
	}
}

// A host function calling back into the instance that called it: since
// wasmtime 44 the inner call runs (wasmtime 39 refused it with "cannot
// enter component instance"), and both calls succeed.
func TestReentry(t *testing.T) {
	env := newTrapsEnv(t)
	s, err := env.engine.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	inst, err := env.linker.Instantiate(s, env.comp)
	must(t, err)
	env.other, _ = inst.Func("cheap")
	callOther, _ := inst.Func("call-other")
	_, err = callOther.Call(context.Background())
	if err != nil || inst.Trapped() != nil || s.Trapped() != nil {
		t.Fatalf("reentry: %v (instance %v, store %v)", err, inst.Trapped(), s.Trapped())
	}
	if v, err := env.other.Call(context.Background()); err != nil || v.U32() != 3 {
		t.Fatalf("after the reentry: %v %v", v, err)
	}
}

// A trap makes wasmtime 44 refuse to enter any instance of the store, not
// only the one that trapped: calls into the others and instantiations
// return an *InstanceTrappedError naming the trap; a new store works. The
// refusal's message is matched (refusedEntry) when a trap this package did
// not see poisoned the store: this pins it.
func TestStorePoisonedByTrap(t *testing.T) {
	env := newTrapsEnv(t)
	ctx := context.Background()
	s, err := env.engine.NewStore(StoreOptions{})
	must(t, err)
	defer s.Close()
	a, err := env.linker.Instantiate(s, env.comp)
	must(t, err)
	b, err := env.linker.Instantiate(s, env.comp)
	must(t, err)
	boom, _ := a.Func("unreachable")
	_, trapErr := boom.Call(ctx)
	if !errors.Is(trapErr, ErrUnreachable) || s.Trapped() != trapErr || b.Trapped() != trapErr {
		t.Fatalf("trap %v; store %v, other instance %v", trapErr, s.Trapped(), b.Trapped())
	}
	cheap, _ := b.Func("cheap")
	_, err = cheap.Call(ctx)
	var ite *InstanceTrappedError
	if !errors.As(err, &ite) || ite.Trap != trapErr || !strings.Contains(err.Error(), "new store") {
		t.Fatalf("call into the other instance: %v", err)
	}
	if _, err := env.linker.Instantiate(s, env.comp); !errors.As(err, &ite) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("instantiate: %v", err)
	}
	// What wasmtime itself says, asked past this package's bookkeeping.
	s.trapped, b.trapped = nil, nil
	_, err = cheap.Call(ctx)
	if !refusedEntry(err) {
		t.Fatalf("wasmtime let a poisoned store be entered: %v", err)
	}
	if !errors.As(err, &ite) || s.Trapped() == nil {
		t.Fatalf("the refusal did not mark the store: %v", err)
	}
	// A failure before the guest is entered is not a trap: the store stays
	// usable (TestOwnArgumentOfFailedCall has one inside wasmtime).
	s2, err := env.engine.NewStore(StoreOptions{})
	must(t, err)
	defer s2.Close()
	c, err := env.linker.Instantiate(s2, env.comp)
	must(t, err)
	cheap2, _ := c.Func("cheap")
	if _, err := cheap2.Call(ctx, U32(1)); err == nil || s2.Trapped() != nil {
		t.Fatalf("wrong argument count: %v (store %v)", err, s2.Trapped())
	}
	if v, err := cheap2.Call(ctx); err != nil || v.U32() != 3 {
		t.Fatalf("new store: %v %v", v, err)
	}
}

// A component whose core module's start function never returns: its
// instantiation is bounded like a call, by the context, the timeout and fuel.
func TestInstantiateInterrupted(t *testing.T) {
	e, err := NewEngine(EngineConfig{ConsumeFuel: true, EpochInterruption: true, EpochTick: 2 * time.Millisecond})
	must(t, err)
	defer e.Close()
	c := compileWAT(t, e, `(component
  (core module $m (func $spin (loop $l (br $l))) (start $spin))
  (core instance $i (instantiate $m)))`)
	l := e.NewLinker()
	defer l.Close()
	run := func(ctx context.Context, limits CallLimits) error {
		s, err := e.NewStore(StoreOptions{Call: limits})
		must(t, err)
		defer s.Close()
		_, err = l.InstantiateContext(ctx, s, c)
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := run(ctx, CallLimits{}); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrInterrupted) {
		t.Fatalf("context deadline: %v", err)
	}
	if err := run(context.Background(), CallLimits{Timeout: 20 * time.Millisecond}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	if err := run(context.Background(), CallLimits{Fuel: 10_000}); !errors.Is(err, ErrFuelExhausted) {
		t.Fatalf("fuel: %v", err)
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := run(cancelled, CallLimits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
}
