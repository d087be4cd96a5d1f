package host

// Benchmarks of plugin state; figures are in docs/PERFORMANCE.md, section
// "plugin state".
//
//	go test ./host -run '^$' -bench State -benchmem

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
)

// benchStateFixture is a state fixture whose "evil" task, by its config,
// makes one set and one get of a 16-byte value ({"r":1}), sets 100 keys to
// 16-byte values ({"w":1}), or uses no state at all ({}); it answers like
// echo.
func benchStateFixture() fixture {
	return fixture{name: "bench", data: `"k\00\00\00\00\00\00\000123456789abcdef"`, evil: `
      (local $c i32) (local $i i32)
      (if (i32.gt_u (local.get $cfg-len) (i32.const 2))
        (then (local.set $c (i32.load8_u offset=2 (local.get $cfg)))))
      (if (i32.eq (local.get $c) (i32.const 114)) ;; r
        (then
          (call $state_set (i32.const 2048) (i32.const 1) (i32.const 2056) (i32.const 16) (i32.const 640))
          (call $state_get (i32.const 2048) (i32.const 1) (i32.const 600))))
      (if (i32.eq (local.get $c) (i32.const 119)) ;; w
        (then
          (i32.store8 (i32.const 800) (i32.const 107))
          (loop $w
            (i32.store8 (i32.const 801) (i32.add (i32.const 48) (i32.div_u (local.get $i) (i32.const 10))))
            (i32.store8 (i32.const 802) (i32.add (i32.const 48) (i32.rem_u (local.get $i) (i32.const 10))))
            (call $state_set (i32.const 800) (i32.const 3) (i32.const 2056) (i32.const 16) (i32.const 640))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $w (i32.lt_u (local.get $i) (i32.const 100))))))
      (call $ok (local.get $cfg) (local.get $cfg-len))`}.withState("")
}

// BenchmarkState: calls of one small task that use no state, make a set
// and a get, or set 100 keys; committed (the call succeeds) or discarded
// (check mode: the same work without the commit).
func BenchmarkState(b *testing.B) {
	h, err := New(Options{StatePath: filepath.Join(b.TempDir(), StateFile), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	p, err := h.LoadBytes(ctx, "bench", benchStateFixture().wasm(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, config string
		check        bool
	}{
		{"no-state", `{}`, false},
		{"set-get", `{"r":1}`, false},
		{"set-get-check", `{"r":1}`, true},
		{"100-writes", `{"w":1}`, false},
		{"100-writes-check", `{"w":1}`, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.ExecuteTask(ctx, "evil", c.config, c.check); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The benchmark fixture does what the benchmark says.
func TestStateBenchFixture(t *testing.T) {
	h, _ := testHost(t, "", false)
	p := load(t, h, benchStateFixture())
	ctx := context.Background()
	for _, cfg := range []string{`{"r":1}`, `{"w":1}`} {
		if _, err := p.ExecuteTask(ctx, "evil", cfg, false); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := h.State()
	u, err := s.Usage(ctx, "bench")
	if err != nil || u.Keys != 101 || u.Bytes != 101*16+1+100*3 {
		t.Fatalf("usage %+v %v", u, err)
	}
}
