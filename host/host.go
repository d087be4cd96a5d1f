// Package host runs Driftless plugins: it finds and loads them, enforces
// the sandbox (memory cap, fuel, wall-clock timeout, import policy), caches
// compiled code, pools instances, and gives the rest of Driftless one Go API
// for the tasks, facts collectors, template extensions and log stages of a
// plugin, whether it is a WebAssembly component (calls go through the
// generated bindings in gen/) or a legacy JSON-ABI core module (through an
// adapter that presents it the same way).
//
// A typical embedding:
//
//	h, err := host.New(host.Options{})        // $DRIFTLESS_HOME or ~/.driftless
//	if err != nil { ... }
//	defer h.Close()
//	h.LoadAll(ctx)                            // plugins/*.wasm; broken ones keep their error
//	p, err := h.Plugin("myplugin")
//	res, err := p.ExecuteTask(ctx, "set-value", `{"key":"a","value":"b"}`, false)
package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/bindings"
	hostiface "github.com/driftless-dev/driftless/gen/driftless/plugin/host"
	stateiface "github.com/driftless-dev/driftless/gen/driftless/plugin/state"
	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
	"github.com/driftless-dev/driftless/pluginstate"
)

// Options configure a Host.
type Options struct {
	// Home is the plugin home. Empty means $DRIFTLESS_HOME, else
	// ~/.driftless. Plugins are Home/plugins/*.wasm, the configuration
	// Home/plugins.toml, the compile cache Home/cache and the plugins'
	// state Home/state/state.db.
	Home string
	// Config, if set, is used instead of reading Home/plugins.toml. It is
	// checked as plugins.toml is: New refuses impossible values.
	Config *Config
	// Logger receives plugin logs and host diagnostics; nil means
	// slog.Default().
	Logger *slog.Logger
	// DisableCache turns the compile cache off.
	DisableCache bool
	// CacheDir, if set, is the compile cache's directory instead of
	// Home/cache (e.g. to share one cache between plugin homes).
	CacheDir string
	// EpochTick is how often running calls check their deadline and
	// context; 0 means 10ms.
	EpochTick time.Duration
	// Progress, if set, is told when loading a plugin takes a slow step:
	// compiling it (it is not in the compile cache) or waiting for another
	// process that is compiling it. It is called before the step, from the
	// goroutine that loads, and the function it returns (if not nil) when
	// the step ends.
	Progress func(Step) (done func())
	// StateDir, if set, is the directory of the plugins' state database
	// instead of Home/state.
	StateDir string
	// StateBusyTimeout is how long a state operation waits for another
	// process's lock on the database; 0 means 5s.
	StateBusyTimeout time.Duration
}

// Host loads and runs plugins. It is safe for concurrent use.
type Host struct {
	tick   time.Duration // Options.EpochTick
	home   string
	config *Config
	logger *slog.Logger
	engine *bindings.Engine
	linker *bindings.Linker
	cache  compileCache

	progress func(Step) func()

	mu      sync.RWMutex
	plugins map[string]*Plugin
	closed  bool

	stateDir    string
	stateBusy   time.Duration
	stateMu     sync.Mutex
	state       *pluginstate.Store // opened on first use
	stateClosed bool
}

// DefaultHome returns the plugin home used when Options.Home is empty.
func DefaultHome() string {
	if h := os.Getenv("DRIFTLESS_HOME"); h != "" {
		return h
	}
	if u, err := os.UserHomeDir(); err == nil {
		return filepath.Join(u, ".driftless")
	}
	return ".driftless"
}

// New creates a host. It reads plugins.toml but loads no plugin: call
// LoadAll, Load or LoadBytes.
func New(opts Options) (*Host, error) {
	home := opts.Home
	if home == "" {
		home = DefaultHome()
	}
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = LoadConfig(filepath.Join(home, "plugins.toml")); err != nil {
			return nil, err
		}
	} else {
		c := *cfg
		if c.Path == "" {
			c.Path = "Options.Config"
		}
		if err := c.validate(); err != nil {
			return nil, err
		}
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
		tick:      opts.EpochTick,
		progress:  opts.Progress,
		home:      home,
		config:    cfg,
		logger:    logger,
		engine:    engine,
		plugins:   map[string]*Plugin{},
		stateDir:  opts.StateDir,
		stateBusy: opts.StateBusyTimeout,
	}
	if h.stateDir == "" {
		h.stateDir = filepath.Join(home, "state")
	}
	h.cache.logger = logger
	if !opts.DisableCache {
		h.cache.dir = opts.CacheDir
		if h.cache.dir == "" {
			h.cache.dir = filepath.Join(home, "cache")
		}
	}
	if h.linker, err = newComponentLinker(engine); err != nil {
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

// Home returns the plugin home.
func (h *Host) Home() string { return h.home }

// PluginDir returns the directory plugins are loaded from.
func (h *Host) PluginDir() string { return filepath.Join(h.home, "plugins") }

// Config returns the configuration in force.
func (h *Host) Config() *Config { return h.config }

// Engine returns the engine plugins run in.
func (h *Host) Engine() *bindings.Engine { return h.engine }

// LoadAll loads every plugins/*.wasm of the plugin home, in name order. A
// plugin that fails to load is kept, with its error (Plugin.Err), and does
// not stop the others. A missing plugin directory means no plugins.
func (h *Host) LoadAll(ctx context.Context) ([]*Plugin, error) {
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

// Load loads the plugin in the file at path, named after the file. It
// returns the plugin and its load error; a plugin that failed to load is
// still registered (listed with its error), even under a file name that is
// not a valid plugin name (so that LoadAll lists it instead of skipping it
// silently; it cannot be called anyway).
func (h *Host) Load(ctx context.Context, path string) (*Plugin, error) {
	name := nameFromPath(path)
	limits := h.limitsFor(name)
	if err := checkName(name); err != nil {
		p := h.broken(name, path, limits, err)
		return p, p.err
	}
	wasm, err := readPlugin(path, limits.MaxPluginSize)
	if err != nil {
		p := h.broken(name, path, limits, err)
		return p, p.err
	}
	return h.load(ctx, name, path, wasm)
}

// LoadBytes loads a plugin from its binary under the given name.
func (h *Host) LoadBytes(ctx context.Context, name string, wasm []byte) (*Plugin, error) {
	if err := checkName(name); err != nil {
		return nil, &Error{Plugin: name, Func: "load", Kind: KindLoad, Msg: err.Error(), Err: err}
	}
	limits := h.limitsFor(name)
	if int64(len(wasm)) > limits.MaxPluginSize {
		p := h.broken(name, "", limits, &sizeError{size: int64(len(wasm)), max: limits.MaxPluginSize})
		return p, p.err
	}
	return h.load(ctx, name, "", wasm)
}

// Validate runs every check of loading on the file at path, without
// registering the plugin, and returns the plugin as it would be (for its
// definitions) or the error listing every problem found. It leaves nothing
// behind: the compiled code is not kept in the compile cache (a file only
// validated is never loaded).
func (h *Host) Validate(ctx context.Context, path string) (*Plugin, error) {
	return h.validate(ctx, path, false)
}

// Prepare is Validate for a plugin about to be installed: it also keeps
// the compiled code in the compile cache, so that the plugin's first load
// does not compile it (what `driftless plugins install` does).
func (h *Host) Prepare(ctx context.Context, path string) (*Plugin, error) {
	return h.validate(ctx, path, true)
}

func (h *Host) validate(ctx context.Context, path string, keep bool) (*Plugin, error) {
	name := nameFromPath(path)
	if err := checkName(name); err != nil {
		return nil, &Error{Plugin: name, Func: "load", Kind: KindLoad, Msg: err.Error(), Err: err}
	}
	limits := h.limitsFor(name)
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
	p := h.newPlugin(name, path, limits)
	p.err = loadError(name, err)
	h.register(p)
	return p
}

func (h *Host) load(ctx context.Context, name, path string, wasm []byte) (*Plugin, error) {
	p := h.newPlugin(name, path, h.limitsFor(name))
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
	l := h.config.LimitsFor(name)
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
	if len(h.plugins) == 0 {
		return fmt.Sprintf(" (no plugins are loaded from %s)", h.PluginDir())
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

func loadError(name string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Plugin: name, Func: "load", Kind: KindLoad, Msg: err.Error(), Err: err}
}
