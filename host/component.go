package host

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/facts"
	hostiface "github.com/driftless-dev/driftless/gen/driftless/plugin/host"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/metadata"
	stateiface "github.com/driftless-dev/driftless/gen/driftless/plugin/state"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/templates"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
)

// Store limits besides the memory cap: generous for real components (a
// SpiderMonkey-based JavaScript component has a few dozen core instances
// and tables of tens of thousands of elements), small enough that a hostile
// component cannot make the host allocate without bound.
const (
	storeMaxInstances     = 1000
	storeMaxTables        = 1000
	storeMaxMemories      = 100
	storeMaxTableElements = 1 << 20
)

// componentRuntime runs a component plugin through the generated bindings.
type componentRuntime struct {
	h    *Host
	p    *Plugin
	comp *bindings.Component
	defs definitions
	pool *pool[*componentInstance]

	hasTasks, hasFacts, hasTemplates, hasLogs bool
}

// componentInstance is one instance of a component plugin in a store of
// its own, with the exports it provides bound.
type componentInstance struct {
	rt        *componentRuntime
	data      *instanceState // the store's data
	store     *bindings.Store
	inst      *bindings.Instance
	meta      *metadata.Exports
	tasks     *tasks.Exports
	facts     *facts.Exports
	templates *templates.Exports
	logs      *logs.Exports
	broken    bool
	cs        callState // the running call's, reused: a call allocates none
}

func (ci *componentInstance) usable() bool { return !ci.broken && ci.inst.Trapped() == nil }

func (ci *componentInstance) close() { ci.store.Close() }

// call runs f, one call into the instance, as one transaction on the
// plugin's state (committed when f succeeds, unless check). An instance
// whose call failed with anything but an error the plugin reported itself
// is marked broken; a failed commit leaves it sound.
func (ci *componentInstance) call(fn string, check bool, f func() error) error {
	ci.cs = callState{h: ci.rt.h, p: ci.rt.p, fn: fn, check: check}
	cs := &ci.cs
	ci.data.call = cs
	err := f()
	ci.data.call = nil
	if err != nil && !isPluginError(err) {
		ci.broken = true
	}
	return cs.end(err)
}

func newComponentRuntime(ctx context.Context, h *Host, p *Plugin, wasm []byte) (*componentRuntime, error) {
	comp, err := h.compileComponent(ctx, p, wasm)
	if err != nil {
		return nil, err
	}
	rt := &componentRuntime{h: h, p: p, comp: comp}
	if err := rt.check(); err != nil {
		return nil, err
	}
	rt.pool = newPool(p.limits.MaxInstances, p.limits.MaxCallsPerInstance, rt.newInstance)
	if err := rt.readDefinitions(ctx); err != nil {
		rt.close()
		return nil, err
	}
	return rt, nil
}

// check applies the load-time rules to the component's type: the import
// policy, the types of the host functions it imports, and the exports the
// contract requires.
func (rt *componentRuntime) check() error {
	ct := rt.comp.Type()
	var problems LoadProblems
	if err := checkComponentImports(ct, rt.h.linker.Defines, rt.h.interfaceNames()); err != nil {
		problems = append(problems, Problems(err)...)
	}
	problems = append(problems, rt.h.checkInterfaces(rt.comp)...)
	problems = append(problems, rt.h.undefinedImports(rt.comp)...)
	if err := hostiface.CheckImports(rt.comp); err != nil {
		problems = append(problems, err.Error())
	}
	if err := stateiface.CheckImports(rt.comp); err != nil {
		problems = append(problems, err.Error())
	}
	if !metadata.Exported(rt.comp) {
		problems = append(problems, fmt.Sprintf("the component does not export %s, which every plugin must", ifaceMetadata))
	}
	rt.hasTasks = tasks.Exported(rt.comp)
	rt.hasFacts = facts.Exported(rt.comp)
	rt.hasTemplates = templates.Exported(rt.comp)
	rt.hasLogs = logs.Exported(rt.comp)
	if !rt.hasTasks && !rt.hasFacts && !rt.hasTemplates && !rt.hasLogs {
		problems = append(problems, fmt.Sprintf("the component exports none of %s, %s, %s, %s: it provides nothing", ifaceTasks, ifaceFacts, ifaceTemplates, ifaceLogs))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return problems
	}
	return nil
}

// compileComponent compiles plugin p's component, or loads it from the
// compile cache (compileCached).
func (h *Host) compileComponent(ctx context.Context, p *Plugin, wasm []byte) (*bindings.Component, error) {
	return compileCached(ctx, h, p, "component",
		// With the source, so that inspect names types as the
		// plugin's binary does.
		func(data []byte) (*bindings.Component, error) {
			return bindings.DeserializeComponentWithSource(h.engine, data, wasm)
		},
		func() (*bindings.Component, error) {
			c, err := bindings.NewComponent(h.engine, wasm)
			if err != nil {
				msg := err.Error()
				var be *bindings.Error
				if errors.As(err, &be) {
					msg = causeChain(be.Message)
				}
				return nil, &wrappedError{msg: "not a valid component: " + msg, err: err}
			}
			return c, nil
		},
		(*bindings.Component).Serialize)
}

// newStore makes the store of one instance of plugin p, with its limits, a
// WASI context that is sealed unless the configuration grants access, and
// data as its data. A variantReadOnly store sees every granted directory
// read-only.
func (h *Host) newStore(p *Plugin, v variant, data *instanceState) (*bindings.Store, error) {
	l := p.limits
	w := &bindings.WASIConfig{
		Stdout: &lineWriter{log: p.log, stream: "stdout"},
		Stderr: &lineWriter{log: p.log, stream: "stderr"},
	}
	if l.AllowWASI {
		for _, k := range sortedNames(l.Env) {
			w.Env = append(w.Env, [2]string{k, l.Env[k]})
		}
		for _, d := range l.Dirs {
			w.Dirs = append(w.Dirs, bindings.PreopenDir{HostPath: d.Host, GuestPath: d.Guest, ReadOnly: d.ReadOnly || v == variantReadOnly})
		}
	}
	return h.engine.NewStore(bindings.StoreOptions{
		Limits: bindings.Limits{
			MemoryBytes:   l.MaxMemory,
			Instances:     storeMaxInstances,
			Tables:        storeMaxTables,
			Memories:      storeMaxMemories,
			TableElements: storeMaxTableElements,
		},
		Call: bindings.CallLimits{Fuel: l.FuelLimit, Timeout: l.ExecutionTimeout},
		WASI: w,
		Data: data,
	})
}

func (rt *componentRuntime) newInstance(ctx context.Context, v variant) (*componentInstance, error) {
	data := &instanceState{plugin: rt.p.name, log: rt.p.log}
	store, err := rt.h.newStore(rt.p, v, data)
	if err != nil {
		return nil, err
	}
	// Start functions may use state: instantiation is a call of its own.
	cs := rt.h.newCall(rt.p, "instantiate", false)
	data.call = cs
	inst, err := rt.h.linker.Instantiate(store, rt.comp)
	data.call = nil
	if err != nil {
		err = limitError(rt.p.name, "instantiate", rt.p.limits, err)
	}
	if err = cs.end(err); err != nil {
		store.Close()
		return nil, err
	}
	ci := &componentInstance{rt: rt, data: data, store: store, inst: inst}
	bind := func() error {
		var err error
		if ci.meta, err = metadata.NewExports(inst); err != nil {
			return err
		}
		if rt.hasTasks {
			if ci.tasks, err = tasks.NewExports(inst); err != nil {
				return err
			}
		}
		if rt.hasFacts {
			if ci.facts, err = facts.NewExports(inst); err != nil {
				return err
			}
		}
		if rt.hasTemplates {
			if ci.templates, err = templates.NewExports(inst); err != nil {
				return err
			}
		}
		if rt.hasLogs {
			if ci.logs, err = logs.NewExports(inst); err != nil {
				return err
			}
		}
		return nil
	}
	if err := bind(); err != nil {
		// An export whose type is not the contract's: the component is
		// unusable, which loading reports.
		store.Close()
		return nil, &Error{Plugin: rt.p.name, Func: "load", Kind: KindLoad, Msg: err.Error(), Err: err}
	}
	return ci, nil
}

// readDefinitions instantiates the component once and asks it what it
// provides; the instance then stays in the pool, warm.
func (rt *componentRuntime) readDefinitions(ctx context.Context) error {
	d := &rt.defs
	ct := rt.comp.Type()
	d.wit = ct.WIT()
	for _, it := range ct.Imports {
		d.imports = append(d.imports, it.Name)
	}
	for _, it := range ct.Exports {
		d.exports = append(d.exports, it.Name)
	}
	return rt.with(ctx, "metadata.describe", false, func(ci *componentInstance) error {
		var err error
		if d.info, err = ci.meta.Describe(ctx); err != nil {
			return rt.p.callError("metadata.describe", err)
		}
		if ci.tasks != nil {
			d.provides = append(d.provides, "tasks")
			if d.tasks, err = ci.tasks.Definitions(ctx); err != nil {
				return rt.p.callError("tasks.definitions", err)
			}
		}
		if ci.facts != nil {
			d.provides = append(d.provides, "facts")
			if d.collectors, err = ci.facts.Collectors(ctx); err != nil {
				return rt.p.callError("facts.collectors", err)
			}
		}
		if ci.templates != nil {
			d.provides = append(d.provides, "templates")
			if d.extensions, err = ci.templates.Extensions(ctx); err != nil {
				return rt.p.callError("templates.extensions", err)
			}
		}
		if ci.logs != nil {
			d.provides = append(d.provides, "logs")
			if d.logComponents, err = ci.logs.Components(ctx); err != nil {
				return rt.p.callError("logs.components", err)
			}
		}
		return nil
	})
}

func (rt *componentRuntime) definitions() *definitions { return &rt.defs }

func (rt *componentRuntime) close() {
	if rt.pool != nil {
		rt.pool.close()
	}
}

// with runs f on a pooled instance, as one call (componentInstance.call).
// An instance whose call failed with anything but an error the plugin
// reported itself is discarded.
func (rt *componentRuntime) with(ctx context.Context, fn string, check bool, f func(*componentInstance) error) error {
	return rt.withVariant(ctx, fn, variantPlain, check, f)
}

// withVariant is with on an instance of variant v.
func (rt *componentRuntime) withVariant(ctx context.Context, fn string, v variant, check bool, f func(*componentInstance) error) error {
	pi, err := getInstance(ctx, rt.pool, rt.p, fn, v)
	if err != nil {
		return err
	}
	err = pi.inst.call(fn, check, func() error { return f(pi.inst) })
	rt.pool.put(pi)
	return err
}

// getInstance takes an instance from a pool, waiting at most the plugin's
// execution timeout for one to come free.
func getInstance[I instance](ctx context.Context, p *pool[I], pl *Plugin, fn string, v variant) (*pooled[I], error) {
	if err := ctx.Err(); err != nil {
		return nil, limitError(pl.name, fn, pl.limits, err)
	}
	// Usually an instance is free: take it without setting up a wait.
	pi, ok, err := p.tryGet(ctx, v)
	if !ok {
		wctx, cancel := context.WithTimeout(ctx, pl.limits.ExecutionTimeout)
		defer cancel()
		pi, err = p.get(wctx, v)
	}
	if err == nil {
		return pi, nil
	}
	if ctx.Err() != nil {
		return nil, limitError(pl.name, fn, pl.limits, ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &Error{Plugin: pl.name, Func: fn, Kind: KindBusy,
			Msg: fmt.Sprintf("all %d instances stayed busy for %s (max_instances)", pl.limits.MaxInstances, pl.limits.ExecutionTimeout)}
	}
	if err == errPoolClosed {
		return nil, &Error{Plugin: pl.name, Func: fn, Kind: errPoolClosed.Kind, Msg: errPoolClosed.Msg}
	}
	var he *Error
	if errors.As(err, &he) {
		return nil, err
	}
	return nil, limitError(pl.name, fn, pl.limits, err)
}

// isPluginError reports whether err is an error the plugin returned as a
// result (its instance is fine), as opposed to a trap, a limit or a
// malformed answer (its instance must go).
func isPluginError(err error) bool {
	var pe *types.PluginError
	return errors.As(err, &pe)
}

// The calls below check what the plugin answered before its instance goes
// back to the pool (Plugin's checks, which Plugin then skips for
// components): a malformed answer is the plugin's fault like a trap, so the
// instance that gave it is discarded, never asked again.

func (rt *componentRuntime) executeTask(ctx context.Context, name, config string, check bool) (res tasks.TaskResult, err error) {
	const fn = "tasks.execute"
	// Check mode is enforced, not only asked for: the task runs where
	// every directory it was granted is read-only.
	v := variantPlain
	if check && rt.p.limits.writableDirs() {
		v = variantReadOnly
	}
	err = rt.withVariant(ctx, fn, v, check, func(ci *componentInstance) error {
		if res, err = ci.tasks.Execute(ctx, name, config, check); err != nil {
			return err
		}
		return rt.p.checkTaskResult(fn, res)
	})
	return res, err
}

func (rt *componentRuntime) collect(ctx context.Context, name, config string) (out string, err error) {
	const fn = "facts.collect"
	err = rt.with(ctx, fn, false, func(ci *componentInstance) error {
		if out, err = ci.facts.Collect(ctx, name, config); err != nil {
			return err
		}
		return rt.p.checkFacts(fn, out)
	})
	return out, err
}

func (rt *componentRuntime) applyFilter(ctx context.Context, name, config, value string, args []string) (out string, err error) {
	const fn = "templates.apply-filter"
	err = rt.with(ctx, fn, false, func(ci *componentInstance) error {
		if out, err = ci.templates.ApplyFilter(ctx, name, config, value, args); err != nil {
			return err
		}
		return rt.p.checkOutput(fn, "result", out)
	})
	return out, err
}

func (rt *componentRuntime) callFunction(ctx context.Context, name, config string, args []string) (out string, err error) {
	const fn = "templates.call-function"
	err = rt.with(ctx, fn, false, func(ci *componentInstance) error {
		if out, err = ci.templates.CallFunction(ctx, name, config, args); err != nil {
			return err
		}
		return rt.p.checkOutput(fn, "result", out)
	})
	return out, err
}

// stageInstance makes a dedicated instance for a log stage: a stage keeps
// its instance (and the guest state behind its resource) for its whole life.
func (rt *componentRuntime) stageInstance(ctx context.Context, fn string) (*componentInstance, error) {
	if !rt.hasLogs {
		return nil, &Error{Plugin: rt.p.name, Func: fn, Kind: KindNotFound, Msg: "the plugin provides no log components"}
	}
	return rt.newInstance(ctx, variantPlain)
}

// componentStage is the instance and resource of an open log stage. Each
// method call (and the drop) is one call of the instance, and one
// transaction on the plugin's state.
type componentStage struct {
	ci   *componentInstance
	fn   string // "logs.source", ...
	drop func(context.Context) error
}

func (s *componentStage) close(ctx context.Context) error {
	var err error
	if s.ci.usable() {
		err = s.ci.call(s.fn+".drop", false, func() error { return s.drop(ctx) })
	}
	s.ci.close()
	return err
}

type componentSource struct {
	componentStage
	r *logs.Source
}

func (s *componentSource) next(ctx context.Context, max uint32) (out []logs.LogEntry, err error) {
	err = s.ci.call(s.fn+".next", false, func() error {
		out, err = s.r.Next(ctx, max)
		return err
	})
	return out, err
}

type componentParser struct {
	componentStage
	r *logs.Parser
}

func (s *componentParser) parse(ctx context.Context, lines []string) (out []*logs.LogEntry, err error) {
	err = s.ci.call(s.fn+".parse", false, func() error {
		out, err = s.r.Parse(ctx, lines)
		return err
	})
	return out, err
}

type componentFilter struct {
	componentStage
	r *logs.Filter
}

func (s *componentFilter) keep(ctx context.Context, entries []logs.LogEntry) (out []bool, err error) {
	err = s.ci.call(s.fn+".keep", false, func() error {
		out, err = s.r.Keep(ctx, entries)
		return err
	})
	return out, err
}

type componentOutput struct {
	componentStage
	r *logs.Output
}

func (s *componentOutput) write(ctx context.Context, entries []logs.LogEntry) (out []string, err error) {
	err = s.ci.call(s.fn+".write", false, func() error {
		out, err = s.r.Write(ctx, entries)
		return err
	})
	return out, err
}

// openComponentStage opens a log stage on an instance of its own: open is the
// plugin's open function, a call (and a transaction) of its own.
func openComponentStage[R any](ctx context.Context, rt *componentRuntime, fn string, open func(ci *componentInstance) (R, error)) (*componentInstance, R, error) {
	var r R
	ci, err := rt.stageInstance(ctx, fn)
	if err != nil {
		return nil, r, err
	}
	err = ci.call(fn, false, func() error {
		r, err = open(ci)
		return err
	})
	if err != nil {
		ci.close()
		return nil, r, err
	}
	return ci, r, nil
}

func (rt *componentRuntime) openSource(ctx context.Context, name, config string) (sourceStage, error) {
	ci, r, err := openComponentStage(ctx, rt, "logs.open-source", func(ci *componentInstance) (*logs.Source, error) {
		return ci.logs.OpenSource(ctx, name, config)
	})
	if err != nil {
		return nil, err
	}
	return &componentSource{componentStage{ci, "logs.source", r.Drop}, r}, nil
}

func (rt *componentRuntime) openParser(ctx context.Context, name, config string) (parserStage, error) {
	ci, r, err := openComponentStage(ctx, rt, "logs.open-parser", func(ci *componentInstance) (*logs.Parser, error) {
		return ci.logs.OpenParser(ctx, name, config)
	})
	if err != nil {
		return nil, err
	}
	return &componentParser{componentStage{ci, "logs.parser", r.Drop}, r}, nil
}

func (rt *componentRuntime) openFilter(ctx context.Context, name, config string) (filterStage, error) {
	ci, r, err := openComponentStage(ctx, rt, "logs.open-filter", func(ci *componentInstance) (*logs.Filter, error) {
		return ci.logs.OpenFilter(ctx, name, config)
	})
	if err != nil {
		return nil, err
	}
	return &componentFilter{componentStage{ci, "logs.filter", r.Drop}, r}, nil
}

func (rt *componentRuntime) openOutput(ctx context.Context, name, config string) (outputStage, error) {
	ci, r, err := openComponentStage(ctx, rt, "logs.open-output", func(ci *componentInstance) (*logs.Output, error) {
		return ci.logs.OpenOutput(ctx, name, config)
	})
	if err != nil {
		return nil, err
	}
	return &componentOutput{componentStage{ci, "logs.output", r.Drop}, r}, nil
}

// causeChain puts wasmtime's multi-line "msg\n\nCaused by:\n    0: a\n
// 1: b" on one line: "msg: a: b".
func causeChain(msg string) string {
	var parts []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "Caused by:" {
			continue
		}
		if n, rest, ok := strings.Cut(line, ": "); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			line = rest
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, ": ")
}

// wrappedError is an error with a message of its own and a cause.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg }
func (e *wrappedError) Unwrap() error { return e.err }

// writableDirs reports whether the limits grant a directory the plugin may
// write to (which check mode then withholds).
func (l Limits) writableDirs() bool {
	if !l.AllowWASI {
		return false
	}
	for _, d := range l.Dirs {
		if !d.ReadOnly {
			return true
		}
	}
	return false
}
