package main

import (
	"bytes"
	"fmt"
	"go/format"
	"path"
	"slices"
	"strings"
)

// stdImports are the imports generated code uses under their own names.
var stdImports = map[string]string{
	"context":  "context",
	"errors":   "errors",
	"fmt":      "fmt",
	"strings":  "strings",
	"bindings": bindingsPath,
	"witrt":    runtimePath,
}

// file accumulates one generated Go file.
type file struct {
	pkg     *goPackage
	imports map[string]string // path -> name
	names   map[string]string // name -> path
	decls   bytes.Buffer
	helpers map[string]string // helper function name -> source
	// reserved are identifiers the file declares, which no import name
	// may shadow (see generator.packageFile).
	reserved map[string]bool
}

func newFile(p *goPackage) *file {
	return &file{pkg: p, imports: map[string]string{}, names: map[string]string{}, helpers: map[string]string{}}
}

// std returns the name under which a standard import is used.
func (f *file) std(name string) string {
	return f.use(stdImports[name], name)
}

// use imports path under name, or under another name if name is taken.
func (f *file) use(p, name string) string {
	if n, ok := f.imports[p]; ok {
		return n
	}
	if _, std := stdImports[name]; std && stdImports[name] != p {
		name += "wit"
	}
	for {
		if _, taken := f.names[name]; !taken && !f.reserved[name] {
			break
		}
		name += "_"
	}
	f.imports[p] = name
	f.names[name] = p
	return name
}

// pkgRef returns the qualifier for identifiers of package q used in f: ""
// for f's own package. A generated package whose name is taken (by a
// standard import, a predeclared identifier such as error, or another
// import) is imported under its WIT package's name and its own ("ioerror").
func (f *file) pkgRef(q *goPackage) string {
	if q == f.pkg {
		return ""
	}
	if n, ok := f.imports[q.path]; ok {
		return n + "."
	}
	name := q.name
	_, std := stdImports[name]
	_, taken := f.names[name]
	if std || taken || f.reserved[name] || predeclared[strings.TrimSuffix(name, "_")] {
		name = q.witPackageName() + strings.TrimSuffix(name, "_")
	}
	return f.use(q.path, name) + "."
}

func (f *file) p(format string, args ...any) {
	fmt.Fprintf(&f.decls, format, args...)
	f.decls.WriteByte('\n')
}

// helper adds a package-level helper (conversion function, name table)
// once.
func (f *file) helper(name, src string) {
	if _, ok := f.helpers[name]; !ok {
		f.helpers[name] = src
	}
}

func (f *file) hasHelper(name string) bool {
	_, ok := f.helpers[name]
	return ok
}

// bytes assembles and formats the file.
func (f *file) bytes(doc string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(generatedLine + "\n\n")
	b.WriteString(doc)
	fmt.Fprintf(&b, "package %s\n\n", f.pkg.name)
	if len(f.imports) > 0 {
		var std, other []string
		for p := range f.imports {
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
			writeImport(&b, p, f.imports[p])
		}
		if len(std) > 0 && len(other) > 0 {
			b.WriteString("\n")
		}
		for _, p := range other {
			writeImport(&b, p, f.imports[p])
		}
		b.WriteString(")\n\n")
	}
	b.Write(f.decls.Bytes())
	names := make([]string, 0, len(f.helpers))
	for n := range f.helpers {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString("\n")
		b.WriteString(f.helpers[n])
		b.WriteString("\n")
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting %s: %w\n%s", f.pkg.path, err, numbered(b.String()))
	}
	return out, nil
}

func writeImport(b *bytes.Buffer, p, name string) {
	if path.Base(p) == name {
		fmt.Fprintf(b, "\t%q\n", p)
	} else {
		fmt.Fprintf(b, "\t%s %q\n", name, p)
	}
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%5d  %s\n", i+1, l)
	}
	return b.String()
}

// comment renders text as Go comment lines with the given indent.
func comment(text, indent string) string {
	text = strings.TrimRight(text, " \n\t")
	if text == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			b.WriteString(indent + "//\n")
		} else {
			b.WriteString(indent + "// " + l + "\n")
		}
	}
	return b.String()
}

// docComment renders a Go doc comment: a first sentence, then the WIT
// documentation as a separate paragraph.
func docComment(first, witDocs, indent string) string {
	s := comment(wrap(first, 76-len(indent)), indent)
	if d := comment(witDocs, indent); d != "" {
		if s != "" {
			s += indent + "//\n"
		}
		s += d
	}
	return s
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	for pi, para := range strings.Split(text, "\n") {
		if pi > 0 {
			b.WriteByte('\n')
		}
		col := 0
		for i, w := range strings.Fields(para) {
			if i > 0 {
				if col+1+len(w) > width {
					b.WriteByte('\n')
					col = 0
				} else {
					b.WriteByte(' ')
					col++
				}
			}
			b.WriteString(w)
			col += len(w)
		}
	}
	return b.String()
}

// doc writes a generated doc comment, wrapped.
func (f *file) doc(format string, args ...any) {
	f.decls.WriteString(comment(wrap(fmt.Sprintf(format, args...), 76), ""))
}
