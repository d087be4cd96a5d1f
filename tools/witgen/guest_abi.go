package main

// Lifting and lowering for the Go guest bindings: Go code that reads WIT
// values from linear memory or core (flat) values and writes them back, in
// the canonical ABI's 32-bit layout. Sizes, alignments and flattenings are
// go.bytecodealliance.org/wit's.
//
// Memory is read and written through the generated helpers liftX(addr) and
// lowerX(pins, v, addr), one per type and file; flat values are converted
// inline by liftFlat and lowerFlat, which return Go statements and the
// expressions of the result.

import (
	"fmt"
	"strings"

	"go.bytecodealliance.org/wit"
)

// core is a core wasm value type.
type core int

const (
	cI32 core = iota
	cI64
	cF32
	cF64
)

// goType is the Go type the glue uses for a core value.
func (c core) goType() string {
	return [...]string{"uint32", "uint64", "float32", "float64"}[c]
}

func coreOf(t wit.Type) core {
	switch t := t.(type) {
	case wit.U64, wit.S64:
		return cI64
	case wit.F32:
		return cF32
	case wit.F64:
		return cF64
	case *wit.TypeDef:
		if _, ok := t.Kind.(*wit.Pointer); ok {
			return cI32
		}
	}
	return cI32
}

// flat returns the core values t flattens to.
func flat(t wit.Type) []core {
	var out []core
	for _, c := range t.Flat() {
		out = append(out, coreOf(c))
	}
	return out
}

func size(t wit.Type) uint32  { return uint32(t.Size()) }
func align(t wit.Type) uint32 { return uint32(t.Align()) }

func alignTo(n, a uint32) uint32 { return (n + a - 1) &^ (a - 1) }

// cases returns the payload types of a variant-like kind (variant, option,
// result, enum), nil for a case without one.
func cases(k wit.TypeDefKind) []wit.Type {
	switch k := k.(type) {
	case *wit.Variant:
		var out []wit.Type
		for _, c := range k.Cases {
			out = append(out, c.Type)
		}
		return out
	case *wit.Option:
		return []wit.Type{nil, k.Type}
	case *wit.Result:
		return []wit.Type{k.OK, k.Err}
	case *wit.Enum:
		return make([]wit.Type, len(k.Cases))
	}
	return nil
}

func discSize(n int) uint32 { return uint32(wit.Discriminant(n).Size()) }

// payloadOffset is where the payload of a variant-like value starts.
func payloadOffset(cs []wit.Type) uint32 {
	a := uint32(1)
	for _, c := range cs {
		if c != nil {
			a = max(a, align(c))
		}
	}
	return alignTo(discSize(len(cs)), a)
}

// joined returns the core values of a variant-like kind after its
// discriminant.
func joined(cs []wit.Type) []core {
	var out []core
	for _, c := range cs {
		if c == nil {
			continue
		}
		for i, x := range flat(c) {
			if i >= len(out) {
				out = append(out, x)
			} else if out[i] != x {
				if (out[i] == cI32 || out[i] == cF32) && (x == cI32 || x == cF32) {
					out[i] = cI32
				} else {
					out[i] = cI64
				}
			}
		}
	}
	return out
}

// off renders addr+n.
func off(addr string, n uint32) string {
	if n == 0 {
		return addr
	}
	return fmt.Sprintf("%s+%d", addr, n)
}

func (f *guestFile) cabi() string { return f.std("cabi") }

func (f *guestFile) temp(base string) string {
	f.tmp++
	return fmt.Sprintf("%s_%d", base, f.tmp)
}

// key names the helpers of type t seen from side sd.
func (f *guestFile) key(t wit.Type, sd side) string {
	switch t := t.(type) {
	case *wit.TypeDef:
		if isNamed(t) {
			t = useTarget(t)
			root := namedRoot(t)
			if isResource(root) {
				pre := "H"
				if f.gg.isExportedResource(root, sd) {
					pre = "R"
				}
				return pre + f.gg.declPkg(root).name + "_" + f.gg.declPkg(root).model.typeNames[root]
			}
			switch k := t.Kind.(type) {
			case *wit.Record, *wit.Variant, *wit.Enum, *wit.Flags:
				return f.gg.declPkg(t).name + "_" + f.gg.declPkg(t).model.typeNames[t]
			case *wit.TypeDef:
				return f.key(k, sd)
			}
		}
		switch k := t.Kind.(type) {
		case wit.Type:
			return f.key(k, sd)
		case *wit.List:
			return "List" + f.key(k.Type, sd)
		case *wit.Option:
			return "Option" + f.key(k.Type, sd)
		case *wit.Tuple:
			var parts []string
			for _, e := range k.Types {
				parts = append(parts, f.key(e, sd))
			}
			return fmt.Sprintf("Tuple%d_%s_", len(k.Types), strings.Join(parts, "_"))
		case *wit.Result:
			ok, err := "_", "_"
			if k.OK != nil {
				ok = f.key(k.OK, sd)
			}
			if k.Err != nil {
				err = f.key(k.Err, sd)
			}
			return "Result_" + ok + "_" + err + "_"
		case *wit.Own:
			return f.key(k.Type, sd)
		case *wit.Borrow:
			return "Borrow" + f.key(k.Type, sd)
		}
		panic(fmt.Sprintf("witgen: %s is not supported by the Go guest bindings", witTypeString(t)))
	case nil:
		return "_"
	}
	return witPrimitive(t)
}

// ---------------------------------------------------------------------------
// Memory

// load returns an expression of t's Go type reading a value of t at addr.
func (f *guestFile) load(t wit.Type, sd side, addr string) string {
	c := f.cabi()
	switch k := kindOf(t).(type) {
	case wit.Bool:
		return fmt.Sprintf("(%s.Load8(%s) != 0)", c, addr)
	case wit.S8:
		return fmt.Sprintf("int8(%s.Load8(%s))", c, addr)
	case wit.U8:
		return fmt.Sprintf("%s.Load8(%s)", c, addr)
	case wit.S16:
		return fmt.Sprintf("int16(%s.Load16(%s))", c, addr)
	case wit.U16:
		return fmt.Sprintf("%s.Load16(%s)", c, addr)
	case wit.S32:
		return fmt.Sprintf("int32(%s.Load32(%s))", c, addr)
	case wit.U32:
		return fmt.Sprintf("%s.Load32(%s)", c, addr)
	case wit.S64:
		return fmt.Sprintf("int64(%s.Load64(%s))", c, addr)
	case wit.U64:
		return fmt.Sprintf("%s.Load64(%s)", c, addr)
	case wit.F32:
		return fmt.Sprintf("%s.LoadF32(%s)", c, addr)
	case wit.F64:
		return fmt.Sprintf("%s.LoadF64(%s)", c, addr)
	case wit.Char:
		return fmt.Sprintf("%s.Char(%s.Load32(%s))", c, c, addr)
	case wit.String:
		return fmt.Sprintf("%s.String(%s.Load32(%s), %s.Load32(%s))", c, c, addr, c, off(addr, 4))
	case *wit.Enum:
		return f.liftEnum(t, fmt.Sprintf("uint32(%s)", f.loadDisc(len(k.Cases), addr)))
	case *wit.Flags:
		return f.liftFlags(t, f.loadFlags(len(k.Flags), addr))
	case *wit.Own, *wit.Borrow, *wit.Resource:
		return f.liftHandle(t, sd, fmt.Sprintf("%s.Load32(%s)", c, addr))
	case *wit.List:
		return fmt.Sprintf("%s(%s.Load32(%s), %s.Load32(%s))", f.liftList(t, sd), c, addr, c, off(addr, 4))
	}
	return fmt.Sprintf("%s(%s)", f.liftMem(t, sd), addr)
}

// loadDisc reads the discriminant of a variant-like value with n cases.
func (f *guestFile) loadDisc(n int, addr string) string {
	switch discSize(n) {
	case 1:
		return fmt.Sprintf("%s.Load8(%s)", f.cabi(), addr)
	case 2:
		return fmt.Sprintf("%s.Load16(%s)", f.cabi(), addr)
	}
	return fmt.Sprintf("%s.Load32(%s)", f.cabi(), addr)
}

func (f *guestFile) storeDisc(n int, addr string, v string) string {
	switch discSize(n) {
	case 1:
		return fmt.Sprintf("%s.Store8(%s, uint8(%s))", f.cabi(), addr, v)
	case 2:
		return fmt.Sprintf("%s.Store16(%s, uint16(%s))", f.cabi(), addr, v)
	}
	return fmt.Sprintf("%s.Store32(%s, uint32(%s))", f.cabi(), addr, v)
}

// loadFlags reads flags with n flags as a uint64 expression.
func (f *guestFile) loadFlags(n int, addr string) string {
	c := f.cabi()
	switch {
	case n <= 8:
		return fmt.Sprintf("uint64(%s.Load8(%s))", c, addr)
	case n <= 16:
		return fmt.Sprintf("uint64(%s.Load16(%s))", c, addr)
	case n <= 32:
		return fmt.Sprintf("uint64(%s.Load32(%s))", c, addr)
	}
	return fmt.Sprintf("(uint64(%s.Load32(%s)) | uint64(%s.Load32(%s))<<32)", c, addr, c, off(addr, 4))
}

func (f *guestFile) liftEnum(t wit.Type, v string) string {
	k := kindOf(t).(*wit.Enum)
	return fmt.Sprintf("%s(%s.Discriminant(%q, %s, %d))", f.goType(t, importSide), f.cabi(), witTypeString(t), v, len(k.Cases))
}

func (f *guestFile) liftFlags(t wit.Type, v string) string {
	n := len(kindOf(t).(*wit.Flags).Flags)
	mask := uint64(1)<<n - 1
	if n == 64 {
		mask = ^uint64(0)
	}
	return fmt.Sprintf("%s(%s.FlagBits(%q, %s, %#x))", f.goType(t, importSide), f.cabi(), witTypeString(t), v, mask)
}

// liftMem returns the name of the helper reading a value of a compound t.
func (f *guestFile) liftMem(t wit.Type, sd side) string {
	name := "lift" + f.key(t, sd)
	if _, ok := f.helpers[name]; ok {
		return name
	}
	f.helper(name, "") // reserve against recursion
	gt := f.goType(t, sd)
	var b strings.Builder
	fmt.Fprintf(&b, "func %s(a uint32) (v %s) {\n", name, gt)
	switch k := kindOf(t).(type) {
	case *wit.Record:
		td := resolveAlias(t).(*wit.TypeDef)
		m := f.gg.declPkg(td).model
		o := uint32(0)
		for i, fld := range k.Fields {
			o = alignTo(o, align(fld.Type))
			fmt.Fprintf(&b, "v.%s = %s\n", m.fieldName[td][i], f.load(fld.Type, sd, off("a", o)))
			o += size(fld.Type)
		}
	case *wit.Tuple:
		o := uint32(0)
		for i, e := range k.Types {
			o = alignTo(o, align(e))
			fmt.Fprintf(&b, "v.F%d = %s\n", i, f.load(e, sd, off("a", o)))
			o += size(e)
		}
	case *wit.Variant, *wit.Option, *wit.Result:
		cs := cases(k)
		po := payloadOffset(cs)
		fmt.Fprintf(&b, "switch %s.Discriminant(%q, uint32(%s), %d) {\n", f.cabi(), witTypeString(t), f.loadDisc(len(cs), "a"), len(cs))
		for i, c := range cs {
			fmt.Fprintf(&b, "case %d:\n", i)
			payload := ""
			if c != nil {
				payload = f.load(c, sd, off("a", po))
			}
			b.WriteString(f.makeCase(t, sd, i, payload, "v"))
		}
		b.WriteString("}\n")
	default:
		panic(fmt.Sprintf("witgen: cannot lift %s", witTypeString(t)))
	}
	b.WriteString("return\n}")
	f.helpers[name] = b.String()
	return name
}

// makeCase returns statements setting target to case i of variant-like t
// with the payload expression (empty without one).
func (f *guestFile) makeCase(t wit.Type, sd side, i int, payload, target string) string {
	switch kindOf(t).(type) {
	case *wit.Variant:
		td := resolveAlias(t).(*wit.TypeDef)
		cn := f.pkgRef(f.gg.declPkg(td)) + f.gg.declPkg(td).model.caseNames[td][i]
		if payload == "" {
			return fmt.Sprintf("%s = %s{}\n", target, cn)
		}
		return fmt.Sprintf("%s = %s{Value: %s}\n", target, cn, payload)
	case *wit.Option:
		if i == 0 {
			return fmt.Sprintf("%s = %s.None[%s]()\n", target, f.std("cm"), f.goType(kindOf(t).(*wit.Option).Type, sd))
		}
		return fmt.Sprintf("%s = %s.Some(%s)\n", target, f.std("cm"), payload)
	case *wit.Result:
		if i == 0 {
			if payload == "" {
				return ""
			}
			return fmt.Sprintf("%s.OK = %s\n", target, payload)
		}
		s := fmt.Sprintf("%s.IsErr = true\n", target)
		if payload != "" {
			s += fmt.Sprintf("%s.Err = %s\n", target, payload)
		}
		return s
	}
	panic("witgen: not a variant")
}

// liftList returns the name of the helper lifting a list<T> from its
// address and length.
func (f *guestFile) liftList(t wit.Type, sd side) string {
	name := "lift" + f.key(t, sd)
	if _, ok := f.helpers[name]; ok {
		return name
	}
	f.helper(name, "")
	elem := kindOf(t).(*wit.List).Type
	ge := f.goType(elem, sd)
	var b strings.Builder
	fmt.Fprintf(&b, "func %s(p, n uint32) []%s {\n", name, ge)
	if sharedLayout(elem) {
		// The memory cabi_realloc allocated becomes the slice.
		fmt.Fprintf(&b, "return %s.Slice[%s](p, n)\n}", f.cabi(), ge)
	} else {
		fmt.Fprintf(&b, "if n == 0 {\nreturn nil\n}\nv := make([]%s, n)\nfor i := range v {\nv[i] = %s\n}\nreturn v\n}",
			ge, f.load(elem, sd, fmt.Sprintf("p+uint32(i)*%d", size(elem))))
	}
	f.helpers[name] = b.String()
	return name
}

// sharedLayout reports whether a list of t has the same layout in Go and
// in the canonical ABI, and every bit pattern is a valid t.
func sharedLayout(t wit.Type) bool {
	switch kindOf(t).(type) {
	case wit.S8, wit.U8, wit.S16, wit.U16, wit.S32, wit.U32, wit.S64, wit.U64, wit.F32, wit.F64:
		return true
	}
	return false
}

// store returns a statement writing v (of t's Go type) at addr.
func (f *guestFile) store(t wit.Type, sd side, v, addr string) string {
	c := f.cabi()
	switch k := kindOf(t).(type) {
	case wit.Bool:
		return fmt.Sprintf("%s.Store8(%s, uint8(%s.B2U(%s)))", c, addr, c, v)
	case wit.S8, wit.U8:
		return fmt.Sprintf("%s.Store8(%s, uint8(%s))", c, addr, v)
	case wit.S16, wit.U16:
		return fmt.Sprintf("%s.Store16(%s, uint16(%s))", c, addr, v)
	case wit.S32, wit.U32, wit.Char:
		return fmt.Sprintf("%s.Store32(%s, uint32(%s))", c, addr, v)
	case wit.S64, wit.U64:
		return fmt.Sprintf("%s.Store64(%s, uint64(%s))", c, addr, v)
	case wit.F32:
		return fmt.Sprintf("%s.StoreF32(%s, %s)", c, addr, v)
	case wit.F64:
		return fmt.Sprintf("%s.StoreF64(%s, %s)", c, addr, v)
	case wit.String:
		return fmt.Sprintf("pins.StoreString(%s, %s)", addr, v)
	case *wit.Enum:
		return f.storeDisc(len(k.Cases), addr, f.lowerEnum(t, v))
	case *wit.Flags:
		n := len(k.Flags)
		x := f.lowerFlags(t, v)
		switch {
		case n <= 8:
			return fmt.Sprintf("%s.Store8(%s, uint8(%s))", c, addr, x)
		case n <= 16:
			return fmt.Sprintf("%s.Store16(%s, uint16(%s))", c, addr, x)
		case n <= 32:
			return fmt.Sprintf("%s.Store32(%s, uint32(%s))", c, addr, x)
		}
		return fmt.Sprintf("%s.Store64(%s, %s)", c, addr, x)
	case *wit.Own, *wit.Borrow, *wit.Resource:
		return fmt.Sprintf("%s.Store32(%s, %s)", c, addr, f.lowerHandle(t, sd, v))
	case *wit.List:
		p, n := f.temp("p"), f.temp("n")
		return fmt.Sprintf("{\n%s, %s := %s(pins, %s)\n%s.Store32(%s, %s)\n%s.Store32(%s, %s)\n}", p, n, f.lowerList(t, sd), v, c, addr, p, c, off(addr, 4), n)
	}
	return fmt.Sprintf("%s(pins, %s, %s)", f.lowerMem(t, sd), v, addr)
}

func (f *guestFile) lowerEnum(t wit.Type, v string) string {
	k := kindOf(t).(*wit.Enum)
	return fmt.Sprintf("%s.Discriminant(%q, uint32(%s), %d)", f.cabi(), witTypeString(t), v, len(k.Cases))
}

// lowerFlags returns a uint64 expression of flags v, trapping on bits of no
// flag.
func (f *guestFile) lowerFlags(t wit.Type, v string) string {
	n := len(kindOf(t).(*wit.Flags).Flags)
	mask := uint64(1)<<n - 1
	if n == 64 {
		mask = ^uint64(0)
	}
	return fmt.Sprintf("%s.FlagBits(%q, uint64(%s), %#x)", f.cabi(), witTypeString(t), v, mask)
}

// lowerMem returns the name of the helper writing a value of a compound t.
func (f *guestFile) lowerMem(t wit.Type, sd side) string {
	name := "lower" + f.key(t, sd)
	if _, ok := f.helpers[name]; ok {
		return name
	}
	f.helper(name, "")
	gt := f.goType(t, sd)
	var b strings.Builder
	fmt.Fprintf(&b, "func %s(pins *%s.Pins, v %s, a uint32) {\n", name, f.cabi(), gt)
	switch k := kindOf(t).(type) {
	case *wit.Record:
		td := resolveAlias(t).(*wit.TypeDef)
		m := f.gg.declPkg(td).model
		o := uint32(0)
		for i, fld := range k.Fields {
			o = alignTo(o, align(fld.Type))
			b.WriteString(f.store(fld.Type, sd, "v."+m.fieldName[td][i], off("a", o)) + "\n")
			o += size(fld.Type)
		}
	case *wit.Tuple:
		o := uint32(0)
		for i, e := range k.Types {
			o = alignTo(o, align(e))
			b.WriteString(f.store(e, sd, fmt.Sprintf("v.F%d", i), off("a", o)) + "\n")
			o += size(e)
		}
	case *wit.Variant, *wit.Option, *wit.Result:
		cs := cases(k)
		po := payloadOffset(cs)
		b.WriteString(f.switchCases(t, sd, "v", func(i int, payload string) string {
			s := f.storeDisc(len(cs), "a", fmt.Sprint(i)) + "\n"
			if payload != "" {
				s += f.store(cs[i], sd, payload, off("a", po)) + "\n"
			}
			return s
		}))
	default:
		panic(fmt.Sprintf("witgen: cannot lower %s", witTypeString(t)))
	}
	b.WriteString("}")
	f.helpers[name] = b.String()
	return name
}

// switchCases returns a statement that runs the code body returns for the
// case of variant-like value v, with the expression of its payload.
func (f *guestFile) switchCases(t wit.Type, sd side, v string, body func(i int, payload string) string) string {
	var b strings.Builder
	switch k := kindOf(t).(type) {
	case *wit.Variant:
		td := resolveAlias(t).(*wit.TypeDef)
		q := f.gg.declPkg(td)
		c := f.temp("c")
		fmt.Fprintf(&b, "switch %s := %s.(type) {\n", c, v)
		for i, cs := range k.Cases {
			fmt.Fprintf(&b, "case %s%s:\n", f.pkgRef(q), q.model.caseNames[td][i])
			payload := ""
			if cs.Type != nil {
				payload = c + ".Value"
			}
			b.WriteString(body(i, payload))
		}
		fmt.Fprintf(&b, "default:\n_ = %s\npanic(%s.Sprintf(\"%%T is not a case of %s\", %s))\n}\n", c, f.std("fmt"), witTypeString(t), v)
	case *wit.Option:
		s := f.temp("some")
		o := f.temp("opt")
		fmt.Fprintf(&b, "%s := %s\nif %s := %s.Some(); %s != nil {\n%s} else {\n%s}\n", o, v, s, o, s, body(1, "*"+s), body(0, ""))
	case *wit.Result:
		okPayload, errPayload := "", ""
		if k.OK != nil {
			okPayload = v + ".OK"
		}
		if k.Err != nil {
			errPayload = v + ".Err"
		}
		fmt.Fprintf(&b, "if %s.IsErr {\n%s} else {\n%s}\n", v, body(1, errPayload), body(0, okPayload))
	}
	return b.String()
}

// lowerList returns the name of the helper lowering a list: it returns the
// address and length.
func (f *guestFile) lowerList(t wit.Type, sd side) string {
	name := "lower" + f.key(t, sd)
	if _, ok := f.helpers[name]; ok {
		return name
	}
	f.helper(name, "")
	elem := kindOf(t).(*wit.List).Type
	ge := f.goType(elem, sd)
	c := f.cabi()
	var b strings.Builder
	fmt.Fprintf(&b, "func %s(pins *%s.Pins, v []%s) (uint32, uint32) {\n", name, c, ge)
	switch kindOf(elem).(type) {
	case wit.S8, wit.U8, wit.S16, wit.U16, wit.S32, wit.U32, wit.S64, wit.U64, wit.F32, wit.F64, wit.Bool, wit.Char:
		// Go's layout is the canonical one: the host reads the slice.
		fmt.Fprintf(&b, "return %s.SliceOf(pins, v)\n}", c)
	default:
		fmt.Fprintf(&b, "if len(v) == 0 {\nreturn 0, 0\n}\np := pins.Alloc(%s.ListBytes(len(v), %d), %d)\nfor i := range v {\n%s\n}\nreturn p, uint32(len(v))\n}",
			c, size(elem), align(elem), f.store(elem, sd, "v[i]", fmt.Sprintf("p+uint32(i)*%d", size(elem))))
	}
	f.helpers[name] = b.String()
	return name
}

// ---------------------------------------------------------------------------
// Resources

// liftHandle returns the Go value of resource handle (or, for a borrow of
// an exported resource, rep) v: an own or borrow of t seen from side sd.
func (f *guestFile) liftHandle(t wit.Type, sd side, v string) string {
	r, borrow := handleOf(t)
	gt := f.resourceType(r, sd)
	if f.gg.isExportedResource(r, sd) {
		n := f.gg.resName[r]
		if borrow {
			return fmt.Sprintf("%s.%sFromRep(%s).(%s)", f.cabi(), n, v, gt)
		}
		return fmt.Sprintf("%s.Take%s(%s).(%s)", f.cabi(), n, v, gt)
	}
	if borrow {
		// A borrowed handle the component must drop before it returns.
		return fmt.Sprintf("%s.Borrow(%s(%s)).(%s)", f.cabi(), gt, v, gt)
	}
	return fmt.Sprintf("%s(%s)", gt, v)
}

// lowerHandle returns the uint32 handle passing Go value v as t.
func (f *guestFile) lowerHandle(t wit.Type, sd side, v string) string {
	r, borrow := handleOf(t)
	if f.gg.isExportedResource(r, sd) {
		if borrow {
			panic("witgen: a borrow of an exported resource cannot be passed out")
		}
		return fmt.Sprintf("%s.New%s(%s)", f.cabi(), f.gg.resName[r], v)
	}
	return fmt.Sprintf("uint32(%s)", v)
}

// handleOf returns the resource of an own or borrow type and whether it is
// a borrow.
func handleOf(t wit.Type) (*wit.TypeDef, bool) {
	switch k := kindOf(t).(type) {
	case *wit.Own:
		return namedRoot(k.Type), false
	case *wit.Borrow:
		return namedRoot(k.Type), true
	case *wit.Resource:
		return namedRoot(resolveAlias(t).(*wit.TypeDef)), false
	}
	panic(fmt.Sprintf("witgen: %s is not a handle", witTypeString(t)))
}

// ---------------------------------------------------------------------------
// Flat values

// flatVal is a core value in the glue: a Go expression of core type c.
type flatVal struct {
	expr string
	c    core
}

// convFlat converts core value v to core type want (a variant's payload
// slot holds its cases' values joined).
func (f *guestFile) convFlat(v flatVal, want core) string {
	if v.c == want {
		return v.expr
	}
	c := f.cabi()
	switch {
	case v.c == cI64 && want == cI32:
		return "uint32(" + v.expr + ")"
	case v.c == cI64 && want == cF32:
		return c + ".F32(uint32(" + v.expr + "))"
	case v.c == cI64 && want == cF64:
		return c + ".F64(" + v.expr + ")"
	case v.c == cI32 && want == cF32:
		return c + ".F32(" + v.expr + ")"
	}
	panic(fmt.Sprintf("witgen: cannot convert core %v to %v", v.c, want))
}

// widenFlat converts value e of core type have to a joined slot of type want.
func (f *guestFile) widenFlat(e string, have, want core) string {
	if have == want {
		return e
	}
	c := f.cabi()
	switch {
	case have == cI32 && want == cI64:
		return "uint64(" + e + ")"
	case have == cF32 && want == cI32:
		return c + ".F32Bits(" + e + ")"
	case have == cF32 && want == cI64:
		return "uint64(" + c + ".F32Bits(" + e + "))"
	case have == cF64 && want == cI64:
		return c + ".F64Bits(" + e + ")"
	}
	panic(fmt.Sprintf("witgen: cannot widen core %v to %v", have, want))
}

// liftFlat returns statements and a Go expression of t's Go type lifting t
// from the core values vals (exactly as many as t flattens to).
func (f *guestFile) liftFlat(t wit.Type, sd side, vals []flatVal) (pre, expr string) {
	want := flat(t)
	if len(want) != len(vals) {
		panic(fmt.Sprintf("witgen: %s flattens to %d values, got %d", witTypeString(t), len(want), len(vals)))
	}
	v := func(i int) string { return f.convFlat(vals[i], want[i]) }
	c := f.cabi()
	switch k := kindOf(t).(type) {
	case wit.Bool:
		return "", c + ".Bool(" + v(0) + ")"
	case wit.S8:
		return "", "int8(" + v(0) + ")"
	case wit.U8:
		return "", "uint8(" + v(0) + ")"
	case wit.S16:
		return "", "int16(" + v(0) + ")"
	case wit.U16:
		return "", "uint16(" + v(0) + ")"
	case wit.S32:
		return "", "int32(" + v(0) + ")"
	case wit.U32:
		return "", v(0)
	case wit.S64:
		return "", "int64(" + v(0) + ")"
	case wit.U64, wit.F32, wit.F64:
		return "", v(0)
	case wit.Char:
		return "", c + ".Char(" + v(0) + ")"
	case wit.String:
		return "", fmt.Sprintf("%s.String(%s, %s)", c, v(0), v(1))
	case *wit.List:
		return "", fmt.Sprintf("%s(%s, %s)", f.liftList(t, sd), v(0), v(1))
	case *wit.Enum:
		return "", f.liftEnum(t, v(0))
	case *wit.Flags:
		if len(vals) == 2 {
			return "", f.liftFlags(t, fmt.Sprintf("uint64(%s) | uint64(%s)<<32", v(0), v(1)))
		}
		return "", f.liftFlags(t, "uint64("+v(0)+")")
	case *wit.Own, *wit.Borrow, *wit.Resource:
		return "", f.liftHandle(t, sd, v(0))
	case *wit.Record, *wit.Tuple:
		var elems []wit.Type
		var fields []string
		switch k := k.(type) {
		case *wit.Record:
			td := resolveAlias(t).(*wit.TypeDef)
			for i, fld := range k.Fields {
				elems = append(elems, fld.Type)
				fields = append(fields, f.gg.declPkg(td).model.fieldName[td][i])
			}
		case *wit.Tuple:
			elems = k.Types
			for i := range k.Types {
				fields = append(fields, fmt.Sprintf("F%d", i))
			}
		}
		var b strings.Builder
		var inits []string
		i := 0
		for j, e := range elems {
			n := len(flat(e))
			p, x := f.liftFlat(e, sd, vals[i:i+n])
			b.WriteString(p)
			inits = append(inits, fields[j]+": "+x)
			i += n
		}
		return b.String(), fmt.Sprintf("%s{%s}", f.goType(t, sd), strings.Join(inits, ", "))
	case *wit.Variant, *wit.Option, *wit.Result:
		cs := cases(k)
		tv := f.temp("v")
		var b strings.Builder
		fmt.Fprintf(&b, "var %s %s\n", tv, f.goType(t, sd))
		fmt.Fprintf(&b, "switch %s.Discriminant(%q, %s, %d) {\n", c, witTypeString(t), v(0), len(cs))
		for i, cse := range cs {
			fmt.Fprintf(&b, "case %d:\n", i)
			payload := ""
			if cse != nil {
				n := len(flat(cse))
				sub := make([]flatVal, n)
				// The payload slots hold the joined type; convFlat narrows.
				copy(sub, vals[1:1+n])
				p, x := f.liftFlat(cse, sd, sub)
				b.WriteString(p)
				payload = x
			}
			b.WriteString(f.makeCase(t, sd, i, payload, tv))
		}
		b.WriteString("}\n")
		return b.String(), tv
	}
	panic(fmt.Sprintf("witgen: cannot lift %s", witTypeString(t)))
}

// lowerFlat returns statements and the core values (Go expressions) of Go
// value v of type t.
func (f *guestFile) lowerFlat(t wit.Type, sd side, v string) (pre string, vals []flatVal) {
	c := f.cabi()
	one := func(e string, cr core) (string, []flatVal) { return "", []flatVal{{e, cr}} }
	switch k := kindOf(t).(type) {
	case wit.Bool:
		return one(c+".B2U("+v+")", cI32)
	case wit.S8, wit.S16:
		return one("uint32(int32("+v+"))", cI32)
	case wit.U8, wit.U16, wit.S32, wit.Char:
		return one("uint32("+v+")", cI32)
	case wit.U32:
		return one(v, cI32)
	case wit.S64:
		return one("uint64("+v+")", cI64)
	case wit.U64:
		return one(v, cI64)
	case wit.F32:
		return one(v, cF32)
	case wit.F64:
		return one(v, cF64)
	case wit.String:
		p, n := f.temp("p"), f.temp("n")
		return fmt.Sprintf("%s, %s := pins.String(%s)\n", p, n, v), []flatVal{{p, cI32}, {n, cI32}}
	case *wit.List:
		p, n := f.temp("p"), f.temp("n")
		return fmt.Sprintf("%s, %s := %s(pins, %s)\n", p, n, f.lowerList(t, sd), v), []flatVal{{p, cI32}, {n, cI32}}
	case *wit.Enum:
		return one(f.lowerEnum(t, v), cI32)
	case *wit.Flags:
		x := f.lowerFlags(t, v)
		if len(k.Flags) > 32 {
			tv := f.temp("fl")
			return fmt.Sprintf("%s := %s\n", tv, x), []flatVal{{"uint32(" + tv + ")", cI32}, {"uint32(" + tv + ">>32)", cI32}}
		}
		return one("uint32("+x+")", cI32)
	case *wit.Own, *wit.Borrow, *wit.Resource:
		return one(f.lowerHandle(t, sd, v), cI32)
	case *wit.Record, *wit.Tuple:
		tv := f.temp("r")
		var b strings.Builder
		fmt.Fprintf(&b, "%s := %s\n", tv, v)
		var out []flatVal
		switch k := k.(type) {
		case *wit.Record:
			td := resolveAlias(t).(*wit.TypeDef)
			for i, fld := range k.Fields {
				p, fv := f.lowerFlat(fld.Type, sd, tv+"."+f.gg.declPkg(td).model.fieldName[td][i])
				b.WriteString(p)
				out = append(out, fv...)
			}
		case *wit.Tuple:
			for i, e := range k.Types {
				p, fv := f.lowerFlat(e, sd, fmt.Sprintf("%s.F%d", tv, i))
				b.WriteString(p)
				out = append(out, fv...)
			}
		}
		return b.String(), out
	case *wit.Variant, *wit.Option, *wit.Result:
		cs := cases(k)
		slots := joined(cs)
		var b strings.Builder
		disc := f.temp("d")
		fmt.Fprintf(&b, "var %s uint32\n", disc)
		out := []flatVal{{disc, cI32}}
		var names []string
		for _, s := range slots {
			n := f.temp("s")
			names = append(names, n)
			fmt.Fprintf(&b, "var %s %s\n", n, s.goType())
			out = append(out, flatVal{n, s})
		}
		b.WriteString(f.switchCases(t, sd, v, func(i int, payload string) string {
			s := fmt.Sprintf("%s = %d\n", disc, i)
			if payload != "" {
				p, fv := f.lowerFlat(cs[i], sd, payload)
				s += p
				for j, x := range fv {
					s += fmt.Sprintf("%s = %s\n", names[j], f.widenFlat(x.expr, x.c, slots[j]))
				}
			}
			return s
		}))
		return b.String(), out
	}
	panic(fmt.Sprintf("witgen: cannot lower %s", witTypeString(t)))
}
