package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/host"
)

func mustParse(t testing.TB, doc string) *Config {
	t.Helper()
	cfg, err := Parse("p.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// syncBuffer is a bytes.Buffer safe for the pipeline's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run runs a pipeline in dir with stdout captured.
func run(t testing.TB, h *host.Host, doc, dir string) (Stats, string, error) {
	t.Helper()
	var out syncBuffer
	st, err := Run(context.Background(), h, mustParse(t, doc), Options{Stdout: &out, Dir: dir})
	return st, out.String(), err
}

func writeTemp(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkBalance(t *testing.T, st Stats) {
	t.Helper()
	if st.LinesIn != st.LinesOut+st.Dropped || st.Dropped != st.DroppedParser+st.DroppedFilters+st.DroppedErrors {
		t.Errorf("stats do not add up: %+v", st)
	}
}

// TestPlainIsCat: file → plain → text on stdout gives the input back:
// line breaks normalised (CRLF, a missing last newline), invalid UTF-8
// replaced, order kept across many small batches.
func TestPlainIsCat(t *testing.T) {
	dir := t.TempDir()
	var in, want strings.Builder
	for i := range 5000 {
		switch i % 7 {
		case 0:
			in.WriteString("\n")
			want.WriteString("\n")
		case 1:
			fmt.Fprintf(&in, "line %d with CRLF\r\n", i)
			fmt.Fprintf(&want, "line %d with CRLF\n", i)
		case 2:
			fmt.Fprintf(&in, "bad \xff utf-8 %d\n", i)
			fmt.Fprintf(&want, "bad \uFFFD utf-8 %d\n", i)
		default:
			fmt.Fprintf(&in, "line %d: %s\n", i, strings.Repeat("x", i%200))
			fmt.Fprintf(&want, "line %d: %s\n", i, strings.Repeat("x", i%200))
		}
	}
	in.WriteString("last line without newline")
	want.WriteString("last line without newline\n")
	writeTemp(t, dir, "in.log", in.String())
	for _, settings := range []string{"", "[pipeline]\nbatch_size = 7\nbuffer = 1\n", "[pipeline]\nbatch_size = 13\n[parser]\ntype = \"plain\"\nparallel = 3\n"} {
		st, out, err := run(t, nil, "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n[[outputs]]\ntype = \"stdout\"\n"+settings, dir)
		if err != nil {
			t.Fatal(err)
		}
		if out != want.String() {
			t.Fatalf("settings %q: output differs from input (%d vs %d bytes)", settings, len(out), want.Len())
		}
		if st.LinesIn != 5001 || st.LinesOut != 5001 || st.Interrupted || len(st.Outputs) != 1 || st.Outputs[0].Records != 5001 {
			t.Errorf("stats: %+v", st)
		}
		checkBalance(t, st)
	}
}

func TestEmptyInput(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "empty.log", "")
	st, out, err := run(t, nil, "[[sources]]\ntype = \"file\"\npath = \"empty.log\"\n[[outputs]]\ntype = \"file\"\npath = \"out.log\"\n", dir)
	if err != nil || out != "" || st.LinesIn != 0 || st.LinesOut != 0 {
		t.Fatalf("%v %q %+v", err, out, st)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "out.log")); err != nil || len(data) != 0 {
		t.Errorf("out.log: %q %v", data, err)
	}
}

// TestLongLines: lines longer than MaxLine are split, lines that span
// read chunks are whole.
func TestLongLines(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("a", MaxLine+10)
	mid := strings.Repeat("b", chunkSize+5)
	writeTemp(t, dir, "in.log", "x\n"+long+"\n"+mid+"\ny\n")
	_, out, err := run(t, nil, "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n[[outputs]]\ntype = \"stdout\"\n", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "x\n" + long[:MaxLine] + "\n" + long[MaxLine:] + "\n" + mid + "\ny\n"
	if out != want {
		t.Errorf("output: %d bytes, want %d", len(out), len(want))
	}
}

// TestJSONPipeline: json parser → level filter → match filter → json and
// text outputs to files.
func TestJSONPipeline(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "app.json", `{"time":"2026-11-22T10:00:00Z","level":"INFO","msg":"started","port":8080}
{"time":"2026-11-22T10:00:01.5Z","level":"warning","msg":"slow request","path":"/api","ms":1500}
not json
{"ts":1795341602,"lvl":"error","message":"failed","path":"/api","err":{"code":7}}
{"time":1795341603000,"level":50,"msg":"pino error","path":"/health"}
{"level":"debug","msg":"noise"}
{"msg":"no level","path":"/api"}
[1,2]
`)
	st, out, err := run(t, nil, `
[[sources]]
type = "file"
path = "app.json"
[parser]
type = "json"
[[filters]]
type = "level"
level = "warn"
[[filters]]
type = "match"
field = "path"
contains = "/api"
[[outputs]]
type = "stdout"
[[outputs]]
type = "file"
path = "out.json"
format = "json"
`, dir)
	if err != nil {
		t.Fatal(err)
	}
	wantText := `2026-11-22T10:00:01.5Z [warn] slow request path=/api ms=1500
2026-11-22T10:00:02Z [error] failed path=/api err="{\"code\":7}"
no level path=/api
`
	if out != wantText {
		t.Errorf("text output:\n%s\nwant:\n%s", out, wantText)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"timestamp":"2026-11-22T10:00:01.5Z","level":"warn","message":"slow request","source":"app.json","fields":{"path":"/api","ms":"1500"}}
{"timestamp":"2026-11-22T10:00:02Z","level":"error","message":"failed","source":"app.json","fields":{"path":"/api","err":"{\"code\":7}"}}
{"message":"no level","source":"app.json","fields":{"path":"/api"}}
`
	if string(data) != wantJSON {
		t.Errorf("json output:\n%s\nwant:\n%s", data, wantJSON)
	}
	if st.LinesIn != 8 || st.DroppedParser != 2 || st.DroppedFilters != 3 || st.LinesOut != 3 ||
		st.Filters[0].Dropped != 2 || st.Filters[1].Dropped != 1 || st.Outputs[1].Records != 3 {
		t.Errorf("stats: %+v", st)
	}
	checkBalance(t, st)
}

// TestConcurrentPluginStages: a plugin source, filters and output, parallel
// instances, and the order of every entry kept end to end.
func TestConcurrentPluginStages(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	dir := t.TempDir()
	const n = 20000
	st, out, err := run(t, h, fmt.Sprintf(`
[pipeline]
batch_size = 100
buffer = 2
[[sources]]
plugin = "watlogs"
name = "seq"
config = { count = %d }
[[filters]]
plugin = "watlogs"
name = "poison"
parallel = 3
[[filters]]
type = "match"
pattern = "^seq [0-9]*[02468]$"
parallel = 2
[[outputs]]
plugin = "watlogs"
name = "message"
parallel = 2
to = "file:records.log"
[[outputs]]
type = "stdout"
`, n), dir)
	if err != nil {
		t.Fatal(err)
	}
	var wantRecords, wantText strings.Builder
	for i := 2; i <= n; i += 2 {
		fmt.Fprintf(&wantRecords, "seq %d\n", i)
		fmt.Fprintf(&wantText, "%s [info] seq %d\n", time.Unix(1700000000+int64(i), 0).UTC().Format(time.RFC3339), i)
	}
	data, err := os.ReadFile(filepath.Join(dir, "records.log"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != wantRecords.String() {
		t.Errorf("records.log is not seq 2, 4, ... %d in order (%d bytes, want %d)", n, len(data), wantRecords.Len())
	}
	if out != wantText.String() {
		t.Errorf("stdout is not the even entries in order (%d bytes, want %d)", len(out), wantText.Len())
	}
	if st.LinesIn != n || st.LinesOut != n/2 || st.DroppedFilters != n/2 || st.Outputs[0].Records != n/2 {
		t.Errorf("stats: %+v", st)
	}
	checkBalance(t, st)
}

// TestPluginParser: a plugin parser's none drops the line; its entries
// take the source's name when they have none.
func TestPluginParser(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	dir := t.TempDir()
	writeTemp(t, dir, "in.log", "a\n\nb\n")
	st, out, err := run(t, h, `
[[sources]]
type = "file"
path = "in.log"
[parser]
plugin = "watlogs"
name = "raw"
[[outputs]]
type = "stdout"
format = "json"
`, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"message":"a","source":"in.log"}` + "\n" + `{"message":"b","source":"in.log"}` + "\n"
	if out != want || st.DroppedParser != 1 || st.LinesOut != 2 {
		t.Errorf("output %q, stats %+v", out, st)
	}
}

// TestSharedDestination: outputs writing to the same file never mix their
// lines; two sources keep their own order.
func TestSharedDestination(t *testing.T) {
	dir := t.TempDir()
	var a, b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&a, "a %d %s\n", i, strings.Repeat("a", i%50))
		fmt.Fprintf(&b, "b %d %s\n", i, strings.Repeat("b", i%70))
	}
	writeTemp(t, dir, "a.log", a.String())
	writeTemp(t, dir, "b.log", b.String())
	st, _, err := run(t, nil, `
[pipeline]
batch_size = 50
[[sources]]
type = "file"
path = "a.log"
[[sources]]
type = "file"
path = "b.log"
[[outputs]]
type = "file"
path = "out.log"
[[outputs]]
type = "file"
path = "./out.log"
format = "json"
`, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	nextJSON := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 12000 {
		t.Fatalf("%d lines, want 12000", len(lines))
	}
	for _, l := range lines {
		var src string
		var i int
		if strings.HasPrefix(l, "{") {
			if _, err := fmt.Sscanf(strings.TrimPrefix(l, `{"message":"`), "%s %d", &src, &i); err != nil || i != nextJSON[src] {
				t.Fatalf("json line out of order or mixed: %q", l)
			}
			nextJSON[src]++
			continue
		}
		if _, err := fmt.Sscanf(l, "%s %d", &src, &i); err != nil || i != next[src] {
			t.Fatalf("text line out of order or mixed: %q", l)
		}
		next[src]++
	}
	if st.LinesIn != 6000 || st.Outputs[0].Records != 6000 || st.Outputs[1].Records != 6000 {
		t.Errorf("stats: %+v", st)
	}
}

func TestOutputAppend(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "in.log", "new\n")
	writeTemp(t, dir, "out.log", "old\n")
	writeTemp(t, dir, "trunc.log", "old\n")
	if _, _, err := run(t, nil, "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n[[outputs]]\ntype = \"file\"\npath = \"out.log\"\nappend = true\n[[outputs]]\ntype = \"file\"\npath = \"trunc.log\"\n", dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"out.log": "old\nnew\n", "trunc.log": "new\n"} {
		if data, _ := os.ReadFile(filepath.Join(dir, name)); string(data) != want {
			t.Errorf("%s: %q, want %q", name, data, want)
		}
	}
}

// stageErr runs a pipeline that must fail in a stage.
func stageErr(t *testing.T, h *host.Host, doc, dir string) (*StageError, string) {
	t.Helper()
	start := time.Now()
	_, out, err := run(t, h, doc, dir)
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s to fail", d)
	}
	var se *StageError
	if !errors.As(err, &se) {
		t.Fatalf("want a *StageError, got %v", err)
	}
	return se, out
}

// TestPluginFailures: a plugin error, a trap and a limit fail the pipeline
// (on_error = "stop", the default) with an error naming the stage, the
// batch's size, the plugin and the function; what was written before
// stays whole.
func TestPluginFailures(t *testing.T) {
	fuel := int64(50_000_000)
	h := newHost(t, &host.Config{Security: host.Security{FuelLimit: &fuel}})
	loadWatlogs(t, h)
	dir := t.TempDir()
	var in strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	for _, c := range []struct {
		poison string
		kind   host.ErrorKind
		msg    string
	}{
		// A plugin error is the plugin's answer: not retried. A trap or a
		// limit is retried once on a fresh instance, and fails again.
		{"FAIL here", host.KindFailed, "a batch of 63 entries failed: plugin watlogs: logs.filter.keep: poisoned entry (message starts with FAIL)"},
		{"TRAP here", host.KindTrap, "a batch of 63 entries failed again after a restart on a fresh instance: plugin watlogs: logs.filter.keep: wasm trap"},
		{"SPIN here", host.KindFuel, "a batch of 63 entries failed again after a restart on a fresh instance: plugin watlogs: logs.filter.keep: fuel limit of 50000000 exhausted"},
	} {
		writeTemp(t, dir, "in.log", in.String()+c.poison+"\n"+in.String())
		se, out := stageErr(t, h, `
[pipeline]
batch_size = 64
[[sources]]
type = "file"
path = "in.log"
[[filters]]
type = "match"
contains = "line 999"
invert = true
[[filters]]
plugin = "watlogs"
name = "poison"
[[outputs]]
type = "stdout"
`, dir)
		if se.Stage != "filters[1]" || se.What != "filter poison of plugin watlogs" || host.KindOf(se) != c.kind {
			t.Errorf("%s: stage %q, what %q, kind %s", c.poison, se.Stage, se.What, host.KindOf(se))
		}
		if !strings.Contains(se.Error(), "filters[1] (filter poison of plugin watlogs): "+c.msg) {
			t.Errorf("%s: message %q", c.poison, se)
		}
		// Output so far: whole lines of the first copy, in order.
		if out != "" && (!strings.HasSuffix(out, "\n") || !strings.HasPrefix(in.String(), out)) {
			t.Errorf("%s: partial or foreign output before the failure: %q", c.poison, out[max(0, len(out)-40):])
		}
	}
}

// TestOpenFailures: components the pipeline file names wrongly or
// configures badly are configuration errors with the key's line; a
// missing input file is a stage error.
func TestOpenFailures(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	dir := t.TempDir()
	_, _, err := run(t, h, `[[sources]]
plugin = "watlogs"
name = "seq"
config = { count = "many" }

[[filters]]
plugin = "watlogs"
name = "min-level"
config = { level = "loud" }

[[outputs]]
type = "stdout"
`, dir)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConfigError, got %v", err)
	}
	wantProblem(t, ce, 4, "sources[0].config", "config does not match the config-schema: at /count")
	wantProblem(t, ce, 9, "filters[0].config", "at /level: value must be one of")

	se, _ := stageErr(t, h, "[[sources]]\ntype = \"file\"\npath = \"missing.log\"\n[[outputs]]\ntype = \"stdout\"\n", dir)
	if se.Stage != "sources[0]" || !errors.Is(se, os.ErrNotExist) {
		t.Errorf("missing file: %v", se)
	}
	se, _ = stageErr(t, h, "[[sources]]\ntype = \"stdin\"\n[[outputs]]\ntype = \"file\"\npath = \"no/such/dir/out.log\"\n", dir)
	if se.Stage != "outputs[0]" || !errors.Is(se, os.ErrNotExist) {
		t.Errorf("missing directory: %v", se)
	}
	_, _, err = run(t, h, "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n[[outputs]]\ntype = \"file\"\npath = \"./in.log\"\nappend = true\n", dir)
	if !errors.As(err, &ce) || ce.Problems[0].Key != "outputs[0].path" || !strings.Contains(err.Error(), "is also the input of sources[0]") {
		t.Errorf("output over its input: %v", err)
	}
	if _, err := Run(context.Background(), nil, mustParse(t, "[[sources]]\nplugin = \"x\"\nname = \"y\"\n[[outputs]]\ntype = \"stdout\"\n"), Options{}); err == nil {
		t.Error("plugin stages without a host")
	}
}

func TestValidate(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	dir := t.TempDir()
	writeTemp(t, dir, "in.log", "x\n")
	ok := `[[sources]]
type = "file"
path = "in.log"
[[filters]]
plugin = "watlogs"
name = "min-level"
config = { level = "warn" }
[[outputs]]
type = "file"
path = "out.log"
`
	if err := Validate(context.Background(), h, mustParse(t, ok), Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.log")); !errors.Is(err, os.ErrNotExist) {
		t.Error("validate created the output file")
	}
	var ce *ConfigError
	err := Validate(context.Background(), h, mustParse(t, strings.Replace(ok, `"warn"`, `"loud"`, 1)), Options{Dir: dir})
	if !errors.As(err, &ce) || ce.Problems[0].Key != "filters[0].config" || ce.Problems[0].Line != 7 {
		t.Errorf("bad config: %v", err)
	}
	var se *StageError
	err = Validate(context.Background(), h, mustParse(t, strings.Replace(ok, "in.log", "gone.log", 1)), Options{Dir: dir})
	if !errors.As(err, &se) || se.Stage != "sources[0]" {
		t.Errorf("missing input: %v", err)
	}
	err = Validate(context.Background(), h, mustParse(t, strings.Replace(ok, `path = "out.log"`, `path = "nodir/out.log"`, 1)), Options{Dir: dir})
	if !errors.As(err, &se) || se.Stage != "outputs[0]" {
		t.Errorf("missing output directory: %v", err)
	}
}

// feeder writes numbered lines to a pipe until the pipe is closed, in
// small writes, like a program logging.
func feeder(w io.Writer) {
	for i := 0; ; i++ {
		if _, err := fmt.Fprintf(w, "line %d\n", i); err != nil {
			return
		}
		if i%100 == 99 {
			time.Sleep(time.Millisecond)
		}
	}
}

// TestConcurrentInterruptDrains: ending the run's context stops the reading; every
// line read before it goes through every stage (plugin ones included) and
// is written, in order, and the stats say so.
func TestConcurrentInterruptDrains(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	for _, doc := range []string{
		// plugin parser, filter and output, several instances, deep buffers
		`[pipeline]
batch_size = 32
buffer = 8
[[sources]]
type = "stdin"
[parser]
plugin = "watlogs"
name = "raw"
[[filters]]
plugin = "watlogs"
name = "min-level"
config = { level = "error" }
parallel = 2
[[filters]]
type = "match"
pattern = "^line"
[[outputs]]
plugin = "watlogs"
name = "message"
parallel = 3
`,
		// built-in stages only, default settings
		"[[sources]]\ntype = \"stdin\"\n[[outputs]]\ntype = \"stdout\"\n",
	} {
		pr, pw := io.Pipe()
		go feeder(pw)
		ctx, cancel := context.WithCancel(context.Background())
		var out syncBuffer
		var once sync.Once
		st, err := Run(ctx, h, mustParse(t, doc), Options{
			Stdin:            pr,
			Stdout:           &out,
			ProgressInterval: 2 * time.Millisecond,
			Progress: func(s Stats) {
				if s.LinesIn >= 20000 {
					once.Do(cancel)
				}
			},
		})
		pr.Close()
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !st.Interrupted || st.LinesIn < 20000 || st.LinesOut != st.LinesIn || st.Dropped != 0 {
			t.Errorf("stats: %+v", st)
		}
		var want strings.Builder
		for i := range st.LinesIn {
			fmt.Fprintf(&want, "line %d\n", i)
		}
		if got := out.String(); got != want.String() {
			t.Errorf("output is not the %d lines read, in order (%d bytes, want %d)", st.LinesIn, len(got), want.Len())
		}
	}
}

// TestAbort: Options.Abort stops the run at once.
func TestAbort(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	pr, pw := io.Pipe()
	defer pr.Close()
	go feeder(pw)
	abort, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := Run(context.Background(), h, mustParse(t, `[[sources]]
type = "stdin"
[[filters]]
plugin = "watlogs"
name = "poison"
[[outputs]]
type = "file"
path = "`+filepath.Join(t.TempDir(), "out.log")+`"
`), Options{Stdin: pr, Abort: abort})
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("want ErrAborted, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to abort", d)
	}
}

// TestAbortSpinningPlugin: a plugin stuck in a call is interrupted by
// Abort, not waited for.
func TestAbortSpinningPlugin(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	abort, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := Run(context.Background(), h, mustParse(t, "[[sources]]\ntype = \"stdin\"\n[[filters]]\nplugin = \"watlogs\"\nname = \"poison\"\n[[outputs]]\ntype = \"stdout\"\n"),
		Options{Stdin: strings.NewReader("SPIN\n"), Abort: abort, Stdout: io.Discard})
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("want ErrAborted, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to abort a spinning plugin", d)
	}
}

// A FIFO or a device given as a file source or output is refused at once,
// by Run and by Validate: opening a FIFO waits for its other end, and
// /dev/zero never ends.
func TestSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "in.log", "x\n")
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, doc, stage, want string }{
		{"fifo source", "[[sources]]\ntype = \"file\"\npath = \"fifo\"\n[[outputs]]\ntype = \"stdout\"\n", "sources[0]",
			"fifo is a named pipe (FIFO), not a regular file (a file source reads a regular file; use a stdin source for a pipe)"},
		{"device source", "[[sources]]\ntype = \"file\"\npath = \"/dev/zero\"\n[[outputs]]\ntype = \"stdout\"\n", "sources[0]",
			"/dev/zero is a character device, not a regular file (a file source reads a regular file; use a stdin source for a pipe)"},
		{"directory source", "[[sources]]\ntype = \"file\"\npath = \".\"\n[[outputs]]\ntype = \"stdout\"\n", "sources[0]",
			". is a directory, not a regular file (a file source reads a regular file; use a stdin source for a pipe)"},
		{"fifo output", "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n[[outputs]]\ntype = \"file\"\npath = \"fifo\"\n", "outputs[0]",
			"fifo is a named pipe (FIFO), not a regular file (a file output writes a regular file or a device such as /dev/null; " +
				"use to = \"stdout\" or a stdout output for a pipe)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, validate := range []bool{false, true} {
				done := make(chan error, 1)
				go func() {
					if validate {
						done <- Validate(context.Background(), nil, mustParse(t, c.doc), Options{Dir: dir})
						return
					}
					_, _, err := run(t, nil, c.doc, dir)
					done <- err
				}()
				var err error
				select {
				case err = <-done:
				case <-time.After(30 * time.Second):
					t.Fatalf("validate=%t: blocked on a special file", validate)
				}
				var se *StageError
				if !errors.As(err, &se) || se.Stage != c.stage || !strings.HasSuffix(err.Error(), c.want) {
					t.Errorf("validate=%t: got %v\nwant %s: ...%s", validate, err, c.stage, c.want)
				}
			}
		})
	}
	// /dev/null is a fine output.
	if _, _, err := run(t, nil, "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n[[outputs]]\ntype = \"file\"\npath = \"/dev/null\"\n", dir); err != nil {
		t.Errorf("/dev/null output: %v", err)
	}
}
