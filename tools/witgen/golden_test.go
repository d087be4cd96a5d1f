package main

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.bytecodealliance.org/wit"

	"github.com/driftless-dev/driftless/bindings/witrt"
)

var update = flag.Bool("update", false, "rewrite the checked-in generated code of the golden tests")

const module = "github.com/driftless-dev/driftless"

// The golden cases: WIT in, checked-in Go out. The outputs are compiled and
// vetted with the module (go build ./..., go vet ./...), and the corpus's is
// what the behaviour tests run.
var goldenCases = []struct {
	name, wit, out string
}{
	{"plugin", "../../wit", "../../gen"},
	{"embedding", "../../examples/embedding/wit", "../../examples/embedding/gen"},
	{"corpus", "testdata/corpus", "internal/corpusgen"},
	{"names", "testdata/names", "internal/namesgen"},
}

// loadWIT caches loaded resolves: loading runs wasm-tools under wazero.
var loaded sync.Map

func loadWIT(t testing.TB, dir string) *wit.Resolve {
	t.Helper()
	if r, ok := loaded.Load(dir); ok {
		return r.(*wit.Resolve)
	}
	r, err := wit.LoadWIT(dir)
	if err != nil {
		t.Fatal(err)
	}
	loaded.Store(dir, r)
	return r
}

func prefixOf(t testing.TB, out string) string {
	t.Helper()
	p, err := importPath(out)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			files, err := Generate(loadWIT(t, c.wit), Options{PackagePrefix: prefixOf(t, c.out)})
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := writeFiles(c.out, files); err != nil {
					t.Fatal(err)
				}
				return
			}
			for name, want := range files {
				got, err := os.ReadFile(filepath.Join(c.out, name))
				if err != nil {
					t.Errorf("%s: %v (run go test ./tools/witgen -run Golden -update, or make generate)", name, err)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from what witgen generates now (run go test ./tools/witgen -run Golden -update, or make generate):\n%s",
						name, firstDiff(string(got), string(want)))
				}
			}
			// No stale generated file is left.
			filepath.WalkDir(c.out, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || !generatedByUs(p) {
					return err
				}
				rel, _ := filepath.Rel(c.out, p)
				if _, ok := files[filepath.ToSlash(rel)]; !ok {
					t.Errorf("%s: generated file that witgen no longer generates", p)
				}
				return nil
			})
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  checked in: " + gl + "\n  generated:  " + wl
		}
	}
	return ""
}

// TestDeterministic generates twice and compares.
func TestDeterministic(t *testing.T) {
	res := loadWIT(t, "testdata/corpus")
	a, err := Generate(res, Options{PackagePrefix: "example.com/x"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Generate(res, Options{PackagePrefix: "example.com/x"})
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatal("different file sets")
		}
		for k := range a {
			if !bytes.Equal(a[k], b[k]) {
				t.Fatalf("%s differs between runs", k)
			}
		}
	}
	for name, src := range a {
		if !bytes.HasPrefix(src, []byte(generatedLine+"\n")) {
			t.Errorf("%s lacks the generated-code line", name)
		}
	}
}

// TestSelectWorlds generates one world: its package and the interfaces it
// needs, nothing else; and the result builds.
func TestSelectWorlds(t *testing.T) {
	res := loadWIT(t, "testdata/corpus")
	files, err := Generate(res, Options{Worlds: []string{"exporter"}, PackagePrefix: "example.com/x"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{
		"witgen/corpus/exporter/exporter.wit.go",
		"witgen/corpus/kitchen/kitchen.wit.go",
		"witgen/corpus/shared/shared.wit.go",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("files: %q, want %q", names, want)
	}
	if _, err := Generate(res, Options{Worlds: []string{"witgen:corpus/importer@0.1.0", "witgen:corpus/exporter"}, PackagePrefix: "example.com/x"}); err != nil {
		t.Fatalf("full world names: %v", err)
	}
	if _, err := Generate(res, Options{Worlds: []string{"nope"}, PackagePrefix: "example.com/x"}); err == nil || !strings.Contains(err.Error(), "witgen:corpus/kitchen-sink@0.1.0") {
		t.Fatalf("unknown world: %v", err)
	}
}

// TestCompileSelectedWorld runs witgen with -world into a directory inside
// the module and builds and vets the result.
func TestCompileSelectedWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	dir := tempModuleDir(t)
	if err := run("testdata/corpus", dir, "", []string{"importer", "exporter"}); err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			rel, err := filepath.Rel(dir, filepath.Dir(p))
			if err != nil {
				return err
			}
			pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	if len(pkgs) != 6 {
		t.Fatalf("generated packages: %q", pkgs)
	}
	for _, args := range [][]string{{"build"}, {"vet"}} {
		cmd := goCommand(goTool, dir, append(args, pkgs...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", args[0], err, out)
		}
	}
	// Regenerating changes nothing; a dropped world's files go.
	if err := run("testdata/corpus", dir, "", []string{"exporter"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "witgen/corpus/importer")); !os.IsNotExist(err) {
		t.Fatalf("stale world package left behind: %v", err)
	}
}

// TestRuntimeVersion: witgen writes code for the runtime's current version.
func TestRuntimeVersion(t *testing.T) {
	if runtimeVersion != witrt.Version {
		t.Fatalf("witgen writes code for witrt version %d, witrt is at %d", runtimeVersion, witrt.Version)
	}
}
