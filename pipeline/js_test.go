package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/host"
)

// TestJSExample runs examples/js-plugin/pipeline.toml as its README says:
// file source → colon (JavaScript parser) → min-level warn → bracket.
func TestJSExample(t *testing.T) {
	h := newHost(t, nil)
	loadJS(t, h)
	dir := filepath.Join(repoRoot(), "examples", "js-plugin")
	cfg, err := LoadConfig(filepath.Join(dir, "pipeline.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Check(h); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	st, err := Run(context.Background(), h, cfg, Options{Stdout: &out, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := "[WARN] cache directory missing, using memory\n[ERROR] upstream timed out after 30s\n[WARN] disk 91% full\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if st.LinesIn != 7 || st.DroppedParser != 1 || st.DroppedFilters != 3 || st.LinesOut != 3 {
		t.Errorf("stats: %+v", st)
	}
	checkBalance(t, st)
}

// TestJSStagesWithBuiltins: the JavaScript filter and output between
// built-in stages, over many batches, in order; its parser keeps the
// source's name; a WAT and a JavaScript stage in one pipeline.
func TestJSStagesWithBuiltins(t *testing.T) {
	h := newHost(t, nil)
	loadJS(t, h)
	loadWatlogs(t, h)
	dir := t.TempDir()
	levels := []string{"DEBUG", "info", "Warning", "ERROR", "fatal"}
	var in, want strings.Builder
	for i := range 3000 {
		lv := levels[i%len(levels)]
		fmt.Fprintf(&in, `{"level":%q,"msg":"event %d"}`+"\n", lv, i)
		if i%len(levels) >= 2 {
			fmt.Fprintf(&want, "[%s] event %d\n", strings.ToUpper(*normLevel(lv)), i)
		}
	}
	writeTemp(t, dir, "in.json", in.String())
	st, out, err := run(t, h, `
[pipeline]
batch_size = 256
[[sources]]
type = "file"
path = "in.json"
[parser]
type = "json"
[[filters]]
plugin = "js-plugin"
name = "min-level"
config = { level = "warn" }
[[filters]]
plugin = "watlogs"
name = "poison"
[[outputs]]
plugin = "js-plugin"
name = "bracket"
`, dir)
	if err != nil {
		t.Fatal(err)
	}
	if out != want.String() {
		t.Errorf("output differs (%d bytes, want %d)", len(out), want.Len())
	}
	if st.LinesOut != 1800 || st.DroppedFilters != 1200 {
		t.Errorf("stats: %+v", st)
	}

	// The JavaScript parser drops what it does not understand; its
	// entries get the source's name.
	writeTemp(t, dir, "colon.log", "WARN: a\nno level here\nerror: b\n")
	st, out, err = run(t, h, `
[[sources]]
type = "file"
path = "colon.log"
[parser]
plugin = "js-plugin"
name = "colon"
[[outputs]]
type = "stdout"
format = "json"
`, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"level":"warn","message":"a","source":"colon.log"}` + "\n" + `{"level":"error","message":"b","source":"colon.log"}` + "\n"; out != want {
		t.Errorf("colon output:\n%s\nwant:\n%s", out, want)
	}
	if st.DroppedParser != 1 {
		t.Errorf("stats: %+v", st)
	}
}

// TestJSErrors: the JavaScript components' errors as the pipeline reports
// them: a config its schema refuses is a configuration error, a source
// it does not have is one too.
func TestJSErrors(t *testing.T) {
	h := newHost(t, nil)
	loadJS(t, h)
	_, _, err := run(t, h, `[[sources]]
type = "stdin"
[[filters]]
plugin = "js-plugin"
name = "min-level"
config = { level = "warn", extra = 1 }
[[outputs]]
plugin = "js-plugin"
name = "bracket"
`, t.TempDir())
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Problems[0].Key != "filters[0].config" || ce.Problems[0].Line != 6 {
		t.Errorf("refused config: %v", err)
	}
	if !strings.Contains(err.Error(), "p.toml:6: filters[0].config: plugin js-plugin: logs.open-filter") {
		t.Errorf("message: %v", err)
	}
}

// TestJSResume: the JavaScript "numbers" source keeps its cursor in the
// plugin's state, one transaction per next: a run stopped as by ctrl-C
// (Run's context ended) drains what it read, and the next run goes on
// from there, so that no line is read twice and none is skipped.
func TestJSResume(t *testing.T) {
	h := newHost(t, nil)
	loadJS(t, h)
	dir := t.TempDir()
	const count = 20000
	cfg := mustParse(t, fmt.Sprintf(`
[pipeline]
batch_size = 64
[[sources]]
plugin = "js-plugin"
name = "numbers"
config = { count = %d, cursor = "resume" }
[[outputs]]
type = "file"
path = "out.log"
append = true
`, count))
	for round := 0; ; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		// Stop each run after a few more lines, until one runs to the end.
		stopAt := uint64(1000 * (round + 1))
		st, err := Run(ctx, h, cfg, Options{Dir: dir, ProgressInterval: time.Millisecond, Progress: func(s Stats) {
			if s.LinesIn >= stopAt {
				cancel()
			}
		}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		checkBalance(t, st)
		if !st.Interrupted {
			break
		}
		if round > 40 {
			t.Fatal("the source never reached its end")
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != count {
		t.Fatalf("%d lines written, want %d", len(lines), count)
	}
	for i, l := range lines {
		if want := fmt.Sprintf("[info] line %d n=%d", i+1, i+1); l != want {
			t.Fatalf("line %d is %q: a line was read twice or skipped", i+1, l)
		}
	}
}

// TestJSNumbersExample runs examples/js-plugin/numbers.toml as its
// comments say: every line once; run again, nothing (the cursor is at the
// end).
func TestJSNumbersExample(t *testing.T) {
	h := newHost(t, nil)
	loadJS(t, h)
	dir := filepath.Join(repoRoot(), "examples", "js-plugin")
	cfg, err := LoadConfig(filepath.Join(dir, "numbers.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for round, want := range []uint64{100000, 0} {
		var out syncBuffer
		st, err := Run(context.Background(), h, cfg, Options{Stdout: &out, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if st.LinesOut != want {
			t.Fatalf("round %d: %d lines, want %d", round, st.LinesOut, want)
		}
		if want > 0 && (!strings.HasPrefix(out.String(), "[info] line 1 n=1\n") || !strings.HasSuffix(out.String(), "[info] line 100000 n=100000\n")) {
			t.Fatalf("round %d: output from %.40q to ...%q", round, out.String(), out.String()[max(0, len(out.String())-40):])
		}
	}
}

// TestJSResumableSource: a plugin source that keeps its cursor in the
// plugin's state survives its own faults with resume = true. The numbers
// source with spin_every = 4 loops on every 4th call of an instance, after
// writing its new cursor, until its fuel runs out: the call fails, its
// write is discarded, the source is restarted on a fresh instance and the
// call retried, which reads on from the cursor. Through several restarts
// every line arrives exactly once, in order, as in a run without faults;
// a run afterwards finds the cursor at the end. Without resume the same
// fault stops the pipeline (after the lines read before it); a source
// that fails again on the fresh instance stops it too, naming the stage,
// the plugin and the function.
func TestJSResumableSource(t *testing.T) {
	fuel := int64(200_000_000) // the spin's cost: keep it short
	h := newHost(t, &host.Config{Security: host.Security{FuelLimit: &fuel}})
	loadJS(t, h)
	dir := t.TempDir()
	const count = 1000
	doc := func(cursor string, extra string) string {
		return fmt.Sprintf(`
[pipeline]
batch_size = 50
[[sources]]
plugin = "js-plugin"
name = "numbers"
config = { count = %d, cursor = %q %s }
`, count, cursor, extra)
	}
	const out = `
[[outputs]]
type = "stdout"
`
	var want strings.Builder
	for i := 1; i <= count; i++ {
		fmt.Fprintf(&want, "[info] line %d n=%d\n", i, i)
	}

	t.Run("baseline", func(t *testing.T) {
		_, got, err := run(t, h, doc("base", "")+out, dir)
		if err != nil || got != want.String() {
			t.Fatalf("err %v; output %d bytes, want %d", err, len(got), want.Len())
		}
	})

	t.Run("resume", func(t *testing.T) {
		cfg := doc("resume", ", spin_every = 4") + "resume = true\n" + out
		st, got, warns, err := runWarn(t, h, cfg, dir)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.String() {
			t.Fatalf("output differs: %d bytes, want %d (a line lost or read twice)", len(got), want.Len())
		}
		// 21 calls that succeed (20 batches, then the empty answer):
		// each instance serves 3 and faults on its 4th, which the next
		// one serves: 7 instances, 6 restarts.
		ss := stageStats(t, st, "sources[0]")
		if ss.Restarts != 6 || ss.FailedBatches != 0 || ss.Lost != 0 {
			t.Errorf("source stats %+v, want 6 restarts", ss)
		}
		if len(warns) != 1 || !strings.HasPrefix(warns[0], "sources[0] (source numbers of plugin js-plugin): restarted on a fresh instance after: plugin js-plugin: logs.source.next: ") ||
			!strings.Contains(warns[0], "fuel") || !strings.Contains(warns[0], "it read on from its position in the plugin state") {
			t.Errorf("warnings: %q", warns)
		}
		checkBalance(t, st)
		// Every read committed, none of the failed calls' writes: the
		// cursor is at the end.
		st, got, err = run(t, h, cfg, dir)
		if err != nil || got != "" || st.LinesIn != 0 {
			t.Fatalf("run again: err %v, %d lines: %.60q", err, st.LinesIn, got)
		}
	})

	t.Run("without resume", func(t *testing.T) {
		st, got, err := run(t, h, doc("plain", ", spin_every = 4")+out, dir)
		var se *StageError
		if !errors.As(err, &se) || se.Stage != "sources[0]" || host.KindOf(err) != host.KindFuel ||
			!strings.HasPrefix(err.Error(), "sources[0] (source numbers of plugin js-plugin): plugin js-plugin: logs.source.next: ") {
			t.Fatalf("want the source's fuel error, got %v", err)
		}
		// The three calls before the fault went through.
		if n := strings.Count(want.String()[:len(got)], "\n"); got != want.String()[:len(got)] || n != 150 {
			t.Errorf("output: %d lines, want the first 150", n)
		}
		if ss := stageStats(t, st, "sources[0]"); ss.Restarts != 0 || ss.FailedBatches != 1 {
			t.Errorf("source stats %+v", ss)
		}
	})

	t.Run("fails again", func(t *testing.T) {
		st, got, err := run(t, h, doc("again", ", spin_every = 1")+"resume = true\n"+out, dir)
		var se *StageError
		if !errors.As(err, &se) || se.Stage != "sources[0]" || host.KindOf(err) != host.KindFuel ||
			!strings.HasPrefix(err.Error(), "sources[0] (source numbers of plugin js-plugin): failed again after a restart on a fresh instance: plugin js-plugin: logs.source.next: ") {
			t.Fatalf("want the source's second fuel error, got %v", err)
		}
		if got != "" {
			t.Errorf("output %.60q, want none", got)
		}
		if ss := stageStats(t, st, "sources[0]"); ss.Restarts != 1 || ss.FailedBatches != 1 {
			t.Errorf("source stats %+v", ss)
		}
	})
}
