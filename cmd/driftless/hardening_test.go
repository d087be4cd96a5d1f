package main

// Hostile inputs the CLI reads (issue 11): special files, oversized and
// deeply nested configs, ... Each must end quickly with a clear error and
// its documented exit code.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/testplugin"
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

// TestNestedAndOversizedInputs: every TOML and JSON input is bounded in
// size and depth before it is decoded (BurntSushi/toml takes time and
// memory quadratic in the depth: 16 KB of nested inline tables took
// ~700 MB), with an error naming the file and line.
func TestNestedAndOversizedInputs(t *testing.T) {
	home := fixtureHome(t)
	dir := t.TempDir()
	deepTOML := func(prefix string) string {
		return prefix + strings.Repeat("{a=", 4000) + "1" + strings.Repeat("}", 4000) + "\n"
	}
	deepJSON := `{"a": ` + strings.Repeat("[", 4000) + strings.Repeat("]", 4000) + "}"
	const nested = "nested more than 32 levels deep (tables, arrays and dotted keys count; the limit is 32)"
	vars := writeFile(t, dir, "vars.toml", "x = 1\n"+deepTOML("y = "))
	varsJSON := writeFile(t, dir, "vars.json", deepJSON)
	cfg := writeFile(t, dir, "config.json", "\n"+deepJSON)
	pb := writeFile(t, dir, "site.toml", deepTOML("[[tasks]]\nuses = \"fixture.ok\"\nconfig = "))
	pl := writeFile(t, dir, "p.toml", deepTOML("[[sources]]\ntype = \"stdin\"\n[[outputs]]\ntype = \"stdout\"\n[pipeline]\nx = "))
	big := writeFile(t, dir, "big.json", `{"a": "`+strings.Repeat("x", 1<<20)+`"}`)
	tpl := writeFile(t, dir, "t.j2", "{{ x }}\n")
	for _, c := range []struct {
		args []string
		kind string
		want string
	}{
		{[]string{"template", "render", tpl, "--vars", vars}, "usage", "--vars " + vars + ": line 2: " + nested},
		{[]string{"template", "render", tpl, "--vars", varsJSON}, "usage", "--vars " + varsJSON + ": line 1: " + nested},
		{[]string{"template", "render", tpl, "--vars", big}, "usage", "--vars " + big + ": cannot read it: is 1048585 bytes, more than the limit of 1048576 bytes"},
		{[]string{"task", "run", "fixture.ok", "--config", "@" + cfg}, "invalid-config", "--config @" + cfg + ": line 2: " + nested},
		{[]string{"task", "run", "fixture.ok", "--config", deepJSON}, "invalid-config", "--config: line 1: " + nested},
		{[]string{"task", "run", "fixture.ok", "--config", "@" + big}, "usage", "--config @" + big + ": cannot read it: is 1048585 bytes, more than the limit of 1048576 bytes"},
		{[]string{"apply", pb}, "playbook", pb + ":3:97: " + nested},
		{[]string{"logs", "validate", pl}, "invalid-config", pl + ":6: " + nested},
	} {
		start := time.Now()
		r := cliWithin(t, time.Minute, home, "", "", append([]string{"-o", "json"}, c.args...)...)
		expect(t, r, 2, c.args...)
		var doc map[string]any
		jsonDoc(t, r, &doc)
		if e := errorOf(t, doc, c.kind); e["message"] != c.want {
			t.Errorf("driftless %s:\n got  %s\n want %s", strings.Join(c.args, " "), e["message"], c.want)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("driftless %s took %s", strings.Join(c.args, " "), d)
		}
	}
	// plugins.toml.
	writeFile(t, home, "plugins.toml", deepTOML("[plugins.fixture.extensions.e]\nv = "))
	r := cliWithin(t, time.Minute, home, "", "", "-o", "json", "plugins", "list")
	expect(t, r, 2, "plugins list")
	var doc map[string]any
	jsonDoc(t, r, &doc)
	if e := errorOf(t, doc, "config"); e["message"] != "config "+filepath.Join(home, "plugins.toml")+": line 2: "+nested {
		t.Errorf("plugins.toml: %s", e["message"])
	}
}

// TestNumericLimits: a limit that would mean "no limit" (a timeout that
// rounds to zero) or overflow is refused before anything runs.
func TestNumericLimits(t *testing.T) {
	home := fixtureHome(t)
	for _, c := range []struct{ toml, want string }{
		{"[security]\nexecution_timeout_secs = 1e-10\n", "security.execution_timeout_secs: 1e-10 is below the minimum of 0.01 seconds (running calls check their deadline every 10ms)"},
		{"[plugins.fixture]\nexecution_timeout_secs = nan\n", "plugins.fixture.execution_timeout_secs: NaN is out of range: more than 0 and at most 86400"},
		{"[security]\nlog_rate = 9223372036854775807\n", "security.log_rate: 9223372036854775807 is out of range: between 1 and 1000000 messages per second"},
	} {
		writeFile(t, home, "plugins.toml", c.toml)
		for _, args := range [][]string{{"task", "run", "fixture.ok"}, {"plugins", "inspect", "fixture"}} {
			r := runCLI(t, home, 2, args...)
			if want := "error: config " + filepath.Join(home, "plugins.toml") + ": " + c.want + "\n"; r.stderr != want {
				t.Errorf("%q: driftless %s:\n got  %s want %s", c.toml, strings.Join(args, " "), r.stderr, want)
			}
		}
	}
	writeFile(t, home, "plugins.toml", "[security]\nexecution_timeout_secs = 0.01\n")
	r := runCLI(t, home, 0, "plugins", "inspect", "fixture")
	contains(t, "inspect", r.stdout, "execution_timeout_secs  0.01\n")
}

// installLeftovers lists the temporary directories of installs in home.
func installLeftovers(t *testing.T, home string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(home, "plugins", ".install-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// startInstall starts `plugins install - --name NAME` reading from a pipe
// the test writes to; it returns the command and the pipe.
func startInstall(t *testing.T, home, name string) (*exec.Cmd, *os.File, *bytes.Buffer) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	before := len(installLeftovers(t, home))
	cmd := exec.Command(binary, "plugins", "install", "-", "--name", name)
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home, "NO_COLOR=1")
	cmd.Stdin = r
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() { w.Close(); cmd.Process.Kill(); cmd.Wait() })
	// Some bytes, then nothing: the install waits in a read.
	if _, err := w.Write(bytes.Repeat([]byte{0}, 300<<10)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(installLeftovers(t, home)) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the install made no temporary directory: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, w, &errb
}

// TestInstallBounds: plugins install streams the plugin under
// max_plugin_size (an endless input cannot fill the disk), stops on
// SIGINT and SIGTERM even while waiting for input, removes its temporary
// directory whatever happens, and removes those of installs that were
// killed outright.
func TestInstallBounds(t *testing.T) {
	home := newHome(t)
	writeFile(t, home, "plugins.toml", "[security]\nmax_plugin_size = 1048576\n")

	// An endless input: refused at max_plugin_size.
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	cmd := exec.Command(binary, "-o", "json", "plugins", "install", "-", "--name", "zeros")
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
	cmd.Stdin = zero
	out, _ := cmd.Output()
	if cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("install from /dev/zero: exit %d: %s", cmd.ProcessState.ExitCode(), out)
	}
	var doc map[string]any
	jsonDoc(t, result{stdout: string(out)}, &doc)
	if e := errorOf(t, doc, "load"); e["message"] != "plugin zeros: install: standard input is more than max_plugin_size (1048576 bytes): nothing was installed" {
		t.Errorf("got %v", e["message"])
	}
	// A file over the limit is refused before it is copied.
	big := writeFile(t, t.TempDir(), "big.wasm", string(make([]byte, 1<<20+1)))
	r := runCLI(t, home, 2, "plugins", "install", big)
	if want := "error: plugin big: install: " + big + " is 1048577 bytes, more than max_plugin_size (1048576 bytes): nothing was installed\n"; r.stderr != want {
		t.Errorf("got %q\nwant %q", r.stderr, want)
	}
	r = runCLI(t, home, 2, "plugins", "install", "-")
	contains(t, "install - without --name", r.stderr, "give the plugin's name with --name")
	if l := installLeftovers(t, home); len(l) != 0 {
		t.Fatalf("leftovers: %v", l)
	}

	// SIGINT and SIGTERM stop an install waiting for input.
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		cmd, _, errb := startInstall(t, home, "waiting")
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%v did not stop the install", sig)
		}
		if code := cmd.ProcessState.ExitCode(); code != 1 || errb.String() != "error: plugin waiting: install: interrupted: nothing was installed\n" {
			t.Errorf("%v: exit %d: %q", sig, code, errb.String())
		}
		if l := installLeftovers(t, home); len(l) != 0 {
			t.Fatalf("%v left %v", sig, l)
		}
	}

	// An install killed outright leaves its directory: plugins list warns
	// about it, the next install removes it; not the directory of an
	// install that is running.
	running, w, _ := startInstall(t, home, "running")
	runningDir := installLeftovers(t, home)
	cmd, _, _ = startInstall(t, home, "killed")
	cmd.Process.Kill()
	cmd.Wait()
	var left string
	for _, l := range installLeftovers(t, home) {
		if l != runningDir[0] {
			left = l
		}
	}
	if left == "" {
		t.Fatalf("after SIGKILL: %v", installLeftovers(t, home))
	}
	r = runCLI(t, home, 0, "plugins", "list")
	contains(t, "list", r.stderr, "leftovers of an interrupted plugin install (the next plugins install removes them)", left, "bytes=")
	if strings.Contains(r.stderr, runningDir[0]) {
		t.Errorf("list warned about a running install: %s", r.stderr)
	}
	src := writeFile(t, t.TempDir(), "fixture.wasm", string(fixtureBytes(t)))
	r = runCLI(t, home, 0, "plugins", "install", src)
	contains(t, "install", r.stderr, "removed the leftovers of an interrupted plugin install", left)
	if l := installLeftovers(t, home); len(l) != 1 || l[0] != runningDir[0] {
		t.Fatalf("after the install: %v (the running install's directory must stay, the killed one's go)", l)
	}
	w.Close() // EOF: the running install fails validation and cleans up
	running.Wait()
	if l := installLeftovers(t, home); len(l) != 0 {
		t.Fatalf("leftovers: %v", l)
	}
}

// TestErrorKinds: invalid UTF-8 in a config is an invalid-config error
// (exit 2) found before any plugin call; and errors do not depend on the
// caller's environment (RUST_BACKTRACE=1 used to append an anyhow
// backtrace to the load errors of core modules).
func TestErrorKinds(t *testing.T) {
	home := fixtureHome(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.json", "{\"message\": \"caf\xe9\"}")
	for _, args := range [][]string{
		{"task", "run", "fixture.ok", "--config", "@" + cfg},
		{"facts", "collect", "fixture.info", "--config", "@" + cfg},
	} {
		doc := runJSON(t, home, 2, args...)
		if e := errorOf(t, doc, "invalid-config"); e["message"] != "--config @"+cfg+": line 1: not valid UTF-8 (byte 0xe9)" {
			t.Errorf("driftless %s: %v", strings.Join(args, " "), e["message"])
		}
	}
	doc := runJSON(t, home, 2, "task", "run", "fixture.ok", "--config", "{\"a\": \"\xff\"}")
	if e := errorOf(t, doc, "invalid-config"); e["message"] != "--config: line 1: not valid UTF-8 (byte 0xff)" {
		t.Errorf("inline --config: %v", e["message"])
	}

	core := writeFile(t, dir, "badcore.wasm", "\x00asm\x01\x00\x00\x00\xff\xff\xff")
	put(t, home, "badcore", []byte("\x00asm\x01\x00\x00\x00\xff\xff\xff"))
	run := func(env []string, args ...string) result {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(env, "DRIFTLESS_HOME="+home, "NO_COLOR=1", "PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		// Log lines differ by their time only.
		stderr := regexp.MustCompile(`time=\S+ `).ReplaceAllString(errb.String(), "")
		return result{stdout: out.String(), stderr: stderr, code: cmd.ProcessState.ExitCode()}
	}
	for _, args := range [][]string{{"plugins", "validate", core}, {"plugins", "list"}, {"-o", "json", "plugins", "list"}} {
		plain := run(nil, args...)
		for _, env := range [][]string{{"RUST_BACKTRACE=1"}, {"RUST_BACKTRACE=full", "RUST_LIB_BACKTRACE=1"}} {
			got := run(env, args...)
			if got.String() != plain.String() {
				t.Errorf("driftless %s with %v differs:\n%s\nwithout:\n%s", strings.Join(args, " "), env, got, plain)
			}
		}
		if strings.Contains(plain.stderr+plain.stdout, "backtrace") {
			t.Errorf("driftless %s: %s", strings.Join(args, " "), plain)
		}
	}
	r := run([]string{"RUST_BACKTRACE=1"}, "plugins", "validate", core)
	if r.code != 2 || r.stderr != "error: plugin badcore: load: not a valid WebAssembly module: failed to parse WebAssembly module: malformed section id (at offset 0x8)\n" {
		t.Errorf("validate: %s", r)
	}
}

// TestTemplateLimits: templates that recurse, grow or loop for ever end
// with a template error naming the file, line and limit (they killed the
// process with a Go stack overflow or ran for ever); apply keeps its recap
// and JSON document; [templates] in plugins.toml sets the limits; ctrl-C
// stops a render.
func TestTemplateLimits(t *testing.T) {
	home := fixtureHome(t)
	dir := t.TempDir()
	recursive := writeFile(t, dir, "recursive.j2", "a\n{% macro f(n) %}{{ f(n) }}{% endmacro %}\n{{ f(1) }}\n")
	r := runCLI(t, home, 2, "template", "render", recursive, "--gather-facts=false")
	if want := "error: " + recursive + ":2: template limit max_depth (200) reached: macro calls, includes, blocks and loops nested more than 200 deep " +
		"(a macro that calls itself, or a template that includes itself?)\n"; r.stderr != want {
		t.Errorf("recursive:\n got  %q\n want %q", r.stderr, want)
	}
	e := errorOf(t, runJSON(t, home, 2, "template", "render", recursive), "template")
	if e["limit"] != "max_depth" || e["file"] != recursive || e["line"] != float64(2) {
		t.Errorf("recursive JSON: %v", e)
	}
	self := writeFile(t, dir, "self.j2", "{% include 'self.j2' %}")
	e = errorOf(t, runJSON(t, home, 2, "template", "render", self), "template")
	if e["limit"] != "max_depth" {
		t.Errorf("self-include: %v", e)
	}
	huge := writeFile(t, dir, "huge.j2", "{{ 'x' * 1000000000000 }}")
	e = errorOf(t, runJSON(t, home, 2, "template", "render", huge), "template")
	if e["limit"] != "max_output" || e["message"] != huge+":1: template limit max_output (16777216 bytes) reached: a string of 1 bytes repeated 1000000000000 times would be more than 16777216 bytes" {
		t.Errorf("huge: %v", e)
	}

	// [templates] sets the limits.
	loops := writeFile(t, dir, "loops.j2", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
	writeFile(t, home, "plugins.toml", "[templates]\ntimeout_secs = 0.5\nmax_depth = 10\n")
	start := time.Now()
	e = errorOf(t, runJSON(t, home, 2, "template", "render", loops), "template")
	if e["limit"] != "timeout_secs" || e["message"] != loops+":1: template limit timeout_secs (0.5) reached: rendering took longer than 500ms" {
		t.Errorf("timeout: %v", e)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s", d)
	}
	e = errorOf(t, runJSON(t, home, 2, "template", "render", recursive), "template")
	contains(t, "max_depth = 10", e["message"].(string), "template limit max_depth (10) reached")
	writeFile(t, home, "plugins.toml", "[templates]\nmax_output = 0\n")
	r = runCLI(t, home, 2, "template", "render", loops)
	contains(t, "bad [templates]", r.stderr, "templates.max_output: 0 is out of range: between 1 and 1073741824 bytes")
	os.Remove(filepath.Join(home, "plugins.toml"))

	// ctrl-C stops a render: exit 1, cancelled.
	cmd := exec.Command(binary, "-o", "json", "template", "render", loops)
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	start = time.Now()
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to stop after SIGINT", d)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(out.String(), `"kind": "cancelled"`) ||
		!strings.Contains(out.String(), "rendering interrupted") {
		t.Errorf("SIGINT: exit %d: %s", code, out.String())
	}

	// apply: the failing task is reported, the recap printed, the JSON
	// document complete.
	play := writeFile(t, dir, "play.toml", "[[tasks]]\nuses = \"fixture.ok\"\n\n[[tasks]]\nname = \"recursive\"\nuses = \"fixture.echo\"\n"+
		"config = { a = \"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\" }\n\n[[tasks]]\nuses = \"fixture.ok\"\n")
	r = runCLI(t, home, 2, "apply", play)
	contains(t, "apply text", r.stdout, "TASK [recursive] (fixture.echo)",
		"failed (template): "+play+":7: tasks[2].config.a: template: template limit max_depth (200) reached", "PLAY RECAP",
		"ok=1  changed=0  failed=1  skipped=0  ignored=0")
	doc := runJSON(t, home, 2, "apply", play)
	tasks, _ := doc["tasks"].([]any)
	recap, _ := doc["recap"].(map[string]any)
	if len(tasks) != 2 || recap["failed"] != float64(1) || recap["ok"] != float64(1) {
		t.Fatalf("apply JSON: %v", doc)
	}
	if e := errorOf(t, doc, "template"); e["limit"] != "max_depth" {
		t.Errorf("apply JSON error: %v", e)
	}
}

// evil's definitions and results carry terminal control sequences: ESC
// (cursor moves, screen clears, window titles), BEL, CR, DEL, the C1 CSI
// and a bidirectional override.
var evil = testplugin.Plugin{
	Name: "evil", Version: "1.0\x1b[31m", Description: "desc \x1b]0;owned\x07",
	Tasks: []testplugin.Task{
		{Name: "inject", Description: "clears \x1b[2J the screen", CheckMode: true,
			Do: testplugin.Result(true, "msg \x1b[31mred\x07\rover", `{"k":"a`+"\u009b"+`b`+"\x7f"+`","long":"`+strings.Repeat("x", 100)+"\u202e"+`"}`, "-a\x1b[1m\n+b\x07")},
		{Name: "boom", Description: "Fails.", Do: testplugin.Fail("failed", "boom \x1b[2J\x07")},
	},
}

// rawControls reports the raw control characters in s that a terminal
// would obey (line breaks and tabs aside).
func rawControls(s string) []string {
	var out []string
	for _, r := range s {
		if r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e) {
			out = append(out, fmt.Sprintf("%U", r))
		}
	}
	return out
}

// TestTerminalInjection: text output escapes the control characters of
// what plugins and files say (messages, diffs, outputs, names,
// descriptions, errors); JSON output stays JSON, faithful to them.
func TestTerminalInjection(t *testing.T) {
	home := newHome(t)
	wasm, err := evil.Wasm()
	if err != nil {
		t.Fatal(err)
	}
	put(t, home, "evil", wasm)
	play := writeFile(t, t.TempDir(), "play.toml", "name = \"play \\u001b[5m\"\n[[tasks]]\nname = \"t \\u0007\"\nuses = \"evil.inject\"\n[[tasks]]\nuses = \"evil.boom\"\n")
	for _, c := range []struct {
		args []string
		code int
		want []string // escaped forms that must be printed
	}{
		{[]string{"task", "run", "evil.inject"}, 0, []string{`msg \x1b[31mred\x07 over`, `  -a\x1b[1m`, `+b\x07`, `"a\u009bb\x7f"`, `\u202e`}},
		{[]string{"task", "run", "evil.boom"}, 1, []string{`boom \x1b[2J\x07`}},
		{[]string{"plugins", "list"}, 0, []string{`1.0\x1b[31m`}},
		{[]string{"plugins", "inspect", "evil"}, 0, []string{`1.0\x1b[31m`, `desc \x1b]0;owned\x07`, `clears \x1b[2J the screen`}},
		{[]string{"plugins", "doc", "evil"}, 0, []string{`clears \x1b[2J the screen`}},
		{[]string{"apply", play}, 1, []string{`PLAY [play \x1b[5m]`, `TASK [t \x07]`, `msg \x1b[31mred\x07 over`, `boom \x1b[2J\x07`}},
	} {
		r := runCLI(t, home, c.code, c.args...)
		if raw := rawControls(r.stdout + r.stderr); len(raw) > 0 {
			t.Errorf("driftless %s printed raw %v:\n%s", strings.Join(c.args, " "), raw, r)
		}
		contains(t, strings.Join(c.args, " "), r.stdout+r.stderr, c.want...)
	}
	// JSON: valid, no raw controls, and the values are what the plugin said.
	r := runCLI(t, home, 0, "-o", "json", "task", "run", "evil.inject")
	if raw := rawControls(r.stdout); len(raw) > 0 {
		t.Errorf("JSON output has raw %v", raw)
	}
	var doc map[string]any
	jsonDoc(t, r, &doc)
	if doc["message"] != "msg \x1b[31mred\x07\rover" || doc["output"].(map[string]any)["k"] != "a\u009bb\x7f" || *strPtr(doc["diff"]) != "-a\x1b[1m\n+b\x07" {
		t.Errorf("JSON values changed: %v", doc)
	}
}

func strPtr(v any) *string {
	s, _ := v.(string)
	return &s
}

// TestRelativePaths: a pipeline's (and a playbook's) relative paths
// resolve against its own directory, whatever directory driftless runs in;
// a run stopped by an error prints the error, not a stats line.
func TestRelativePaths(t *testing.T) {
	home := newHome(t)
	root := t.TempDir()
	site := filepath.Join(root, "site")
	os.MkdirAll(site, 0o755)
	writeFile(t, site, "in.log", "one\ntwo\n")
	writeFile(t, site, "p.toml", "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n[[outputs]]\ntype = \"file\"\npath = \"out.log\"\n")
	r := cliIn(t, home, root, "", "logs", "run", "site/p.toml", "--stats")
	expect(t, r, 0, "logs run site/p.toml")
	if out, err := os.ReadFile(filepath.Join(site, "out.log")); err != nil || string(out) != "one\ntwo\n" {
		t.Errorf("out.log: %q %v", out, err)
	}
	expect(t, cliIn(t, home, root, "", "logs", "validate", "site/p.toml"), 0, "logs validate site/p.toml")

	writeFile(t, site, "bad.toml", "[[sources]]\ntype = \"file\"\npath = \"missing.log\"\n[[outputs]]\ntype = \"stdout\"\n")
	r = cliIn(t, home, root, "", "logs", "run", "site/bad.toml", "--stats")
	expect(t, r, 1, "logs run site/bad.toml")
	if strings.Contains(r.stderr, "stats:") || !strings.HasPrefix(r.stderr, "error: sources[0] (file source missing.log): ") {
		t.Errorf("a failed run: %q", r.stderr)
	}
}

// TestMessages: what the CLI says about odd names and arguments.
func TestMessages(t *testing.T) {
	home := fixtureHome(t)
	long := strings.Repeat("a", 5000)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plugins", "doc", "../plugins"}, `error: plugins doc: "../plugins" is not NAME or NAME.ITEM of an installed plugin (plugins list shows them; plugins validate FILE checks a plugin file)`},
		{[]string{"plugins", "inspect", long}, `error: no such plugin: invalid plugin name "` + strings.Repeat("a", 128) + `... (5000 bytes in all)": use letters, digits, '-' and '_', starting with a letter or digit, at most 128 characters`},
		{[]string{"task", "run", "fixture." + long}, `error: plugin fixture: tasks.execute: no task named "` + strings.Repeat("a", 128) + `... (5000 bytes in all)" (available: change, echo, fail, garbage, grow, ok, spin)`},
	} {
		r := runCLI(t, home, 2, c.args...)
		if got := strings.TrimSpace(r.stderr); got != c.want {
			t.Errorf("driftless %.40s:\n got  %s\n want %s", strings.Join(c.args, " "), got, c.want)
		}
	}
	play := writeFile(t, t.TempDir(), "play.toml", "[[tasks]]\nuses = \"nosuch.x\"\n[[tasks]]\nuses = \"other.y\"\n")
	r := runCLI(t, home, 2, "apply", play)
	if !strings.HasPrefix(r.stderr, "error: "+play+": 2 problems:\n  - "+play+":2: tasks[1].uses: plugin nosuch: no such plugin") {
		t.Errorf("unknown plugins in a playbook:\n%s", r.stderr)
	}
	r = runCLI(t, home, 0, "--help")
	if strings.Contains(r.stdout, "(default: false)") && strings.Contains(r.stdout, "print the version (default") {
		t.Errorf("--help: %s", r.stdout)
	}
	contains(t, "--help", r.stdout, "--version                   print the version\n")
}
