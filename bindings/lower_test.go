package bindings

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// lowerFunc adapts a function to Lowerer.
type lowerFunc func(w Writer)

func (f lowerFunc) Lower(w Writer) { f(w) }

// Every kind a Writer writes, in a record, a list of them and a tuple:
// what comes back equals the same value built as Vals.
var lowerT = &Type{Kind: KindRecord, Fields: []FieldType{
	{"b", &Type{Kind: KindBool}},
	{"i8", &Type{Kind: KindS8}}, {"u8", &Type{Kind: KindU8}},
	{"i16", &Type{Kind: KindS16}}, {"u16", &Type{Kind: KindU16}},
	{"i32", &Type{Kind: KindS32}}, {"u32", &Type{Kind: KindU32}},
	{"i64", &Type{Kind: KindS64}}, {"u64", &Type{Kind: KindU64}},
	{"f32", &Type{Kind: KindF32}}, {"f64", &Type{Kind: KindF64}},
	{"c", &Type{Kind: KindChar}}, {"s", &Type{Kind: KindString}},
	{"l", &Type{Kind: KindList, Elem: &Type{Kind: KindString}}},
	{"t", &Type{Kind: KindTuple, Elems: []*Type{{Kind: KindU8}, {Kind: KindString}}}},
	{"e", &Type{Kind: KindEnum, Names: []string{"red", "green"}}},
	{"o", &Type{Kind: KindOption, Elem: &Type{Kind: KindString}}},
	{"n", &Type{Kind: KindOption, Elem: &Type{Kind: KindU32}}},
	{"v", &Type{Kind: KindVariant, Cases: []CaseType{{"none", nil}, {"num", &Type{Kind: KindU32}}}}},
	{"w", &Type{Kind: KindVariant, Cases: []CaseType{{"none", nil}, {"num", &Type{Kind: KindU32}}}}},
	{"r", &Type{Kind: KindResult, Ok: &Type{Kind: KindString}, Err: &Type{Kind: KindU8}}},
	{"q", &Type{Kind: KindResult}},
	{"g", &Type{Kind: KindFlags, Names: []string{"x", "y", "z"}}},
}}

var lowerNames = func() []string {
	var n []string
	for _, f := range lowerT.Fields {
		n = append(n, f.Name)
	}
	return n
}()

func lowerVal(i int) Val {
	return Record(lowerNames, []Val{
		Bool(i%2 == 0), S8(-8), U8(200), S16(-16), U16(60000), S32(-32), U32(4000000000),
		S64(-64 * int64(i)), U64(1 << 63), F32(1.5), F64(-2.25), Char('é'), String(strings.Repeat("ü", i)),
		List(String("a"), String("")), Tuple(U8(7), String("t")), Enum("green"),
		Some(String("some")), None(), Variant("none"), VariantWith("num", U32(uint32(i))),
		Ok(String("ok")), ErrEmpty(), Flags("x", "z"),
	})
}

func writeLowerVal(w Writer, i int) {
	p := w.Record(lowerNames)
	p.At(0).Bool(i%2 == 0)
	p.At(1).S8(-8)
	p.At(2).U8(200)
	p.At(3).S16(-16)
	p.At(4).U16(60000)
	p.At(5).S32(-32)
	p.At(6).U32(4000000000)
	p.At(7).S64(-64 * int64(i))
	p.At(8).U64(1 << 63)
	p.At(9).F32(1.5)
	p.At(10).F64(-2.25)
	p.At(11).Char('é')
	p.At(12).String(strings.Repeat("ü", i))
	l := p.At(13).List(2)
	l.At(0).String("a")
	l.At(1).String("")
	t := p.At(14).Tuple(2)
	t.At(0).U8(7)
	t.At(1).String("t")
	p.At(15).Enum("green")
	p.At(16).Some().String("some")
	p.At(17).None()
	p.At(18).Variant("none")
	p.At(19).VariantWith("num").U32(uint32(i))
	p.At(20).ResultWith(true).String("ok")
	p.At(21).Result(false)
	p.At(22).Flags([]string{"x", "z"})
}

func TestLowered(t *testing.T) {
	listT := &Type{Kind: KindList, Elem: lowerT}
	// The host side answers with a Lowered value too.
	env := newIdentityEnv(t, []*Type{lowerT, listT}, func(ctx context.Context, p, r []Val) error {
		r[0] = Lowered(KindRecord, lowerFunc(func(w Writer) { writeLowerVal(w, 3) }))
		return nil
	}, func(ctx context.Context, p, r []Val) error {
		r[0] = Lowered(KindList, lowerFunc(func(w Writer) { w.List(1).At(0).String("\xff") }))
		return nil
	})
	inst := env.inst
	ctx := context.Background()

	one, err := inst.Func("id-a")
	must(t, err)
	got, err := one.Call(ctx, Lowered(KindRecord, lowerFunc(func(w Writer) { writeLowerVal(w, 5) })))
	must(t, err)
	if want := lowerVal(5); !Equal(got, want) {
		t.Fatalf("record:\n got %s\nwant %s", got, want)
	}

	many, err := inst.Func("id-b")
	must(t, err)
	const n = 300 // past the arena's first chunk
	got, err = many.Call(ctx, Lowered(KindList, lowerFunc(func(w Writer) {
		p := w.List(n)
		for i := 0; i < n; i++ {
			writeLowerVal(p.At(i), i)
		}
	})))
	must(t, err)
	if len(got.Elems()) != n {
		t.Fatalf("list of %d, want %d", len(got.Elems()), n)
	}
	for i, v := range got.Elems() {
		if !Equal(v, lowerVal(i)) {
			t.Fatalf("element %d:\n got %s\nwant %s", i, v, lowerVal(i))
		}
	}

	via, err := inst.Func("via-host-a")
	must(t, err)
	got, err = via.Call(ctx, lowerVal(1))
	must(t, err)
	if !Equal(got, lowerVal(3)) {
		t.Fatalf("host result:\n got %s\nwant %s", got, lowerVal(3))
	}
}

// What a Writer refuses never reaches wasmtime (whose C API would abort on
// it): the call fails naming the parameter, and the instance stays usable.
func TestLoweredInvalid(t *testing.T) {
	strT := &Type{Kind: KindString}
	listT := &Type{Kind: KindList, Elem: &Type{Kind: KindChar}}
	env := newIdentityEnv(t, []*Type{strT, listT}, func(ctx context.Context, p, r []Val) error {
		r[0] = Lowered(KindString, lowerFunc(func(w Writer) { w.String("ok\xc3") }))
		return nil
	}, func(ctx context.Context, p, r []Val) error {
		r[0] = Lowered(KindList, lowerFunc(func(w Writer) { panic("result bug") }))
		return nil
	})
	inst, l, s, c := env.inst, env.l, env.s, env.c
	ctx := context.Background()
	id, err := inst.Func("id-a")
	must(t, err)
	_, err = id.Call(ctx, Lowered(KindString, lowerFunc(func(w Writer) { w.String("a\xffb") })))
	var ae *ArgumentError
	if !errors.As(err, &ae) || ae.Param != "x" || !strings.Contains(err.Error(), "invalid UTF-8 at byte 1") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	chars, err := inst.Func("id-b")
	must(t, err)
	_, err = chars.Call(ctx, Lowered(KindList, lowerFunc(func(w Writer) {
		p := w.List(2)
		p.At(0).Char('a')
		p.At(1).Char(0xD800)
	})))
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "U+D800") {
		t.Fatalf("surrogate: %v", err)
	}
	// Names too: a record field, an enum or variant case, a flag.
	for what, write := range map[string]func(Writer){
		"record field": func(w Writer) { w.Record([]string{"ok", "b\xffad"}) },
		"enum case":    func(w Writer) { w.Enum("\xc0") },
		"variant case": func(w Writer) { w.VariantWith("\xe2\x82").U8(1) },
		"flag":         func(w Writer) { w.Flags([]string{"a", "\x80"}) },
	} {
		_, err = id.Call(ctx, Lowered(KindString, lowerFunc(write)))
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), what+" name contains invalid UTF-8") {
			t.Fatalf("invalid %s name: %v", what, err)
		}
	}
	// Nothing ran, nothing broke.
	if v, err := id.Call(ctx, String("fine")); err != nil || v.Str() != "fine" {
		t.Fatalf("after refused calls: %v, %v", v, err)
	}
	// A Lowerer's panic is the caller's, with the store left usable.
	func() {
		defer func() {
			if p := recover(); p != "lowerer bug" {
				t.Fatalf("recovered %v", p)
			}
		}()
		id.Call(ctx, Lowered(KindString, lowerFunc(func(w Writer) { panic("lowerer bug") })))
	}()
	if v, err := id.Call(ctx, String("again")); err != nil || v.Str() != "again" {
		t.Fatalf("after a panicking Lowerer: %v, %v", v, err)
	}
	// A host function's invalid Lowered result traps the guest instead.
	via, err := inst.Func("via-host-a")
	must(t, err)
	if _, err := via.Call(ctx, String("x")); err == nil || !strings.Contains(err.Error(), "host function test:fuzz/host#host-a result: string contains invalid UTF-8") {
		t.Fatalf("host result: %v", err)
	}
	// The guest trapped, so the store is done (wasmtime 44): new stores.
	fresh := func() *Store {
		s2, err := s.Engine().NewStore(StoreOptions{})
		must(t, err)
		t.Cleanup(s2.Close)
		return s2
	}
	inst3, err := l.Instantiate(fresh(), c)
	must(t, err)
	viaB, err := inst3.Func("via-host-b")
	must(t, err)
	var hp *HostPanicError
	if _, err := viaB.Call(ctx, List(Char('a'))); !errors.As(err, &hp) || hp.Value != "result bug" {
		t.Fatalf("panicking result Lowerer: %v", err)
	}
	// A wrong kind is wasmtime's to find: an error, not a crash.
	inst2, err := l.Instantiate(fresh(), c)
	must(t, err)
	id2, err := inst2.Func("id-a")
	must(t, err)
	if _, err := id2.Call(ctx, Lowered(KindString, lowerFunc(func(w Writer) { w.U32(1) }))); err == nil {
		t.Fatal("u32 written for a string accepted")
	}
}

func TestLoweredHasNoContent(t *testing.T) {
	v := Lowered(KindList, lowerFunc(func(Writer) {}))
	if v.String() != "<lowered list>" {
		t.Errorf("String: %s", v)
	}
	defer func() {
		if recover() == nil {
			t.Error("Elems of a Lowered value did not panic")
		}
	}()
	v.Elems()
}

// BenchmarkLowered: the record round trip of BenchmarkRecord, its argument
// written by a Lowerer instead of built as Vals.
func BenchmarkLowered(b *testing.B) {
	env := benchSetup(b)
	f := benchFunc(b, env.ident, "id-a")
	ctx := context.Background()
	arg := Lowered(KindRecord, lowerFunc(func(w Writer) {
		p := w.Record([]string{"id", "name", "score", "tags", "done"})
		p.At(0).U64(42)
		p.At(1).String("driftless")
		p.At(2).F64(0.5)
		t := p.At(3).List(2)
		t.At(0).String("a")
		t.At(1).String("bc")
		p.At(4).Bool(true)
	}))
	got, err := f.Call(ctx, arg)
	if err != nil || !Equal(got, benchRecord) {
		b.Fatalf("%v, %v", got, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Call(ctx, arg); err != nil {
			b.Fatal(err)
		}
	}
}

// identityEnv is an identity component for types (see identityWAT) with
// its host functions host-a and host-b, instantiated in a new store.
type identityEnv struct {
	l    *Linker
	s    *Store
	c    *Component
	inst *Instance
}

func newIdentityEnv(t *testing.T, types []*Type, hostA, hostB HostFunc) *identityEnv {
	t.Helper()
	e, err := NewEngine(EngineConfig{})
	must(t, err)
	c := compileWAT(t, e, identityWAT(types))
	l := e.NewLinker()
	must(t, l.Instance("test:fuzz/host").DefineFunc("host-a", hostA))
	must(t, l.Instance("test:fuzz/host").DefineFunc("host-b", hostB))
	s, err := e.NewStore(StoreOptions{})
	must(t, err)
	t.Cleanup(s.Close)
	inst, err := l.Instantiate(s, c)
	must(t, err)
	return &identityEnv{l, s, c, inst}
}

// readLowerVal reads what writeLowerVal wrote, through a Reader, into the
// Val the test compares.
func readLowerVal(r Reader) Val {
	var vals []Val
	vals = append(vals, Bool(r.At(0).Bool()), S8(r.At(1).S8()), U8(r.At(2).U8()), S16(r.At(3).S16()),
		U16(r.At(4).U16()), S32(r.At(5).S32()), U32(r.At(6).U32()), S64(r.At(7).S64()), U64(r.At(8).U64()),
		F32(r.At(9).F32()), F64(r.At(10).F64()), Char(r.At(11).Char()), String(r.At(12).String()))
	l := r.At(13)
	vals = append(vals, List(String(l.At(0).String()), String(l.At(1).String())))
	t := r.At(14)
	vals = append(vals, Tuple(U8(t.At(0).U8()), String(t.At(1).String())))
	vals = append(vals, Enum([]string{"red", "green"}[r.At(15).Case([]string{"red", "green"})]))
	o, _ := r.At(16).Payload()
	vals = append(vals, Some(String(o.String())))
	if r.At(17).IsSome() {
		panic("none read as some")
	}
	vals = append(vals, None())
	cases := []string{"none", "num"}
	if _, has := r.At(18).Payload(); has || r.At(18).Case(cases) != 0 {
		panic("variant none")
	}
	vals = append(vals, Variant("none"))
	p, _ := r.At(19).Payload()
	vals = append(vals, VariantWith(cases[r.At(19).Case(cases)], U32(p.U32())))
	rp, _ := r.At(20).Payload()
	if !r.At(20).IsOk() || r.At(21).IsOk() {
		panic("result cases")
	}
	vals = append(vals, Ok(String(rp.String())), ErrEmpty())
	var set []string
	for i, n := range []string{"x", "y", "z"} {
		if r.At(22).Flags([]string{"x", "y", "z"})&(1<<i) != 0 {
			set = append(set, n)
		}
	}
	vals = append(vals, Flags(set...))
	return Record(lowerNames, vals)
}

func TestCallRead(t *testing.T) {
	listT := &Type{Kind: KindList, Elem: lowerT}
	echo := func(ctx context.Context, p, r []Val) error {
		r[0] = p[0]
		return nil
	}
	inst := newIdentityEnv(t, []*Type{lowerT, listT}, echo, echo).inst
	ctx := context.Background()
	many, err := inst.Func("id-b")
	must(t, err)
	const n = 50
	arg := Lowered(KindList, lowerFunc(func(w Writer) {
		p := w.List(n)
		for i := range n {
			writeLowerVal(p.At(i), i)
		}
	}))
	var got []Val
	must(t, many.CallRead(ctx, func(r Reader) error {
		for i := range r.Len() {
			got = append(got, readLowerVal(r.At(i)))
		}
		return nil
	}, arg))
	if len(got) != n {
		t.Fatalf("read %d elements", len(got))
	}
	for i := range got {
		if !Equal(got[i], lowerVal(i)) {
			t.Fatalf("element %d:\n got %s\nwant %s", i, got[i], lowerVal(i))
		}
	}
	// A reader expecting another kind, or failing, fails the call; the
	// instance stays usable.
	err = many.CallRead(ctx, func(r Reader) error { _ = r.String(); return nil }, arg)
	if err == nil || !strings.Contains(err.Error(), "reading the result of id-b: string read from a list value") {
		t.Fatalf("wrong kind: %v", err)
	}
	errMine := errors.New("mine")
	if err := many.CallRead(ctx, func(r Reader) error { return errMine }, arg); err != errMine {
		t.Fatalf("reader's error: %v", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "reader bug" {
				t.Fatalf("recovered %v", p)
			}
		}()
		many.CallRead(ctx, func(r Reader) error { panic("reader bug") }, arg)
	}()
	if v, err := many.Call(ctx, List()); err != nil || len(v.Elems()) != 0 {
		t.Fatalf("after failed reads: %v, %v", v, err)
	}
}

// Record field names come from a table the arena keeps per names slice: a
// slice changed in place between calls gets its new names, and an arena
// full of tables still writes records right.
func TestRecordNameTables(t *testing.T) {
	ptT := &Type{Kind: KindRecord, Fields: []FieldType{{"x", &Type{Kind: KindU32}}, {"y", &Type{Kind: KindU32}}}}
	echo := func(ctx context.Context, p, r []Val) error { r[0] = p[0]; return nil }
	env := newIdentityEnv(t, []*Type{ptT}, echo, echo)
	id, err := env.inst.Func("id-a")
	must(t, err)
	ctx := context.Background()
	names := []string{"x", "y"}
	write := func(x, y uint32) Val {
		return Lowered(KindRecord, lowerFunc(func(w Writer) {
			p := w.Record(names)
			p.At(0).U32(x)
			p.At(1).U32(y)
		}))
	}
	want := func(x, y uint32) Val { return Record([]string{"x", "y"}, []Val{U32(x), U32(y)}) }
	for i := range uint32(3) {
		if v, err := id.Call(ctx, write(i, i+1)); err != nil || !Equal(v, want(i, i+1)) {
			t.Fatalf("call %d: %v, %v", i, v, err)
		}
	}
	if n := len(env.s.arena.tables); n != 1 {
		t.Fatalf("%d name tables after three records of one type, want 1", n)
	}
	// The same slice, other names: wasmtime sees the new ones (and refuses
	// them, the type has x and y).
	names[1] = "z"
	if _, err := id.Call(ctx, write(1, 2)); err == nil {
		t.Fatal("a record with field z was accepted for {x, y}")
	}
	names[1] = "y"
	inst, err := env.l.Instantiate(env.s, env.c) // the failed call left the instance unusable
	must(t, err)
	if id, err = inst.Func("id-a"); err != nil {
		t.Fatal(err)
	}
	if v, err := id.Call(ctx, write(4, 5)); err != nil || !Equal(v, want(4, 5)) {
		t.Fatalf("names restored: %v, %v", v, err)
	}
	// Invalid UTF-8 is never kept as a table, and still refused (before
	// wasmtime: the instance stays usable).
	bad := []string{"x", "\xff"}
	_, err = id.Call(ctx, Lowered(KindRecord, lowerFunc(func(w Writer) { w.Record(bad) })))
	if err == nil || !strings.Contains(err.Error(), "record field name contains invalid UTF-8") {
		t.Fatalf("invalid name: %v", err)
	}
	if n := len(env.s.arena.tables); n != 1 {
		t.Fatalf("%d name tables after an invalid one, want 1", n)
	}
	// A full arena copies names per record instead.
	for range maxNameTables {
		own := []string{"x", "y"}
		if _, err := id.Call(ctx, Lowered(KindRecord, lowerFunc(func(w Writer) {
			p := w.Record(own)
			p.At(0).U32(1)
			p.At(1).U32(2)
		}))); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(env.s.arena.tables); n != maxNameTables {
		t.Fatalf("%d name tables, want the cap %d", n, maxNameTables)
	}
	if v, err := id.Call(ctx, Lowered(KindRecord, lowerFunc(func(w Writer) {
		p := w.Record([]string{"x", "y"})
		p.At(0).U32(7)
		p.At(1).U32(8)
	}))); err != nil || !Equal(v, want(7, 8)) {
		t.Fatalf("past the cap: %v, %v", v, err)
	}
}
