package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/facts"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/metadata"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/templates"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"

	"github.com/driftless-dev/driftless/internal/safetext"
	"github.com/driftless-dev/driftless/pluginlock"
)

// maxResultSize bounds what the host accepts from one plugin call (a task
// output, facts, a rendered value): a plugin cannot make the host hold more.
const maxResultSize = 16 << 20

// Plugin is a loaded plugin. Its methods run the plugin's tasks, collectors,
// template extensions and log stages under its limits; they are safe for
// concurrent use (each call gets an instance of its own from a pool).
//
// A plugin that failed to load is still a Plugin: Err says why, and every
// call returns that error.
type Plugin struct {
	name   string
	path   string
	limits Limits
	log    *pluginLog
	abi    ABI
	err    error
	size   int
	sum    string
	digest [sha256.Size]byte // sum, raw
	pin    *pluginlock.Entry // the plugin's lock entry, for installed plugins that have one
	lock   string            // the lock file's path, for errors

	defs    definitions
	schemas map[string]*schema // "task/NAME", "collector/NAME", "extension/NAME", "log/NAME"
	rt      runtime

	extConfig map[string]string // plugins.toml's config of template extensions, as JSON

	// validating: only validated (Host.Validate), so its compiled code is
	// not kept in the compile cache.
	validating bool
	// unloaded: closed (unloaded or replaced); nothing new may open in it.
	unloaded atomic.Bool
}

// definitions is what a plugin says it provides, read once at load.
type definitions struct {
	info          metadata.PluginInfo
	tasks         []tasks.TaskDefinition
	collectors    []facts.CollectorDefinition
	extensions    []templates.ExtensionDefinition
	logComponents []logs.ComponentDefinition
	provides      []string // of "tasks", "facts", "templates", "logs"
	wit           string   // imports and exports as WIT-like text
	imports       []string // names of a component's imports (nil for core modules)
	exports       []string // names of a component's exports
}

// runtime runs one plugin: the component runtime and the legacy adapter
// implement it, which is what makes the two ABIs look the same to callers.
// Errors are *types.PluginError for what the plugin reports, and bindings'
// typed errors (*bindings.Trap, ...) for traps and limits.
type runtime interface {
	definitions() *definitions
	executeTask(ctx context.Context, name, config string, check bool) (tasks.TaskResult, error)
	collect(ctx context.Context, name, config string) (string, error)
	applyFilter(ctx context.Context, name, config, value string, args []string) (string, error)
	callFunction(ctx context.Context, name, config string, args []string) (string, error)
	openSource(ctx context.Context, name, config string) (sourceStage, error)
	openParser(ctx context.Context, name, config string) (parserStage, error)
	openFilter(ctx context.Context, name, config string) (filterStage, error)
	openOutput(ctx context.Context, name, config string) (outputStage, error)
	close()
}

// The log stages a runtime opens. Each keeps its instance for its life.
type (
	sourceStage interface {
		next(ctx context.Context, max uint32) ([]logs.LogEntry, error)
		close(ctx context.Context) error
	}
	parserStage interface {
		parse(ctx context.Context, lines []string) ([]*logs.LogEntry, error)
		close(ctx context.Context) error
	}
	filterStage interface {
		keep(ctx context.Context, entries []logs.LogEntry) ([]bool, error)
		close(ctx context.Context) error
	}
	outputStage interface {
		write(ctx context.Context, entries []logs.LogEntry) ([]string, error)
		close(ctx context.Context) error
	}
)

// init builds the plugin's runtime from its binary and reads its
// definitions; every problem found is reported.
func (p *Plugin) init(ctx context.Context, h *Host, wasm []byte) error {
	p.size = len(wasm)
	p.digest = sha256.Sum256(wasm)
	p.sum = hex.EncodeToString(p.digest[:])
	if p.pin != nil && p.pin.SHA256 != p.sum {
		return &Error{Plugin: p.name, Func: "load", Kind: KindLoad, Err: ErrLockMismatch,
			Msg: fmt.Sprintf("%s does not match its entry in %s: the file's sha256 is %s, the lock pins %s "+
				"(reinstall what the lock names with `driftless plugins install`, or the plugin with `plugins install REF --force`)",
				p.path, p.lock, p.sum, p.pin.SHA256)}
	}
	abi, err := sniff(wasm)
	if err != nil {
		return loadError(p.name, err)
	}
	p.abi = abi
	var rt runtime
	switch abi {
	case ABIComponent:
		rt, err = newComponentRuntime(ctx, h, p, wasm)
	case ABILegacy:
		rt, err = newLegacyRuntime(ctx, h, p, wasm)
	}
	if err != nil {
		return loadError(p.name, err)
	}
	p.rt = rt
	p.defs = *rt.definitions()
	p.log.flush(ctx)
	if err := p.index(); err != nil {
		return loadError(p.name, err)
	}
	if err := p.setExtensionConfig(h.config.Plugins[p.name].Extensions); err != nil {
		return loadError(p.name, err)
	}
	return nil
}

// setExtensionConfig takes the configs plugins.toml gives the plugin's
// template extensions, after checking that each names an extension of the
// plugin, can be JSON and passes the extension's config-schema. A mistake
// there would otherwise surface only when a template first uses the
// extension.
func (p *Plugin) setExtensionConfig(configs map[string]map[string]any) error {
	var problems LoadProblems
	p.extConfig = make(map[string]string, len(configs))
	for _, name := range sortedNames(configs) {
		key := fmt.Sprintf("plugins.toml [plugins.%s.extensions.%s]", p.name, name)
		b, err := json.Marshal(configs[name])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: cannot be given to the extension as JSON: %v", key, err))
			continue
		}
		p.extConfig[name] = string(b)
		if _, err := p.Extension(name); err != nil {
			var have []string
			for _, x := range p.defs.extensions {
				have = append(have, x.Name)
			}
			msg := fmt.Sprintf("plugins.toml configures extension %q, which the plugin does not provide", name)
			if len(have) > 0 {
				msg += " (it provides: " + strings.Join(have, ", ") + ")"
			}
			problems = append(problems, msg)
			continue
		}
		if _, err := p.checkConfig("load", "extension", name, p.extConfig[name]); err != nil {
			var he *Error
			if errors.As(err, &he) {
				err = errors.New(he.Msg)
			}
			problems = append(problems, fmt.Sprintf("%s: %v", key, err))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// ExtensionConfig returns the config plugins.toml gives the named template
// extension ([plugins.NAME.extensions.EXT]) as JSON text, or "" for none
// (the extension then gets {}).
func (p *Plugin) ExtensionConfig(name string) string { return p.extConfig[name] }

// LoadProblems lists every problem that keeps a plugin from loading.
type LoadProblems []string

func (l LoadProblems) Error() string {
	if len(l) == 1 {
		return l[0]
	}
	return fmt.Sprintf("%d problems: %s", len(l), strings.Join(l, "; "))
}

// Problems returns the problems of a load error, one per item.
func Problems(err error) []string {
	var lp LoadProblems
	if errors.As(err, &lp) {
		return lp
	}
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe.Refused
	}
	if err == nil {
		return nil
	}
	return []string{err.Error()}
}

// index checks the definitions (unique, named, valid schemas) and compiles
// their schemas.
func (p *Plugin) index() error {
	var problems LoadProblems
	p.schemas = map[string]*schema{}
	add := func(kind, name, text string) {
		key := kind + "/" + name
		switch {
		case name == "":
			problems = append(problems, fmt.Sprintf("a %s has an empty name", kind))
			return
		case strings.ContainsAny(name, " \t\n./"):
			problems = append(problems, fmt.Sprintf("%s %q: names may not contain spaces, dots or slashes", kind, name))
			return
		}
		if _, dup := p.schemas[key]; dup {
			problems = append(problems, fmt.Sprintf("%s %q is defined twice", kind, name))
			return
		}
		s, err := compileSchema(p.name+"/"+key, text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: %v", kind, name, err))
			return
		}
		p.schemas[key] = s
	}
	for _, d := range p.defs.tasks {
		add("task", d.Name, d.ConfigSchema)
	}
	for _, d := range p.defs.collectors {
		add("collector", d.Name, d.ConfigSchema)
	}
	for _, d := range p.defs.extensions {
		add("extension", d.Name, d.ConfigSchema)
	}
	for _, d := range p.defs.logComponents {
		add("log", d.Name, d.ConfigSchema)
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

func (p *Plugin) close() {
	p.unloaded.Store(true)
	if p.rt != nil {
		p.rt.close()
	}
}

// Name returns the plugin's name: its file name without .wasm.
func (p *Plugin) Name() string { return p.name }

// Path returns the file the plugin was loaded from ("" for bytes).
func (p *Plugin) Path() string { return p.path }

// ABI returns how the plugin talks to the host; "" if it did not load far
// enough to tell.
func (p *Plugin) ABI() ABI { return p.abi }

// Err returns why the plugin failed to load, or nil.
func (p *Plugin) Err() error { return p.err }

// Size returns the size of the plugin binary in bytes.
func (p *Plugin) Size() int { return p.size }

// SHA256 returns the hex SHA-256 of the plugin binary.
func (p *Plugin) SHA256() string { return p.sum }

// LockEntry returns the plugin's entry of plugins.lock: where it was
// installed from, its version and pinned digest. ok is false for a plugin
// without one (copied into plugins/ by hand, or not loaded from there).
func (p *Plugin) LockEntry() (e pluginlock.Entry, ok bool) {
	if p.pin == nil {
		return pluginlock.Entry{}, false
	}
	return *p.pin, true
}

// Imports returns the names of a component's imports (interfaces such as
// "driftless:plugin/host@0.1.0"); nil for core modules.
func (p *Plugin) Imports() []string { return p.defs.imports }

// Exports returns the names of a component's exports; nil for core
// modules.
func (p *Plugin) Exports() []string { return p.defs.exports }

// Limits returns the limits the plugin runs under.
func (p *Plugin) Limits() Limits { return p.limits }

// Info returns what the plugin says about itself.
func (p *Plugin) Info() metadata.PluginInfo { return p.defs.info }

// Provides returns which of tasks, facts, templates and logs the plugin
// provides.
func (p *Plugin) Provides() []string { return p.defs.provides }

// Interface returns the plugin's imports and exports as WIT-like text.
func (p *Plugin) Interface() string { return p.defs.wit }

// Tasks returns the plugin's task definitions.
func (p *Plugin) Tasks() []tasks.TaskDefinition { return p.defs.tasks }

// Collectors returns the plugin's facts collector definitions.
func (p *Plugin) Collectors() []facts.CollectorDefinition { return p.defs.collectors }

// Extensions returns the plugin's template filters and functions.
func (p *Plugin) Extensions() []templates.ExtensionDefinition { return p.defs.extensions }

// LogComponents returns the plugin's log sources, parsers, filters and
// outputs.
func (p *Plugin) LogComponents() []logs.ComponentDefinition { return p.defs.logComponents }

// Task returns the definition of the named task.
func (p *Plugin) Task(name string) (tasks.TaskDefinition, error) {
	return lookup(p, p.defs.tasks, func(d tasks.TaskDefinition) string { return d.Name }, name, "tasks.execute", "task")
}

// Collector returns the definition of the named facts collector.
func (p *Plugin) Collector(name string) (facts.CollectorDefinition, error) {
	return lookup(p, p.defs.collectors, func(d facts.CollectorDefinition) string { return d.Name }, name, "facts.collect", "facts collector")
}

// Extension returns the definition of the named template extension.
func (p *Plugin) Extension(name string) (templates.ExtensionDefinition, error) {
	return lookup(p, p.defs.extensions, func(d templates.ExtensionDefinition) string { return d.Name }, name, "templates", "template extension")
}

// LogComponent returns the definition of the named log component.
func (p *Plugin) LogComponent(name string) (logs.ComponentDefinition, error) {
	return lookup(p, p.defs.logComponents, func(d logs.ComponentDefinition) string { return d.Name }, name, "logs", "log component")
}

// lookup returns the definition named name among defs, or the error of fn
// saying there is no such what, with the names there are.
func lookup[D any](p *Plugin, defs []D, nameOf func(D) string, name, fn, what string) (D, error) {
	for _, d := range defs {
		if nameOf(d) == name {
			return d, nil
		}
	}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = nameOf(d)
	}
	var zero D
	return zero, p.notFound(fn, what, name, names)
}

// Schema returns the config-schema text of a definition; kind is "task",
// "collector", "extension" or "log".
func (p *Plugin) Schema(kind, name string) (string, bool) {
	s, ok := p.schemas[kind+"/"+name]
	if !ok {
		return "", false
	}
	return s.text, true
}

func (p *Plugin) notFound(fn, what, name string, known []string) error {
	msg := fmt.Sprintf("no %s named %s", what, safetext.Quote(name, maxNameEcho))
	if len(known) > 0 {
		sort.Strings(known)
		msg += " (available: " + joinNames(known) + ")"
	} else {
		msg += fmt.Sprintf(" (the plugin has no %ss)", what)
	}
	return &Error{Plugin: p.name, Func: fn, Kind: KindNotFound, Msg: msg}
}

func joinNames(names []string) string {
	if len(names) > 20 {
		return strings.Join(names[:20], ", ") + fmt.Sprintf(", and %d more", len(names)-20)
	}
	return strings.Join(names, ", ")
}

func (p *Plugin) usable() error {
	if p.err != nil {
		return p.err
	}
	if p.rt == nil {
		return &Error{Plugin: p.name, Kind: KindLoad, Msg: "plugin is not loaded"}
	}
	return nil
}

// checkConfig validates config (empty means {}) against the schema of a
// definition; the error names the failing path.
func (p *Plugin) checkConfig(fn, kind, name, config string) (string, error) {
	if strings.TrimSpace(config) == "" {
		config = "{}"
	}
	s := p.schemas[kind+"/"+name]
	if s == nil {
		return config, nil
	}
	if err := s.validate(config); err != nil {
		return "", &Error{Plugin: p.name, Func: fn, Kind: KindInvalidConfig,
			Msg: fmt.Sprintf("%s %q: %v", kind, name, err), Err: err}
	}
	return config, nil
}

// callError turns what a runtime returned into the host's error.
func (p *Plugin) callError(fn string, err error) error {
	if err == nil {
		return nil
	}
	var he *Error
	if errors.As(err, &he) {
		return err
	}
	var pe *types.PluginError
	if errors.As(err, &pe) {
		return &Error{Plugin: p.name, Func: fn, Kind: pluginErrorKind(pe.Kind), Msg: sanitize(pe.Message, 4096), Err: pe}
	}
	return limitError(p.name, fn, p.limits, err)
}

func pluginErrorKind(k types.ErrorKind) ErrorKind {
	switch k {
	case types.ErrorKindInvalidConfig:
		return KindInvalidConfig
	case types.ErrorKindInvalidInput:
		return KindInvalidInput
	case types.ErrorKindNotFound:
		return KindNotFound
	case types.ErrorKindUnsupported:
		return KindUnsupported
	}
	return KindFailed
}

// checkOutput makes sure a plugin's JSON result is one bounded JSON value.
func (p *Plugin) checkOutput(fn, what, text string) error {
	if len(text) > maxResultSize {
		return &Error{Plugin: p.name, Func: fn, Kind: KindBadOutput,
			Msg: fmt.Sprintf("%s is %d bytes, over the host's limit of %d bytes", what, len(text), maxResultSize)}
	}
	if _, parsed := p.rt.(*legacyRuntime); parsed {
		// The legacy adapter took text out of a whole answer it has just
		// checked to be valid JSON (legacyInstance.value): a second scan
		// would only cost time.
		return nil
	}
	if err := checkJSON(text); err != nil {
		return &Error{Plugin: p.name, Func: fn, Kind: KindBadOutput, Msg: fmt.Sprintf("%s is %v", what, err)}
	}
	return nil
}

// ExecuteTask runs a task. The config (a JSON object, "" for {}) is checked
// against the task's config-schema first. In check mode, a task that does
// not support it is not run: the error is KindUnsupported.
func (p *Plugin) ExecuteTask(ctx context.Context, task, config string, check bool) (tasks.TaskResult, error) {
	const fn = "tasks.execute"
	if err := p.usable(); err != nil {
		return tasks.TaskResult{}, err
	}
	def, err := p.Task(task)
	if err != nil {
		return tasks.TaskResult{}, err
	}
	if check && !def.SupportsCheckMode {
		return tasks.TaskResult{}, &Error{Plugin: p.name, Func: fn, Kind: KindUnsupported,
			Msg: fmt.Sprintf("task %q does not support check mode", task)}
	}
	if config, err = p.checkConfig(fn, "task", task, config); err != nil {
		return tasks.TaskResult{}, err
	}
	defer p.log.flush(ctx)
	res, err := p.rt.executeTask(ctx, task, config, check)
	if err != nil {
		return tasks.TaskResult{}, p.callError(fn, err)
	}
	if !p.runtimeChecks() {
		if err := p.checkTaskResult(fn, res); err != nil {
			return tasks.TaskResult{}, err
		}
	}
	return res, nil
}

// runtimeChecks reports whether the plugin's runtime checks its answers
// itself (checkTaskResult, checkFacts, checkOutput), before the instance
// that gave them can serve again: the component runtime does.
func (p *Plugin) runtimeChecks() bool {
	_, ok := p.rt.(*componentRuntime)
	return ok
}

// checkTaskResult checks a task's result: bounded, and its output JSON.
func (p *Plugin) checkTaskResult(fn string, res tasks.TaskResult) error {
	if err := p.checkOutput(fn, "task output", res.Output); err != nil {
		return err
	}
	if len(res.Message) > maxResultSize || (res.Diff != nil && len(*res.Diff) > maxResultSize) {
		return &Error{Plugin: p.name, Func: fn, Kind: KindBadOutput,
			Msg: fmt.Sprintf("task message or diff is over the host's limit of %d bytes", maxResultSize)}
	}
	return nil
}

// checkFacts checks what a facts collector returned: one bounded JSON
// object.
func (p *Plugin) checkFacts(fn, out string) error {
	if err := p.checkOutput(fn, "facts", out); err != nil {
		return err
	}
	if t := strings.TrimSpace(out); !strings.HasPrefix(t, "{") {
		return &Error{Plugin: p.name, Func: fn, Kind: KindBadOutput, Msg: "facts are not a JSON object"}
	}
	return nil
}

// Collect runs a facts collector and returns its facts, a JSON object.
func (p *Plugin) Collect(ctx context.Context, collector, config string) (string, error) {
	const fn = "facts.collect"
	if err := p.usable(); err != nil {
		return "", err
	}
	if _, err := p.Collector(collector); err != nil {
		return "", err
	}
	config, err := p.checkConfig(fn, "collector", collector, config)
	if err != nil {
		return "", err
	}
	defer p.log.flush(ctx)
	out, err := p.rt.collect(ctx, collector, config)
	if err != nil {
		return "", p.callError(fn, err)
	}
	if !p.runtimeChecks() {
		if err := p.checkFacts(fn, out); err != nil {
			return "", err
		}
	}
	return out, nil
}

// ApplyFilter runs a template filter: `{{ value | name(args...) }}`. value
// and each argument are JSON values; so is the result.
func (p *Plugin) ApplyFilter(ctx context.Context, name, config, value string, args []string) (string, error) {
	const fn = "templates.apply-filter"
	return p.extensionCall(ctx, fn, name, templates.ExtensionKindFilter, config, append([]string{value}, args...),
		func(config string) (string, error) { return p.rt.applyFilter(ctx, name, config, value, args) })
}

// CallFunction runs a template function: `{{ name(args...) }}`.
func (p *Plugin) CallFunction(ctx context.Context, name, config string, args []string) (string, error) {
	const fn = "templates.call-function"
	return p.extensionCall(ctx, fn, name, templates.ExtensionKindFunction, config, args,
		func(config string) (string, error) { return p.rt.callFunction(ctx, name, config, args) })
}

func (p *Plugin) extensionCall(ctx context.Context, fn, name string, kind templates.ExtensionKind, config string,
	inputs []string, call func(config string) (string, error)) (string, error) {
	if err := p.usable(); err != nil {
		return "", err
	}
	def, err := p.Extension(name)
	if err != nil {
		return "", err
	}
	if def.Kind != kind {
		return "", &Error{Plugin: p.name, Func: fn, Kind: KindNotFound,
			Msg: fmt.Sprintf("template extension %q is a %s, not a %s", name, def.Kind, kind)}
	}
	for i, in := range inputs {
		if err := checkJSON(in); err != nil {
			return "", &Error{Plugin: p.name, Func: fn, Kind: KindInvalidInput, Msg: fmt.Sprintf("input %d is %v", i, err)}
		}
	}
	if config, err = p.checkConfig(fn, "extension", name, config); err != nil {
		return "", err
	}
	defer p.log.flush(ctx)
	out, err := call(config)
	if err != nil {
		return "", p.callError(fn, err)
	}
	if !p.runtimeChecks() {
		if err := p.checkOutput(fn, "result", out); err != nil {
			return "", err
		}
	}
	return out, nil
}
