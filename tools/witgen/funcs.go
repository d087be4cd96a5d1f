package main

import (
	"fmt"
	"go/token"
	"strings"

	"go.bytecodealliance.org/wit"
)

// fnInfo describes how one WIT function maps to Go.
type fnInfo struct {
	fn     *wit.Function
	goName string
	self   *wit.Param // methods: the self parameter
	params []param    // the other parameters
	result wit.Type   // nil without a result
	// When the result is a result<T, E>: its ok and err types (nil when
	// absent) and how E becomes a Go error.
	isResult bool
	ok, err  wit.Type
	faults   bool // conversions can fail: generated code defers witrt.Catch
	cx       bool // conversions need the conversion context
	// The same for the host side, which also converts self.
	hostFaults, hostCx bool
}

type param struct {
	wit  wit.Param
	name string // Go name
}

// internalNames are the names generated methods with WIT parameters use
// besides them: receivers, named results and locals. (Host functions are
// closures without WIT names in scope.)
var internalNames = []string{
	"ctx", "e", "h", "i", "ret", "err", "cx", "callRes", "payload", "errVal",
}

func (f *file) fnInfo(fn *wit.Function, goName string) *fnInfo {
	fi := &fnInfo{fn: fn, goName: goName}
	locals := newScope(internalNames...)
	for n := range f.pkg.g.pkgNames {
		locals.claim(n)
	}
	for n := range stdImports {
		locals.claim(n)
	}
	for i, p := range fn.Params {
		if i == 0 && fn.IsMethod() {
			fi.self = &fn.Params[0]
			continue
		}
		name := localName(p.Name)
		if token.IsKeyword(name) || shadowed[name] || strings.HasPrefix(name, "lift") ||
			strings.HasPrefix(name, "lower") || strings.HasPrefix(name, "wit") {
			name += "_"
		}
		fi.params = append(fi.params, param{wit: p, name: locals.claim(name)})
	}
	if len(fn.Results) == 1 {
		fi.result = fn.Results[0].Type
		if r, ok := kindOf(fi.result).(*wit.Result); ok {
			fi.isResult = true
			fi.ok, fi.err = r.OK, r.Err
		}
	}
	// Lowering a Go value can fail (an enum out of range, a nil variant or
	// handle); lifting a value from wasmtime only for resource handles, the
	// types of the values being checked when the bindings are bound.
	for _, p := range fi.params {
		fi.faults = fi.faults || canFault(p.wit.Type)
		fi.hostFaults = fi.hostFaults || hasResource(p.wit.Type)
		fi.cx = fi.cx || needsCx(p.wit.Type)
	}
	if fi.result != nil {
		fi.faults = fi.faults || hasResource(fi.result)
		fi.hostFaults = fi.hostFaults || canFault(fi.result)
		fi.cx = fi.cx || needsCx(fi.result)
	}
	// The self parameter is passed as is when calling a component, and
	// looked up in the resource table in a host function.
	fi.hostCx = fi.cx
	if fi.self != nil {
		fi.hostFaults, fi.hostCx = true, true
	}
	return fi
}

// shadowed are the predeclared identifiers generated function bodies use,
// which parameters must not shadow.
var shadowed = map[string]bool{
	"nil": true, "true": true, "false": true, "panic": true, "error": true, "any": true,
	"bool": true, "string": true, "rune": true, "byte": true, "int8": true, "int16": true,
	"int32": true, "int64": true, "uint8": true, "uint16": true, "uint32": true,
	"uint64": true, "float32": true, "float64": true, "struct": true, "iota": true,
	"int": true, "uint": true, "uintptr": true, "comparable": true, "complex64": true,
	"complex128": true, "append": true, "len": true, "make": true,
}

// witSignature renders the WIT declaration of fn for documentation.
func witSignature(fn *wit.Function) string {
	var parts []string
	for _, p := range fn.Params {
		parts = append(parts, p.Name+": "+witTypeString(p.Type))
	}
	s := fn.Name + ": func(" + strings.Join(parts, ", ") + ")"
	if len(fn.Results) == 1 {
		s += " -> " + witTypeString(fn.Results[0].Type)
	}
	return s
}

// goParams renders the Go parameter list (ctx first).
func (f *file) goParams(fi *fnInfo) string {
	parts := []string{"ctx " + f.std("context") + ".Context"}
	for _, p := range fi.params {
		parts = append(parts, p.name+" "+f.goType(p.wit.Type))
	}
	return strings.Join(parts, ", ")
}

// exportResults renders the results of an export-side method: the value
// (if any) and an error.
func (f *file) exportResults(fi *fnInfo) string {
	switch {
	case fi.result == nil:
		return "(err error)"
	case fi.isResult && fi.ok == nil:
		return "(err error)"
	case fi.isResult:
		return fmt.Sprintf("(ret %s, err error)", f.goType(fi.ok))
	}
	return fmt.Sprintf("(ret %s, err error)", f.goType(fi.result))
}

// importResults renders the results of an import-side (host) method.
func (f *file) importResults(fi *fnInfo) string {
	switch {
	case fi.result == nil:
		return ""
	case fi.isResult && fi.ok == nil:
		return "error"
	case fi.isResult:
		return fmt.Sprintf("(%s, error)", f.goType(fi.ok))
	}
	return f.goType(fi.result)
}

// errorMode says how the E of a result<T, E> becomes a Go error.
type errorMode int

const (
	errWrapped errorMode = iota // *ResultError[E]
	errPointer                  // *E: a record with an Error method
	errValue                    // E: an enum, flags or variant with Error
)

func (g *generator) errMode(e wit.Type) errorMode {
	if e == nil {
		return errWrapped
	}
	td, ok := resolveAlias(e).(*wit.TypeDef)
	if !ok || !g.errorTypes[namedRoot(td)] {
		return errWrapped
	}
	if _, rec := td.Kind.(*wit.Record); rec {
		return errPointer
	}
	return errValue
}

// resultErrorArg returns the type argument of ResultError for e.
func (f *file) resultErrorArg(e wit.Type) string {
	if e == nil {
		return "struct{}"
	}
	return f.goType(e)
}

func (p *goPackage) usesResultError() bool {
	uses := false
	check := func(fn *wit.Function) {
		if funcHasAsync(fn) || len(fn.Results) != 1 {
			return
		}
		if r, ok := kindOf(fn.Results[0].Type).(*wit.Result); ok && p.g.errMode(r.Err) == errWrapped {
			uses = true
		}
	}
	for _, fn := range p.functions() {
		check(fn)
	}
	if p.world != nil {
		p.world.AllItems()(func(_ string, it wit.WorldItem) bool {
			if fn, ok := it.(*wit.Function); ok {
				check(fn)
			}
			return true
		})
	}
	return uses
}

func (f *file) declareResultError() {
	f.p(`// ResultError is the error returned for the err case of a function whose WIT
// result is result<T, E> with an E that is not a record, variant, enum or
// flags type (for those, the E value itself is the error). Value holds the
// E value; for a result without an E type, E is struct{}.
//
// Host implementations of imported functions return a *ResultError to make
// the function return err(Value) to the component.
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

// qualifiedFunc is "interface#function" for messages.
func (p *goPackage) qualifiedFunc(fn *wit.Function) string {
	if p.instance == "" {
		return fn.Name
	}
	return p.instance + "#" + fn.Name
}

// ---------------------------------------------------------------------------
// Calling exports

// exportCall writes the body of a Go method calling the exported function
// held in funcExpr. recv is the receiver expression giving the conversion
// context's exports; selfArg, for methods, the self argument.
func (f *file) exportCall(fi *fnInfo, funcExpr, cxInit, selfArg string) {
	if fi.faults {
		f.p("defer %s.Catch(&err)", f.std("witrt"))
	}
	if fi.cx {
		f.p("cx := %s", cxInit)
	}
	var args []string
	if selfArg != "" {
		args = append(args, selfArg)
	}
	for _, p := range fi.params {
		args = append(args, f.lower(p.wit.Type, p.name))
	}
	if fi.result != nil && readable(fi.result) {
		f.exportCallRead(fi, funcExpr, args)
		return
	}
	assign := "callRes, err :="
	if fi.result == nil {
		assign = "_, err ="
	}
	if len(args) > 3 {
		f.p("%s %s.Call(ctx,\n%s,\n)", assign, funcExpr, strings.Join(args, ",\n"))
	} else {
		f.p("%s %s.Call(ctx%s)", assign, funcExpr, prefixComma(args))
	}
	if fi.cx {
		f.p("cx.dropBorrows(ctx)")
	}
	switch {
	case fi.result == nil:
		f.p("return err")
	case fi.isResult:
		f.p("if err != nil {")
		if fi.ok == nil {
			f.p("return err\n}")
		} else {
			f.p("return ret, err\n}")
		}
		retPrefix := "ret, "
		if fi.ok == nil {
			retPrefix = ""
		}
		if fi.ok != nil || fi.err != nil {
			f.p("payload, _ := callRes.Payload()")
		}
		f.p("if !callRes.IsOk() {")
		errVal := ""
		if fi.err != nil {
			errVal = f.lift(fi.err, "payload")
		}
		f.exportErrReturn(fi, retPrefix, errVal)
		f.p("}")
		if fi.ok == nil {
			f.p("return nil")
		} else {
			f.p("return %s, nil", f.lift(fi.ok, "payload"))
		}
	default:
		f.p("if err != nil {\nreturn ret, err\n}")
		f.p("return %s, nil", f.lift(fi.result, "callRes"))
	}
}

// exportCallRead writes the rest of exportCall for a result without
// resources: the result is read in place (Func.CallRead), without a Val
// tree; a batch of log entries is thousands of Vals otherwise.
func (f *file) exportCallRead(fi *fnInfo, funcExpr string, args []string) {
	b := f.std("bindings")
	f.p("var callRes %s", f.goType(fi.result))
	read := fmt.Sprintf("func(witR %s.Reader) error {\ncallRes = %s\nreturn nil\n}", b, f.read(fi.result, "witR"))
	if len(args) > 3 {
		f.p("err = %s.CallRead(ctx, %s,\n%s,\n)", funcExpr, read, strings.Join(args, ",\n"))
	} else {
		f.p("err = %s.CallRead(ctx, %s%s)", funcExpr, read, prefixComma(args))
	}
	if fi.cx {
		f.p("cx.dropBorrows(ctx)")
	}
	if fi.isResult && fi.ok == nil {
		f.p("if err != nil {\nreturn err\n}")
	} else {
		f.p("if err != nil {\nreturn ret, err\n}")
	}
	if !fi.isResult {
		f.p("return callRes, nil")
		return
	}
	retPrefix := "ret, "
	if fi.ok == nil {
		retPrefix = ""
	}
	f.p("if callRes.IsErr {")
	errVal := ""
	if fi.err != nil {
		errVal = "callRes.Err"
	}
	f.exportErrReturn(fi, retPrefix, errVal)
	f.p("}")
	if fi.ok == nil {
		f.p("return nil")
	} else {
		f.p("return callRes.OK, nil")
	}
}

// exportErrReturn writes how an exported function returns the err case of
// its result<T, E>, whose Go value is errVal ("" when E is absent): as E
// itself when E is an error type, else as a *ResultError.
func (f *file) exportErrReturn(fi *fnInfo, retPrefix, errVal string) {
	switch f.pkg.g.errMode(fi.err) {
	case errPointer:
		f.p("errVal := %s", errVal)
		f.p("return %s&errVal", retPrefix)
	case errValue:
		f.p("return %s%s", retPrefix, errVal)
	default:
		val := ""
		if errVal != "" {
			val = ", Value: " + errVal
		}
		f.p("return %s&ResultError[%s]{Func: %q%s}", retPrefix, f.resultErrorArg(fi.err), f.pkg.qualifiedFunc(fi.fn), val)
	}
}

func prefixComma(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return ", " + strings.Join(args, ", ")
}

// funcDoc documents a generated function.
func funcDoc(goName, verb string, fn *wit.Function) string {
	return docComment(fmt.Sprintf("%s %s %s.", goName, verb, "`"+witSignature(fn)+"`"), fn.Docs.Contents, "")
}

// exportsBindings writes the Exports type of an interface package.
func (f *file) exportsBindings() {
	p := f.pkg
	b := f.std("bindings")
	fns := p.functions()
	fieldOf := map[*wit.Function]string{}
	for _, fn := range fns {
		if !funcHasAsync(fn) {
			fieldOf[fn] = p.exportFields[fn]
		}
	}
	foreign := p.foreignResourcePkgs()

	f.doc("Exported reports whether component c exports the interface %s.", p.instance)
	f.p("func Exported(c *%s.Component) bool { return c.Type().Export(InterfaceName) != nil }\n", b)

	f.doc("Exports calls the functions a component instance exports in %s. NewExports resolves and type-checks them once; calls then only convert values. Like its instance, an Exports is for one goroutine at a time.", p.instance)
	f.p("type Exports struct {")
	f.p("inst *%s.Instance", b)
	for _, fn := range fns {
		if fieldOf[fn] != "" {
			f.p("%s *%s.Func // %s", fieldOf[fn], b, fn.Name)
		}
	}
	for _, q := range foreign {
		f.p("%s *%sExports // for handles of %s resources", p.cxExportsField(q), f.pkgRef(q), q.instance)
	}
	f.p("}\n")

	f.doc("NewExports binds the functions that instance inst exports in %s. It fails, naming the function, when the component does not export one of them or exports it with another type than these bindings expect.", p.instance)
	f.p("func NewExports(inst *%s.Instance) (*Exports, error) {", b)
	f.p("e := &Exports{inst: inst}")
	if len(fieldOf) > 0 || len(foreign) > 0 {
		f.p("var err error")
	}
	for _, fn := range fns {
		if fieldOf[fn] == "" {
			continue
		}
		f.p("if e.%s, err = %s.ExportFunc(inst, InterfaceName, %q, %q); err != nil {\nreturn nil, err\n}", fieldOf[fn], f.std("witrt"), fn.Name, funcSig(fn))
	}
	for _, q := range foreign {
		f.p("if %sExported(inst.Component()) {", f.pkgRef(q))
		f.p("if e.%s, err = %sNewExports(inst); err != nil {\nreturn nil, err\n}\n}", p.cxExportsField(q), f.pkgRef(q))
	}
	f.p("return e, nil\n}\n")
	f.p("// Bindings returns the instance the exports belong to.")
	f.p("func (e *Exports) Bindings() *%s.Instance { return e.inst }\n", b)

	for _, fn := range fns {
		if funcHasAsync(fn) {
			f.p("// %s is not bound: its type has futures, streams or error-contexts,", fn.Name)
			f.p("// which wasmtime's C API cannot carry.\n")
			continue
		}
		if fn.IsMethod() {
			continue // on the resource's handle type
		}
		fi := f.fnInfo(fn, p.funcNames[fn])
		doc := funcDoc(fi.goName, "calls", fn)
		f.p("%sfunc (e *Exports) %s(%s) %s {", doc, fi.goName, f.goParams(fi), f.exportResults(fi))
		f.exportCall(fi, "e."+fieldOf[fn], p.cxInit("e.inst.Store()", "e", false), "")
		f.p("}\n")
	}
}

// foreignResourcePkgs lists the packages of the resources of other
// interfaces that the package's functions carry, in package order.
func (p *goPackage) foreignResourcePkgs() []*goPackage {
	seen := map[*goPackage]bool{}
	visit := func(t wit.Type) {
		walkType(t, func(td *wit.TypeDef) {
			if _, ok := td.Kind.(*wit.Resource); ok && isNamed(td) {
				q := p.g.pkgOf(td)
				if q != p && q.iface != nil {
					seen[q] = true
				}
			}
		})
	}
	each := func(fn *wit.Function) {
		if funcHasAsync(fn) {
			return
		}
		for _, pr := range fn.Params {
			visit(pr.Type)
		}
		for _, r := range fn.Results {
			visit(r.Type)
		}
	}
	for _, fn := range p.functions() {
		each(fn)
	}
	if p.world != nil {
		p.world.AllItems()(func(_ string, it wit.WorldItem) bool {
			if fn, ok := it.(*wit.Function); ok {
				each(fn)
			}
			return true
		})
	}
	var out []*goPackage
	for _, q := range p.g.pkgs {
		if seen[q] {
			out = append(out, q)
		}
	}
	return out
}

// hasCx reports whether any function of the package needs the conversion
// context.
func (p *goPackage) hasCx() bool {
	found := false
	check := func(fn *wit.Function) {
		if funcHasAsync(fn) {
			return
		}
		for _, pr := range fn.Params {
			found = found || needsCx(pr.Type)
		}
		for _, r := range fn.Results {
			found = found || needsCx(r.Type)
		}
	}
	for _, fn := range p.functions() {
		check(fn)
	}
	if p.world != nil {
		p.world.AllItems()(func(_ string, it wit.WorldItem) bool {
			if fn, ok := it.(*wit.Function); ok {
				check(fn)
			}
			return true
		})
	}
	return found
}

// cxInit returns the expression creating the conversion context. store is
// the store expression; exp the expression of the package's *Exports (or
// *Instance for worlds), "" for none.
func (p *goPackage) cxInit(store, exp string, host bool) string {
	var parts []string
	parts = append(parts, "store: "+store)
	if host {
		parts = append(parts, "host: true")
	}
	if exp != "" && !host {
		if p.iface != nil {
			parts = append(parts, "exp: "+exp)
			for _, q := range p.foreignResourcePkgs() {
				parts = append(parts, fmt.Sprintf("%s: %s.%s", p.cxExportsField(q), exp, p.cxExportsField(q)))
			}
		} else {
			for _, q := range p.foreignResourcePkgs() {
				if field := p.worldExportField(q); field != "" {
					parts = append(parts, fmt.Sprintf("%s: %s.%s", p.cxExportsField(q), exp, field))
				}
			}
		}
	}
	return "&" + cxName + "{" + strings.Join(parts, ", ") + "}"
}

// declareCx writes the conversion context type of a package.
func (f *file) declareCx() {
	p := f.pkg
	b := f.std("bindings")
	f.p("// %s is what converting values that carry resource handles needs.", cxName)
	f.p("type %s struct {", cxName)
	f.p("store *%s.Store", b)
	f.p("host bool // converting for a host function: own handles are host values")
	if p.iface != nil {
		f.p("exp *Exports")
	}
	for _, q := range p.foreignResourcePkgs() {
		f.p("%s *%sExports", p.cxExportsField(q), f.pkgRef(q))
	}
	f.p("borrows []*%s.Resource // temporary handles of host values lent to a call", b)
	f.p("}\n")
	f.p("// dropBorrows drops the temporary handles made for borrow arguments.")
	f.p("func (cx *%s) dropBorrows(ctx %s.Context) {", cxName, f.std("context"))
	f.p("for _, r := range cx.borrows {\n%s.DropBorrow(ctx, cx.store, r)\n}\ncx.borrows = nil\n}\n", f.std("witrt"))
}

// ---------------------------------------------------------------------------
// Resources

// resourceMethods returns the method functions of resource t.
func (p *goPackage) resourceMethods(t *wit.TypeDef) []*wit.Function {
	var out []*wit.Function
	all := p.functions()
	if p.world != nil {
		p.world.AllItems()(func(_ string, it wit.WorldItem) bool {
			if fn, ok := it.(*wit.Function); ok {
				all = append(all, fn)
			}
			return true
		})
	}
	for _, fn := range all {
		if m, ok := fn.Kind.(*wit.Method); ok && namedRoot(m.Type.(*wit.TypeDef)) == t {
			out = append(out, fn)
		}
	}
	return out
}

// handleMethodNames gives the Go names of a resource's methods, which must
// not collide with the methods every handle type has.
func (p *goPackage) handleMethodNames(t *wit.TypeDef) map[*wit.Function]string {
	s := newScope("Drop", "Close", "Resource", "Host", "Handle", "String")
	out := map[*wit.Function]string{}
	for _, fn := range p.resourceMethods(t) {
		out[fn] = s.claim(exportedName(fn.BaseName()))
	}
	return out
}

func (f *file) declareResource(t *wit.TypeDef) {
	p := f.pkg
	b := f.std("bindings")
	ctxT := f.std("context") + ".Context"
	name := p.typeNames[t]
	rn := p.resNames[t]
	host := rn.host
	witName := t.TypeName()
	full := witName
	if p.instance != "" {
		full = p.instance + "#" + witName
	}
	methods := p.resourceMethods(t)
	names := p.handleMethodNames(t)

	first := fmt.Sprintf("%s is a handle to a %s, the WIT resource %s. A handle is either a resource a component exported, whose methods call the component, or a host value (%s) the host lends or gives to components; own<%s> and borrow<%s> are both *%s.",
		name, witName, full, host, witName, witName, name)
	f.p("%stype %s struct {", docComment(first, t.Docs.Contents, ""), name)
	f.p("res *%s.Resource // a component's resource", b)
	if p.iface != nil {
		f.p("exp *Exports // calls its methods")
	}
	f.p("host %s // a host value", host)
	f.p("}\n")

	f.p("%s", comment(wrap(fmt.Sprintf("%s is implemented by the host's values of resource %s. Drop runs when components dropped their last handle to the value.", host, witName), 76), ""))
	f.p("type %s interface {", host)
	for _, fn := range methods {
		if funcHasAsync(fn) {
			continue
		}
		fi := f.fnInfo(fn, names[fn])
		f.p("%s%s(%s) %s", funcDoc(fi.goName, "implements the method", fn), names[fn], f.goParams(fi), f.importResults(fi))
	}
	f.p("// Drop releases the value: components hold no handle to it anymore.")
	f.p("Drop(ctx %s)", ctxT)
	f.p("}\n")

	f.p("// %s returns a handle to a host value, to give or lend to components.", rn.newHost)
	f.p("func %s(v %s) *%s { return &%s{host: v} }\n", rn.newHost, host, name, name)

	table := tableVar(name)
	f.p("// %s maps the handles components hold to host values of %s.", table, witName)
	f.p("var %s = %s.NewHostTable[*%s](%q)\n", table, f.std("witrt"), name, full)
	f.doc("%s defines the host resource type %s under name in li, as AddToLinker does; the AddToLinker of interfaces that use %s call it for their own instance.", rn.define, witName, witName)
	f.p("func %s(li %s.LinkerInstance, name string) error {", rn.define, b)
	f.p("return li.DefineResource(name, %s.Type, func(ctx %s, rep uint32) error {", table, ctxT)
	f.p("h, last := %s.Dropped(%s.StoreFromContext(ctx), rep)", table, b)
	f.p("if last && h != nil && h.host != nil {\nh.host.Drop(ctx)\n}\nreturn nil\n})\n}\n")

	f.p("// Resource returns the component's handle, or nil for a host value.")
	f.p("func (h *%s) Resource() *%s.Resource { return h.res }\n", name, b)
	f.p("// Host returns the host value, or nil for a component's resource.")
	f.p("func (h *%s) Host() %s { return h.host }\n", name, host)
	f.p("// Handle returns the handle to pass h to a component in store s: the")
	f.p("// component's own handle for its resource, or a new handle of the host")
	f.p("// resource type for a host value (with borrow, a temporary one that the")
	f.p("// caller drops after the call).")
	f.p("func (h *%s) Handle(s *%s.Store, borrow bool) (*%s.Resource, error) {", name, b, b)
	f.p("if h.res != nil {\nreturn h.res, nil\n}")
	f.p("if h.host == nil {\nreturn nil, %s.New(%q)\n}", f.std("errors"), "zero "+name+" handle")
	f.p("return %s.New(s, h, borrow)\n}\n", table)
	f.p("// Drop drops a component's resource: its destructor runs in the component,")
	f.p("// under the store's call limits. For a host value Drop does nothing: the")
	f.p("// components holding handles to it drop them.")
	f.p("func (h *%s) Drop(ctx %s) error {\nif h.res == nil {\nreturn nil\n}\nreturn h.res.Drop(ctx)\n}\n", name, ctxT)
	f.p("// Close releases a component's handle without dropping the resource.")
	f.p("func (h *%s) Close() {\nif h.res != nil {\nh.res.Close()\n}\n}\n", name)

	if p.iface == nil {
		return
	}
	f.p("// %s returns the handle for a %s handle r received from a", rn.fromResource, witName)
	f.p("// component in store s: for a host handle, the host value behind it (with")
	f.p("// own, taken back from the component); otherwise the component's resource,")
	f.p("// whose methods call e. Bindings of other interfaces using %s call it.", witName)
	f.p("func %s(s *%s.Store, r *%s.Resource, e *Exports, own bool) (*%s, error) {", rn.fromResource, b, b, name)
	f.p("if _, _, err := r.HostRep(); err != nil {\nreturn &%s{res: r, exp: e}, nil\n}", name)
	f.p("var h *%s\nvar err error\nif own {\nh, err = %s.Take(s, r)\n} else {\nh, err = %s.Lookup(s, r)\n}", name, table, table)
	f.p("r.Close()\nreturn h, err\n}\n")

	// Methods calling the component, or forwarding to the host value.
	for _, fn := range methods {
		if funcHasAsync(fn) {
			continue
		}
		fi := f.fnInfo(fn, names[fn])
		f.p("%sfunc (h *%s) %s(%s) %s {", funcDoc(fi.goName, "calls the method", fn), name, fi.goName, f.goParams(fi), f.exportResults(fi))
		f.p("if h.res == nil {")
		f.p("if h.host == nil {")
		if fi.result == nil || (fi.isResult && fi.ok == nil) {
			f.p("return %s.New(%q)\n}", f.std("errors"), "zero "+name+" handle")
		} else {
			f.p("return ret, %s.New(%q)\n}", f.std("errors"), "zero "+name+" handle")
		}
		var args []string
		for _, pa := range fi.params {
			args = append(args, pa.name)
		}
		call := fmt.Sprintf("h.host.%s(ctx%s)", fi.goName, prefixComma(args))
		switch {
		case fi.result == nil:
			f.p("%s\nreturn nil", call)
		case fi.isResult:
			f.p("return %s", call)
		default:
			f.p("return %s, nil", call)
		}
		f.p("}")
		if fi.result == nil || (fi.isResult && fi.ok == nil) {
			f.p("if h.exp == nil {\nreturn %s.New(%q)\n}", f.std("errors"), name+" handle is not bound to its component's exports")
		} else {
			f.p("if h.exp == nil {\nreturn ret, %s.New(%q)\n}", f.std("errors"), name+" handle is not bound to its component's exports")
		}
		f.p("e := h.exp")
		f.exportCall(fi, "e."+p.exportFields[fn], p.cxInit("e.inst.Store()", "e", false), b+".ResourceVal(h.res)")
		f.p("}\n")
	}
}

// ---------------------------------------------------------------------------
// Implementing imports

// importsBindings writes the Imports interface and AddToLinker of a package:
// for an interface, its functions; for a world, its world-level imports
// (then named Functions and addFunctions).
func (f *file) importsBindings(fns []*wit.Function, resources []*wit.TypeDef, ifaceName, addName, instExpr string) {
	p := f.pkg
	b := f.std("bindings")
	// Imported only when used: an interface of async functions only binds
	// none.
	ctxT := func() string { return f.std("context") + ".Context" }
	var bound []*wit.Function
	for _, fn := range fns {
		if !funcHasAsync(fn) {
			bound = append(bound, fn)
		}
	}
	what := p.instance
	if p.world != nil {
		what = "the world-level imports of " + p.witName
	}
	text := fmt.Sprintf("%s is implemented by the host to provide %s to components. Methods get the context of the call into the component (bindings.StoreFromContext(ctx) is its store). A function whose WIT result is result<T, E> returns (T, error): an error that is (errors.As) an E becomes the err case; any other error, or a panic, traps the component.", ifaceName, what)
	if len(resources) > 0 {
		text += " Resource methods are implemented by the host values (the Host* interfaces)."
	}
	f.doc("%s", text)
	f.p("type %s interface {", ifaceName)
	for _, fn := range bound {
		if fn.IsMethod() {
			continue
		}
		fi := f.fnInfo(fn, p.funcNames[fn])
		f.p("%s%s(%s) %s", funcDoc(fi.goName, "implements", fn), fi.goName, f.goParams(fi), f.importResults(fi))
	}
	f.p("}\n")

	f.doc("%s defines %s in l, implemented by impl.", addName, what)
	f.p("func %s(l *%s.Linker, impl %s) error {", addName, b, ifaceName)
	f.p("if impl == nil {\nreturn %s.New(%q)\n}", f.std("errors"), "witgen: "+addName+" with a nil implementation")
	if len(bound) > 0 || len(resources) > 0 || (p.world == nil && len(p.usedForeignResources()) > 0) {
		f.p("li := %s", instExpr)
	}
	for _, dep := range p.typesOnlyDeps() {
		f.p("// Components importing this import %s, whose types it uses.", dep.instance)
		f.p("if err := l.Instance(%q).Declare(); err != nil {\nreturn err\n}", dep.instance)
	}
	for _, t := range resources {
		f.p("if err := %s(li, %q); err != nil {\nreturn err\n}", p.resNames[t].define, t.TypeName())
	}
	for _, u := range p.usedForeignResources() {
		if p.world != nil {
			break // AddToLinker defines them
		}
		q := p.g.pkgOf(u.target)
		f.p("// Components import %s, used from %s, along with this interface.", u.use.TypeName(), q.instance)
		f.p("if err := %s%s(li, %q); err != nil {\nreturn err\n}", f.pkgRef(q), q.resNames[u.target].define, u.use.TypeName())
	}
	for _, fn := range bound {
		fi := f.fnInfo(fn, p.funcNames[fn])
		if fn.IsMethod() {
			fi.goName = p.handleMethodNames(namedRoot(fn.Kind.(*wit.Method).Type.(*wit.TypeDef)))[fn]
		}
		if f.direct(fi) {
			f.p("if err := li.DefineFuncDirect(%q, func(ctx %s, call %s.HostCall) (err error) {", fn.Name, ctxT(), b)
			f.hostCallDirect(fi)
		} else {
			f.p("if err := li.DefineFunc(%q, func(ctx %s, args, results []%s.Val) (err error) {", fn.Name, ctxT(), b)
			f.hostCall(fi)
		}
		f.p("}); err != nil {\nreturn err\n}")
	}
	f.p("return nil\n}\n")

	f.p("var witImportSigs%s = []%s.ImportSig{", ifaceName, f.std("witrt"))
	for _, fn := range bound {
		f.p("{Name: %q, Sig: %q},", fn.Name, funcSig(fn))
	}
	f.p("}\n")
}

// direct reports whether the host function of fi can read its parameters
// and write its result in place (bindings.HostFuncDirect): no resources
// anywhere, which a Reader or Writer cannot carry.
func (f *file) direct(fi *fnInfo) bool {
	if fi.self != nil || fi.hostCx {
		return false
	}
	for _, pa := range fi.params {
		if !readable(pa.wit.Type) {
			return false
		}
	}
	return fi.result == nil || writable(fi.result)
}

// hostCallDirect writes the body of a direct host function calling impl.
func (f *file) hostCallDirect(fi *fnInfo) {
	if fi.hostFaults {
		f.p("defer %s.Catch(&err)", f.std("witrt"))
	}
	var args []string
	for i, pa := range fi.params {
		args = append(args, f.read(pa.wit.Type, fmt.Sprintf("call.Param(%d)", i)))
	}
	call := fmt.Sprintf("impl.%s(ctx%s)", fi.goName, prefixComma(args))
	if len(args) > 3 {
		call = fmt.Sprintf("impl.%s(ctx,\n%s,\n)", fi.goName, strings.Join(args, ",\n"))
	}
	const res = "call.Result(0)"
	switch {
	case fi.result == nil:
		f.p("%s\nreturn nil", call)
	case fi.isResult:
		f.hostResultBody(fi, call, func(x string) string {
			if x == "" {
				return res + ".Result(false)"
			}
			return f.write(fi.err, res+".ResultWith(false)", x)
		}, func(x string) string {
			if x == "" {
				return res + ".Result(true)"
			}
			return f.write(fi.ok, res+".ResultWith(true)", x)
		})
	default:
		f.p("%s\nreturn nil", f.write(fi.result, res, call))
	}
}

// hostResultBody writes the rest of a host function whose WIT result is a
// result<T, E>: the implementation's error becomes the err case when it is
// (errors.As) an E, and traps otherwise. setErr and setOk return the
// statement that sets the result to that case with the Go value x ("" for
// a case without a payload).
func (f *file) hostResultBody(fi *fnInfo, call string, setErr, setOk func(x string) string) {
	if fi.ok == nil {
		f.p("if err := %s; err != nil {", call)
	} else {
		f.p("v, err := %s\nif err != nil {", call)
	}
	errorsPkg := f.std("errors")
	switch f.pkg.g.errMode(fi.err) {
	case errPointer:
		f.p("var ee *%s\nif %s.As(err, &ee) {\n%s\nreturn nil\n}\nreturn err\n}", f.goType(fi.err), errorsPkg, setErr("*ee"))
	case errValue:
		f.p("var ee %s\nif %s.As(err, &ee) {\n%s\nreturn nil\n}\nreturn err\n}", f.goType(fi.err), errorsPkg, setErr("ee"))
	default:
		f.p("var re *ResultError[%s]\nif %s.As(err, &re) {", f.resultErrorArg(fi.err), errorsPkg)
		if fi.err == nil {
			f.p("%s", setErr(""))
		} else {
			f.p("%s", setErr("re.Value"))
		}
		f.p("return nil\n}\nreturn err\n}")
	}
	if fi.ok == nil {
		f.p("%s", setOk(""))
	} else {
		f.p("%s", setOk("v"))
	}
	f.p("return nil")
}

// hostCall writes the body of a host function calling impl.
func (f *file) hostCall(fi *fnInfo) {
	p := f.pkg
	if fi.hostFaults {
		f.p("defer %s.Catch(&err)", f.std("witrt"))
	}
	if fi.hostCx {
		f.p("cx := %s", p.cxInit(f.std("bindings")+".StoreFromContext(ctx)", "", true))
	}
	var args []string
	first := 0
	recv := "impl"
	if fi.self != nil {
		first = 1
		f.p("self := %s", f.lift(fi.self.Type, "args[0]"))
		f.p("if self.host == nil {\npanic(%s.Faultf(%q))\n}", f.std("witrt"), "method called on a handle that is not a host value")
		recv = "self.host"
	}
	for i, pa := range fi.params {
		args = append(args, f.lift(pa.wit.Type, fmt.Sprintf("args[%d]", i+first)))
	}
	call := fmt.Sprintf("%s.%s(ctx%s)", recv, fi.goName, prefixComma(args))
	if len(args) > 3 {
		call = fmt.Sprintf("%s.%s(ctx,\n%s,\n)", recv, fi.goName, strings.Join(args, ",\n"))
	}
	b := f.std("bindings")
	switch {
	case fi.result == nil:
		f.p("%s\nreturn nil", call)
	case fi.isResult:
		f.hostResultBody(fi, call, func(x string) string {
			if x == "" {
				return "results[0] = " + b + ".ErrEmpty()"
			}
			return "results[0] = " + b + ".Err(" + f.lower(fi.err, x) + ")"
		}, func(x string) string {
			if x == "" {
				return "results[0] = " + b + ".OkEmpty()"
			}
			return "results[0] = " + b + ".Ok(" + f.lower(fi.ok, x) + ")"
		})
	default:
		f.p("results[0] = %s\nreturn nil", f.lower(fi.result, call))
	}
}

// typesOnlyDeps lists the interfaces holding only types that the package's
// types and functions use, directly or not: a component importing the
// package's interface imports them too, and the linker must declare them.
func (p *goPackage) typesOnlyDeps() []*goPackage {
	seen := map[*goPackage]bool{}
	var visit func(q *goPackage)
	visitType := func(t wit.TypeDefKind) {
		walkType(t, func(td *wit.TypeDef) {
			if isNamed(td) {
				if q := p.g.byOwner[td.Owner]; q != nil && q != p && q.iface != nil && !seen[q] {
					seen[q] = true
					visit(q)
				}
			}
		})
	}
	visit = func(q *goPackage) {
		for _, t := range q.typeDefs() {
			visitType(t)
		}
		for _, fn := range q.functions() {
			for _, pr := range fn.Params {
				visitType(pr.Type)
			}
			for _, r := range fn.Results {
				visitType(r.Type)
			}
		}
	}
	visit(p)
	if p.world != nil {
		p.world.AllItems()(func(_ string, it wit.WorldItem) bool {
			switch it := it.(type) {
			case *wit.TypeDef:
				visitType(it)
			case *wit.Function:
				for _, pr := range it.Params {
					visitType(pr.Type)
				}
				for _, r := range it.Results {
					visitType(r.Type)
				}
			}
			return true
		})
	}
	var out []*goPackage
	for _, q := range p.g.pkgs {
		if seen[q] && !q.needsImports() {
			out = append(out, q)
		}
	}
	return out
}

type usedResource struct {
	use    *wit.TypeDef // the TypeDef bringing the resource into scope
	target *wit.TypeDef // the resource
}

// usedForeignResources lists the resources of other interfaces that the
// package brings into scope with `use`: a component importing the package's
// interface (or world) imports them in its instance too.
func (p *goPackage) usedForeignResources() []usedResource {
	var out []usedResource
	for _, t := range p.typeDefs() {
		if _, ok := t.Kind.(*wit.TypeDef); !ok {
			continue
		}
		target := namedRoot(t)
		if _, ok := target.Kind.(*wit.Resource); ok && p.g.pkgOf(target) != p {
			out = append(out, usedResource{use: t, target: target})
		}
	}
	return out
}
