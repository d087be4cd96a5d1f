package corpus

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RandomWorld is a random valid WIT package, and the core module of a
// component of its world w that echoes: w imports and exports interface
// api (and pairs of world-level functions call-N/run-N), and every export
// calls the import of the same signature with its own arguments and
// returns what the import returns. A host that implements each import as
// "return the arguments" (one argument as itself, several as a tuple) gets
// back, from each export, exactly what it sent: a round trip of every
// value through the component, lowered and lifted twice. (Borrowed
// handles cannot be returned: the echo drops them, and returns the other
// arguments.) The api interface may also declare a resource the component
// implements (Guest).
type RandomWorld struct {
	Seed    int64
	Package string // "fuzz:p<seed>"
	WIT     string
	// CoreWAT is the core module (`wasm-tools component embed` with WIT
	// and `component new` make the component).
	CoreWAT string
	// Exports are the exported functions: {"", "run-0"} or
	// {"fuzz:p1/api", "type"}, with the world-level import each calls.
	Exports []RandomExport
	// Resources maps the names of resource types (resources, and aliases
	// of them: `type a = r`) to the resource they name.
	Resources map[string]string
	// Guest, when not nil, is a resource of the api interface, which the
	// component exports.
	Guest *GuestResource
}

// GuestResource is a resource the component implements:
// `resource r { constructor(v: u32); m: func() -> u32; }`, whose handles
// hold v as their representation and m returns it.
type GuestResource struct {
	Interface string // "fuzz:p1/api"
	Name      string // r
	Method    string // m
}

// RandomExport is an exported function of a RandomWorld.
type RandomExport struct {
	Interface string // "" for a world-level function
	Name      string
	Import    string // the world-level import it calls (Interface == "")
}

// names are identifiers witgen must escape or avoid: Go keywords and
// predeclared identifiers, and the names generated code declares (its
// parameters, locals, receivers, imports and exported API).
var names = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
	"for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
	"return", "select", "struct", "switch", "type", "var",
	"any", "append", "bool", "byte", "cap", "clear", "close", "complex", "copy", "delete",
	"error", "false", "float32", "float64", "imag", "int", "iota", "len", "make", "max", "min",
	"new", "nil", "panic", "print", "real", "recover", "rune", "string", "true", "uint",
	"imports", "exports", "inst", "l", "i", "c", "e", "h", "ret", "err", "ctx", "cx", "payload",
	"call-res", "err-val", "bindings", "witrt", "context", "errors", "fmt", "strings", "store",
	"linker", "instance", "bind", "instantiate", "functions", "interface-name", "exported",
	"new-exports", "add-to-linker", "check-imports", "result-error", "drop", "handle",
	"resource", "host", "li", "args", "results", "self", "v", "x", "ok", "world-name",
	"lift-x", "lower-x", "wit-rt", "wit-cx", "id", "url", "http-status", "json",
}

type rtype struct {
	kind   string // a primitive, or list option result tuple record variant enum flags alias
	name   string // record variant enum flags alias
	elems  []*rtype
	labels []string
	ok     *rtype // result; nil: none
	err    *rtype
}

type gen struct {
	rng       *rand.Rand
	named     []*rtype // the named types in scope
	resources []*rtype // the resources (of interface types), kind "resource"
}

var primitives = []string{"bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char", "string"}

// scope hands out unique names from the pool (then with a suffix).
type nameScope map[string]bool

func (g *gen) name(s nameScope) string {
	for {
		n := names[g.rng.Intn(len(names))]
		if g.rng.Intn(4) == 0 {
			n = fmt.Sprintf("%s-%c%d", n, 'a'+rune(g.rng.Intn(26)), g.rng.Intn(10))
		}
		// WIT compares names without their dashes (witrt is wit-rt).
		if key := strings.ReplaceAll(n, "-", ""); !s[key] {
			s[key] = true
			return n
		}
	}
}

func (g *gen) typ(depth int) *rtype {
	if depth <= 0 || g.rng.Intn(3) == 0 {
		return &rtype{kind: primitives[g.rng.Intn(len(primitives))]}
	}
	switch g.rng.Intn(6) {
	case 0:
		return &rtype{kind: "list", elems: []*rtype{g.typ(depth - 1)}}
	case 1:
		return &rtype{kind: "option", elems: []*rtype{g.typ(depth - 1)}}
	case 2:
		r := &rtype{kind: "result"}
		if g.rng.Intn(3) > 0 {
			r.ok = g.typ(depth - 1)
		}
		if g.rng.Intn(3) > 0 {
			r.err = g.typ(depth - 1)
		}
		return r
	case 3:
		t := &rtype{kind: "tuple"}
		for range 1 + g.rng.Intn(3) {
			t.elems = append(t.elems, g.typ(depth-1))
		}
		return t
	}
	if len(g.resources) > 0 && g.rng.Intn(4) == 0 {
		return g.resources[g.rng.Intn(len(g.resources))] // own<r>
	}
	if len(g.named) > 0 {
		return g.named[g.rng.Intn(len(g.named))]
	}
	return &rtype{kind: primitives[g.rng.Intn(len(primitives))]}
}

func (g *gen) namedType(s nameScope) *rtype {
	t := &rtype{name: g.clashingName(s)}
	labels := nameScope{}
	switch g.rng.Intn(5) {
	case 0:
		t.kind = "record"
		for range 1 + g.rng.Intn(4) {
			t.labels = append(t.labels, g.name(labels))
			t.elems = append(t.elems, g.typ(2))
		}
	case 1:
		t.kind = "variant"
		for range 1 + g.rng.Intn(4) {
			t.labels = append(t.labels, g.name(labels))
			var p *rtype
			if g.rng.Intn(3) > 0 {
				p = g.typ(2)
			}
			t.elems = append(t.elems, p)
		}
	case 2:
		t.kind = "enum"
		for range 1 + g.rng.Intn(5) {
			t.labels = append(t.labels, g.name(labels))
		}
	case 3:
		t.kind = "flags"
		n := 1 + g.rng.Intn(12)
		if g.rng.Intn(6) == 0 {
			n = 17 + g.rng.Intn(16) // up to the 32 flags WIT allows
		}
		for range n {
			t.labels = append(t.labels, g.name(labels))
		}
	default:
		t.kind = "alias"
		t.elems = []*rtype{g.typ(2)}
	}
	return t
}

// clashingName returns, one time in four, a name made to clash with the
// Go names witgen derives from the named types and resources in scope:
// enum constants and variant case types (type name + case name), and a
// resource's HostR, NewHostR, RFromResource and DefineR. Otherwise (and
// when that name is taken) a name from the pool.
func (g *gen) clashingName(s nameScope) string {
	if g.rng.Intn(4) == 0 {
		var cands []string
		for _, t := range g.named {
			switch t.kind {
			case "enum", "variant", "flags":
				cands = append(cands, t.name+"-"+t.labels[g.rng.Intn(len(t.labels))])
			}
		}
		for _, r := range g.resources {
			cands = append(cands, "host-"+r.name, "new-host-"+r.name, r.name+"-from-resource", "define-"+r.name)
		}
		if len(cands) > 0 {
			n := cands[g.rng.Intn(len(cands))]
			if key := strings.ReplaceAll(n, "-", ""); !s[key] {
				s[key] = true
				return n
			}
		}
	}
	return g.name(s)
}

// resource makes a resource of interface types, with a random constructor,
// methods and static functions (which the component does not call: the
// host implements them, and their bindings must compile).
func (g *gen) resource(s nameScope) *rtype {
	return &rtype{kind: "resource", name: g.name(s)}
}

// resourceDefinition declares r; its functions may use every named type.
func (g *gen) resourceDefinition(r *rtype) string {
	var parts []string
	if g.rng.Intn(2) == 0 {
		f := g.fn(nameScope{}, nil)
		var ps []string
		for i, p := range f.params {
			ps = append(ps, id(f.pnames[i])+": "+p.ref())
		}
		parts = append(parts, "constructor("+strings.Join(ps, ", ")+");")
	}
	fns := nameScope{strings.ReplaceAll(r.name, "-", ""): true} // [static]r.r would clash with r
	for range g.rng.Intn(3) {
		f := g.fn(fns, nameScope{"self": true})
		m := f.wit(f.name)
		if g.rng.Intn(3) == 0 {
			m = strings.Replace(m, ": func(", ": static func(", 1)
		}
		parts = append(parts, m)
	}
	if len(parts) == 0 {
		return "resource " + id(r.name) + ";"
	}
	return "resource " + id(r.name) + " {\n    " + strings.Join(parts, "\n    ") + "\n  }"
}

// id %-escapes a WIT identifier (any may be a WIT keyword).
func id(s string) string { return "%" + s }

func (t *rtype) ref() string {
	if t.name != "" {
		return id(t.name)
	}
	switch t.kind {
	case "list", "option", "borrow":
		return t.kind + "<" + t.elems[0].ref() + ">"
	case "tuple":
		var parts []string
		for _, e := range t.elems {
			parts = append(parts, e.ref())
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case "result":
		switch {
		case t.ok == nil && t.err == nil:
			return "result"
		case t.err == nil:
			return "result<" + t.ok.ref() + ">"
		case t.ok == nil:
			return "result<_, " + t.err.ref() + ">"
		}
		return "result<" + t.ok.ref() + ", " + t.err.ref() + ">"
	}
	return t.kind
}

func (t *rtype) definition() string {
	var parts []string
	switch t.kind {
	case "record":
		for i, l := range t.labels {
			parts = append(parts, id(l)+": "+t.elems[i].ref())
		}
	case "variant":
		for i, l := range t.labels {
			if t.elems[i] == nil {
				parts = append(parts, id(l))
			} else {
				parts = append(parts, id(l)+"("+t.elems[i].ref()+")")
			}
		}
	case "enum", "flags":
		for _, l := range t.labels {
			parts = append(parts, id(l))
		}
	case "alias":
		return "type " + id(t.name) + " = " + t.elems[0].ref() + ";"
	}
	return t.kind + " " + id(t.name) + " { " + strings.Join(parts, ", ") + " }"
}

type rfunc struct {
	name   string
	params []*rtype
	pnames []string
}

// result is what the function returns: its argument, or a tuple of its
// arguments; nil without arguments. Borrowed handles cannot be returned:
// the result leaves them out.
func (f *rfunc) result() *rtype {
	var owned []*rtype
	for _, p := range f.params {
		if p.kind != "borrow" {
			owned = append(owned, p)
		}
	}
	switch len(owned) {
	case 0:
		return nil
	case 1:
		return owned[0]
	}
	return &rtype{kind: "tuple", elems: owned}
}

func (f *rfunc) wit(name string) string {
	var ps []string
	for i, p := range f.params {
		ps = append(ps, id(f.pnames[i])+": "+p.ref())
	}
	s := id(name) + ": func(" + strings.Join(ps, ", ") + ")"
	if r := f.result(); r != nil {
		s += " -> " + r.ref()
	}
	return s + ";"
}

// fn makes a function named from s, its parameters named from pn (nil:
// any name).
func (g *gen) fn(s, pn nameScope) *rfunc {
	f := &rfunc{name: g.name(s)}
	if pn == nil {
		pn = nameScope{}
	}
	n := g.rng.Intn(5)
	if g.rng.Intn(8) == 0 {
		n = 9 + g.rng.Intn(6) // past 16 flat parameters: passed in memory
	}
	for range n {
		f.pnames = append(f.pnames, g.name(pn))
		t := g.typ(3)
		if len(g.resources) > 0 && g.rng.Intn(5) == 0 {
			t = &rtype{kind: "borrow", elems: []*rtype{g.resources[g.rng.Intn(len(g.resources))]}}
		}
		f.params = append(f.params, t)
	}
	// The echo drops the borrowed handles it gets, which it finds among
	// its flat parameters only: passed in memory, they are owned instead.
	flat := 0
	for _, p := range f.params {
		flat += len(flatten(p))
	}
	if flat > maxFlatParams {
		for i, p := range f.params {
			if p.kind == "borrow" {
				f.params[i] = p.elems[0]
			}
		}
	}
	return f
}

// NewRandomWorld makes the random world of seed.
func NewRandomWorld(seed int64) *RandomWorld {
	g := &gen{rng: rand.New(rand.NewSource(seed))}
	w := &RandomWorld{Seed: seed, Package: fmt.Sprintf("fuzz:p%d", seed)}
	ifaces := nameScope{"w": true}
	types, api := g.name(ifaces), g.name(ifaces)
	var b strings.Builder
	fmt.Fprintf(&b, "package %s;\n\ninterface %s {\n", w.Package, id(types))
	tnames := nameScope{}
	// Resources of interface types are the host's (the component imports
	// types), so that the echo can pass their handles on to its imports.
	for range []int{0, 0, 1, 2}[g.rng.Intn(4)] {
		g.resources = append(g.resources, g.resource(tnames))
	}
	for range 2 + g.rng.Intn(6) {
		t := g.namedType(tnames)
		fmt.Fprintf(&b, "  %s\n", t.definition())
		g.named = append(g.named, t)
	}
	for _, r := range g.resources {
		fmt.Fprintf(&b, "  %s\n", g.resourceDefinition(r))
	}

	b.WriteString("}\n\n")
	var uses []string
	for _, t := range g.named {
		uses = append(uses, id(t.name))
	}
	for _, r := range g.resources {
		uses = append(uses, id(r.name))
	}
	use := fmt.Sprintf("  use %s.{%s};\n", id(types), strings.Join(uses, ", "))
	fmt.Fprintf(&b, "interface %s {\n%s", id(api), use)
	fnames := nameScope{}
	for k := range tnames {
		fnames[k] = true // a function may not share a type's name
	}
	// Types of the api interface itself: imported and exported with it.
	typesNamed := g.named
	for range g.rng.Intn(3) {
		t := g.namedType(fnames)
		fmt.Fprintf(&b, "  %s\n", t.definition())
		g.named = append(g.named, t)
	}
	w.Resources = map[string]string{}
	for _, t := range append(g.named, g.resources...) {
		r := t
		for r.kind == "alias" {
			r = r.elems[0]
		}
		if r.kind == "resource" {
			w.Resources[t.name] = r.name
		}
	}
	var apiFns []*rfunc
	for range 1 + g.rng.Intn(6) {
		f := g.fn(fnames, nil)
		apiFns = append(apiFns, f)
		fmt.Fprintf(&b, "  %s\n", f.wit(f.name))
	}
	if g.rng.Intn(2) == 0 {
		gr := g.name(fnames)
		// [method]r.r would clash with r.
		w.Guest = &GuestResource{Interface: w.Package + "/" + api, Name: gr, Method: g.name(nameScope{strings.ReplaceAll(gr, "-", ""): true})}
		w.Resources[w.Guest.Name] = w.Guest.Name
		fmt.Fprintf(&b, "  resource %s {\n    constructor(%s: u32);\n    %s: func() -> u32;\n  }\n", id(w.Guest.Name), id(g.name(nameScope{})), id(w.Guest.Method))
	}
	b.WriteString("}\n\n")
	g.named = typesNamed // the world uses those of types only
	fmt.Fprintf(&b, "world w {\n%s  import %s;\n  export %s;\n", use, id(api), id(api))
	var worldFns []*rfunc
	for i := range g.rng.Intn(3) {
		f := g.fn(nameScope{}, nil)
		f.name = fmt.Sprintf("run-%c", 'a'+i)
		worldFns = append(worldFns, f)
		fmt.Fprintf(&b, "  import %s\n  export %s\n", f.wit(fmt.Sprintf("call-%c", 'a'+i)), f.wit(f.name))
	}
	b.WriteString("}\n")
	w.WIT = b.String()

	apiName := w.Package + "/" + api
	var m strings.Builder
	m.WriteString("(module\n")
	for i, f := range apiFns {
		fmt.Fprintf(&m, "  (import %q %q (func $i%d %s))\n", apiName, f.name, i, lowerSig(f))
	}
	for i, f := range worldFns {
		fmt.Fprintf(&m, "  (import \"$root\" %q (func $w%d %s))\n", fmt.Sprintf("call-%c", 'a'+i), i, lowerSig(f))
	}
	for _, r := range g.resources {
		fmt.Fprintf(&m, "  (import %q %q (func $drop-%s (param i32)))\n", w.Package+"/"+types, "[resource-drop]"+r.name, r.name)
	}
	if gr := w.Guest; gr != nil {
		fmt.Fprintf(&m, "  (import %q %q (func $guest-new (param i32) (result i32)))\n", "[export]"+apiName, "[resource-new]"+gr.Name)
		// Unused, but they keep the imported interface whole, as the WIT
		// that wasm-tools reads back says it is.
		fmt.Fprintf(&m, "  (import %q %q (func (param i32) (result i32)))\n", apiName, "[constructor]"+gr.Name)
		fmt.Fprintf(&m, "  (import %q %q (func (param i32) (result i32)))\n", apiName, "[method]"+gr.Name+"."+gr.Method)
	}
	m.WriteString(`  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  ;; A bump allocator: the component frees nothing in its short life.
  (func $realloc (export "cabi_realloc") (param $old i32) (param $oldlen i32) (param $align i32) (param $len i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const -1))
        (then unreachable))))
    (if (local.get $oldlen) (then (memory.copy (local.get $p) (local.get $old) (local.get $oldlen))))
    (global.set $heap (local.get $end))
    (local.get $p))
`)
	for i, f := range apiFns {
		fmt.Fprintf(&m, "  (func (export %q) %s\n%s  )\n", apiName+"#"+f.name, liftSig(f), echoBody(f, fmt.Sprintf("$i%d", i)))
		w.Exports = append(w.Exports, RandomExport{Interface: apiName, Name: f.name})
	}
	for i, f := range worldFns {
		fmt.Fprintf(&m, "  (func (export %q) %s\n%s  )\n", f.name, liftSig(f), echoBody(f, fmt.Sprintf("$w%d", i)))
		w.Exports = append(w.Exports, RandomExport{Name: f.name, Import: fmt.Sprintf("call-%c", 'a'+i)})
	}
	if gr := w.Guest; gr != nil {
		// The handle's representation is the constructor's argument.
		fmt.Fprintf(&m, "  (func (export %q) (param i32) (result i32) (call $guest-new (local.get 0)))\n", apiName+"#[constructor]"+gr.Name)
		fmt.Fprintf(&m, "  (func (export %q) (param i32) (result i32) (local.get 0))\n", apiName+"#[method]"+gr.Name+"."+gr.Method)
		fmt.Fprintf(&m, "  (func (export %q) (param i32))\n", apiName+"#[dtor]"+gr.Name)
	}
	m.WriteString(")\n")
	w.CoreWAT = m.String()
	return w
}

// The canonical ABI's flattening, for the core signatures.

const (
	maxFlatParams  = 16
	maxFlatResults = 1
)

func flatten(t *rtype) []string {
	if t.name != "" && t.kind == "alias" {
		return flatten(t.elems[0])
	}
	switch t.kind {
	case "bool", "s8", "u8", "s16", "u16", "s32", "u32", "char", "enum":
		return []string{"i32"}
	case "s64", "u64":
		return []string{"i64"}
	case "f32":
		return []string{"f32"}
	case "f64":
		return []string{"f64"}
	case "string", "list":
		return []string{"i32", "i32"}
	case "resource", "borrow":
		return []string{"i32"}
	case "flags":
		return []string{"i32"} // at most 32 flags here
	case "record", "tuple":
		var out []string
		for _, e := range t.elems {
			out = append(out, flatten(e)...)
		}
		return out
	case "option":
		return flattenVariant([]*rtype{nil, t.elems[0]})
	case "result":
		return flattenVariant([]*rtype{t.ok, t.err})
	case "variant":
		return flattenVariant(t.elems)
	}
	panic("flatten " + t.kind)
}

func flattenVariant(cases []*rtype) []string {
	var flat []string
	for _, c := range cases {
		if c == nil {
			continue
		}
		for i, ft := range flatten(c) {
			if i < len(flat) {
				flat[i] = join(flat[i], ft)
			} else {
				flat = append(flat, ft)
			}
		}
	}
	return append([]string{"i32"}, flat...)
}

func join(a, b string) string {
	switch {
	case a == b:
		return a
	case (a == "i32" && b == "f32") || (a == "f32" && b == "i32"):
		return "i32"
	}
	return "i64"
}

func flatParams(f *rfunc) []string {
	var ps []string
	for _, p := range f.params {
		ps = append(ps, flatten(p)...)
	}
	if len(ps) > maxFlatParams {
		return []string{"i32"}
	}
	return ps
}

func flatResults(f *rfunc) []string {
	if r := f.result(); r != nil {
		return flatten(r)
	}
	return nil
}

func sig(params, results []string) string {
	s := ""
	if len(params) > 0 {
		s += "(param " + strings.Join(params, " ") + ")"
	}
	if len(results) > 0 {
		s += " (result " + strings.Join(results, " ") + ")"
	}
	return s
}

// lowerSig is the core type of an imported (lowered) function: results
// past one are written through a pointer passed last.
func lowerSig(f *rfunc) string {
	ps, rs := flatParams(f), flatResults(f)
	if len(rs) > maxFlatResults {
		return sig(append(ps, "i32"), nil)
	}
	return sig(ps, rs)
}

// liftSig is the core type of an exported (lifted) function: results
// past one are returned as a pointer to them.
func liftSig(f *rfunc) string {
	ps, rs := flatParams(f), flatResults(f)
	if len(rs) > maxFlatResults {
		return sig(ps, []string{"i32"})
	}
	return sig(ps, rs)
}

// echoBody passes the export's core arguments to the import as they are
// (strings and lists stay where the host lowered them; parameters past 16
// stay behind the same pointer), and returns the import's result, or a
// pointer to where the import wrote it.
func echoBody(f *rfunc, imp string) string {
	var b strings.Builder
	ps, rs := flatParams(f), flatResults(f)
	viaMemory := len(rs) > maxFlatResults
	if viaMemory {
		fmt.Fprintf(&b, "    (local $ret i32)\n")
		fmt.Fprintf(&b, "    (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 65536)))\n")
	}
	b.WriteString("    (call " + imp)
	for i := range ps {
		fmt.Fprintf(&b, " (local.get %d)", i)
	}
	if viaMemory {
		b.WriteString(" (local.get $ret)")
	}
	b.WriteString(")\n")
	// The borrowed handles the export got must be dropped before it
	// returns (the import borrowed them for its call only).
	flat := 0
	for _, p := range f.params {
		if p.kind == "borrow" {
			fmt.Fprintf(&b, "    (call $drop-%s (local.get %d))\n", p.elems[0].name, flat)
		}
		flat += len(flatten(p))
	}
	if viaMemory {
		b.WriteString("    (local.get $ret)\n")
	}
	return b.String()
}

// BuildRandomWorld makes the echo component of w with wasm-tools.
func BuildRandomWorld(t testing.TB, w *RandomWorld) []byte {
	t.Helper()
	dir := t.TempDir()
	witFile := filepath.Join(dir, "world.wit")
	watFile := filepath.Join(dir, "core.wat")
	for p, text := range map[string]string{witFile: w.WIT, watFile: w.CoreWAT} {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	core := filepath.Join(dir, "core.wasm")
	comp := filepath.Join(dir, "component.wasm")
	if _, err := WasmTools("component", "embed", witFile, "--world", w.Package+"/w", watFile, "-o", core); err != nil {
		t.Fatalf("%v\n%s\n%s", err, w.WIT, w.CoreWAT)
	}
	if _, err := WasmTools("component", "new", core, "-o", comp); err != nil {
		t.Fatalf("%v\n%s\n%s", err, w.WIT, w.CoreWAT)
	}
	b, err := os.ReadFile(comp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
