package main

// witgen over WIT this project did not write (issue 17): every WIT document
// of the corpus `make corpus` gathers (wit-bindgen's runtime and codegen
// tests — WASI among them —, wit-parser's UI tests) and random worlds,
// every world of every package in them. The generated code of all of them
// is compiled with one go build.

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.bytecodealliance.org/wit"

	"github.com/driftless-dev/driftless/internal/corpus"
)

// unsupported are the WIT features witgen refuses by design, with the
// message it refuses them with.
var unsupported = []string{
	"a WIT feature this generator does not know",
}

var unsafeDir = regexp.MustCompile(`[^a-z0-9]+`)

var randomWorlds = flag.Int("random-worlds", 40, "how many random WIT worlds TestForeignWIT generates bindings for")

// allWorlds names every world of res, package-qualified.
func allWorlds(res *wit.Resolve) []string {
	var names []string
	for _, w := range res.Worlds {
		names = append(names, itemName(w.Package, w.Name))
	}
	return names
}

// generateInto generates every world of res into dir (a directory inside
// a module) and returns the import paths of the packages written.
func generateInto(t *testing.T, res *wit.Resolve, dir string) ([]string, error) {
	t.Helper()
	prefix, err := importPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	worlds := allWorlds(res)
	if len(worlds) == 0 {
		return nil, nil
	}
	files, err := Generate(res, Options{Worlds: worlds, PackagePrefix: prefix})
	if err != nil {
		return nil, err
	}
	if err := writeFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for name := range files {
		pkgs = append(pkgs, prefix+"/"+path.Dir(name))
	}
	slices.Sort(pkgs)
	return slices.Compact(pkgs), nil
}

// goBuild builds (compiles, without linking a program) the packages of the
// module in dir (made by tempModuleDir).
func goBuild(t *testing.T, dir string, pkgs []string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	for len(pkgs) > 0 {
		n := min(len(pkgs), 400) // keep the command line short
		cmd := goCommand(goTool, dir, append([]string{"build"}, pkgs[:n]...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		pkgs = pkgs[n:]
	}
}

func TestForeignWIT(t *testing.T) {
	if testing.Short() {
		t.Skip("runs wasm-tools and go build")
	}
	root := corpus.Require(t)
	cases, err := corpus.WITs(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := tempModuleDir(t)
	var pkgs []string
	generated, refused := 0, 0
	// Random worlds (internal/corpus): every kind of type, named with Go
	// keywords and the generator's own identifiers.
	witDir := t.TempDir()
	for seed := int64(1); seed <= int64(*randomWorlds); seed++ {
		w := corpus.NewRandomWorld(seed)
		p := filepath.Join(witDir, fmt.Sprintf("p%d.wit", seed))
		if err := os.WriteFile(p, []byte(w.WIT), 0o644); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, corpus.WIT{Name: "random/" + w.Package, Path: p})
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			res, err := corpus.Resolve(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, strings.Trim(unsafeDir.ReplaceAllString(c.Name, "_"), "_"))
			p, err := generateInto(t, res, out)
			switch {
			case err == nil:
				generated++
				pkgs = append(pkgs, p...)
			case slices.ContainsFunc(unsupported, func(s string) bool { return strings.Contains(err.Error(), s) }):
				refused++
				t.Logf("refused: %v", err)
			default:
				t.Fatal(err)
			}
		})
	}
	t.Logf("%d WIT documents: %d generated (%d Go packages), %d refused for features witgen does not support", len(cases), generated, len(pkgs), refused)
	goBuild(t, dir, pkgs)
}
