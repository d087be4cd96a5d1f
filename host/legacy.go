package host

// The legacy JSON-string ABI adapter (docs/legacy.md is the ABI's reference
// and explains the mapping). A legacy plugin is a core module that exchanges
// NUL-terminated JSON strings through its exported memory; this runtime
// presents it through the same runtime interface as componentRuntime, so
// that Plugin's methods, errors and limits are the same for both ABIs.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/host/internal/wasmscan"
)

// Limits particular to legacy plugins.
const (
	// legacyMaxString bounds the scan for the NUL that ends a string the
	// plugin returns (and a host_log message): no NUL within it is an error.
	// The original host used the same 1 MiB. A runtime's maxString field
	// holds the bound in force (tests lower it).
	legacyMaxString = 1 << 20
	// legacyMaxMemories and legacyMaxTables bound what a module may define:
	// the ABI needs one memory, and C or Rust modules have one function
	// table. Both are enforced at load and by the store limiter.
	legacyMaxMemories = 1
	legacyMaxTables   = 4
	// legacyMaxInstances: a core module is one instance in its store.
	legacyMaxInstances = 1
	// wasmPage is the size of a wasm memory page.
	wasmPage = wasmscan.PageSize
)

// Module names of the imports the adapter can provide.
const (
	legacyEnv  = "env"
	legacyWASI = "wasi_snapshot_preview1"
)

// legacyRuntime runs a legacy JSON-ABI core module.
type legacyRuntime struct {
	h         *Host
	p         *Plugin
	module    *wasmtime.Module
	linker    *wasmtime.Linker
	exports   legacyExports
	imports   legacyImports
	defs      definitions
	pool      *pool[*legacyInstance]
	maxString int
}

// legacyExports is what the module exports of the ABI, resolved at load:
// whether each function exists and, for those with two arities, which one.
type legacyExports struct {
	has   map[string]bool // known exports present with a valid type
	arity map[string]int  // parameters of the execution exports present

	filter, function string // the export serving filters / functions, or ""
}

func (e *legacyExports) present(name string) bool { return e.has[name] }

// legacyImports is what the module imports, checked against the policy.
type legacyImports struct {
	hostLog       int // 0: not imported; 2: C strings; 4: pointer/length pairs
	hostTimestamp bool
	hostState     map[string]bool // host_state_get, host_state_set, host_state_delete imported
	wasi          bool
}

// legacySig is an accepted type of a known export: params i32 parameters
// and results i32 results.
type legacySig struct{ params, results int }

func (s legacySig) String() string {
	return funcText(repeat("i32", s.params), repeat("i32", s.results))
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// legacyKnownExports lists every export of the ABI with its accepted types,
// the first being the preferred arity.
var legacyKnownExports = map[string][]legacySig{
	"allocate":                  {{1, 1}},
	"deallocate":                {{2, 0}},
	"_initialize":               {{0, 0}},
	"get_plugin_metadata":       {{0, 1}},
	"get_task_definitions":      {{0, 1}},
	"get_facts_collectors":      {{0, 1}},
	"get_template_extensions":   {{0, 1}},
	"get_log_sources":           {{0, 1}},
	"get_log_parsers":           {{0, 1}},
	"get_log_filters":           {{0, 1}},
	"get_log_outputs":           {{0, 1}},
	"execute_task":              {{2, 1}},
	"execute_facts_collector":   {{2, 1}},
	"execute_template_filter":   {{4, 1}, {3, 1}},
	"execute_filter":            {{3, 1}},
	"execute_template_function": {{3, 1}, {2, 1}},
	"execute_function":          {{2, 1}},
	"execute_log_source":        {{2, 1}},
	"execute_log_parser":        {{3, 1}, {2, 1}},
	"execute_log_filter":        {{3, 1}},
	"execute_log_output":        {{3, 1}},
}

// legacyDefinitionExports are the definition functions, in the order they
// are read.
var legacyDefinitionExports = []string{
	"get_task_definitions", "get_facts_collectors", "get_template_extensions",
	"get_log_sources", "get_log_parsers", "get_log_filters", "get_log_outputs",
}

func newLegacyRuntime(ctx context.Context, h *Host, p *Plugin, wasm []byte) (runtime, error) {
	rt, err := newLegacy(ctx, h, p, wasm)
	if err != nil {
		return nil, err
	}
	return rt, nil
}

func newLegacy(ctx context.Context, h *Host, p *Plugin, wasm []byte) (*legacyRuntime, error) {
	m, err := h.compileModule(ctx, p, wasm)
	if err != nil {
		return nil, err
	}
	rt := &legacyRuntime{h: h, p: p, module: m, maxString: legacyMaxString}
	if err := rt.check(wasm); err != nil {
		return nil, err
	}
	if err := rt.link(); err != nil {
		return nil, err
	}
	// Legacy tasks have no check mode: every instance is a plain one.
	rt.pool = newPool(p.limits.MaxInstances, p.limits.MaxCallsPerInstance, func(ctx context.Context, _ variant) (*legacyInstance, error) {
		return rt.newInstance(ctx)
	})
	if err := rt.readDefinitions(ctx); err != nil {
		rt.close()
		return nil, err
	}
	return rt, nil
}

// wasmtimeMessage is the message of an error of wasmtime-go, through
// bindings.CoreError: bounded, and without the Rust backtrace wasmtime
// appends when RUST_BACKTRACE or RUST_LIB_BACKTRACE is set in the
// environment (errors must not depend on the caller's environment).
func wasmtimeMessage(op string, err error) string {
	var be *bindings.Error
	if errors.As(bindings.CoreError(op, err), &be) {
		return be.Message
	}
	return bindings.CoreError(op, err).Error()
}

// compileModule compiles plugin p's core module, or loads it from the
// compile cache (compileCached; entries are verified as for components).
func (h *Host) compileModule(ctx context.Context, p *Plugin, wasm []byte) (*wasmtime.Module, error) {
	e := h.engine.Wasmtime()
	return compileCached(ctx, h, p, "module",
		func(data []byte) (*wasmtime.Module, error) { return wasmtime.NewModuleDeserialize(e, data) },
		func() (*wasmtime.Module, error) {
			m, err := wasmtime.NewModule(e, wasm)
			if err != nil {
				return nil, fmt.Errorf("not a valid WebAssembly module: %s", causeChain(wasmtimeMessage("compile", err)))
			}
			return m, nil
		},
		(*wasmtime.Module).Serialize)
}

// check applies the load-time rules: the import policy (default-deny), the
// export rules and types, and the bounds on memories and tables. Every
// problem is listed.
func (rt *legacyRuntime) check(wasm []byte) error {
	var problems LoadProblems
	problems = append(problems, rt.checkImports()...)
	problems = append(problems, rt.checkExports()...)
	problems = append(problems, rt.checkMemories(wasm)...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return problems
	}
	return nil
}

func (rt *legacyRuntime) checkImports() []string {
	var refused []string
	refuse := func(name, format string, args ...any) {
		refused = append(refused, fmt.Sprintf("forbidden import %s: ", name)+fmt.Sprintf(format, args...))
	}
	for _, imp := range rt.module.Imports() {
		field := ""
		if n := imp.Name(); n != nil {
			field = *n
		}
		mod := imp.Module()
		name := mod + "." + field
		ty := imp.Type()
		ft := ty.FuncType()
		switch {
		case mod == legacyEnv && field == "host_log":
			switch sig := funcTypeText(ft); sig {
			case "func(i32, i32)":
				rt.imports.hostLog = 2
			case "func(i32, i32, i32, i32)":
				rt.imports.hostLog = 4
			default:
				refuse(name, "type %s is neither func(i32, i32) (two C strings) nor func(i32, i32, i32, i32) (two pointer/length pairs)", externText(ty))
			}
		case mod == legacyEnv && field == "host_get_timestamp":
			if sig := funcTypeText(ft); sig != "func() -> i64" {
				refuse(name, "type %s, expected func() -> i64", externText(ty))
			} else {
				rt.imports.hostTimestamp = true
			}
		case mod == legacyEnv && legacyStateImports[field] != "":
			if want, sig := legacyStateImports[field], funcTypeText(ft); sig != want {
				refuse(name, "type %s, expected %s", externText(ty), want)
			} else {
				if rt.imports.hostState == nil {
					rt.imports.hostState = map[string]bool{}
				}
				rt.imports.hostState[field] = true
			}
		case mod == legacyEnv && ft == nil:
			refuse(name, "the host provides no %s to legacy plugins (only the functions %s)", externKind(ty), legacyHostFuncs)
		case mod == legacyEnv && hasAnyPrefix(field, []string{"syscall", "system"}):
			refuse(name, "system calls are not allowed to plugins")
		case mod == legacyEnv && hasAnyPrefix(field, []string{"fd_", "path_"}):
			refuse(name, "file-system access is not allowed to plugins (only through WASI, with allow_wasi = true)")
		case mod == legacyEnv && hasAnyPrefix(field, []string{"sock", "net"}):
			refuse(name, "network access is not allowed to plugins")
		case mod == legacyEnv:
			refuse(name, "unknown host function; the host provides only %s", legacyEnvFuncs)
		case mod == legacyWASI && !rt.p.limits.AllowWASI:
			refuse(name, "WASI is not allowed to this plugin (allow_wasi = false)")
		case mod == legacyWASI && hasAnyPrefix(field, []string{"sock_"}):
			refuse(name, "network access is not allowed to plugins")
		case mod == legacyWASI:
			rt.imports.wasi = true
		default:
			refuse(name, "unknown module %q; legacy plugins may import only %s and, with allow_wasi = true, %s", mod, legacyEnvFuncs, legacyWASI)
		}
	}
	return refused
}

func (rt *legacyRuntime) checkExports() []string {
	var problems []string
	ex := &rt.exports
	ex.has, ex.arity = map[string]bool{}, map[string]int{}
	memory := false
	for _, exp := range rt.module.Exports() {
		name := exp.Name()
		ty := exp.Type()
		switch {
		case strings.HasPrefix(name, "unsafe_"):
			problems = append(problems, fmt.Sprintf("forbidden export %s: exports named unsafe_* are not allowed", name))
			continue
		case strings.Contains(strings.ToLower(name), "syscall"):
			problems = append(problems, fmt.Sprintf("forbidden export %s: exports containing \"syscall\" are not allowed", name))
			continue
		}
		if name == "memory" {
			mt := ty.MemoryType()
			switch {
			case mt == nil:
				problems = append(problems, fmt.Sprintf("export memory is a %s, not a memory", externKind(ty)))
			case mt.Is64():
				problems = append(problems, "export memory is a 64-bit memory: the legacy ABI passes i32 pointers")
			case mt.IsShared():
				problems = append(problems, "export memory is a shared memory, which the legacy ABI does not support")
			default:
				memory = true
			}
			continue
		}
		sigs, known := legacyKnownExports[name]
		if !known {
			continue
		}
		got := funcTypeText(ty.FuncType())
		ok := false
		for _, s := range sigs {
			if got == s.String() {
				ex.has[name], ex.arity[name], ok = true, s.params, true
				break
			}
		}
		if !ok {
			want := make([]string, len(sigs))
			for i, s := range sigs {
				want[i] = s.String()
			}
			problems = append(problems, fmt.Sprintf("export %s has type %s, expected %s", name, externText(ty), strings.Join(want, " or ")))
		}
	}
	if !memory && !hasPrefixProblem(problems, "export memory") {
		problems = append(problems, "the module does not export its memory as \"memory\", which the legacy ABI needs")
	}
	switch {
	case ex.has["execute_template_filter"]:
		ex.filter = "execute_template_filter"
	case ex.has["execute_filter"]:
		ex.filter = "execute_filter"
	}
	switch {
	case ex.has["execute_template_function"]:
		ex.function = "execute_template_function"
	case ex.has["execute_function"]:
		ex.function = "execute_function"
	}
	var exec []string
	for name := range ex.has {
		if strings.HasPrefix(name, "execute_") {
			exec = append(exec, name)
		}
	}
	sort.Strings(exec)
	if len(exec) > 0 && !ex.has["allocate"] {
		problems = append(problems, fmt.Sprintf("the module exports %s but not allocate(i32) -> i32: the host cannot pass it strings", strings.Join(exec, ", ")))
	}
	provides := false
	for _, name := range legacyDefinitionExports {
		provides = provides || ex.has[name]
	}
	if !provides && !hasPrefixProblem(problems, "export get_") {
		problems = append(problems, fmt.Sprintf("the module exports none of %s: it provides nothing", strings.Join(legacyDefinitionExports, ", ")))
	}
	return problems
}

func hasPrefixProblem(problems []string, prefix string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// checkMemories bounds the memories and tables the module defines (or
// imports: those are refused by the import policy too).
func (rt *legacyRuntime) checkMemories(wasm []byte) []string {
	var problems []string
	info, err := wasmscan.Scan(wasm)
	if err != nil {
		return []string{err.Error()}
	}
	memories, tables := len(info.Memories), info.Tables
	for _, imp := range rt.module.Imports() {
		ty := imp.Type()
		if ty.MemoryType() != nil {
			memories++
		}
		if ty.TableType() != nil {
			tables++
		}
	}
	if memories > legacyMaxMemories {
		problems = append(problems, fmt.Sprintf("the module has %d memories; legacy plugins may have at most %d", memories, legacyMaxMemories))
	}
	if tables > legacyMaxTables {
		problems = append(problems, fmt.Sprintf("the module has %d tables; legacy plugins may have at most %d", tables, legacyMaxTables))
	}
	for i, m := range info.Memories {
		if m.MinBytes > uint64(rt.p.limits.MaxMemory) {
			problems = append(problems, fmt.Sprintf("memory %d declares a minimum of %d bytes, more than max_memory of %d bytes", i, m.MinBytes, rt.p.limits.MaxMemory))
		}
	}
	return problems
}

// link defines the imports the module uses, in the form it declared.
func (rt *legacyRuntime) link() error {
	l := wasmtime.NewLinker(rt.h.engine.Wasmtime())
	i32 := wasmtime.NewValType(wasmtime.KindI32)
	i64 := wasmtime.NewValType(wasmtime.KindI64)
	switch rt.imports.hostLog {
	case 2:
		ty := wasmtime.NewFuncType([]*wasmtime.ValType{i32, i32}, nil)
		if err := l.FuncNew(legacyEnv, "host_log", ty, legacyHostLog(false)); err != nil {
			return err
		}
	case 4:
		ty := wasmtime.NewFuncType([]*wasmtime.ValType{i32, i32, i32, i32}, nil)
		if err := l.FuncNew(legacyEnv, "host_log", ty, legacyHostLog(true)); err != nil {
			return err
		}
	}
	if rt.imports.hostTimestamp {
		ty := wasmtime.NewFuncType(nil, []*wasmtime.ValType{i64})
		if err := l.FuncNew(legacyEnv, "host_get_timestamp", ty, legacyHostTimestamp); err != nil {
			return err
		}
	}
	if err := rt.linkState(l); err != nil {
		return err
	}
	if rt.imports.wasi {
		if err := l.DefineWasi(); err != nil {
			return err
		}
	}
	rt.linker = l
	return nil
}

func (rt *legacyRuntime) definitions() *definitions { return &rt.defs }

func (rt *legacyRuntime) close() {
	if rt.pool != nil {
		rt.pool.close()
	}
}

// Interface text: what `plugins inspect` shows of a legacy module.

func funcText(params, results []string) string {
	s := "func(" + strings.Join(params, ", ") + ")"
	switch len(results) {
	case 0:
	case 1:
		s += " -> " + results[0]
	default:
		s += " -> (" + strings.Join(results, ", ") + ")"
	}
	return s
}

func funcTypeText(ft *wasmtime.FuncType) string {
	if ft == nil {
		return ""
	}
	kinds := func(vs []*wasmtime.ValType) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = v.Kind().String()
		}
		return out
	}
	return funcText(kinds(ft.Params()), kinds(ft.Results()))
}

func externKind(ty *wasmtime.ExternType) string {
	switch {
	case ty.FuncType() != nil:
		return "function"
	case ty.MemoryType() != nil:
		return "memory"
	case ty.TableType() != nil:
		return "table"
	case ty.GlobalType() != nil:
		return "global"
	}
	return "item"
}

func externText(ty *wasmtime.ExternType) string {
	if ft := ty.FuncType(); ft != nil {
		return funcTypeText(ft)
	}
	if mt := ty.MemoryType(); mt != nil {
		s := fmt.Sprintf("memory(min %d pages", mt.Minimum())
		if ok, max := mt.Maximum(); ok {
			s += fmt.Sprintf(", max %d pages", max)
		}
		if mt.Is64() {
			s += ", 64-bit"
		}
		if mt.IsShared() {
			s += ", shared"
		}
		return s + ")"
	}
	if tt := ty.TableType(); tt != nil {
		s := fmt.Sprintf("table(%s, min %d", tt.Element().Kind(), tt.Minimum())
		if ok, max := tt.Maximum(); ok {
			s += fmt.Sprintf(", max %d", max)
		}
		return s + ")"
	}
	if gt := ty.GlobalType(); gt != nil {
		if gt.Mutable() {
			return fmt.Sprintf("global(mut %s)", gt.Content().Kind())
		}
		return fmt.Sprintf("global(%s)", gt.Content().Kind())
	}
	return externKind(ty)
}

// interfaceText renders the module's imports and exports, one per line.
func (rt *legacyRuntime) interfaceText() string {
	var b strings.Builder
	b.WriteString("// legacy JSON-string ABI core module\n")
	for _, imp := range rt.module.Imports() {
		field := ""
		if n := imp.Name(); n != nil {
			field = *n
		}
		fmt.Fprintf(&b, "import %s.%s: %s\n", imp.Module(), field, externText(imp.Type()))
	}
	for _, exp := range rt.module.Exports() {
		fmt.Fprintf(&b, "export %s: %s\n", exp.Name(), externText(exp.Type()))
	}
	return b.String()
}
