package host

// Hostile legacy plugins: every limit and every malformed answer, through the
// public API, with the exact error, and the same plugin answering a normal
// call next (on a fresh instance when the hostile one was discarded).

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/bindings"
)

// wantLegacyFresh checks the instance that serves the next call: a fresh one
// (count 1) after a call that broke its instance, the same one otherwise.
func wantLegacyFresh(t *testing.T, p *Plugin, fresh bool) {
	t.Helper()
	got := countCalls(t, p)
	if (got == "1") != fresh {
		t.Fatalf("%s: the next call ran on an instance that served %s calls (want a fresh instance: %t)", p.Name(), got, fresh)
	}
	res, err := p.ExecuteTask(context.Background(), "echo", `{"message":"still here"}`, false)
	if err != nil || res.Output != `{"message":"still here"}` {
		t.Fatalf("%s: echo after the hostile call: %+v, %v", p.Name(), res, err)
	}
}

func hostilePlugin(t *testing.T, cfg string) (*Host, *Plugin) {
	t.Helper()
	h, _ := newLegacyHost(t, cfg)
	o := defaultFx()
	f := fullFixture(o)
	withBadLog(f)
	return h, loadLegacy(t, h, "evil", f.wasm(t))
}

func TestLegacyHostileOutputs(t *testing.T) {
	_, p := hostilePlugin(t, "")
	legacyRT(t, p).maxString = 100
	ctx := context.Background()
	cases := []struct {
		task string
		kind ErrorKind
		msg  string
	}{
		{"past-end", KindBadOutput, "execute_task returned a pointer 0x7ffffff0 past the end of memory (65536 bytes)"},
		{"null", KindBadOutput, "execute_task returned a null pointer"},
		{"no-nul", KindBadOutput, "execute_task returned a string at 0xfde8 with no NUL within 100 bytes (the host's bound)"},
		{"long", KindBadOutput, "execute_task returned a string at 0xc350 with no NUL within 100 bytes (the host's bound)"},
		{"bad-utf8", KindBadOutput, "execute_task returned a string that is not valid UTF-8 (byte 0xff at offset 3)"},
		{"bad-json", KindBadOutput, "execute_task returned invalid JSON: unexpected EOF"},
		{"not-object", KindBadOutput, "execute_task returned an array, not a task result object"},
		{"bad-changed", KindBadOutput, `execute_task returned a task result whose "changed" is a string, not a boolean`},
		{"bad-log", KindBadOutput, "host_log: a pointer 0x7ffffff0 past the end of memory (65536 bytes)"},
	}
	for _, tc := range cases {
		t.Run(tc.task, func(t *testing.T) {
			_, err := p.ExecuteTask(ctx, tc.task, "", false)
			wantLegacyError(t, err, tc.kind, "plugin evil: tasks.execute: "+tc.msg)
			wantLegacyFresh(t, p, true)
		})
	}
	// With the bound at its default, the string with no NUL runs into the
	// end of memory instead.
	legacyRT(t, p).maxString = legacyMaxString
	_, err := p.ExecuteTask(ctx, "no-nul", "", false)
	wantLegacyError(t, err, KindBadOutput, "plugin evil: tasks.execute: execute_task returned a string at 0xfde8 with no NUL before the end of memory (65536 bytes)")
	if res, err := p.ExecuteTask(ctx, "long", "", false); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("200 bytes under the default bound: %+v, %v (want it read, then refused as JSON)", res, err)
	}
	wantLegacyFresh(t, p, true)
}

func TestLegacyHostileTimeout(t *testing.T) {
	_, p := hostilePlugin(t, "[security]\nfuel_limit = 9000000000000000000\nexecution_timeout_secs = 0.2\n")
	for range 2 {
		start := time.Now()
		_, err := p.ExecuteTask(context.Background(), "spin", "", false)
		took := time.Since(start)
		wantLegacyError(t, err, KindTimeout, "plugin evil: tasks.execute: execution timeout of 200ms exceeded")
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, bindings.ErrTimeout) {
			t.Errorf("errors.Is(ErrTimeout) is false for %v", err)
		}
		if took < 200*time.Millisecond || took > 2*time.Second {
			t.Errorf("the timeout of 200ms stopped the call after %v", took)
		}
		wantLegacyFresh(t, p, true)
	}
}

func TestLegacyHostileFuel(t *testing.T) {
	_, p := hostilePlugin(t, "[security]\nfuel_limit = 5000000\n")
	_, err := p.ExecuteTask(context.Background(), "spin", "", false)
	wantLegacyError(t, err, KindFuel, "plugin evil: tasks.execute: fuel limit of 5000000 exhausted")
	if !errors.Is(err, ErrFuel) || !errors.Is(err, bindings.ErrFuelExhausted) {
		t.Errorf("errors.Is(ErrFuel) is false for %v", err)
	}
	wantLegacyFresh(t, p, true)
	// Fuel is per execution: many cheap calls on one instance never run dry.
	for i := range 300 {
		if _, err := p.ExecuteTask(context.Background(), "echo", `{"message":"cheap"}`, false); err != nil {
			t.Fatalf("cheap call %d: %v", i, err)
		}
	}
}

func TestLegacyHostileCancel(t *testing.T) {
	_, p := hostilePlugin(t, "[security]\nfuel_limit = 9000000000000000000\n")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := p.ExecuteTask(ctx, "spin", "", false)
	wantLegacyError(t, err, KindCancelled, "plugin evil: tasks.execute: cancelled")
	wantLegacyFresh(t, p, true)
	dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer dcancel()
	_, err = p.ExecuteTask(dctx, "spin", "", false)
	wantLegacyError(t, err, KindCancelled, "plugin evil: tasks.execute: caller's deadline exceeded")
	wantLegacyFresh(t, p, true)
	// A context that has already ended runs nothing, and breaks nothing.
	_, err = p.ExecuteTask(ctx, "echo", `{"message":"x"}`, false)
	wantLegacyError(t, err, KindCancelled, "plugin evil: tasks.execute: cancelled")
	wantLegacyFresh(t, p, false)
}

func TestLegacyHostileMemory(t *testing.T) {
	const capBytes = 2 << 20
	h, p := hostilePlugin(t, "[security]\nmax_memory = 2097152\n")
	ctx := context.Background()
	// Grows until refused, then traps: the memory limit, named.
	_, err := p.ExecuteTask(ctx, "bomb", "", false)
	wantMemoryLimit(t, err, "evil", capBytes)
	var trap *bindings.Trap
	if !errors.As(err, &trap) || !strings.Contains(trap.Message, "execute_task trapped (wasm `unreachable` instruction executed) with memory at 1114112 bytes") {
		t.Errorf("trap %+v", trap)
	}
	wantLegacyFresh(t, p, true)
	// A crash far from the cap stays a crash.
	_, err = p.ExecuteTask(ctx, "crash", "", false)
	var he *Error
	if !errors.As(err, &he) || he.Kind != KindTrap || !strings.HasPrefix(he.Error(), "plugin evil: tasks.execute: wasm trap: wasm `unreachable` instruction executed") {
		t.Fatalf("crash: %v", err)
	}
	wantLegacyFresh(t, p, true)
	// Grows until refused, then says so: a plugin error, which keeps the
	// instance, whose memory is now full.
	_, err = p.ExecuteTask(ctx, "oom", "", false)
	wantLegacyError(t, err, KindFailed, "plugin evil: tasks.execute: out of memory")
	wantLegacyFresh(t, p, false)
	// In a full memory, a crash is taken for the memory limit.
	_, err = p.ExecuteTask(ctx, "crash", "", false)
	wantMemoryLimit(t, err, "evil", capBytes)
	wantLegacyFresh(t, p, true)
	_, err = p.ExecuteTask(ctx, "deep", "", false)
	wantLegacyError(t, err, KindTrap, "plugin evil: tasks.execute: wasm trap: call stack exhausted")
	if !errors.Is(err, bindings.ErrStackOverflow) {
		t.Errorf("errors.Is(ErrStackOverflow) is false for %v", err)
	}
	wantLegacyFresh(t, p, true)

	// What the host passes must fit: a config the plugin cannot allocate
	// (its allocate returns 0 at the cap) is the memory limit too.
	_, small := hostilePlugin(t, "[security]\nmax_memory = 524288\n")
	big := `{"message":"` + strings.Repeat("x", 600000) + `"}`
	_, err = small.ExecuteTask(ctx, "echo", big, false)
	wantMemoryLimit(t, err, "evil", 524288)
	wantLegacyFresh(t, small, true)

	// A module whose memory starts above the cap does not load.
	f := newLegacyFixture().static("get_task_definitions", "[]")
	f.memory = `(memory (export "memory") 33)`
	_, err = h.LoadBytes(ctx, "greedy", f.wasm(t))
	wantLegacyError(t, err, KindLoad, "plugin greedy: load: memory 0 declares a minimum of 2162688 bytes, more than max_memory of 2097152 bytes")
}

// wantMemoryLimit checks the error of a call stopped by max_memory (the
// rest of the message is limitError's wording).
func wantMemoryLimit(t *testing.T, err error, plugin string, capBytes int) {
	t.Helper()
	var he *Error
	want := "plugin " + plugin + ": tasks.execute: memory limit of " + litoa(capBytes) + " bytes"
	if !errors.As(err, &he) || he.Kind != KindMemory || !strings.HasPrefix(he.Error(), want) {
		t.Fatalf("got %v, want %s: %q...", err, KindMemory, want)
	}
	if !errors.Is(err, ErrMemory) || !errors.Is(err, bindings.ErrMemoryLimit) {
		t.Errorf("errors.Is(ErrMemory) is false for %v", err)
	}
}

// Hostile allocators: allocate is the plugin's too.
func TestLegacyHostileAllocate(t *testing.T) {
	h, _ := newLegacyHost(t, "[security]\nmax_memory = 1048576\n")
	ctx := context.Background()
	cases := []struct {
		name, body string
		kind       ErrorKind
		msg        string
	}{
		{"alloc-null", `(i32.const 0)`, KindBadOutput, "allocate(5) returned a null pointer"},
		{"alloc-past", `(i32.const 0x7ffffff0)`, KindBadOutput, "allocate(5) returned a pointer 0x7ffffff0 past the end of memory (65536 bytes)"},
		{"alloc-edge", `(i32.const 65534)`, KindBadOutput, "allocate(5) returned a pointer 0xfffe past the end of memory (65536 bytes)"},
		{"alloc-trap", `unreachable`, KindTrap, "wasm trap: wasm `unreachable` instruction executed"},
		{"alloc-full", `(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) (i32.const 0)`,
			KindMemory, "memory limit of 1048576 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := fullFixture(defaultFx())
			f.allocBody = tc.body
			p := loadLegacy(t, h, tc.name, f.wasm(t))
			for range 2 {
				_, err := p.ExecuteTask(ctx, "echo", `{"message":"x"}`, false)
				var he *Error
				if !errors.As(err, &he) || he.Kind != tc.kind || !strings.HasPrefix(he.Error(), "plugin "+tc.name+": tasks.execute: "+tc.msg) {
					t.Fatalf("got %v, want %s: %q", err, tc.kind, tc.msg)
				}
			}
			// Calls that pass no strings still work.
			if _, err := p.Collect(ctx, "host", ""); err == nil {
				t.Fatal("Collect passes strings: it should fail the same way")
			}
		})
	}
}

// The host keeps working for everyone while one plugin misbehaves.
func TestLegacyHostileBystander(t *testing.T) {
	h, evil := hostilePlugin(t, "[security]\nexecution_timeout_secs = 0.3\nfuel_limit = 9000000000000000000\n")
	good := loadLegacy(t, h, "good", fullFixture(defaultFx()).wasm(t))
	done := make(chan error, 1)
	go func() {
		_, err := evil.ExecuteTask(context.Background(), "spin", "", false)
		done <- err
	}()
	for i := range 20 {
		if _, err := good.ExecuteTask(context.Background(), "echo", `{"message":"ok"}`, false); err != nil {
			t.Fatalf("good plugin call %d while another spins: %v", i, err)
		}
	}
	wantLegacyError(t, <-done, KindTimeout, "plugin evil: tasks.execute: execution timeout of 300ms exceeded")
	wantLegacyFresh(t, evil, true)
	wantLegacyFresh(t, good, false)
}
