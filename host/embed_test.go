package host

// The embedding API: what the zero Options do (and do not touch),
// HomeOptions, limits given per load, and compile caches an embedder
// implements.

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/pluginstate"
)

// snapshot lists every file below dir with its size and content hash
// (as a string), to tell whether anything was written there.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(data)
		}
		out[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The zero Options read no environment variable and no file, and write
// nothing: the environment points at a plugin home whose plugins.toml does
// not parse and which holds a plugin, and at a home directory; the host
// sees neither and leaves both as they were.
func TestZeroOptionsTouchNothing(t *testing.T) {
	dh := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dh, "plugins.toml"), []byte("[security\nnot toml"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dh, "plugins"), 0o755))
	must(t, os.WriteFile(filepath.Join(dh, "plugins", "planted.wasm"), fixture{name: "planted"}.wasm(t), 0o644))
	home := t.TempDir()
	t.Setenv("DRIFTLESS_HOME", dh)
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	must(t, os.Chmod(home, 0o500))
	t.Cleanup(func() { os.Chmod(home, 0o700) })
	before, beforeHome := snapshot(t, dh), snapshot(t, home)

	rec := &logRecorder{}
	h, err := New(Options{Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.LoadBytes(context.Background(), "alpha", fixture{name: "alpha"}.wasm(t))
	if err != nil {
		t.Fatal(err)
	}
	echo(t, p, "zero options")
	// No state store: a call that uses state fails, saying what to do; the
	// plugin goes on serving calls that do not.
	counter := load(t, h, counterFixture("counter"))
	_, err = counter.ExecuteTask(context.Background(), "evil", "{}", false)
	wantError(t, err, KindState, "plugin counter: tasks.execute: "+ErrNoState.Error())
	if !errors.Is(err, ErrNoState) || h.StatePath() != "" {
		t.Errorf("errors.Is(ErrNoState) false for %v, or a state path %q", err, h.StatePath())
	}
	echo(t, counter, "without state")
	if got, want := p.Limits(), DefaultLimits(); !reflect.DeepEqual(got, want) {
		t.Errorf("limits %+v, want the defaults %+v", got, want)
	}
	if h.PluginDir() != "" || len(h.Plugins()) != 2 {
		t.Errorf("plugin dir %q, plugins %v", h.PluginDir(), h.Plugins())
	}
	if _, err := h.LoadAll(context.Background()); err == nil ||
		err.Error() != "host: LoadAll needs the plugin directory, Options.PluginDir (HomeOptions sets it); without one, load plugins with Load or LoadBytes" {
		t.Errorf("LoadAll without a plugin directory: %v", err)
	}
	if _, err := h.Plugin("planted"); KindOf(err) != KindNotFound || err.Error() != `plugin planted: no such plugin (loaded: alpha, counter)` {
		t.Errorf("Plugin(planted): %v", err)
	}
	if info, err := h.CacheInfo(); err != nil || info.Dir != "" || info.Entries != 0 {
		t.Errorf("CacheInfo: %+v, %v", info, err)
	}
	if _, err := h.PruneCache(); err != nil {
		t.Errorf("PruneCache without a cache: %v", err)
	}
	h.Close()
	if len(rec.lines()) != 0 {
		t.Errorf("logged: %v", rec.lines())
	}
	if after := snapshot(t, dh); !reflect.DeepEqual(after, before) {
		t.Errorf("the plugin home of $DRIFTLESS_HOME changed:\n%v\n%v", before, after)
	}
	if after := snapshot(t, home); !reflect.DeepEqual(after, beforeHome) {
		t.Errorf("$HOME changed: %v", after)
	}
}

// HomeOptions is the CLI's layout: plugins.toml, plugins/ and cache/ of one
// directory. It reads plugins.toml and creates nothing; the cache directory
// appears with the first compilation.
func TestHomeOptions(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "plugins.toml"), []byte("[plugins.alpha]\nmax_memory = 1048576\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "plugins"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "plugins", "alpha.wasm"), fixture{name: "alpha", evil: evilGrowAll}.wasm(t), 0o644))
	before := snapshot(t, dir)
	opts, err := HomeOptions(dir)
	if err != nil {
		t.Fatal(err)
	}
	dc, ok := opts.Cache.(*DirCache)
	if !ok || dc.Dir() != filepath.Join(dir, "cache") || opts.PluginDir != filepath.Join(dir, "plugins") ||
		opts.Config.Path != filepath.Join(dir, "plugins.toml") || opts.StatePath != filepath.Join(dir, "state", "state.db") {
		t.Fatalf("options %+v", opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
		t.Errorf("HomeOptions and New wrote into the home: %v", after)
	}
	plugins, err := h.LoadAll(context.Background())
	if err != nil || len(plugins) != 1 || plugins[0].Err() != nil {
		t.Fatalf("LoadAll: %v, %v", plugins, err)
	}
	res, err := plugins[0].ExecuteTask(context.Background(), "evil", "{}", false)
	if err != nil || res.Output != "16" {
		t.Errorf("plugins.toml's max_memory of 16 pages: the plugin grew to %q (%v)", res.Output, err)
	}
	if n, err := dc.entries(); n != 1 || err != nil {
		t.Errorf("%d cache entries, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the state directory exists though no plugin used state: %v", err)
	}
	counter := load(t, h, counterFixture("counter"))
	if _, err := counter.ExecuteTask(context.Background(), "evil", "{}", false); err != nil {
		t.Fatal(err)
	}
	if got := storedCounter(t, h, "counter"); got != 1 || h.StatePath() != opts.StatePath {
		t.Errorf("counter %d in %s", got, h.StatePath())
	}

	// A home that does not exist is an empty one, with the defaults.
	missing := filepath.Join(t.TempDir(), "none")
	opts, err = HomeOptions(missing)
	if err != nil || opts.Config.LimitsFor("x").MaxMemory != DefaultMaxMemory {
		t.Fatalf("a missing home: %+v, %v", opts, err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("HomeOptions created the home: %v", err)
	}
	if _, err := HomeOptions(""); err == nil || !strings.Contains(err.Error(), "DefaultHome()") {
		t.Errorf(`HomeOptions(""): %v`, err)
	}
}

// Limits given in Go for one load replace the configuration's for that
// plugin; their zero fields are the defaults; values out of range are
// refused naming the field.
func TestLoadOptionsLimits(t *testing.T) {
	cfg, err := ParseConfig("plugins.toml", []byte("[security]\nmax_memory = 4194304\nfuel_limit = 5000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	bomb := fixture{name: "bomb", evil: evilGrowAll}.wasm(t)
	grow := func(p *Plugin) string {
		t.Helper()
		res, err := p.ExecuteTask(ctx, "evil", "{}", false)
		if err != nil {
			t.Fatal(err)
		}
		return res.Output
	}

	p, err := h.LoadBytes(ctx, "bomb", bomb)
	if err != nil {
		t.Fatal(err)
	}
	if got := grow(p); got != "64" {
		t.Errorf("with the configuration's 4 MiB: %s pages", got)
	}
	p, err = h.LoadBytes(ctx, "bomb", bomb, LoadOptions{Limits: &Limits{MaxMemory: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if got := grow(p); got != "16" {
		t.Errorf("with LoadOptions' 1 MiB: %s pages", got)
	}
	want := DefaultLimits()
	want.MaxMemory = 1 << 20
	if !reflect.DeepEqual(p.Limits(), want) {
		t.Errorf("limits %+v, want %+v", p.Limits(), want)
	}

	// Load, Validate and Prepare take them too.
	path := filepath.Join(t.TempDir(), "bomb.wasm")
	must(t, os.WriteFile(path, bomb, 0o644))
	_, err = h.Load(ctx, path, LoadOptions{Limits: &Limits{MaxPluginSize: 100}})
	wantError(t, err, KindLoad, "plugin bomb: load: file is "+strconv.Itoa(len(bomb))+" bytes, over max_plugin_size of 100 bytes")
	_, err = h.Validate(ctx, path, LoadOptions{Limits: &Limits{MaxPluginSize: 100}})
	wantError(t, err, KindLoad, "plugin bomb: load: file is "+strconv.Itoa(len(bomb))+" bytes, over max_plugin_size of 100 bytes")
	if p, err := h.Prepare(ctx, path, LoadOptions{Limits: &Limits{FuelLimit: 7}}); err != nil || p.Limits().FuelLimit != 7 {
		t.Errorf("Prepare with limits: %v", err)
	}

	// The Go values are held to plugins.toml's bounds.
	for _, c := range []struct {
		name   string
		limits Limits
		want   string
	}{
		{"memory", Limits{MaxMemory: 1000}, "LoadOptions.Limits.MaxMemory: 1000 is out of range: between 65536 (one wasm page) and 4294967296 bytes (0 for the default)"},
		{"memory-huge", Limits{MaxMemory: 8 << 30}, "LoadOptions.Limits.MaxMemory: 8589934592 is out of range: between 65536 (one wasm page) and 4294967296 bytes (0 for the default)"},
		{"timeout", Limits{ExecutionTimeout: -time.Second}, "LoadOptions.Limits.ExecutionTimeout: -1s is out of range: between 10ms and 24h0m0s (0 for the default; running calls check their deadline every 10ms)"},
		{"timeout-short", Limits{ExecutionTimeout: time.Millisecond}, "LoadOptions.Limits.ExecutionTimeout: 1ms is out of range: between 10ms and 24h0m0s (0 for the default; running calls check their deadline every 10ms)"},
		{"size", Limits{MaxPluginSize: 2 << 30}, "LoadOptions.Limits.MaxPluginSize: 2147483648 is out of range: between 1 and 1073741824 bytes (0 for the default)"},
		{"instances", Limits{MaxInstances: 5000}, "LoadOptions.Limits.MaxInstances: 5000 is out of range: between 1 and 1024 (0 for the default)"},
		{"calls", Limits{MaxCallsPerInstance: -1}, "LoadOptions.Limits.MaxCallsPerInstance: -1 is out of range: between 1 and 2147483648 (0 for the default)"},
		{"log-rate", Limits{LogRate: -5}, "LoadOptions.Limits.LogRate: -5 is out of range: between 1 and 1000000 messages per second (0 for the default)"},
		{"state-key", Limits{MaxStateKeySize: 1 << 20}, "LoadOptions.Limits.MaxStateKeySize: 1048576 is out of range: between 1 and 65536 (0 for the default)"},
		{"state-keys", Limits{MaxStateKeys: -1}, "LoadOptions.Limits.MaxStateKeys: -1 is out of range: between 1 and 100000000 (0 for the default)"},
		{"env", Limits{Env: map[string]string{"A": "b"}}, "LoadOptions.Limits.Env: is only given to plugins with AllowWASI"},
		{"dirs", Limits{Dirs: []DirConfig{{Host: "/", Guest: "/"}}}, "LoadOptions.Limits.Dirs: are only given to plugins with AllowWASI"},
		{"relative", Limits{AllowWASI: true, Dirs: []DirConfig{{Host: "data", Guest: "/data"}}}, `LoadOptions.Limits.Dirs[0]: host "data" is not an absolute path`},
		{"no-guest", Limits{AllowWASI: true, Dirs: []DirConfig{{Host: "/"}}}, `LoadOptions.Limits.Dirs[0]: needs both host and guest paths`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := h.LoadBytes(ctx, "bad-"+c.name, bomb, LoadOptions{Limits: &c.limits})
			wantError(t, err, KindLoad, "plugin bad-"+c.name+": load: "+c.want)
			if p != nil {
				t.Error("a plugin with bad limits was registered")
			}
		})
	}
	_, err = h.LoadBytes(ctx, "two", bomb, LoadOptions{}, LoadOptions{})
	wantError(t, err, KindLoad, "plugin two: load: host: 2 LoadOptions given; pass at most one")

	// State limits too (the counter is 4 bytes).
	hs, err := New(Options{StatePath: filepath.Join(t.TempDir(), "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	counter, err := hs.LoadBytes(ctx, "counter", counterFixture("counter").wasm(t), LoadOptions{Limits: &Limits{MaxStateValueSize: 3}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = counter.ExecuteTask(ctx, "evil", "{}", false)
	wantError(t, err, KindFailed, `plugin counter: tasks.execute: state: the value for key "n" is 4 bytes, over the limit of 3 (max_state_value_size)`)

	// The caller's maps and slices are copied: changing them later changes
	// nothing.
	env := map[string]string{"A": "1"}
	p, err = h.LoadBytes(ctx, "wasi", bomb, LoadOptions{Limits: &Limits{AllowWASI: true, Env: env}})
	if err != nil {
		t.Fatal(err)
	}
	env["A"] = "2"
	if p.Limits().Env["A"] != "1" {
		t.Error("the plugin's Env is the caller's map")
	}
}

// memCache is a CompileCache in memory, as an embedder would write one,
// that counts its calls and can fail.
type memCache struct {
	mu                 sync.Mutex
	m                  map[string][]byte
	gets, puts, dels   int
	getErr, putErr     error
	tamper             func(key string, data []byte) []byte // applied to what Get returns
	lastPut, lastDelet string
}

func (c *memCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if c.getErr != nil {
		return nil, false, c.getErr
	}
	d, ok := c.m[key]
	if ok && c.tamper != nil {
		d = c.tamper(key, bytes.Clone(d))
	}
	return d, ok, nil
}

func (c *memCache) Put(ctx context.Context, key string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.putErr != nil {
		return c.putErr
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[key], c.lastPut = bytes.Clone(data), key
	return nil
}

func (c *memCache) Delete(ctx context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dels++
	c.lastDelet = key
	delete(c.m, key)
	return nil
}

// A compile cache of the embedder's: hosts sharing it compile a plugin
// once; what it gives back is verified (a corrupt or mixed-up entry is
// deleted and the plugin compiled again); its failures cost a warning, not
// the load.
func TestCompileCacheInterface(t *testing.T) {
	ctx := context.Background()
	alpha, beta := fixture{name: "alpha"}.wasm(t), fixture{name: "beta"}.wasm(t)
	mc := &memCache{}
	var steps stepCounter
	newHost := func() (*Host, *logRecorder) {
		t.Helper()
		rec := &logRecorder{}
		h, err := New(Options{Cache: mc, Progress: steps.progress, Logger: slog.New(rec)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Close)
		return h, rec
	}
	compiles := func(want int) {
		t.Helper()
		if got := steps.count(StepCompile); got != want {
			t.Fatalf("%d compilations, want %d", got, want)
		}
	}
	h1, _ := newHost()
	if name := describeName(t, h1, alpha); name != "alpha" {
		t.Fatal(name)
	}
	compiles(1)
	key := testKey("component", alpha)
	if mc.puts != 1 || !bytes.HasPrefix(mc.m[key], []byte(cacheMagic+key+"\n")) {
		t.Fatalf("%d puts; entry under %s framed: %t", mc.puts, key, bytes.HasPrefix(mc.m[key], []byte(cacheMagic)))
	}
	h2, _ := newHost()
	if name := describeName(t, h2, alpha); name != "alpha" {
		t.Fatal(name)
	}
	compiles(1)

	// Validate keeps nothing; Prepare keeps what it compiled.
	dir := t.TempDir()
	path := filepath.Join(dir, "beta.wasm")
	must(t, os.WriteFile(path, beta, 0o644))
	if _, err := h2.Validate(ctx, path); err != nil {
		t.Fatal(err)
	}
	if mc.puts != 1 {
		t.Errorf("Validate stored its compilation")
	}
	if _, err := h2.Prepare(ctx, path); err != nil {
		t.Fatal(err)
	}
	if mc.puts != 2 {
		t.Errorf("Prepare did not store its compilation")
	}

	// What the cache gives back is not trusted blindly.
	for _, c := range []struct {
		name   string
		tamper func(key string, data []byte) []byte
	}{
		{"a flipped byte", func(_ string, d []byte) []byte { d[len(d)-10] ^= 1; return d }},
		{"truncated", func(_ string, d []byte) []byte { return d[:len(d)/2] }},
		{"another key's entry", func(string, []byte) []byte { return bytes.Clone(mc.m[testKey("component", beta)]) }},
		{"empty", func(string, []byte) []byte { return []byte{} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			mc.tamper = c.tamper
			before, dels := steps.count(StepCompile), mc.dels
			h, _ := newHost()
			if name := describeName(t, h, alpha); name != "alpha" {
				t.Fatalf("the entry was trusted: the plugin is %s", name)
			}
			mc.tamper = nil
			if steps.count(StepCompile) != before+1 || mc.dels != dels+1 || mc.lastDelet != key {
				t.Errorf("not deleted and recompiled: %d deletes (of %s)", mc.dels-dels, mc.lastDelet)
			}
		})
	}

	// Failures of the cache are warnings.
	mc.getErr, mc.putErr = errors.New("vault sealed"), errors.New("disk full")
	h3, rec := newHost()
	if name := describeName(t, h3, alpha); name != "alpha" {
		t.Fatal(name)
	}
	logged := messages(rec.lines())
	for _, want := range []string{"cannot read the compile cache; compiling", "cannot write the compile cache"} {
		if !strings.Contains(logged, want) {
			t.Errorf("no warning %q: %v", want, rec.lines())
		}
	}
	mc.getErr, mc.putErr = nil, nil

	// ForgetCompiled deletes the binary's keys; the directory housekeeping
	// has nothing to do.
	dels := mc.dels
	if _, err := h3.ForgetCompiled(path); err != nil || mc.dels != dels+2 {
		t.Errorf("ForgetCompiled: %d deletes, %v", mc.dels-dels, err)
	}
	if _, ok := mc.m[testKey("component", beta)]; ok {
		t.Error("ForgetCompiled left beta's entry")
	}
	if info, err := h3.CacheInfo(); err != nil || info.Dir != "" {
		t.Errorf("CacheInfo of an embedder's cache: %+v, %v", info, err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// An open state store given to several hosts: they share it, and closing
// a host leaves it open for the others and the embedder.
func TestStateSharedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	store, err := pluginstate.Open(path, pluginstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run := func() uint32 {
		t.Helper()
		h, err := New(Options{State: store})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if h.StatePath() != path {
			t.Errorf("StatePath %q, want the store's %q", h.StatePath(), path)
		}
		p := load(t, h, counterFixture("counter"))
		if _, err := p.ExecuteTask(context.Background(), "evil", "{}", false); err != nil {
			t.Fatal(err)
		}
		return storedCounter(t, h, "counter")
	}
	if a, b := run(), run(); a != 1 || b != 2 {
		t.Errorf("counters %d, %d: the hosts did not share the store", a, b)
	}
	if _, ok, err := store.Get(context.Background(), "counter", "n", pluginstate.DefaultLimits()); err != nil || !ok {
		t.Errorf("the store was closed with a host, or lost the counter: %t, %v", ok, err)
	}
}
