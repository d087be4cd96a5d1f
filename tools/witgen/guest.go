package main

// The Go guest side (witgen -guest go): Go packages that let a component
// written in standard Go (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared)
// implement a world's exports and call its imports. The user-facing types
// and names are those of the host bindings (the same generator model names
// them), except where a guest differs: options are cm.Option, tuples
// cm.Tuple..., resources are cm.Resource handles (imported) or Go
// interfaces the plugin implements (exported). See docs/plugin-authors.md.

import (
	_ "embed"
	"fmt"
	"path"
	"strings"

	"go.bytecodealliance.org/wit"
)

var (
	//go:embed guestrt/cabi.go.txt
	guestRuntime string
	//go:embed guestrt/cabi_wasip1.go.txt
	guestRuntimeWasm string
	//go:embed guestrt/cabi_other.go.txt
	guestRuntimeOther string
)

const cmPath = "go.bytecodealliance.org/cm"

// side says which instance of an interface a type belongs to: a world that
// imports and exports an interface has two instances of it, and their
// resources are different types.
type side int

const (
	importSide side = iota
	exportSide
)

// guestGen is one generation of the guest side of a world.
type guestGen struct {
	g     *generator
	world *wit.World

	imported map[*wit.Interface]bool
	exported map[*wit.Interface]bool

	// typePkg is the package declaring an interface's types and import
	// functions; exportPkg the one with its export glue: the same package
	// unless the world imports and exports the interface.
	typePkg   map[*wit.Interface]*guestPkg
	exportPkg map[*wit.Interface]*guestPkg
	worldPkg  *guestPkg
	pkgs      []*guestPkg

	// resName names, in package cabi, the table and intrinsics of each
	// exported resource.
	resName map[*wit.TypeDef]string
	resList []*wit.TypeDef
}

// guestPkg is one generated Go package.
type guestPkg struct {
	gg    *guestGen
	model *goPackage // names of WIT items
	name  string
	dir   string
	path  string
	iface *wit.Interface // nil for the world package
	// declares: this package declares the owner's types and imports;
	// exports: it holds the owner's export glue.
	declares, exports bool
	side              side

	top        *scope
	exportName string                   // the Export function
	exportsFn  string                   // the function returning the implementation
	importFns  map[*wit.Function]string // Go names of imported free functions
	glueNames  *scope                   // unexported glue identifiers
}

// GenerateGuest returns the Go guest bindings of one world, by path relative
// to the output directory.
func GenerateGuest(res *wit.Resolve, opts Options) (map[string][]byte, error) {
	if len(opts.Worlds) != 1 {
		return nil, fmt.Errorf("-guest needs exactly one -world: a component implements one world")
	}
	g, err := newGenerator(res, opts)
	if err != nil {
		return nil, err
	}
	gg := &guestGen{
		g:         g,
		world:     g.worlds[0],
		imported:  map[*wit.Interface]bool{},
		exported:  map[*wit.Interface]bool{},
		typePkg:   map[*wit.Interface]*guestPkg{},
		exportPkg: map[*wit.Interface]*guestPkg{},
		resName:   map[*wit.TypeDef]string{},
	}
	if err := gg.plan(); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, p := range gg.pkgs {
		if err := p.generate(out); err != nil {
			return nil, err
		}
	}
	rt := map[string]string{"cabi.go": guestRuntime, "cabi_wasip1.go": guestRuntimeWasm, "cabi_other.go": guestRuntimeOther}
	for name, src := range rt {
		out[path.Join(guestRuntimeDir, name)] = []byte(src)
	}
	if len(gg.resList) > 0 {
		if err := gg.resourcesFiles(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const guestRuntimeDir = "internal/cabi"

func (gg *guestGen) runtimePath() string { return gg.g.opts.PackagePrefix + "/" + guestRuntimeDir }

// plan decides the packages: one per interface (its types, the wrappers of
// its imported functions, and the glue of its exports), one more for the
// exports of an interface the world both imports and exports, and one for
// the world.
func (gg *guestGen) plan() error {
	w := gg.world
	w.Imports.All()(func(_ string, it wit.WorldItem) bool {
		if ref, ok := it.(*wit.InterfaceRef); ok {
			gg.imported[ref.Interface] = true
		}
		return true
	})
	w.Exports.All()(func(_ string, it wit.WorldItem) bool {
		if ref, ok := it.(*wit.InterfaceRef); ok {
			gg.exported[ref.Interface] = true
		}
		return true
	})
	for _, f := range gg.worldFuncs() {
		if err := gg.checkFunc(f); err != nil {
			return err
		}
	}
	for _, m := range gg.g.pkgs {
		if m.world != nil {
			p := gg.newPkg(m, m.name, m.dir, nil)
			gg.worldPkg = p
			p.declares = true
			p.exports = len(p.exportedFuncs()) > 0
			continue
		}
		i := m.iface
		for _, f := range m.functions() {
			if err := gg.checkFunc(f); err != nil {
				return err
			}
		}
		p := gg.newPkg(m, m.name, m.dir, i)
		p.declares = true
		if !gg.imported[i] && gg.exported[i] {
			p.side = exportSide
			p.exports = true
		}
		gg.typePkg[i] = p
		if gg.exported[i] {
			if gg.imported[i] {
				e := gg.newPkg(m, m.name+"export", m.dir+"export", i)
				e.exports, e.side = true, exportSide
				e.top = newScope(fixedNames...)
				for _, t := range m.typeDefs() {
					if _, ok := t.Kind.(*wit.Resource); ok {
						e.top.claim(m.typeNames[t])
					}
				}
				gg.exportPkg[i] = e
				if err := gg.checkSplit(i); err != nil {
					return err
				}
			} else {
				gg.exportPkg[i] = p
			}
		}
	}
	for _, p := range gg.pkgs {
		p.assignNames()
	}
	names := newScope()
	for _, p := range gg.pkgs {
		for _, r := range p.exportedResources() {
			gg.resName[r] = names.claim(exportedName(p.model.name) + p.model.typeNames[r])
			gg.resList = append(gg.resList, r)
		}
	}
	return nil
}

func (gg *guestGen) newPkg(m *goPackage, name, dir string, i *wit.Interface) *guestPkg {
	p := &guestPkg{gg: gg, model: m, name: name, dir: dir, path: gg.g.opts.PackagePrefix + "/" + dir, iface: i,
		top: m.top, importFns: map[*wit.Function]string{}, glueNames: newScope()}
	gg.pkgs = append(gg.pkgs, p)
	return p
}

// checkSplit refuses what the split of an interface into an import and an
// export package cannot express: a type of the interface holding one of its
// resources has one Go declaration, which cannot be both instances' type.
func (gg *guestGen) checkSplit(i *wit.Interface) error {
	var err error
	i.TypeDefs.All()(func(name string, t *wit.TypeDef) bool {
		if isResource(namedRoot(t)) {
			return true // a resource, or a use of one
		}
		walkType(t.Kind, func(td *wit.TypeDef) {
			if r, ok := namedRoot(td).Kind.(*wit.Resource); ok && r != nil {
				if o, ok := namedRoot(td).Owner.(*wit.Interface); ok && gg.exported[o] && err == nil {
					err = fmt.Errorf("%s: type %s holds the resource %s of an interface the world both imports and exports; the Go guest bindings cannot declare it for both instances",
						itemName(i.Package, derefName(i.Name)), name, namedRoot(td).TypeName())
				}
			}
		})
		return err == nil
	})
	return err
}

func derefName(s *string) string {
	if s == nil {
		return "inline"
	}
	return *s
}

// checkFunc refuses what the guest bindings do not support.
func (gg *guestGen) checkFunc(f *wit.Function) error {
	if funcHasAsync(f) {
		return fmt.Errorf("function %s uses futures, streams or error-contexts, which the Go guest bindings do not support", f.Name)
	}
	if len(f.Results) > 1 {
		return fmt.Errorf("function %s has several named results, which the Go guest bindings do not support", f.Name)
	}
	return nil
}

func (gg *guestGen) worldFuncs() []*wit.Function {
	var out []*wit.Function
	gg.world.AllItems()(func(_ string, it wit.WorldItem) bool {
		if f, ok := it.(*wit.Function); ok {
			out = append(out, f)
		}
		return true
	})
	return out
}

// assignNames claims the package-level names the guest bindings add.
func (p *guestPkg) assignNames() {
	if p.exports {
		p.exportName = p.top.claim("Export")
	}
	if !p.declares {
		return
	}
	for _, f := range p.importedFuncs() {
		if _, ok := f.Kind.(*wit.Method); ok {
			continue
		}
		p.importFns[f] = p.top.claim(p.model.funcNames[f])
	}
}

// owner is the WIT owner of the package's items.
func (p *guestPkg) owner() wit.TypeOwner {
	if p.iface != nil {
		return p.iface
	}
	return p.gg.world
}

// module is the core module name of the imports of the package's owner.
func (p *guestPkg) module() string {
	if p.iface == nil {
		return "$root"
	}
	return p.model.instance
}

// exportPrefix prefixes the core export names of the owner's functions.
func (p *guestPkg) exportPrefix() string {
	if p.iface == nil {
		return ""
	}
	return p.model.instance + "#"
}

// importedFuncs returns the functions of the owner the component imports.
func (p *guestPkg) importedFuncs() []*wit.Function {
	if !p.declares {
		return nil
	}
	if p.iface != nil {
		if !p.gg.imported[p.iface] {
			return nil
		}
		return p.model.functions()
	}
	var out []*wit.Function
	p.gg.world.Imports.All()(func(_ string, it wit.WorldItem) bool {
		if f, ok := it.(*wit.Function); ok {
			out = append(out, f)
		}
		return true
	})
	return out // with the constructors, methods and statics of world-level resources
}

// exportedFuncs returns the functions of the owner the component exports.
func (p *guestPkg) exportedFuncs() []*wit.Function {
	if p.iface != nil {
		if !p.exports {
			return nil
		}
		return p.model.functions()
	}
	// World-level exported functions.
	var out []*wit.Function
	p.gg.world.Exports.All()(func(_ string, it wit.WorldItem) bool {
		if f, ok := it.(*wit.Function); ok {
			out = append(out, f)
		}
		return true
	})
	return out
}

// resources returns the resource types the owner declares.
func (p *guestPkg) resources() []*wit.TypeDef {
	var out []*wit.TypeDef
	for _, t := range p.model.typeDefs() {
		if _, ok := t.Kind.(*wit.Resource); ok && t.Owner == p.owner() {
			out = append(out, t)
		}
	}
	return out
}

// exportedResources returns the resources whose export glue is in p.
func (p *guestPkg) exportedResources() []*wit.TypeDef {
	if p.iface == nil || !p.exports {
		return nil
	}
	return p.resources()
}

// importedResources returns the resources whose handle types p declares.
func (p *guestPkg) importedResources() []*wit.TypeDef {
	if !p.declares || p.side == exportSide {
		return nil
	}
	return p.resources()
}

// isExportedResource reports whether resource t, seen from side sd, is one
// the component exports (a Go value in a table) rather than imports (a
// handle).
func (gg *guestGen) isExportedResource(t *wit.TypeDef, sd side) bool {
	if sd != exportSide {
		return false
	}
	i, ok := namedRoot(t).Owner.(*wit.Interface)
	return ok && gg.exported[i]
}

// generate writes the package's files into out.
func (p *guestPkg) generate(out map[string][]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(string)
			if !ok || !strings.HasPrefix(msg, "witgen: ") {
				panic(r)
			}
			err = fmt.Errorf("%s: %s", p.path, strings.TrimPrefix(msg, "witgen: "))
		}
	}()
	f := newGuestFile(p)
	wasm := newGuestFile(p)
	stub := newGuestFile(p)
	if p.declares {
		f.declareTypes()
	}
	if p.declares && p.usesResultError() {
		f.declareResultError()
	}
	for _, t := range p.importedResources() {
		f.importedResource(t)
	}
	for _, fn := range p.importedFuncs() {
		f.importWrapper(fn)
	}
	if p.exports {
		f.exportsAPI()
	}
	if p.iface == nil {
		f.linkExports()
	}
	for _, c := range f.cores {
		wasm.wasmImport(c)
		stub.stubImport(c)
	}
	base := path.Join(p.dir, p.name)
	src, err := f.bytes(p.doc(), "")
	if err != nil {
		return err
	}
	out[base+".wit.go"] = src
	if len(f.cores) > 0 {
		if out[base+".wasm.wit.go"], err = wasm.bytes("", "wasip1"); err != nil {
			return err
		}
		if out[base+".stubs.wit.go"], err = stub.bytes("", "!wasip1"); err != nil {
			return err
		}
	}
	return nil
}

// doc is the package comment.
func (p *guestPkg) doc() string {
	m := p.model
	switch {
	case p.iface == nil:
		return docComment(fmt.Sprintf("Package %s holds the Go guest bindings of the WIT world %s: its world-level types, imports and exports. A component of the world imports it (for its side effects at least), which links in the export glue of every interface the world exports.", p.name, m.witName),
			m.world.Docs.Contents, "")
	case !p.declares:
		return docComment(fmt.Sprintf("Package %s holds the Go guest bindings of the exports of the WIT interface %s, which the world also imports (package %s holds its types and imports): a component implements Exports and passes it to Export.", p.name, m.witName, m.name),
			"", "")
	}
	var what []string
	if p.gg.imported[p.iface] && len(m.functions())+len(p.resources()) > 0 {
		what = append(what, "functions calling its imports")
	}
	if p.exports {
		what = append(what, "the Exports interface a component implements and passes to Export")
	}
	s := fmt.Sprintf("Package %s holds the Go guest bindings of the WIT interface %s: its types", p.name, m.witName)
	for i, w := range what {
		if i == len(what)-1 {
			s += " and " + w
		} else {
			s += ", " + w
		}
	}
	return docComment(s+".", m.iface.Docs.Contents, "")
}

// usesResultError reports whether a function of the package has a result
// whose err case is returned as a *ResultError.
func (p *guestPkg) usesResultError() bool {
	for _, fn := range append(p.importedFuncs(), p.exportedFuncsDeclared()...) {
		if len(fn.Results) != 1 {
			continue
		}
		if r, ok := kindOf(fn.Results[0].Type).(*wit.Result); ok && p.gg.errMode(r.Err) == errWrapped {
			return true
		}
	}
	return false
}

// exportedFuncsDeclared returns the exported functions whose types p
// declares: ResultError lives in the type package even when the export
// glue does not.
func (p *guestPkg) exportedFuncsDeclared() []*wit.Function {
	if p.iface == nil {
		return p.exportedFuncs()
	}
	if p.gg.exported[p.iface] {
		return p.model.functions()
	}
	return nil
}

// errMode is how an err case is carried by a Go error: the host bindings'
// modes (errToResult adds that an export's err string may be any error's
// message).
func (gg *guestGen) errMode(e wit.Type) errorMode { return gg.g.errMode(e) }

// resultErrorPkg is the package declaring ResultError for the functions of
// the owner of p.
func (p *guestPkg) resultErrorPkg() *guestPkg {
	if p.iface == nil {
		return p
	}
	return p.gg.typePkg[p.iface]
}

// linkExports makes the world package import every package with export
// glue, so that a component importing the world package exports them all.
func (f *guestFile) linkExports() {
	for _, q := range f.pkg.gg.pkgs {
		if q.exports && q.iface != nil {
			f.use(q.path, "_")
		}
	}
}
