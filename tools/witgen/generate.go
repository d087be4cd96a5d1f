package main

import (
	"fmt"
	"path"
	"strings"

	"go.bytecodealliance.org/wit"
)

// Generate returns the generated files, by path relative to the output
// directory.
func Generate(res *wit.Resolve, opts Options) (map[string][]byte, error) {
	g, err := newGenerator(res, opts)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, p := range g.pkgs {
		src, err := g.packageFile(p)
		if err != nil {
			return nil, err
		}
		out[path.Join(p.dir, p.name+".wit.go")] = src
	}
	return out, nil
}

// packageFile generates the file of package p. The names under which it
// imports other packages must not be shadowed by any identifier the file
// declares (a parameter imports, a local l, ...), which are known only
// once it is written: if a first pass chose such a name, a second pass
// avoids every identifier the first declared. (Import names are
// lower-case words, which the identifiers that depend on them, helpers
// such as lowerTypesPoint, never are: the second pass declares the same
// lower-case words.)
func (g *generator) packageFile(p *goPackage) ([]byte, error) {
	out, imported, err := g.packageFileWith(p, nil)
	if err != nil {
		return nil, err
	}
	declared, err := declaredNames(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.witName, err)
	}
	for _, name := range imported {
		if declared[name] {
			out, _, err = g.packageFileWith(p, declared)
			return out, err
		}
	}
	return out, nil
}

// packageFileWith generates the file of package p, importing packages
// under names outside reserved; it also returns the import names.
func (g *generator) packageFileWith(p *goPackage, reserved map[string]bool) (out []byte, imported []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(string)
			if !ok || !strings.HasPrefix(msg, "witgen: ") {
				panic(r)
			}
			err = fmt.Errorf("%s: %s", p.witName, strings.TrimPrefix(msg, "witgen: "))
		}
	}()
	f := newFile(p)
	f.reserved = reserved
	defer func() {
		for name := range f.names {
			imported = append(imported, name)
		}
	}()
	var doc string
	if p.iface != nil {
		what := "its types."
		if p.needsImports() {
			what = "its types, an Exports type that calls a component exporting it, and an Imports interface with AddToLinker for a host providing it to components."
		}
		doc = docComment(fmt.Sprintf("Package %s holds the Go host bindings of the WIT interface %s: %s", p.name, p.witName, what),
			p.iface.Docs.Contents, "")
		f.p("// InterfaceName is the name of the interface in components.")
		f.p("const InterfaceName = %q\n", p.instance)
	} else {
		doc = docComment(fmt.Sprintf("Package %s holds the Go host bindings of the WIT world %s: Instantiate binds what a component of the world exports, and AddToLinker provides what it imports.", p.name, p.witName),
			p.world.Docs.Contents, "")
		f.p("// WorldName is the name of the world.")
		f.p("const WorldName = %q\n", p.witName)
	}
	rt := f.std("witrt")
	f.p("// The runtime must support the version of it this file was generated")
	f.p("// for (%d): checked when the file compiles.", runtimeVersion)
	f.p("const (\n_ = %s.EnforceVersion(%d - %s.MinVersion)\n_ = %s.EnforceVersion(%s.MaxVersion - %d)\n)\n",
		rt, runtimeVersion, rt, rt, rt, runtimeVersion)
	f.declareTypes()
	if p.usesResultError() {
		f.declareResultError()
	}
	if p.hasCx() {
		f.declareCx()
	}
	if p.iface != nil && p.needsImports() {
		f.exportsBindings()
		var resources []*wit.TypeDef
		for _, t := range p.typeDefs() {
			if _, ok := t.Kind.(*wit.Resource); ok {
				resources = append(resources, t)
			}
		}
		f.importsBindings(p.functions(), resources, "Imports", "AddToLinker", "l.Instance(InterfaceName)")
		f.p("// CheckImports reports the functions of %s that component c imports", p.instance)
		f.p("// with other types than these bindings expect.")
		f.p("func CheckImports(c *%s.Component) error {", f.std("bindings"))
		f.p("return %s.CheckImports(c, InterfaceName, witImportSigsImports)\n}", f.std("witrt"))
	}
	if p.world != nil {
		f.worldBindings()
	}
	out, err = f.bytes(doc)
	return out, nil, err
}
