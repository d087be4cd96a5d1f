package corpus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/bindings"
)

// runnerTests are wit-bindgen's runtime tests whose test component needs
// only WASI: the runner calls every function of the test component's
// interfaces with values it chose and asserts the results, trapping on a
// mismatch. The resource tests pass handles both ways, inside records,
// variants, tuples, lists, options and results (resource_borrow_in_record
// is issue 17's shape: record foo { thing: borrow<thing> }).
var runnerTests = []string{
	"demo", "flavorful", "gated-features", "list-in-variant", "lists", "lists-alias",
	"many-arguments", "numbers", "options", "records", "strings",
	"strings-alias", "symbol-conflicts", "unused-types", "variants", "versions",
	"package-with-version", "resource-borrow", "resource_aggregates", "resource_alias",
	"resource_alias_redux", "resource_borrow_in_record",
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
			file := strings.ReplaceAll(name, "_", "-") // as mk/corpus.mk names them
			test := compile(t, e, filepath.Join(dir, file+"-test.wasm"))
			runner := compile(t, e, filepath.Join(dir, file+"-runner.wasm"))

			tl := e.NewLinker()
			must(t, tl.AddWASIP2())
			ts, err := e.NewStore(bindings.StoreOptions{})
			must(t, err)
			defer ts.Close()
			testInst, err := tl.Instantiate(ts, test)
			must(t, err)

			rl := e.NewLinker()
			must(t, rl.AddWASIP2())
			b := newBridge(t, rl, runner.Type())
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
							must(t, li.DefineFunc(fn.Name, b.forward(t, testInst, fn.Item.Func, imp.Name, fn.Name)))
							forwarded++
						}
					}
				case bindings.ItemFunc:
					must(t, rl.Root().DefineFunc(imp.Name, b.forward(t, testInst, imp.Item.Func, imp.Name)))
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

// bridge carries resource handles between the runner and the test
// component, as a component model runtime does between two components:
// the runner imports each resource as a host resource (one host type per
// resource, its aliases included), whose representation indexes the test
// component's own handle; a handle the test component returns becomes a
// new host resource for the runner, and the runner's drop of one drops the
// test component's.
type bridge struct {
	types   map[string]*bindings.ResourceType // by resource name, aliases resolved
	handles map[uint32]*bindings.Resource     // by representation
	next    uint32
}

var resourceAlias = regexp.MustCompile(`^export type (\S+) = (\S+);\n$`)

func newBridge(t *testing.T, l *bindings.Linker, ct *bindings.ComponentType) *bridge {
	b := &bridge{types: map[string]*bindings.ResourceType{}, handles: map[uint32]*bindings.Resource{}}
	drop := func(ctx context.Context, rep uint32) error {
		r := b.handles[rep]
		delete(b.handles, rep)
		if r == nil {
			return fmt.Errorf("no handle %d", rep)
		}
		return r.Drop(ctx)
	}
	for _, imp := range ct.Imports {
		if imp.Item.Kind != bindings.ItemInstance || strings.HasPrefix(imp.Name, "wasi:") {
			continue
		}
		for _, d := range imp.Item.Exports {
			if d.Item.Kind != bindings.ItemResource {
				continue
			}
			name := d.Name
			// `use a.{x as y}` shows as `type y = x`: the same type.
			if m := resourceAlias.FindStringSubmatch((&bindings.ComponentType{Exports: []bindings.ItemDef{d}}).WIT()); m != nil {
				name = m[2]
			}
			rt := b.types[name]
			if rt == nil {
				rt = bindings.NewResourceType(name)
				b.types[name] = rt
			}
			b.types[d.Name] = rt
			must(t, l.Instance(imp.Name).DefineResource(d.Name, rt, drop))
		}
	}
	return b
}

// toTest maps a value of the runner's to the test component's: handles of
// the runner's host resources become the test component's handles (own
// ones move to it).
func (b *bridge) toTest(v bindings.Val, ty *bindings.Type) (bindings.Val, error) {
	return mapVal(v, ty, func(v bindings.Val, ty *bindings.Type) (bindings.Val, error) {
		r := v.Resource()
		rep, _, err := r.HostRep()
		if err != nil {
			return bindings.Val{}, err
		}
		tr := b.handles[rep]
		if tr == nil {
			return bindings.Val{}, fmt.Errorf("no handle %d", rep)
		}
		if ty.Kind == bindings.KindOwn {
			delete(b.handles, rep)
			r.Close()
		}
		return bindings.ResourceVal(tr), nil
	})
}

// toRunner maps a result of the test component's to the runner's: each
// handle becomes a new host resource of the runner's.
func (b *bridge) toRunner(ctx context.Context, v bindings.Val, ty *bindings.Type) (bindings.Val, error) {
	return mapVal(v, ty, func(v bindings.Val, ty *bindings.Type) (bindings.Val, error) {
		rt := b.types[ty.Name]
		if rt == nil {
			return bindings.Val{}, fmt.Errorf("no resource type %s", ty.Name)
		}
		b.next++
		b.handles[b.next] = v.Resource()
		r, err := bindings.StoreFromContext(ctx).NewResource(rt, b.next)
		if err != nil {
			return bindings.Val{}, err
		}
		return bindings.ResourceVal(r), nil
	})
}

// mapVal rebuilds v, of type ty, with each handle replaced by handle(it).
func mapVal(v bindings.Val, ty *bindings.Type, handle func(bindings.Val, *bindings.Type) (bindings.Val, error)) (bindings.Val, error) {
	var err error
	each := func(vs []bindings.Val, ts func(int) *bindings.Type) []bindings.Val {
		out := make([]bindings.Val, len(vs))
		for i, e := range vs {
			if err == nil {
				out[i], err = mapVal(e, ts(i), handle)
			}
		}
		return out
	}
	switch ty.Kind {
	case bindings.KindOwn, bindings.KindBorrow:
		return handle(v, ty)
	case bindings.KindList:
		out := each(v.Elems(), func(int) *bindings.Type { return ty.Elem })
		return bindings.List(out...), err
	case bindings.KindTuple:
		out := each(v.Elems(), func(i int) *bindings.Type { return ty.Elems[i] })
		return bindings.Tuple(out...), err
	case bindings.KindRecord:
		names, vals := v.Fields()
		out := each(vals, func(i int) *bindings.Type { return ty.Fields[i].Type })
		return bindings.Record(names, out), err
	case bindings.KindVariant:
		p, ok := v.Payload()
		if !ok {
			return v, nil
		}
		for _, c := range ty.Cases {
			if c.Name == v.Case() {
				p, err = mapVal(p, c.Type, handle)
			}
		}
		return bindings.VariantWith(v.Case(), p), err
	case bindings.KindOption:
		if p, ok := v.Payload(); ok {
			p, err = mapVal(p, ty.Elem, handle)
			return bindings.Some(p), err
		}
	case bindings.KindResult:
		p, ok := v.Payload()
		switch {
		case v.IsOk() && ok:
			p, err = mapVal(p, ty.Ok, handle)
			return bindings.Ok(p), err
		case ok:
			p, err = mapVal(p, ty.Err, handle)
			return bindings.Err(p), err
		}
	}
	return v, nil
}

// forward returns a host function of the runner's, of type ft, that calls
// the export at path of the test instance.
func (b *bridge) forward(t *testing.T, inst *bindings.Instance, ft *bindings.FuncType, path ...string) bindings.HostFunc {
	f, err := inst.Func(path...)
	if err != nil {
		t.Fatalf("the test component lacks %s: %v", strings.Join(path, "#"), err)
	}
	return func(ctx context.Context, params, results []bindings.Val) error {
		args := make([]bindings.Val, len(params))
		for i, p := range params {
			if args[i], err = b.toTest(p, ft.Params[i].Type); err != nil {
				return err
			}
		}
		v, err := f.Call(ctx, args...)
		if err != nil {
			return err
		}
		if len(results) > 0 {
			results[0], err = b.toRunner(ctx, v, ft.Result)
		}
		return err
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
