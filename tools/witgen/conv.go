package main

import (
	"fmt"
	"strings"

	"go.bytecodealliance.org/wit"
)

// Conversions between Go values and bindings.Val are generated per package
// as unexported helper functions, one per type used by the package's
// functions (its own types and other packages' alike), so that no package
// needs another's internals. Values of types that contain resources need a
// conversion context (witCx): the store, the bound exports, and the
// temporary borrow handles to drop after a call.

// cxName is the conversion context type generated in packages whose
// functions carry resources.
const cxName = "witCx"

// typeKey returns a name fragment identifying t for helper names.
func (f *file) typeKey(t wit.Type) string {
	switch t := t.(type) {
	case *wit.TypeDef:
		if isNamed(t) {
			t = useTarget(t)
			if r := resolveAlias(t); r != wit.Type(t) {
				return f.typeKey(r)
			}
			q := f.pkg.g.pkgOf(t)
			prefix := ""
			if q != f.pkg {
				prefix = exportedName(strings.TrimSuffix(f.pkgRef(q), "."))
			}
			return prefix + q.typeNames[t]
		}
		return f.kindKey(t.Kind)
	case nil:
		return "X"
	}
	return exportedName(witPrimitive(t))
}

func (f *file) kindKey(k wit.TypeDefKind) string {
	switch k := k.(type) {
	case wit.Type:
		return f.typeKey(k)
	case *wit.List:
		return "List" + f.typeKey(k.Type)
	case *wit.Option:
		return "Option" + f.typeKey(k.Type)
	case *wit.Tuple:
		s := fmt.Sprintf("Tuple%d", len(k.Types))
		for _, e := range k.Types {
			s += f.typeKey(e)
		}
		return s
	case *wit.Result:
		return "Result" + f.typeKey(k.OK) + f.typeKey(k.Err)
	case *wit.Own:
		return "Own" + f.typeKey(k.Type)
	case *wit.Borrow:
		return "Borrow" + f.typeKey(k.Type)
	}
	panic(fmt.Sprintf("witgen: no key for %T", k))
}

// needsCx reports whether converting t needs the conversion context.
func needsCx(t wit.Type) bool { return t != nil && hasResource(t) }

func cxArg(t wit.Type) string {
	if needsCx(t) {
		return "cx, "
	}
	return ""
}

func (f *file) cxParam(t wit.Type) string {
	if needsCx(t) {
		return "cx *" + cxName + ", "
	}
	return ""
}

// lift returns a Go expression converting the bindings.Val expression v of
// type t into its Go value.
func (f *file) lift(t wit.Type, v string) string {
	switch t.(type) {
	case wit.Bool:
		return v + ".Bool()"
	case wit.S8:
		return v + ".S8()"
	case wit.U8:
		return v + ".U8()"
	case wit.S16:
		return v + ".S16()"
	case wit.U16:
		return v + ".U16()"
	case wit.S32:
		return v + ".S32()"
	case wit.U32:
		return v + ".U32()"
	case wit.S64:
		return v + ".S64()"
	case wit.U64:
		return v + ".U64()"
	case wit.F32:
		return v + ".F32()"
	case wit.F64:
		return v + ".F64()"
	case wit.Char:
		return v + ".Char()"
	case wit.String:
		return v + ".Str()"
	case wit.ErrorContext:
		return v
	}
	td := t.(*wit.TypeDef)
	if r := resolveAlias(td); r != wit.Type(td) {
		if _, prim := r.(wit.Primitive); prim {
			return f.lift(r, v)
		}
	}
	name := "lift" + f.typeKey(t)
	f.liftHelper(name, t)
	return fmt.Sprintf("%s(%s%s)", name, cxArg(t), v)
}

// lower returns a Go expression converting the Go expression x of type t
// into a bindings.Val.
func (f *file) lower(t wit.Type, x string) string {
	b := f.std("bindings")
	switch t.(type) {
	case wit.Bool:
		return b + ".Bool(" + x + ")"
	case wit.S8:
		return b + ".S8(" + x + ")"
	case wit.U8:
		return b + ".U8(" + x + ")"
	case wit.S16:
		return b + ".S16(" + x + ")"
	case wit.U16:
		return b + ".U16(" + x + ")"
	case wit.S32:
		return b + ".S32(" + x + ")"
	case wit.U32:
		return b + ".U32(" + x + ")"
	case wit.S64:
		return b + ".S64(" + x + ")"
	case wit.U64:
		return b + ".U64(" + x + ")"
	case wit.F32:
		return b + ".F32(" + x + ")"
	case wit.F64:
		return b + ".F64(" + x + ")"
	case wit.Char:
		return b + ".Char(" + x + ")"
	case wit.String:
		return b + ".String(" + x + ")"
	case wit.ErrorContext:
		return x
	}
	td := t.(*wit.TypeDef)
	if r := resolveAlias(td); r != wit.Type(td) {
		if _, prim := r.(wit.Primitive); prim {
			return f.lower(r, x)
		}
	}
	name := "lower" + f.typeKey(t)
	f.lowerHelper(name, t)
	return fmt.Sprintf("%s(%s%s)", name, cxArg(t), x)
}

// kindOf returns the definition behind t: the kind of the TypeDef that
// finally defines it.
func kindOf(t wit.Type) wit.TypeDefKind {
	r := resolveAlias(t)
	if td, ok := r.(*wit.TypeDef); ok {
		return td.Kind
	}
	return r
}

func (f *file) liftHelper(name string, t wit.Type) {
	if f.hasHelper(name) {
		return
	}
	f.helper(name, "") // reserve against recursion
	b := f.std("bindings")
	gt := f.goType(t)
	var s strings.Builder
	fmt.Fprintf(&s, "func %s(%sv %s.Val) %s {\n", name, f.cxParam(t), b, gt)
	switch k := kindOf(t).(type) {
	case *wit.Record:
		td, q, _ := f.named(t)
		fmt.Fprintf(&s, "_, f := v.Fields()\nreturn %s{\n", gt)
		for i, fld := range k.Fields {
			fmt.Fprintf(&s, "%s: %s,\n", q.fieldName[td][i], f.lift(fld.Type, fmt.Sprintf("f[%d]", i)))
		}
		s.WriteString("}\n")
	case *wit.Enum:
		td, q, ref := f.named(t)
		s.WriteString("switch v.Case() {\n")
		for i, c := range k.Cases {
			fmt.Fprintf(&s, "case %q:\nreturn %s%s\n", c.Name, ref, q.caseNames[td][i])
		}
		fmt.Fprintf(&s, "}\npanic(%q + v.Case())\n", "witgen: unknown case of enum "+td.TypeName()+": ")
	case *wit.Flags:
		td, q, ref := f.named(t)
		fmt.Fprintf(&s, "var out %s\nfor _, n := range v.FlagsSet() {\nswitch n {\n", gt)
		for i, c := range k.Flags {
			fmt.Fprintf(&s, "case %q:\nout |= %s%s\n", c.Name, ref, q.caseNames[td][i])
		}
		s.WriteString("}\n}\nreturn out\n")
	case *wit.Variant:
		td, q, ref := f.named(t)
		s.WriteString("switch v.Case() {\n")
		for i, c := range k.Cases {
			fmt.Fprintf(&s, "case %q:\n", c.Name)
			if c.Type == nil {
				fmt.Fprintf(&s, "return %s%s{}\n", ref, q.caseNames[td][i])
			} else {
				fmt.Fprintf(&s, "p, _ := v.Payload()\nreturn %s%s{Value: %s}\n", ref, q.caseNames[td][i], f.lift(c.Type, "p"))
			}
		}
		fmt.Fprintf(&s, "}\npanic(%q + v.Case())\n", "witgen: unknown case of variant "+td.TypeName()+": ")
	case *wit.List:
		fmt.Fprintf(&s, "e := v.Elems()\nif len(e) == 0 {\nreturn nil\n}\nout := make(%s, len(e))\nfor i := range e {\nout[i] = %s\n}\nreturn out\n",
			gt, f.lift(k.Type, "e[i]"))
	case *wit.Option:
		fmt.Fprintf(&s, "if !v.IsSome() {\nreturn nil\n}\np, _ := v.Payload()\nx := %s\nreturn &x\n", f.lift(k.Type, "p"))
	case *wit.Tuple:
		fmt.Fprintf(&s, "e := v.Elems()\nreturn %s{", gt)
		for i, et := range k.Types {
			if i > 0 {
				s.WriteString(", ")
			}
			fmt.Fprintf(&s, "F%d: %s", i, f.lift(et, fmt.Sprintf("e[%d]", i)))
		}
		s.WriteString("}\n")
	case *wit.Result:
		fmt.Fprintf(&s, "var out %s\np, _ := v.Payload()\nif v.IsOk() {\n", gt)
		if k.OK != nil {
			fmt.Fprintf(&s, "out.OK = %s\n", f.lift(k.OK, "p"))
		} else {
			s.WriteString("_ = p\n")
		}
		s.WriteString("} else {\nout.IsErr = true\n")
		if k.Err != nil {
			fmt.Fprintf(&s, "out.Err = %s\n", f.lift(k.Err, "p"))
		}
		s.WriteString("}\nreturn out\n")
	case *wit.Own:
		f.liftResource(&s, k.Type, true)
	case *wit.Borrow:
		f.liftResource(&s, k.Type, false)
	case *wit.Resource:
		f.liftResource(&s, resolveAlias(t).(*wit.TypeDef), true)
	default:
		panic(fmt.Sprintf("witgen: cannot lift %T", k))
	}
	s.WriteString("}")
	f.helpers[name] = s.String()
}

func (f *file) lowerHelper(name string, t wit.Type) {
	if f.hasHelper(name) {
		return
	}
	f.helper(name, "")
	b := f.std("bindings")
	gt := f.goType(t)
	var s strings.Builder
	fmt.Fprintf(&s, "func %s(%sx %s) %s.Val {\n", name, f.cxParam(t), gt, b)
	switch k := kindOf(t).(type) {
	case *wit.Record:
		td, q, _ := f.named(t)
		names := f.fieldNamesVar(td, k)
		fmt.Fprintf(&s, "return %s.Record(%s, []%s.Val{\n", b, names, b)
		for i, fld := range k.Fields {
			fmt.Fprintf(&s, "%s,\n", f.lower(fld.Type, "x."+q.fieldName[td][i]))
		}
		s.WriteString("})\n")
	case *wit.Enum:
		td, q, ref := f.named(t)
		s.WriteString("switch x {\n")
		for i, c := range k.Cases {
			fmt.Fprintf(&s, "case %s%s:\nreturn %s.Enum(%q)\n", ref, q.caseNames[td][i], b, c.Name)
		}
		fmt.Fprintf(&s, "}\npanic(%s.Faultf(\"invalid %s%s value %%d\", x))\n", f.std("witrt"), ref, q.typeNames[td])
	case *wit.Flags:
		td, q, ref := f.named(t)
		s.WriteString(f.flagsSet(td, q, ref, k))
		fmt.Fprintf(&s, "return %s.Flags(set...)\n", b)
	case *wit.Variant:
		td, q, ref := f.named(t)
		s.WriteString("switch c := x.(type) {\n")
		for i, c := range k.Cases {
			fmt.Fprintf(&s, "case %s%s:\n", ref, q.caseNames[td][i])
			if c.Type == nil {
				fmt.Fprintf(&s, "_ = c\nreturn %s.Variant(%q)\n", b, c.Name)
			} else {
				fmt.Fprintf(&s, "return %s.VariantWith(%q, %s)\n", b, c.Name, f.lower(c.Type, "c.Value"))
			}
		}
		fmt.Fprintf(&s, "}\npanic(%s.Faultf(\"invalid %s%s value %%#v (nil, or not one of its case types)\", x))\n", f.std("witrt"), ref, q.typeNames[td])
	case *wit.List:
		if writable(k.Type) {
			// Lists are where values pile up (a batch of log entries):
			// written straight into the call's C values, without a Val
			// tree for bindings to walk twice.
			wt := "witWrite" + f.typeKey(t)
			if !f.hasHelper(wt) {
				f.helper(wt, fmt.Sprintf("type %s %s\n\nfunc (x %s) Lower(w %s.Writer) {\n%s}",
					wt, gt, wt, b, f.writeListBody(k)))
			}
			fmt.Fprintf(&s, "return %s.Lowered(%s.KindList, %s(x))\n", b, b, wt)
			break
		}
		fmt.Fprintf(&s, "if len(x) == 0 {\nreturn %s.List()\n}\nvals := make([]%s.Val, len(x))\nfor i := range x {\nvals[i] = %s\n}\nreturn %s.List(vals...)\n",
			b, b, f.lower(k.Type, "x[i]"), b)
	case *wit.Option:
		fmt.Fprintf(&s, "if x == nil {\nreturn %s.None()\n}\nreturn %s.Some(%s)\n", b, b, f.lower(k.Type, "*x"))
	case *wit.Tuple:
		fmt.Fprintf(&s, "return %s.Tuple(", b)
		for i, et := range k.Types {
			if i > 0 {
				s.WriteString(", ")
			}
			s.WriteString(f.lower(et, fmt.Sprintf("x.F%d", i)))
		}
		s.WriteString(")\n")
	case *wit.Result:
		s.WriteString("if x.IsErr {\n")
		if k.Err != nil {
			fmt.Fprintf(&s, "return %s.Err(%s)\n", b, f.lower(k.Err, "x.Err"))
		} else {
			fmt.Fprintf(&s, "return %s.ErrEmpty()\n", b)
		}
		s.WriteString("}\n")
		if k.OK != nil {
			fmt.Fprintf(&s, "return %s.Ok(%s)\n", b, f.lower(k.OK, "x.OK"))
		} else {
			fmt.Fprintf(&s, "return %s.OkEmpty()\n", b)
		}
	case *wit.Own:
		f.lowerResource(&s, k.Type, false)
	case *wit.Borrow:
		f.lowerResource(&s, k.Type, true)
	case *wit.Resource:
		f.lowerResource(&s, resolveAlias(t).(*wit.TypeDef), false)
	default:
		panic(fmt.Sprintf("witgen: cannot lower %T", k))
	}
	s.WriteString("}")
	f.helpers[name] = s.String()
}

func prefixAll(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// fieldNamesVar returns the package-level variable holding the WIT field
// names of a record (bindings.Record does not copy them).
func (f *file) fieldNamesVar(td *wit.TypeDef, r *wit.Record) string {
	name := "witFields" + f.typeKey(td)
	if !f.hasHelper(name) {
		var quoted []string
		for _, fld := range r.Fields {
			quoted = append(quoted, fmt.Sprintf("%q", fld.Name))
		}
		f.helper(name, fmt.Sprintf("var %s = []string{%s}", name, strings.Join(quoted, ", ")))
	}
	return name
}

// liftResource writes the body of a function lifting a handle of resource
// res. In the resource's own package, export-side handles are guest
// resources and import-side handles are host values in its table; other
// packages ask the resource's package, which tells the two apart.
func (f *file) liftResource(s *strings.Builder, res *wit.TypeDef, own bool) {
	res = namedRoot(res)
	q := f.pkg.g.pkgOf(res)
	name := q.typeNames[res]
	witrt := f.std("witrt")
	s.WriteString("r := v.Resource()\n")
	if q == f.pkg {
		// World-level resources are always the host's (worlds export no
		// resources).
		if q.iface != nil {
			fmt.Fprintf(s, "if cx.host {\n")
		}
		if own {
			fmt.Fprintf(s, "h, err := %s.Take(cx.store, r)\n", tableVar(name))
		} else {
			fmt.Fprintf(s, "h, err := %s.Lookup(cx.store, r)\n", tableVar(name))
		}
		fmt.Fprintf(s, "r.Close()\nif err != nil {\npanic(%s.Fault(err))\n}\nreturn h\n", witrt)
		if q.iface != nil {
			fmt.Fprintf(s, "}\nreturn &%s{res: r, exp: cx.%s}\n", name, f.pkg.cxExportsField(q))
		}
		return
	}
	fmt.Fprintf(s, "h, err := %s%s(cx.store, r, cx.%s, %v)\nif err != nil {\npanic(%s.Fault(err))\n}\nreturn h\n",
		f.pkgRef(q), q.resNames[res].fromResource, f.pkg.cxExportsField(q), own, witrt)
}

// lowerResource writes the body of a function lowering a handle.
func (f *file) lowerResource(s *strings.Builder, res *wit.TypeDef, borrow bool) {
	res = namedRoot(res)
	q := f.pkg.g.pkgOf(res)
	witrt := f.std("witrt")
	b := f.std("bindings")
	fmt.Fprintf(s, "if x == nil {\npanic(%s.Faultf(\"nil %s%s handle\"))\n}\n", witrt, f.pkgRef(q), q.typeNames[res])
	fmt.Fprintf(s, "r, err := x.Handle(cx.store, %v)\nif err != nil {\npanic(%s.Fault(err))\n}\n", borrow, witrt)
	if borrow {
		fmt.Fprintf(s, "if x.Resource() == nil {\ncx.borrows = append(cx.borrows, r)\n}\n")
	}
	fmt.Fprintf(s, "return %s.ResourceVal(r)\n", b)
}

func tableVar(resName string) string { return "witTable" + resName }

// cxExportsField names the field of the conversion context holding the
// exports of package q (for the methods of q's guest resources).
func (p *goPackage) cxExportsField(q *goPackage) string {
	if q == p {
		return "exp"
	}
	name := "exp" + exportedName(q.name)
	for i, o := range p.g.pkgs {
		if o != q && o.name == q.name {
			// Two packages of that name: number them by position.
			for j, o2 := range p.g.pkgs {
				if o2 == q {
					return fmt.Sprintf("%s%d", name, j)
				}
			}
			_ = i
		}
	}
	return name
}

// writable reports whether values of t can be written through a
// bindings.Writer: everything but resources (handles need the store's
// checks) and the async types (which the C API cannot carry at all).
func writable(t wit.Type) bool { return !hasResource(t) && !hasAsync(t) }

// write returns a Go statement writing the Go expression x of type t
// through the bindings.Writer expression w.
func (f *file) write(t wit.Type, w, x string) string {
	switch t.(type) {
	case wit.Bool:
		return w + ".Bool(" + x + ")"
	case wit.S8:
		return w + ".S8(" + x + ")"
	case wit.U8:
		return w + ".U8(" + x + ")"
	case wit.S16:
		return w + ".S16(" + x + ")"
	case wit.U16:
		return w + ".U16(" + x + ")"
	case wit.S32:
		return w + ".S32(" + x + ")"
	case wit.U32:
		return w + ".U32(" + x + ")"
	case wit.S64:
		return w + ".S64(" + x + ")"
	case wit.U64:
		return w + ".U64(" + x + ")"
	case wit.F32:
		return w + ".F32(" + x + ")"
	case wit.F64:
		return w + ".F64(" + x + ")"
	case wit.Char:
		return w + ".Char(" + x + ")"
	case wit.String:
		return w + ".String(" + x + ")"
	}
	td := t.(*wit.TypeDef)
	if r := resolveAlias(td); r != wit.Type(td) {
		if _, prim := r.(wit.Primitive); prim {
			return f.write(r, w, x)
		}
	}
	name := "write" + f.typeKey(t)
	f.writeHelper(name, t)
	return fmt.Sprintf("%s(%s, %s)", name, w, x)
}

func (f *file) writeListBody(k *wit.List) string {
	return "p := w.List(len(x))\nfor i := range x {\n" + f.write(k.Type, "p.At(i)", "x[i]") + "\n}\n"
}

func (f *file) writeHelper(name string, t wit.Type) {
	if f.hasHelper(name) {
		return
	}
	f.helper(name, "")
	b := f.std("bindings")
	gt := f.goType(t)
	var s strings.Builder
	fmt.Fprintf(&s, "func %s(w %s.Writer, x %s) {\n", name, b, gt)
	switch k := kindOf(t).(type) {
	case *wit.Record:
		td, q, _ := f.named(t)
		fmt.Fprintf(&s, "p := w.Record(%s)\n", f.fieldNamesVar(td, k))
		for i, fld := range k.Fields {
			s.WriteString(f.write(fld.Type, fmt.Sprintf("p.At(%d)", i), "x."+q.fieldName[td][i]) + "\n")
		}
	case *wit.Enum:
		td, q, ref := f.named(t)
		s.WriteString("switch x {\n")
		for i, c := range k.Cases {
			fmt.Fprintf(&s, "case %s%s:\nw.Enum(%q)\nreturn\n", ref, q.caseNames[td][i], c.Name)
		}
		fmt.Fprintf(&s, "}\npanic(%s.Faultf(\"invalid %s%s value %%d\", x))\n", f.std("witrt"), ref, q.typeNames[td])
	case *wit.Flags:
		td, q, ref := f.named(t)
		s.WriteString(f.flagsSet(td, q, ref, k))
		s.WriteString("w.Flags(set)\n")
	case *wit.Variant:
		td, q, ref := f.named(t)
		s.WriteString("switch c := x.(type) {\n")
		for i, c := range k.Cases {
			fmt.Fprintf(&s, "case %s%s:\n", ref, q.caseNames[td][i])
			if c.Type == nil {
				fmt.Fprintf(&s, "_ = c\nw.Variant(%q)\nreturn\n", c.Name)
			} else {
				fmt.Fprintf(&s, "%s\nreturn\n", f.write(c.Type, fmt.Sprintf("w.VariantWith(%q)", c.Name), "c.Value"))
			}
		}
		fmt.Fprintf(&s, "}\npanic(%s.Faultf(\"invalid %s%s value %%#v (nil, or not one of its case types)\", x))\n", f.std("witrt"), ref, q.typeNames[td])
	case *wit.List:
		s.WriteString(f.writeListBody(k))
	case *wit.Option:
		fmt.Fprintf(&s, "if x == nil {\nw.None()\nreturn\n}\n%s\n", f.write(k.Type, "w.Some()", "*x"))
	case *wit.Tuple:
		fmt.Fprintf(&s, "p := w.Tuple(%d)\n", len(k.Types))
		for i, et := range k.Types {
			s.WriteString(f.write(et, fmt.Sprintf("p.At(%d)", i), fmt.Sprintf("x.F%d", i)) + "\n")
		}
	case *wit.Result:
		s.WriteString("if x.IsErr {\n")
		if k.Err != nil {
			s.WriteString(f.write(k.Err, "w.ResultWith(false)", "x.Err") + "\n")
		} else {
			s.WriteString("w.Result(false)\n")
		}
		s.WriteString("return\n}\n")
		if k.OK != nil {
			s.WriteString(f.write(k.OK, "w.ResultWith(true)", "x.OK") + "\n")
		} else {
			s.WriteString("w.Result(true)\n")
		}
	default:
		panic(fmt.Sprintf("witgen: cannot write %T", k))
	}
	s.WriteString("}")
	f.helpers[name] = s.String()
}

// readable reports whether values of t can be read in place through a
// bindings.Reader (Func.CallRead): the types a Writer writes.
func readable(t wit.Type) bool { return writable(t) }

// read returns a Go expression reading the value of type t at the
// bindings.Reader expression r into its Go value.
func (f *file) read(t wit.Type, r string) string {
	switch t.(type) {
	case wit.Bool:
		return r + ".Bool()"
	case wit.S8:
		return r + ".S8()"
	case wit.U8:
		return r + ".U8()"
	case wit.S16:
		return r + ".S16()"
	case wit.U16:
		return r + ".U16()"
	case wit.S32:
		return r + ".S32()"
	case wit.U32:
		return r + ".U32()"
	case wit.S64:
		return r + ".S64()"
	case wit.U64:
		return r + ".U64()"
	case wit.F32:
		return r + ".F32()"
	case wit.F64:
		return r + ".F64()"
	case wit.Char:
		return r + ".Char()"
	case wit.String:
		return r + ".String()"
	}
	td := t.(*wit.TypeDef)
	if a := resolveAlias(td); a != wit.Type(td) {
		if _, prim := a.(wit.Primitive); prim {
			return f.read(a, r)
		}
	}
	name := "read" + f.typeKey(t)
	f.readHelper(name, t)
	return fmt.Sprintf("%s(%s)", name, r)
}

func (f *file) readHelper(name string, t wit.Type) {
	if f.hasHelper(name) {
		return
	}
	f.helper(name, "") // reserve against recursion
	b := f.std("bindings")
	gt := f.goType(t)
	var s strings.Builder
	fmt.Fprintf(&s, "func %s(r %s.Reader) %s {\n", name, b, gt)
	switch k := kindOf(t).(type) {
	case *wit.Record:
		td, q, _ := f.named(t)
		fmt.Fprintf(&s, "return %s{\n", gt)
		for i, fld := range k.Fields {
			fmt.Fprintf(&s, "%s: %s,\n", q.fieldName[td][i], f.read(fld.Type, fmt.Sprintf("r.At(%d)", i)))
		}
		s.WriteString("}\n")
	case *wit.Enum:
		td, q, ref := f.named(t)
		var names []string
		for _, c := range k.Cases {
			names = append(names, c.Name)
		}
		fmt.Fprintf(&s, "switch r.Case(%s) {\n", f.caseNamesVar(td, names))
		for i := range k.Cases {
			fmt.Fprintf(&s, "case %d:\nreturn %s%s\n", i, ref, q.caseNames[td][i])
		}
		fmt.Fprintf(&s, "}\npanic(%q)\n", "witgen: unknown case of enum "+td.TypeName())
	case *wit.Flags:
		td, _, _ := f.named(t)
		var names []string
		for _, c := range k.Flags {
			names = append(names, c.Name)
		}
		// Bit i of r.Flags is flag i, as in the Go type.
		fmt.Fprintf(&s, "return %s(r.Flags(%s))\n", gt, f.caseNamesVar(td, names))
	case *wit.Variant:
		td, q, ref := f.named(t)
		var names []string
		for _, c := range k.Cases {
			names = append(names, c.Name)
		}
		fmt.Fprintf(&s, "switch r.Case(%s) {\n", f.caseNamesVar(td, names))
		for i, c := range k.Cases {
			fmt.Fprintf(&s, "case %d:\n", i)
			if c.Type == nil {
				fmt.Fprintf(&s, "return %s%s{}\n", ref, q.caseNames[td][i])
			} else {
				fmt.Fprintf(&s, "p, _ := r.Payload()\nreturn %s%s{Value: %s}\n", ref, q.caseNames[td][i], f.read(c.Type, "p"))
			}
		}
		fmt.Fprintf(&s, "}\npanic(%q)\n", "witgen: unknown case of variant "+td.TypeName())
	case *wit.List:
		fmt.Fprintf(&s, "n := r.Len()\nif n == 0 {\nreturn nil\n}\nout := make(%s, n)\nfor i := range out {\nout[i] = %s\n}\nreturn out\n",
			gt, f.read(k.Type, "r.At(i)"))
	case *wit.Option:
		fmt.Fprintf(&s, "p, ok := r.Payload()\nif !ok {\nreturn nil\n}\nx := %s\nreturn &x\n", f.read(k.Type, "p"))
	case *wit.Tuple:
		fmt.Fprintf(&s, "return %s{", gt)
		for i, et := range k.Types {
			if i > 0 {
				s.WriteString(", ")
			}
			fmt.Fprintf(&s, "F%d: %s", i, f.read(et, fmt.Sprintf("r.At(%d)", i)))
		}
		s.WriteString("}\n")
	case *wit.Result:
		fmt.Fprintf(&s, "var out %s\np, _ := r.Payload()\nif r.IsOk() {\n", gt)
		if k.OK != nil {
			fmt.Fprintf(&s, "out.OK = %s\n", f.read(k.OK, "p"))
		} else {
			s.WriteString("_ = p\n")
		}
		s.WriteString("} else {\nout.IsErr = true\n")
		if k.Err != nil {
			fmt.Fprintf(&s, "out.Err = %s\n", f.read(k.Err, "p"))
		}
		s.WriteString("}\nreturn out\n")
	default:
		panic(fmt.Sprintf("witgen: cannot read %T", k))
	}
	s.WriteString("}")
	f.helpers[name] = s.String()
}

// caseNamesVar returns the name of a package-level slice of the WIT names
// of the cases (or flags) of td, for bindings.Reader's Case and Flags.
func (f *file) caseNamesVar(td *wit.TypeDef, names []string) string {
	name := "witCases" + f.typeKey(td)
	if !f.hasHelper(name) {
		var quoted []string
		for _, n := range names {
			quoted = append(quoted, fmt.Sprintf("%q", n))
		}
		f.helper(name, fmt.Sprintf("var %s = []string{%s}", name, strings.Join(quoted, ", ")))
	}
	return name
}

// named returns the named definition behind t, its package, and how this
// file refers to that package.
func (f *file) named(t wit.Type) (*wit.TypeDef, *goPackage, string) {
	td := namedRoot(resolveAlias(t).(*wit.TypeDef))
	q := f.pkg.g.pkgOf(td)
	return td, q, f.pkgRef(q)
}

// flagsSet returns the code that checks the flags value x and collects
// the names of its set flags in set.
func (f *file) flagsSet(td *wit.TypeDef, q *goPackage, ref string, k *wit.Flags) string {
	var s strings.Builder
	all := strings.Join(prefixAll(ref, q.caseNames[td]), " | ")
	fmt.Fprintf(&s, "if x&^(%s) != 0 {\npanic(%s.Faultf(\"invalid %s%s value %%#x\", uint64(x)))\n}\n", all, f.std("witrt"), ref, q.typeNames[td])
	s.WriteString("var set []string\n")
	for i, c := range k.Flags {
		fmt.Fprintf(&s, "if x&%s%s != 0 {\nset = append(set, %q)\n}\n", ref, q.caseNames[td][i], c.Name)
	}
	return s.String()
}
