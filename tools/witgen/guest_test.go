package main

// Tests of the Go guest bindings (witgen -guest go): the generated code is
// checked in (internal/corpusguest for the corpus's kitchen-sink world,
// examples/go-plugin/gen for the plugin contract), and the corpus tests of
// corpus_test.go run again against internal/corpusguest/kitchenguest, the
// kitchen-sink world in Go: every kind of value crosses Go host bindings →
// Go guest → Go host → Go guest → Go host.

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/tools/goadapter"
)

var guestGoldenCases = []struct {
	name, wit, world, out string
}{
	{"corpus", "testdata/corpus", "kitchen-sink", "internal/corpusguest"},
	{"go-plugin", "../../wit", "plugin", "../../examples/go-plugin/gen"},
}

func TestGuestGolden(t *testing.T) {
	for _, c := range guestGoldenCases {
		t.Run(c.name, func(t *testing.T) {
			files, err := GenerateGuest(loadWIT(t, c.wit), Options{Worlds: []string{c.world}, PackagePrefix: prefixOf(t, c.out)})
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
					t.Errorf("%s: %v (run go test ./tools/witgen -run Golden -update)", name, err)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from what witgen -guest go generates now (run go test ./tools/witgen -run Golden -update):\n%s",
						name, firstDiff(string(got), string(want)))
				}
			}
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

// kitchenGuest builds the Go kitchen-sink guest once per test binary and
// compiles it once: later engines deserialize it.
var kitchenGuest struct {
	once       sync.Once
	wasm       []byte
	serialized []byte
	err        error
	mu         sync.Mutex
}

func buildKitchenGuest(t testing.TB) []byte {
	t.Helper()
	wasmTools := builtexample.WasmTools(t)
	kitchenGuest.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		dir := t.TempDir()
		adapter := filepath.Join(dir, "adapter.wasm")
		if kitchenGuest.err = goadapter.Assemble(ctx, wasmTools, adapter); kitchenGuest.err != nil {
			return
		}
		out := filepath.Join(dir, "kitchenguest.wasm")
		kitchenGuest.err = goadapter.Build(ctx, goadapter.Options{
			WasmTools: wasmTools, Adapter: adapter, Package: "./internal/corpusguest/kitchenguest",
			WIT: "testdata/corpus", World: "kitchen-sink", Out: out,
		})
		if kitchenGuest.err == nil {
			kitchenGuest.wasm, kitchenGuest.err = os.ReadFile(out)
		}
	})
	if kitchenGuest.err != nil {
		t.Fatal(kitchenGuest.err)
	}
	return kitchenGuest.wasm
}

// compileKitchenGuest compiles the Go guest for engine e (all the tests'
// engines have the default configuration, so one compilation serves).
func compileKitchenGuest(t testing.TB, e *bindings.Engine) *bindings.Component {
	t.Helper()
	wasm := buildKitchenGuest(t)
	kitchenGuest.mu.Lock()
	defer kitchenGuest.mu.Unlock()
	if kitchenGuest.serialized != nil {
		c, err := bindings.DeserializeComponent(e, kitchenGuest.serialized)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, err := bindings.NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	if kitchenGuest.serialized, err = c.Serialize(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGuestCorpus runs the corpus tests against the Go guest.
func TestGuestCorpus(t *testing.T) {
	buildKitchenGuest(t)
	saved := kitchenSink
	kitchenSink = compileKitchenGuest
	defer func() { kitchenSink = saved }()
	for _, c := range []struct {
		name string
		test func(*testing.T)
	}{
		{"EchoEverything", TestCorpusEchoEverything},
		{"ScalarsShapesFlagsOptionsLists", TestCorpusScalarsShapesFlagsOptionsLists},
		{"Results", TestCorpusResults},
		{"Resources", TestCorpusResources},
		{"ConcurrentStores", TestCorpusConcurrentStores},
	} {
		t.Run(c.name, c.test)
	}
}
