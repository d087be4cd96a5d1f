package scaffold

import (
	"bytes"
	"embed"
	"fmt"

	"github.com/driftless-dev/driftless/tools/goadapter"
)

// GoBindingsPrefix is the module path under which the embedded Go bindings
// import each other; a project's copy imports them under its own module
// path instead. internal/scaffold/internal/gobindgen generates them with it.
// Like a project's module path (example.com/NAME), its first element has a
// dot, so that witgen groups the imports alike and a project's gen/ is
// exactly what witgen writes for the project.
const GoBindingsPrefix = "driftless-scaffold.invalid/gen"

// goBindings are the Go guest bindings of every world, as `witgen -guest
// go` writes them (`make generate` runs gobindgen, which runs witgen); the
// files of each world are listed in goBindingFiles. The directory's "_"
// keeps the go tool out of it.
//
//go:embed _gobindings
var goBindings embed.FS

// goProject adds to a Go project what is not a template, so that it builds
// with Go and wasm-tools alone, outside a Driftless checkout: the bindings
// of its world in gen/ and the WASI adapter for Go (go-adapter.wasm).
func goProject(d *Data, files map[string][]byte) error {
	list := goBindingFiles[d.World.Name]
	if len(list) == 0 {
		return fmt.Errorf("scaffold: no Go bindings for world %s", d.World.Name)
	}
	from, to := []byte(`"`+GoBindingsPrefix+"/"), []byte(`"`+d.Module+"/gen/")
	for _, f := range list {
		src, err := goBindings.ReadFile("_gobindings/" + f)
		if err != nil {
			return fmt.Errorf("scaffold: %w", err)
		}
		files["gen/"+f] = bytes.ReplaceAll(src, from, to)
	}
	files["go-adapter.wasm"] = goadapter.Assembled
	return nil
}
