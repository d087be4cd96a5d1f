package corpus

import (
	"context"
	"flag"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/bindings"
)

var randomWorlds = flag.Int("random-worlds", 40, "how many random WIT worlds TestRandomWorlds builds")

// TestRandomWorlds builds a component of each of random WIT worlds (every
// kind of type, named with Go keywords and the generator's own
// identifiers, functions past 16 flat parameters), compares bindings'
// reflection with wasm-tools', and sends random values through each
// export, whose echo comes back through the host's import: bindings lowers
// and lifts each value twice per call. Handles of host resources go both
// ways; the component's own resources are constructed, called and
// dropped. (The seeds are 1 to -random-worlds, each subtest named for its
// seed: fuzz:p<seed>.)
func TestRandomWorlds(t *testing.T) {
	Require(t)
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	must(t, err)
	for seed := int64(1); seed <= int64(*randomWorlds); seed++ {
		w := NewRandomWorld(seed)
		t.Run(w.Package, func(t *testing.T) {
			wasm := BuildRandomWorld(t, w)
			c, err := bindings.NewComponent(e, wasm)
			if err != nil {
				t.Fatalf("%v\n%s", err, w.WIT)
			}
			compareWithWasmTools(t, component{w.Package, wasm}, c)
			roundTrip(t, e, c, w)
		})
	}
}

func roundTrip(t *testing.T, e *bindings.Engine, c *bindings.Component, w *RandomWorld) {
	l := e.NewLinker()
	// The echo returns its arguments but the borrowed handles, whose
	// representations it records.
	var borrowed []uint32
	echo := func(ctx context.Context, params, results []bindings.Val) error {
		var owned []bindings.Val
		for _, p := range params {
			if p.Kind() == bindings.KindResource && !p.Resource().Owned() {
				rep, _, err := p.Resource().HostRep()
				if err != nil {
					return err
				}
				borrowed = append(borrowed, rep)
				continue
			}
			owned = append(owned, p)
		}
		switch {
		case len(results) == 0:
		case len(owned) == 1:
			results[0] = owned[0]
		default:
			results[0] = bindings.Tuple(owned...)
		}
		return nil
	}
	// The resources of the interface types, by name (they are unique in a
	// random world).
	resources := map[string]*bindings.ResourceType{}
	for _, imp := range c.Type().Imports {
		switch imp.Item.Kind {
		case bindings.ItemInstance:
			li := l.Instance(imp.Name)
			for _, f := range imp.Item.Exports {
				switch f.Item.Kind {
				case bindings.ItemFunc:
					must(t, li.DefineFunc(f.Name, echo))
				case bindings.ItemResource:
					// An interface that uses the resource of another imports
					// it too, and an alias names the same type.
					name := w.Resources[f.Name]
					if name == "" {
						t.Fatalf("%s imports %s, which is no resource of the world", imp.Name, f.Name)
					}
					rt := resources[name]
					if rt == nil {
						rt = bindings.NewResourceType(name)
						resources[name] = rt
					}
					resources[f.Name] = rt
					must(t, li.DefineResource(f.Name, rt, func(ctx context.Context, rep uint32) error { return nil }))
				}
			}
		case bindings.ItemFunc:
			must(t, l.Root().DefineFunc(imp.Name, echo))
		}
	}
	s, err := e.NewStore(bindings.StoreOptions{})
	must(t, err)
	defer s.Close()
	inst, err := l.Instantiate(s, c)
	must(t, err)
	vg := &valGen{rng: rand.New(rand.NewSource(w.Seed)), store: s, resources: resources}
	for _, x := range w.Exports {
		path := []string{x.Name}
		ft := c.Type().Func(x.Name)
		if x.Interface != "" {
			path = []string{x.Interface, x.Name}
			ft = c.Type().Func(x.Interface, x.Name)
		} else if it := c.Type().Export(x.Name); it != nil {
			ft = it.Func
		}
		if ft == nil {
			t.Fatalf("no export %s", strings.Join(path, "#"))
		}
		f, err := inst.Func(path...)
		must(t, err)
		for range 3 {
			args := make([]bindings.Val, len(ft.Params))
			var owned []bindings.Val
			var lent []uint32
			for i, p := range ft.Params {
				args[i] = vg.val(t, p.Type, 3)
				if p.Type.Kind == bindings.KindBorrow {
					lent = append(lent, vg.rep(t, args[i]))
				} else {
					owned = append(owned, args[i])
				}
			}
			borrowed = borrowed[:0]
			got, err := f.Call(context.Background(), args...)
			if err != nil {
				t.Fatalf("%s%v: %v", strings.Join(path, "#"), args, err)
			}
			if !slices.Equal(borrowed, lent) {
				t.Fatalf("%s: lent handles of %v, the host got %v", strings.Join(path, "#"), lent, borrowed)
			}
			var want bindings.Val
			switch len(owned) {
			case 0:
				continue
			case 1:
				want = owned[0]
			default:
				want = bindings.Tuple(owned...)
			}
			if !sameVal(t, got, want) {
				t.Fatalf("%s: sent %v, got back %v", strings.Join(path, "#"), want, got)
			}
		}
	}
	if gr := w.Guest; gr != nil {
		guestRoundTrip(t, inst, gr, vg.rng)
	}
}

// guestRoundTrip makes resources of the component, whose method returns
// what the constructor got, and drops them.
func guestRoundTrip(t *testing.T, inst *bindings.Instance, gr *GuestResource, rng *rand.Rand) {
	ctor, err := inst.Func(gr.Interface, "[constructor]"+gr.Name)
	must(t, err)
	method, err := inst.Func(gr.Interface, "[method]"+gr.Name+"."+gr.Method)
	must(t, err)
	for range 3 {
		v := rng.Uint32()
		h, err := ctor.Call(context.Background(), bindings.U32(v))
		must(t, err)
		got, err := method.Call(context.Background(), h)
		must(t, err)
		if got.U32() != v {
			t.Fatalf("%s: constructed with %d, its %s returns %d", gr.Name, v, gr.Method, got.U32())
		}
		must(t, h.Resource().Drop(context.Background()))
	}
}

// valGen makes random values; handles are new host resources.
type valGen struct {
	rng       *rand.Rand
	store     *bindings.Store
	resources map[string]*bindings.ResourceType
	next      uint32
}

func (vg *valGen) rep(t *testing.T, v bindings.Val) uint32 {
	rep, _, err := v.Resource().HostRep()
	must(t, err)
	return rep
}

// sameVal reports whether a and b are the same value, resources by the
// host value (type and representation) they hold.
func sameVal(t *testing.T, a, b bindings.Val) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case bindings.KindResource:
		ra, ta, err := a.Resource().HostRep()
		must(t, err)
		rb, tb, err := b.Resource().HostRep()
		must(t, err)
		return ra == rb && ta == tb
	case bindings.KindList, bindings.KindTuple:
		ea, eb := a.Elems(), b.Elems()
		if len(ea) != len(eb) {
			return false
		}
		for i := range ea {
			if !sameVal(t, ea[i], eb[i]) {
				return false
			}
		}
		return true
	case bindings.KindRecord:
		na, va := a.Fields()
		nb, vb := b.Fields()
		if !slices.Equal(na, nb) {
			return false
		}
		for i := range va {
			if !sameVal(t, va[i], vb[i]) {
				return false
			}
		}
		return true
	case bindings.KindVariant, bindings.KindOption, bindings.KindResult:
		switch a.Kind() {
		case bindings.KindVariant:
			if a.Case() != b.Case() {
				return false
			}
		case bindings.KindOption:
			if a.IsSome() != b.IsSome() {
				return false
			}
		case bindings.KindResult:
			if a.IsOk() != b.IsOk() {
				return false
			}
		}
		pa, oka := a.Payload()
		pb, okb := b.Payload()
		return oka == okb && (!oka || sameVal(t, pa, pb))
	}
	return bindings.Equal(a, b)
}

// val makes a random value of type ty.
func (vg *valGen) val(t *testing.T, ty *bindings.Type, depth int) bindings.Val {
	rng := vg.rng
	switch ty.Kind {
	case bindings.KindOwn, bindings.KindBorrow:
		rt := vg.resources[ty.Name]
		if rt == nil {
			t.Fatalf("a handle of resource %q, which the component does not import", ty.Name)
		}
		vg.next++
		r, err := vg.store.NewResource(rt, vg.next)
		must(t, err)
		return bindings.ResourceVal(r)
	case bindings.KindBool:
		return bindings.Bool(rng.Intn(2) == 1)
	case bindings.KindS8:
		return bindings.S8(int8(rng.Uint32()))
	case bindings.KindU8:
		return bindings.U8(uint8(rng.Uint32()))
	case bindings.KindS16:
		return bindings.S16(int16(rng.Uint32()))
	case bindings.KindU16:
		return bindings.U16(uint16(rng.Uint32()))
	case bindings.KindS32:
		return bindings.S32(int32(rng.Uint32()))
	case bindings.KindU32:
		return bindings.U32(rng.Uint32())
	case bindings.KindS64:
		return bindings.S64(int64(rng.Uint64()))
	case bindings.KindU64:
		return bindings.U64(rng.Uint64())
	case bindings.KindF32:
		// NaNs may come back with other payload bits (the canonical ABI
		// may canonicalize them): the edges instead.
		return bindings.F32([]float32{0, -0.5, 1e30, float32(math.Inf(1)), math.SmallestNonzeroFloat32, rng.Float32()}[rng.Intn(6)])
	case bindings.KindF64:
		return bindings.F64([]float64{0, -2.5, 1e300, math.Inf(-1), math.SmallestNonzeroFloat64, rng.NormFloat64()}[rng.Intn(6)])
	case bindings.KindChar:
		return bindings.Char([]rune{'a', 0, 'é', '€', 0x10FFFF, 0x1F600, 0xD7FF, 0xE000}[rng.Intn(8)])
	case bindings.KindString:
		return bindings.String([]string{"", "x", "héllo wörld", strings.Repeat("ab", 300), "emoji 😀", "nul\x00byte"}[rng.Intn(6)])
	case bindings.KindList:
		n := rng.Intn(4)
		if depth <= 0 {
			n = 0
		}
		elems := make([]bindings.Val, n)
		for i := range elems {
			elems[i] = vg.val(t, ty.Elem, depth-1)
		}
		return bindings.List(elems...)
	case bindings.KindOption:
		if rng.Intn(2) == 0 {
			return bindings.None()
		}
		return bindings.Some(vg.val(t, ty.Elem, depth-1))
	case bindings.KindResult:
		if rng.Intn(2) == 0 {
			if ty.Ok == nil {
				return bindings.OkEmpty()
			}
			return bindings.Ok(vg.val(t, ty.Ok, depth-1))
		}
		if ty.Err == nil {
			return bindings.ErrEmpty()
		}
		return bindings.Err(vg.val(t, ty.Err, depth-1))
	case bindings.KindTuple:
		elems := make([]bindings.Val, len(ty.Elems))
		for i, et := range ty.Elems {
			elems[i] = vg.val(t, et, depth-1)
		}
		return bindings.Tuple(elems...)
	case bindings.KindRecord:
		names := make([]string, len(ty.Fields))
		vals := make([]bindings.Val, len(ty.Fields))
		for i, f := range ty.Fields {
			names[i], vals[i] = f.Name, vg.val(t, f.Type, depth-1)
		}
		return bindings.Record(names, vals)
	case bindings.KindVariant:
		c := ty.Cases[rng.Intn(len(ty.Cases))]
		if c.Type == nil {
			return bindings.Variant(c.Name)
		}
		return bindings.VariantWith(c.Name, vg.val(t, c.Type, depth-1))
	case bindings.KindEnum:
		return bindings.Enum(ty.Names[rng.Intn(len(ty.Names))])
	case bindings.KindFlags:
		var set []string
		for _, n := range ty.Names {
			if rng.Intn(2) == 0 {
				set = append(set, n)
			}
		}
		return bindings.Flags(set...)
	}
	t.Fatalf("val: %v", ty.Kind)
	return bindings.Val{}
}
