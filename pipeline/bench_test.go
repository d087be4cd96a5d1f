package pipeline

// The log pipeline benchmark of docs/PERFORMANCE.md ("## log pipeline"):
// `logs run` over a generated file of one million lines with one wasm
// filter (watlogs' min-level, a component in hand-written WAT that costs
// next to nothing per entry, so the figure is what the host and the
// pipeline pay for a wasm stage) against the same pipeline with the
// built-in level filter, alternately in the same run.
//
//	go test ./pipeline/ -run '^$' -bench LogsPipeline -benchtime 3x
//
// Metrics: lines/s of each pipeline (the median run), and the time of the
// wasm pipeline over the built-in one. BENCH_SHAPES=all adds line shapes
// (plain text, JSON without extra fields, JSON with five extra fields) and
// parallel = 2 for the wasm filter.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/host"
)

const benchLines = 1_000_000

// benchFile writes n generated lines of a shape to dir and returns the
// path: "json" is a typical structured log line (time, level, message and
// two more keys, about 120 bytes), "json-min" has time, level and message
// only, "json-wide" five more keys, "plain" is unstructured text.
func benchFile(b *testing.B, dir, shape string, n int) string {
	b.Helper()
	levels := []string{"debug", "info", "info", "info", "warn", "error"}
	var sb strings.Builder
	sb.Grow(n * 130)
	for i := range n {
		lv := levels[(i*7)%len(levels)]
		ts := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
		switch shape {
		case "json":
			fmt.Fprintf(&sb, `{"time":%q,"level":%q,"msg":"request %d served","path":"/api/items/%d","status":200}`+"\n", ts, lv, i, i%977)
		case "json-min":
			fmt.Fprintf(&sb, `{"time":%q,"level":%q,"msg":"request %d served in %dms"}`+"\n", ts, lv, i, i%250)
		case "json-wide":
			fmt.Fprintf(&sb, `{"time":%q,"level":%q,"msg":"request %d served","method":"GET","path":"/api/items/%d","status":200,"ms":%d,"user":"u%d"}`+"\n",
				ts, lv, i, i%977, i%250, i%100)
		case "plain":
			fmt.Fprintf(&sb, "%s %s request %d served path=/api/items/%d status=200\n", ts, strings.ToUpper(lv), i, i%977)
		}
	}
	p := filepath.Join(dir, shape+".log")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// benchPipeline is the pipeline file: the file source, the parser of the
// shape, one filter, a text file output.
func benchPipeline(b *testing.B, in, out, parser, filter string) *Config {
	b.Helper()
	cfg, err := Parse("bench.toml", []byte(fmt.Sprintf(`
[[sources]]
type = "file"
path = %q
[parser]
type = %q
[[filters]]
%s
[[outputs]]
type = "file"
path = %q
`, in, parser, filter, out)))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

const (
	builtinLevel  = "type = \"level\"\nlevel = \"warn\""
	wasmLevel     = "plugin = \"watlogs\"\nname = \"min-level\"\nconfig = { level = \"warn\" }"
	wasmLevelPar2 = wasmLevel + "\nparallel = 2"
	jsLevel       = "plugin = \"js-plugin\"\nname = \"min-level\"\nconfig = { level = \"warn\" }"
)

// runOnce runs cfg and returns its lines per second.
func runOnce(b *testing.B, h *host.Host, cfg *Config, n int) float64 {
	b.Helper()
	st, err := Run(context.Background(), h, cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if st.LinesIn != uint64(n) {
		b.Fatalf("%d lines in, want %d", st.LinesIn, n)
	}
	return st.LinesPerSecond
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkLogsPipeline: each iteration runs the built-in and the wasm
// pipeline once each over the same file; the metrics are the medians.
func BenchmarkLogsPipeline(b *testing.B) {
	// As `driftless logs run` does (cmd/driftless/logs.go).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	h := newHost(b, nil)
	loadWatlogs(b, h)
	dir := b.TempDir()
	out := filepath.Join(dir, "out.log")
	shapes := []string{"json"}
	if os.Getenv("BENCH_SHAPES") == "all" {
		shapes = []string{"json", "json-min", "json-wide", "plain"}
	}
	for _, shape := range shapes {
		b.Run(shape, func(b *testing.B) {
			in := benchFile(b, dir, shape, benchLines)
			parser := "json"
			if shape == "plain" {
				parser = "plain"
			}
			variants := []struct{ name, filter string }{{"builtin", builtinLevel}, {"wasm", wasmLevel}}
			if os.Getenv("BENCH_SHAPES") == "all" {
				variants = append(variants, struct{ name, filter string }{"wasm-parallel2", wasmLevelPar2})
			}
			rates := make([][]float64, len(variants))
			b.ResetTimer()
			for range b.N {
				for i, v := range variants {
					rates[i] = append(rates[i], runOnce(b, h, benchPipeline(b, in, out, parser, v.filter), benchLines))
				}
			}
			b.StopTimer()
			for i, v := range variants {
				b.ReportMetric(median(rates[i]), v.name+"-lines/s")
			}
			b.ReportMetric(median(rates[0])/median(rates[1]), "wasm/builtin-time")
		})
	}
}

// BenchmarkLogsPipelineJS: the JavaScript example's min-level, on a
// smaller file (it runs at tens of thousands of lines a second).
func BenchmarkLogsPipelineJS(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	h := newHost(b, nil)
	loadJS(b, h)
	dir := b.TempDir()
	const n = 50_000
	in := benchFile(b, dir, "json", n)
	var rates []float64
	b.ResetTimer()
	for range b.N {
		rates = append(rates, runOnce(b, h, benchPipeline(b, in, filepath.Join(dir, "out.log"), "json", jsLevel), n))
	}
	b.ReportMetric(median(rates), "js-lines/s")
}

// BenchmarkFilterStage: what one filter call costs per entry, outside the
// pipeline: a batch of 1024 entries as the json parser makes them from the
// benchmark's lines (level, message, source, two fields), through the
// built-in level filter and through watlogs' min-level (Keep), and with
// fewer strings per entry to show what each costs.
func BenchmarkFilterStage(b *testing.B) {
	h := newHost(b, nil)
	loadWatlogs(b, h)
	pl, err := h.Plugin("watlogs")
	if err != nil {
		b.Fatal(err)
	}
	wf, err := pl.OpenFilter(context.Background(), "min-level", `{"level":"warn"}`)
	if err != nil {
		b.Fatal(err)
	}
	defer wf.Close(context.Background())
	dir := b.TempDir()
	in := benchFile(b, dir, "json", 1024)
	data, _ := os.ReadFile(in)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	pb := &batch{source: in, lines: lines}
	if _, err := newJSONParser(&ParserConfig{}).parse(context.Background(), pb); err != nil {
		b.Fatal(err)
	}
	full := pb.entries
	strip := func(f func(e *logs.LogEntry)) []logs.LogEntry {
		es := slices.Clone(full)
		for i := range es {
			f(&es[i])
		}
		return es
	}
	shapes := []struct {
		name string
		es   []logs.LogEntry
	}{
		{"level+message+source+2fields", full},
		{"level+message+source", strip(func(e *logs.LogEntry) { e.Fields = nil })},
		{"level+message", strip(func(e *logs.LogEntry) { e.Fields, e.Source = nil, "" })},
		{"empty", strip(func(e *logs.LogEntry) { *e = logs.LogEntry{} })},
	}
	for _, s := range shapes {
		b.Run("wasm/"+s.name, func(b *testing.B) {
			for range b.N {
				if _, err := wf.Keep(context.Background(), s.es); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(s.es)), "ns/entry")
		})
	}
	b.Run("builtin/keeps-all-in-place", func(b *testing.B) {
		// level trace keeps every entry: the level checks alone.
		f := levelFilter{min: 0}
		bt := &batch{entries: slices.Clone(full)}
		for range b.N {
			f.filter(context.Background(), bt)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(full)), "ns/entry")
	})
	// With a copy of the batch per call (the filter compacts in place).
	b.Run("builtin/level+message+source+2fields", func(b *testing.B) {
		f := levelFilter{min: 3}
		for range b.N {
			bt := &batch{entries: slices.Clone(full)}
			f.filter(context.Background(), bt)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(full)), "ns/entry")
	})
}
