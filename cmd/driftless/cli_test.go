package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

func TestUsage(t *testing.T) {
	home := newHome(t)
	r := runCLI(t, home, 2)
	contains(t, "bare driftless", r.stdout, "COMMANDS:", "plugins", "task", "apply")
	contains(t, "bare driftless", r.stderr, "missing command")

	doc := runJSON(t, home, 2, "nosuch")
	contains(t, "unknown command", errorOf(t, doc, "usage")["message"].(string), `unknown command "nosuch"`)
	doc = runJSON(t, home, 2, "plugins", "nosuch")
	contains(t, "unknown subcommand", errorOf(t, doc, "usage")["message"].(string), "driftless plugins: unknown command", "list, inspect")
	errorOf(t, runJSON(t, home, 2, "plugins"), "usage")

	r = runCLI(t, home, 2, "--output", "xml", "plugins", "list")
	contains(t, "bad --output", r.stderr, `--output must be text or json, not "xml"`)
	r = runCLI(t, home, 2, "--log-level", "loud", "plugins", "list")
	contains(t, "bad --log-level", r.stderr, "--log-level must be one of")
	errorOf(t, runJSON(t, home, 2, "plugins", "list", "--bogus"), "usage")
	errorOf(t, runJSON(t, home, 2, "task", "run"), "usage")
	errorOf(t, runJSON(t, home, 2, "task", "run", "a.b", "c.d"), "usage")
	errorOf(t, runJSON(t, home, 2, "task", "run", "nodot"), "usage")

	r = runCLI(t, home, 0, "--version")
	contains(t, "--version", r.stdout, "driftless version")
	r = runCLI(t, home, 0, "task", "run", "--help")
	contains(t, "help", r.stdout, "--config", "--check", "PLUGIN.TASK")
	// Global flags may come after the command, -o is --output.
	var list []any
	jsonDoc(t, runCLI(t, home, 0, "plugins", "list", "-o", "json"), &list)
}

// TestNoPanic feeds odd command lines: each ends with exit 0, 1 or 2 and
// never a panic (drift checks stderr for one).
func TestNoPanic(t *testing.T) {
	home := fixtureHome(t)
	for _, args := range [][]string{
		{"--"}, {"-"}, {"--home"}, {"--output"}, {"-o", "json", "--"}, {"task", "run", "--config"}, {"task", "run", "."},
		{"task", "run", "fixture."}, {"task", "run", ".ok"}, {"task", "run", "fixture.ok", "--config", "\xff"},
		{"task", "run", "fixture.ok", "--config", "@"}, {"task", "run", "fixture.ok", "--config", "null"},
		{"task", "run", "fixture.ok", "--config", `{"a":1} {"b":2}`}, {"plugins", "inspect", "../../etc/passwd"},
		{"plugins", "doc", "."}, {"plugins", "doc", "fixture."}, {"plugins", "remove", "../fixture"},
		{"plugins", "install", "/"}, {"plugins", "validate", "/dev/null"}, {"facts", "collect", "x"},
		{"template", "render", "/"}, {"apply", "/"}, {"help", "nosuch"}, {"-h", "plugins"}, {"apply", "--check", "--check"},
		{"template", "render", "-", "--var", "=x"}, {"facts", "collect", "fixture.info", "--config", "[1]"},
	} {
		r := drift(t, home, args...)
		if r.code < 0 || r.code > 2 {
			t.Errorf("driftless %q: exit %d", args, r.code)
		}
	}
}

func TestPluginsEmptyHome(t *testing.T) {
	home := newHome(t)
	r := runCLI(t, home, 0, "plugins", "list")
	contains(t, "list", r.stdout, "no plugins installed in "+filepath.Join(home, "plugins"))
	var list []any
	jsonDoc(t, runCLI(t, home, 0, "-o", "json", "plugins", "list"), &list)
	if len(list) != 0 {
		t.Errorf("got %v", list)
	}
	// A home that does not exist is an empty one; --home wins over the
	// environment.
	other := filepath.Join(t.TempDir(), "nothing-here")
	r = runCLI(t, home, 0, "--home", other, "plugins", "list")
	contains(t, "--home", r.stdout, other)
}

func TestPluginsLifecycle(t *testing.T) {
	home := newHome(t)
	src := writeFile(t, t.TempDir(), "fixture.wasm", string(fixtureBytes(t)))
	srcFile := src

	r := runCLI(t, home, 0, "plugins", "validate", src)
	contains(t, "validate", r.stdout, "valid", "fixture", "tasks: ok, change")
	doc := runJSON(t, home, 0, "plugins", "validate", src, "--name", "other")
	if doc["valid"] != true || doc["name"] != "other" || doc["abi"] != "component" || doc["version"] != "1.0.0" {
		t.Errorf("validate JSON: %v", doc)
	}
	if _, err := os.Stat(filepath.Join(home, "plugins", "fixture.wasm")); err == nil {
		t.Fatal("validate installed the plugin")
	}

	doc = runJSON(t, home, 0, "plugins", "install", src)
	if doc["installed"] != true || doc["name"] != "fixture" || doc["replaced"] != false || doc["path"] != filepath.Join(home, "plugins", "fixture.wasm") {
		t.Errorf("install JSON: %v", doc)
	}
	e := errorOf(t, runJSON(t, home, 2, "plugins", "install", src), "usage")
	contains(t, "second install", e["message"].(string), "already installed", "--force")
	doc = runJSON(t, home, 0, "plugins", "install", "--force", src)
	if doc["replaced"] != true {
		t.Errorf("install --force JSON: %v", doc)
	}
	r = runCLI(t, home, 0, "plugins", "install", src, "--name", "second")
	contains(t, "install --name", r.stdout, "installed second 1.0.0 (component)")
	entries, _ := os.ReadDir(filepath.Join(home, "plugins"))
	if len(entries) != 2 {
		t.Errorf("plugin dir holds %d entries, want 2 (no leftovers of installs)", len(entries))
	}

	var list []map[string]any
	jsonDoc(t, runCLI(t, home, 0, "-o", "json", "plugins", "list"), &list)
	if len(list) != 2 || list[0]["name"] != "fixture" || list[1]["name"] != "second" {
		t.Fatalf("list: %v", list)
	}
	p := list[0]
	if keys(p) != "abi,description,error,name,path,provides,sha256,source,version" || p["abi"] != "component" || p["version"] != "1.0.0" || p["error"] != nil {
		t.Errorf("list entry: %v", p)
	}
	if src := p["source"].(map[string]any); src["kind"] != "file" || src["ref"] != "file://"+srcFile || src["sha256"] != p["sha256"] || src["version"] != "1.0.0" {
		t.Errorf("list entry source: %v", src)
	}
	prov := p["provides"].(map[string]any)
	if keys(prov) != "collectors,log_components,tasks,template_extensions" || len(prov["tasks"].([]any)) != 7 ||
		len(prov["collectors"].([]any)) != 2 || len(prov["template_extensions"].([]any)) != 5 || len(prov["log_components"].([]any)) != 0 {
		t.Errorf("provides: %v", prov)
	}
	r = runCLI(t, home, 0, "plugins", "list")
	contains(t, "list text", r.stdout, "NAME", "ABI", "VERSION", "SOURCE", "DIGEST", "PROVIDES", "fixture", "component", "1.0.0", "file", "sha256:",
		"wrap (filter)", "pack (function)")
	if strings.Contains(r.stdout, "warning") {
		t.Errorf("installed plugins listed as unlocked:\n%s", r.stdout)
	}

	doc = runJSON(t, home, 0, "plugins", "inspect", "fixture")
	for _, k := range []string{"name", "version", "description", "abi", "path", "size", "sha256", "provides", "interface", "tasks", "collectors", "template_extensions", "log_components", "limits"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("inspect JSON lacks %s", k)
		}
	}
	tasks := doc["tasks"].([]any)
	change := tasks[1].(map[string]any)
	if change["name"] != "change" || change["supports_check_mode"] != true || change["kind"] != "apply" {
		t.Errorf("inspect task: %v", change)
	}
	if schema, ok := change["config_schema"].(map[string]any); !ok || schema["type"] != "object" {
		t.Errorf("config_schema is not the schema object: %v", change["config_schema"])
	}
	limits := doc["limits"].(map[string]any)
	if limits["max_memory"] != float64(64<<20) || limits["execution_timeout_secs"] != float64(30) || limits["fuel_limit"] != float64(1e9) {
		t.Errorf("limits: %v", limits)
	}
	ext := doc["template_extensions"].([]any)[0].(map[string]any)
	if names := ext["template_names"].([]any); len(names) != 2 || names[0] != "wrap" || names[1] != "fixture__wrap" {
		t.Errorf("template names: %v", ext)
	}
	contains(t, "interface", doc["interface"].(string), "driftless:plugin/tasks@0.1.0")
	r = runCLI(t, home, 0, "plugins", "inspect", "fixture")
	contains(t, "inspect text", r.stdout, "limits (plugins.toml)", "execution_timeout_secs  30", "change (apply, check mode)",
		`"minLength": 1`, "interface (WIT)", "wrap(first?, second-arg?)")

	r = runCLI(t, home, 0, "plugins", "doc", "fixture.change")
	contains(t, "doc", r.stdout, "> FIXTURE.CHANGE    (task, supports check mode)", "= path", "Where.", "- mode",
		`choices: "a", "b"`, `default: "a"`, "minLength: 1", "Other config keys are refused.",
		`driftless task run fixture.change --config '{"path":"..."}' [--check]`)
	r = runCLI(t, home, 0, "plugins", "doc", "fixture")
	contains(t, "doc overview", r.stdout, "> FIXTURE 1.0.0 (component plugin)", "task         ok", "collector    info",
		"filter       wrap", "function     pack", "{{ value | wrap(first?, second_arg?) }}", "{{ answer() }}",
		"driftless facts collect fixture.info")
	doc = runJSON(t, home, 0, "plugins", "doc", "fixture.wrap")
	items := doc["items"].([]any)
	if doc["plugin"] != "fixture" || len(items) != 1 || items[0].(map[string]any)["kind"] != "filter" {
		t.Errorf("doc JSON: %v", doc)
	}
	errorOf(t, runJSON(t, home, 2, "plugins", "doc", "fixture.nosuch"), "not-found")
	errorOf(t, runJSON(t, home, 2, "plugins", "doc", "nosuch"), "not-found")
	e = errorOf(t, runJSON(t, home, 2, "plugins", "inspect", "nosuch"), "not-found")
	contains(t, "inspect unknown", e["message"].(string), "installed: fixture, second")

	doc = runJSON(t, home, 0, "plugins", "remove", "second")
	if doc["removed"] != true || doc["name"] != "second" {
		t.Errorf("remove JSON: %v", doc)
	}
	r = runCLI(t, home, 0, "plugins", "remove", "fixture")
	contains(t, "remove", r.stdout, "removed fixture")
	errorOf(t, runJSON(t, home, 2, "plugins", "remove", "fixture"), "not-found")
	runCLI(t, home, 0, "plugins", "list")
}

func TestBrokenPlugins(t *testing.T) {
	home := fixtureHome(t)
	put(t, home, "broken", []byte("\x00asm\x01\x00\x00\x00garbage"))
	dir := t.TempDir()

	// A broken plugin is listed with its error; the others still work.
	var list []map[string]any
	jsonDoc(t, runCLI(t, home, 0, "-o", "json", "plugins", "list"), &list)
	if len(list) != 2 || list[0]["name"] != "broken" {
		t.Fatalf("list: %v", list)
	}
	if e, ok := list[0]["error"].(map[string]any); !ok || e["kind"] != "load" || e["message"] == "" {
		t.Errorf("broken entry: %v", list[0])
	}
	r := runCLI(t, home, 0, "plugins", "list")
	contains(t, "list", r.stdout, "broken", "ERROR: plugin broken: load:")
	runCLI(t, home, 0, "task", "run", "fixture.ok")
	e := errorOf(t, runJSON(t, home, 2, "task", "run", "broken.x"), "load")
	if e["plugin"] != "broken" {
		t.Errorf("error: %v", e)
	}
	errorOf(t, runJSON(t, home, 2, "plugins", "inspect", "broken"), "load")

	// validate and install list every problem and exit 2.
	bad := writeFile(t, dir, "notwasm.wasm", "hello")
	e = errorOf(t, runJSON(t, home, 2, "plugins", "validate", bad), "load")
	contains(t, "validate", e["message"].(string), "not a WebAssembly file")
	wasm, err := wasmtime.Wat2Wasm(`(component
  (import "wasi:sockets/tcp@0.2.0" (instance))
  (import "evil:mischief/all@1.0.0" (instance)))`)
	if err != nil {
		t.Fatal(err)
	}
	evil := writeFile(t, dir, "evil.wasm", string(wasm))
	e = errorOf(t, runJSON(t, home, 2, "plugins", "validate", evil), "load")
	problems, _ := e["problems"].([]any)
	if len(problems) < 3 {
		t.Fatalf("want every problem listed, got %v", e)
	}
	all := ""
	for _, p := range problems {
		all += p.(string) + "\n"
	}
	contains(t, "problems", all, "wasi:sockets/tcp@0.2.0", "network", "evil:mischief/all@1.0.0", "metadata")
	r = runCLI(t, home, 2, "plugins", "validate", evil)
	contains(t, "validate text", r.stderr, "error: plugin evil: load: 4 problems:\n", "  - import evil:mischief/all@1.0.0")
	errorOf(t, runJSON(t, home, 2, "plugins", "install", evil), "load")
	if _, err := os.Stat(filepath.Join(home, "plugins", "evil.wasm")); err == nil {
		t.Error("an invalid plugin was installed")
	}
	errorOf(t, runJSON(t, home, 2, "plugins", "install", filepath.Join(dir, "missing.wasm")), "usage")
	errorOf(t, runJSON(t, home, 2, "plugins", "install", bad, "--name", "bad name"), "usage")
}

func TestBadPluginsToml(t *testing.T) {
	home := fixtureHome(t)
	writeFile(t, home, "plugins.toml", "[security]\nmax_memroy = 1\n")
	e := errorOf(t, runJSON(t, home, 2, "plugins", "list"), "config")
	contains(t, "config error", e["message"].(string), "plugins.toml", "max_memroy")
	if e["file"] != filepath.Join(home, "plugins.toml") {
		t.Errorf("error: %v", e)
	}
	writeFile(t, home, "plugins.toml", "[security]\nexecution_timeout_secs = -1\n")
	r := runCLI(t, home, 2, "task", "run", "fixture.ok")
	contains(t, "config error", r.stderr, "security.execution_timeout_secs", "out of range")
}

func TestTaskRun(t *testing.T) {
	home := fixtureHome(t)
	dir := t.TempDir()

	doc := runJSON(t, home, 0, "task", "run", "fixture.ok")
	if keys(doc) != "changed,check_mode,diff,message,output,plugin,status,task" {
		t.Errorf("result keys: %s", keys(doc))
	}
	if doc["plugin"] != "fixture" || doc["task"] != "ok" || doc["status"] != "ok" || doc["changed"] != false ||
		doc["message"] != "all good" || doc["diff"] != nil || doc["output"].(map[string]any)["n"] != float64(1) {
		t.Errorf("ok: %v", doc)
	}
	r := runCLI(t, home, 0, "task", "run", "fixture.ok")
	contains(t, "text", r.stdout, "task     fixture.ok", "status   ok", "message  all good", `output   {"n":1}`)

	doc = runJSON(t, home, 0, "task", "run", "fixture.change", "--config", `{"path": "/etc/motd"}`)
	if doc["status"] != "changed" || doc["changed"] != true || doc["message"] != "changed it" || doc["diff"] != "-old\n+new" || doc["check_mode"] != false {
		t.Errorf("change: %v", doc)
	}
	// --check, and flags before or after the argument.
	doc = runJSON(t, home, 0, "task", "run", "--check", "fixture.change", "-c", `{"path": "x"}`)
	if doc["status"] != "changed" || doc["message"] != "would change it" || doc["check_mode"] != true {
		t.Errorf("check: %v", doc)
	}
	r = runCLI(t, home, 0, "task", "run", "fixture.change", "--config", `{"path": "x"}`, "--check")
	contains(t, "check text", r.stdout, "fixture.change (check mode)", "status   changed", "diff\n  -old\n  +new")

	// --config @FILE and @- (stdin).
	cfg := writeFile(t, dir, "cfg.json", `{"list": [1, "two"], "nested": {"x": null}}`)
	doc = runJSON(t, home, 0, "task", "run", "fixture.echo", "--config", "@"+cfg)
	if out := doc["output"].(map[string]any); len(out["list"].([]any)) != 2 || doc["message"] != "echoed" {
		t.Errorf("echo: %v", doc)
	}
	stdin := cliIn(t, home, "", `{"from": "stdin"}`, "-o", "json", "task", "run", "fixture.echo", "--config", "@-")
	expect(t, stdin, 0)
	contains(t, "stdin config", stdin.stdout, `"from": "stdin"`)

	// Usage and validation errors: exit 2, nothing runs.
	e := errorOf(t, runJSON(t, home, 2, "task", "run", "fixture.change", "--config", `{"path": ""}`), "invalid-config")
	if v := e["violations"].([]any); len(v) != 1 || v[0].(map[string]any)["path"] != "/path" {
		t.Errorf("violations: %v", e)
	}
	contains(t, "schema error", e["message"].(string), "fixture", "tasks.execute", "/path")
	e = errorOf(t, runJSON(t, home, 2, "task", "run", "fixture.change", "--config", `{"path": "x", "extra": 1, "mode": "z"}`), "invalid-config")
	if v := e["violations"].([]any); len(v) != 2 {
		t.Errorf("want both violations: %v", e)
	}
	r = runCLI(t, home, 2, "task", "run", "fixture.change")
	contains(t, "schema error text", r.stderr, "missing property 'path'")
	e = errorOf(t, runJSON(t, home, 2, "task", "run", "fixture.ok", "--config", `{"a":`), "invalid-config")
	contains(t, "bad JSON", e["message"].(string), "--config: not valid JSON")
	errorOf(t, runJSON(t, home, 2, "task", "run", "fixture.ok", "--config", `[1]`), "invalid-config")
	errorOf(t, runJSON(t, home, 2, "task", "run", "fixture.ok", "--config", "@"+filepath.Join(dir, "missing.json")), "usage")
	e = errorOf(t, runJSON(t, home, 2, "task", "run", "nosuch.ok"), "not-found")
	contains(t, "unknown plugin", e["message"].(string), "plugin nosuch", "installed: fixture")
	e = errorOf(t, runJSON(t, home, 2, "task", "run", "fixture.nosuch"), "not-found")
	contains(t, "unknown task", e["message"].(string), `no task named "nosuch"`, "available: change, echo")
	e = errorOf(t, runJSON(t, home, 2, "task", "run", "fixture.echo", "--check"), "unsupported")
	contains(t, "check unsupported", e["message"].(string), "does not support check mode")

	// Plugin failures: exit 1, a failed result with the error.
	doc = runJSON(t, home, 1, "task", "run", "fixture.fail")
	if doc["status"] != "failed" || doc["changed"] != false {
		t.Errorf("fail: %v", doc)
	}
	e = errorOf(t, doc, "failed")
	contains(t, "plugin error", e["message"].(string), "plugin fixture: tasks.execute: the disk is on fire")
	if e["plugin"] != "fixture" || e["function"] != "tasks.execute" {
		t.Errorf("error: %v", e)
	}
	r = runCLI(t, home, 1, "task", "run", "fixture.fail")
	contains(t, "fail text", r.stdout, "status   failed", "error    failed", "the disk is on fire")
	errorOf(t, runJSON(t, home, 1, "task", "run", "fixture.garbage"), "bad-output")
}

func TestLimits(t *testing.T) {
	home := fixtureHome(t)
	put(t, home, "fuelly", fixtureBytes(t))
	// Fuel enough that the spin outlasts the timeout however fast the
	// machine (10⁹, the default, lasts well under a second with wasmtime 44).
	writeFile(t, home, "plugins.toml", `[security]
execution_timeout_secs = 0.5
max_memory = 4194304
fuel_limit = 1_000_000_000_000

[plugins.fuelly]
fuel_limit = 100000
execution_timeout_secs = 20
`)
	start := time.Now()
	e := errorOf(t, runJSON(t, home, 1, "task", "run", "fixture.spin"), "timeout")
	contains(t, "timeout", e["message"].(string), "plugin fixture: tasks.execute: execution timeout of 500ms exceeded")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timeout took %s", d)
	}
	e = errorOf(t, runJSON(t, home, 1, "task", "run", "fuelly.spin"), "fuel-exhausted")
	contains(t, "fuel", e["message"].(string), "plugin fuelly: tasks.execute: fuel limit of 100000 exhausted")
	doc := runJSON(t, home, 1, "task", "run", "fixture.grow")
	e, _ = doc["error"].(map[string]any)
	if k := e["kind"]; k != "memory-limit" && k != "trap" {
		t.Errorf("grow: kind %v", e)
	}
	contains(t, "memory", e["message"].(string), "plugin fixture: tasks.execute", "4194304 bytes")
	doc = runJSON(t, home, 0, "plugins", "inspect", "fuelly")
	if l := doc["limits"].(map[string]any); l["fuel_limit"] != float64(100000) || l["execution_timeout_secs"] != float64(20) || l["max_memory"] != float64(4194304) {
		t.Errorf("limits in force: %v", l)
	}
	// A template filter hitting a limit fails the render with the limit.
	tpl := writeFile(t, t.TempDir(), "t.j2", "line 1\n{{ 1 | fixture__hang }}\n")
	e = errorOf(t, runJSON(t, home, 1, "template", "render", tpl, "--gather-facts=false"), "timeout")
	if e["line"] != float64(2) || e["file"] != tpl {
		t.Errorf("template timeout: %v", e)
	}
}

// TestInterrupt: ctrl-C cancels the running plugin call.
func TestInterrupt(t *testing.T) {
	home := fixtureHome(t)
	// Enough fuel that the spin outlasts the wait below on a fast machine
	// (10⁹, the default, lasts about a second).
	writeFile(t, home, "plugins.toml", "[security]\nfuel_limit = 1_000_000_000_000\n")
	cmd := exec.Command(binary, "-o", "json", "task", "run", "fixture.spin")
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // in the plugin call by then, even on a busy machine
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to stop after SIGINT", d)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, stdout %s", err, out.String())
	}
	contains(t, "interrupted", out.String(), `"kind": "cancelled"`)
}

func TestFacts(t *testing.T) {
	home := fixtureHome(t)
	var facts map[string]any
	r := runCLI(t, home, 0, "facts", "collect")
	jsonDoc(t, r, &facts)
	for _, k := range []string{"hostname", "os", "architecture", "cpu_count", "fixture"} {
		if _, ok := facts[k]; !ok {
			t.Errorf("facts lack %s: %v", k, keys(facts))
		}
	}
	if f := facts["fixture"].(map[string]any); f["answer"] != float64(42) || len(f) != 2 {
		t.Errorf("plugin facts: %v", f)
	}
	contains(t, "skip warning", r.stderr, "facts collector skipped", "configured")

	facts = runJSON(t, home, 0, "facts", "collect", "fixture.info")
	if keys(facts) != "fixture" {
		t.Errorf("only the named collector: %v", facts)
	}
	facts = runJSON(t, home, 0, "facts", "collect", "fixture.configured", "--config", `{"level": 3}`)
	if facts["fixture"].(map[string]any)["level"] != float64(3) {
		t.Errorf("configured: %v", facts)
	}
	errorOf(t, runJSON(t, home, 2, "facts", "collect", "fixture.configured"), "invalid-config")
	errorOf(t, runJSON(t, home, 2, "facts", "collect", "--config", "{}"), "usage")
	errorOf(t, runJSON(t, home, 2, "facts", "collect", "fixture.nosuch"), "not-found")
	errorOf(t, runJSON(t, home, 2, "facts", "collect", "nosuch.x"), "not-found")
}

func TestTemplateRender(t *testing.T) {
	home := fixtureHome(t)
	put(t, home, "other", fixtureBytes(t)) // every short name becomes ambiguous
	dir := t.TempDir()
	tpl := writeFile(t, dir, "t.j2", `host={{ facts.hostname }} os={{ facts.os }}
{{ "v" | fixture__wrap(1, second_arg=[2]) | tojson }} {{ fixture__pack("a", True) | tojson }} {{ other__answer() + 1 }}
{{ name }} {{ count }} {{ vars.name }} {{ nested.list[1] }}{% if facts.fixture is defined %} {{ facts.fixture.answer }}{% endif %}
{{ "x" | upper }} {{ "x" | builtin__upper }}
`)
	vars := writeFile(t, dir, "vars.json", `{"name": "from-json", "count": 3, "nested": {"list": [1, 2]}}`)
	r := runCLI(t, home, 0, "template", "render", tpl, "--vars", vars, "--var", "name=Ada")
	host, _ := os.Hostname()
	want := "host=" + host + " os=" + runtime.GOOS + "\n[\"v\",1,[2]] [\"a\",true] 43\nAda 3 Ada 2 42X X\n" // trim_blocks
	if r.stdout != want {
		t.Errorf("render:\n%q\nwant\n%q", r.stdout, want)
	}
	tomlVars := writeFile(t, dir, "vars.toml", "name = \"from-toml\"\ncount = 4\nnested = { list = [5, 6] }\n")
	r = runCLI(t, home, 0, "template", "render", tpl, "--vars", tomlVars)
	contains(t, "toml vars", r.stdout, "from-toml 4 from-toml 6")
	doc := runJSON(t, home, 0, "template", "render", tpl, "--vars", vars, "--gather-facts=false")
	if doc["file"] != tpl || !strings.Contains(doc["output"].(string), "from-json 3") || strings.Contains(doc["output"].(string), " 42\n") {
		t.Errorf("render JSON: %v", doc)
	}
	r = cliIn(t, home, "", "{{ fixture__answer() }}", "template", "render", "-")
	expect(t, r, 0)
	if r.stdout != "42" {
		t.Errorf("stdin: %q", r.stdout)
	}

	// Errors name file and line.
	undefined := writeFile(t, dir, "undefined.j2", "a\nb\n  {{ missing }}\n")
	e := errorOf(t, runJSON(t, home, 2, "template", "render", undefined), "template")
	if e["file"] != undefined || e["line"] != float64(3) {
		t.Errorf("undefined: %v", e)
	}
	r = runCLI(t, home, 2, "template", "render", undefined)
	contains(t, "undefined text", r.stderr, undefined+`:3: Unable to evaluate name "missing"`)
	syntax := writeFile(t, dir, "syntax.j2", "ok\n{% for x in %}\n")
	e = errorOf(t, runJSON(t, home, 2, "template", "render", syntax), "template")
	contains(t, "syntax", e["message"].(string), syntax, "syntax error")
	ambiguous := writeFile(t, dir, "ambiguous.j2", "{{ 1 | wrap }}")
	e = errorOf(t, runJSON(t, home, 2, "template", "render", ambiguous), "template")
	contains(t, "ambiguous", e["message"].(string), "filter wrap: the name is ambiguous", "fixture__wrap (plugin fixture)", "other__wrap (plugin other)")
	rejected := writeFile(t, dir, "rejected.j2", "\n{{ 1 | fixture__reject }}")
	e = errorOf(t, runJSON(t, home, 2, "template", "render", rejected), "invalid-input")
	if e["line"] != float64(2) || e["plugin"] != "fixture" || e["function"] != "templates.apply-filter" {
		t.Errorf("plugin error in a template: %v", e)
	}
	contains(t, "plugin error", e["message"].(string), "filter fixture__reject", "values are not welcome")
	errorOf(t, runJSON(t, home, 2, "template", "render", filepath.Join(dir, "missing.j2")), "usage")
	errorOf(t, runJSON(t, home, 2, "template", "render", tpl, "--var", "novalue"), "usage")
	errorOf(t, runJSON(t, home, 2, "template", "render", tpl, "--var", "facts=1"), "usage")
	bad := writeFile(t, dir, "bad.json", "{")
	errorOf(t, runJSON(t, home, 2, "template", "render", tpl, "--vars", bad), "usage")
}

func TestApply(t *testing.T) {
	home := fixtureHome(t)
	dir := t.TempDir()
	play := writeFile(t, dir, "play.toml", `name = "test play"

[vars]
who = "world"

[[tasks]]
name = "first"
uses = "fixture.echo"
config = { message = "hello {{ who }} from {{ facts.os }}", n = "{{ fixture__answer() }}" }
register = "first"
check_mode = false

[[tasks]]
name = "change"
uses = "fixture.change"
config = { path = "{{ first.output.message | upper }}" }

[[tasks]]
uses = "fixture.fail"
ignore_errors = true

[[tasks]]
name = "no check mode"
uses = "fixture.echo"
`)
	r := runCLI(t, home, 0, "apply", play)
	contains(t, "apply text", r.stdout, "PLAY [test play]", "TASK [first] (fixture.echo)", "ok: echoed",
		"TASK [change] (fixture.change)", "changed: changed it", "  -old\n  +new", "TASK [fixture.fail]",
		"failed: plugin fixture: tasks.execute: the disk is on fire", "...ignoring", "PLAY RECAP",
		"ok=4  changed=1  failed=0  skipped=0  ignored=1")

	doc := runJSON(t, home, 0, "apply", play, "--var", "who=you")
	recap := doc["recap"].(map[string]any)
	if keys(recap) != "changed,failed,ignored,ok,skipped" || recap["ok"] != float64(4) || recap["changed"] != float64(1) || recap["ignored"] != float64(1) {
		t.Errorf("recap: %v", recap)
	}
	tasks := doc["tasks"].([]any)
	first := tasks[0].(map[string]any)
	if first["status"] != "ok" || first["output"].(map[string]any)["message"] != "hello you from "+runtime.GOOS || first["output"].(map[string]any)["n"] != "42" {
		t.Errorf("first task: %v", first)
	}
	if second := tasks[1].(map[string]any); second["status"] != "changed" || second["diff"] != "-old\n+new" {
		t.Errorf("second task: %v", second)
	}
	if third := tasks[2].(map[string]any); third["status"] != "failed" || third["ignored"] != true || third["error"].(map[string]any)["kind"] != "failed" {
		t.Errorf("third task: %v", third)
	}

	// Check mode: tasks without it are skipped; check_mode = false runs
	// the first for real.
	doc = runJSON(t, home, 0, "apply", "--check", play)
	tasks = doc["tasks"].([]any)
	st := func(i int) any { return tasks[i].(map[string]any)["status"] }
	if doc["check_mode"] != true || tasks[1].(map[string]any)["message"] != "would change it" || st(0) != "ok" ||
		tasks[0].(map[string]any)["check_mode"] != false || st(2) != "skipped" || st(3) != "skipped" {
		t.Errorf("check mode: %v", tasks)
	}
	if recap := doc["recap"].(map[string]any); recap["skipped"] != float64(2) {
		t.Errorf("check recap: %v", recap)
	}
	r = runCLI(t, home, 0, "apply", play, "--check")
	contains(t, "check text", r.stdout, "PLAY [test play (check mode)]", "skipping: the task does not support check mode", "skipped=2")

	// A failure stops the run: exit 1, later tasks do not run.
	stop := writeFile(t, dir, "stop.toml", "[[tasks]]\nuses = \"fixture.ok\"\n\n[[tasks]]\nuses = \"fixture.fail\"\n\n[[tasks]]\nuses = \"fixture.ok\"\n")
	doc = runJSON(t, home, 1, "apply", stop)
	if n := len(doc["tasks"].([]any)); n != 2 {
		t.Errorf("ran %d tasks, want 2", n)
	}
	if recap := doc["recap"].(map[string]any); recap["failed"] != float64(1) || recap["ok"] != float64(1) {
		t.Errorf("recap: %v", recap)
	}
	errorOf(t, doc, "failed")
	r = runCLI(t, home, 1, "apply", stop)
	contains(t, "stop text", r.stdout, "failed: plugin fixture", "ok=1  changed=0  failed=1")

	// A limit hit by a task.
	timeout := writeFile(t, dir, "timeout.toml", "[[tasks]]\nuses = \"fixture.spin\"\n")
	// Fuel enough that the spin outlasts the timeout however fast the machine.
	writeFile(t, home, "plugins.toml", "[plugins.fixture]\nexecution_timeout_secs = 0.3\nfuel_limit = 1_000_000_000_000\n")
	errorOf(t, runJSON(t, home, 1, "apply", timeout), "timeout")
	os.Remove(filepath.Join(home, "plugins.toml"))

	// Bad playbooks: exit 2 before anything runs, naming file, line and key.
	for _, c := range []struct{ name, src, kind, want string }{
		{"syntax.toml", "[[tasks]]\nuses = \"fixture.ok\"\nconfig = {\n", "playbook", "syntax.toml:4:12: TOML syntax"},
		{"key.toml", "[[tasks]]\nuses = \"fixture.ok\"\nignore_error = true\n", "playbook", "key.toml:3: tasks[1].ignore_error: unknown key"},
		{"uses.toml", "[[tasks]]\nuses = \"fixture.ok\"\n\n[[tasks]]\nuses = \"fixture.nosuch\"\n", "not-found", `uses.toml:5: tasks[2].uses: plugin fixture: tasks.execute: no task named "nosuch"`},
		{"plugin.toml", "[[tasks]]\nuses = \"nosuch.x\"\n", "not-found", "plugin.toml:2: tasks[1].uses: plugin nosuch"},
		{"template.toml", "[[tasks]]\nuses = \"fixture.echo\"\nconfig = { a = \"{{ undefined_var }}\" }\n", "template", `template.toml:3: tasks[1].config.a: template: Unable to evaluate name "undefined_var"`},
	} {
		p := writeFile(t, dir, c.name, c.src)
		e := errorOf(t, runJSON(t, home, 2, "apply", p), c.kind)
		contains(t, c.name, e["message"].(string), c.want)
	}
	multi := writeFile(t, dir, "multi.toml", "[[tasks]]\nusess = \"x\"\n\n[[tasks]]\nuses = \"a\"\n")
	e := errorOf(t, runJSON(t, home, 2, "apply", multi), "playbook")
	if ps := e["problems"].([]any); len(ps) != 3 {
		t.Errorf("want every problem: %v", e)
	}
	r = runCLI(t, home, 2, "apply", multi)
	contains(t, "multi text", r.stderr, "multi.toml:2: tasks[1].usess: unknown key", "multi.toml:5: tasks[2].uses")
	errorOf(t, runJSON(t, home, 2, "apply", filepath.Join(dir, "missing.toml")), "playbook")
}
