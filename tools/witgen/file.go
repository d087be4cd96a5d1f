package main

import (
	"bytes"
	"fmt"
	"path"
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
	goSource
	pkg *goPackage
	// reserved are identifiers the file declares, which no import name
	// may shadow (see generator.packageFile).
	reserved map[string]bool
}

func newFile(p *goPackage) *file {
	return &file{goSource: newGoSource(), pkg: p}
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

// bytes assembles and formats the file.
func (f *file) bytes(doc string) ([]byte, error) {
	return f.assemble(f.pkg.name, f.pkg.path, doc, "")
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
