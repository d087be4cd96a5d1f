package main

// Hostile inputs the CLI reads (issue 11): special files, oversized and
// deeply nested configs, ... Each must end quickly with a clear error and
// its documented exit code.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliWithin runs the CLI like cliIn, but fails the test when it does not
// end within d (a blocking open of a FIFO never would).
func cliWithin(t *testing.T, d time.Duration, home, dir, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home, "NO_COLOR=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("driftless %s: still running after %s (blocked?)", strings.Join(args, " "), d)
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("driftless %s: %v", strings.Join(args, " "), err)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("driftless %s panicked:\n%s", strings.Join(args, " "), r)
	}
	return r
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSpecialFiles: a FIFO, a device or a directory wherever the CLI
// opens a path is refused at once with a message saying what it is,
// instead of hanging (a FIFO) or reading for ever (/dev/zero).
func TestSpecialFiles(t *testing.T) {
	home := fixtureHome(t)
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "x.wasm"))
	tomlFifo := mkfifo(t, filepath.Join(dir, "x.toml"))

	// A FIFO in plugins/ is listed as broken; facts and tasks still work.
	mkfifo(t, filepath.Join(home, "plugins", "pipe.wasm"))
	r := cliWithin(t, time.Minute, home, "", "", "plugins", "list")
	expect(t, r, 0, "plugins list")
	contains(t, "list", r.stdout, "pipe", "is a named pipe (FIFO), not a regular file", "fixture")
	expect(t, cliWithin(t, time.Minute, home, "", "", "facts", "collect"), 0, "facts collect")
	expect(t, cliWithin(t, time.Minute, home, "", "", "task", "run", "fixture.ok"), 0, "task run")

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plugins", "install", fifo}, 2, fifo + " is a named pipe (FIFO), not a regular file: a plugin file must be a regular file"},
		{[]string{"plugins", "install", "/dev/zero", "--name", "z"}, 2, "/dev/zero is a character device, not a regular file: a plugin file must be a regular file"},
		{[]string{"plugins", "validate", fifo}, 2, fifo + " is a named pipe (FIFO), not a regular file: a plugin file must be a regular file"},
		{[]string{"template", "render", tomlFifo}, 2, tomlFifo + " is a named pipe (FIFO), not a regular file: a template must be a regular file"},
		{[]string{"apply", tomlFifo}, 2, tomlFifo + ": cannot read the playbook: is a named pipe (FIFO), not a regular file"},
		{[]string{"logs", "run", tomlFifo}, 2, tomlFifo + ": cannot read the pipeline: is a named pipe (FIFO), not a regular file"},
		{[]string{"logs", "validate", "/dev/zero"}, 2, "/dev/zero: cannot read the pipeline: is a character device, not a regular file"},
		{[]string{"template", "render", "-", "--vars", tomlFifo}, 2, "--vars " + tomlFifo + ": cannot read it: is a named pipe (FIFO), not a regular file"},
		{[]string{"task", "run", "fixture.ok", "--config", "@" + tomlFifo}, 2, "--config @" + tomlFifo + ": cannot read it: is a named pipe (FIFO), not a regular file"},
		{[]string{"task", "run", "fixture.ok", "--config", "@/dev/zero"}, 2, "--config @/dev/zero: cannot read it: is a character device, not a regular file"},
	} {
		r := cliWithin(t, time.Minute, home, "", "", c.args...)
		expect(t, r, c.code, c.args...)
		if got := strings.TrimSpace(r.stderr); got != "error: "+c.want {
			t.Errorf("driftless %s:\n got  %s\n want error: %s", strings.Join(c.args, " "), got, c.want)
		}
	}

	// plugins.toml itself.
	other := newHome(t)
	mkfifo(t, filepath.Join(other, "plugins.toml"))
	r = cliWithin(t, time.Minute, other, "", "", "plugins", "list")
	expect(t, r, 2, "plugins list")
	contains(t, "plugins.toml fifo", r.stderr, "plugins.toml: is a named pipe (FIFO), not a regular file")
}
