package main

import (
	"fmt"
	"path"
	"strings"

	"go.bytecodealliance.org/wit"
)

// guestFile accumulates one generated Go file of a guest package.
type guestFile struct {
	goSource
	pkg   *guestPkg
	gg    *guestGen
	cores []coreFunc // wasm imports the file's code calls
	tmp   int        // counter of temporaries
}

func newGuestFile(p *guestPkg) *guestFile {
	return &guestFile{goSource: newGoSource(), pkg: p, gg: p.gg}
}

func (f *guestFile) doc(format string, args ...any) {
	f.decls.WriteString(comment(wrap(fmt.Sprintf(format, args...), 76), ""))
}

// use imports path, preferably under name ("_" for a blank import).
func (f *guestFile) use(p, name string) string {
	if n, ok := f.imports[p]; ok {
		return n
	}
	if name != "_" {
		for {
			if _, taken := f.names[name]; !taken && !predeclared[name] {
				break
			}
			name += "_"
		}
		f.names[name] = p
	}
	f.imports[p] = name
	return name
}

// std returns the name under which a standard or fixed import is used.
func (f *guestFile) std(name string) string {
	switch name {
	case "cm":
		return f.use(cmPath, "cm")
	case "cabi":
		return f.use(f.gg.runtimePath(), "cabi")
	}
	return f.use(name, path.Base(name))
}

// pkgRef returns the qualifier of identifiers of package q in f.
func (f *guestFile) pkgRef(q *guestPkg) string {
	if q == f.pkg {
		return ""
	}
	if n, ok := f.imports[q.path]; ok && n != "_" {
		return n + "."
	}
	name := q.name
	if _, taken := f.names[name]; taken || predeclared[strings.TrimSuffix(name, "_")] || isStdName(name) {
		name = q.model.witPackageName() + strings.TrimSuffix(name, "_")
	}
	delete(f.imports, q.path) // a blank import becomes a named one
	return f.use(q.path, name) + "."
}

// isStdName reports whether a package name is one the generated code uses
// for a standard import.
func isStdName(n string) bool {
	switch n {
	case "cm", "cabi", "errors", "fmt", "runtime", "unsafe":
		return true
	}
	return false
}

// bytes assembles and formats the file; tag is its build constraint.
func (f *guestFile) bytes(doc, tag string) ([]byte, error) {
	return f.assemble(f.pkg.name, f.pkg.path, doc, tag)
}

// ---------------------------------------------------------------------------
// Types

// declPkg returns the package declaring the named type t.
func (gg *guestGen) declPkg(t *wit.TypeDef) *guestPkg {
	switch o := t.Owner.(type) {
	case *wit.Interface:
		if p := gg.typePkg[o]; p != nil {
			return p
		}
	case *wit.World:
		if o == gg.world {
			return gg.worldPkg
		}
	}
	panic(fmt.Sprintf("witgen: no package declares type %s", t.TypeName()))
}

// goType returns the Go type of t, seen from side sd (which decides what a
// resource is).
//
// The mapping is the host bindings' (records → structs, enums and flags →
// named integers with constants, variants → sealed interfaces with a struct
// per case, lists → slices, results inside other types → struct{ OK T; Err
// E; IsErr bool }), except that option<T> is cm.Option[T], tuples are
// cm.Tuple, cm.Tuple3, ... (an anonymous struct beyond 16 or below 2
// elements), an imported resource is a handle type over cm.Resource, and an
// exported resource is the Go interface its implementation satisfies.
func (f *guestFile) goType(t wit.Type, sd side) string {
	if g, ok := primitiveGoType(t); ok {
		return g
	}
	switch t := t.(type) {
	case *wit.TypeDef:
		if isNamed(t) {
			t = useTarget(t)
			if root := namedRoot(t); isResource(root) {
				return f.resourceType(root, sd)
			}
			q := f.gg.declPkg(t)
			return f.pkgRef(q) + q.model.typeNames[t]
		}
		return f.goKind(t.Kind, sd)
	}
	panic(fmt.Sprintf("witgen: type %s is not supported by the Go guest bindings", witTypeString(t)))
}

func isResource(t *wit.TypeDef) bool {
	_, ok := t.Kind.(*wit.Resource)
	return ok
}

// resourceType returns the Go type of resource r seen from side sd.
func (f *guestFile) resourceType(r *wit.TypeDef, sd side) string {
	if f.gg.isExportedResource(r, sd) {
		q := f.gg.exportPkg[r.Owner.(*wit.Interface)]
		return f.pkgRef(q) + q.model.typeNames[r]
	}
	q := f.gg.declPkg(r)
	return f.pkgRef(q) + q.model.typeNames[r]
}

func (f *guestFile) goKind(k wit.TypeDefKind, sd side) string {
	switch k := k.(type) {
	case wit.Type:
		return f.goType(k, sd)
	case *wit.List:
		return "[]" + f.goType(k.Type, sd)
	case *wit.Option:
		return f.std("cm") + ".Option[" + f.goType(k.Type, sd) + "]"
	case *wit.Tuple:
		n := len(k.Types)
		var elems []string
		for _, e := range k.Types {
			elems = append(elems, f.goType(e, sd))
		}
		if n >= 2 && n <= 16 {
			name := "Tuple"
			if n > 2 {
				name = fmt.Sprintf("Tuple%d", n)
			}
			return f.std("cm") + "." + name + "[" + strings.Join(elems, ", ") + "]"
		}
		var b strings.Builder
		b.WriteString("struct{ ")
		for i, e := range elems {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "F%d %s", i, e)
		}
		b.WriteString(" }")
		return b.String()
	case *wit.Result:
		var parts []string
		if k.OK != nil {
			parts = append(parts, "OK "+f.goType(k.OK, sd))
		}
		if k.Err != nil {
			parts = append(parts, "Err "+f.goType(k.Err, sd))
		}
		parts = append(parts, "IsErr bool")
		return "struct{ " + strings.Join(parts, "; ") + " }"
	case *wit.Own:
		return f.goType(k.Type, sd)
	case *wit.Borrow:
		return f.goType(k.Type, sd)
	case nil:
		panic("witgen: a type uses a WIT feature this generator does not know (e.g. a fixed-size list)")
	}
	panic(fmt.Sprintf("witgen: %s is not supported by the Go guest bindings", witKindString(k)))
}

// declareTypes writes the declarations of the owner's named types. Exported
// resources are declared with the exports.
func (f *guestFile) declareTypes() {
	p := f.pkg
	for _, t := range p.model.typeDefs() {
		f.declareType(t)
	}
}

func (f *guestFile) declareType(t *wit.TypeDef) {
	p := f.pkg
	m := p.model
	name := m.typeNames[t]
	sd := p.side
	switch k := t.Kind.(type) {
	case *wit.Record:
		f.p("%stype %s struct {", docComment(fmt.Sprintf("%s is the WIT record %s.", name, t.TypeName()), t.Docs.Contents, ""), name)
		for i, fld := range k.Fields {
			f.p("%s\t%s %s", comment(fld.Docs.Contents, "\t"), m.fieldName[t][i], f.goType(fld.Type, sd))
		}
		f.p("}\n")
		if p.gg.g.errorTypes[t] {
			f.recordError(t, k)
		}
	case *wit.Enum:
		f.declareEnum(t, k)
	case *wit.Flags:
		f.declareFlags(t, k)
	case *wit.Variant:
		f.declareVariant(t, k)
	case *wit.Resource:
		// Imported resources get their handle type with their functions;
		// exported ones their interface with the exports.
	case *wit.TypeDef:
		target := useTarget(k)
		if target.Owner != t.Owner {
			f.p("%stype %s = %s\n", docComment(fmt.Sprintf("%s is %s, brought into scope by `use`.", name, f.goType(k, sd)), t.Docs.Contents, ""),
				name, f.goType(k, sd))
			return
		}
		f.p("%stype %s = %s\n", docComment(fmt.Sprintf("%s is the WIT type alias %s = %s.", name, t.TypeName(), witTypeString(k)), t.Docs.Contents, ""),
			name, f.goType(k, sd))
	default:
		f.p("%stype %s = %s\n", docComment(fmt.Sprintf("%s is the WIT type %s = %s.", name, t.TypeName(), witKindString(k)), t.Docs.Contents, ""),
			name, f.goKind(k, sd))
	}
}

func (f *guestFile) declareEnum(t *wit.TypeDef, k *wit.Enum) {
	m := f.pkg.model
	name := m.typeNames[t]
	f.p("%stype %s %s\n", docComment(fmt.Sprintf("%s is the WIT enum %s.", name, t.TypeName()), t.Docs.Contents, ""), name, discriminant(len(k.Cases)))
	f.p("// The cases of %s.", name)
	f.p("const (")
	for i, c := range k.Cases {
		if d := comment(c.Docs.Contents, "\t"); d != "" {
			f.p("%s", strings.TrimSuffix(d, "\n"))
		}
		if i == 0 {
			f.p("\t%s %s = iota", m.caseNames[t][0], name)
		} else {
			f.p("\t%s", m.caseNames[t][i])
		}
	}
	f.p(")\n")
	var quoted []string
	for _, c := range k.Cases {
		quoted = append(quoted, fmt.Sprintf("%q", c.Name))
	}
	table := "witNames" + name
	f.p("var %s = [...]string{%s}\n", table, strings.Join(quoted, ", "))
	f.p("// String returns the WIT name of the case.")
	f.p("func (v %s) String() string {", name)
	f.p("if int(v) < len(%s) {\nreturn %s[v]\n}", table, table)
	f.p("return %s.Sprintf(\"%s(%%d)\", int(v))\n}\n", f.std("fmt"), name)
	if f.gg.g.errorTypes[t] {
		f.p("// Error makes %s usable as the error of a function result.", name)
		f.p("func (v %s) Error() string {\nreturn %q + v.String()\n}\n", name, t.TypeName()+": ")
	}
}

func (f *guestFile) declareFlags(t *wit.TypeDef, k *wit.Flags) {
	m := f.pkg.model
	f.goSource.declareFlags(t, k, m.typeNames[t], m.caseNames[t], f.gg.g.errorTypes[t], f.std("fmt"), f.std("strings"))
}

func (f *guestFile) declareVariant(t *wit.TypeDef, k *wit.Variant) {
	m := f.pkg.model
	name := m.typeNames[t]
	isErr := f.gg.g.errorTypes[t]
	first := fmt.Sprintf("%s is the WIT variant %s: a sealed interface implemented by its case types %s. A nil %s is not a valid value.",
		name, t.TypeName(), strings.Join(m.caseNames[t], ", "), name)
	f.p("%stype %s interface {", docComment(first, t.Docs.Contents, ""), name)
	if isErr {
		f.p("error")
	}
	f.p("is%s()\n}\n", name)
	for i, c := range k.Cases {
		cn := m.caseNames[t][i]
		if c.Type == nil {
			f.p("%stype %s struct{}\n", docComment(fmt.Sprintf("%s is the case %s of %s.", cn, c.Name, name), c.Docs.Contents, ""), cn)
		} else {
			f.p("%stype %s struct {\nValue %s\n}\n", docComment(fmt.Sprintf("%s is the case %s(%s) of %s.", cn, c.Name, witTypeString(c.Type), name), c.Docs.Contents, ""),
				cn, f.goType(c.Type, f.pkg.side))
		}
		f.p("func (%s) is%s() {}\n", cn, name)
		if isErr {
			if c.Type == nil {
				f.p("func (%s) Error() string { return %q }\n", cn, t.TypeName()+": "+c.Name)
			} else {
				f.p("func (c %s) Error() string { return %s.Sprintf(\"%s(%%v)\", c.Value) }\n", cn, f.std("fmt"), t.TypeName()+": "+c.Name)
			}
		}
	}
}

func (f *guestFile) recordError(t *wit.TypeDef, k *wit.Record) {
	m := f.pkg.model
	name := m.typeNames[t]
	var format, args []string
	for i, fld := range k.Fields {
		verb := "%v"
		if _, isStr := resolveAlias(fld.Type).(wit.String); isStr {
			verb = "%q"
		}
		format = append(format, fld.Name+"="+verb)
		args = append(args, "e."+m.fieldName[t][i])
	}
	f.p("// Error makes *%s usable as the error of a function result.", name)
	f.p("func (e *%s) Error() string {\nreturn %s.Sprintf(%q, %s)\n}\n", name, f.std("fmt"), t.TypeName()+": "+strings.Join(format, " "), strings.Join(args, ", "))
}

func (f *guestFile) declareResultError() {
	f.p(`// ResultError is the error of the err case of a function whose WIT result
// is result<T, E> with an E that is not a record, variant, enum or flags
// type (for those, the E value itself is the error). Value holds the E
// value; for a result without an E type, E is struct{}.
//
// An export returns a *ResultError to answer err(Value). For E = string, any
// other error answers err(its message); without an E type, any error
// answers err.
type ResultError[E any] struct {
	Func  string // the WIT function, "interface#name"
	Value E
}

// Error describes the error case.
func (e *ResultError[E]) Error() string {
	return %s.Sprintf("%%s returned an error: %%v", e.Func, e.Value)
}
`, f.std("fmt"))
}
