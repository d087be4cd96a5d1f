package scaffold

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/wit"
)

func repoFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(builtexample.Root(), rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Every language renders for every world: the files it should have, the
// contract unchanged, the items of the world and none of the others.
func TestRenderEveryLanguageAndWorld(t *testing.T) {
	contract, err := wit.Files.ReadFile("plugin.wit")
	if err != nil {
		t.Fatal(err)
	}
	// What each export makes appear in the sources.
	markers := map[string][]string{
		"tasks":     {"definitions"},
		"facts":     {"collectors"},
		"templates": {"exclaim"},
		"logs":      {"no-comments"},
	}
	for _, l := range Languages() {
		for _, w := range Worlds() {
			t.Run(l.Name+"/"+w.Name, func(t *testing.T) {
				files, d, err := Render("my-plugin", l.Name, w.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(files["wit/plugin.wit"], contract) {
					t.Error("wit/plugin.wit is not the contract")
				}
				for _, f := range []string{"README.md", ".gitignore"} {
					if len(files[f]) == 0 {
						t.Errorf("no %s", f)
					}
				}
				_, hasPipeline := files["pipeline.toml"]
				_, hasSample := files["sample.log"]
				if hasPipeline != w.Log || hasSample != w.Log {
					t.Errorf("pipeline.toml %v, sample.log %v in world %s", hasPipeline, hasSample, w.Name)
				}
				var sources strings.Builder
				for name, data := range files {
					if strings.HasPrefix(name, "gen/") {
						continue // Go's generated bindings (TestGoBindingsAreWitgens)
					}
					if strings.Contains(name, "plugin.") && !strings.HasSuffix(name, ".wit") || strings.HasSuffix(name, "lib.rs") || name == "app.py" || name == "main.go" {
						sources.Write(data)
					}
					if bytes.Contains(data, []byte("{{.")) || bytes.Contains(data, []byte("<no value>")) {
						t.Errorf("%s: unexpanded template text", name)
					}
					if bytes.Contains(data, []byte("\n\n\n\n")) {
						t.Errorf("%s: more than two blank lines in a row", name)
					}
				}
				src := strings.ToLower(sources.String()) // Go: Definitions(), Collectors()
				if src == "" {
					t.Fatal("no source file")
				}
				has := map[string]bool{"tasks": w.Tasks, "facts": w.Facts, "templates": w.Templates, "logs": w.Log}
				for export, ms := range markers {
					found := false
					for _, m := range ms {
						found = found || strings.Contains(src, m)
					}
					if found != has[export] {
						t.Errorf("%s: items of %s present: %v, want %v", w.Name, export, found, has[export])
					}
				}
				if !strings.Contains(src, d.WorldID) && !strings.Contains(string(files["Makefile"]), d.WorldID) &&
					!strings.Contains(string(files["package.json"]), w.Name) && !strings.Contains(string(files["build.mjs"]), w.Name) {
					t.Errorf("the world %s is named nowhere", d.WorldID)
				}
				readme := string(files["README.md"])
				for _, want := range []string{"# my-plugin", d.Build, d.Install, "wit/plugin.wit", d.WorldID} {
					if !strings.Contains(readme, want) {
						t.Errorf("README lacks %q", want)
					}
				}
				if pkg, ok := files["package.json"]; ok {
					var v map[string]any
					if err := json.Unmarshal(pkg, &v); err != nil {
						t.Errorf("package.json: %v", err)
					}
				}
				if cargo, ok := files["Cargo.toml"]; ok {
					var v map[string]any
					if err := toml.Unmarshal(cargo, &v); err != nil {
						t.Errorf("Cargo.toml: %v", err)
					}
				}
			})
		}
	}
}

// The worlds table is the contract's worlds, with their exports.
func TestWorldsAreTheContracts(t *testing.T) {
	contract, err := wit.Files.ReadFile("plugin.wit")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)\nworld ([a-z-]+) \{(.*?)\n\}`)
	got := map[string]World{}
	for _, m := range re.FindAllStringSubmatch(string(contract), -1) {
		w := World{Name: m[1]}
		for _, line := range strings.Split(m[2], "\n") {
			switch strings.TrimSpace(line) {
			case "export tasks;":
				w.Tasks = true
			case "export facts;":
				w.Facts = true
			case "export templates;":
				w.Templates = true
			case "export logs;":
				w.Log = true
			}
		}
		got[w.Name] = w
	}
	if len(got) != len(worlds) {
		t.Errorf("the contract has %d worlds, the table %d", len(got), len(worlds))
	}
	for _, w := range worlds {
		if got[w.Name] != w {
			t.Errorf("world %s: contract %+v, table %+v", w.Name, got[w.Name], w)
		}
	}
}

// The versions the templates pin are those the repository builds its
// examples with.
func TestToolVersionsMatchTheRepository(t *testing.T) {
	var pkg struct{ Dependencies map[string]string }
	if err := json.Unmarshal(repoFile(t, "tools/npm/package.json"), &pkg); err != nil {
		t.Fatal(err)
	}
	for key, dep := range map[string]string{"componentizeJS": "@bytecodealliance/componentize-js", "jco": "@bytecodealliance/jco",
		"preview2Shim": "@bytecodealliance/preview2-shim", "typescript": "typescript"} {
		if pkg.Dependencies[dep] != toolVersions[key] {
			t.Errorf("%s: tools/npm has %s, the templates %s", dep, pkg.Dependencies[dep], toolVersions[key])
		}
	}
	mk := string(repoFile(t, "mk/examples.mk"))
	for key, v := range map[string]string{"componentizePy": "COMPONENTIZE_PY_VERSION", "wasmTools": "WASM_TOOLS_VERSION", "witBindgenCLI": "WIT_BINDGEN_CLI_VERSION"} {
		if !strings.Contains(mk, v+" := "+toolVersions[key]+"\n") {
			t.Errorf("mk/examples.mk: %s is not %s", v, toolVersions[key])
		}
	}
	var cargo struct{ Dependencies map[string]any }
	if err := toml.Unmarshal(repoFile(t, "examples/rust-plugin/Cargo.toml"), &cargo); err != nil {
		t.Fatal(err)
	}
	if cargo.Dependencies["wit-bindgen"] != "="+toolVersions["witBindgen"] {
		t.Errorf("examples/rust-plugin: wit-bindgen %v, the templates %s", cargo.Dependencies["wit-bindgen"], toolVersions["witBindgen"])
	}
	// Go: the cm module of the repository's go.mod, and its go.sum lines.
	goFiles, _, err := Render("x", "go", "task-plugin")
	if err != nil {
		t.Fatal(err)
	}
	if want := "go.bytecodealliance.org/cm " + toolVersions["goCM"] + "\n"; !strings.Contains(string(repoFile(t, "go.mod")), want) ||
		!strings.Contains(string(goFiles["go.mod"]), "require "+want) {
		t.Errorf("go.mod: the repository's or the template's does not require %s", want)
	}
	sums := strings.Split(strings.TrimSpace(string(goFiles["go.sum"])), "\n")
	if len(sums) != 2 {
		t.Errorf("go.sum: %d lines, want cm's two", len(sums))
	}
	for _, l := range sums {
		if !strings.HasPrefix(l, "go.bytecodealliance.org/cm "+toolVersions["goCM"]) || !strings.Contains(string(repoFile(t, "go.sum")), l+"\n") {
			t.Errorf("go.sum: %q is not a line of the repository's go.sum for cm %s", l, toolVersions["goCM"])
		}
	}
	// The Rust template's Cargo.lock pins what the example's does.
	type lock struct {
		Package []struct{ Name, Version string }
	}
	versions := func(data []byte) map[string]string {
		var l lock
		if err := toml.Unmarshal(data, &l); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, p := range l.Package {
			m[p.Name] = p.Version
		}
		return m
	}
	files, _, err := Render("x", "rust", "plugin")
	if err != nil {
		t.Fatal(err)
	}
	example, scaffolded := versions(repoFile(t, "examples/rust-plugin/Cargo.lock")), versions(files["Cargo.lock"])
	delete(example, "rust-plugin")
	delete(scaffolded, "x")
	if len(example) != len(scaffolded) {
		t.Errorf("Cargo.lock: %d packages, the example's %d", len(scaffolded), len(example))
	}
	for name, v := range example {
		if scaffolded[name] != v {
			t.Errorf("Cargo.lock: %s %s, the example's %s", name, scaffolded[name], v)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"hello", true}, {"Hello_World-2", true}, {"a", true}, {strings.Repeat("a", 64), true},
		{"", false}, {"9lives", false}, {"-x", false}, {"_x", false}, {"a.b", false}, {"a b", false},
		{"a/b", false}, {strings.Repeat("a", 65), false}, {"héllo", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckName(c.name)
			var ue *UsageError
			if (err == nil) != c.ok || (err != nil && !errors.As(err, &ue)) {
				t.Errorf("CheckName(%q) = %v", c.name, err)
			}
		})
	}
}

func TestNewWritesAndRefuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	p, err := New(Options{Name: "p", Lang: "c", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if p.World != DefaultWorld || p.Build != "(cd "+dir+" && make)" || p.Install != "driftless plugins install "+dir+"/p.wasm" {
		t.Errorf("project %+v", p)
	}
	var onDisk []string
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	sort.Strings(onDisk)
	if strings.Join(onDisk, " ") != strings.Join(p.Files, " ") || strings.Join(p.Files, " ") != ".gitignore Makefile README.md plugin.c wit/plugin.wit" {
		t.Errorf("files %v, on disk %v", p.Files, onDisk)
	}

	t.Run("not empty", func(t *testing.T) {
		_, err := New(Options{Name: "p", Lang: "js", Dir: dir})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "is not empty; use --force") {
			t.Errorf("err %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			t.Error("wrote into a non-empty directory")
		}
	})
	t.Run("force", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "plugin.c"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Options{Name: "p", Lang: "c", World: "plugin", Dir: dir, Force: true}); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "plugin.c"))
		if !bytes.Contains(data, []byte("exports_driftless_plugin_logs_components")) {
			t.Error("plugin.c was not replaced")
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "f")
		os.WriteFile(file, nil, 0o644)
		_, err := New(Options{Name: "p", Lang: "c", Dir: file, Force: true})
		if err == nil || !strings.Contains(err.Error(), "exists and is not a directory") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		d := t.TempDir()
		target := filepath.Join(t.TempDir(), "elsewhere")
		os.WriteFile(target, []byte("keep"), 0o644)
		if err := os.Symlink(target, filepath.Join(d, "Makefile")); err != nil {
			t.Fatal(err)
		}
		_, err := New(Options{Name: "p", Lang: "c", Dir: d, Force: true})
		if err == nil || !strings.Contains(err.Error(), "is a symbolic link: not writing through it") {
			t.Errorf("err %v", err)
		}
		if data, _ := os.ReadFile(target); string(data) != "keep" {
			t.Error("wrote through the link")
		}
	})
	t.Run("quoted commands", func(t *testing.T) {
		d := filepath.Join(t.TempDir(), "my dir's")
		p, err := New(Options{Name: "q", Lang: "rust", Dir: d})
		if err != nil {
			t.Fatal(err)
		}
		q := strings.ReplaceAll(d, "'", `'\''`)
		if p.Build != "(cd '"+q+"' && cargo build --release)" ||
			p.Install != "driftless plugins install '"+q+"/target/wasm32-wasip2/release/q.wasm'" {
			t.Errorf("build %s\ninstall %s", p.Build, p.Install)
		}
		out, err := exec.Command("sh", "-c", "cd '"+q+"' && ls Cargo.toml").CombinedOutput()
		if err != nil {
			t.Errorf("the quoting does not work in sh: %v %s", err, out)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		for _, o := range []Options{{Name: "x", Lang: "cobol"}, {Name: "x", Lang: "c", World: "everything"}, {Name: "1x", Lang: "c"}} {
			o.Dir = t.TempDir()
			var ue *UsageError
			if _, err := New(o); !errors.As(err, &ue) {
				t.Errorf("%+v: %v", o, err)
			}
		}
	})
}

func TestTidy(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{" \n\t\n", ""},
		{"a  \nb\t\n", "a\nb\n"},
		{"\n\na\n\n\n\n\nb", "a\n\n\nb\n"},
		{"a\n\n\nb\n\n", "a\n\n\nb\n"},
	} {
		if got := string(tidy([]byte(c.in))); got != c.want {
			t.Errorf("tidy(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
