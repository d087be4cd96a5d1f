package corpus

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/bindings"
)

// runnerTests are wit-bindgen's runtime tests whose runner and test
// components exchange values only (no resources): the runner calls every
// function of the test component's interface with values it chose and
// asserts the results, trapping on a mismatch.
var runnerTests = []string{
	"demo", "flavorful", "gated-features", "list-in-variant", "lists", "lists-alias",
	"many-arguments", "numbers", "options", "records", "strings",
	"strings-alias", "symbol-conflicts", "unused-types", "variants", "versions",
}

// TestRuntimeRunners runs wit-bindgen's runtime tests with this project's
// bindings between the two components of each: the test component
// instantiated alone (it imports only WASI), and the runner instantiated
// with each function it imports defined by a Go host function that calls
// the test component's export of the same name with the arguments it got,
// and returns the result. Every value the runner sends and checks crosses
// bindings twice (lifted from one component, lowered into the other), so
// the runner's own assertions check bindings' conversions of every kind.
func TestRuntimeRunners(t *testing.T) {
	dir := RequireRust(t)
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range runnerTests {
		t.Run(name, func(t *testing.T) {
			test := compile(t, e, filepath.Join(dir, name+"-test.wasm"))
			runner := compile(t, e, filepath.Join(dir, name+"-runner.wasm"))

			tl := e.NewLinker()
			must(t, tl.AddWASIP2())
			ts, err := e.NewStore(bindings.StoreOptions{})
			must(t, err)
			defer ts.Close()
			testInst, err := tl.Instantiate(ts, test)
			must(t, err)

			rl := e.NewLinker()
			must(t, rl.AddWASIP2())
			forwarded := 0
			for _, imp := range runner.Type().Imports {
				if strings.HasPrefix(imp.Name, "wasi:") {
					continue
				}
				switch imp.Item.Kind {
				case bindings.ItemInstance:
					li := rl.Instance(imp.Name)
					for _, fn := range imp.Item.Exports {
						if fn.Item.Kind == bindings.ItemFunc {
							must(t, li.DefineFunc(fn.Name, forward(t, testInst, imp.Name, fn.Name)))
							forwarded++
						}
					}
				case bindings.ItemFunc:
					must(t, rl.Root().DefineFunc(imp.Name, forward(t, testInst, imp.Name)))
					forwarded++
				}
			}
			// A failed assertion panics: its message goes to stderr.
			var stderr strings.Builder
			rs, err := e.NewStore(bindings.StoreOptions{WASI: &bindings.WASIConfig{Stderr: &stderr}})
			must(t, err)
			defer rs.Close()
			runnerInst, err := rl.Instantiate(rs, runner)
			must(t, err)
			run, err := runnerInst.Func("run")
			must(t, err)
			if _, err := run.Call(context.Background()); err != nil {
				t.Fatalf("run (%d functions forwarded): %v\n%s", forwarded, err, stderr.String())
			}
			if forwarded == 0 {
				t.Fatal("the runner imports nothing from the test component")
			}
		})
	}
}

// forward returns a host function that calls the export at path of inst.
func forward(t *testing.T, inst *bindings.Instance, path ...string) bindings.HostFunc {
	f, err := inst.Func(path...)
	if err != nil {
		t.Fatalf("the test component lacks %s: %v", strings.Join(path, "#"), err)
	}
	return func(ctx context.Context, params, results []bindings.Val) error {
		v, err := f.Call(ctx, params...)
		if err != nil {
			return err
		}
		if len(results) > 0 {
			results[0] = v
		}
		return nil
	}
}

func compile(t testing.TB, e *bindings.Engine, path string) *bindings.Component {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	c, err := bindings.NewComponent(e, b)
	must(t, err)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
