package bindings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentStores uses one engine, one compiled component per fixture
// and one linker per fixture from many goroutines, each with stores of its
// own: values of every kind, host callbacks, resources, traps, timeouts and
// instantiation all run at the same time. `make race` runs it under the
// race detector.
func TestConcurrentStores(t *testing.T) {
	e, err := NewEngine(EngineConfig{ConsumeFuel: true, EpochInterruption: true, EpochTick: time.Millisecond})
	must(t, err)
	defer e.Close()
	kinds := compileWAT(t, e, kindsWAT)
	res := compileWAT(t, e, resourceWAT)
	traps := compileWAT(t, e, trapsWAT)

	// Linkers shared by all goroutines; host state lives in each store's
	// Data, reached through the context.
	state := func(ctx context.Context) *concState { return StoreFromContext(ctx).Data().(*concState) }
	kl := e.NewLinker()
	for kind, fn := range hostTransforms {
		must(t, kl.Instance("test:kinds/host").DefineFunc("h-"+kind, func(ctx context.Context, p, r []Val) error {
			state(ctx).calls++
			r[0] = fn(p[0])
			return nil
		}))
	}
	must(t, kl.Instance("test:kinds/outer").Instance("inner").DefineFunc("triple", func(ctx context.Context, p, r []Val) error {
		r[0] = U32(3 * p[0].U32())
		return nil
	}))
	blobT := NewResourceType("blob")
	rl := e.NewLinker()
	rh := rl.Instance("test:res/host")
	must(t, rh.DefineResource("blob", blobT, func(ctx context.Context, rep uint32) error {
		state(ctx).drops = append(state(ctx).drops, rep)
		return nil
	}))
	must(t, rh.DefineFunc("make-blob", func(ctx context.Context, p, r []Val) error {
		b, err := StoreFromContext(ctx).NewResource(blobT, p[0].U32())
		r[0] = ResourceVal(b)
		return err
	}))
	must(t, rh.DefineFunc("[method]blob.size", func(ctx context.Context, p, r []Val) error {
		rep, _, err := p[0].Resource().HostRep()
		r[0] = U32(rep * 2)
		return err
	}))
	must(t, rh.DefineFunc("consume-blob", func(ctx context.Context, p, r []Val) error {
		rep, _, err := p[0].Resource().HostRep()
		r[0] = U32(rep)
		return err
	}))
	must(t, rh.DefineFunc("dropped", func(ctx context.Context, p, r []Val) error {
		state(ctx).drops = append(state(ctx).drops, p[0].U32())
		return nil
	}))
	tl := e.NewLinker()
	must(t, tl.Instance("test:traps/host").DefineFunc("fail", func(ctx context.Context, p, r []Val) error {
		return errHostSentinel
	}))
	must(t, tl.Instance("test:traps/host").DefineFunc("call-other", func(ctx context.Context, p, r []Val) error { return nil }))

	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := concurrentWorker(e, w, rounds, kinds, res, traps, kl, rl, tl); err != nil {
				errs <- fmt.Errorf("worker %d: %w", w, err)
			}
		}()
	}
	// Meanwhile, other goroutines read the shared components' types.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if kinds.Type().Func("test:kinds/api", "point-swap") == nil || !strings.Contains(res.Type().WIT(), "counter") {
					errs <- errors.New("type reflection changed")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// concState is the host state of one store of TestConcurrentStores.
type concState struct {
	calls int
	drops []uint32
}

func concurrentWorker(e *Engine, w, rounds int, kinds, res, traps *Component, kl, rl, tl *Linker) error {
	ctx := context.Background()
	for round := range rounds {
		st := &concState{}
		s, err := e.NewStore(StoreOptions{Data: st, Call: CallLimits{Fuel: 1_000_000}})
		if err != nil {
			return err
		}
		err = func() error {
			defer s.Close()
			ki, err := kl.Instantiate(s, kinds)
			if err != nil {
				return err
			}
			str := strings.Repeat(fmt.Sprintf("w%d-r%d-ü", w, round), round+1)
			checks := []struct {
				fn       string
				arg, out Val
			}{
				{"str-echo", String(str), String(str)},
				{"host-string", String(str), String("host:" + str)},
				{"list-sum", List(U32(uint32(w)), U32(uint32(round))), U64(uint64(w + round))},
				{"test:kinds/api#point-swap", Record([]string{"x", "y"}, []Val{S32(int32(w)), S32(int32(round))}),
					Record([]string{"x", "y"}, []Val{S32(int32(round)), S32(int32(w))})},
				{"host-variant", VariantWith("square", U32(1)), Variant("none")},
				{"option-double", Some(U32(uint32(round))), Some(U32(uint32(2 * round)))},
				{"result-check", U32(uint32(round)), Ok(U32(uint32(2 * round)))},
				{"host-flags", Flags("read"), Flags("write", "exec")},
			}
			for _, c := range checks {
				f, err := ki.Func(strings.Split(c.fn, "#")...)
				if err != nil {
					return err
				}
				got, err := f.Call(ctx, c.arg)
				if err != nil {
					return fmt.Errorf("%s: %w", c.fn, err)
				}
				if !Equal(got, c.out) {
					return fmt.Errorf("%s(%s) = %s, want %s", c.fn, c.arg, got, c.out)
				}
			}

			ri, err := rl.Instantiate(s, res)
			if err != nil {
				return err
			}
			ctor, _ := ri.Func("[constructor]counter")
			incr, _ := ri.Func("[method]counter.incr")
			v, err := ctor.Call(ctx, U32(uint32(round)))
			if err != nil {
				return err
			}
			if got, err := incr.Call(ctx, v); err != nil || got.U32() != uint32(round+1) {
				return fmt.Errorf("incr: %v %v", got, err)
			}
			if err := v.Resource().Drop(ctx); err != nil {
				return err
			}
			mk, _ := ri.Func("blob-make")
			size, _ := ri.Func("blob-size-via-host")
			b, err := mk.Call(ctx, U32(uint32(w)))
			if err != nil {
				return err
			}
			if got, err := size.Call(ctx, b); err != nil || got.U32() != uint32(2*w) {
				return fmt.Errorf("blob size: %v %v", got, err)
			}

			ti, err := tl.Instantiate(s, traps)
			if err != nil {
				return err
			}
			fn := []string{"unreachable", "oob", "call-fail", "spin"}[round%4]
			f, _ := ti.Func(fn)
			_, err = f.Call(ctx)
			var trap *Trap
			if !errors.As(err, &trap) {
				return fmt.Errorf("%s: %v", fn, err)
			}
			// One guest destructor ran (the counter); the blob is still
			// the host's. Two host calls went through this store's state.
			if len(st.drops) != 1 || st.calls != 3 {
				return fmt.Errorf("drops %v, host calls %d", st.drops, st.calls)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}
