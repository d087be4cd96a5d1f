package host

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/metadata"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
	"github.com/driftless-dev/driftless/host/internal/jsonscan"
)

// with runs f on a pooled instance; the instance goes back to the pool
// unless its execution broke it (legacyInstance.run decides).
func (rt *legacyRuntime) with(ctx context.Context, fn string, f func(*legacyInstance) error) error {
	pi, err := getInstance(ctx, rt.pool, rt.p, fn, variantPlain)
	if err != nil {
		return err
	}
	err = f(pi.inst)
	rt.pool.put(pi)
	return err
}

// call1 runs one execution that calls export once with args.
func (rt *legacyRuntime) call1(ctx context.Context, fn, export string, args []string, result func(li *legacyInstance, text string) error) error {
	return rt.with(ctx, fn, func(li *legacyInstance) error {
		return li.run(ctx, fn, func() error {
			text, err := li.call(export, args...)
			if err != nil {
				return err
			}
			return result(li, text)
		})
	})
}

// readDefinitions instantiates the module once and reads what it
// provides; the instance then stays in the pool, warm. Every problem found
// is reported, as for a component.
func (rt *legacyRuntime) readDefinitions(ctx context.Context) error {
	d := &rt.defs
	d.wit = rt.interfaceText()
	d.info = metadata.PluginInfo{Name: rt.p.name}
	var problems LoadProblems
	err := rt.with(ctx, "metadata.describe", func(li *legacyInstance) error {
		// get calls a definition function; ok is false when it is not
		// exported or failed (the failure is a problem).
		get := func(fn, export string) (text string, ok bool) {
			if !rt.exports.present(export) {
				return "", false
			}
			if li.broken != nil {
				return "", false // the first failure was reported
			}
			err := li.run(ctx, fn, func() error {
				var err error
				text, err = li.call(export)
				return err
			})
			if err != nil {
				problems = append(problems, describeLoadError(rt.p.callError(fn, err)))
				return "", false
			}
			return text, true
		}
		add := func(err error) {
			if err != nil {
				problems = append(problems, err.Error())
			}
		}
		if text, ok := get("metadata.describe", "get_plugin_metadata"); ok {
			add(rt.metadata(text))
		}
		var err error
		if text, ok := get("tasks.definitions", "get_task_definitions"); ok {
			d.tasks, err = taskDefinitions(text)
			add(err)
		}
		if text, ok := get("facts.collectors", "get_facts_collectors"); ok {
			d.collectors, err = collectorDefinitions(text)
			add(err)
		}
		if text, ok := get("templates.extensions", "get_template_extensions"); ok {
			d.extensions, err = extensionDefinitions(text)
			add(err)
		}
		for _, l := range legacyLogKinds {
			if text, ok := get("logs.components", l.defs); ok {
				var defs []logs.ComponentDefinition
				defs, err = logDefinitions(l.defs, text, l.kind)
				add(err)
				d.logComponents = append(d.logComponents, defs...)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	ex := &rt.exports
	need := func(what string, n int, export string) {
		if n > 0 && !ex.present(export) {
			problems = append(problems, fmt.Sprintf("the plugin defines %s but does not export %s", what, export))
		}
	}
	need("tasks", len(d.tasks), "execute_task")
	need("facts collectors", len(d.collectors), "execute_facts_collector")
	for _, e := range d.extensions {
		if e.Kind.String() == "filter" && ex.filter == "" {
			problems = append(problems, fmt.Sprintf("the plugin defines template filter %q but exports neither execute_template_filter nor execute_filter", e.Name))
		}
		if e.Kind.String() == "function" && ex.function == "" {
			problems = append(problems, fmt.Sprintf("the plugin defines template function %q but exports neither execute_template_function nor execute_function", e.Name))
		}
	}
	for _, l := range legacyLogKinds {
		n := 0
		for _, c := range d.logComponents {
			if c.Kind == l.kind {
				n++
			}
		}
		need("log "+l.kind.String()+"s", n, l.exec)
	}
	if ex.present("get_task_definitions") {
		d.provides = append(d.provides, "tasks")
	}
	if ex.present("get_facts_collectors") {
		d.provides = append(d.provides, "facts")
	}
	if ex.present("get_template_extensions") {
		d.provides = append(d.provides, "templates")
	}
	for _, l := range legacyLogKinds {
		if ex.present(l.defs) {
			d.provides = append(d.provides, "logs")
			break
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// describeLoadError is the one-line problem of a failed definition call.
func describeLoadError(err error) string {
	var he *Error
	if errors.As(err, &he) {
		return he.Func + ": " + he.Msg
	}
	return err.Error()
}

// metadata maps get_plugin_metadata: {"name"?, "version", "description"}.
// Without a name (or without the export) the plugin's name is used.
func (rt *legacyRuntime) metadata(text string) error {
	const export = "get_plugin_metadata"
	if msg := jsonError(text); msg != "" {
		return fmt.Errorf("%s returned invalid JSON: %s", export, msg)
	}
	obj, ok := objectOf(text)
	if !ok {
		return fmt.Errorf("%s returned %s, not an object", export, jsonscan.Kind(text))
	}
	if pe := envelopeError(obj); pe != nil {
		return fmt.Errorf("%s reported an error: %s", export, pe.Message)
	}
	info := &rt.defs.info
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &info.Name}, {"version", &info.Version}, {"description", &info.Description}} {
		s, ok, err := obj.Str(f.key)
		if err != nil {
			return fmt.Errorf("%s: %v", export, err)
		}
		if ok && s != "" {
			*f.dst = s
		}
	}
	return nil
}

// legacyLogKinds: the definition and execution exports of each log kind.
var legacyLogKinds = []struct {
	kind       logs.ComponentKind
	defs, exec string
}{
	{logs.ComponentKindSource, "get_log_sources", "execute_log_source"},
	{logs.ComponentKindParser, "get_log_parsers", "execute_log_parser"},
	{logs.ComponentKindFilter, "get_log_filters", "execute_log_filter"},
	{logs.ComponentKindOutput, "get_log_outputs", "execute_log_output"},
}

func (rt *legacyRuntime) executeTask(ctx context.Context, name, config string, check bool) (res tasks.TaskResult, err error) {
	if check {
		// Plugin.ExecuteTask refuses check mode before this (legacy tasks
		// say SupportsCheckMode = false); never run a legacy task in it.
		return tasks.TaskResult{}, &types.PluginError{Kind: types.ErrorKindUnsupported,
			Message: fmt.Sprintf("task %q does not support check mode", name)}
	}
	err = rt.call1(ctx, "tasks.execute", "execute_task", []string{name, config}, func(li *legacyInstance, text string) error {
		res, err = li.taskResult(text)
		return err
	})
	return res, err
}

func (rt *legacyRuntime) collect(ctx context.Context, name, config string) (out string, err error) {
	err = rt.call1(ctx, "facts.collect", "execute_facts_collector", []string{name, config}, func(li *legacyInstance, text string) error {
		out, _, err = li.value("execute_facts_collector", text)
		return err
	})
	return out, err
}

func (rt *legacyRuntime) applyFilter(ctx context.Context, name, config, value string, args []string) (out string, err error) {
	export := rt.exports.filter
	if export == "" {
		return "", &Error{Plugin: rt.p.name, Func: "templates.apply-filter", Kind: KindNotFound, Msg: "the plugin exports no template filter function"}
	}
	argv := []string{name, value, jsonArray(args)}
	if rt.exports.arity[export] == 4 {
		argv = []string{name, config, value, jsonArray(args)}
	}
	err = rt.call1(ctx, "templates.apply-filter", export, argv, func(li *legacyInstance, text string) error {
		out, _, err = li.value(export, text)
		return err
	})
	return out, err
}

func (rt *legacyRuntime) callFunction(ctx context.Context, name, config string, args []string) (out string, err error) {
	export := rt.exports.function
	if export == "" {
		return "", &Error{Plugin: rt.p.name, Func: "templates.call-function", Kind: KindNotFound, Msg: "the plugin exports no template function"}
	}
	argv := []string{name, jsonArray(args)}
	if rt.exports.arity[export] == 3 {
		argv = []string{name, config, jsonArray(args)}
	}
	err = rt.call1(ctx, "templates.call-function", export, argv, func(li *legacyInstance, text string) error {
		out, _, err = li.value(export, text)
		return err
	})
	return out, err
}

// jsonArray joins JSON values (already checked by the host) into a JSON
// array.
func jsonArray(values []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.TrimSpace(v))
	}
	b.WriteByte(']')
	return b.String()
}
