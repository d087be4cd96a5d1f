package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/driftless-dev/driftless/host"
)

// warnings collects what a run reports through Options.Warn.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, err.Error())
}

// runWarn is run with the warnings collected.
func runWarn(t testing.TB, h *host.Host, doc, dir string) (Stats, string, []string, error) {
	t.Helper()
	var out syncBuffer
	var w warnings
	st, err := Run(context.Background(), h, mustParse(t, doc), Options{Stdout: &out, Dir: dir, Warn: w.add})
	return st, out.String(), w.list, err
}

func stageStats(t *testing.T, st Stats, key string) PluginStageStats {
	t.Helper()
	for _, s := range st.PluginStages {
		if s.Stage == key {
			return s
		}
	}
	t.Fatalf("no stats for %s: %+v", key, st.PluginStages)
	return PluginStageStats{}
}

// numbered returns n lines "line 0" .. "line n-1", newline-terminated.
func numbered(n int, mark func(i int) string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "line %d%s\n", i, mark(i))
	}
	return b.String()
}

// A stage whose instance traps on one batch in ten (watlogs' flaky filter
// traps on every tenth call of its instance) loses nothing: each time, the
// stage is restarted on a fresh instance and the batch retried; one
// warning says so, the stats count the restarts.
func TestFlakyStageLosesNothing(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	dir := t.TempDir()
	in := numbered(5000, func(int) string { return "" })
	writeTemp(t, dir, "in.log", in)
	for _, parallel := range []int{1, 2} {
		t.Run(fmt.Sprint("parallel=", parallel), func(t *testing.T) {
			st, out, warns, err := runWarn(t, h, fmt.Sprintf(`
[pipeline]
batch_size = 50
[[sources]]
type = "file"
path = "in.log"
[parser]
plugin = "watlogs"
name = "raw"
[[filters]]
plugin = "watlogs"
name = "flaky"
parallel = %d
[[outputs]]
plugin = "watlogs"
name = "message"
`, parallel), dir)
			if err != nil {
				t.Fatal(err)
			}
			if out != in {
				t.Fatalf("output differs from the input (%d bytes, want %d)", len(out), len(in))
			}
			fs := stageStats(t, st, "filters[0]")
			// 100 batches; an instance traps on its 10th call, the retry
			// is the fresh one's first: a restart every 9 batches.
			if want := uint64(100 / 9 / parallel); fs.Restarts < want || fs.FailedBatches != 0 || fs.Lost != 0 {
				t.Errorf("filter stats %+v, want about %d restarts", fs, want)
			}
			if len(warns) != 1 || !strings.HasPrefix(warns[0], "filters[0] (filter flaky of plugin watlogs): restarted on a fresh instance after: plugin watlogs: logs.filter.keep: wasm trap") {
				t.Errorf("warnings: %q", warns)
			}
			checkBalance(t, st)
		})
	}
}

// A batch that fails again on a fresh instance is handed to the stage's
// error policy: with on_error = "skip" it is dropped and reported (stage,
// count, error), and everything else arrives: nothing is lost that was
// not reported. With the default, the run stops, naming the batch.
func TestFailingBatchesReported(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	dir := t.TempDir()
	// Batches of 40 lines; one batch in ten has a TRAP line (watlogs'
	// poison filter traps on it, on any instance).
	const n, batch = 4000, 40
	var lines []string
	for i := range n {
		l := fmt.Sprintf("line %d", i)
		if i%(10*batch) == 7 {
			l = "TRAP " + l
		}
		lines = append(lines, l)
	}
	in := strings.Join(lines, "\n") + "\n"
	writeTemp(t, dir, "in.log", in)
	doc := `
[pipeline]
batch_size = 40
[[sources]]
type = "file"
path = "in.log"
[parser]
plugin = "watlogs"
name = "raw"
[[filters]]
plugin = "watlogs"
name = "poison"
on_error = "skip"
[[outputs]]
plugin = "watlogs"
name = "message"
`
	st, out, warns, err := runWarn(t, h, doc, dir)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i, l := range lines {
		if (i/batch)%10 != 0 {
			want.WriteString(l + "\n")
		}
	}
	if out != want.String() {
		t.Errorf("output: %d bytes, want %d", len(out), want.Len())
	}
	fs := stageStats(t, st, "filters[0]")
	if fs.FailedBatches != 10 || fs.Lost != 10*batch || fs.Restarts < 10 || st.DroppedErrors != 10*batch || st.LinesOut != n-10*batch {
		t.Errorf("stats %+v, filter %+v", st, fs)
	}
	checkBalance(t, st)
	failed := regexp.MustCompile(`^filters\[0\] \(filter poison of plugin watlogs\): a batch of 40 entries failed again after a restart on a fresh instance: plugin watlogs: logs.filter.keep: wasm trap: .*; dropped \(on_error = "skip"\)$`)
	nFailed := 0
	for _, w := range warns {
		if failed.MatchString(w) {
			nFailed++
		}
	}
	if nFailed != 10 {
		t.Errorf("%d warnings about dropped batches, want 10: %q", nFailed, warns)
	}

	// on_error = "stop" (the default): the first failed batch stops the run.
	_, _, _, err = runWarn(t, h, strings.Replace(doc, `on_error = "skip"`, `on_error = "stop"`, 1), dir)
	var se *StageError
	if !errors.As(err, &se) || !strings.HasPrefix(se.Error(), "filters[0] (filter poison of plugin watlogs): a batch of 40 entries failed again after a restart on a fresh instance: plugin watlogs: logs.filter.keep: wasm trap") {
		t.Errorf("stop: %v", err)
	}
}

// A stateless stage is recycled every recycle_after calls, and when the
// data it was given reaches a quarter of max_memory; a stage that is not
// declared stateless never is.
func TestStatelessRecycling(t *testing.T) {
	mem := int64(1 << 20)
	h := newHost(t, &host.Config{Security: host.Security{MaxMemory: &mem}})
	loadWatlogs(t, h)
	dir := t.TempDir()
	// 2000 lines of about 250 bytes.
	in := numbered(2000, func(int) string { return " " + strings.Repeat("x", 240) })
	writeTemp(t, dir, "in.log", in)
	for _, c := range []struct {
		keys     string
		recycles uint64
	}{
		{"", 0},
		{"stateless = true\nrecycle_after = 3", 66 / 3}, // 67 batches of 30
		// 2000 × (250 + itemCost) bytes given, a recycle every 256 KiB
		{"stateless = true\nrecycle_after = 1000", 2000 * (250 + itemCost) / (256 << 10)},
	} {
		t.Run(c.keys, func(t *testing.T) {
			st, out, _, err := runWarn(t, h, `
[pipeline]
batch_size = 30
[[sources]]
type = "file"
path = "in.log"
[parser]
plugin = "watlogs"
name = "raw"
`+c.keys+`
[[outputs]]
plugin = "watlogs"
name = "message"
`, dir)
			if err != nil {
				t.Fatal(err)
			}
			if out != in {
				t.Fatal("output differs from the input")
			}
			if ps := stageStats(t, st, "parser"); ps.Recycles != c.recycles || ps.Restarts != 0 {
				t.Errorf("parser stats %+v, want %d recycles", ps, c.recycles)
			}
		})
	}
}

// TestJSExampleLongLog: a 50 MB log through the JavaScript example's
// pipeline file as shipped (examples/js-plugin/pipeline.toml: its parser,
// filter and output) completes, losing nothing. Before, the components'
// heaps grew until max_memory and the parser trapped after about 30 MB.
// The log is generated in a temporary directory (removed at the end).
func TestJSExampleLongLog(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 50 MB through three JavaScript stages (about a minute)")
	}
	h := newHost(t, nil)
	loadJS(t, h)
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "js-plugin", "pipeline.toml"))
	if err != nil {
		t.Fatal(err)
	}
	writeTemp(t, dir, "pipeline.toml", string(example))
	f, err := os.Create(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	levels := []string{"INFO", "DEBUG", "WARN", "INFO", "ERROR"}
	size, lines, kept := 0, 0, 0
	for size < 50<<20 {
		lv := levels[lines%len(levels)]
		n, _ := fmt.Fprintf(f, "%s: request %d served from the upstream cache in %d ms\n", lv, lines, lines%997)
		size += n
		lines++
		if lv == "WARN" || lv == "ERROR" {
			kept++
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(filepath.Join(dir, "pipeline.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var out countingWriter
	var w warnings
	st, err := Run(context.Background(), h, cfg, Options{Stdout: &out, Dir: dir, Warn: w.add})
	if err != nil {
		t.Fatalf("after %d of %d lines: %v", st.LinesIn, lines, err)
	}
	if st.LinesIn != uint64(lines) || st.LinesOut != uint64(kept) || st.DroppedErrors != 0 || out.lines != kept {
		t.Errorf("%d lines, %d kept: stats %+v, %d lines written", lines, kept, st, out.lines)
	}
	for _, s := range st.PluginStages {
		if s.FailedBatches != 0 || s.Lost != 0 {
			t.Errorf("%s: %+v", s.Stage, s)
		}
	}
	if ps := stageStats(t, st, "parser"); ps.Recycles == 0 {
		t.Errorf("the parser was never recycled: %+v", ps)
	}
	t.Logf("%d lines (%d MB) in %s; plugin stages %+v; warnings %q", lines, size>>20, st.Duration, st.PluginStages, w.list)
}

// countingWriter counts the lines written to it and keeps nothing.
type countingWriter struct {
	mu    sync.Mutex
	lines int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.lines += strings.Count(string(p), "\n")
	c.mu.Unlock()
	return len(p), nil
}
