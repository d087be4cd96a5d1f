package bindings

// A generator of identity components for arbitrary WIT value types, used by
// the fuzz test and the benchmarks.
//
// For a type T it writes a component that exports
//
//	id-N:       func(x: T) -> T   a guest identity, no host involved
//	via-host-N: func(x: T) -> T   the guest passes x to the imported
//	                              host-N: func(x: T) -> T and returns what the
//	                              host returned
//
// and imports the instance "test:fuzz/host" with host-N. The core functions
// follow the canonical ABI (MAX_FLAT_PARAMS = 16, MAX_FLAT_RESULTS = 1):
//
//   - flat(T) has 1 value: the core identity is (param X) (result X).
//   - flat(T) has 2..16 values: the arguments arrive flat and the result must
//     be returned through memory, so the core function allocates size(T)
//     bytes and stores the flat values there in T's memory layout (the code
//     for that is generated from T: storeFlat below), then returns the
//     address.
//   - flat(T) has more than 16 values: the arguments arrive as a pointer to
//     T's memory layout, which is exactly what the result pointer must point
//     to, so the identity returns its parameter.
//
// via-host needs no layout code at all: lowering host-N with a return
// pointer makes wasmtime write the host's result to memory in T's layout.
//
// A bump allocator serves realloc; the post-return functions reset it.

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	maxFlatParams  = 16
	maxFlatResults = 1
)

// flat returns the core types of T's flattening.
func flat(t *Type) []string {
	switch t.Kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindChar, KindEnum,
		KindOwn, KindBorrow:
		return []string{"i32"}
	case KindS64, KindU64:
		return []string{"i64"}
	case KindF32:
		return []string{"f32"}
	case KindF64:
		return []string{"f64"}
	case KindString, KindList:
		return []string{"i32", "i32"}
	case KindRecord:
		var out []string
		for _, f := range t.Fields {
			out = append(out, flat(f.Type)...)
		}
		return out
	case KindTuple:
		var out []string
		for _, e := range t.Elems {
			out = append(out, flat(e)...)
		}
		return out
	case KindFlags:
		out := make([]string, (len(t.Names)+31)/32)
		for i := range out {
			out[i] = "i32"
		}
		return out
	case KindVariant, KindOption, KindResult:
		var joined []string
		for _, c := range caseTypes(t) {
			if c == nil {
				continue
			}
			for i, ft := range flat(c) {
				if i < len(joined) {
					joined[i] = join(joined[i], ft)
				} else {
					joined = append(joined, ft)
				}
			}
		}
		return append([]string{"i32"}, joined...)
	}
	panic("flat: " + t.Kind.String())
}

func join(a, b string) string {
	if a == b {
		return a
	}
	if (a == "i32" && b == "f32") || (a == "f32" && b == "i32") {
		return "i32"
	}
	return "i64"
}

// caseTypes returns the payload types of the cases of a variant, option or
// result (nil for a case without payload), in discriminant order.
func caseTypes(t *Type) []*Type {
	switch t.Kind {
	case KindOption:
		return []*Type{nil, t.Elem}
	case KindResult:
		return []*Type{t.Ok, t.Err}
	case KindEnum:
		return make([]*Type, len(t.Names))
	}
	out := make([]*Type, len(t.Cases))
	for i, c := range t.Cases {
		out[i] = c.Type
	}
	return out
}

func discSize(n int) int {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

func alignTo(n, a int) int { return (n + a - 1) / a * a }

func alignOf(t *Type) int {
	switch t.Kind {
	case KindBool, KindS8, KindU8:
		return 1
	case KindS16, KindU16:
		return 2
	case KindS32, KindU32, KindChar, KindF32, KindString, KindList, KindOwn, KindBorrow:
		return 4
	case KindS64, KindU64, KindF64:
		return 8
	case KindRecord, KindTuple:
		a := 1
		for _, e := range fieldTypes(t) {
			a = max(a, alignOf(e))
		}
		return a
	case KindFlags:
		return min(flagsSize(len(t.Names)), 4)
	case KindEnum, KindVariant, KindOption, KindResult:
		cs := caseTypes(t)
		a := discSize(len(cs))
		for _, c := range cs {
			if c != nil {
				a = max(a, alignOf(c))
			}
		}
		return a
	}
	panic("alignOf: " + t.Kind.String())
}

func flagsSize(n int) int {
	switch {
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	}
	return 4 * ((n + 31) / 32)
}

func fieldTypes(t *Type) []*Type {
	if t.Kind == KindTuple {
		return t.Elems
	}
	out := make([]*Type, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Type
	}
	return out
}

func sizeOf(t *Type) int {
	switch t.Kind {
	case KindBool, KindS8, KindU8:
		return 1
	case KindS16, KindU16:
		return 2
	case KindS32, KindU32, KindChar, KindF32, KindOwn, KindBorrow:
		return 4
	case KindS64, KindU64, KindF64:
		return 8
	case KindString, KindList:
		return 8
	case KindRecord, KindTuple:
		s := 0
		for _, e := range fieldTypes(t) {
			s = alignTo(s, alignOf(e)) + sizeOf(e)
		}
		return alignTo(s, alignOf(t))
	case KindFlags:
		return flagsSize(len(t.Names))
	case KindEnum, KindVariant, KindOption, KindResult:
		cs := caseTypes(t)
		s := discSize(len(cs))
		ca, cmax := 1, 0
		for _, c := range cs {
			if c != nil {
				ca = max(ca, alignOf(c))
				cmax = max(cmax, sizeOf(c))
			}
		}
		s = alignTo(s, ca) + cmax
		return alignTo(s, alignOf(t))
	}
	panic("sizeOf: " + t.Kind.String())
}

// coerce converts expr, a joined flat value of core type have, to want (the
// canonical ABI's lift_flat_variant conversions).
func coerce(expr, have, want string) string {
	switch {
	case have == want:
		return expr
	case want == "i32" && have == "i64":
		return "(i32.wrap_i64 " + expr + ")"
	case want == "f32" && have == "i32":
		return "(f32.reinterpret_i32 " + expr + ")"
	case want == "f32" && have == "i64":
		return "(f32.reinterpret_i32 (i32.wrap_i64 " + expr + "))"
	case want == "f64" && have == "i64":
		return "(f64.reinterpret_i64 " + expr + ")"
	}
	panic("coerce " + have + " to " + want)
}

// flatVal is one flat value available to generated code: an expression and
// its core type.
type flatVal struct{ expr, typ string }

// storeFlat writes code storing the flat values vals (exactly flat(t), up to
// coercions) of a value of type t at (local.get $p) + off.
func storeFlat(b *strings.Builder, t *Type, vals []flatVal, off int) {
	st := func(op string, v flatVal, want string) {
		fmt.Fprintf(b, "    (%s offset=%d (local.get $p) %s)\n", op, off, coerce(v.expr, v.typ, want))
	}
	switch t.Kind {
	case KindBool, KindS8, KindU8:
		st("i32.store8", vals[0], "i32")
	case KindS16, KindU16:
		st("i32.store16", vals[0], "i32")
	case KindS32, KindU32, KindChar, KindOwn, KindBorrow:
		st("i32.store", vals[0], "i32")
	case KindS64, KindU64:
		st("i64.store", vals[0], "i64")
	case KindF32:
		st("f32.store", vals[0], "f32")
	case KindF64:
		st("f64.store", vals[0], "f64")
	case KindString, KindList:
		st("i32.store", vals[0], "i32")
		off += 4
		st("i32.store", vals[1], "i32")
	case KindRecord, KindTuple:
		o := 0
		for _, e := range fieldTypes(t) {
			o = alignTo(o, alignOf(e))
			n := len(flat(e))
			storeFlat(b, e, vals[:n], off+o)
			vals = vals[n:]
			o += sizeOf(e)
		}
	case KindFlags:
		switch flagsSize(len(t.Names)) {
		case 1:
			st("i32.store8", vals[0], "i32")
		case 2:
			st("i32.store16", vals[0], "i32")
		default:
			for i, v := range vals {
				fmt.Fprintf(b, "    (i32.store offset=%d (local.get $p) %s)\n", off+4*i, coerce(v.expr, v.typ, "i32"))
			}
		}
	case KindEnum, KindVariant, KindOption, KindResult:
		cs := caseTypes(t)
		ds := discSize(len(cs))
		switch ds {
		case 1:
			st("i32.store8", vals[0], "i32")
		case 2:
			st("i32.store16", vals[0], "i32")
		default:
			st("i32.store", vals[0], "i32")
		}
		ca := 1
		for _, c := range cs {
			if c != nil {
				ca = max(ca, alignOf(c))
			}
		}
		payloadOff := off + alignTo(ds, ca)
		for i, c := range cs {
			if c == nil {
				continue
			}
			want := flat(c)
			cv := make([]flatVal, len(want))
			for j, w := range want {
				cv[j] = flatVal{coerce(vals[1+j].expr, vals[1+j].typ, w), w}
			}
			fmt.Fprintf(b, "    (if (i32.eq %s (i32.const %d)) (then\n", vals[0].expr, i)
			storeFlat(b, c, cv, payloadOff)
			b.WriteString("    ))\n")
		}
	default:
		panic("storeFlat: " + t.Kind.String())
	}
}

// watNamer writes WAT type uses for Types, defining and exporting (or, in an
// instance type, declaring and exporting) every record, variant, enum and
// flags type under a name of its own, as the component model requires for
// types in exported and imported function signatures.
type watNamer struct {
	b      *strings.Builder
	prefix string // "$x" at the component level, "$h" inside the import's instance type
	inst   bool   // inside an instance type declaration
	names  map[*Type]string
	n      int
}

// use returns the WAT text referring to t, defining named types first.
func (w *watNamer) use(t *Type) string {
	switch t.Kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindS64, KindU64,
		KindF32, KindF64, KindChar, KindString:
		return t.Kind.String()
	case KindList:
		return "(list " + w.use(t.Elem) + ")"
	case KindOption:
		return "(option " + w.use(t.Elem) + ")"
	case KindTuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = w.use(e)
		}
		return "(tuple " + strings.Join(parts, " ") + ")"
	case KindResult:
		s := "(result"
		if t.Ok != nil {
			s += " " + w.use(t.Ok)
		}
		if t.Err != nil {
			s += " (error " + w.use(t.Err) + ")"
		}
		return s + ")"
	case KindRecord, KindVariant, KindEnum, KindFlags:
		if name, ok := w.names[t]; ok {
			return name
		}
		var def string
		switch t.Kind {
		case KindRecord:
			parts := make([]string, len(t.Fields))
			for i, f := range t.Fields {
				parts[i] = fmt.Sprintf("(field %q %s)", f.Name, w.use(f.Type))
			}
			def = "(record " + strings.Join(parts, " ") + ")"
		case KindVariant:
			parts := make([]string, len(t.Cases))
			for i, c := range t.Cases {
				if c.Type == nil {
					parts[i] = fmt.Sprintf("(case %q)", c.Name)
				} else {
					parts[i] = fmt.Sprintf("(case %q %s)", c.Name, w.use(c.Type))
				}
			}
			def = "(variant " + strings.Join(parts, " ") + ")"
		case KindEnum, KindFlags:
			parts := make([]string, len(t.Names))
			for i, n := range t.Names {
				parts[i] = strconv.Quote(n)
			}
			def = "(" + t.Kind.String() + " " + strings.Join(parts, " ") + ")"
		}
		id := w.n
		w.n++
		name := fmt.Sprintf("%s%d", w.prefix, id)
		if w.inst {
			fmt.Fprintf(w.b, "    (type %sd%d %s)\n    (export \"t%d\" (type %s (eq %sd%d)))\n", w.prefix, id, def, id, name, w.prefix, id)
		} else {
			fmt.Fprintf(w.b, "  (type %sd%d %s)\n  (export %s \"t%d\" (type %sd%d))\n", w.prefix, id, def, name, id, w.prefix, id)
		}
		w.names[t] = name
		return name
	}
	panic("use: " + t.Kind.String())
}

// identityWAT returns the text of a component with id-K and via-host-K
// exports (and the host-K import) for every types[I], K = kebab(I).
func identityWAT(types []*Type) string {
	var b strings.Builder
	b.WriteString("(component\n")

	// The host instance: its types, then its functions.
	b.WriteString("  (import \"test:fuzz/host\" (instance $host\n")
	hw := &watNamer{b: &b, prefix: "$h", inst: true, names: map[*Type]string{}}
	for i, t := range types {
		u := hw.use(t)
		fmt.Fprintf(&b, "    (export \"host-%s\" (func (param \"x\" %s) (result %s)))\n", kebab(i), u, u)
	}
	b.WriteString("  ))\n")

	b.WriteString(libcModule)
	b.WriteString("  (core instance $libc (instantiate $Libc))\n")
	for i := range types {
		fmt.Fprintf(&b, "  (core func $host-%d (canon lower (func $host \"host-%s\") (memory $libc \"memory\") (realloc (func $libc \"realloc\"))))\n", i, kebab(i))
	}

	// The main core module.
	b.WriteString("  (core module $Main\n")
	b.WriteString("    (import \"libc\" \"memory\" (memory 1))\n")
	b.WriteString("    (import \"libc\" \"alloc\" (func $alloc (param i32 i32) (result i32)))\n")
	b.WriteString("    (import \"libc\" \"reset\" (func $reset))\n")
	for i, t := range types {
		fl := flat(t)
		var params []string
		if len(fl) > maxFlatParams {
			params = []string{"i32"}
		} else {
			params = fl
		}
		if len(fl) > maxFlatResults {
			fmt.Fprintf(&b, "    (import \"host\" \"h%d\" (func $h%d (param %s i32)))\n", i, i, strings.Join(params, " "))
		} else {
			fmt.Fprintf(&b, "    (import \"host\" \"h%d\" (func $h%d (param %s) (result %s)))\n", i, i, fl[0], fl[0])
		}
	}
	for i, t := range types {
		fl := flat(t)
		switch {
		case len(fl) == 1:
			fmt.Fprintf(&b, "    (func (export \"id-%d\") (param %s) (result %s) (local.get 0))\n", i, fl[0], fl[0])
			fmt.Fprintf(&b, "    (func (export \"via-%d\") (param %s) (result %s) (call $h%d (local.get 0)))\n", i, fl[0], fl[0], i)
		case len(fl) <= maxFlatParams:
			fmt.Fprintf(&b, "    (func (export \"id-%d\") (param %s) (result i32) (local $p i32)\n", i, strings.Join(fl, " "))
			fmt.Fprintf(&b, "      (local.set $p (call $alloc (i32.const %d) (i32.const %d)))\n", alignOf(t), sizeOf(t))
			vals := make([]flatVal, len(fl))
			for j, ft := range fl {
				vals[j] = flatVal{fmt.Sprintf("(local.get %d)", j), ft}
			}
			storeFlat(&b, t, vals, 0)
			b.WriteString("      (local.get $p))\n")
			fmt.Fprintf(&b, "    (func (export \"via-%d\") (param %s) (result i32) (local $p i32)\n", i, strings.Join(fl, " "))
			fmt.Fprintf(&b, "      (local.set $p (call $alloc (i32.const %d) (i32.const %d)))\n", alignOf(t), sizeOf(t))
			b.WriteString("      (call $h" + strconv.Itoa(i))
			for j := range fl {
				fmt.Fprintf(&b, " (local.get %d)", j)
			}
			b.WriteString(" (local.get $p))\n      (local.get $p))\n")
		default:
			fmt.Fprintf(&b, "    (func (export \"id-%d\") (param i32) (result i32) (local.get 0))\n", i)
			fmt.Fprintf(&b, "    (func (export \"via-%d\") (param i32) (result i32) (local $p i32)\n", i)
			fmt.Fprintf(&b, "      (local.set $p (call $alloc (i32.const %d) (i32.const %d)))\n", alignOf(t), sizeOf(t))
			fmt.Fprintf(&b, "      (call $h%d (local.get 0) (local.get $p))\n      (local.get $p))\n", i)
		}
	}
	for _, ct := range []string{"i32", "i64", "f32", "f64"} {
		fmt.Fprintf(&b, "    (func (export \"pr-%s\") (param %s) (call $reset))\n", ct, ct)
	}
	b.WriteString("  )\n")
	b.WriteString("  (core instance $main (instantiate $Main (with \"libc\" (instance $libc)) (with \"host\" (instance\n")
	for i := range types {
		fmt.Fprintf(&b, "    (export \"h%d\" (func $host-%d))\n", i, i)
	}
	b.WriteString("  ))))\n")

	// Component-level types, then the lifted functions.
	cw := &watNamer{b: &b, prefix: "$x", names: map[*Type]string{}}
	for i, t := range types {
		u := cw.use(t)
		fl := flat(t)
		pr := "i32"
		if len(fl) == 1 {
			pr = fl[0]
		}
		opts := fmt.Sprintf("(memory $libc \"memory\") (realloc (func $libc \"realloc\")) (post-return (func $main \"pr-%s\"))", pr)
		fmt.Fprintf(&b, "  (func $id-%d (param \"x\" %s) (result %s) (canon lift (core func $main \"id-%d\") %s))\n", i, u, u, i, opts)
		fmt.Fprintf(&b, "  (export \"id-%s\" (func $id-%d))\n", kebab(i), i)
		fmt.Fprintf(&b, "  (func $via-%d (param \"x\" %s) (result %s) (canon lift (core func $main \"via-%d\") %s))\n", i, u, u, i, opts)
		fmt.Fprintf(&b, "  (export \"via-host-%s\" (func $via-%d))\n", kebab(i), i)
	}
	b.WriteString(")\n")
	return b.String()
}

// kebab returns a kebab-case word for i ("a", "b", ..., "ba", ...): words
// of component names must start with a letter.
func kebab(i int) string {
	s := string(rune('a' + i%26))
	for i /= 26; i > 0; i /= 26 {
		s = string(rune('a'+i%26)) + s
	}
	return s
}

// libcModule is a core module with the memory and a bump allocator. reset
// (called by post-return) frees everything.
const libcModule = `  (core module $Libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func $alloc (export "alloc") (param $align i32) (param $size i32) (result i32)
      (local $p i32) (local $end i32) (local $have i32)
      (local.set $p (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $size)))
      (local.set $have (i32.shl (memory.size) (i32.const 16)))
      (if (i32.gt_u (local.get $end) (local.get $have))
        (then (if (i32.eq (i32.const -1)
            (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (local.get $have)) (i32.const 16)) (i32.const 1))))
          (then unreachable))))
      (global.set $heap (local.get $end))
      (local.get $p))
    (func (export "realloc") (param $old i32) (param $oldsize i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (local.set $p (call $alloc (local.get $align) (local.get $size)))
      (if (local.get $oldsize) (then
        (memory.copy (local.get $p) (local.get $old)
          (select (local.get $oldsize) (local.get $size) (i32.lt_u (local.get $oldsize) (local.get $size))))))
      (local.get $p))
    (func (export "reset") (global.set $heap (i32.const 1024)))
  )
`
