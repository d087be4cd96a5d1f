package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/internal/builtexample"
)

// TestStressConcurrentPlugins: many goroutines call several plugins at once
// (make race runs it under -race): WAT plugins, one of which traps on every
// seventh call, one that logs on every call, and the JavaScript example when
// it is built. Every answer must be the one to its own call (each call
// carries a unique id that the plugin echoes), every trap must be where it
// was provoked, and nothing else may fail.
func TestStressConcurrentPlugins(t *testing.T) {
	duration := 3 * time.Second
	if testing.Short() {
		duration = 500 * time.Millisecond
	}
	if d, err := time.ParseDuration(os.Getenv("DRIFTLESS_STRESS")); err == nil {
		duration = d
	}
	h, rec := testHost(t, "[security]\nmax_instances = 4\nmax_calls_per_instance = 50\n", false)
	ctx := context.Background()

	type target struct {
		p        *Plugin
		task     string
		trapping bool // "evil" on every seventh call, which traps
		js       bool
	}
	var targets []target
	for _, f := range []fixture{
		{name: "alpha"},
		{name: "beta"},
		{name: "trapper", evil: "unreachable"},
		{name: "chatty", data: `"called"`, evil: `(call $log (i32.const 2) (i32.const 2048) (i32.const 6))
		  (call $ok (local.get $cfg) (local.get $cfg-len))`},
	} {
		tg := target{p: load(t, h, f), task: "echo", trapping: f.name == "trapper"}
		if f.name == "chatty" {
			tg.task = "evil" // logs, then echoes
		}
		targets = append(targets, tg)
	}
	if builtexample.Built("js-plugin") || builtexample.Required() {
		wasm := builtexample.Wasm(t, "js-plugin")
		jh, _ := exampleHost(t, "[security]\nmax_instances = 3\n")
		p, err := jh.LoadBytes(ctx, "js", wasm)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, target{p: p, task: "echo", js: true})
	} else {
		t.Log("without the JavaScript example (not built)")
	}

	const workers = 16
	var (
		calls, traps atomic.Int64
		perPlugin    = make([]atomic.Int64, len(targets))
		wg           sync.WaitGroup
		stop         = time.Now().Add(duration)
	)
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop) || i < 20; i++ {
				ti := (w + i) % len(targets)
				tg := targets[ti]
				id := fmt.Sprintf("w%d-c%d", w, i)
				if tg.trapping && i%7 == 0 {
					_, err := tg.p.ExecuteTask(ctx, "evil", "{}", false)
					if !errors.Is(err, bindings.ErrUnreachable) || KindOf(err) != KindTrap {
						t.Errorf("%s: provoked trap: %v", id, err)
						return
					}
					traps.Add(1)
					continue
				}
				var cfg, wantMsg string
				if tg.js {
					cfg = `{"message":"` + id + `"}`
					wantMsg = id
				} else {
					cfg = `{"id":"` + id + `"}`
					wantMsg = tg.p.Info().Name
				}
				res, err := tg.p.ExecuteTask(ctx, tg.task, cfg, false)
				if err != nil {
					t.Errorf("%s: %s: %v", id, tg.p.Name(), err)
					return
				}
				if res.Output != cfg || res.Message != wantMsg {
					t.Errorf("%s: %s answered %q / %q to %q", id, tg.p.Name(), res.Message, res.Output, cfg)
					return
				}
				calls.Add(1)
				perPlugin[ti].Add(1)
			}
		})
	}
	wg.Wait()
	for i, tg := range targets {
		t.Logf("%s: %d calls", tg.p.Name(), perPlugin[i].Load())
	}
	t.Logf("%d workers: %d calls and %d provoked traps in %v", workers, calls.Load(), traps.Load(), duration)
	if traps.Load() == 0 || calls.Load() < workers*20-traps.Load() {
		t.Errorf("too few calls: %d, %d traps", calls.Load(), traps.Load())
	}
	// Every instance went back to its pool (none leaked by a trap), and the
	// plugins still work.
	for _, tg := range targets {
		if rt, ok := tg.p.rt.(*componentRuntime); ok && rt.pool.inUse() != 0 {
			t.Errorf("%s: %d instances still taken", tg.p.Name(), rt.pool.inUse())
		}
		if !tg.js {
			echo(t, tg.p, "after")
		}
	}
	chatty := 0
	for _, l := range rec.lines() {
		if l.Attrs["plugin"] == "chatty" && l.Msg == "called" {
			chatty++
		}
	}
	if chatty == 0 {
		t.Error("chatty's log messages did not arrive")
	}
}
