package scaffold

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/tools/goadapter"
)

// A Go project's gen/ is what `witgen -guest go` writes for its world and
// module path today (so the embedded copy is current, and the module path
// is rewritten everywhere it occurs), and its go-adapter.wasm the adapter.
func TestGoBindingsAreWitgens(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	tmp := t.TempDir()
	witgen := filepath.Join(tmp, "witgen")
	build := exec.Command(goTool, "build", "-o", witgen, "./tools/witgen")
	build.Dir = builtexample.Root()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./tools/witgen: %v\n%s", err, out)
	}
	for _, w := range Worlds() {
		t.Run(w.Name, func(t *testing.T) {
			const name = "my-plugin_2"
			files, d, err := Render(name, "go", w.Name)
			if err != nil {
				t.Fatal(err)
			}
			if d.Module != "example.com/"+name {
				t.Errorf("module %q", d.Module)
			}
			if !bytes.Equal(files["go-adapter.wasm"], goadapter.Assembled) {
				t.Error("go-adapter.wasm is not goadapter.Assembled")
			}
			out := filepath.Join(tmp, w.Name)
			cmd := exec.Command(witgen, "-guest", "go", "-wit", "wit", "-world", w.Name, "-out", out, "-package-prefix", d.Module+"/gen")
			cmd.Dir = builtexample.Root()
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("witgen: %v\n%s", err, msg)
			}
			var want []string
			err = filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(out, p)
				rel = "gen/" + filepath.ToSlash(rel)
				want = append(want, rel)
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if !bytes.Equal(files[rel], data) {
					t.Errorf("%s differs from witgen's: run make generate", rel)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for f, data := range files {
				if strings.HasPrefix(f, "gen/") {
					got = append(got, f)
					if bytes.Contains(data, []byte(GoBindingsPrefix)) {
						t.Errorf("%s still names %s", f, GoBindingsPrefix)
					}
				}
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("gen/ files:\n%s\nwitgen writes:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
