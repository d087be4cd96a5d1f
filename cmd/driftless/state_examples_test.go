package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The JavaScript example's set-value reports changed only when the value
// differs from what it last applied, which it keeps in its state: across
// runs of driftless, never written in check mode.
func TestJSSetValueState(t *testing.T) {
	home := homeWith(t, "js-plugin")
	set := func(value string, check bool) map[string]any {
		args := []string{"task", "run", "js-plugin.set-value", "--config", fmt.Sprintf(`{"key": "motd", "value": %q}`, value)}
		if check {
			args = append(args, "--check")
		}
		return runJSON(t, home, 0, args...)
	}
	for i, c := range []struct {
		value  string
		check  bool
		status string
		stored string
	}{
		{"hi", true, "changed", ""}, // check mode: would set, nothing kept
		{"hi", false, "changed", "hi"},
		{"hi", false, "ok", "hi"},
		{"hello", true, "changed", "hi"},
		{"hello", false, "changed", "hello"},
		{"hello", false, "ok", "hello"},
	} {
		if doc := set(c.value, c.check); doc["status"] != c.status {
			t.Fatalf("step %d: set-value %q (check %v): %v", i, c.value, c.check, doc)
		}
		r := drift(t, home, "state", "get", "js-plugin", "set-value/motd")
		if c.stored == "" {
			expect(t, r, 2)
		} else if r.code != 0 || r.stdout != c.stored {
			t.Fatalf("step %d: stored %s", i, r)
		}
	}
}

// A log pipeline stopped with ctrl-C drains what it read; run again, its
// JavaScript source resumes from the cursor in its state: every line is
// written once, none is skipped.
func TestLogsResumeAfterInterrupt(t *testing.T) {
	home := homeWith(t, "js-plugin")
	dir := t.TempDir()
	const count = 200000
	// Small batches: one state commit each, so that the run takes long
	// enough to be interrupted in the middle.
	writeFile(t, dir, "p.toml", fmt.Sprintf(`[pipeline]
batch_size = 50
[[sources]]
plugin = "js-plugin"
name = "numbers"
config = { count = %d }
[[outputs]]
type = "file"
path = "out.log"
append = true
`, count))
	cmd := exec.Command(binary, "logs", "run", "p.toml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if data, _ := os.ReadFile(filepath.Join(dir, "out.log")); bytes.Count(data, []byte("\n")) >= 2000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no output after two minutes:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("the interrupted run: %v (raise count if it finished first)\n%s", err, stderr.String())
	}
	first, _ := os.ReadFile(filepath.Join(dir, "out.log"))
	r := cliIn(t, home, dir, "", "logs", "run", "p.toml")
	expect(t, r, 0)
	data, err := os.ReadFile(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != count {
		t.Fatalf("%d lines written (%d by the interrupted run), want %d", len(lines), bytes.Count(first, []byte("\n")), count)
	}
	for i, l := range lines {
		if want := fmt.Sprintf("[info] line %d n=%d", i+1, i+1); l != want {
			t.Fatalf("line %d is %q: a line was read twice or skipped", i+1, l)
		}
	}
	// The cursor is where the source ended.
	if r := runCLI(t, home, 0, "state", "get", "js-plugin", "cursor/numbers"); r.stdout != fmt.Sprint(count) {
		t.Fatalf("cursor %q", r.stdout)
	}
}

// A JavaScript source whose cursor is in its state, declared resume =
// true, survives its faults: numbers with spin_every = 3 runs out of fuel
// on every third call of an instance; driftless restarts it on a fresh
// instance, says so once, counts the restarts in --stats, and writes
// every line once, in order. Without resume the first fault stops the
// run with exit 1 and an error naming the stage, plugin and function.
func TestLogsResumableSource(t *testing.T) {
	home := homeWith(t, "js-plugin")
	dir := t.TempDir()
	const count = 300
	pipeline := func(cursor, resume string) string {
		return fmt.Sprintf(`[pipeline]
batch_size = 50
[[sources]]
plugin = "js-plugin"
name = "numbers"
config = { count = %d, cursor = %q, spin_every = 3 }
%s
[[outputs]]
type = "stdout"
`, count, cursor, resume)
	}
	var want strings.Builder
	for i := 1; i <= count; i++ {
		fmt.Fprintf(&want, "[info] line %d n=%d\n", i, i)
	}
	writeFile(t, dir, "resume.toml", pipeline("a", "resume = true"))
	r := cliIn(t, home, dir, "", "logs", "run", "resume.toml", "--stats")
	expect(t, r, 0, "logs run resume.toml")
	if r.stdout != want.String() {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	// 7 calls succeed (6 batches, then the empty answer), 2 per
	// instance: 4 instances, 3 restarts.
	contains(t, "stderr", r.stderr,
		"warning: sources[0] (source numbers of plugin js-plugin): restarted on a fresh instance after: plugin js-plugin: logs.source.next: ",
		"; it read on from its position in the plugin state",
		"stats: 300 lines in, 300 out",
		"  sources[0] (source numbers of plugin js-plugin): 3 restarted after a failure\n")
	if n := strings.Count(r.stderr, "warning:"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, r.stderr)
	}

	writeFile(t, dir, "plain.toml", pipeline("b", ""))
	r = cliIn(t, home, dir, "", "logs", "run", "plain.toml")
	expect(t, r, 1, "logs run plain.toml")
	contains(t, "stderr", r.stderr, "error: sources[0] (source numbers of plugin js-plugin): plugin js-plugin: logs.source.next: ", "fuel")
	if !strings.HasPrefix(want.String(), r.stdout) || strings.Count(r.stdout, "\n") != 100 {
		t.Errorf("stdout, want the first 100 lines:\n%s", r.stdout)
	}

	writeFile(t, dir, "bad.toml", `[[sources]]
type = "stdin"
resume = true
[[outputs]]
type = "stdout"
`)
	r = cliIn(t, home, dir, "", "logs", "validate", "bad.toml")
	expect(t, r, 2, "logs validate bad.toml")
	contains(t, "stderr", r.stderr, "bad.toml:3: sources[0].resume: resume is for plugin sources (a stdin source is not restarted)")
}
