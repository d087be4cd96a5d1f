package main

// Tests of `driftless logs run` and `logs validate` (logs.go), with the
// built-in stages, the JavaScript example and pipeline/testdata/watlogs.wat
// (a WAT component with a source, a parser, filters that fail, trap or
// spin on demand, and an output).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

var watlogsWasm = sync.OnceValues(func() ([]byte, error) {
	src, err := os.ReadFile(filepath.Join("..", "..", "pipeline", "testdata", "watlogs.wat"))
	if err != nil {
		return nil, err
	}
	return wasmtime.Wat2Wasm(string(src))
})

// watlogsHome is a new home with watlogs installed.
func watlogsHome(t *testing.T) string {
	t.Helper()
	wasm, err := watlogsWasm()
	if err != nil {
		t.Fatal(err)
	}
	home := newHome(t)
	put(t, home, "watlogs", wasm)
	return home
}

// TestLogsJSExample runs examples/js-plugin/pipeline.toml as its README
// shows, with --stats, --output json and logs validate.
func TestLogsJSExample(t *testing.T) {
	home := jsHome(t)
	dir := repoPath(t, "examples/js-plugin")
	want := "[WARN] cache directory missing, using memory\n[ERROR] upstream timed out after 30s\n[WARN] disk 91% full\n"

	r := cliIn(t, home, dir, "", "logs", "run", "pipeline.toml", "--stats")
	expect(t, r, 0, "logs run pipeline.toml --stats")
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	contains(t, "stats", r.stderr, "stats: 7 lines in, 3 out, 4 dropped (parser 1, filters 3)",
		"filters[0] (filter min-level of plugin js-plugin): 3 dropped",
		"outputs[0] (output bracket of plugin js-plugin): 3 records, 103 bytes")

	// With --output json the stats are one JSON document; the output
	// writes to stdout, so they go to stderr.
	r = cliIn(t, home, dir, "", "-o", "json", "logs", "run", "pipeline.toml")
	expect(t, r, 0, "-o json logs run pipeline.toml")
	if r.stdout != want {
		t.Errorf("stdout with -o json:\n%s", r.stdout)
	}
	var doc struct {
		Pipeline string         `json:"pipeline"`
		Stats    map[string]any `json:"stats"`
	}
	if err := json.Unmarshal([]byte(r.stderr), &doc); err != nil {
		t.Fatalf("stderr is not the stats document: %v\n%s", err, r.stderr)
	}
	if doc.Pipeline != "pipeline.toml" || doc.Stats["lines_in"] != float64(7) || doc.Stats["lines_out"] != float64(3) ||
		doc.Stats["dropped_parser"] != float64(1) || doc.Stats["interrupted"] != false {
		t.Errorf("stats document: %+v", doc)
	}

	r = cliIn(t, home, dir, "", "logs", "validate", "pipeline.toml")
	expect(t, r, 0, "logs validate")
	contains(t, "validate", r.stdout, "pipeline.toml: ok: 1 source(s), parser js-plugin/colon, 1 filter(s), 1 output(s)")
}

// TestLogsBuiltins: a pipeline without plugins, from stdin to a file, with
// the stats document on stdout.
func TestLogsBuiltins(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	writeFile(t, dir, "p.toml", `[[sources]]
type = "stdin"
[parser]
type = "json"
[[filters]]
type = "level"
level = "warn"
[[outputs]]
type = "file"
path = "out.log"
`)
	in := `{"time":"2026-11-22T10:00:00Z","level":"info","msg":"hello"}
{"time":"2026-11-22T10:00:01Z","level":"error","msg":"boom","code":7}
garbage
`
	r := cliIn(t, home, dir, in, "logs", "run", "p.toml", "-o", "json")
	expect(t, r, 0, "logs run p.toml -o json")
	var doc map[string]any
	jsonDoc(t, r, &doc)
	st := doc["stats"].(map[string]any)
	if st["lines_in"] != float64(3) || st["lines_out"] != float64(1) || st["dropped_parser"] != float64(1) || st["dropped_filters"] != float64(1) {
		t.Errorf("stats: %v", st)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.log"))
	if err != nil || string(data) != "2026-11-22T10:00:01Z [error] boom code=7\n" {
		t.Errorf("out.log: %q %v", data, err)
	}
	// Without --stats and in text mode, nothing but the records.
	r = cliIn(t, home, dir, in, "logs", "run", "p.toml")
	expect(t, r, 0, "logs run p.toml")
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("a quiet run printed:\n%s", r)
	}
}

// TestLogsConfigErrors: pipeline files the CLI refuses with exit 2, naming
// the file, line and key.
func TestLogsConfigErrors(t *testing.T) {
	home := watlogsHome(t)
	dir := t.TempDir()
	for _, c := range []struct {
		doc, msg string
	}{
		{"[[sources]]\ntype = \"stdin\"\npth = \"x\"\n[[outputs]]\ntype = \"stdout\"\n", "p.toml:3: sources[0].pth: unknown key"},
		{"[[sources]]\ntype = \"stdin\"\n[[outputs]]\ntype = \"stdout\"\nformat = \"xml\"\n", `p.toml:5: outputs[0].format: unknown format "xml"`},
		{"[[sources]]\ntype = \"stdin\"\n[[filters]]\nplugin = \"nope\"\nname = \"f\"\n[[outputs]]\ntype = \"stdout\"\n",
			"p.toml:4: filters[0].plugin: plugin nope: no such plugin (installed: watlogs)"},
		{"[[sources]]\ntype = \"stdin\"\n[[filters]]\nplugin = \"watlogs\"\nname = \"raw\"\n[[outputs]]\ntype = \"stdout\"\n",
			`p.toml:5: filters[0].name: log component "raw" of plugin watlogs is a parser, not a filter`},
		{"[[sources]]\ntype = \"stdin\"\n[[filters]]\nplugin = \"watlogs\"\nname = \"min-level\"\nconfig = { level = \"loud\" }\n[[outputs]]\ntype = \"stdout\"\n",
			"p.toml:6: filters[0].config: plugin watlogs: logs.open-filter: log \"min-level\": config does not match the config-schema"},
		{"[[sources]]\ntype = \"stdin\"\n[outputs]\ntype = \"stdout\"\n", "p.toml"},
	} {
		writeFile(t, dir, "p.toml", c.doc)
		for _, cmd := range []string{"run", "validate"} {
			r := cliIn(t, home, dir, "", "logs", cmd, "p.toml")
			expect(t, r, 2, "logs "+cmd)
			contains(t, "logs "+cmd+" stderr", r.stderr, "error: "+c.msg)
		}
		r := cliIn(t, home, dir, "", "-o", "json", "logs", "run", "p.toml")
		expect(t, r, 2, "logs run -o json")
		var doc map[string]any
		jsonDoc(t, r, &doc)
		errorOf(t, doc, "invalid-config")
	}
	r := cliIn(t, home, dir, "", "logs", "run", "missing.toml")
	expect(t, r, 2, "logs run missing.toml")
	contains(t, "missing file", r.stderr, "missing.toml")
	r = cliIn(t, home, dir, "", "logs", "run")
	expect(t, r, 2, "logs run")
	contains(t, "no argument", r.stderr, "missing argument")
}

// TestLogsStageFailure: a plugin filter that fails, traps or spins fails
// the run with exit 1 and an error naming the stage, plugin and function.
func TestLogsStageFailure(t *testing.T) {
	home := watlogsHome(t)
	writeFile(t, home, "plugins.toml", "[security]\nfuel_limit = 100000000\n")
	dir := t.TempDir()
	writeFile(t, dir, "p.toml", `[[sources]]
type = "stdin"
[[filters]]
plugin = "watlogs"
name = "poison"
[[outputs]]
type = "stdout"
`)
	for _, c := range []struct{ line, kind, msg string }{
		{"FAIL now", "failed", "poisoned entry (message starts with FAIL)"},
		{"TRAP now", "trap", "wasm trap"},
		{"SPIN now", "fuel-exhausted", "fuel limit of 100000000 exhausted"},
	} {
		r := cliIn(t, home, dir, "ok\n"+c.line+"\n", "logs", "run", "p.toml")
		expect(t, r, 1, "logs run with "+c.line)
		contains(t, c.line, r.stderr, "error: filters[0] (filter poison of plugin watlogs): a batch of ", " entries failed",
			": plugin watlogs: logs.filter.keep: "+c.msg)
		r = cliIn(t, home, dir, "ok\n"+c.line+"\n", "-o", "json", "logs", "run", "p.toml")
		expect(t, r, 1, "-o json logs run with "+c.line)
		// The output writes records to stdout: the error document goes
		// to stderr.
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stderr), &doc); err != nil {
			t.Fatalf("stderr is not the error document: %v\n%s", err, r)
		}
		if strings.Contains(r.stdout, "{") {
			t.Errorf("stdout holds more than records:\n%s", r.stdout)
		}
		e := errorOf(t, doc, c.kind)
		if e["plugin"] != "watlogs" || e["function"] != "logs.filter.keep" {
			t.Errorf("error document: %v", e)
		}
	}
}

// TestLogsSurvivesPlugin: a stage that traps now and then is restarted
// and loses nothing; one that fails a batch twice with on_error = "skip"
// drops it, says so on stderr, counts it in --stats, and the run
// completes (exit 0).
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLogsSurvivesPlugin(t *testing.T) {
	home := watlogsHome(t)
	dir := t.TempDir()
	var in strings.Builder
	for i := range 300 {
		line := fmt.Sprintf("line %d", i)
		if i == 150 {
			line = "TRAP " + line
		}
		fmt.Fprintln(&in, line)
	}
	writeFile(t, dir, "in.log", in.String())
	writeFile(t, dir, "p.toml", `[pipeline]
batch_size = 10
[[sources]]
type = "file"
path = "in.log"
[[filters]]
plugin = "watlogs"
name = "flaky"
[[filters]]
plugin = "watlogs"
name = "poison"
on_error = "skip"
[[outputs]]
type = "stdout"
`)
	r := cliIn(t, home, dir, "", "logs", "run", "p.toml", "--stats")
	expect(t, r, 0, "logs run")
	// The batch of lines 150..159 is dropped. (The batches around it are
	// not: only the TRAP line's batch fails.)
	var kept strings.Builder
	for i, l := range strings.SplitAfter(in.String(), "\n") {
		if l != "" && (i < 150 || i >= 160) {
			kept.WriteString(l)
		}
	}
	if r.stdout != kept.String() {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	contains(t, "stderr", r.stderr,
		"warning: filters[0] (filter flaky of plugin watlogs): restarted on a fresh instance after: plugin watlogs: logs.filter.keep: wasm trap",
		"warning: filters[1] (filter poison of plugin watlogs): a batch of 10 entries failed again after a restart on a fresh instance: plugin watlogs: logs.filter.keep: wasm trap",
		`; dropped (on_error = "skip")`,
		"stats: 300 lines in, 290 out, 10 dropped (parser 0, filters 0, errors 10)",
		"  filters[0] (filter flaky of plugin watlogs): 3 restarted after a failure\n",
		"  filters[1] (filter poison of plugin watlogs): 2 restarted after a failure, 1 failed batches, 10 lost\n")
	writeFile(t, dir, "p2.toml", strings.Replace(readFile(t, filepath.Join(dir, "p.toml")), `type = "stdout"`, "type = \"file\"\npath = \"out.log\"", 1))
	r = cliIn(t, home, dir, "", "-o", "json", "logs", "run", "p2.toml")
	expect(t, r, 0, "-o json logs run")
	var doc map[string]any
	jsonDoc(t, r, &doc)
	st := doc["stats"].(map[string]any)
	if st["dropped_errors"] != float64(10) || len(st["plugin_stages"].([]any)) != 2 {
		t.Errorf("stats: %v", st)
	}
}

// TestLogsInterrupt: SIGINT stops the reading; what was read is written,
// in order; the stats say so; the exit code is 130.
func TestLogsInterrupt(t *testing.T) {
	home := watlogsHome(t)
	dir := t.TempDir()
	writeFile(t, dir, "p.toml", `[pipeline]
batch_size = 64
[[sources]]
type = "stdin"
[parser]
plugin = "watlogs"
name = "raw"
[[filters]]
plugin = "watlogs"
name = "poison"
[[outputs]]
plugin = "watlogs"
name = "message"
to = "file:out.log"
`)
	cmd := exec.Command(binary, "-o", "json", "logs", "run", "p.toml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Feed lines until the output file has some, then interrupt while
	// still feeding.
	stop := make(chan struct{})
	fed := make(chan int)
	go func() {
		w := bufio.NewWriter(stdin)
		i := 0
		defer func() { fed <- i }()
		for {
			select {
			case <-stop:
				w.Flush()
				return
			default:
			}
			fmt.Fprintf(w, "line %d\n", i)
			i++
			if i%50 == 0 {
				if w.Flush() != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		if data, _ := os.ReadFile(filepath.Join(dir, "out.log")); bytes.Count(data, []byte("\n")) >= 2000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no output after a minute:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	close(stop)
	n := <-fed
	stdin.Close()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	var doc struct {
		Stats struct {
			In          int  `json:"lines_in"`
			Out         int  `json:"lines_out"`
			Interrupted bool `json:"interrupted"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("stdout is not the stats document: %v\n%s", err, stdout.String())
	}
	st := doc.Stats
	if !st.Interrupted || st.In < 2000 || st.Out != st.In || st.In > n {
		t.Errorf("stats: %+v (fed %d lines)", st, n)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range st.In {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	if string(data) != want.String() {
		t.Errorf("out.log is not the %d lines read, in order (%d bytes, want %d)", st.In, len(data), want.Len())
	}
}

// TestLogsSecondInterrupt: a second SIGINT aborts a run that is draining
// through a plugin call that does not return.
func TestLogsSecondInterrupt(t *testing.T) {
	home := watlogsHome(t)
	writeFile(t, home, "plugins.toml", "[security]\nfuel_limit = 100000000000\nexecution_timeout_secs = 120\n")
	dir := t.TempDir()
	writeFile(t, dir, "p.toml", "[[sources]]\ntype = \"stdin\"\n[[filters]]\nplugin = \"watlogs\"\nname = \"poison\"\n[[outputs]]\ntype = \"stdout\"\n")
	cmd := exec.Command(binary, "logs", "run", "p.toml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "SPIN forever\n")
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to abort", d)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v\nstderr: %s", err, stderr.String())
	}
	contains(t, "stderr", stderr.String(), "second interrupt: aborting")
}
