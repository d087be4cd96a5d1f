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
