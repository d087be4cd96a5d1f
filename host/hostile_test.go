package host

// The hostile-plugin suite: WAT component fixtures (fixtures_test.go), each
// run through the public host API, each asserting the exact error, and that
// the host, the same plugin and the other plugins keep working afterwards.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/bindings"
)

// Hostile bodies of the "evil" task.
const (
	evilLoop = `(loop $forever (br $forever)) (unreachable)`
	// Grows the memory one page at a time until memory.grow fails, then
	// reports the pages it got.
	evilGrowAll = `(block $full (loop $more
	    (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
	    (br $more)))
	  (call $ok (i32.const 512) (call $itoa (memory.size) (i32.const 512)))`
	// The same, then aborts as a guest allocator does when it is refused.
	evilGrowAbort = `(block $full (loop $more
	    (br_if $full (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
	    (br $more)))
	  unreachable`
	evilRecurse = `(call $recurse (i32.const 0))`
	// A task output of 20,000,000 bytes (NULs: valid UTF-8, invalid JSON).
	evilHuge = `(drop (memory.grow (i32.const 310))) (call $ok (i32.const 65536) (i32.const 20000000))`
)

const funcRecurse = `(func $recurse (param i32) (result i32) (call $recurse (i32.add (local.get 0) (i32.const 1))))`

// wantFresh checks that the plugin's next call runs on a fresh instance: the
// instance of the hostile call was thrown away. (The fixture's echo reports
// in its diff how many calls its instance served.)
func wantFresh(t *testing.T, p *Plugin, fresh bool) {
	t.Helper()
	res, err := p.ExecuteTask(context.Background(), "echo", `{"check":"fresh"}`, false)
	if err != nil {
		t.Fatalf("%s: echo after the hostile call: %v", p.Name(), err)
	}
	if got := *res.Diff == "1"; got != fresh {
		t.Fatalf("%s: the call after the hostile one ran on an instance that served %s calls (want a fresh instance: %t)",
			p.Name(), *res.Diff, fresh)
	}
}

// bystander loads a well-behaved plugin next to the hostile ones; afterwards
// checks that it still works.
func bystander(t *testing.T, h *Host) func() {
	t.Helper()
	p := load(t, h, fixture{name: "bystander"})
	echo(t, p, "before")
	return func() {
		t.Helper()
		if _, err := h.Plugin("bystander"); err != nil {
			t.Fatal(err)
		}
		echo(t, p, "after")
	}
}

func TestHostileLoopHitsTimeout(t *testing.T) {
	// Fuel off in effect: a fuel_limit far beyond what 200ms can burn.
	h, _ := testHost(t, `
[security]
fuel_limit = 9000000000000000000
execution_timeout_secs = 0.2
`, false)
	after := bystander(t, h)
	p := load(t, h, fixture{name: "loop", evil: evilLoop})
	for i := range 2 {
		start := time.Now()
		_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
		took := time.Since(start)
		wantError(t, err, KindTimeout, "plugin loop: tasks.execute: execution timeout of 200ms exceeded")
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, bindings.ErrTimeout) {
			t.Errorf("errors.Is(ErrTimeout) is false for %v", err)
		}
		if took < 200*time.Millisecond || took > 2*time.Second {
			t.Errorf("call %d: the timeout of 200ms stopped the call after %v", i, took)
		}
		wantFresh(t, p, true)
	}
	after()
}

func TestHostileLoopHitsFuel(t *testing.T) {
	h, _ := testHost(t, `
[security]
fuel_limit = 20000000
execution_timeout_secs = 600
`, false)
	after := bystander(t, h)
	p := load(t, h, fixture{name: "loop", evil: evilLoop})
	start := time.Now()
	_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindFuel, "plugin loop: tasks.execute: fuel limit of 20000000 exhausted")
	if !errors.Is(err, ErrFuel) {
		t.Errorf("errors.Is(ErrFuel) is false for %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("fuel ran out after %v", took)
	}
	wantFresh(t, p, true)
	after()
}

// Every call starts with the full fuel_limit: a task burning 60% of it runs
// any number of times on the same instance.
func TestFuelIsPerCall(t *testing.T) {
	h, _ := testHost(t, "[security]\nfuel_limit = 10000000\n", false)
	// 8 units of fuel per iteration (one per instruction): 750,000
	// iterations burn 6M.
	p := load(t, h, fixture{name: "burner", evil: `(local $i i32)
	  (loop $l
	    (local.set $i (i32.add (local.get $i) (i32.const 1)))
	    (br_if $l (i32.lt_u (local.get $i) (i32.const 750000))))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`})
	for i := 1; i <= 5; i++ {
		res, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if want := string(rune('0' + i)); *res.Diff != want {
			t.Fatalf("call %d ran on an instance that served %s calls: not the same instance", i, *res.Diff)
		}
	}
}

// A context ends a running call within one epoch tick (5ms in these tests),
// whatever the plugin's own limits.
func TestHostileLoopCancelled(t *testing.T) {
	h, _ := testHost(t, "[security]\nfuel_limit = 9000000000000000000\nexecution_timeout_secs = 600\n", false)
	p := load(t, h, fixture{name: "loop", evil: evilLoop})

	ctx, cancel := context.WithCancel(context.Background())
	var cancelled time.Time
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancelled = time.Now()
		cancel()
	}()
	_, err := p.ExecuteTask(ctx, "evil", "{}", false)
	late := time.Since(cancelled)
	wantError(t, err, KindCancelled, "plugin loop: tasks.execute: cancelled")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(context.Canceled) is false for %v", err)
	}
	if late > time.Second {
		t.Errorf("the call ended %v after its context was cancelled", late)
	}
	wantFresh(t, p, true)

	// The caller's deadline is the caller's, not the plugin's timeout, even
	// when the epoch check sees it pass before the context's own timer has
	// fired (which used to be reported as "execution timeout of 10m0s").
	for range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err = p.ExecuteTask(ctx, "evil", "{}", false)
		cancel()
		wantError(t, err, KindCancelled, "plugin loop: tasks.execute: caller's deadline exceeded")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(context.DeadlineExceeded) is false for %v", err)
		}
	}
	wantFresh(t, p, true)

	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()

	// A context already done: nothing runs.
	_, err = p.ExecuteTask(ctx, "echo", "{}", false)
	wantError(t, err, KindCancelled, "plugin loop: tasks.execute: caller's deadline exceeded")
}

func TestHostileMemoryBomb(t *testing.T) {
	const capBytes = 2 << 20 // 32 pages
	h, _ := testHost(t, "[security]\nmax_memory = 2097152\n", false)
	after := bystander(t, h)

	// The cap is hard: memory.grow fails at 32 pages, without a trap.
	p := load(t, h, fixture{name: "bomb", evil: evilGrowAll})
	res, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "32" {
		t.Fatalf("the plugin grew its memory to %s pages; max_memory allows %d", res.Output, capBytes/65536)
	}
	// Nothing broke: the instance goes on serving.
	wantFresh(t, p, false)

	// A plugin that aborts when refused: the error says what the cap is.
	p = load(t, h, fixture{name: "bomb-abort", evil: evilGrowAbort})
	_, err = p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindTrap, "plugin bomb-abort: tasks.execute: wasm trap: wasm `unreachable` instruction executed "+
		"(the plugin aborted; if it ran out of memory: max_memory is 2097152 bytes)")
	if !errors.Is(err, ErrTrap) || !errors.Is(err, bindings.ErrUnreachable) {
		t.Errorf("errors.Is(ErrTrap, ErrUnreachable) is false for %v", err)
	}
	wantFresh(t, p, true)

	// What the host passes in must fit too: a config the plugin's allocator
	// cannot place aborts the call (here 1 MiB with max_memory at 64 KiB).
	h2, _ := testHost(t, "[security]\nmax_memory = 65536\n", false)
	p = load(t, h2, fixture{name: "small"})
	big := `{"pad":"` + strings.Repeat("x", 1<<20-20) + `"}`
	_, err = p.ExecuteTask(context.Background(), "echo", big, false)
	wantError(t, err, KindTrap, "plugin small: tasks.execute: wasm trap: wasm `unreachable` instruction executed "+
		"(the plugin aborted; if it ran out of memory: max_memory is 65536 bytes)")
	echo(t, p, "small")

	// A component whose memory needs more than the cap from the start does
	// not instantiate: its load fails naming max_memory.
	p, err = h.LoadBytes(context.Background(), "greedy", fixture{name: "greedy", pages: 33}.wasm(t))
	wantError(t, err, KindMemory, "plugin greedy: instantiate: memory limit of 2097152 bytes (max_memory) exceeded: "+
		"memory minimum size of 33 pages exceeds memory limits")
	if !errors.Is(err, ErrMemory) || p.Err() == nil {
		t.Errorf("errors.Is(ErrMemory) is false for %v, or the plugin has no load error", err)
	}
	after()
}

func TestHostileDeepRecursion(t *testing.T) {
	h, _ := testHost(t, "", false)
	after := bystander(t, h)
	p := load(t, h, fixture{name: "deep", funcs: funcRecurse, evil: evilRecurse})
	_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindTrap, "plugin deep: tasks.execute: wasm trap: call stack exhausted")
	if !errors.Is(err, bindings.ErrStackOverflow) {
		t.Errorf("errors.Is(ErrStackOverflow) is false for %v", err)
	}
	wantFresh(t, p, true)
	after()
}

// A plugin answering more than the host accepts (16 MiB) gets a bad-output
// error; like a trap, the answer makes its instance untrustworthy, so the
// instance is thrown away. So is one whose output is not JSON.
func TestHostileHugeResult(t *testing.T) {
	h, _ := testHost(t, "", false)
	after := bystander(t, h)
	p := load(t, h, fixture{name: "huge", evil: evilHuge})
	_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindBadOutput, "plugin huge: tasks.execute: task output is 20000000 bytes, over the host's limit of 16777216 bytes")
	wantFresh(t, p, true)

	p = load(t, h, fixture{name: "garbage", data: `"not json"`, evil: `(call $ok (i32.const 2048) (i32.const 8))`})
	_, err = p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindBadOutput, "plugin garbage: tasks.execute: task output is not valid JSON: invalid character 'o' in literal null (expecting 'u')")
	wantFresh(t, p, true)

	// An error the plugin reports itself is an answer like any other: its
	// instance is kept.
	p = load(t, h, fixture{name: "refuses", data: `"no, thanks"`, evil: `(call $fail (i32.const 1) (i32.const 2048) (i32.const 10))`})
	_, err = p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindInvalidInput, "plugin refuses: tasks.execute: no, thanks")
	wantFresh(t, p, false)
	after()
}

// Traps raised while the host lifts the arguments of a host callback
// (host.log here): a string out of the plugin's memory, invalid UTF-8.
func TestHostileTrapInHostCallback(t *testing.T) {
	h, rec := testHost(t, "", false)
	after := bystander(t, h)
	for _, c := range []struct {
		f    fixture
		want string
	}{
		{fixture{name: "log-oob", evil: `(call $log (i32.const 2) (i32.const 0x7fff0000) (i32.const 10))
		  (call $ok (local.get $cfg) (local.get $cfg-len))`},
			"plugin log-oob: tasks.execute: wasm trap: string pointer/length out of bounds of memory"},
		{fixture{name: "log-utf8", data: `"\ff\fe bad"`, evil: `(call $log (i32.const 2) (i32.const 2048) (i32.const 6))
		  (call $ok (local.get $cfg) (local.get $cfg-len))`},
			"plugin log-utf8: tasks.execute: wasm trap: invalid utf-8 sequence of 1 bytes from index 0"},
		{fixture{name: "log-level", data: `"hello"`, evil: `(call $log (i32.const 9) (i32.const 2048) (i32.const 5))
		  (call $ok (local.get $cfg) (local.get $cfg-len))`},
			"plugin log-level: tasks.execute: wasm trap: discriminant 9 out of range [0..5)"},
	} {
		p := load(t, h, c.f)
		_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
		wantError(t, err, KindTrap, c.want)
		wantFresh(t, p, true)
	}
	for _, l := range rec.lines() {
		if strings.HasPrefix(l.Attrs["plugin"], "log-") {
			t.Errorf("a refused host.log call was logged: %+v", l)
		}
	}
	after()
}

// A panic in the host's implementation of a host callback (here: the
// embedder's slog.Handler panics on the message host.log passes it) traps
// the plugin's call, with the panic in the error; the host goes on.
func TestHostilePanicInHostCallback(t *testing.T) {
	h, rec := testHost(t, "", false)
	after := bystander(t, h)
	p := load(t, h, fixture{name: "panicky", data: `"PANIC now"`, evil: `(call $log (i32.const 2) (i32.const 2048) (i32.const 9))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`})
	_, err := p.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindTrap, "plugin panicky: tasks.execute: host function driftless:plugin/host@0.1.0#log panicked: log handler exploded on PANIC now")
	var hp *bindings.HostPanicError
	if !errors.As(err, &hp) || !strings.Contains(hp.Stack, "logRecorder") {
		t.Errorf("the error does not carry the panic and its stack: %#v", err)
	}
	wantFresh(t, p, true)
	// The logger works for everyone else.
	rec.reset()
	q := load(t, h, fixture{name: "talker", data: `"hello"`, evil: `(call $log (i32.const 2) (i32.const 2048) (i32.const 5))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`})
	if _, err := q.ExecuteTask(context.Background(), "evil", "{}", false); err != nil {
		t.Fatal(err)
	}
	if lines := rec.lines(); len(lines) != 1 || lines[0].Msg != "hello" || lines[0].Attrs["plugin"] != "talker" {
		t.Fatalf("log after the panic: %+v", lines)
	}
	after()
}

func TestHostileImports(t *testing.T) {
	h, _ := testHost(t, "", false)
	after := bystander(t, h)
	for _, c := range []struct {
		name, imports, want string
	}{
		{"sockets", `(import "wasi:sockets/tcp@0.2.0" (instance (export "placeholder" (func))))`,
			"plugin sockets: load: import wasi:sockets/tcp@0.2.0: network access is not allowed to plugins"},
		{"http", `(import "wasi:http/outgoing-handler@0.2.0" (instance (export "placeholder" (func))))`,
			"plugin http: load: import wasi:http/outgoing-handler@0.2.0: network access is not allowed to plugins"},
		{"unknown", `(import "evil:net/raw" (instance (export "open" (func (param "addr" string) (result u32)))))`,
			"plugin unknown: load: import evil:net/raw: unknown interface; plugins may import only " +
				"driftless:plugin/host@0.1.0, driftless:plugin/state@0.1.0 and wasi:* (without sockets and http)"},
		{"root-func", `(import "exec" (func (param "cmd" string)))`,
			"plugin root-func: load: import exec: unknown interface; plugins may import only " +
				"driftless:plugin/host@0.1.0, driftless:plugin/state@0.1.0 and wasi:* (without sockets and http)"},
		{"contract", `(import "driftless:plugin/tasks@0.1.0" (instance (export "placeholder" (func))))`,
			"plugin contract: load: import driftless:plugin/tasks@0.1.0: the host provides only " +
				"driftless:plugin/host@0.1.0, driftless:plugin/state@0.1.0 and driftless:plugin/types@0.1.0 of driftless:plugin"},
		{"several", `(import "wasi:sockets/udp@0.2.0" (instance (export "placeholder" (func))))
		  (import "evil:net/raw" (instance (export "open" (func))))`,
			"plugin several: load: 2 problems: import evil:net/raw: unknown interface; plugins may import only " +
				"driftless:plugin/host@0.1.0, driftless:plugin/state@0.1.0 and wasi:* (without sockets and http); " +
				"import wasi:sockets/udp@0.2.0: network access is not allowed to plugins"},
	} {
		p, err := h.LoadBytes(context.Background(), c.name, fixture{name: c.name, imports: c.imports}.wasm(t))
		wantError(t, err, KindLoad, c.want)
		// Listed with its error; every call returns it.
		if p == nil || p.Err() == nil {
			t.Fatalf("%s: not listed with its error", c.name)
		}
		if _, err := h.Plugin(c.name); err == nil || err.Error() != c.want {
			t.Errorf("%s: Plugin() = %v", c.name, err)
		}
		if _, err := p.ExecuteTask(context.Background(), "echo", "{}", false); err == nil || err.Error() != c.want {
			t.Errorf("%s: a call into the broken plugin returned %v", c.name, err)
		}
	}
	// The host's own interface imported with other types than the contract.
	_, err := h.LoadBytes(context.Background(), "mistyped", fixture{name: "mistyped",
		hostImport: strings.Replace(fixtureHost, `(param "message" string)`, `(param "message" (list u8))`, 1)}.wasm(t))
	wantError(t, err, KindLoad, "plugin mistyped: load: function driftless:plugin/host@0.1.0#log has type (enum{trace,debug,info,warn,error},list<u8>), "+
		"but the bindings expect (enum{trace,debug,info,warn,error},string)")
	after()
}

func TestHostileExports(t *testing.T) {
	h, _ := testHost(t, "", false)
	after := bystander(t, h)
	for _, c := range []struct {
		f    fixture
		want string
	}{
		{fixture{name: "anonymous", noMetadata: true},
			"plugin anonymous: load: the component does not export driftless:plugin/metadata@0.1.0, which every plugin must"},
		{fixture{name: "useless", noTasks: true},
			"plugin useless: load: the component exports none of driftless:plugin/tasks@0.1.0, driftless:plugin/facts@0.1.0, " +
				"driftless:plugin/templates@0.1.0, driftless:plugin/logs@0.1.0: it provides nothing"},
		{fixture{name: "empty", noMetadata: true, noTasks: true},
			"plugin empty: load: 2 problems: the component does not export driftless:plugin/metadata@0.1.0, which every plugin must; " +
				"the component exports none of driftless:plugin/tasks@0.1.0, driftless:plugin/facts@0.1.0, " +
				"driftless:plugin/templates@0.1.0, driftless:plugin/logs@0.1.0: it provides nothing"},
		{fixture{name: "mistyped", describeType: `(record (field "name" string))`},
			"plugin mistyped: load: function driftless:plugin/metadata@0.1.0#describe has type ()->record{name:string}, " +
				"but the bindings expect ()->record{name:string,version:string,description:string}"},
	} {
		_, err := h.LoadBytes(context.Background(), c.f.name, c.f.wasm(t))
		wantError(t, err, KindLoad, c.want)
	}
	after()
}
