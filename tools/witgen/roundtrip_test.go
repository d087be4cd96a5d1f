package main

// The generated API round trip (issue 17): for random WIT worlds
// (internal/corpus), witgen generates host bindings, and a Go program
// written against them — host implementations of every import, calls of
// every export — sends random values of every kind through the echo
// component of each world and checks that it gets back exactly what it
// sent. Each value crosses the generated code four times: lowered by the
// export call, lifted for the host's import, lowered back, lifted as the
// export's result. Handles of host resources go both ways, owned and
// lent (the host checks that each borrowed handle holds the value lent);
// a resource of the component's is constructed, called and dropped. The
// worlds of one run share one program, built once in a module under
// t.TempDir(); their seeds start at a random seed the test logs.

import (
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.bytecodealliance.org/wit"

	"github.com/driftless-dev/driftless/internal/corpus"
)

var (
	roundTripWorlds = flag.Int("roundtrip-worlds", 6, "how many random WIT worlds TestGeneratedRoundTrip runs")
	roundTripSeed   = flag.Int64("roundtrip-seed", 0, "the seed of the first world of TestGeneratedRoundTrip (0: a random one, logged)")
	roundTripCalls  = flag.Int("roundtrip-calls", 4, "how many calls TestGeneratedRoundTrip makes of each export")
	roundTripKeep   = flag.Bool("roundtrip-keep", false, "keep TestGeneratedRoundTrip's generated program (its directory is logged)")
)

func TestGeneratedRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("runs wasm-tools and builds a Go program")
	}
	corpus.Require(t)
	seed := *roundTripSeed
	if seed == 0 {
		seed = 1 + time.Now().UnixNano()%1_000_000_000
	}
	t.Logf("worlds %d to %d; reproduce with: go test ./tools/witgen -run 'TestGeneratedRoundTrip$' -roundtrip-seed %d -roundtrip-worlds %d",
		seed, seed+int64(*roundTripWorlds)-1, seed, *roundTripWorlds)
	var worlds []*corpus.RandomWorld
	for s := seed; s < seed+int64(*roundTripWorlds); s++ {
		worlds = append(worlds, corpus.NewRandomWorld(s))
	}
	runRoundTrip(t, worlds, *roundTripCalls)
}

// runRoundTrip generates bindings and the program for worlds, builds the
// program and runs it: it reports every value that did not come back.
func runRoundTrip(t *testing.T, worlds []*corpus.RandomWorld, calls int) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	if *roundTripKeep {
		// Outside the source tree too, and not removed: its path is logged.
		var err error
		if dir, err = os.MkdirTemp("", "witgen-roundtrip-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("program in %s", dir)
	}
	if err := tempModule(dir); err != nil {
		t.Fatal(err)
	}
	byName := map[string]*corpus.RandomWorld{}
	var mainImports, mainRuns []string
	for i, w := range worlds {
		name := fmt.Sprintf("p%d", w.Seed)
		byName[name] = w
		witFile := filepath.Join(dir, name+".wit")
		if err := os.WriteFile(witFile, []byte(w.WIT), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), corpus.BuildRandomWorld(t, w), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := corpus.Resolve(witFile)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, w.WIT)
		}
		out := filepath.Join(dir, name)
		if _, err := generateInto(t, res, out); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, w.WIT)
		}
		prefix, err := importPath(out)
		if err != nil {
			t.Fatal(err)
		}
		src, err := roundTripProgram(res, prefix, w, calls)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, w.WIT)
		}
		if err := writeFiles(filepath.Join(out, "roundtrip"), map[string][]byte{"roundtrip.go": src, "support.go": []byte(roundTripSupport)}); err != nil {
			t.Fatal(err)
		}
		mainImports = append(mainImports, fmt.Sprintf("rt%d %q", i, prefix+"/roundtrip"))
		mainRuns = append(mainRuns, fmt.Sprintf("{%q, rt%d.Run},", name, i))
	}
	mainSrc := fmt.Sprintf(roundTripMain, strings.Join(mainImports, "\n"), strings.Join(mainRuns, "\n"))
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "roundtrip.bin")
	build := goCommand(goTool, dir, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s%s", err, out, witsOf(string(out), byName))
	}
	run := exec.Command(bin, dir)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s%s", err, bounded(string(out)), witsOf(string(out), byName))
	}
	t.Logf("%s", out)
}

// tempModuleDir returns a new module in a directory of t.TempDir(), for
// tests that build generated code (see tempModule).
func tempModuleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := tempModule(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tempModule makes dir, outside the source tree, a module that requires
// this one from its source tree: code generated into it builds against the
// bindings and runtime in this checkout, and whatever a killed test leaves
// is in the temporary directory, never among the sources. Its go.sum is
// this module's, so the build needs no download.
func tempModule(dir string) error {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return err
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(mod)
	if modulePath(mod) != "github.com/driftless-dev/driftless" || goLine == nil {
		return fmt.Errorf("%s is not driftless's go.mod", filepath.Join(root, "go.mod"))
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return err
	}
	gomod := fmt.Sprintf("module driftless.test/generated\n\n%s\n\nrequire github.com/driftless-dev/driftless v0.0.0\n\nreplace github.com/driftless-dev/driftless => %s\n", goLine, root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
}

// goCommand returns the go command running args in the module dir made
// by tempModule (-mod=mod: its go.mod lists only this module, and go adds
// this module's requirements as it builds).
func goCommand(goTool, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	return cmd
}

var worldRef = regexp.MustCompile(`\bp[0-9]+\b`)

// witsOf returns the WIT of the worlds that out names.
func witsOf(out string, worlds map[string]*corpus.RandomWorld) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, name := range worldRef.FindAllString(out, -1) {
		if w := worlds[name]; w != nil && !seen[name] {
			seen[name] = true
			fmt.Fprintf(&b, "\n--- %s.wit (seed %d)\n%s", name, w.Seed, w.WIT)
		}
	}
	return b.String()
}

func bounded(s string) string {
	if len(s) > 20000 {
		return s[:20000] + "\n..."
	}
	return s
}

// roundTripMain is the program's main package: it runs the package of
// each world with its component.
const roundTripMain = `// Code generated by TestGeneratedRoundTrip. DO NOT EDIT.

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/driftless-dev/driftless/bindings"
	%s
)

func main() {
	e, err := bindings.NewEngine(bindings.EngineConfig{})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	failed := false
	for _, w := range []struct {
		name string
		run  func(*bindings.Engine, []byte) (int, []string)
	}{
		%s
	} {
		wasm, err := os.ReadFile(filepath.Join(os.Args[1], w.name+".wasm"))
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		calls, problems := w.run(e, wasm)
		fmt.Printf("%%s: %%d calls, %%d problems\n", w.name, calls, len(problems))
		for _, p := range problems {
			fmt.Printf("%%s: %%s\n", w.name, p)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
`

// roundTripSupport is the part of each world's package that does not
// depend on the world. (Its identifiers, like every one the program
// declares, have a capital letter: no Go package witgen names can shadow
// them.)
const roundTripSupport = `// Code generated by TestGeneratedRoundTrip. DO NOT EDIT.

package roundtrip

import (
	"fmt"
	"math"
	"reflect"
)

func zPtr[T any](v T) *T { return &v }

// zSame reports whether a and b are the same value: floats bit for bit, a
// nil slice the same as an empty one (both are the empty WIT list), and
// resource handles by the host value they hold.
func zSame(a, b any) bool { return zSameValue(reflect.ValueOf(a), reflect.ValueOf(b)) }

func zSameValue(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if m := a.MethodByName("Host"); m.IsValid() && a.Kind() == reflect.Pointer {
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return m.Call(nil)[0].Interface() == b.MethodByName("Host").Call(nil)[0].Interface()
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !zSameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return zSameValue(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !zSameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	case reflect.String:
		return a.String() == b.String()
	}
	panic(fmt.Sprintf("zSame: unexpected %v", a.Type()))
}

// zShow renders v for a report.
func zShow(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	return s
}
`

// roundTripProgram writes the Go source of the round trip of world w,
// whose bindings were generated from res under prefix: package
// roundtrip, with Run(engine, component) (calls, problems).
func roundTripProgram(res *wit.Resolve, prefix string, w *corpus.RandomWorld, calls int) ([]byte, error) {
	g, err := newGenerator(res, Options{Worlds: []string{w.Package + "/w"}, PackagePrefix: prefix})
	if err != nil {
		return nil, err
	}
	prog := &goPackage{g: g, name: "roundtrip", path: prefix + "/roundtrip"}
	rp := &rtProgram{g: g, f: newFile(prog), rng: rand.New(rand.NewSource(w.Seed))}
	return rp.program(g.worlds[0], calls)
}

// rtProgram writes the round-trip program of a world.
type rtProgram struct {
	g   *generator
	f   *file
	rng *rand.Rand
	// hostTypes name the program's type of host values of each resource.
	hostTypes map[*wit.TypeDef]string
	handles   int // host values made
}

func (rp *rtProgram) program(world *wit.World, calls int) (src []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f := rp.f
	wp := rp.g.byOwner[world]
	b := f.std("bindings")
	ctx := f.std("context")
	fmtPkg := f.use("fmt", "fmt")
	errorsPkg := f.use("errors", "errors")
	wref := f.pkgRef(wp)
	exp, imp, expFns, impFns, _ := wp.worldItems()

	// Hosts: one type per imported interface, one for the world-level
	// functions, each echoing its arguments; a type of host values per
	// resource, whose methods echo too. The echoes record the handles
	// they borrow.
	f.p("var zBorrowed []any\n")
	rp.hostTypes = map[*wit.TypeDef]string{}
	var fields []string
	for i, in := range imp {
		q := rp.g.byOwner[in]
		for _, t := range q.typeDefs() {
			if _, ok := t.Kind.(*wit.Resource); ok {
				rp.hostTypes[t] = fmt.Sprintf("zRes%d", len(rp.hostTypes))
			}
		}
		host := fmt.Sprintf("zHost%d", i)
		f.p("type %s struct{}\n", host)
		for _, fn := range q.functions() {
			if !fn.IsMethod() {
				rp.echo(host, q, fn, q.funcNames[fn])
			}
		}
		fields = append(fields, fmt.Sprintf("%s: %s{}", wp.worldImports[in], host))
	}
	for t, host := range rp.hostTypes {
		q := rp.g.pkgOf(t)
		f.p("type %s struct{ int }\n", host)
		f.p("func (*%s) Drop(zCtx %s.Context) {}\n", host, ctx)
		names := q.handleMethodNames(t)
		for _, fn := range q.resourceMethods(t) {
			rp.echo("*"+host, q, fn, names[fn])
		}
	}
	if len(impFns) > 0 {
		f.p("type zWorldHost struct{}\n")
		for _, fn := range impFns {
			rp.echo("zWorldHost", wp, fn, wp.funcNames[fn])
		}
		fields = append(fields, "Functions: zWorldHost{}")
	}

	f.p("// Run calls every export of a component of the world with random values")
	f.p("// and reports those that did not come back as they were sent.")
	f.p("func Run(zE *%s.Engine, zWasm []byte) (zCalls int, zProblems []string) {", b)
	f.p("defer func() {\nif r := recover(); r != nil {\nzProblems = append(zProblems, %s.Sprintf(\"panic: %%v\", r))\n}\n}()", fmtPkg)
	f.p("zProblem := func(format string, args ...any) { zProblems = append(zProblems, %s.Sprintf(format, args...)) }", fmtPkg)
	f.p("_ = %s.As", errorsPkg)
	f.p("zC, zErr := %s.NewComponent(zE, zWasm)\nif zErr != nil {\nzProblem(\"compile: %%v\", zErr)\nreturn\n}", b)
	f.p("zL := zE.NewLinker()")
	f.p("if zErr := %sAddToLinker(zL, %sImports{%s}); zErr != nil {\nzProblem(\"AddToLinker: %%v\", zErr)\nreturn\n}", wref, wref, strings.Join(fields, ", "))
	f.p("zS, zErr := zE.NewStore(%s.StoreOptions{})\nif zErr != nil {\nzProblem(\"NewStore: %%v\", zErr)\nreturn\n}\ndefer zS.Close()", b)
	f.p("zI, zErr := %sInstantiate(zL, zS, zC)\nif zErr != nil {\nzProblem(\"Instantiate: %%v\", zErr)\nreturn\n}", wref)
	f.p("zCtx := %s.Background()", ctx)
	for _, in := range exp {
		q := rp.g.byOwner[in]
		for _, fn := range q.functions() {
			if _, ok := fn.Kind.(*wit.Freestanding); !ok {
				continue // of a resource of the component's, below
			}
			for range calls {
				rp.call("zI."+wp.worldExports[in]+".", q, fn)
			}
		}
		for _, t := range q.typeDefs() {
			if _, ok := t.Kind.(*wit.Resource); ok {
				for range calls {
					rp.guest("zI."+wp.worldExports[in]+".", q, t)
				}
			}
		}
	}
	for _, fn := range expFns {
		for range calls {
			rp.call("zI.", wp, fn)
		}
	}
	f.p("return\n}")
	return f.bytes("")
}

// echo writes the method goName of host type host implementing import fn
// of package q: it returns its arguments but the borrowed handles, as the
// WIT function returns them, and records those in zBorrowed. A constructor
// returns a new host value.
func (rp *rtProgram) echo(host string, q *goPackage, fn *wit.Function, goName string) {
	f := rp.f
	fi := f.fnInfo(fn, goName)
	params := []string{"zCtx " + f.std("context") + ".Context"}
	var args []string
	for i, p := range fi.params {
		params = append(params, fmt.Sprintf("zA%d %s", i, f.goType(p.wit.Type)))
		if !isBorrow(p.wit.Type) {
			args = append(args, fmt.Sprintf("zA%d", i))
		}
	}
	f.p("func (%s) %s(%s) %s {", host, fi.goName, strings.Join(params, ", "), f.importResults(fi))
	for i, p := range fi.params {
		if isBorrow(p.wit.Type) {
			f.p("zBorrowed = append(zBorrowed, zA%d)", i)
		}
	}
	if _, ok := fn.Kind.(*wit.Constructor); ok {
		f.p("return %s\n}\n", rp.handle(fi.result))
		return
	}
	switch {
	case fi.result == nil:
	case fi.isResult:
		f.p("zV := %s", args[0]) // the one argument not borrowed
		okZero := ""
		if fi.ok != nil {
			okZero = fmt.Sprintf("*new(%s), ", f.goType(fi.ok))
		}
		f.p("if zV.IsErr {\nreturn %s%s\n}", okZero, rp.errValue(q, fi, "zV.Err"))
		if fi.ok != nil {
			f.p("return zV.OK, nil")
		} else {
			f.p("return nil")
		}
	case len(args) == 0:
		// The method of a resource of the component's: the host's import
		// of it is never called.
		f.p("return *new(%s)", f.goType(fi.result))
	case len(args) == 1:
		f.p("return %s", args[0])
	default:
		var elems []string
		for i, a := range args {
			elems = append(elems, fmt.Sprintf("F%d: %s", i, a))
		}
		f.p("return %s{%s}", f.goType(fi.result), strings.Join(elems, ", "))
	}
	f.p("}\n")
}

// guest writes the round trip of resource t of the component (of
// package q, recv the receiver of its constructor): resources of the
// random worlds have the shape `resource r { constructor(v: u32); m:
// func() -> u32; }`, where m returns v. It constructs one, checks that its
// handle is the component's, calls m and drops it.
func (rp *rtProgram) guest(recv string, q *goPackage, t *wit.TypeDef) {
	f := rp.f
	var ctor *wit.Function
	for _, fn := range q.functions() {
		if c, ok := fn.Kind.(*wit.Constructor); ok && namedRoot(c.Type.(*wit.TypeDef)) == t {
			ctor = fn
		}
	}
	methods := q.resourceMethods(t)
	if ctor == nil || len(ctor.Params) != 1 || ctor.Params[0].Type != wit.Type(wit.U32{}) || len(methods) != 1 {
		panic("guest resource " + t.TypeName() + " is not of the random worlds' shape")
	}
	m := methods[0]
	if len(m.Params) != 1 || len(m.Results) != 1 || m.Results[0].Type != wit.Type(wit.U32{}) {
		panic("method " + m.Name + " is not of the random worlds' shape")
	}
	name := q.qualifiedFunc(ctor)
	mName := q.handleMethodNames(t)[m]
	f.p("{")
	f.p("zV := uint32(%d)", rp.rng.Uint32())
	f.p("zCalls++")
	f.p("zH, zErr := %s%s(zCtx, zV)", recv, q.funcNames[ctor])
	f.p("if zErr != nil {\nzProblem(\"%s(%%d): %%v\", zV, zErr)\n} else {", name)
	f.p("if zH.Resource() == nil || zH.Host() != nil {\nzProblem(\"%s: not a handle to the component's resource\")\n}", name)
	f.p("zCalls++")
	f.p("if zR, zErr := zH.%s(zCtx); zErr != nil || zR != zV {\nzProblem(\"%s: constructed with %%d, %s returns %%d, %%v\", zV, zR, zErr)\n}", mName, name, m.Name)
	f.p("if zErr := zH.Drop(zCtx); zErr != nil {\nzProblem(\"%s: drop: %%v\", zErr)\n}", name)
	f.p("}\n}")
}

// isBorrow reports whether t is a borrowed handle.
func isBorrow(t wit.Type) bool {
	_, ok := kindOf(t).(*wit.Borrow)
	return ok
}

// handle returns an expression making a new host value of the resource
// of handle type t, and a handle to it.
func (rp *rtProgram) handle(t wit.Type) string {
	var res *wit.TypeDef
	switch k := kindOf(t).(type) {
	case *wit.Own:
		res = k.Type
	case *wit.Borrow:
		res = k.Type
	case *wit.Resource:
		res = resolveAlias(t).(*wit.TypeDef)
	default:
		panic(fmt.Sprintf("handle of %T", k))
	}
	res = namedRoot(res)
	q := rp.g.pkgOf(res)
	host := rp.hostTypes[res]
	if host == "" {
		panic("no host type for resource " + res.TypeName())
	}
	rp.handles++
	return fmt.Sprintf("%s%s(&%s{%d})", rp.f.pkgRef(q), q.resNames[res].newHost, host, rp.handles)
}

// errValue is the Go error by which a host implementation of fn (of
// package q) returns the err case of its result<T, E>, holding errExpr.
func (rp *rtProgram) errValue(q *goPackage, fi *fnInfo, errExpr string) string {
	switch rp.g.errMode(fi.err) {
	case errPointer:
		return "&" + errExpr
	case errValue:
		return errExpr
	}
	val := ""
	if fi.err != nil {
		val = "Value: " + errExpr
	}
	return fmt.Sprintf("&%sResultError[%s]{%s}", rp.f.pkgRef(q), rp.f.resultErrorArg(fi.err), val)
}

// call writes one call of export fn of package q (recv its receiver,
// "zI.Field." or "zI.") with random arguments, and the check of what it
// returns.
func (rp *rtProgram) call(recv string, q *goPackage, fn *wit.Function) {
	f := rp.f
	fi := f.fnInfo(fn, q.funcNames[fn])
	name := q.qualifiedFunc(fn)
	f.p("{")
	var args, owned, lent []string
	for i, p := range fn.Params {
		a := fmt.Sprintf("zA%d", i)
		f.p("var %s %s = %s", a, f.goType(p.Type), rp.value(p.Type, 3))
		args = append(args, a)
		if isBorrow(p.Type) {
			lent = append(lent, a)
		} else {
			owned = append(owned, a)
		}
	}
	call := fmt.Sprintf("%s%s(zCtx%s)", recv, fi.goName, prefixComma(args))
	f.p("zCalls++")
	f.p("zBorrowed = nil")
	switch {
	case fi.result == nil || (fi.isResult && fi.ok == nil):
		f.p("zErr := %s", call)
	default:
		f.p("zR, zErr := %s", call)
	}
	if len(lent) > 0 {
		f.p("if zLent := []any{%s}; !zSame(zBorrowed, zLent) {\nzProblem(\"%s: lent %%s, the host borrowed %%s\", zShow(zLent), zShow(zBorrowed))\n}", strings.Join(lent, ", "), name)
	}
	switch {
	case fi.result == nil:
		f.p("if zErr != nil {\nzProblem(\"%s: %%v\", zErr)\n}", name)
	case fi.isResult:
		f.p("zV := %s", owned[0]) // the one argument not borrowed
		f.p("if zV.IsErr {")
		rp.checkErr(q, fi, name)
		okVal := "zV.OK"
		if fi.ok == nil {
			okVal = "struct{}{}"
		}
		f.p("} else if zErr != nil {\nzProblem(\"%s: sent ok(%%s), got error %%v\", zShow(%s), zErr)", name, okVal)
		if fi.ok != nil {
			f.p("} else if !zSame(zR, zV.OK) {\nzProblem(\"%s: sent ok(%%s), got back ok(%%s)\", zShow(zV.OK), zShow(zR))", name)
		}
		f.p("}")
	default:
		want := owned[0]
		if len(owned) > 1 {
			var elems []string
			for i, a := range owned {
				elems = append(elems, fmt.Sprintf("F%d: %s", i, a))
			}
			want = fmt.Sprintf("%s{%s}", f.goType(fi.result), strings.Join(elems, ", "))
		}
		f.p("zWant := %s", want)
		f.p("if zErr != nil {\nzProblem(\"%s: sent %%s, got error %%v\", zShow(zWant), zErr)\n} else if !zSame(zR, zWant) {\nzProblem(\"%s: sent %%s, got back %%s\", zShow(zWant), zShow(zR))\n}", name, name)
	}
	f.p("}")
}

// checkErr writes the check that zErr is the err case zV.Err of fn's
// result.
func (rp *rtProgram) checkErr(q *goPackage, fi *fnInfo, name string) {
	f := rp.f
	errorsPkg := f.use("errors", "errors")
	switch rp.g.errMode(fi.err) {
	case errPointer:
		f.p("var zE *%s", f.goType(fi.err))
		f.p("if !%s.As(zErr, &zE) || !zSame(*zE, zV.Err) {", errorsPkg)
	case errValue:
		f.p("var zE %s", f.goType(fi.err))
		f.p("if !%s.As(zErr, &zE) || !zSame(zE, zV.Err) {", errorsPkg)
	default:
		f.p("var zE *%sResultError[%s]", f.pkgRef(q), f.resultErrorArg(fi.err))
		if fi.err != nil {
			f.p("if !%s.As(zErr, &zE) || !zSame(zE.Value, zV.Err) {", errorsPkg)
		} else {
			f.p("if !%s.As(zErr, &zE) {", errorsPkg)
		}
	}
	errVal := "zV.Err"
	if fi.err == nil {
		errVal = "struct{}{}"
	}
	f.p("zProblem(\"%s: sent err(%%s), got error %%v\", zShow(%s), zErr)\n}", name, errVal)
}

// value returns a Go expression of a random value of t.
func (rp *rtProgram) value(t wit.Type, depth int) string {
	f, rng := rp.f, rp.rng
	switch t.(type) {
	case wit.Bool:
		return strconv.FormatBool(rng.Intn(2) == 1)
	case wit.S8:
		return fmt.Sprintf("int8(%d)", int8(rng.Uint32()))
	case wit.U8:
		return fmt.Sprintf("uint8(%d)", uint8(rng.Uint32()))
	case wit.S16:
		return fmt.Sprintf("int16(%d)", int16(rng.Uint32()))
	case wit.U16:
		return fmt.Sprintf("uint16(%d)", uint16(rng.Uint32()))
	case wit.S32:
		return fmt.Sprintf("int32(%d)", int32(rng.Uint32()))
	case wit.U32:
		return fmt.Sprintf("uint32(%d)", rng.Uint32())
	case wit.S64:
		return fmt.Sprintf("int64(%d)", int64(rng.Uint64()))
	case wit.U64:
		return fmt.Sprintf("uint64(%d)", rng.Uint64())
	case wit.F32:
		return rp.float(32)
	case wit.F64:
		return rp.float(64)
	case wit.Char:
		return fmt.Sprintf("rune(%#x)", []rune{'a', 0, 'é', '€', 0x10FFFF, 0x1F600, 0xD7FF, 0xE000}[rng.Intn(8)])
	case wit.String:
		return strconv.Quote([]string{"", "x", "héllo wörld", strings.Repeat("ab", 300), "emoji 😀", "nul\x00byte"}[rng.Intn(6)])
	}
	td, ok := t.(*wit.TypeDef)
	if !ok {
		panic(fmt.Sprintf("value of %T", t))
	}
	root := td
	for {
		next, ok := root.Kind.(*wit.TypeDef)
		if !ok {
			break
		}
		root = next
	}
	gt := f.goType(t)
	switch k := root.Kind.(type) {
	case wit.Type:
		return rp.value(k, depth)
	case *wit.Own, *wit.Borrow, *wit.Resource:
		return rp.handle(t)
	case *wit.Record:
		q := rp.g.pkgOf(root)
		var fields []string
		for i, fld := range k.Fields {
			fields = append(fields, fmt.Sprintf("%s: %s", q.fieldName[root][i], rp.value(fld.Type, depth-1)))
		}
		return fmt.Sprintf("%s{%s}", gt, strings.Join(fields, ", "))
	case *wit.Enum:
		q := rp.g.pkgOf(root)
		return f.pkgRef(q) + q.caseNames[root][rng.Intn(len(k.Cases))]
	case *wit.Flags:
		q := rp.g.pkgOf(root)
		var set []string
		for i := range k.Flags {
			if rng.Intn(2) == 0 {
				set = append(set, f.pkgRef(q)+q.caseNames[root][i])
			}
		}
		if len(set) == 0 {
			return gt + "(0)"
		}
		return strings.Join(set, " | ")
	case *wit.Variant:
		q := rp.g.pkgOf(root)
		i := rng.Intn(len(k.Cases))
		ct := f.pkgRef(q) + q.caseNames[root][i]
		if k.Cases[i].Type == nil {
			return ct + "{}"
		}
		return fmt.Sprintf("%s{Value: %s}", ct, rp.value(k.Cases[i].Type, depth-1))
	case *wit.List:
		n := rng.Intn(4)
		if depth <= 0 {
			n = 0
		}
		if n == 0 && rng.Intn(2) == 0 {
			return "(" + gt + ")(nil)"
		}
		elems := make([]string, n)
		for i := range elems {
			elems[i] = rp.value(k.Type, depth-1)
		}
		return fmt.Sprintf("%s{%s}", gt, strings.Join(elems, ", "))
	case *wit.Option:
		if rng.Intn(3) == 0 {
			return "(" + gt + ")(nil)"
		}
		return fmt.Sprintf("zPtr[%s](%s)", f.goType(k.Type), rp.value(k.Type, depth-1))
	case *wit.Tuple:
		var elems []string
		for i, e := range k.Types {
			elems = append(elems, fmt.Sprintf("F%d: %s", i, rp.value(e, depth-1)))
		}
		return fmt.Sprintf("%s{%s}", gt, strings.Join(elems, ", "))
	case *wit.Result:
		if rng.Intn(2) == 0 {
			if k.OK == nil {
				return gt + "{}"
			}
			return fmt.Sprintf("%s{OK: %s}", gt, rp.value(k.OK, depth-1))
		}
		if k.Err == nil {
			return gt + "{IsErr: true}"
		}
		return fmt.Sprintf("%s{Err: %s, IsErr: true}", gt, rp.value(k.Err, depth-1))
	}
	panic(fmt.Sprintf("value of %T", root.Kind))
}

// float returns a random float32 or float64 expression: the edges, and
// random values. (No NaN: the canonical ABI may change its payload.)
func (rp *rtProgram) float(bits int) string {
	ty := "float" + strconv.Itoa(bits)
	n := rp.rng.Intn(8)
	if n >= 6 {
		v := rp.rng.NormFloat64() * math.Pow(10, float64(rp.rng.Intn(20)-10))
		return fmt.Sprintf("%s(%s)", ty, strconv.FormatFloat(v, 'g', -1, bits))
	}
	if n == 0 {
		return ty + "(0)"
	}
	m := rp.f.use("math", "math")
	switch n {
	case 1:
		return fmt.Sprintf("%s(%s.Copysign(0, -1))", ty, m)
	case 2:
		return fmt.Sprintf("%s(%s.Inf(1))", ty, m)
	case 3:
		return fmt.Sprintf("%s(%s.Inf(-1))", ty, m)
	case 4:
		if bits == 32 {
			return fmt.Sprintf("%s(%s.SmallestNonzeroFloat32)", ty, m)
		}
		return fmt.Sprintf("%s(%s.SmallestNonzeroFloat64)", ty, m)
	case 5:
		if bits == 32 {
			return fmt.Sprintf("%s(%s.MaxFloat32)", ty, m)
		}
	}
	return fmt.Sprintf("%s(%s.MaxFloat64)", ty, m)
}
