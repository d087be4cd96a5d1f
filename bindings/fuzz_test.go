package bindings

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// chooser turns fuzz input into decisions: bytes of the input first, then a
// PRNG seeded from the input, so that every input gives a complete type and
// value and small mutations of the input give related ones.
type chooser struct {
	data []byte
	rng  *rand.Rand
}

func newChooser(data []byte) *chooser {
	h := fnv.New64a()
	h.Write(data)
	s := h.Sum64()
	return &chooser{data: data, rng: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))}
}

func (c *chooser) u8() uint8 {
	if len(c.data) > 0 {
		b := c.data[0]
		c.data = c.data[1:]
		return b
	}
	return uint8(c.rng.Uint32())
}

func (c *chooser) u64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = c.u8()
	}
	return binary.LittleEndian.Uint64(b[:])
}

// intn returns a number in [0, n) for n <= 256.
func (c *chooser) intn(n int) int { return int(c.u8()) % n }

// genType returns a random WIT value type with at most budget nodes.
func (c *chooser) genType(depth int, budget *int) *Type {
	*budget--
	prims := []Kind{KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindS64,
		KindU64, KindF32, KindF64, KindChar, KindString}
	if depth <= 0 || *budget <= 0 {
		return &Type{Kind: prims[c.intn(len(prims))]}
	}
	switch k := c.intn(22); {
	case k < 8:
		return &Type{Kind: prims[c.intn(len(prims))]}
	case k == 8 || k == 9:
		return &Type{Kind: KindList, Elem: c.genType(depth-1, budget)}
	case k == 10 || k == 11:
		t := &Type{Kind: KindRecord}
		n := 1 + c.intn(4)
		if c.intn(8) == 0 {
			n = 9 + c.intn(12) // wide: crosses the 16 flat parameters
		}
		for i := range n {
			t.Fields = append(t.Fields, FieldType{Name: fmt.Sprintf("f%d", i), Type: c.genType(depth-1, budget)})
		}
		return t
	case k == 12:
		t := &Type{Kind: KindTuple}
		for range 1 + c.intn(4) {
			t.Elems = append(t.Elems, c.genType(depth-1, budget))
		}
		return t
	case k == 13 || k == 14:
		t := &Type{Kind: KindVariant}
		for i := range 1 + c.intn(5) {
			ct := CaseType{Name: fmt.Sprintf("c%d", i)}
			if c.intn(3) > 0 {
				ct.Type = c.genType(depth-1, budget)
			}
			t.Cases = append(t.Cases, ct)
		}
		return t
	case k == 15:
		t := &Type{Kind: KindEnum}
		for i := range 1 + c.intn(6) {
			t.Names = append(t.Names, fmt.Sprintf("e%d", i))
		}
		return t
	case k == 16 || k == 17:
		return &Type{Kind: KindOption, Elem: c.genType(depth-1, budget)}
	case k == 18 || k == 19:
		t := &Type{Kind: KindResult}
		if c.intn(4) > 0 {
			t.Ok = c.genType(depth-1, budget)
		}
		if c.intn(4) > 0 {
			t.Err = c.genType(depth-1, budget)
		}
		return t
	default:
		t := &Type{Kind: KindFlags}
		n := 1 + c.intn(12)
		if c.intn(4) == 0 {
			n = 1 + c.intn(32) // wasmtime 44 accepts at most 32 flags
		}
		for i := range n {
			t.Names = append(t.Names, fmt.Sprintf("g%d", i))
		}
		return t
	}
}

var fuzzRunes = []rune{'a', 'Z', '0', ' ', '"', '\\', '\n', 0, 0x7f, 0xe9, 0x4e2d, 0xfffd, 0x1f600, 0x10ffff, 0xd7ff, 0xe000}

// genVal returns a random value of type t.
func (c *chooser) genVal(t *Type) Val {
	switch t.Kind {
	case KindBool:
		return Bool(c.u8()&1 == 1)
	case KindS8:
		return S8(int8(c.u8()))
	case KindU8:
		return U8(c.u8())
	case KindS16:
		return S16(int16(c.u64()))
	case KindU16:
		return U16(uint16(c.u64()))
	case KindS32:
		return S32(int32(c.u64()))
	case KindU32:
		return U32(uint32(c.u64()))
	case KindS64:
		return S64(int64(c.u64()))
	case KindU64:
		return U64(c.u64())
	case KindF32:
		// Any bit pattern, NaNs with payloads included.
		return Val{kind: KindF32, bits: c.u64() & 0xffffffff}
	case KindF64:
		return Val{kind: KindF64, bits: c.u64()}
	case KindChar:
		return Char(c.genRune())
	case KindString:
		n := c.intn(12)
		if c.intn(10) == 0 {
			n = c.intn(256) * 8
		}
		var b strings.Builder
		for range n {
			b.WriteRune(c.genRune())
		}
		return String(b.String())
	case KindList:
		n := c.intn(5)
		if c.intn(10) == 0 {
			n = c.intn(100)
		}
		elems := make([]Val, n)
		for i := range elems {
			elems[i] = c.genVal(t.Elem)
		}
		return List(elems...)
	case KindRecord:
		names := make([]string, len(t.Fields))
		vals := make([]Val, len(t.Fields))
		for i, f := range t.Fields {
			names[i], vals[i] = f.Name, c.genVal(f.Type)
		}
		return Record(names, vals)
	case KindTuple:
		elems := make([]Val, len(t.Elems))
		for i, e := range t.Elems {
			elems[i] = c.genVal(e)
		}
		return Tuple(elems...)
	case KindVariant:
		cs := t.Cases[c.intn(len(t.Cases))]
		if cs.Type == nil {
			return Variant(cs.Name)
		}
		return VariantWith(cs.Name, c.genVal(cs.Type))
	case KindEnum:
		return Enum(t.Names[c.intn(len(t.Names))])
	case KindOption:
		if c.intn(3) == 0 {
			return None()
		}
		return Some(c.genVal(t.Elem))
	case KindResult:
		if c.intn(2) == 0 {
			if t.Ok == nil {
				return OkEmpty()
			}
			return Ok(c.genVal(t.Ok))
		}
		if t.Err == nil {
			return ErrEmpty()
		}
		return Err(c.genVal(t.Err))
	case KindFlags:
		var set []string
		for _, n := range t.Names {
			if c.intn(2) == 0 {
				set = append(set, n)
			}
		}
		return Flags(set...)
	}
	panic("genVal: " + t.Kind.String())
}

func (c *chooser) genRune() rune {
	if c.intn(2) == 0 {
		return fuzzRunes[c.intn(len(fuzzRunes))]
	}
	for {
		r := rune(c.u64() % 0x110000)
		if r < 0xd800 || r > 0xdfff {
			return r
		}
	}
}

// sameShape reports whether two types have the same structure, ignoring
// names of named types.
func sameShape(a, b *Type) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || len(a.Fields) != len(b.Fields) || len(a.Cases) != len(b.Cases) ||
		len(a.Elems) != len(b.Elems) || strings.Join(a.Names, ",") != strings.Join(b.Names, ",") {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || !sameShape(a.Fields[i].Type, b.Fields[i].Type) {
			return false
		}
	}
	for i := range a.Cases {
		if a.Cases[i].Name != b.Cases[i].Name || !sameShape(a.Cases[i].Type, b.Cases[i].Type) {
			return false
		}
	}
	for i := range a.Elems {
		if !sameShape(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return sameShape(a.Elem, b.Elem) && sameShape(a.Ok, b.Ok) && sameShape(a.Err, b.Err)
}

// identityInst is an instantiated identity component for one type, with a
// host function whose expected argument and reply the test sets per call.
type identityInst struct {
	wat       string
	typ       *Type
	linker    *Linker
	store     *Store
	inst      *Instance
	id, via   *Func
	wantParam Val
	reply     Val
	gotParam  Val
	hostCalls int
}

// identityCacheMax bounds the identity instances kept between fuzz inputs.
const identityCacheMax = 64

var identityCache struct {
	sync.Mutex
	engine *Engine
	m      map[string]*identityInst
}

// identityFor returns the cached identity instance for t, compiling the
// component the first time. Components are cached by their WAT text, which
// is a function of the type's structure.
func identityFor(tb testing.TB, t *Type) *identityInst {
	tb.Helper()
	wat := identityWAT([]*Type{t})
	identityCache.Lock()
	defer identityCache.Unlock()
	if identityCache.engine == nil {
		// A fuzz worker keeps up to identityCacheMax instances alive: with
		// wasmtime's default reservation of over 4 GiB per memory that is
		// hundreds of gigabytes of address space, more than some machines
		// allow.
		e, err := NewEngine(EngineConfig{MemoryReservation: 16 << 20, MemoryGuardSize: 64 << 10})
		if err != nil {
			tb.Fatal(err)
		}
		identityCache.engine = e
		identityCache.m = map[string]*identityInst{}
	}
	if ii, ok := identityCache.m[wat]; ok {
		return ii
	}
	if len(identityCache.m) >= identityCacheMax {
		// A long fuzz run meets many types: bound what the cache holds.
		for _, ii := range identityCache.m {
			ii.store.Close()
			ii.inst.Component().Close()
			ii.linker.Close()
		}
		clear(identityCache.m)
	}
	e := identityCache.engine
	wasm, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		tb.Fatalf("type %s: generated WAT does not parse: %v\n%s", t, err, wat)
	}
	c, err := NewComponent(e, wasm)
	if err != nil {
		tb.Fatalf("type %s: compile: %v\n%s", t, err, wat)
	}
	l := e.NewLinker()
	ii := &identityInst{wat: wat, typ: t, linker: l}
	err = l.Instance("test:fuzz/host").DefineFunc("host-a", func(ctx context.Context, p, r []Val) error {
		ii.hostCalls++
		ii.gotParam = p[0]
		r[0] = ii.reply
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if ii.store, err = e.NewStore(StoreOptions{}); err != nil {
		tb.Fatal(err)
	}
	if ii.inst, err = l.Instantiate(ii.store, c); err != nil {
		tb.Fatalf("type %s: instantiate: %v", t, err)
	}
	if ii.id, err = ii.inst.Func("id-a"); err != nil {
		tb.Fatal(err)
	}
	if ii.via, err = ii.inst.Func("via-host-a"); err != nil {
		tb.Fatal(err)
	}
	// Type reflection sees the type the WAT declared.
	for _, f := range []*Func{ii.id, ii.via} {
		ft := f.Type()
		if len(ft.Params) != 1 || !sameShape(ft.Params[0].Type, t) || !sameShape(ft.Result, t) {
			tb.Fatalf("reflected type of %s is %s, want func(x: %s) -> %s", f.Name(), ft, t, t)
		}
	}
	identityCache.m[wat] = ii
	return ii
}

// roundTrip sends v through the guest identity, and through the guest to
// the host and back with the host replying w, and checks every hop.
func roundTrip(tb testing.TB, t *Type, v, w Val) {
	tb.Helper()
	ii := identityFor(tb, t)
	ctx := context.Background()
	got, err := ii.id.Call(ctx, v)
	if err != nil {
		tb.Fatalf("type %s: id(%s): %v", t, v, err)
	}
	if !Equal(got, v) {
		tb.Fatalf("type %s: id(%s) = %s", t, v, got)
	}
	ii.reply = w
	calls := ii.hostCalls
	got, err = ii.via.Call(ctx, v)
	if err != nil {
		tb.Fatalf("type %s: via-host(%s) replying %s: %v", t, v, w, err)
	}
	if ii.hostCalls != calls+1 {
		tb.Fatalf("type %s: host called %d times, want 1", t, ii.hostCalls-calls)
	}
	if !Equal(ii.gotParam, v) {
		tb.Fatalf("type %s: host received %s, want %s", t, ii.gotParam, v)
	}
	if !Equal(got, w) {
		tb.Fatalf("type %s: via-host returned %s, host replied %s", t, got, w)
	}
}

func FuzzRoundTrip(f *testing.F) {
	// The seed corpus runs in every plain `go test`: a spread of inputs that
	// reach every kind, wide records, many flags and deep nesting.
	for i := range 48 {
		seed := make([]byte, 24)
		for j := range seed {
			seed[j] = byte(i*37 + j*11)
		}
		seed[0] = byte(i)
		f.Add(seed)
	}
	f.Add([]byte{})
	f.Add([]byte{10, 4, 3})                  // record with 4 fields
	f.Add([]byte{10, 0, 7, 0})               // wide record
	f.Add([]byte{21, 3, 0, 31})              // 32 flags
	f.Add([]byte{13, 4, 1, 0, 1, 16, 1, 12}) // variant with option payload
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newChooser(data)
		budget := 24
		typ := c.genType(4, &budget)
		v, w := c.genVal(typ), c.genVal(typ)
		roundTrip(t, typ, v, w)
	})
}
