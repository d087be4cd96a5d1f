package main

import (
	"fmt"
	"strings"

	"go.bytecodealliance.org/wit"
)

// worldExportField returns the Instance field holding the exports of
// interface package q, or "" when the world does not export it.
func (p *goPackage) worldExportField(q *goPackage) string {
	if p.world == nil || q.iface == nil {
		return ""
	}
	return p.worldExports[q.iface]
}

// worldItems returns the world's exported interfaces that have something to
// call (an interface of types only has no Exports), imported interfaces
// that need a host implementation, world-level exported and imported
// functions, and world-level (imported) resources.
func (p *goPackage) worldItems() (exp, imp []*wit.Interface, expFns, impFns []*wit.Function, resources []*wit.TypeDef) {
	w := p.world
	w.Exports.All()(func(_ string, it wit.WorldItem) bool {
		switch it := it.(type) {
		case *wit.InterfaceRef:
			if q := p.g.byOwner[it.Interface]; q != nil && q.needsImports() {
				exp = append(exp, it.Interface)
			}
		case *wit.Function:
			expFns = append(expFns, it)
		}
		return true
	})
	w.Imports.All()(func(_ string, it wit.WorldItem) bool {
		switch it := it.(type) {
		case *wit.InterfaceRef:
			if q := p.g.byOwner[it.Interface]; q != nil && q.needsImports() {
				imp = append(imp, it.Interface)
			}
		case *wit.Function:
			impFns = append(impFns, it)
		case *wit.TypeDef:
			if _, ok := it.Kind.(*wit.Resource); ok && it.Owner == wit.TypeOwner(w) {
				resources = append(resources, it)
			}
		}
		return true
	})
	return
}

// needsImports reports whether a host must implement something for the
// interface: functions or resource types.
func (p *goPackage) needsImports() bool {
	if len(p.functions()) > 0 {
		return true
	}
	for _, t := range p.typeDefs() {
		if _, ok := t.Kind.(*wit.Resource); ok {
			return true
		}
	}
	return false
}

func (f *file) worldBindings() {
	p := f.pkg
	b := f.std("bindings")
	exp, imp, expFns, impFns, resources := p.worldItems()

	// Instance.
	f.doc("Instance is an instance of a component of world %s: its exported interfaces, bound, and its world-level exported functions as methods. Like its bindings.Instance, it is for one goroutine at a time.", p.witName)
	f.p("type Instance struct {")
	f.p("inst *%s.Instance", b)
	for _, i := range exp {
		q := p.g.byOwner[i]
		f.p("%s", strings.TrimSuffix(comment(wrap(fmt.Sprintf("%s calls the component's exports of %s.", p.worldExports[i], q.instance), 72), "\t"), "\n"))
		f.p("%s *%sExports", p.worldExports[i], f.pkgRef(q))
	}
	for _, fn := range expFns {
		if !funcHasAsync(fn) {
			f.p("%s *%s.Func // %s", p.exportFields[fn], b, fn.Name)
		}
	}
	f.p("}\n")

	f.p("// Instantiate checks that c imports what the world imports with the types")
	f.p("// these bindings expect, instantiates it in store with linker's")
	f.p("// definitions (see AddToLinker) and binds its exports.")
	f.p("func Instantiate(linker *%s.Linker, store *%s.Store, c *%s.Component) (*Instance, error) {", b, b, b)
	f.p("if err := CheckImports(c); err != nil {\nreturn nil, err\n}")
	f.p("inst, err := linker.Instantiate(store, c)\nif err != nil {\nreturn nil, err\n}")
	f.p("return Bind(inst)\n}\n")

	f.p("// Bind binds the exports of an instantiated component of the world. It")
	f.p("// fails, naming what is missing or mistyped, unless the component exports")
	f.p("// every interface and function of the world with the expected types.")
	f.p("func Bind(inst *%s.Instance) (*Instance, error) {", b)
	f.p("i := &Instance{inst: inst}")
	boundFns := 0
	for _, fn := range expFns {
		if !funcHasAsync(fn) {
			boundFns++
		}
	}
	if len(exp) > 0 || boundFns > 0 {
		f.p("var err error")
	}
	for _, in := range exp {
		q := p.g.byOwner[in]
		f.p("if i.%s, err = %sNewExports(inst); err != nil {\nreturn nil, err\n}", p.worldExports[in], f.pkgRef(q))
	}
	for _, fn := range expFns {
		if funcHasAsync(fn) {
			continue
		}
		f.p("if i.%s, err = %s.ExportFunc(inst, \"\", %q, %q); err != nil {\nreturn nil, err\n}", p.exportFields[fn], f.std("witrt"), fn.Name, funcSig(fn))
	}
	f.p("return i, nil\n}\n")
	f.p("// Bindings returns the underlying instance.")
	f.p("func (i *Instance) Bindings() *%s.Instance { return i.inst }\n", b)

	for _, fn := range expFns {
		if funcHasAsync(fn) {
			f.p("// %s is not bound: its type has futures, streams or error-contexts.\n", fn.Name)
			continue
		}
		fi := f.fnInfo(fn, p.funcNames[fn])
		f.p("%sfunc (i *Instance) %s(%s) %s {", funcDoc(fi.goName, "calls", fn), fi.goName, f.goParams(fi), f.exportResults(fi))
		f.exportCall(fi, "i."+p.exportFields[fn], p.cxInit("i.inst.Store()", "i", false), "")
		f.p("}\n")
	}

	// Imports.
	hasFunctions := len(impFns) > 0 || len(resources) > 0
	f.doc("Imports bundles the host's implementations of what world %s imports. AddToLinker skips nil fields: leave a field nil when the linker gets that interface elsewhere (e.g. WASI from bindings.Linker.AddWASIP2).", p.witName)
	f.p("type Imports struct {")
	for _, i := range imp {
		q := p.g.byOwner[i]
		f.p("%s %sImports // %s", p.worldImports[i], f.pkgRef(q), q.instance)
	}
	if hasFunctions {
		f.p("Functions Functions // the world-level imports")
	}
	f.p("}\n")

	f.p("// AddToLinker defines the world's imports in l with the implementations in")
	f.p("// imports.")
	f.p("func AddToLinker(l *%s.Linker, imports Imports) error {", b)
	p.world.Imports.All()(func(_ string, it wit.WorldItem) bool {
		if ref, ok := it.(*wit.InterfaceRef); ok {
			if q := p.g.byOwner[ref.Interface]; q != nil && !q.needsImports() {
				f.p("// %s holds only types: nothing to define, but components import it.", q.instance)
				f.p("if err := l.Instance(%q).Declare(); err != nil {\nreturn err\n}", q.instance)
			}
		}
		return true
	})
	for _, u := range p.usedForeignResources() {
		q := p.g.pkgOf(u.target)
		f.p("// Components import %s, used from %s.", u.use.TypeName(), q.instance)
		f.p("if err := %s%s(l.Root(), %q); err != nil {\nreturn err\n}", f.pkgRef(q), q.resNames[u.target].define, u.use.TypeName())
	}
	for _, i := range imp {
		q := p.g.byOwner[i]
		field := p.worldImports[i]
		f.p("if imports.%s != nil {\nif err := %sAddToLinker(l, imports.%s); err != nil {\nreturn err\n}\n}", field, f.pkgRef(q), field)
	}
	if hasFunctions {
		f.p("if imports.Functions != nil {\nif err := addFunctions(l, imports.Functions); err != nil {\nreturn err\n}\n}")
	}
	f.p("return nil\n}\n")

	f.p("// CheckImports reports the functions of the world that component c imports")
	f.p("// with other types than these bindings expect.")
	f.p("func CheckImports(c *%s.Component) error {", b)
	var checks []string
	for _, i := range imp {
		q := p.g.byOwner[i]
		if len(q.functions()) > 0 {
			checks = append(checks, f.pkgRef(q)+"CheckImports(c)")
		}
	}
	if hasFunctions {
		checks = append(checks, fmt.Sprintf("%s.CheckImports(c, \"\", witImportSigsFunctions)", f.std("witrt")))
	}
	switch len(checks) {
	case 0:
		f.p("_ = c\nreturn nil")
	case 1:
		f.p("return %s", checks[0])
	default:
		f.p("return %s.Join(", f.std("errors"))
		for _, c := range checks {
			f.p("%s,", c)
		}
		f.p(")")
	}
	f.p("}\n")

	if hasFunctions {
		f.importsBindings(impFns, resources, "Functions", "addFunctions", "l.Root()")
	}
}
