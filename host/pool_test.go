package host

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// An instance serves max_calls_per_instance calls, then a fresh one takes
// over; a trap retires it at once.
func TestPoolRecycling(t *testing.T) {
	h, _ := testHost(t, "[security]\nmax_calls_per_instance = 3\n", false)
	p := load(t, h, fixture{name: "worn", evil: "unreachable"})
	ctx := context.Background()
	var served []string
	run := func(task string) {
		res, err := p.ExecuteTask(ctx, task, "{}", false)
		if err != nil {
			served = append(served, "trap")
			return
		}
		served = append(served, *res.Diff)
	}
	for range 7 {
		run("echo")
	}
	run("evil")
	run("echo")
	run("echo")
	// The load's describe/definitions calls count as one call of the first
	// instance (they run in one pooled call).
	want := "1 2 1 2 3 1 2 trap 1 2"
	if got := strings.Join(served, " "); got != want {
		t.Errorf("calls served by each instance:\n got  %s\n want %s", got, want)
	}
}

// At most max_instances instances run at once: 6 callers of a task that
// spends 100ms in a host callback (the log handler sleeps), with
// max_instances = 2, run two at a time, and all succeed.
func TestPoolMaxInstancesConcurrent(t *testing.T) {
	h, rec := testHost(t, "[security]\nmax_instances = 2\nexecution_timeout_secs = 5\n", false)
	var mu sync.Mutex
	running, most := 0, 0
	rec.hook = func(r slog.Record) {
		if r.Message != "sleep" {
			return
		}
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
	}
	p := load(t, h, fixture{name: "sleepy", data: `"sleep"`, evil: `(call $log (i32.const 2) (i32.const 2048) (i32.const 5))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`})
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			cfg := fmt.Sprintf(`{"caller":%d}`, i)
			res, err := p.ExecuteTask(context.Background(), "evil", cfg, false)
			if err != nil || res.Output != cfg {
				t.Errorf("caller %d: %+v %v", i, res, err)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if most != 2 || took < 300*time.Millisecond {
		t.Errorf("%d calls ran at once at most; the 6 calls took %v (want 2, and at least 300ms)", most, took)
	}
}

// A caller waits for a free instance at most the plugin's execution timeout,
// then gets a busy error naming max_instances.
func TestPoolBusy(t *testing.T) {
	h, _ := testHost(t, "[security]\nmax_instances = 1\nexecution_timeout_secs = 0.2\n", false)
	p := load(t, h, fixture{name: "single"})
	rt := p.rt.(*componentRuntime)
	held, err := rt.pool.get(context.Background(), variantPlain)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.ExecuteTask(context.Background(), "echo", "{}", false)
	wantError(t, err, KindBusy, "plugin single: tasks.execute: all 1 instances stayed busy for 200ms (max_instances)")
	if took := time.Since(start); took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("waited %v", took)
	}
	// A caller whose context ends first gets its own error.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = p.ExecuteTask(ctx, "echo", "{}", false)
	wantError(t, err, KindCancelled, "plugin single: tasks.execute: caller's deadline exceeded")

	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		rt.pool.put(held)
	})
	echo(t, p, "freed")
	wg.Wait()

	// A caller waiting when the plugin is unloaded is told at once.
	held, err = rt.pool.get(context.Background(), variantPlain)
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		h.Unload("single")
	})
	start = time.Now()
	_, err = p.ExecuteTask(context.Background(), "echo", "{}", false)
	wantError(t, err, KindFailed, "plugin single: tasks.execute: plugin was unloaded")
	if took := time.Since(start); took > 150*time.Millisecond {
		t.Errorf("the waiting caller learnt of the unload after %v", took)
	}
	wg.Wait()
	rt.pool.put(held)
	if n := rt.pool.inUse(); n != 0 {
		t.Errorf("%d instances in use", n)
	}
}
