package main

import (
	"bytes"
	"fmt"
	"go/format"
	"maps"
	"slices"
	"strings"

	"go.bytecodealliance.org/wit"
)

// goSource is one generated Go file while it is written: its imports, its
// declarations and its package-level helpers. The host side (file) and the
// guest side (guestFile) embed it; each decides import names its own way.
type goSource struct {
	imports map[string]string // path -> name
	names   map[string]string // name -> path
	decls   bytes.Buffer
	helpers map[string]string // helper function name -> source
}

func newGoSource() goSource {
	return goSource{imports: map[string]string{}, names: map[string]string{}, helpers: map[string]string{}}
}

// p writes one line of declarations.
func (s *goSource) p(format string, args ...any) {
	fmt.Fprintf(&s.decls, format, args...)
	s.decls.WriteByte('\n')
}

// helper adds a package-level helper (conversion function, name table)
// once.
func (s *goSource) helper(name, src string) {
	if _, ok := s.helpers[name]; !ok {
		s.helpers[name] = src
	}
}

func (s *goSource) hasHelper(name string) bool {
	_, ok := s.helpers[name]
	return ok
}

// assemble writes the file of package pkgName (import path pkgPath, for
// errors): the generated-code line, the build constraint tag (if any), the
// package doc, the imports (standard ones first), the declarations and the
// helpers in name order, formatted.
func (s *goSource) assemble(pkgName, pkgPath, doc, tag string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(generatedLine + "\n\n")
	if tag != "" {
		fmt.Fprintf(&b, "//go:build %s\n\n", tag)
	}
	b.WriteString(doc)
	fmt.Fprintf(&b, "package %s\n\n", pkgName)
	if len(s.imports) > 0 {
		var std, other []string
		for p := range s.imports {
			if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
				other = append(other, p)
			} else {
				std = append(std, p)
			}
		}
		slices.Sort(std)
		slices.Sort(other)
		b.WriteString("import (\n")
		for _, p := range std {
			writeImport(&b, p, s.imports[p])
		}
		if len(std) > 0 && len(other) > 0 {
			b.WriteString("\n")
		}
		for _, p := range other {
			writeImport(&b, p, s.imports[p])
		}
		b.WriteString(")\n\n")
	}
	b.Write(s.decls.Bytes())
	for _, n := range slices.Sorted(maps.Keys(s.helpers)) {
		b.WriteString("\n")
		b.WriteString(s.helpers[n])
		b.WriteString("\n")
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting %s: %w\n%s", pkgPath, err, numbered(b.String()))
	}
	return out, nil
}

// declareFlags writes flags type t (Go name, the Go names of its flags in
// order cases) as both sides declare it: an unsigned integer of its flags,
// Has, String with the WIT names, and Error when t is a function's error.
// fmtName and stringsName are the file's names of those imports.
func (s *goSource) declareFlags(t *wit.TypeDef, k *wit.Flags, name string, cases []string, isErr bool, fmtName, stringsName string) {
	s.p("%stype %s %s\n", docComment(fmt.Sprintf("%s is the WIT flags %s: a bit set of its flags.", name, t.TypeName()), t.Docs.Contents, ""), name, flagsBase(len(k.Flags)))
	s.p("// The flags of %s.", name)
	s.p("const (")
	for i, c := range k.Flags {
		if d := comment(c.Docs.Contents, "\t"); d != "" {
			s.p("%s", strings.TrimSuffix(d, "\n"))
		}
		if i == 0 {
			s.p("\t%s %s = 1 << iota", cases[0], name)
		} else {
			s.p("\t%s", cases[i])
		}
	}
	s.p(")\n")
	var quoted []string
	for _, c := range k.Flags {
		quoted = append(quoted, fmt.Sprintf("%q", c.Name))
	}
	table := "witNames" + name
	s.p("var %s = [...]string{%s}\n", table, strings.Join(quoted, ", "))
	s.p("// Has reports whether every flag of flags is set in v.")
	s.p("func (v %s) Has(flags %s) bool { return v&flags == flags }\n", name, name)
	s.p("// String lists the set flags by their WIT names, e.g. \"a|b\".")
	s.p("func (v %s) String() string {", name)
	s.p("var parts []string")
	s.p("for i, n := range %s {\nif v&(1<<i) != 0 {\nparts = append(parts, n)\n}\n}", table)
	s.p("if rest := v &^ (1<<len(%s) - 1); rest != 0 {\nparts = append(parts, %s.Sprintf(\"%%#x\", uint64(rest)))\n}", table, fmtName)
	s.p("return %s.Join(parts, \"|\")\n}\n", stringsName)
	if isErr {
		s.p("// Error makes %s usable as the error of a function result.", name)
		s.p("func (v %s) Error() string {\nreturn %q + v.String()\n}\n", name, t.TypeName()+": ")
	}
}

// flagsBase is the Go type of a flags type of n flags.
func flagsBase(n int) string {
	switch {
	case n > 32:
		return "uint64"
	case n > 16:
		return "uint32"
	case n > 8:
		return "uint16"
	}
	return "uint8"
}

// primitiveGoType is the Go type of a WIT primitive type; ok is false for
// any other type.
func primitiveGoType(t wit.Type) (typ string, ok bool) {
	switch t.(type) {
	case wit.Bool:
		return "bool", true
	case wit.S8:
		return "int8", true
	case wit.U8:
		return "uint8", true
	case wit.S16:
		return "int16", true
	case wit.U16:
		return "uint16", true
	case wit.S32:
		return "int32", true
	case wit.U32:
		return "uint32", true
	case wit.S64:
		return "int64", true
	case wit.U64:
		return "uint64", true
	case wit.F32:
		return "float32", true
	case wit.F64:
		return "float64", true
	case wit.Char:
		return "rune", true
	case wit.String:
		return "string", true
	}
	return "", false
}
