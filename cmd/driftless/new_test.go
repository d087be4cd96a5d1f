package main

// `driftless plugins new`: the command's errors, and for every language the
// documented path a plugin author takes: plugins new → the printed build
// command → plugins validate → install → run what the world provides.
// The builds need the languages' toolchains (make test installs them all,
// see mk/examples.mk); without them these tests skip, and fail under
// DRIFTLESS_REQUIRE_EXAMPLES=1.

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

	langs := strings.Join(scaffold.LanguageNames(), ", ")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"x"}, "--lang is required (one of " + langs + ")"},
		{[]string{"x", "--lang", "cobol"}, `unknown language "cobol" (languages: ` + langs + ")"},
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
	// The output docs/cli.md and docs/plugin-authors.md show.
	r = cliIn(t, home, t.TempDir(), "", "plugins", "new", "hello", "--lang", "rust")
	expect(t, r, 0)
	for _, d := range []string{"docs/cli.md", "docs/plugin-authors.md"} {
		text, err := os.ReadFile(repoPath(t, d))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "```\n"+r.stdout+"```\n") && !strings.Contains(string(text), "```\n$ driftless plugins new hello --lang rust\n"+r.stdout+"```\n") {
			t.Errorf("%s does not show the output of plugins new hello --lang rust:\n%s", d, r.stdout)
		}
	}
	r = runCLI(t, home, 0, "plugins", "new", "--help")
	contains(t, "help", r.stdout, "--lang LANG", "--world WORLD", "--dir DIR", "--force", langs)
}

// scaffoldCase is one project the build test writes: its language and
// world, and whether to run what it provides (else build and validate).
type scaffoldCase struct {
	lang, world string
	run         bool
}

// The worlds each language is built in. Every language runs one world
// through driftless, with the commands docs/plugin-authors.md shows for
// it; Rust and C, quick to build, run the full plugin world and build
// every other world too. Go runs the plugin world and builds the default
// one. The others check the remaining worlds with their compilers
// (TestPluginsNewCompilesEveryWorld).
var scaffoldCases = []scaffoldCase{
	{"rust", "plugin", true},
	{"rust", "task-plugin", false},
	{"rust", "facts-plugin", false},
	{"rust", "template-plugin", false},
	{"rust", "log-plugin", false},
	{"js", "task-plugin", true},
	{"ts", "template-plugin", true},
	{"python", "facts-plugin", true},
	{"c", "plugin", true},
	{"c", "task-plugin", false},
	{"c", "facts-plugin", false},
	{"c", "template-plugin", false},
	{"c", "log-plugin", false},
	{"go", "plugin", true},
	{"go", "task-plugin", false},
}

// needToolchain skips the test (fails it under DRIFTLESS_REQUIRE_EXAMPLES)
// when the language's build tools are missing, and returns the PATH the
// commands run with: the driftless under test, and the tool cache's
// wit-bindgen and wasm-tools, first.
func needToolchain(t *testing.T, lang string) string {
	t.Helper()
	path := filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH")
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
	case "go":
		builtexample.Command(t, "make", "install make")
		wt := builtexample.WasmTools(t)
		path = filepath.Dir(wt) + string(os.PathListSeparator) + goBin(t) + string(os.PathListSeparator) + path
	default:
		t.Fatalf("needToolchain: no check of the tools of language %s", lang)
	}
	return path
}

// goBin returns the directory of the go command that runs the tests, so
// that a Go project builds with the same toolchain.
func goBin(t *testing.T) string {
	if bin := filepath.Join(runtime.GOROOT(), "bin"); runtime.GOROOT() != "" {
		if _, err := os.Stat(filepath.Join(bin, "go")); err == nil {
			return bin
		}
	}
	return filepath.Dir(builtexample.Command(t, "go", "install Go 1.24 or later"))
}

// shell runs command with sh in dir, and returns its standard output and
// its output and error together.
func shell(t *testing.T, dir string, env []string, command string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, all strings.Builder
	cmd.Stdout = io.MultiWriter(&stdout, &all)
	cmd.Stderr = &all
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s (in %s): %v, %s", command, dir, err, time.Since(start).Round(time.Second))
	return stdout.String(), all.String(), err
}

// newProject runs `driftless plugins new` in work and returns its JSON answer.
func newProject(t *testing.T, home, work, name, lang, world string) newJSON {
	t.Helper()
	var p newJSON
	jsonDoc(t, cliIn(t, home, work, "", "-o", "json", "plugins", "new", name, "--lang", lang, "--world", world), &p)
	return p
}

// authorCommands are the commands docs/plugin-authors.md shows for a
// project (p, written by `plugins new hello --lang L --world W`): create,
// build and validate it, then (run) install it and use what its world
// provides. They are what the CLI printed, run where `plugins new` ran.
func authorCommands(p newJSON, w scaffold.World, run bool) []string {
	cmds := []string{
		"driftless plugins new " + p.Name + " --lang " + p.Lang + " --world " + p.World,
		p.Build,
		strings.Replace(p.Install, "driftless plugins install ", "driftless plugins validate ", 1),
	}
	if !run {
		return cmds
	}
	cmds = append(cmds, p.Install)
	if w.Tasks {
		cmds = append(cmds, "driftless task run "+p.Name+".hello --config '{\"name\": \"Ada\"}'", "driftless task run "+p.Name+".hello --check")
	}
	if w.Facts {
		cmds = append(cmds, "driftless facts collect "+p.Name+".info")
	}
	if w.Templates {
		cmds = append(cmds, `echo '{{ "hi" | exclaim }} {{ greet("Ada") }}' | driftless template render -`)
	}
	if w.Log {
		cmds = append(cmds, "(cd "+p.Dir+" && driftless logs run pipeline.toml)")
	}
	return cmds
}

func TestPluginsNewBuildAndRun(t *testing.T) {
	if testing.Short() && !builtexample.Required() {
		t.Skip("builds a plugin in every language (minutes)")
	}
	doc, err := os.ReadFile(repoPath(t, "docs/plugin-authors.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Languages build side by side, two at a time (much of a build waits on
	// npm, pip or crates.io); the worlds of one language one after another
	// (Rust's share a target directory).
	slots := make(chan struct{}, 2)
	for _, l := range scaffold.Languages() {
		runs := 0
		for _, c := range scaffoldCases {
			if c.lang == l.Name && c.run {
				runs++
			}
		}
		if runs == 0 {
			t.Errorf("language %s: no case of scaffoldCases runs its plugin", l.Name)
		}
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			for _, c := range scaffoldCases {
				if c.lang == l.Name {
					t.Run(c.world, func(t *testing.T) { buildAndRun(t, c, string(doc)) })
				}
			}
		})
	}
}

// buildAndRun writes the project of c with `plugins new`, runs the commands
// the CLI printed (and the docs show), and checks what they do.
func buildAndRun(t *testing.T, c scaffoldCase, doc string) {
	path := needToolchain(t, c.lang)
	home := newHome(t)
	work := t.TempDir()
	env := append(os.Environ(), "PATH="+path, "DRIFTLESS_HOME="+home, "NO_COLOR=1")
	const name = "hello"
	w := worldOf(t, c.world)
	p := newProject(t, home, work, name, c.lang, c.world)
	cmds := authorCommands(p, w, c.run)
	if c.run && !strings.Contains(doc, "```sh\n"+strings.Join(cmds, "\n")+"\n```") {
		t.Errorf("docs/plugin-authors.md does not show the commands this test runs:\n%s", strings.Join(cmds, "\n"))
	}
	if c.lang == "rust" {
		// Every Rust project builds into one target directory in the tool
		// cache, so that the crates compile once for all of them and for
		// later runs.
		shared := filepath.Join(builtexample.ToolCache(), "plugins-new-test", "cargo-target")
		if err := os.MkdirAll(shared, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(shared, filepath.Join(work, p.Dir, "target")); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]string{}
	for _, cmd := range cmds[1:] { // cmds[0] ran above, as newProject
		stdout, all, err := shell(t, work, env, cmd)
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, all)
		}
		out[cmd] = stdout
	}
	contains(t, "validate", out[cmds[2]], "valid: loads as plugin "+name+" (component, version 0.1.0)")
	if !c.run {
		return
	}
	contains(t, "install", out[cmds[3]], "installed "+name+" 0.1.0 (component)")
	next := 4
	if w.Tasks {
		contains(t, "task run", out[cmds[next]], "status   ok", "message  Hello, Ada!", `output   {"greeting":"Hello, Ada!"}`)
		contains(t, "task run --check", out[cmds[next+1]], "status   ok", "message  Hello, world!")
		next += 2
		r := runCLI(t, home, 0, "--log-level", "info", "task", "run", name+".hello")
		contains(t, "host.log", r.stderr, `msg="Hello, world!" plugin=`+name)
		errorOf(t, runJSON(t, home, 2, "task", "run", name+".hello", "--config", `{"name": "a\"b"}`), "invalid-config")
	}
	if w.Facts {
		var facts map[string]map[string]any
		if err := json.Unmarshal([]byte(out[cmds[next]]), &facts); err != nil {
			t.Fatalf("facts: %v\n%s", err, out[cmds[next]])
		}
		if f := facts[name]; f["language"] != c.lang || f["plugin"] != name || f["timestamp"] == nil {
			t.Errorf("facts: %v", facts)
		}
		next++
	}
	if w.Templates {
		if got := out[cmds[next]]; got != "hi! Hello, Ada!\n" {
			t.Errorf("template: %q", got)
		}
		next++
		r := cliIn(t, home, "", `{{ 1 | exclaim }}`, "-o", "json", "template", "render", "-")
		expect(t, r, 2)
		contains(t, "filter error", r.stdout, `"kind": "invalid-input"`, "exclaim: the value must be a string")
	}
	if w.Log {
		lines := strings.Split(strings.TrimSpace(out[cmds[next]]), "\n")
		sort.Strings(lines) // two sources: their entries interleave
		if got := strings.Join(lines, "\n"); got != "[-] first line\n[-] second line\n[info] tick 1\n[info] tick 2\n[info] tick 3" {
			t.Errorf("pipeline:\n%s", got)
		}
	}
	if c.lang == "ts" {
		typeErrorFailsBuild(t, filepath.Join(work, p.Dir), env)
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
	_, out, err := shell(t, dir, env, "npm run build")
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
// TypeScript, Python and Go are checked by their compilers: node --check,
// tsc (against the types jco generates from the project's WIT), Python's
// compiler, and go vet (natively and for wasip1) and go build for wasip1.
func TestPluginsNewCompilesEveryWorld(t *testing.T) {
	home := newHome(t)
	for _, lang := range []string{"js", "ts", "python", "go"} {
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
				case "go":
					builtexample.Command(t, "make", "install make")
					env = append(os.Environ(), "PATH="+goBin(t)+":"+os.Getenv("PATH"))
				}
				work := t.TempDir()
				name := "p"
				if lang == "go" {
					name = "net" // a standard package's name: the module path must not clash with it
				}
				p := newProject(t, home, work, name, lang, w.Name)
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
				case "go":
					// The project's own check (go vet natively and for wasip1, go
					// test), then the core module the build makes a component of.
					check = "make check && GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o core.wasm ."
				}
				if _, out, err := shell(t, dir, env, check); err != nil {
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
