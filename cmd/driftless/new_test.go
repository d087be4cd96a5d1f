package main

// `driftless plugins new`: the command's errors, and for every language the
// documented path a plugin author takes: plugins new → the printed build
// command → plugins validate → install → run what the world provides.
// The builds need the languages' toolchains (make test installs them all,
// see mk/examples.mk); without them these tests skip, and fail under
// DRIFTLESS_REQUIRE_EXAMPLES=1.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/internal/scaffold"
)

func TestPluginsNewCommand(t *testing.T) {
	home := newHome(t)
	work := t.TempDir()

	r := cliIn(t, home, work, "", "plugins", "new", "hello", "--lang", "c")
	expect(t, r, 0)
	if want := "created c plugin hello (world task-plugin) in hello:\n  .gitignore\n  Makefile\n  README.md\n  plugin.c\n  wit/plugin.wit\n" +
		"build and install it:\n  (cd hello && make)\n  driftless plugins install hello/hello.wasm\n"; r.stdout != want {
		t.Errorf("output:\n%s\nwant:\n%s", r.stdout, want)
	}
	contract, err := os.ReadFile(repoPath(t, "wit/plugin.wit"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(work, "hello", "wit", "plugin.wit")); string(got) != string(contract) {
		t.Error("wit/plugin.wit is not the repository's contract")
	}

	// A directory that is not empty is refused, and left alone.
	r = cliIn(t, home, work, "", "-o", "json", "plugins", "new", "hello", "--lang", "js")
	expect(t, r, 2)
	contains(t, "not empty", r.stdout, `"kind": "usage"`, "hello is not empty; use --force to write the project into it anyway")
	if _, err := os.Stat(filepath.Join(work, "hello", "package.json")); err == nil {
		t.Error("wrote into a non-empty directory")
	}
	// --force writes into it; --dir elsewhere; JSON output.
	var doc map[string]any
	jsonDoc(t, cliIn(t, home, work, "", "-o", "json", "plugins", "new", "hello", "--lang", "js", "--world", "plugin", "--force"), &doc)
	if doc["created"] != true || doc["lang"] != "js" || doc["world"] != "plugin" || doc["build"] != "(cd hello && npm install && npm run build)" ||
		doc["install"] != "driftless plugins install hello/hello.wasm" || doc["artifact"] != "hello.wasm" {
		t.Errorf("json: %v", doc)
	}
	r = cliIn(t, home, work, "", "plugins", "new", "Other_1", "--lang", "rust", "-w", "facts-plugin", "--dir", "sub/dir")
	expect(t, r, 0)
	contains(t, "--dir", r.stdout, "created rust plugin Other_1 (world facts-plugin) in sub/dir:",
		"(cd sub/dir && cargo build --release)", "driftless plugins install sub/dir/target/wasm32-wasip2/release/Other_1.wasm\n")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"x"}, "--lang is required (one of rust, js, ts, python, c)"},
		{[]string{"x", "--lang", "cobol"}, `unknown language "cobol" (languages: rust, js, ts, python, c)`},
		{[]string{"x", "--lang", "c", "--world", "all"}, `unknown world "all" (worlds: task-plugin, facts-plugin, template-plugin, log-plugin, plugin)`},
		{[]string{"my.plugin", "--lang", "c"}, `invalid plugin name "my.plugin"`},
		{[]string{"--lang", "c"}, "missing argument"},
		{[]string{"a", "b", "--lang", "c"}, "too many arguments"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := cliIn(t, home, work, "", append([]string{"plugins", "new"}, c.args...)...)
			expect(t, r, 2)
			contains(t, "error", r.stderr, c.want)
		})
	}
	r = runCLI(t, home, 0, "plugins", "new", "--help")
	contains(t, "help", r.stdout, "--lang LANG", "--world WORLD", "--dir DIR", "--force", "rust, js, ts, python, c")
}

// scaffoldCase is one project the build test writes: its language and
// world, and whether to run what it provides (else build and validate).
type scaffoldCase struct {
	lang, world string
	run         bool
}

// The worlds each language is built in. Every language runs one world
// through driftless; Rust and C, quick to build, run the full plugin world
// and build every other world too. The others check the remaining worlds
// with their compilers (TestPluginsNewCompilesEveryWorld).
var scaffoldCases = []scaffoldCase{
	{"c", "plugin", true},
	{"c", "task-plugin", false},
	{"c", "facts-plugin", false},
	{"c", "template-plugin", false},
	{"c", "log-plugin", true},
	{"rust", "plugin", true},
	{"rust", "task-plugin", false},
	{"rust", "facts-plugin", false},
	{"rust", "template-plugin", false},
	{"rust", "log-plugin", false},
	{"js", "task-plugin", true},
	{"ts", "template-plugin", true},
	{"python", "facts-plugin", true},
}

// needToolchain skips the test (fails it under DRIFTLESS_REQUIRE_EXAMPLES)
// when the language's build tools are missing, and returns the build's
// environment: PATH with the tool cache's wit-bindgen and wasm-tools, and
// Rust's target directory in the tool cache (shared by all Rust projects
// and test runs, so their crates compile once).
func needToolchain(t *testing.T, lang string) []string {
	t.Helper()
	env := os.Environ()
	path := os.Getenv("PATH")
	switch lang {
	case "rust":
		builtexample.Command(t, "cargo", "install Rust with rustup")
		out, err := exec.Command("rustc", "--print", "sysroot").Output()
		if err != nil {
			builtexample.Unavailable(t, "rustc --print sysroot: "+err.Error())
		}
		if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(out)), "lib", "rustlib", "wasm32-wasip2")); err != nil {
			builtexample.Unavailable(t, "the Rust target wasm32-wasip2 is not installed: rustup target add wasm32-wasip2 (make -f mk/examples.mk tools-rust)")
		}
		env = append(env, "CARGO_TARGET_DIR="+filepath.Join(builtexample.ToolCache(), "plugins-new-test", "cargo-target"))
	case "js", "ts":
		builtexample.Command(t, "node", "install node 20+")
		builtexample.Command(t, "npm", "install npm")
	case "python":
		builtexample.Command(t, "python3", "install python3 with venv")
		builtexample.Command(t, "make", "install make")
	case "c":
		builtexample.Command(t, "make", "install make")
		builtexample.Command(t, "clang", "make -f mk/examples.mk tools-apt")
		wb := builtexample.Command(t, "wit-bindgen", "make -f mk/examples.mk tools-cargo")
		wt := builtexample.Command(t, "wasm-tools", "make -f mk/examples.mk tools-cargo")
		path = filepath.Dir(wb) + string(os.PathListSeparator) + filepath.Dir(wt) + string(os.PathListSeparator) + path
		probe := exec.Command("clang", "--target=wasm32-wasi", "-fsyntax-only", "-x", "c", "-")
		probe.Stdin = strings.NewReader("#include <stdlib.h>\n")
		if out, err := probe.CombinedOutput(); err != nil {
			builtexample.Unavailable(t, "clang cannot compile for wasm32-wasi (wasi-libc: make -f mk/examples.mk tools-apt): "+string(out))
		}
	}
	return append(env, "PATH="+path)
}

// shell runs command with sh in dir, and returns its output.
func shell(t *testing.T, dir string, env []string, command string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s (in %s): %v, %s", command, dir, err, time.Since(start).Round(time.Second))
	return string(out), err
}

// newProject runs `driftless plugins new` in work and returns its JSON answer.
func newProject(t *testing.T, home, work, name, lang, world string) newJSON {
	t.Helper()
	var p newJSON
	jsonDoc(t, cliIn(t, home, work, "", "-o", "json", "plugins", "new", name, "--lang", lang, "--world", world), &p)
	return p
}

func TestPluginsNewBuildAndRun(t *testing.T) {
	if testing.Short() && !builtexample.Required() {
		t.Skip("builds a plugin in every language (minutes)")
	}
	for _, c := range scaffoldCases {
		t.Run(c.lang+"/"+c.world, func(t *testing.T) {
			env := needToolchain(t, c.lang)
			home := newHome(t)
			work := t.TempDir()
			name := c.lang + "-" + c.world
			p := newProject(t, home, work, name, c.lang, c.world)
			dir := filepath.Join(work, p.Dir)

			// The build command the CLI printed (in the project's directory).
			if out, err := shell(t, dir, env, p.BuildCommand); err != nil {
				t.Fatalf("%s: %v\n%s", p.BuildCommand, err, out)
			}
			artifact := filepath.Join(dir, p.Artifact)
			if c.lang == "rust" { // built into the shared target directory
				for _, e := range env {
					if v, ok := strings.CutPrefix(e, "CARGO_TARGET_DIR="); ok {
						artifact = filepath.Join(v, strings.TrimPrefix(p.Artifact, "target/"))
					}
				}
			}
			r := runCLI(t, home, 0, "plugins", "validate", artifact, "--name", name)
			contains(t, "validate", r.stdout, "valid: loads as plugin "+name+" (component, version 0.1.0)")
			if !c.run {
				return
			}
			r = runCLI(t, home, 0, "plugins", "install", artifact, "--name", name)
			contains(t, "install", r.stdout, "installed "+name+" 0.1.0 (component)")
			w := worldOf(t, c.world)
			if w.Tasks {
				r := runCLI(t, home, 0, "--log-level", "info", "task", "run", name+".hello", "--config", `{"name": "Ada"}`)
				contains(t, "task run", r.stdout, "status   ok", "message  Hello, Ada!", `output   {"greeting":"Hello, Ada!"}`)
				contains(t, "host.log", r.stderr, `msg="Hello, Ada!" plugin=`+name)
				doc := runJSON(t, home, 0, "task", "run", name+".hello", "--check")
				if doc["message"] != "Hello, world!" || doc["changed"] != false {
					t.Errorf("--check: %v", doc)
				}
				errorOf(t, runJSON(t, home, 2, "task", "run", name+".hello", "--config", `{"name": "a\"b"}`), "invalid-config")
			}
			if w.Facts {
				facts := runJSON(t, home, 0, "facts", "collect", name+".info")
				f, _ := facts[name].(map[string]any)
				if f["language"] != c.lang || f["plugin"] != name || f["timestamp"] == nil {
					t.Errorf("facts: %v", facts)
				}
			}
			if w.Templates {
				r := cliIn(t, home, "", `{{ "hi" | exclaim }} {{ greet("Ada") }}`, "template", "render", "-")
				expect(t, r, 0)
				if r.stdout != "hi! Hello, Ada!" {
					t.Errorf("template: %q", r.stdout)
				}
				r = cliIn(t, home, "", `{{ 1 | exclaim }}`, "-o", "json", "template", "render", "-")
				expect(t, r, 2)
				contains(t, "filter error", r.stdout, `"kind": "invalid-input"`, "exclaim: the value must be a string")
			}
			if w.Log {
				r := cliIn(t, home, dir, "", "logs", "run", "pipeline.toml")
				expect(t, r, 0)
				lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
				sort.Strings(lines) // two sources: their entries interleave
				if got := strings.Join(lines, "\n"); got != "[-] first line\n[-] second line\n[info] tick 1\n[info] tick 2\n[info] tick 3" {
					t.Errorf("pipeline:\n%s", got)
				}
			}
			if c.lang == "ts" {
				typeErrorFailsBuild(t, dir, env)
			}
		})
	}
}

// typeErrorFailsBuild breaks a type in a scaffolded TypeScript project:
// its build must stop at tsc and write no component.
func typeErrorFailsBuild(t *testing.T, dir string, env []string) {
	src := filepath.Join(dir, "src", "plugin.ts")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const good, bad = "category: 'string',", "category: 42,"
	if !strings.Contains(string(data), good) {
		t.Fatalf("src/plugin.ts has no %q: update this test", good)
	}
	if err := os.WriteFile(src, []byte(strings.Replace(string(data), good, bad, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(dir, filepath.Base(dir)+".wasm")
	os.Remove(wasm)
	out, err := shell(t, dir, env, "npm run build")
	if err == nil {
		t.Fatalf("the build succeeded with a type error:\n%s", out)
	}
	contains(t, "tsc output", out, "error TS2322: Type 'number' is not assignable to type 'string'.")
	if _, err := os.Stat(wasm); err == nil {
		t.Error("a component was written")
	}
}

func worldOf(t *testing.T, name string) scaffold.World {
	for _, w := range scaffold.Worlds() {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("no world %s", name)
	return scaffold.World{}
}

// The worlds TestPluginsNewBuildAndRun does not build in JavaScript,
// TypeScript and Python are checked by their compilers: node --check,
// tsc (against the types jco generates from the project's WIT) and
// Python's compiler.
func TestPluginsNewCompilesEveryWorld(t *testing.T) {
	home := newHome(t)
	for _, lang := range []string{"js", "ts", "python"} {
		for _, w := range scaffold.Worlds() {
			t.Run(lang+"/"+w.Name, func(t *testing.T) {
				var env []string
				switch lang {
				case "js":
					env = append(os.Environ(), "PATH="+filepath.Dir(builtexample.Command(t, "node", "install node 20+"))+":"+os.Getenv("PATH"))
				case "ts":
					npm := builtexample.NPMTools(t)
					env = append(os.Environ(), "PATH="+filepath.Join(npm, "node_modules", ".bin")+":"+os.Getenv("PATH"))
				case "python":
					builtexample.Command(t, "python3", "install python3")
					env = os.Environ()
				}
				work := t.TempDir()
				p := newProject(t, home, work, "p", lang, w.Name)
				dir := filepath.Join(work, p.Dir)
				var check string
				switch lang {
				case "js":
					check = "node --check src/plugin.js && node --check build.mjs"
				case "ts":
					// The project's own check script, with the pinned tools of tools/npm.
					if err := os.Symlink(filepath.Join(builtexample.NPMTools(t), "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
						t.Fatal(err)
					}
					check = "npm run check && node --check build.mjs"
				case "python":
					check = "python3 -c 'import ast, sys; ast.parse(open(\"app.py\").read(), \"app.py\")'"
				}
				if out, err := shell(t, dir, env, check); err != nil {
					t.Fatalf("%s: %v\n%s", check, err, out)
				}
			})
		}
	}
}

// The README of every project shows the commands the CLI prints.
func TestPluginsNewREADME(t *testing.T) {
	home := newHome(t)
	work := t.TempDir()
	for _, l := range scaffold.Languages() {
		p := newProject(t, home, work, "readme-"+l.Name, l.Name, "plugin")
		readme, err := os.ReadFile(filepath.Join(work, p.Dir, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		install := "driftless plugins install " + p.Artifact
		if !strings.HasSuffix(p.Artifact, p.Name+".wasm") {
			install += " --name " + p.Name
		}
		contains(t, l.Name+" README", string(readme), "```sh\n"+p.BuildCommand+"\n"+install+"\n```")
	}
}
