package main

import (
	"fmt"
	"strings"

	"go.bytecodealliance.org/wit"
)

// declareTypes writes the Go declarations of the package's named WIT types.
func (f *file) declareTypes() {
	for _, t := range f.pkg.typeDefs() {
		f.declareType(t)
	}
}

func (f *file) declareType(t *wit.TypeDef) {
	p := f.pkg
	name := p.typeNames[t]
	witName := t.TypeName()
	switch k := t.Kind.(type) {
	case *wit.Record:
		f.p("%stype %s struct {", docComment(fmt.Sprintf("%s is the WIT record %s.", name, witName), t.Docs.Contents, ""), name)
		for i, fld := range k.Fields {
			f.p("%s\t%s %s", comment(fld.Docs.Contents, "\t"), p.fieldName[t][i], f.goType(fld.Type))
		}
		f.p("}\n")
		if p.g.errorTypes[t] {
			f.recordError(t, k)
		}
	case *wit.Enum:
		f.declareEnum(t, k)
	case *wit.Flags:
		f.declareFlags(t, k)
	case *wit.Variant:
		f.declareVariant(t, k)
	case *wit.Resource:
		f.declareResource(t)
	case *wit.TypeDef:
		target := useTarget(k)
		if target.Owner != t.Owner {
			q := p.g.pkgOf(target)
			f.p("%stype %s = %s\n", docComment(fmt.Sprintf("%s is %s%s, brought into scope by `use`.", name, f.pkgRef(q), q.typeNames[target]), t.Docs.Contents, ""),
				name, strings.TrimPrefix(f.goType(k), "*"))
			return
		}
		f.p("%stype %s = %s\n", docComment(fmt.Sprintf("%s is the WIT type alias %s = %s.", name, witName, witTypeString(k)), t.Docs.Contents, ""),
			name, strings.TrimPrefix(f.goType(k), "*"))
	default:
		// Aliases of primitives and of anonymous types.
		f.p("%stype %s = %s\n", docComment(fmt.Sprintf("%s is the WIT type %s = %s.", name, witName, witKindString(k)), t.Docs.Contents, ""),
			name, f.goKind(k))
	}
}

func (f *file) declareEnum(t *wit.TypeDef, k *wit.Enum) {
	p := f.pkg
	name := p.typeNames[t]
	f.p("%stype %s %s\n", docComment(fmt.Sprintf("%s is the WIT enum %s.", name, t.TypeName()), t.Docs.Contents, ""), name, discriminant(len(k.Cases)))
	f.p("// The cases of %s.", name)
	f.p("const (")
	for i, c := range k.Cases {
		if d := comment(c.Docs.Contents, "\t"); d != "" {
			f.p("%s", strings.TrimSuffix(d, "\n"))
		}
		if i == 0 {
			f.p("\t%s %s = iota", p.caseNames[t][0], name)
		} else {
			f.p("\t%s", p.caseNames[t][i])
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
	if p.g.errorTypes[t] {
		f.p("// Error makes %s usable as the error of a function result.", name)
		f.p("func (v %s) Error() string {\nreturn %q + v.String()\n}\n", name, t.TypeName()+": ")
	}
}

func discriminant(n int) string {
	switch {
	case n <= 1<<8:
		return "uint8"
	case n <= 1<<16:
		return "uint16"
	}
	return "uint32"
}

func (f *file) declareFlags(t *wit.TypeDef, k *wit.Flags) {
	p := f.pkg
	f.goSource.declareFlags(t, k, p.typeNames[t], p.caseNames[t], p.g.errorTypes[t], f.std("fmt"), f.std("strings"))
}

func (f *file) declareVariant(t *wit.TypeDef, k *wit.Variant) {
	p := f.pkg
	name := p.typeNames[t]
	isErr := p.g.errorTypes[t]
	var cases []string
	for _, c := range p.caseNames[t] {
		cases = append(cases, c)
	}
	first := fmt.Sprintf("%s is the WIT variant %s: a sealed interface implemented by its case types %s. A nil %s is not a valid value.",
		name, t.TypeName(), strings.Join(cases, ", "), name)
	f.p("%stype %s interface {", docComment(first, t.Docs.Contents, ""), name)
	if isErr {
		f.p("error")
	}
	f.p("is%s()\n}\n", name)
	for i, c := range k.Cases {
		cn := p.caseNames[t][i]
		if c.Type == nil {
			f.p("%stype %s struct{}\n", docComment(fmt.Sprintf("%s is the case %s of %s.", cn, c.Name, name), c.Docs.Contents, ""), cn)
		} else {
			f.p("%stype %s struct {\nValue %s\n}\n", docComment(fmt.Sprintf("%s is the case %s(%s) of %s.", cn, c.Name, witTypeString(c.Type), name), c.Docs.Contents, ""),
				cn, f.goType(c.Type))
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

// recordError gives a record used as the error of a result an Error method
// on its pointer type: the bindings return a *T for the err case.
func (f *file) recordError(t *wit.TypeDef, k *wit.Record) {
	p := f.pkg
	name := p.typeNames[t]
	var format []string
	var args []string
	for i, fld := range k.Fields {
		verb := "%v"
		if _, isStr := resolveAlias(fld.Type).(wit.String); isStr {
			verb = "%q"
		}
		format = append(format, fld.Name+"="+verb)
		args = append(args, "e."+p.fieldName[t][i])
	}
	f.p("// Error makes *%s usable as the error of a function result.", name)
	f.p("func (e *%s) Error() string {\nreturn %s.Sprintf(%q, %s)\n}\n", name, f.std("fmt"), t.TypeName()+": "+strings.Join(format, " "), strings.Join(args, ", "))
}
