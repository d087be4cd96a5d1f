package corpus

// Components this project did not write (issue 17), through every layer that
// reads a component: bindings compiles and reflects each one, and its
// reflection must render exactly what `wasm-tools component wit` decodes
// from the same binary (every function signature, every named type, with
// the component's own names); the host loads it (a plugin or a list of
// problems, never a crash); and one that imports only WASI is instantiated.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.bytecodealliance.org/wit"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/host"
)

// component is a component of the corpus, built or read.
type component struct {
	name string
	wasm []byte
}

// components builds the corpus's components: the Rust guests of
// wit-bindgen's runtime tests, wit-component's test components (from
// their text), and a dummy component (`component embed --dummy` +
// `component new`) for every world of every WIT document.
func components(t *testing.T) []component {
	t.Helper()
	root := Require(t)
	var out []component
	rust, _ := filepath.Glob(filepath.Join(root, "rust", "*.wasm"))
	for _, p := range rust {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, component{"rust/" + strings.TrimSuffix(filepath.Base(p), ".wasm"), b})
	}
	wc, _ := filepath.Glob(filepath.Join(root, "src", "wit-component-0.263.0", "tests", "components", "*", "component.wat"))
	for _, p := range wc {
		b, err := WasmTools("parse", p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, component{"wit-component/" + filepath.Base(filepath.Dir(p)), b})
	}
	wits, err := WITs(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, w := range wits {
		res, err := Resolve(w.Path)
		if err != nil {
			t.Fatal(err)
		}
		if slow[w.Name] {
			t.Logf("%s: skipped: wit-component takes minutes to build it", w.Name)
			continue
		}
		for i, world := range res.Worlds {
			name := worldName(world)
			core := filepath.Join(dir, fmt.Sprintf("core-%d.wasm", i))
			comp := filepath.Join(dir, fmt.Sprintf("comp-%d.wasm", i))
			// With every gated feature, or (a document testing gates) none.
			if _, err := WasmTools("component", "embed", "--all-features", "--dummy", "--world", worldSpec(world), w.Path, "-o", core); err != nil {
				if _, err2 := WasmTools("component", "embed", "--dummy", "--world", worldSpec(world), w.Path, "-o", core); err2 != nil {
					t.Errorf("%s: %v", w.Name, err)
					continue
				}
			}
			if _, err := WasmTools("component", "new", core, "-o", comp); err != nil {
				t.Errorf("%s: %v", w.Name, err)
				continue
			}
			b, err := os.ReadFile(comp)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, component{w.Name + "#" + name, b})
		}
	}
	return out
}

func worldName(w *wit.World) string {
	id := w.Package.Name
	s := id.Namespace + ":" + id.Package + "/" + w.Name
	if id.Version != nil {
		s += "@" + id.Version.String()
	}
	return s
}

// worldSpec is worldName as wasm-tools parses a world's name: every
// identifier %-escaped (a package or world may be named like a keyword).
func worldSpec(w *wit.World) string {
	id := w.Package.Name
	s := "%" + id.Namespace + ":%" + id.Package + "/%" + w.Name
	if id.Version != nil {
		s += "@" + id.Version.String()
	}
	return s
}

// slow are WIT documents wit-component takes minutes to make a component
// of (a stress test of its export elaboration).
var slow = map[string]bool{"wit-parser/ui/stress-export-elaborate": true}

// wasmtime refuses, when it compiles them, the components that use
// what its validator does not know or enable (component-model async, maps,
// fixed-size lists, custom page sizes, ...): an error, which is all the
// test asks of it.

func TestCorpusComponents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and loads hundreds of components")
	}
	comps := components(t)
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var accepted, refused, wasiOnly int
	for _, c := range comps {
		t.Run(c.name, func(t *testing.T) {
			comp, err := bindings.NewComponent(e, c.wasm)
			if err != nil {
				var be *bindings.Error
				if !errors.As(err, &be) || be.Op != "compile" {
					t.Fatalf("not a compile error: %T %v", err, err)
				}
				t.Logf("wasmtime refuses it: %.300s", err)
				refused++
				return
			}
			defer comp.Close()
			accepted++
			compareWithWasmTools(t, c, comp)

			// The host: a plugin, or the list of what keeps it from being one.
			if _, err := h.LoadBytes(context.Background(), "corpus", c.wasm); err != nil && len(host.Problems(err)) == 0 {
				var he *host.Error
				if !errors.As(err, &he) {
					t.Errorf("host: %T %v", err, err)
				}
			}
			h.Unload("corpus")

			if importsOnlyWASI(comp.Type()) {
				wasiOnly++
				l := e.NewLinker()
				if err := l.AddWASIP2(); err != nil {
					t.Fatal(err)
				}
				s, err := e.NewStore(bindings.StoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				// wit-parser's WIT imports made-up wasi: packages, which
				// instantiation names; the Rust guests import real WASI.
				// (One of wit-component's traps in its start function.)
				if _, err := l.Instantiate(s, comp); err != nil {
					var be *bindings.Error
					var trap *bindings.Trap
					if strings.HasPrefix(c.name, "rust/") || !errors.As(err, &be) && !errors.As(err, &trap) {
						t.Errorf("instantiate: %T %v", err, err)
					}
					t.Logf("instantiate: %.300v", err)
				}
			}
		})
	}
	t.Logf("%d components: %d compiled (%d of them instantiated: WASI imports only), %d refused by wasmtime", len(comps), accepted, wasiOnly, refused)
	if accepted < len(comps)/2 {
		t.Errorf("wasmtime accepted only %d of %d components", accepted, len(comps))
	}
}

func importsOnlyWASI(ct *bindings.ComponentType) bool {
	for _, imp := range ct.Imports {
		if !strings.HasPrefix(imp.Name, "wasi:") {
			return false
		}
	}
	return true
}

// compareWithWasmTools checks that bindings' reflection of c renders every
// function and named type exactly as `wasm-tools component wit` decodes
// them from the same binary.
func compareWithWasmTools(t *testing.T, c component, comp *bindings.Component) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.wasm")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(c.wasm)
	f.Close()
	res, err := Resolve(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	// The component's own world is the last package's.
	world := res.Worlds[len(res.Worlds)-1]
	ct := comp.Type()
	check := func(side string, items func(yield func(string, wit.WorldItem) bool), defs []bindings.ItemDef) {
		items(func(key string, it wit.WorldItem) bool {
			switch it := it.(type) {
			case *wit.InterfaceRef:
				name := key
				if it.Interface.Name != nil && unnamed(key) {
					name = worldName(&wit.World{Name: *it.Interface.Name, Package: it.Interface.Package})
				}
				d := find(defs, name)
				if d == nil || d.Kind != bindings.ItemInstance {
					t.Errorf("%s %s: not reflected", side, name)
					return true
				}
				checkInterface(t, side+" "+name, it.Interface, d.Exports)
			case *wit.Function:
				d := find(defs, it.Name)
				if d == nil || d.Kind != bindings.ItemFunc {
					t.Errorf("%s %s: not reflected", side, it.Name)
				} else if want := FuncSig(it); d.Func.String() != want {
					t.Errorf("%s %s: reflected as\n  %s\nwasm-tools:\n  %s", side, it.Name, d.Func, want)
				}
			}
			return true
		})
	}
	check("import", world.Imports.All(), ct.Imports)
	check("export", world.Exports.All(), ct.Exports)
}

// unnamed reports whether a world's key for an interface is wasm-tools'
// "interface-N": the interface under its own name.
func unnamed(key string) bool {
	n, ok := strings.CutPrefix(key, "interface-")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

func find(defs []bindings.ItemDef, name string) *bindings.Item {
	for _, d := range defs {
		if d.Name == name {
			return d.Item
		}
	}
	return nil
}

func checkInterface(t *testing.T, what string, iface *wit.Interface, defs []bindings.ItemDef) {
	t.Helper()
	iface.Functions.All()(func(name string, f *wit.Function) bool {
		d := find(defs, name)
		if d == nil || d.Kind != bindings.ItemFunc {
			t.Errorf("%s: function %s not reflected", what, name)
		} else if want := FuncSig(f); d.Func.String() != want {
			t.Errorf("%s: function %s reflected as\n  %s\nwasm-tools:\n  %s", what, name, d.Func, want)
		}
		return true
	})
	// The types the binary declares (wasm-tools also shows unused types of
	// the interface, from the WIT the component carries in a custom
	// section).
	for _, d := range defs {
		if d.Item.Kind != bindings.ItemType && d.Item.Kind != bindings.ItemResource {
			continue
		}
		td := iface.TypeDefs.Get(d.Name)
		if td == nil {
			t.Errorf("%s: type %s is not in wasm-tools' WIT", what, d.Name)
			continue
		}
		got := (&bindings.ComponentType{Exports: []bindings.ItemDef{d}}).WIT()
		if want := "export " + TypeDefinition(td) + ";\n"; got != want {
			t.Errorf("%s: type %s reflected as\n  %swasm-tools:\n  %s", what, d.Name, got, want)
		}
	}
}
