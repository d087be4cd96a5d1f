// Package host runs Driftless plugins: it finds and loads them, enforces
// the sandbox (memory cap, fuel, wall-clock timeout, import policy), caches
// compiled code, pools instances, and gives the rest of Driftless one Go API
// for the tasks, facts collectors, template extensions and log stages of a
// plugin, whether it is a WebAssembly component (calls go through the
// generated bindings in gen/) or a legacy JSON-ABI core module (through an
// adapter that presents it the same way).
//
// A typical embedding (docs/embedding.md):
//
//	h, err := host.New(host.Options{}) // default limits; no file, no environment, no cache
//	if err != nil { ... }
//	defer h.Close()
//	p, err := h.LoadBytes(ctx, "myplugin", wasm)
//	res, err := p.ExecuteTask(ctx, "set-value", `{"key":"a","value":"b"}`, false)
//
// The zero Options touch nothing outside the process. HomeOptions gives a
// host the plugin home of the driftless CLI (plugins.toml, plugins/*.wasm
// for LoadAll, and a compile cache in a directory); Options.Cache takes
// any CompileCache, LoadOptions gives one load its limits, and
// Options.Interfaces adds host interfaces of the embedder's own WIT for
// the plugins that import them.
package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/bindings"
	hostiface "github.com/driftless-dev/driftless/gen/driftless/plugin/host"
	stateiface "github.com/driftless-dev/driftless/gen/driftless/plugin/state"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
	"github.com/driftless-dev/driftless/pluginlock"
	"github.com/driftless-dev/driftless/pluginstate"
)

// Options configure a Host. The zero Options are a complete, self-contained
// host: default limits for every plugin, no WASI access, no compile cache,
// no plugin directory, no state store, and logs to slog.Default(). New then reads no
// environment variable and no file, and writes nothing: plugins come from
// Load or LoadBytes. HomeOptions gives the Options of a plugin home, the
// layout the driftless CLI uses.
type Options struct {
	// Config holds the limits of the plugins, what they are granted and
	// the config of their template extensions (the content of a
	// plugins.toml: ParseConfig, LoadConfig, or built in Go). nil means the
	// defaults (DefaultLimits) for every plugin. It is checked as
	// plugins.toml is: New refuses impossible values. LoadOptions.Limits
	// overrides its limits for one load.
	Config *Config
	// PluginDir is the directory LoadAll loads (its *.wasm files) and that
	// the compile cache's housekeeping (CacheInfo, PruneCache) takes for
	// the installed plugins. "" means none: LoadAll fails, saying so.
	PluginDir string
	// Cache keeps compiled plugins between loads, so that a large plugin
	// is compiled once rather than at every load (seconds for a JavaScript
	// component). nil means no cache: every load compiles. NewDirCache
	// gives a cache in a directory (what the CLI uses, shareable between
	// hosts and processes); an embedder may implement CompileCache itself.
	Cache CompileCache
	// Interfaces are the embedder's own host interfaces, linked for the
	// plugins that import them (see Interface). A component may import
	// them, driftless:plugin/host, state and types, and wasi:* (without
	// sockets and http): nothing else.
	Interfaces []Interface
	// Lock holds the digests the plugins of PluginDir must match to load
	// (plugins.lock; pluginlock.Read). nil means none: nothing is pinned.
	// HomeOptions reads the home's plugins.lock.
	Lock *pluginlock.Lock
	// Logger receives plugin logs and host diagnostics; nil means
	// slog.Default().
	Logger *slog.Logger
	// EpochTick is how often running calls check their deadline and
	// context; 0 means 10ms.
	EpochTick time.Duration
	// Progress, if set, is told when loading a plugin takes a slow step:
	// compiling it (it is not in the compile cache) or waiting for another
	// process that is compiling it. It is called before the step, from the
	// goroutine that loads, and the function it returns (if not nil) when
	// the step ends.
	Progress func(Step) (done func())
	// StatePath is the database file that keeps the plugins' durable
	// state (driftless:plugin/state, the legacy host_state_* functions;
	// package pluginstate), opened, and created with its directory, when
	// a plugin first uses state, and closed by Close. "" means none (unless
	// State is set): a call into a plugin that uses state then fails, with
	// an error saying the host keeps no plugin state.
	StatePath string
	// StateBusyTimeout is how long a state operation waits for another
	// process's lock on the StatePath database; 0 means 5s.
	StateBusyTimeout time.Duration
	// State, if not nil, is an open state store used instead of StatePath
	// (pluginstate.Open), e.g. one that several hosts share; the host does
	// not close it.
	State *pluginstate.Store
}

// Host loads and runs plugins. It is safe for concurrent use.
type Host struct {
	tick       time.Duration // Options.EpochTick
	pluginDir  string
	config     *Config
	logger     *slog.Logger
	engine     *bindings.Engine
	linker     *bindings.Linker
	cache      CompileCache
	cacheWarn  sync.Once // the compile cache directory is unsafe: said once
	interfaces []Interface
	lock       *pluginlock.Lock // Options.Lock; never nil

	progress func(Step) func()

	mu      sync.RWMutex
	plugins map[string]*Plugin
	closed  bool

	statePath   string
	stateBusy   time.Duration
	stateMu     sync.Mutex
	state       *pluginstate.Store // opened on first use, or Options.State
	stateOwned  bool               // state was opened from statePath: Close closes it
	stateClosed bool
}

// DefaultHome returns the plugin home of the driftless CLI:
// $DRIFTLESS_HOME, else ~/.driftless. New never calls it; an embedder that
// wants the CLI's plugins passes it to HomeOptions.
func DefaultHome() string {
	if h := os.Getenv("DRIFTLESS_HOME"); h != "" {
		return h
	}
	if u, err := os.UserHomeDir(); err == nil {
		return filepath.Join(u, ".driftless")
	}
	return ".driftless"
}

// HomeOptions returns the Options of the plugin home dir, the layout the
// driftless CLI uses:
//
//	dir/plugins.toml     Config (a missing file means the defaults)
//	dir/plugins.lock     Lock: the digests installed plugins must match
//	dir/plugins/         PluginDir: the installed plugins, NAME.wasm
//	dir/cache/           Cache: a DirCache
//	dir/state/state.db   StatePath: the plugins' durable state
//
// It reads plugins.toml (its errors are *ConfigError, naming the file and
// the key) and plugins.lock (*pluginlock.Error, naming the file and line)
// and nothing else; the cache directory is made when a plugin is
// first compiled, the state database when a plugin first uses state. Set
// the other fields on the result before New (Logger, Interfaces, ...); set
// Cache to nil to turn the compile cache off, or to another cache to share
// one between homes.
func HomeOptions(dir string) (Options, error) {
	if dir == "" {
		return Options{}, errors.New("host: HomeOptions needs a directory (DefaultHome() is the CLI's: $DRIFTLESS_HOME, else ~/.driftless)")
	}
	cfg, err := LoadConfig(filepath.Join(dir, "plugins.toml"))
	if err != nil {
		return Options{}, err
	}
	lock, err := pluginlock.Read(filepath.Join(dir, pluginlock.FileName))
	if err != nil {
		return Options{}, err
	}
	return Options{
		Config:    cfg,
		Lock:      lock,
		PluginDir: filepath.Join(dir, "plugins"),
		Cache:     NewDirCache(filepath.Join(dir, "cache")),
		StatePath: filepath.Join(dir, "state", StateFile),
	}, nil
}

// New creates a host from opts. It loads no plugin: call Load, LoadBytes or
// LoadAll. It fails when one of opts.Interfaces cannot be defined.
func New(opts Options) (*Host, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = &Config{}
	} else {
		c := *cfg
		if c.Path == "" {
			c.Path = "Options.Config"
		}
		if err := c.validate(); err != nil {
			return nil, err
		}
	}
	lock := opts.Lock
	if lock == nil {
		lock = pluginlock.New("")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	engine, err := bindings.NewEngine(engineConfig(opts.EpochTick))
	if err != nil {
		return nil, err
	}
	h := &Host{
		tick:       opts.EpochTick,
		progress:   opts.Progress,
		pluginDir:  opts.PluginDir,
		config:     cfg,
		logger:     logger,
		engine:     engine,
		cache:      opts.Cache,
		interfaces: slices.Clone(opts.Interfaces),
		plugins:    map[string]*Plugin{},
		statePath:  opts.StatePath,
		stateBusy:  opts.StateBusyTimeout,
		state:      opts.State,
		lock:       lock,
	}
	if h.linker, err = newComponentLinker(engine); err == nil {
		err = defineInterfaces(h.linker, h.interfaces)
	}
	if err != nil {
		if h.linker != nil {
			h.linker.Close()
		}
		engine.Close()
		return nil, err
	}
	return h, nil
}

// engineConfig is the one engine configuration of the host: fuel and epoch
// interruption on, so that every limit can be enforced per call.
func engineConfig(tick time.Duration) bindings.EngineConfig {
	return bindings.EngineConfig{ConsumeFuel: true, EpochInterruption: true, EpochTick: tick}
}

// engineFingerprint is the part of cache keys that depends on engine
// settings: compiled code is only valid for the settings it was made with.
func engineFingerprint() string {
	c := engineConfig(0)
	return fmt.Sprintf("fuel=%t,epoch=%t,stack=%d,pool=%t,cow=%t,opt=%s",
		c.ConsumeFuel, c.EpochInterruption, c.MaxWasmStack, c.PoolingAllocator, !c.DisableMemoryInitCOW, c.CraneliftOptLevel)
}

// newComponentLinker defines what components may import: the host and
// state interfaces and WASI p2 (whose context each store seals or configures).
func newComponentLinker(e *bindings.Engine) (*bindings.Linker, error) {
	l := e.NewLinker()
	if err := hostiface.AddToLinker(l, hostImports{}); err != nil {
		return nil, err
	}
	if err := stateiface.AddToLinker(l, stateImports{}); err != nil {
		return nil, err
	}
	if err := l.AddWASIP2(); err != nil {
		return nil, err
	}
	return l, nil
}

// hostImports implements driftless:plugin/host for components.
type hostImports struct{}

func (hostImports) Log(ctx context.Context, level types.Level, message string) {
	if st, ok := storeState(ctx); ok {
		st.log.log(ctx, slogLevel(level), message)
	}
}

func (hostImports) Timestamp(ctx context.Context) uint64 {
	return uint64(now().Unix())
}

func slogLevel(l types.Level) slog.Level {
	switch l {
	case types.LevelTrace:
		return LevelTrace
	case types.LevelDebug:
		return LevelDebug
	case types.LevelInfo:
		return LevelInfo
	case types.LevelWarn:
		return LevelWarn
	}
	return LevelError
}

// instanceState is the data of every store the host creates.
type instanceState struct {
	plugin string
	log    *pluginLog
	call   *callState // of the call running in the store, for the state functions
}

func storeState(ctx context.Context) (*instanceState, bool) {
	s := bindings.StoreFromContext(ctx)
	if s == nil {
		return nil, false
	}
	st, ok := s.Data().(*instanceState)
	return st, ok
}

// PluginDir returns the directory LoadAll loads (Options.PluginDir); ""
// for none.
func (h *Host) PluginDir() string { return h.pluginDir }

// Config returns the configuration in force.
func (h *Host) Config() *Config { return h.config }

// Lock returns the lock file read when the host was made (empty when the
// home has none). Installed plugins load only if their bytes match their
// entry.
func (h *Host) Lock() *pluginlock.Lock { return h.lock }

// Engine returns the engine plugins run in.
func (h *Host) Engine() *bindings.Engine { return h.engine }

// LoadAll loads every *.wasm of the plugin directory (Options.PluginDir),
// in name order. A plugin that fails to load is kept, with its error
// (Plugin.Err), and does not stop the others. A missing plugin directory
// means no plugins; a host without one cannot LoadAll.
func (h *Host) LoadAll(ctx context.Context) ([]*Plugin, error) {
	if h.pluginDir == "" {
		return nil, errNoPluginDir("LoadAll")
	}
	paths, err := filepath.Glob(filepath.Join(h.PluginDir(), "*.wasm"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(h.PluginDir()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	sort.Strings(paths)
	var out []*Plugin
	for _, p := range paths {
		pl, _ := h.Load(ctx, p)
		if pl != nil {
			out = append(out, pl)
		}
	}
	return out, nil
}

// LoadOptions are the settings of one load (Load, LoadBytes, Validate,
// Prepare).
type LoadOptions struct {
	// Limits, if not nil, are the limits the plugin runs under instead of
	// those Options.Config gives its name: zero fields take the defaults
	// (DefaultLimits), so Limits{MaxMemory: 16 << 20} changes only the
	// memory cap. They are checked as plugins.toml's are (a value out of
	// range is an error naming the field).
	Limits *Limits
}

// limits returns the limits of plugin name under the load options opts
// (at most one).
func (h *Host) limits(name string, opts []LoadOptions) (Limits, error) {
	switch {
	case len(opts) > 1:
		return Limits{}, fmt.Errorf("host: %d LoadOptions given; pass at most one", len(opts))
	case len(opts) == 1 && opts[0].Limits != nil:
		l, err := opts[0].Limits.resolve("LoadOptions.Limits")
		return h.raiseToTick(l), err
	}
	return h.limitsFor(name), nil
}

// Load loads the plugin in the file at path, named after the file. It
// returns the plugin and its load error; a plugin that failed to load is
// still registered (listed with its error), even under a file name that is
// not a valid plugin name (so that LoadAll lists it instead of skipping it
// silently; it cannot be called anyway). opts (at most one) may set the
// plugin's limits.
func (h *Host) Load(ctx context.Context, path string, opts ...LoadOptions) (*Plugin, error) {
	name := nameFromPath(path)
	limits, err := h.limits(name, opts)
	if err != nil {
		return nil, loadError(name, err)
	}
	p := h.newPlugin(name, path, limits)
	if h.installed(path) {
		if e, ok := h.lock.Get(name); ok {
			p.pin, p.lock = &e, h.lock.Path
		}
	}
	if err := checkName(name); err != nil {
		return h.fail(p, err)
	}
	wasm, err := readPlugin(path, limits.MaxPluginSize)
	if err != nil {
		return h.fail(p, err)
	}
	return h.load(ctx, p, wasm)
}

// installed reports whether path is a file of the plugin directory, whose
// plugins must match their lock entries.
func (h *Host) installed(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	if h.pluginDir == "" {
		return false
	}
	dir, err := filepath.Abs(h.pluginDir)
	return err == nil && filepath.Dir(abs) == dir
}

// LoadBytes loads a plugin from its binary under the given name (letters,
// digits, '-' and '_'). Loading a name again replaces the plugin. opts (at
// most one) may set the plugin's limits.
func (h *Host) LoadBytes(ctx context.Context, name string, wasm []byte, opts ...LoadOptions) (*Plugin, error) {
	if err := checkName(name); err != nil {
		return nil, &Error{Plugin: name, Func: "load", Kind: KindLoad, Msg: err.Error(), Err: err}
	}
	limits, err := h.limits(name, opts)
	if err != nil {
		return nil, loadError(name, err)
	}
	if int64(len(wasm)) > limits.MaxPluginSize {
		p := h.broken(name, "", limits, &sizeError{size: int64(len(wasm)), max: limits.MaxPluginSize})
		return p, p.err
	}
	return h.load(ctx, h.newPlugin(name, "", limits), wasm)
}

// Validate runs every check of loading on the file at path, without
// registering the plugin, and returns the plugin as it would be (for its
// definitions) or the error listing every problem found. It leaves nothing
// behind: the compiled code is not kept in the compile cache (a file only
// validated is never loaded).
func (h *Host) Validate(ctx context.Context, path string, opts ...LoadOptions) (*Plugin, error) {
	return h.validate(ctx, path, false, opts)
}

// Prepare is Validate for a plugin about to be installed: it also keeps
// the compiled code in the compile cache, so that the plugin's first load
// does not compile it (what `driftless plugins install` does).
func (h *Host) Prepare(ctx context.Context, path string, opts ...LoadOptions) (*Plugin, error) {
	return h.validate(ctx, path, true, opts)
}

func (h *Host) validate(ctx context.Context, path string, keep bool, opts []LoadOptions) (*Plugin, error) {
	name := nameFromPath(path)
	if err := checkName(name); err != nil {
		return nil, &Error{Plugin: name, Func: "load", Kind: KindLoad, Msg: err.Error(), Err: err}
	}
	limits, err := h.limits(name, opts)
	if err != nil {
		return nil, loadError(name, err)
	}
	wasm, err := readPlugin(path, limits.MaxPluginSize)
	if err != nil {
		return nil, loadError(name, err)
	}
	p := h.newPlugin(name, path, limits)
	p.validating = !keep
	if err := p.init(ctx, h, wasm); err != nil {
		p.close()
		return nil, err
	}
	p.close()
	return p, nil
}

func (h *Host) newPlugin(name, path string, limits Limits) *Plugin {
	return &Plugin{
		name:   name,
		path:   path,
		limits: limits,
		log:    newPluginLog(name, h.logger, limits),
	}
}

func (h *Host) broken(name, path string, limits Limits, err error) *Plugin {
	p, _ := h.fail(h.newPlugin(name, path, limits), err)
	return p
}

// fail registers p as a plugin that did not load, with err.
func (h *Host) fail(p *Plugin, err error) (*Plugin, error) {
	p.err = loadError(p.name, err)
	h.register(p)
	return p, p.err
}

func (h *Host) load(ctx context.Context, p *Plugin, wasm []byte) (*Plugin, error) {
	if err := p.init(ctx, h, wasm); err != nil {
		p.close()
		p.err = err
	}
	h.register(p)
	return p, p.err
}

func (h *Host) register(p *Plugin) {
	h.mu.Lock()
	old := h.plugins[p.name]
	h.plugins[p.name] = p
	h.mu.Unlock()
	if old != nil {
		old.close()
	}
}

// limitsFor returns the limits of the named plugin: the configuration's,
// with an execution timeout shorter than the host's epoch tick raised to
// it (deadlines are checked at each tick; Limits.TimeoutRaisedFrom says so).
func (h *Host) limitsFor(name string) Limits {
	return h.raiseToTick(h.config.LimitsFor(name))
}

// raiseToTick raises an execution timeout shorter than the host's epoch
// tick to it (limitsFor).
func (h *Host) raiseToTick(l Limits) Limits {
	if h.tick > l.ExecutionTimeout {
		l.TimeoutRaisedFrom, l.ExecutionTimeout = l.ExecutionTimeout, h.tick
	}
	return l
}

// Plugins returns the loaded plugins, broken ones included, by name.
func (h *Host) Plugins() []*Plugin {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Plugin, 0, len(h.plugins))
	for _, p := range h.plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Plugin returns the named plugin. It fails when no plugin has that name
// (KindNotFound) or when it did not load (the load error).
func (h *Host) Plugin(name string) (*Plugin, error) {
	h.mu.RLock()
	p, ok := h.plugins[name]
	h.mu.RUnlock()
	if !ok {
		return nil, &Error{Plugin: name, Kind: KindNotFound, Msg: "no such plugin" + h.known()}
	}
	if p.err != nil {
		return p, p.err
	}
	return p, nil
}

func (h *Host) known() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.plugins) == 0 && h.pluginDir != "" {
		return fmt.Sprintf(" (no plugins are loaded from %s)", h.pluginDir)
	}
	if len(h.plugins) == 0 {
		return " (no plugins are loaded)"
	}
	return fmt.Sprintf(" (loaded: %s)", joinNames(sortedNames(h.plugins)))
}

// Unload closes and forgets the named plugin.
func (h *Host) Unload(name string) {
	h.mu.Lock()
	p := h.plugins[name]
	delete(h.plugins, name)
	h.mu.Unlock()
	if p != nil {
		p.close()
	}
}

// Close unloads every plugin and stops the engine's ticker.
func (h *Host) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	plugins := h.plugins
	h.plugins = map[string]*Plugin{}
	h.mu.Unlock()
	for _, p := range plugins {
		p.close()
	}
	h.closeState()
	h.engine.Close()
}

// errNoPluginDir is the error of what needs Options.PluginDir without it.
func errNoPluginDir(what string) error {
	return fmt.Errorf("host: %s needs the plugin directory, Options.PluginDir (HomeOptions sets it); without one, load plugins with Load or LoadBytes", what)
}

func loadError(name string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Plugin: name, Func: "load", Kind: KindLoad, Msg: err.Error(), Err: err}
}
