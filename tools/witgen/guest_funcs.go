package main

// Functions of the Go guest bindings: wrappers that call imports through
// //go:wasmimport, and //go:wasmexport glue that calls the plugin's
// implementation of the exports.

import (
	"fmt"
	"go/format"
	"path"
	"strings"

	"go.bytecodealliance.org/wit"
)

// coreFunc is a core function the component imports (//go:wasmimport).
type coreFunc struct {
	goName, module, name string
	params               []core
	result               *core
	doc                  string
}

// wasmImport declares c for wasip1.
func (f *guestFile) wasmImport(c coreFunc) {
	if c.doc != "" {
		f.p("// %s", c.doc)
		f.p("//")
	}
	f.p("//go:wasmimport %s %s", c.module, c.name)
	f.p("//go:noescape")
	f.p("func %s(%s)%s\n", c.goName, coreParams(c.params), coreResult(c.result))
}

// stubImport defines c for other platforms: the bindings compile anywhere,
// so plugin code can be built and unit-tested natively, but only a
// component can call the host.
func (f *guestFile) stubImport(c coreFunc) {
	f.p("func %s(%s)%s {", c.goName, coreParams(c.params), coreResult(c.result))
	f.p("panic(%q)\n}\n", fmt.Sprintf("%s#%s: a component import, callable only in a wasip1 build", c.module, c.name))
}

func coreParams(ps []core) string {
	var parts []string
	for i, c := range ps {
		parts = append(parts, fmt.Sprintf("p%d %s", i, c.goType()))
	}
	return strings.Join(parts, ", ")
}

func coreResult(r *core) string {
	if r == nil {
		return ""
	}
	return " " + r.goType()
}

// guestSig is a function as the glue sees it: parameters and result, the core
// signature, and the user-facing Go signature.
type guestSig struct {
	fn       *wit.Function
	params   []wit.Param // without the self of a method
	self     *wit.TypeDef
	result   wit.Type // nil without one
	res      *wit.Result
	flatArgs []core // the core parameters of the WIT parameters
	argsMem  bool   // more than 16: passed in memory
	flatRes  []core
	resMem   bool // more than 1: in memory
	names    []string
}

func (f *guestFile) sigOf(fn *wit.Function) *guestSig {
	s := &guestSig{fn: fn}
	ps := fn.Params
	if m, ok := fn.Kind.(*wit.Method); ok {
		s.self = namedRoot(m.Type.(*wit.TypeDef))
		ps = ps[1:]
	}
	s.params = ps
	for _, p := range fn.Params {
		s.flatArgs = append(s.flatArgs, flat(p.Type)...)
	}
	s.argsMem = len(s.flatArgs) > wit.MaxFlatParams
	if len(fn.Results) == 1 {
		s.result = fn.Results[0].Type
		s.flatRes = flat(s.result)
		s.resMem = len(s.flatRes) > wit.MaxFlatResults
		if r, ok := kindOf(s.result).(*wit.Result); ok {
			s.res = r
		}
	}
	// The wrappers' locals other than pins and self end in "_", which no
	// WIT name does.
	sc := newScope("pins", "self", "cabi", "cm", "fmt", "errors", "runtime")
	for n := range f.gg.g.pkgNames {
		sc.claim(n)
	}
	for n := range predeclared {
		sc.claim(n)
	}
	for _, p := range ps {
		s.names = append(s.names, sc.claim(localName(p.Name)))
	}
	return s
}

// argsRecord is the layout of parameters passed in memory: a tuple of
// their types.
func argsLayout(ps []wit.Param) (offsets []uint32, total, al uint32) {
	al = 1
	for _, p := range ps {
		total = alignTo(total, align(p.Type))
		offsets = append(offsets, total)
		total += size(p.Type)
		al = max(al, align(p.Type))
	}
	return offsets, alignTo(total, al), al
}

// goParams renders the user-facing parameters.
func (f *guestFile) goParams(s *guestSig, sd side) string {
	var parts []string
	for i, p := range s.params {
		parts = append(parts, s.names[i]+" "+f.goType(p.Type, sd))
	}
	return strings.Join(parts, ", ")
}

// goResults renders the user-facing results: (T, error) for a result<T, E>.
func (f *guestFile) goResults(s *guestSig, sd side) string {
	switch {
	case s.result == nil:
		return ""
	case s.res != nil && s.res.OK != nil:
		return "(" + f.goType(s.res.OK, sd) + ", error)"
	case s.res != nil:
		return "error"
	}
	return f.goType(s.result, sd)
}

// resultErrorType returns the ResultError type of err type e.
func (f *guestFile) resultErrorType(e wit.Type, sd side) string {
	arg := "struct{}"
	if e != nil {
		arg = f.goType(e, sd)
	}
	return "*" + f.pkgRef(f.pkg.resultErrorPkg()) + "ResultError[" + arg + "]"
}

// ---------------------------------------------------------------------------
// Imports

// importedResource declares the handle type of an imported resource.
func (f *guestFile) importedResource(t *wit.TypeDef) {
	p := f.pkg
	name := p.model.typeNames[t]
	first := fmt.Sprintf("%s is a handle of the WIT resource %s, which the component imports. Its methods call the host; ResourceDrop drops the handle (an owned handle must be dropped, or passed on, once).", name, t.TypeName())
	f.p("%stype %s %s.Resource\n", docComment(first, t.Docs.Contents, ""), name, f.std("cm"))
	c := f.addCore(coreFunc{
		goName: "wasmimport_" + glueName(name) + "_drop", module: p.module(), name: "[resource-drop]" + strings.TrimPrefix(*t.Name, "%"),
		params: []core{cI32},
	})
	f.p("// ResourceDrop drops the handle.")
	f.p("func (self %s) ResourceDrop() {", name)
	f.p("%s.WaitMayLeave()", f.cabi())
	f.p("%s(uint32(self))\n}\n", c)
}

func (f *guestFile) addCore(c coreFunc) string {
	f.cores = append(f.cores, c)
	return c.goName
}

// glueName makes an identifier part of s.
func glueName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// importWrapper writes the Go function (or handle method) calling an
// imported function.
func (f *guestFile) importWrapper(fn *wit.Function) {
	p := f.pkg
	s := f.sigOf(fn)
	sd := importSide
	c := f.cabi()

	var coreParams []core
	if s.argsMem {
		coreParams = []core{cI32}
	} else {
		coreParams = append(coreParams, s.flatArgs...)
	}
	var coreRes *core
	if s.resMem {
		coreParams = append(coreParams, cI32)
	} else if len(s.flatRes) == 1 {
		r := s.flatRes[0]
		coreRes = &r
	}
	coreName := f.addCore(coreFunc{
		goName: p.glueNames.claim("wasmimport_" + glueName(fn.Name)), module: p.module(), name: fn.Name,
		params: coreParams, result: coreRes,
	})

	// Signature.
	goName := p.importFns[fn]
	recv := ""
	if s.self != nil {
		goName = p.model.funcNames[fn]
		recv = fmt.Sprintf("(self %s) ", f.resourceType(s.self, sd))
	}
	f.p("%sfunc %s%s(%s) %s {", funcDoc(goName, "calls the import", fn), recv, goName, f.goParams(s, sd), f.goResults(s, sd))

	// Arguments.
	needPins := s.argsMem || s.resMem
	var body strings.Builder
	var args []string
	var allParams []wit.Param
	var allNames []string
	if s.self != nil {
		allParams = append(allParams, fn.Params[0])
		allNames = append(allNames, "self")
	}
	allParams = append(allParams, s.params...)
	allNames = append(allNames, s.names...)
	if s.argsMem {
		offs, total, al := argsLayout(allParams)
		fmt.Fprintf(&body, "args_ := pins.Alloc(%d, %d)\n", total, al)
		for i, pr := range allParams {
			body.WriteString(f.store(pr.Type, sd, allNames[i], off("args_", offs[i])) + "\n")
		}
		args = append(args, "args_")
	} else {
		for i, pr := range allParams {
			pre, vals := f.lowerFlat(pr.Type, sd, allNames[i])
			body.WriteString(pre)
			for _, v := range vals {
				args = append(args, v.expr)
			}
			if hasPointers(pr.Type) {
				needPins = true
			}
		}
	}
	if s.resMem {
		fmt.Fprintf(&body, "ret_ := pins.Alloc(%d, %d)\n", size(s.result), align(s.result))
		args = append(args, "ret_")
	}
	// Results the host writes into memory it allocates with cabi_realloc
	// are pinned from the call until lifted.
	// WaitMayLeave, Mark and the call run without a goroutine switch.
	takes := s.result != nil && hasPointers(s.result)
	fmt.Fprintf(&body, "%s.WaitMayLeave()\n", c)
	if takes {
		fmt.Fprintf(&body, "mark_ := %s.Mark()\n", c)
	}
	call := fmt.Sprintf("%s(%s)", coreName, strings.Join(args, ", "))
	var resExpr string
	switch {
	case s.result == nil:
		body.WriteString(call + "\n")
	case s.resMem:
		body.WriteString(call + "\n")
		if takes {
			fmt.Fprintf(&body, "taken_ := %s.Take(mark_)\n", c)
		}
		resExpr = f.load(s.result, sd, "ret_")
	default:
		fmt.Fprintf(&body, "r_ := %s\n", call)
		if takes {
			fmt.Fprintf(&body, "taken_ := %s.Take(mark_)\n", c)
		}
		pre, x := f.liftFlat(s.result, sd, []flatVal{{"r_", s.flatRes[0]}})
		body.WriteString(pre)
		resExpr = x
	}
	if s.result != nil {
		fmt.Fprintf(&body, "res_ := %s\n", resExpr)
	}
	if takes {
		fmt.Fprintf(&body, "%s.KeepAlive(taken_)\n", f.std("runtime"))
	}
	if needPins {
		f.p("pins := %s.GetPins()", c)
		f.p("defer pins.Release()")
	}
	f.p("%s", strings.TrimSuffix(body.String(), "\n"))
	if s.result != nil {
		f.returnImportResult(s, sd, "res_")
	}
	f.p("}\n")
}

// returnImportResult returns an import's result value v to the caller:
// (ok, nil) or (zero, the err case as an error) for a result<T, E>.
func (f *guestFile) returnImportResult(s *guestSig, sd side, v string) {
	if s.res == nil {
		f.p("return %s", v)
		return
	}
	okRet := ""
	zero := ""
	if s.res.OK != nil {
		okRet = v + ".OK, "
		zero = "zero_, "
		f.p("var zero_ %s", f.goType(s.res.OK, sd))
	}
	f.p("if %s.IsErr {", v)
	switch f.gg.errMode(s.res.Err) {
	case errPointer:
		f.p("err_ := %s.Err\nreturn %s&err_", v, zero)
	case errValue:
		f.p("return %s%s.Err", zero, v)
	default:
		val := ""
		if s.res.Err != nil {
			val = ", Value: " + v + ".Err"
		}
		f.p("return %s&%sResultError[%s]{Func: %q%s}", zero, f.pkgRef(f.pkg.resultErrorPkg()), f.resultErrorArg(s.res.Err, sd), f.pkg.exportPrefix()+s.fn.Name, val)
	}
	f.p("}")
	if s.res.OK == nil {
		f.p("return nil")
	} else {
		f.p("return %snil", okRet)
	}
}

func (f *guestFile) resultErrorArg(e wit.Type, sd side) string {
	if e == nil {
		return "struct{}"
	}
	return f.goType(e, sd)
}

// hasPointers reports whether values of t point into memory (strings,
// lists).
func hasPointers(t wit.Type) bool { return wit.HasPointer(t) }

// ---------------------------------------------------------------------------
// Exports

// exportsAPI writes the Exports interface, the interfaces of exported
// resources, Export, and the glue of every exported function.
func (f *guestFile) exportsAPI() {
	p := f.pkg
	sd := exportSide
	fns := p.exportedFuncs()
	what := p.model.witName
	if p.iface == nil {
		what = "world " + what
	}

	// Resource interfaces.
	for _, r := range p.exportedResources() {
		name := p.model.typeNames[r]
		first := fmt.Sprintf("%s is the WIT resource %s, which the component exports: a value the plugin returns where the WIT has a %s is given a handle the host holds; its methods implement the resource's. If the value also has a ResourceDrop() method, it is called when the host drops the resource.",
			name, r.TypeName(), r.TypeName())
		f.p("%stype %s interface {", docComment(first, r.Docs.Contents, ""), name)
		for _, fn := range fns {
			if m, ok := fn.Kind.(*wit.Method); ok && namedRoot(m.Type.(*wit.TypeDef)) == r {
				s := f.sigOf(fn)
				f.p("%s%s(%s) %s", methodDoc(fn), p.model.funcNames[fn], f.goParams(s, sd), f.goResults(s, sd))
			}
		}
		f.p("}\n")
	}

	// Exports.
	f.doc("Exports is what a component exporting %s implements: pass an implementation to %s (in an init function).", what, p.exportName)
	f.p("type Exports interface {")
	for _, fn := range fns {
		if _, ok := fn.Kind.(*wit.Method); ok {
			continue
		}
		s := f.sigOf(fn)
		f.p("%s%s(%s) %s", methodDoc(fn), p.model.funcNames[fn], f.goParams(s, sd), f.goResults(s, sd))
	}
	f.p("}\n")
	impl := p.glueNames.claim("exportsImpl")
	p.exportsFn = p.glueNames.claim("exports")
	f.p("var %s Exports\n", impl)
	f.doc("%s sets the implementation of the exports. Call it in an init function: the host may call an export as soon as the component is instantiated.", p.exportName)
	f.p("func %s(impl Exports) { %s = impl }\n", p.exportName, impl)
	f.p("func %s() Exports {", p.exportsFn)
	f.p("if %s == nil {\npanic(%s.Missing(%q, %q))\n}", impl, f.cabi(), what, p.name)
	f.p("return %s\n}\n", impl)

	for _, fn := range fns {
		f.exportGlue(fn)
	}
}

// methodDoc documents an interface method with the WIT function it
// implements.
func methodDoc(fn *wit.Function) string {
	d := "`" + witSignature(fn) + "`"
	if fn.Docs.Contents != "" {
		d += "\n\n" + fn.Docs.Contents
	}
	return comment(d, "\t")
}

// exportGlue writes the //go:wasmexport function of fn, and its
// post-return function.
func (f *guestFile) exportGlue(fn *wit.Function) {
	p := f.pkg
	s := f.sigOf(fn)
	sd := exportSide
	c := f.cabi()
	exportName := p.exportPrefix() + fn.Name
	goName := p.glueNames.claim("wasmexport_" + glueName(fn.Name))

	var params []string
	if s.argsMem {
		params = []string{"args uint32"}
	} else {
		for i, x := range s.flatArgs {
			params = append(params, fmt.Sprintf("p%d %s", i, x.goType()))
		}
	}
	ret := ""
	if s.resMem {
		ret = " uint32"
	} else if len(s.flatRes) == 1 {
		ret = " " + s.flatRes[0].goType()
	}
	f.p("// %s is the export %s.", goName, exportName)
	f.p("//")
	f.p("//go:wasmexport %s", exportName)
	f.p("func %s(%s)%s {", goName, strings.Join(params, ", "), ret)

	// Arguments: the host allocated their memory with cabi_realloc.
	var argsHavePointers bool
	for _, pr := range fn.Params {
		argsHavePointers = argsHavePointers || hasPointers(pr.Type)
	}
	if argsHavePointers || s.argsMem {
		f.p("taken := %s.Take(0)", c)
	}
	borrows := hasImportedBorrow(f.gg, fn)
	if borrows {
		f.p("borrows := %s.BorrowMark()", c)
	}
	var args []string
	if s.argsMem {
		var all []wit.Param
		all = append(all, fn.Params...)
		offs, _, _ := argsLayout(all)
		for i, pr := range all {
			a := f.temp("a_")
			f.p("%s := %s", a, f.load(pr.Type, sd, off("args", offs[i])))
			args = append(args, a)
		}
	} else {
		i := 0
		for _, pr := range fn.Params {
			n := len(flat(pr.Type))
			var vals []flatVal
			for j := 0; j < n; j++ {
				vals = append(vals, flatVal{fmt.Sprintf("p%d", i+j), s.flatArgs[i+j]})
			}
			pre, x := f.liftFlat(pr.Type, sd, vals)
			if pre != "" {
				f.p("%s", strings.TrimSuffix(pre, "\n"))
			}
			a := f.temp("a_")
			f.p("%s := %s", a, x)
			args = append(args, a)
			i += n
		}
	}
	if argsHavePointers || s.argsMem {
		f.p("%s.KeepAlive(taken)", f.std("runtime"))
	}

	// The call.
	var recv string
	if s.self != nil {
		recv = args[0]
		args = args[1:]
	} else {
		recv = p.exportsFn + "()"
	}
	call := fmt.Sprintf("%s.%s(%s)", recv, p.model.funcNames[fn], strings.Join(args, ", "))
	switch {
	case s.result == nil:
		f.p("%s", call)
	case s.res != nil && s.res.OK != nil:
		f.p("okv, err := %s", call)
	case s.res != nil:
		f.p("err := %s", call)
	default:
		f.p("result := %s", call)
	}
	if borrows {
		f.p("%s.DropBorrows(borrows)", c)
	}
	if s.result == nil {
		f.p("}\n")
		return
	}
	if s.res != nil {
		f.p("var result %s", f.goType(s.result, sd))
		f.p("if err != nil {")
		f.p("result.IsErr = true")
		f.errToResult(s, sd)
		if s.res.OK != nil {
			f.p("} else {\nresult.OK = okv")
		}
		f.p("}")
	}

	// The result.
	if s.resMem || hasPointers(s.result) {
		f.p("pins := %s.GetPins()", c)
	}
	if s.resMem {
		f.p("ret := pins.Alloc(%d, %d)", size(s.result), align(s.result))
		f.p("%s", f.store(s.result, sd, "result", "ret"))
		f.p("%s.Return(pins)", c)
		f.p("return ret\n}\n")
		f.p("//go:wasmexport cabi_post_%s", exportName)
		f.p("func %s(uint32) { %s.PostReturn() }\n", p.glueNames.claim("wasmexport_post_"+glueName(fn.Name)), c)
		return
	}
	pre, vals := f.lowerFlat(s.result, sd, "result")
	if pre != "" {
		f.p("%s", strings.TrimSuffix(pre, "\n"))
	}
	if hasPointers(s.result) {
		f.p("pins.Release()")
	}
	f.p("return %s\n}\n", vals[0].expr)
}

// errToResult sets result.Err from err, the error an export returned for
// the err case of its result<T, E>, trapping on an error that is not an E.
func (f *guestFile) errToResult(s *guestSig, sd side) {
	e := s.res.Err
	c := f.cabi()
	errs := f.std("errors")
	qual := f.pkg.exportPrefix() + s.fn.Name
	switch {
	case e == nil:
		f.p("_ = err // any error is the err case")
	case f.gg.errMode(e) == errPointer:
		gt := f.goType(e, sd)
		f.p("var ee *%s", gt)
		f.p("if !%s.As(err, &ee) || ee == nil {\npanic(%s.WrongError(%q, %q, err))\n}", errs, c, qual, "*"+gt)
		f.p("result.Err = *ee")
	case f.gg.errMode(e) == errValue:
		gt := f.goType(e, sd)
		f.p("var ee %s", gt)
		f.p("if !%s.As(err, &ee) {\npanic(%s.WrongError(%q, %q, err))\n}", errs, c, qual, gt)
		f.p("result.Err = ee")
	default:
		re := f.resultErrorType(e, sd)
		f.p("var re %s", re)
		if _, isStr := resolveAlias(e).(wit.String); isStr {
			f.p("if %s.As(err, &re) && re != nil {\nresult.Err = re.Value\n} else {\nresult.Err = err.Error()\n}", errs)
			return
		}
		f.p("if !%s.As(err, &re) || re == nil {\npanic(%s.WrongError(%q, %q, err))\n}", errs, c, qual, re)
		f.p("result.Err = re.Value")
	}
}

// hasImportedBorrow reports whether an export receives borrowed handles of
// imported resources, which it must drop before returning.
func hasImportedBorrow(gg *guestGen, fn *wit.Function) bool {
	found := false
	for _, p := range fn.Params {
		walkType(p.Type, func(td *wit.TypeDef) {
			if b, ok := td.Kind.(*wit.Borrow); ok {
				if !gg.isExportedResource(namedRoot(b.Type), exportSide) {
					found = true
				}
			}
		})
	}
	return found // (the self of an exported resource's method arrives as its rep)
}

// resourcesFiles writes, into package cabi, the tables of the exported
// resources, their intrinsics ([resource-new], -rep and -drop, imported
// from the [export] instance) and destructors: in one place, because the
// glue of any exported interface may pass any exported resource.
func (gg *guestGen) resourcesFiles(out map[string][]byte) error {
	var b, wasm, stub strings.Builder
	for _, r := range gg.resList {
		n := gg.resName[r]
		i := r.Owner.(*wit.Interface)
		inst := gg.typePkg[i].model.instance
		wname := strings.TrimPrefix(*r.Name, "%")
		what := inst + "#" + wname
		fmt.Fprintf(&b, "// ---- %s ----\n\n", what)
		fmt.Fprintf(&b, "var table%s = NewTable[any](%q)\n\n", n, what)
		fmt.Fprintf(&b, "// New%s gives v a handle: an own of the exported resource %s.\n", n, what)
		fmt.Fprintf(&b, "func New%s(v any) uint32 {\nif v == nil {\npanic(%q)\n}\nreturn resourceNew%s(table%s.Add(v))\n}\n\n", n, "cabi: a nil "+what, n, n)
		fmt.Fprintf(&b, "// %sFromRep returns the value of rep (a borrow the component receives).\n", n)
		fmt.Fprintf(&b, "func %sFromRep(rep uint32) any { return table%s.Get(rep) }\n\n", n, n)
		fmt.Fprintf(&b, "// Take%s returns the value of own handle h passed into the component, and\n// drops the handle: the value is plain Go again, its ResourceDrop is not called.\n", n)
		fmt.Fprintf(&b, "func Take%s(h uint32) any {\nrep := resourceRep%s(h)\nv := table%s.Get(rep)\ntable%s.Detach(rep)\nresourceDrop%s(h)\nreturn v\n}\n\n", n, n, n, n, n)
		fmt.Fprintf(&b, "// Live%s returns the number of %s values the host holds handles of.\n", n, what)
		fmt.Fprintf(&b, "func Live%s() int { return table%s.Len() }\n\n", n, n)
		fmt.Fprintf(&b, "//go:wasmexport %s#[dtor]%s\n", inst, wname)
		fmt.Fprintf(&b, "func dtor%s(rep uint32) {\nv, detached := table%s.Remove(rep)\nif d, ok := v.(interface{ ResourceDrop() }); ok && !detached {\nd.ResourceDrop()\n}\n}\n\n", n, n)
		for _, x := range []struct{ fn, intr, params, result string }{
			{"resourceNew" + n, "[resource-new]", "rep uint32", " uint32"},
			{"resourceRep" + n, "[resource-rep]", "h uint32", " uint32"},
			{"resourceDrop" + n, "[resource-drop]", "h uint32", ""},
		} {
			fmt.Fprintf(&wasm, "//go:wasmimport [export]%s %s%s\n//go:noescape\nfunc %s(%s)%s\n\n", inst, x.intr, wname, x.fn, x.params, x.result)
			fmt.Fprintf(&stub, "func %s(%s)%s {\npanic(%q)\n}\n\n", x.fn, x.params, x.result, x.intr+wname+": a component intrinsic, callable only in a wasip1 build")
		}
	}
	head := generatedLine + "\n\n"
	for name, src := range map[string]string{
		"resources.wit.go":       head + "package cabi\n\n" + b.String(),
		"resources.wasm.wit.go":  head + "//go:build wasip1\n\npackage cabi\n\n" + wasm.String(),
		"resources.stubs.wit.go": head + "//go:build !wasip1\n\npackage cabi\n\n" + stub.String(),
	} {
		formatted, err := format.Source([]byte(src))
		if err != nil {
			return fmt.Errorf("formatting %s: %w\n%s", name, err, numbered(src))
		}
		out[path.Join(guestRuntimeDir, name)] = formatted
	}
	return nil
}
