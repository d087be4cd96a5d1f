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
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/tools/goadapter"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusgen/witgen/corpus/kitchensink"
	"github.com/driftless-dev/driftless/tools/witgen/internal/corpusgen/witgen/corpus/shared"
)

var guestGoldenCases = []struct {
	name, wit, world, out string
}{
	{"corpus", "testdata/corpus", "kitchen-sink", "internal/corpusguest"},
	{"extras", "testdata/guest", "guest-extras", "internal/guestextras"},
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

// guestBuild is a Go guest built once per test binary and compiled once:
// later engines (all with the default configuration) deserialize it.
type guestBuild struct {
	pkg, wit, world string

	once       sync.Once
	wasm       []byte
	err        error
	mu         sync.Mutex
	serialized []byte
}

var (
	kitchenGuest = &guestBuild{pkg: "./internal/corpusguest/kitchenguest", wit: "testdata/corpus", world: "kitchen-sink"}
	extrasGuest  = &guestBuild{pkg: "./internal/guestextras/extrasguest", wit: "testdata/guest", world: "guest-extras"}
)

func (g *guestBuild) build(t testing.TB) []byte {
	t.Helper()
	wasmTools := builtexample.WasmTools(t)
	g.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "witgen-guest-")
		if err != nil {
			g.err = err
			return
		}
		defer os.RemoveAll(dir)
		adapter := filepath.Join(dir, "adapter.wasm")
		if g.err = goadapter.Assemble(ctx, wasmTools, adapter); g.err != nil {
			return
		}
		out := filepath.Join(dir, "guest.wasm")
		g.err = goadapter.Build(ctx, goadapter.Options{
			WasmTools: wasmTools, Adapter: adapter, Package: g.pkg, WIT: g.wit, World: g.world, Out: out,
		})
		if g.err == nil {
			g.wasm, g.err = os.ReadFile(out)
		}
	})
	if g.err != nil {
		t.Fatal(g.err)
	}
	return g.wasm
}

func (g *guestBuild) compile(t testing.TB, e *bindings.Engine) *bindings.Component {
	t.Helper()
	wasm := g.build(t)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.serialized != nil {
		c, err := bindings.DeserializeComponent(e, g.serialized)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, err := bindings.NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	if g.serialized, err = c.Serialize(); err != nil {
		t.Fatal(err)
	}
	return c
}

func compileKitchenGuest(t testing.TB, e *bindings.Engine) *bindings.Component {
	return kitchenGuest.compile(t, e)
}

// TestGuestCorpus runs the corpus tests against the Go guest.
func TestGuestCorpus(t *testing.T) {
	kitchenGuest.build(t)
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

// lockedBuffer collects a guest's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestGuestGCPressure runs large values through the Go guest while its
// garbage collector runs all the time (GOGC=1, through the adapter's
// environment; GODEBUG=gctrace=1 proves it, on the guest's stderr): memory
// the host reads or writes must stay pinned exactly as long as needed.
func TestGuestGCPressure(t *testing.T) {
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := compileKitchenGuest(t, e)
	h := &host{}
	l := e.NewLinker()
	if err := kitchensink.AddToLinker(l, kitchensink.Imports{Kitchen: h, Users: usersHost{h}, Functions: worldHost{}}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddWASIP2(); err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	s, err := e.NewStore(bindings.StoreOptions{WASI: &bindings.WASIConfig{
		Env:    [][2]string{{"GOGC", "1"}, {"GODEBUG", "gctrace=1"}},
		Stderr: stderr,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inst, err := kitchensink.Instantiate(l, s, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	big := strings.Repeat("ü", 20000)
	for round := range 20 {
		v := fullEverything()
		v.S = big + strconv.Itoa(round)
		v.Ws = make([]string, 500)
		for i := range v.Ws {
			v.Ws[i] = strconv.Itoa(i*round) + strings.Repeat("é", i%64)
		}
		v.Nested = [][]string{v.Ws[:100], nil, v.Ws[100:]}
		v.Bytes = bytes.Repeat([]byte{byte(round)}, 100000)
		v.Pts = make([]shared.Point, 3000)
		for i := range v.Pts {
			v.Pts[i] = shared.Point{X: int32(i), Y: int32(-round)}
		}
		got, err := inst.Kitchen.EchoEverything(ctx, v)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("round %d: the value came back different", round)
		}
		pairs := make([]shared.Pair, 2000)
		for i := range pairs {
			pairs[i] = shared.Pair{F0: strconv.Itoa(i) + "-" + strconv.Itoa(round), F1: uint32(i)}
		}
		if got, err := inst.Kitchen.EchoList(ctx, pairs); err != nil || !reflect.DeepEqual(got, pairs) {
			t.Fatalf("round %d: echo-list: %v", round, err)
		}
		a, err := inst.Kitchen.NewCounter(ctx, uint32(round))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := inst.Users.Sum(ctx, a, a); err != nil || n != uint32(2*round) {
			t.Fatalf("round %d: sum %v %v", round, n, err)
		}
		if err := a.Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// (Traces printed inside cabi_realloc are dropped: no output may leave
	// the component there.)
	if !regexp.MustCompile(`(?m)^gc \d+ @`).MatchString(stderr.String()) {
		t.Errorf("the guest did not see GODEBUG: stderr %.300q", stderr.String())
	}
}

// BenchmarkGuestCall compares the Go guest with the WAT component of the
// corpus, in one run, through the same Go host bindings: each call goes
// host → guest → host import → guest → host, so the figures are the cost
// of the guest glue (and, for Go, its runtime) on top of the bindings'.
func BenchmarkGuestCall(b *testing.B) {
	pairs := make([]shared.Pair, 100)
	for i := range pairs {
		pairs[i] = shared.Pair{F0: "key-" + strconv.Itoa(i), F1: uint32(i)}
	}
	text := strings.Repeat("x", 1024)
	for _, guest := range []struct {
		name    string
		compile func(testing.TB, *bindings.Engine) *bindings.Component
	}{
		{"wat", func(t testing.TB, e *bindings.Engine) *bindings.Component {
			return compileWAT(t, e, filepath.Join("testdata", "corpus", "kitchen-sink.wat"))
		}},
		{"go", compileKitchenGuest},
	} {
		saved := kitchenSink
		kitchenSink = guest.compile
		inst, _, _ := newKitchenSink(b)
		kitchenSink = saved
		ctx := context.Background()
		b.Run(guest.name+"/flags", func(b *testing.B) {
			for b.Loop() {
				if _, err := inst.Kitchen.EchoFlags(ctx, shared.PermsRead); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(guest.name+"/string-1KiB", func(b *testing.B) {
			for b.Loop() {
				if err := inst.Kitchen.Note(ctx, text); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(guest.name+"/list-100-pairs", func(b *testing.B) {
			for b.Loop() {
				if _, err := inst.Kitchen.EchoList(ctx, pairs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
