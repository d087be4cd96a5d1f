package host

import (
	"context"
	"testing"

	"github.com/driftless-dev/driftless/pluginstate"
)

// legacyStateFixture is a legacy module using env.host_state_*: its tasks
// keep a "trail" of x's under one key.
//
//	visit   appends "x" to the trail; output {"trail": <what it reads back>}
//	read    output {"trail": <the trail or null>}
//	forget  deletes the trail
//	fail    sets the trail to "lost", then answers an error envelope
//	crash   sets the trail to "lost", then traps
//	big     sets a 20-byte trail; a refusal is answered as an error
//	        envelope with the host's reason
//	wild    calls host_state_get with a pointer past the end of memory
func legacyStateFixture() *legacyFixture {
	f := newLegacyFixture().
		imp(`(import "env" "host_state_get" (func $get (param i32) (result i32)))`).
		imp(`(import "env" "host_state_set" (func $set (param i32 i32) (result i32)))`).
		imp(`(import "env" "host_state_delete" (func $del (param i32)))`).
		static("get_task_definitions", `[{"name":"visit"},{"name":"read"},{"name":"forget"},{"name":"fail"},{"name":"crash"},{"name":"big"},{"name":"wild"}]`)
	key := f.cstr("trail")
	lost := f.cstr("lost")
	big := f.cstr("01234567890123456789")
	is := func(name string) string { return "(call $eq (local.get $name) " + f.cstr(name) + ")" }
	trail := func(v string) string {
		return f.lit(`{"trail":`) + `(if (` + v + `) (then (call $jstr ` + v + `)) (else ` + f.lit("null") + `))` + f.lit(`}`)
	}
	f.fn(`(func (export "execute_task") (param $name i32) (param $cfg i32) (result i32) (local $v i32) (local $e i32)
    (call $reset)
    (if %s (then
      (local.set $v (call $get %s))
      (if (local.get $v) (then (call $str (local.get $v))))
      %s
      (drop (call $done))
      (drop (call $set %s (i32.const 8192)))
      (call $reset)
      (local.set $v (call $get %s))
      %s
      (return (call $done))))
    (if %s (then
      (local.set $v (call $get %s))
      %s
      (return (call $done))))
    (if %s (then (call $del %s) %s (return (call $done))))
    (if %s (then
      (drop (call $set %s %s))
      %s
      (return (call $done))))
    (if %s (then (drop (call $set %s %s)) unreachable))
    (if %s (then
      (local.set $e (call $set %s %s))
      (if (local.get $e) (then %s (call $jstr (local.get $e)) %s (return (call $done))))
      %s
      (return (call $done))))
    (if %s (then (drop (call $get (i32.const 0x7ffffff0)))))
    %s
    (call $done))`,
		is("visit"), key, f.lit("x"), key, key, trail("local.get $v"),
		is("read"), key, trail("local.get $v"),
		is("forget"), key, f.lit("{}"),
		is("fail"), key, lost, f.lit(`{"status":"error","message":"failed on purpose"}`),
		is("crash"), key, lost,
		is("big"), key, big, f.lit(`{"status":"error","message":`), f.lit(`}`), f.lit("{}"),
		is("wild"),
		f.lit("{}"))
	return f
}

func TestLegacyState(t *testing.T) {
	h, _ := testHost(t, "[plugins.legacy]\nmax_state_value_size = 10\n", false)
	p, err := h.LoadBytes(context.Background(), "legacy", legacyStateFixture().wasm(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(task string) (string, error) {
		res, err := p.ExecuteTask(ctx, task, "{}", false)
		return res.Output, err
	}
	for _, c := range []struct {
		task, out string
		kind      ErrorKind
		msg       string
	}{
		{task: "read", out: `{"trail":null}`},
		{task: "visit", out: `{"trail":"x"}`},
		{task: "visit", out: `{"trail":"xx"}`},
		{task: "fail", kind: KindFailed, msg: "plugin legacy: tasks.execute: failed on purpose"},
		{task: "read", out: `{"trail":"xx"}`},
		{task: "crash", kind: KindTrap},
		{task: "read", out: `{"trail":"xx"}`},
		{task: "big", kind: KindFailed, msg: `plugin legacy: tasks.execute: state: the value for key "trail" is 20 bytes, over the limit of 10 (max_state_value_size)`},
		{task: "wild", kind: KindBadOutput, msg: "plugin legacy: tasks.execute: host_state_get: argument 1 is a pointer 0x7ffffff0 past the end of memory (65536 bytes)"},
		{task: "read", out: `{"trail":"xx"}`},
		{task: "forget", out: `{}`},
		{task: "read", out: `{"trail":null}`},
	} {
		out, err := run(c.task)
		if c.kind == "" {
			if err != nil || out != c.out {
				t.Fatalf("%s: %q %v, want %q", c.task, out, err, c.out)
			}
			continue
		}
		if c.msg != "" {
			wantError(t, err, c.kind, c.msg)
		} else if KindOf(err) != c.kind {
			t.Fatalf("%s: %v, want kind %s", c.task, err, c.kind)
		}
	}

	// A value the ABI cannot carry (written by an import) fails the call,
	// naming the key.
	s, err := h.State()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, "legacy", []pluginstate.Item{{Key: "trail", Value: []byte("a\x00b")}}, true, pluginstate.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	_, err = run("read")
	wantError(t, err, KindState, `plugin legacy: tasks.execute: host_state_get: the value of key "trail" has a NUL byte at offset 1, which the legacy ABI cannot pass`)
	if err := s.Import(ctx, "legacy", []pluginstate.Item{{Key: "trail", Value: []byte("ok")}}, true, pluginstate.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if out, err := run("read"); err != nil || out != `{"trail":"ok"}` {
		t.Fatalf("read after the bad value: %q %v", out, err)
	}
}

// The state functions must have the ABI's types.
func TestLegacyStateImportTypes(t *testing.T) {
	h, _ := testHost(t, "", false)
	f := newLegacyFixture().
		imp(`(import "env" "host_state_get" (func (param i32 i32) (result i32)))`).
		imp(`(import "env" "host_state_delete" (func (param i32) (result i32)))`).
		static("get_task_definitions", `[]`)
	_, err := h.LoadBytes(context.Background(), "typed", f.wasm(t))
	wantError(t, err, KindLoad, "plugin typed: load: 2 problems: "+
		"forbidden import env.host_state_delete: type func(i32) -> i32, expected func(i32); "+
		"forbidden import env.host_state_get: type func(i32, i32) -> i32, expected func(i32) -> i32")
}
