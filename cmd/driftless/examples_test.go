package main

// Tests with the example plugins of examples/, running the commands their
// READMEs document. They need `make -f mk/examples.mk examples`; without
// the builds they skip (fail under DRIFTLESS_REQUIRE_EXAMPLES=1).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

var jsHomeOnce struct {
	sync.Once
	home string
	out  result
	err  string
}

// jsHome returns a plugin home shared by the tests, with the JavaScript
// example installed through `plugins install` (its ~10 s compilation
// lands in the shared cache once). Tests must not change it.
func jsHome(t *testing.T) string {
	t.Helper()
	wasm := builtexample.Path(t, "js-plugin")
	jsHomeOnce.Do(func() {
		home, err := os.MkdirTemp(filepath.Dir(binary), "js-home-")
		if err == nil {
			os.MkdirAll(sharedCache, 0o755)
			err = os.Symlink(sharedCache, filepath.Join(home, "cache"))
		}
		if err != nil {
			jsHomeOnce.err = err.Error()
			return
		}
		jsHomeOnce.home = home
		jsHomeOnce.out = drift(t, home, "plugins", "install", wasm)
	})
	if jsHomeOnce.err != "" {
		t.Fatal(jsHomeOnce.err)
	}
	expect(t, jsHomeOnce.out, 0, "plugins install js-plugin.wasm")
	return jsHomeOnce.home
}

// homeWith returns a new home with the given example plugins installed
// by copying (their compiled code is in the shared cache once any test
// compiled them).
func homeWith(t *testing.T, names ...string) string {
	t.Helper()
	home := newHome(t)
	for _, n := range names {
		data, err := os.ReadFile(builtexample.Path(t, n))
		if err != nil {
			t.Fatal(err)
		}
		put(t, home, n, data)
	}
	return home
}

// TestJSPluginREADME runs what examples/js-plugin/README.md shows.
func TestJSPluginREADME(t *testing.T) {
	home := jsHome(t)
	contains(t, "install", jsHomeOnce.out.stdout, "installed js-plugin 0.1.0 (component)",
		"tasks: echo, set-value; facts: runtime; templates: shout (filter), greet (function); logs: numbers, colon, min-level, bracket")

	doc := runJSON(t, home, 0, "task", "run", "js-plugin.echo", "--config", `{"message": "hello"}`)
	if doc["status"] != "ok" || doc["message"] != "hello" || doc["output"].(map[string]any)["message"] != "hello" {
		t.Errorf("echo: %v", doc)
	}
	r := runCLI(t, home, 0, "task", "run", "js-plugin.set-value", "--config", `{"key": "motd", "value": "hi", "current": "hello"}`, "--check")
	contains(t, "set-value --check", r.stdout, "status   changed", `message  would set motd to "hi"`, "diff\n  --- motd\n  +++ motd\n  -hello\n  +hi")

	r = runCLI(t, home, 0, "template", "render", repoPath(t, "examples/js-plugin/greeting.tmpl"))
	if r.stdout != "Hello, Driftless!\nDEPLOY FINISHED\nDEPLOY FINISHED!!!\n" {
		t.Errorf("greeting.tmpl rendered %q", r.stdout)
	}
	r = cliIn(t, home, "", `{{ "a" | shout(exclamations=2) }} {{ js_plugin__greet(name="Ada") }} {{ facts["js-plugin"].engine }}`, "template", "render", "-")
	expect(t, r, 0)
	if r.stdout != "A!! Hello, Ada! javascript" {
		t.Errorf("keyword arguments and facts: %q", r.stdout)
	}
	e := errorOf(t, runJSON(t, home, 2, "task", "run", "js-plugin.set-value", "--config", `{"key": "motd"}`), "invalid-config")
	contains(t, "schema", e["message"].(string), "value")

	facts := runJSON(t, home, 0, "facts", "collect", "js-plugin.runtime")
	if f := facts["js-plugin"].(map[string]any); f["engine"] != "javascript" || f["plugin"] != "js-plugin" {
		t.Errorf("facts: %v", facts)
	}
	doc = runJSON(t, home, 0, "plugins", "inspect", "js-plugin")
	if len(doc["log_components"].([]any)) != 4 || doc["abi"] != "component" {
		t.Errorf("inspect: %v", doc)
	}
	r = runCLI(t, home, 0, "plugins", "doc", "js-plugin.set-value")
	contains(t, "doc", r.stdout, "= key", "= value", "- current", "supports check mode")

	dir := t.TempDir()
	play := writeFile(t, dir, "play.toml", `[[tasks]]
uses = "js-plugin.echo"
config = { message = "{{ 'deploy' | shout }} on {{ facts.hostname }}" }
register = "said"

[[tasks]]
uses = "js-plugin.set-value"
config = { key = "motd", value = "{{ said.message }}", current = "old" }
`)
	doc = runJSON(t, home, 0, "apply", play, "--check")
	tasks := doc["tasks"].([]any)
	host, _ := os.Hostname()
	if m := tasks[0].(map[string]any)["message"]; m != "DEPLOY on "+host {
		t.Errorf("apply: first message %v", m)
	}
	if m := tasks[1].(map[string]any)["message"]; m != `would set motd to "DEPLOY on `+host+`"` {
		t.Errorf("apply: second message %v", m)
	}
}

// TestLegacyPluginREADME runs what examples/legacy-plugin/README.md shows:
// a legacy JSON-ABI module through the same commands as components.
func TestLegacyPluginREADME(t *testing.T) {
	home := newHome(t)
	r := runCLI(t, home, 0, "plugins", "install", builtexample.Path(t, "legacy-plugin"))
	contains(t, "install", r.stdout, "installed legacy-plugin", "(legacy)", "tasks: echo, greet; facts: legacy; templates: upper (filter)")
	var list []map[string]any
	jsonDoc(t, runCLI(t, home, 0, "-o", "json", "plugins", "list"), &list)
	if len(list) != 1 || list[0]["abi"] != "legacy" || list[0]["error"] != nil {
		t.Fatalf("list: %v", list)
	}

	doc := runJSON(t, home, 0, "task", "run", "legacy-plugin.greet", "--config", `{"name": "Ada"}`)
	if doc["status"] != "changed" || doc["message"] != "Hello, Ada!" || doc["output"].(map[string]any)["greeting"] != "Hello, Ada!" {
		t.Errorf("greet: %v", doc)
	}
	doc = runJSON(t, home, 0, "task", "run", "legacy-plugin.echo", "--config", `{"message": "hi"}`)
	if doc["status"] != "ok" || doc["message"] != "hi" {
		t.Errorf("echo: %v", doc)
	}
	r = runCLI(t, home, 0, "--log-level", "info", "task", "run", "legacy-plugin.greet", "--config", `{"name": "Bob"}`)
	contains(t, "plugin log", r.stderr, "plugin=legacy-plugin", "Hello, Bob!")
	errorOf(t, runJSON(t, home, 2, "task", "run", "legacy-plugin.greet", "--config", `{"name": "Ada"}`, "--check"), "unsupported")
	errorOf(t, runJSON(t, home, 2, "task", "run", "legacy-plugin.greet", "--config", `{"name": ""}`), "invalid-config")

	facts := runJSON(t, home, 0, "facts", "collect", "legacy-plugin.legacy")
	if f := facts["legacy-plugin"].(map[string]any); f["abi"] != "legacy-json" {
		t.Errorf("facts: %v", facts)
	}
	r = cliIn(t, home, "", `{{ "abc" | upper }} {{ "abc" | legacy_plugin__upper }} {{ facts["legacy-plugin"].abi }}`, "template", "render", "-")
	expect(t, r, 0)
	if r.stdout != "ABC ABC legacy-json" {
		t.Errorf("template: %q", r.stdout)
	}
	// The plugin refuses a value that is not a string: a plugin failure.
	r = cliIn(t, home, "", "{{ 1 | upper }}", "-o", "json", "template", "render", "-")
	if r.code != 1 && r.code != 2 {
		t.Errorf("upper of a number: %s", r)
	}
	contains(t, "filter error", r.stdout, `"plugin": "legacy-plugin"`, "templates.apply-filter")

	play := writeFile(t, t.TempDir(), "play.toml", "[[tasks]]\nuses = \"legacy-plugin.greet\"\nconfig = { name = \"{{ 'ada' | upper }}\" }\n")
	doc = runJSON(t, home, 0, "apply", play)
	if task := doc["tasks"].([]any)[0].(map[string]any); task["message"] != "Hello, ADA!" {
		t.Errorf("apply: %v", task)
	}
	doc = runJSON(t, home, 0, "apply", play, "--check")
	if task := doc["tasks"].([]any)[0].(map[string]any); task["status"] != "skipped" {
		t.Errorf("apply --check: %v", task)
	}
}

// TestCPluginREADME runs what examples/c-plugin/README.md shows.
func TestCPluginREADME(t *testing.T) {
	home := homeWith(t, "c-plugin")
	doc := runJSON(t, home, 0, "task", "run", "c-plugin.checksum", "--config", `{"text": "hello"}`, "--check")
	if out := doc["output"].(map[string]any); out["length"] != float64(5) || out["check_mode"] != true {
		t.Errorf("checksum: %v", doc)
	}
	r := runCLI(t, home, 0, "template", "render", repoPath(t, "examples/c-plugin/banner.tmpl"))
	if r.stdout != "=-=-=-=-=-=-=-=-=-=\n" {
		t.Errorf("banner.tmpl rendered %q", r.stdout)
	}
}

// TestPythonPluginREADME runs what examples/python-plugin/README.md shows.
func TestPythonPluginREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles an 18 MB component")
	}
	home := homeWith(t, "python-plugin")
	r := runCLI(t, home, 0, "template", "render", repoPath(t, "examples/python-plugin/greeting.tmpl"))
	if r.stdout != "hello-world-release-notes-2-0\nhello_world_release_notes_2_0\n" {
		t.Errorf("greeting.tmpl rendered %q", r.stdout)
	}
	facts := runJSON(t, home, 0, "facts", "collect", "python-plugin.python")
	if f := facts["python-plugin"].(map[string]any); f["engine"] != "python" || strings.TrimSpace(f["python_version"].(string)) == "" {
		t.Errorf("facts: %v", facts)
	}
}

// TestAllExamplesTogether: every example in one home, every filter and
// function reachable, facts from all collectors.
func TestAllExamplesTogether(t *testing.T) {
	jsHome(t) // compiles the JavaScript example into the shared cache
	home := homeWith(t, "js-plugin", "legacy-plugin", "c-plugin")
	var list []map[string]any
	jsonDoc(t, runCLI(t, home, 0, "-o", "json", "plugins", "list"), &list)
	if len(list) != 3 {
		t.Fatalf("list: %v", list)
	}
	facts := runJSON(t, home, 0, "facts", "collect")
	for _, k := range []string{"hostname", "js-plugin", "legacy-plugin"} {
		if _, ok := facts[k]; !ok {
			t.Errorf("facts lack %s", k)
		}
	}
	r := cliIn(t, home, "", `{{ "ab" | repeat(2, "-") }} {{ "x" | shout }} {{ "y" | upper }} {{ greet("Z") }}`, "template", "render", "-")
	expect(t, r, 0)
	if r.stdout != "ab-ab X Y Hello, Z!" {
		t.Errorf("template: %q", r.stdout)
	}
}

// TestRustPluginREADME runs what examples/rust-plugin/README.md shows:
// every task (with and without check mode), the collector, the template
// extensions, both pipelines of its log components, and its errors.
func TestRustPluginREADME(t *testing.T) {
	home := newHome(t)
	dir := repoPath(t, "examples/rust-plugin")
	r := runCLI(t, home, 0, "plugins", "install", builtexample.Path(t, "rust-plugin"))
	contains(t, "install", r.stdout, "installed rust-plugin 0.1.0 (component)",
		"tasks: bump-version, ensure-line, pin-version; facts: rust; templates: truncate (filter), semver_bump (function); logs: sequence, logfmt, contains, logfmt-out")

	r = runCLI(t, home, 0, "task", "run", "rust-plugin.bump-version", "--config", `{"version": "1.2.3", "part": "minor"}`, "--check")
	contains(t, "bump-version --check", r.stdout, "status   changed", "message  would bump 1.2.3 to 1.3.0", "diff\n  --- version\n  +++ version\n  -1.2.3\n  +1.3.0")
	doc := runJSON(t, home, 0, "task", "run", "rust-plugin.bump-version", "--config", `{"version": "1.2.3"}`)
	if out := doc["output"].(map[string]any); doc["status"] != "changed" || out["version"] != "1.2.4" || out["check_mode"] != false {
		t.Errorf("bump-version: %v", doc)
	}
	r = runCLI(t, home, 0, "--log-level", "info", "task", "run", "rust-plugin.ensure-line", "--config", `{"text": "a\nb\n", "line": "c"}`)
	contains(t, "ensure-line", r.stdout, "status   changed", `message  added line "c"`, "diff\n  --- text\n  +++ text\n  +c")
	contains(t, "ensure-line log", r.stderr, `msg="ensure-line: added line \"c\""`, "plugin=rust-plugin")
	doc = runJSON(t, home, 0, "task", "run", "rust-plugin.ensure-line", "--config", `{"text": "a\nc", "line": "c"}`, "--check")
	if doc["status"] != "ok" || doc["message"] != "line already present" {
		t.Errorf("ensure-line, nothing to do: %v", doc)
	}
	// Errors: the schema (the host's check), the plugin's own check, an unknown task.
	e := errorOf(t, runJSON(t, home, 2, "task", "run", "rust-plugin.bump-version", "--config", `{"version": "one"}`), "invalid-config")
	contains(t, "schema error", e["message"].(string), "at /version")
	e = errorOf(t, runJSON(t, home, 2, "task", "run", "rust-plugin.ensure-line", "--config", `{"text": "", "line": "a\nb"}`), "invalid-config")
	contains(t, "plugin error", e["message"].(string), `plugin rust-plugin: tasks.execute: ensure-line: "line" must be one non-empty line`)
	errorOf(t, runJSON(t, home, 2, "task", "run", "rust-plugin.nope"), "not-found")

	// pin-version keeps the version it applied in the plugin's state.
	r = runCLI(t, home, 0, "task", "run", "rust-plugin.pin-version", "--config", `{"name": "web", "version": "1.2.3"}`, "--check")
	contains(t, "pin-version --check", r.stdout, "status   changed", "message  would pin web to 1.2.3", "diff\n  --- web\n  +++ web\n  +1.2.3")
	doc = runJSON(t, home, 0, "task", "run", "rust-plugin.pin-version", "--config", `{"name": "web", "version": "1.2.3"}`)
	if doc["status"] != "changed" || doc["message"] != "pinned web to 1.2.3" {
		t.Errorf("pin-version: %v", doc)
	}
	doc = runJSON(t, home, 0, "task", "run", "rust-plugin.pin-version", "--config", `{"name": "web", "version": "1.2.3"}`)
	if doc["status"] != "ok" || doc["message"] != "web is already pinned to 1.2.3" {
		t.Errorf("pin-version again: %v", doc)
	}
	r = runCLI(t, home, 0, "task", "run", "rust-plugin.pin-version", "--config", `{"name": "web", "version": "1.3.0"}`, "--check")
	contains(t, "pin-version, new version", r.stdout, "message  would pin web to 1.3.0 (from 1.2.3)", "  -1.2.3\n  +1.3.0")
	r = runCLI(t, home, 0, "state", "list", "rust-plugin")
	contains(t, "state list", r.stdout, "pinned/web")

	facts := runJSON(t, home, 0, "facts", "collect", "rust-plugin.rust")
	if pinned, _ := facts["rust-plugin"].(map[string]any)["pinned"].(map[string]any); len(pinned) != 1 || pinned["web"] != "1.2.3" {
		t.Errorf("facts, pinned: %v", facts)
	}
	if f := facts["rust-plugin"].(map[string]any); f["language"] != "rust" || f["target"] != "wasm32-wasip2" || f["timestamp"] == nil {
		t.Errorf("facts: %v", facts)
	}
	r = cliIn(t, home, dir, "", "template", "render", "release.tmpl")
	expect(t, r, 0)
	if r.stdout != "Driftless plugins in Rust:...\nnext release: 1.5.0\nbuilt with: rust (wit-bindgen 0.63.0)\n" {
		t.Errorf("release.tmpl rendered %q", r.stdout)
	}
	r = cliIn(t, home, "", `{{ "x" | truncate(-1) }}`, "-o", "json", "template", "render", "-")
	expect(t, r, 2)
	contains(t, "filter error", r.stdout, `"kind": "invalid-input"`, "truncate: length must be an integer from 0 to 1000000")

	r = cliIn(t, home, dir, "", "logs", "run", "pipeline.toml")
	expect(t, r, 0)
	if want := "time=2024-05-01T10:00:01.25Z level=warn msg=\"slow request\" path=/api/users ms=1500\n" +
		"time=2024-05-01T10:00:02Z level=error msg=\"upstream timed out\" path=/api/orders upstream=billing\n"; r.stdout != want {
		t.Errorf("pipeline.toml:\n%s", r.stdout)
	}
	r = cliIn(t, home, dir, "", "--log-level", "info", "logs", "run", "sequence.toml")
	expect(t, r, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[2], ` level=debug msg="heartbeat 3" seq=3`) || !strings.HasPrefix(lines[0], "time=20") {
		t.Errorf("sequence.toml:\n%s", r.stdout)
	}
	contains(t, "destructor log", r.stderr, `msg="logfmt-out: wrote 3 entries" plugin=rust-plugin`)

	// A strict parser's error stops the pipeline, naming the stage.
	work := t.TempDir()
	writeFile(t, work, "in.log", "msg=fine\nnot logfmt\n")
	writeFile(t, work, "p.toml", "[[sources]]\ntype = \"file\"\npath = \"in.log\"\n\n[parser]\nplugin = \"rust-plugin\"\nname = \"logfmt\"\nconfig = { strict = true }\n\n[[outputs]]\nplugin = \"rust-plugin\"\nname = \"logfmt-out\"\nto = \"stdout\"\n")
	r = cliIn(t, home, work, "", "logs", "run", "p.toml")
	if r.code == 0 {
		t.Errorf("strict parser: %s", r)
	}
	contains(t, "strict parser", r.stderr, "logs.parser.parse: logfmt: line 2 of the batch: no key=value pair: not logfmt")

	doc = runJSON(t, home, 0, "plugins", "inspect", "rust-plugin")
	if len(doc["log_components"].([]any)) != 4 || len(doc["tasks"].([]any)) != 3 {
		t.Errorf("inspect: %v", doc)
	}
	r = runCLI(t, home, 0, "plugins", "doc", "rust-plugin.ensure-line")
	contains(t, "doc", r.stdout, "= text", "= line", "- state", "supports check mode")

	// apply: its tasks in a playbook, with its template extensions in configs.
	play := writeFile(t, t.TempDir(), "play.toml", `[[tasks]]
uses = "rust-plugin.bump-version"
config = { version = "{{ semver_bump('0.9.9') }}", part = "minor" }
register = "v"

[[tasks]]
uses = "rust-plugin.ensure-line"
config = { text = "", line = "version={{ v.output.version }}" }
`)
	doc = runJSON(t, home, 0, "apply", play, "--check")
	tasks := doc["tasks"].([]any)
	if m := tasks[0].(map[string]any)["message"]; m != "would bump 0.9.10 to 0.10.0" {
		t.Errorf("apply: first message %v", m)
	}
	if m := tasks[1].(map[string]any)["message"]; m != `would add line "version=0.10.0"` {
		t.Errorf("apply: second message %v", m)
	}
}

// TestTSPluginREADME runs what examples/ts-plugin/README.md shows.
func TestTSPluginREADME(t *testing.T) {
	home := newHome(t)
	r := runCLI(t, home, 0, "plugins", "install", builtexample.Path(t, "ts-plugin"))
	contains(t, "install", r.stdout, "installed ts-plugin 0.1.0 (component)", "tasks: set-json; templates: pad (filter), plural (function)")

	r = runCLI(t, home, 0, "task", "run", "ts-plugin.set-json", "--check", "--config", `{"document": {"server": {"port": 80}}, "path": "server.port", "value": 8080}`)
	contains(t, "set-json --check", r.stdout, "status   changed", "message  would set server.port to 8080", "diff\n  --- server.port\n  +++ server.port\n  -80\n  +8080")
	doc := runJSON(t, home, 0, "task", "run", "ts-plugin.set-json", "--config", `{"path": "motd", "value": "hi"}`)
	if out := doc["output"].(map[string]any); doc["status"] != "changed" || out["document"].(map[string]any)["motd"] != "hi" {
		t.Errorf("set-json: %v", doc)
	}
	e := errorOf(t, runJSON(t, home, 2, "task", "run", "ts-plugin.set-json", "--config", `{"document": {"server": 1}, "path": "server.port", "value": 8080}`), "invalid-config")
	contains(t, "plugin error", e["message"].(string), "plugin ts-plugin: tasks.execute: set-json: server is not an object")

	r = cliIn(t, home, repoPath(t, "examples/ts-plugin"), "", "template", "render", "report.tmpl")
	expect(t, r, 0)
	if r.stdout != "1 plugin in TypeScript, 3 checks: types from WIT, tsc, componentize-js\nbuild 000042\n" {
		t.Errorf("report.tmpl rendered %q", r.stdout)
	}
	r = cliIn(t, home, "", `{{ "7" | pad(3, "00") }}`, "template", "render", "-")
	expect(t, r, 2)
	contains(t, "filter error", r.stderr, "filter pad: plugin ts-plugin: templates.apply-filter: pad: fill must be one character")
}

// TestTSPluginTypeErrorFailsBuild builds a copy of examples/ts-plugin
// whose task definition has a field of the wrong type, with the build
// script make uses: tsc must stop the build and no component may appear.
func TestTSPluginTypeErrorFailsBuild(t *testing.T) {
	npm := builtexample.NPMTools(t)
	work := t.TempDir()
	project := filepath.Join(work, "ts-plugin")
	for _, f := range []string{"tsconfig.json", "src/plugin.ts", "wit/world.wit"} {
		data, err := os.ReadFile(repoPath(t, filepath.Join("examples/ts-plugin", f)))
		if err != nil {
			t.Fatal(err)
		}
		if f == "src/plugin.ts" {
			const good, bad = "    supportsCheckMode: true,\n", "    supportsCheckMode: 'yes',\n"
			if strings.Count(string(data), good) != 1 {
				t.Fatalf("src/plugin.ts no longer has exactly one %q: update this test", good)
			}
			data = []byte(strings.Replace(string(data), good, bad, 1))
		}
		dst := filepath.Join(project, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wit := filepath.Join(project, "wit")
	contract, err := os.ReadFile(repoPath(t, "wit/plugin.wit"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(wit, "deps", "driftless-plugin"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(wit, "deps", "driftless-plugin"), "plugin.wit", string(contract))

	out := filepath.Join(work, "ts-plugin.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(npm, "build-ts.mjs"), "--project", project,
		"--wit", wit, "--world", "ts-plugin", "--out", out)
	output, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the build succeeded with a type error:\n%s", output)
	}
	contains(t, "build output", string(output), "error TS2322: Type 'string' is not assignable to type 'boolean'.", "build-ts: tsc failed")
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
}

// TestInspectTypeNames: `plugins inspect` names every type as the plugin's
// binary does (issue 17: names came from matching structures, which
// showed json as string and any record by the first of the same shape):
// the contract's own names, for components of every toolchain.
func TestInspectTypeNames(t *testing.T) {
	for _, name := range []string{"js-plugin", "ts-plugin", "python-plugin", "c-plugin", "rust-plugin", "go-plugin"} {
		t.Run(name, func(t *testing.T) {
			home := homeWith(t, name)
			doc := runJSON(t, home, 0, "plugins", "inspect", name)
			wit, _ := doc["interface"].(string)
			contains(t, "interface", wit,
				"export driftless:plugin/metadata@0.1.0: interface {\n  record plugin-info { name: string, version: string, description: string };\n  describe: func() -> plugin-info;\n}\n")
			provides := fmt.Sprint(doc["provides"])
			if strings.Contains(provides, "tasks") {
				contains(t, "interface", wit, "  type json = string;\n",
					"  execute: func(name: string, config: json, check-mode: bool) -> result<task-result, plugin-error>;\n")
			}
			if strings.Contains(provides, "facts") {
				contains(t, "interface", wit, "  collect: func(name: string, config: json) -> result<json, plugin-error>;\n")
			}
		})
	}
}
