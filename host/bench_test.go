package host

// Benchmarks of the host; figures are in docs/PERFORMANCE.md, section
// "host".
//
//	go test ./host -run '^$' -bench . -benchmem
//	DRIFTLESS_BENCH_RATIO=1 go test ./host -run HostOverheadRatio -count=1 -v

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

const benchConfig = `{"message":"hello"}`

// benchPlugin loads the small WAT task plugin into a host with default
// limits, and returns it with a pooled instance of its own for direct calls
// through the generated bindings (gen/), in a store configured like the
// host's.
func benchPlugin(tb testing.TB) (*Plugin, *componentInstance) {
	tb.Helper()
	h, err := New(Options{Home: tb.TempDir(), DisableCache: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(h.Close)
	p, err := h.LoadBytes(context.Background(), "bench", fixture{name: "bench"}.wasm(tb))
	if err != nil {
		tb.Fatal(err)
	}
	ci, err := p.rt.(*componentRuntime).newInstance(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ci.close)
	return p, ci
}

// BenchmarkWarmCall: a small task ("echo" of a 19-byte config) through the
// host (config checked against the task's schema, instance from the pool,
// fuel and deadline set, answer checked) and through gen/ alone.
func BenchmarkWarmCall(b *testing.B) {
	p, ci := benchPlugin(b)
	ctx := context.Background()
	b.Run("host", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.ExecuteTask(ctx, "echo", benchConfig, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ci.tasks.Execute(ctx, "echo", benchConfig, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A config the host has not validated before on every call.
	b.Run("host-new-config", func(b *testing.B) {
		configs := make([]string, 1<<16)
		for i := range configs {
			configs[i] = fmt.Sprintf(`{"message":"hello","n":%d}`, i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := p.ExecuteTask(ctx, "echo", configs[i%len(configs)], false); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// TestHostOverheadRatio measures the warm host call against the gen/ call in
// alternating rounds (load from other processes hits both alike) and checks
// the target: at most 1.2 times the gen/ call. Opt-in (DRIFTLESS_BENCH_RATIO=1):
// timing assertions do not belong in every run.
func TestHostOverheadRatio(t *testing.T) {
	if os.Getenv("DRIFTLESS_BENCH_RATIO") != "1" {
		t.Skip("set DRIFTLESS_BENCH_RATIO=1 to measure the host's overhead over gen/")
	}
	p, ci := benchPlugin(t)
	ctx := context.Background()
	host := func() error { _, err := p.ExecuteTask(ctx, "echo", benchConfig, false); return err }
	gen := func() error { _, err := ci.tasks.Execute(ctx, "echo", benchConfig, false); return err }
	const rounds, batch = 30, 2000
	var ratios []float64
	var hostTotal, genTotal time.Duration
	for r := range rounds {
		var hd, gd time.Duration
		if r%2 == 0 {
			hd, gd = timeBatch(t, host, batch), timeBatch(t, gen, batch)
		} else {
			gd, hd = timeBatch(t, gen, batch), timeBatch(t, host, batch)
		}
		hostTotal += hd
		genTotal += gd
		ratios = append(ratios, float64(hd)/float64(gd))
	}
	slices.Sort(ratios)
	median := ratios[len(ratios)/2]
	t.Logf("host %6.0f ns/op  gen %6.0f ns/op  ratio %.3f (median of %d rounds)",
		float64(hostTotal)/float64(rounds*batch), float64(genTotal)/float64(rounds*batch), median, rounds)
	if median > 1.2 {
		t.Errorf("a warm call through the host takes %.2f times the gen/ call (target: at most 1.2)", median)
	}
}

func timeBatch(t *testing.T, f func() error, n int) time.Duration {
	start := time.Now()
	for range n {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkInstantiate: a new instance of a loaded plugin (what the pool
// does when it needs one), for the WAT plugin and the JavaScript example.
func BenchmarkInstantiate(b *testing.B) {
	b.Run("wat", func(b *testing.B) {
		p, _ := benchPlugin(b)
		benchInstantiate(b, p)
	})
	b.Run("js", func(b *testing.B) {
		wasm := exampleWasm(b, "js-plugin")
		h, _ := exampleHost(b, "")
		p, err := h.LoadBytes(context.Background(), "js", wasm)
		if err != nil {
			b.Fatal(err)
		}
		benchInstantiate(b, p)
	})
}

func benchInstantiate(b *testing.B, p *Plugin) {
	rt := p.rt.(*componentRuntime)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ci, err := rt.newInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ci.close()
	}
}

// BenchmarkLoad: loading a plugin (compile or cache, import and export
// checks, instantiate, describe and definitions): the WAT plugin and the
// 12 MB JavaScript example, with a warm compile cache and without a cache.
func BenchmarkLoad(b *testing.B) {
	wat := fixture{name: "bench"}.wasm(b)
	for _, c := range []struct {
		name  string
		wasm  func() []byte
		cache bool
	}{
		{"wat/cached", func() []byte { return wat }, true},
		{"wat/uncached", func() []byte { return wat }, false},
		{"js/cached", func() []byte { return exampleWasm(b, "js-plugin") }, true},
		{"js/uncached", func() []byte { return exampleWasm(b, "js-plugin") }, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			wasm := c.wasm()
			opts := Options{Home: b.TempDir(), Logger: slog.New(slog.DiscardHandler), DisableCache: !c.cache}
			if c.cache {
				opts.CacheDir = filepath.Join(b.TempDir(), "cache")
				warm, err := New(opts)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := warm.LoadBytes(context.Background(), "p", wasm); err != nil {
					b.Fatal(err)
				}
				warm.Close()
			}
			h, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			b.ReportAllocs()
			for b.Loop() {
				p, err := h.LoadBytes(context.Background(), "p", wasm)
				if err != nil {
					b.Fatal(err)
				}
				h.Unload(p.Name())
			}
		})
	}
}

// BenchmarkLoadAllExamples: LoadAll of a plugin home holding the three
// example components (JavaScript 12 MB, Python 18 MB, C 0.2 MB), cold (no
// cache) and from a warm compile cache.
func BenchmarkLoadAllExamples(b *testing.B) {
	home := b.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "plugins"), 0o755); err != nil {
		b.Fatal(err)
	}
	for _, n := range []string{"js-plugin", "python-plugin", "c-plugin"} {
		if err := os.WriteFile(filepath.Join(home, "plugins", n+".wasm"), exampleWasm(b, n), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cache := filepath.Join(b.TempDir(), "cache")
	for _, c := range []struct {
		name  string
		cache bool
	}{{"cold", false}, {"cached", true}} {
		b.Run(c.name, func(b *testing.B) {
			opts := Options{Home: home, Logger: slog.New(slog.DiscardHandler), DisableCache: !c.cache, CacheDir: cache}
			if c.cache {
				warm, err := New(opts)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := warm.LoadAll(context.Background()); err != nil {
					b.Fatal(err)
				}
				warm.Close()
			}
			for b.Loop() {
				h, err := New(opts)
				if err != nil {
					b.Fatal(err)
				}
				ps, err := h.LoadAll(context.Background())
				if err != nil || len(ps) != 3 {
					b.Fatal(len(ps), err)
				}
				for _, p := range ps {
					if p.Err() != nil {
						b.Fatal(p.Err())
					}
				}
				h.Close()
			}
		})
	}
}
