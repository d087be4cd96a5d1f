package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/bindings"
)

// cacheHost makes a host with the compile cache in home/cache.
func cacheHost(t *testing.T, home string) (*Host, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	opts := homeOptions(t, home)
	opts.Logger = slog.New(rec)
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, rec
}

// describeName loads wasm as "p" and returns the name the plugin gives
// itself, after checking that it runs.
func describeName(t *testing.T, h *Host, wasm []byte) string {
	t.Helper()
	p, err := h.LoadBytes(context.Background(), "p", wasm)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, p, "cached")
	return p.Info().Name
}

func TestCompileCache(t *testing.T) {
	home := t.TempDir()
	a, b := fixture{name: "alpha"}.wasm(t), fixture{name: "beta"}.wasm(t)
	h, _ := cacheHost(t, home)
	key := testKey("component", a)
	path := h.dirCache().entryPath(key)
	entryPath := func() []byte {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("no cache entry: %v", err)
		}
		return data
	}

	// The first load compiles and writes the entry.
	if name := describeName(t, h, a); name != "alpha" {
		t.Fatal(name)
	}
	good := entryPath()
	if !strings.HasPrefix(string(good), "DRIFTLESS-CACHE-3\n"+key+"\n") {
		t.Fatalf("entry header %q", good[:100])
	}
	if n, err := h.dirCache().entries(); err != nil || n != 1 {
		t.Fatalf("%d entries, %v", n, err)
	}

	// The cache is what later loads use: an entry forged to hold beta's
	// code under alpha's key (checksum and key right: only a recompile could
	// tell) makes alpha's load run beta. This is why the cache directory
	// must be writable by nobody but the user (TestCompileCacheRefusesUnsafe).
	hb, _ := cacheHost(t, t.TempDir())
	cb, err := bindings.NewComponent(hb.engine, b)
	if err != nil {
		t.Fatal(err)
	}
	betaCode, err := cb.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, entry(key, betaCode), 0o644); err != nil {
		t.Fatal(err)
	}
	h2, _ := cacheHost(t, home)
	if name := describeName(t, h2, a); name != "beta" {
		t.Fatalf("a well-formed entry was not used: %s", name)
	}

	// Entries that are corrupt or not this host's are ignored, removed and
	// rebuilt: the load compiles alpha again and rewrites the entry.
	otherEngine, err := bindings.NewEngine(bindings.EngineConfig{}) // no fuel, no epochs
	if err != nil {
		t.Fatal(err)
	}
	defer otherEngine.Close()
	ca, err := bindings.NewComponent(otherEngine, a)
	if err != nil {
		t.Fatal(err)
	}
	otherCode, err := ca.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	flip := append([]byte(nil), good...)
	flip[len(flip)-100] ^= 0x40
	hdr := len(cacheMagic) + len(key) + 1 // then length (8 bytes), CRC-32C (4)
	wrongSum := entry(key, make([]byte, 4096))
	wrongSum[hdr+8] ^= 1
	wrongLen := append([]byte(nil), good...)
	wrongLen[hdr] ^= 1
	bKey := testKey("component", b)
	for _, c := range []struct {
		name string
		data []byte
		warn bool // wasmtime, not the checksum, refuses it: logged
	}{
		{"a flipped byte", flip, false},
		{"truncated", good[:len(good)/2], false},
		{"header only", good[:hdr+12], false},
		{"empty", nil, false},
		{"garbage with a valid header and a wrong checksum", wrongSum, false},
		{"a wrong length", wrongLen, false},
		{"an older format", append([]byte("DRIFTLESS-CACHE-2\n"), good[len(cacheMagic):]...), false},
		{"beta's entry renamed to alpha's key", entry(bKey, betaCode), false},
		{"garbage with a valid header and checksum", entry(key, []byte("\x7fELF not really")), true},
		{"over the size bound (sparse)", nil, false},
		{"code compiled with other engine settings", entry(key, otherCode), true},
	} {
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if c.data == nil && strings.HasPrefix(c.name, "over the size bound") {
			// A file the host must not read whole: it is removed unread.
			if err := os.Truncate(path, maxCacheEntry+1); err != nil {
				t.Fatal(err)
			}
		}
		h3, rec3 := cacheHost(t, home)
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		if name := describeName(t, h3, a); name != "alpha" {
			t.Fatalf("%s: the entry was trusted: the plugin is %s", c.name, name)
		}
		goruntime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > maxCacheEntry/2 {
			t.Errorf("%s: loading allocated %d bytes", c.name, d)
		}
		if _, ok := verifyEntry(key, entryPath()); !ok {
			t.Errorf("%s: the entry was not rebuilt", c.name)
		}
		warned := strings.Contains(messages(rec3.lines()), "compile cache entry refused by wasmtime; recompiling")
		if warned != c.warn {
			t.Errorf("%s: warned %t, want %t: %v", c.name, warned, c.warn, rec3.lines())
		}
	}
}

// The key covers the wasm, the kind of binary, wasmtime's version and the
// engine settings.
func TestCacheKey(t *testing.T) {
	wasm := []byte("\x00asm\x0d\x00\x01\x00")
	base := testKey("component", wasm)
	for name, k := range map[string]string{
		"other wasm":     testKey("component", append(wasm, 0)),
		"other kind":     testKey("module", wasm),
		"other settings": cacheKey("component", sha256.Sum256(wasm), strings.Replace(engineFingerprint(), "fuel=true", "fuel=false", 1)),
	} {
		if k == base {
			t.Errorf("%s: same key", name)
		}
	}
	if fp := engineFingerprint(); fp != "fuel=true,epoch=true,stack=0,pool=false,cow=true,opt=" {
		t.Errorf("engine fingerprint %q", fp)
	}
	if !strings.HasSuffix(wasmtimeVersion, "-"+bindings.WasmtimeVersion) {
		t.Errorf("wasmtimeVersion %q is not bindings.WasmtimeVersion", wasmtimeVersion)
	}
}

// A cache that cannot be written costs a warning, not the load.
func TestCompileCacheUnwritable(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "cache"), []byte("a file where the directory should be"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, rec := cacheHost(t, home)
	if name := describeName(t, h, fixture{name: "alpha"}.wasm(t)); name != "alpha" {
		t.Fatal(name)
	}
	if !strings.Contains(messages(rec.lines()), "compile cache "+filepath.Join(home, "cache")+" is not used: "+filepath.Join(home, "cache")+" is not a directory") {
		t.Errorf("no warning: %v", rec.lines())
	}
}

// messages joins the messages of lines.
func messages(lines []logLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Msg + "\n")
	}
	return b.String()
}

// Compiled code runs outside the sandbox: a cache that another user could
// have written is not used (the plugin is compiled instead, with a warning
// that says why and what to do), however valid its entries look. Each case
// plants beta's compiled code under alpha's key, a forgery only a
// recompile could tell: loading alpha must run alpha.
func TestCompileCacheRefusesUnsafe(t *testing.T) {
	a, b := fixture{name: "alpha"}.wasm(t), fixture{name: "beta"}.wasm(t)
	hb, _ := cacheHost(t, t.TempDir())
	cb, err := bindings.NewComponent(hb.engine, b)
	if err != nil {
		t.Fatal(err)
	}
	betaCode, err := cb.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	type layout struct{ home, cache, shard, entry string }
	cases := []struct {
		name  string
		root  bool                 // needs root (chown)
		setup func(l layout) error // after the forged entry is planted
		warn  string               // "" means the cache is safe and used
	}{
		{"safe", false, func(l layout) error { return nil }, ""},
		{"cache writable by all", false, func(l layout) error { return os.Chmod(l.cache, 0o777) },
			"is writable by group and others (mode drwxrwxrwx); compiled code runs outside the sandbox, so only you (or root) may be able to write it: chmod go-w CACHE (or remove the directory)"},
		{"cache writable by its group", false, func(l layout) error { return os.Chmod(l.cache, 0o775) },
			"is writable by its group (mode drwxrwxr-x)"},
		{"cache writable by others", false, func(l layout) error { return os.Chmod(l.cache, 0o757) },
			"is writable by others (mode drwxr-xrwx)"},
		{"shard writable by all", false, func(l layout) error { return os.Chmod(l.shard, 0o777) },
			"is not used: SHARD is writable by group and others (mode drwxrwxrwx)"},
		{"entry writable by all", false, func(l layout) error { return os.Chmod(l.entry, 0o666) },
			"is not used: ENTRY is writable by group and others (mode -rw-rw-rw-); compiled code runs outside the sandbox, so only you (or root) may be able to write it: remove it (rm ENTRY) (the entry is removed and the plugin compiled again)"},
		{"entry writable by its group", false, func(l layout) error { return os.Chmod(l.entry, 0o620) },
			"ENTRY is writable by its group (mode -rw--w----)"},
		{"home above writable by all", false, func(l layout) error { return os.Chmod(l.home, 0o777) },
			"is not used: HOME is writable by group and others (mode drwxrwxrwx); compiled code runs outside the sandbox, so only you (or root) may be able to write it: chmod go-w HOME"},
		{"home above writable by all but sticky, like /tmp", false, func(l layout) error { return os.Chmod(l.home, 0o777|fs.ModeSticky) }, ""},
		{"cache owned by another user", true, func(l layout) error { return os.Chown(l.cache, nobody, nobody) },
			"is owned by user 65534, not by you (user 0) or root; compiled code runs outside the sandbox, so only you (or root) may be able to write it: remove it, or make it yours (chown 0 CACHE) if you trust its content"},
		{"entry owned by another user", true, func(l layout) error { return os.Chown(l.entry, nobody, nobody) },
			"ENTRY is owned by user 65534"},
		{"home above owned by another user", true, func(l layout) error { return os.Chown(l.home, nobody, nobody) },
			"HOME is owned by user 65534"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				t.Skip("changing a file's owner needs root")
			}
			base := t.TempDir()
			l := layout{home: filepath.Join(base, "home")}
			l.cache = filepath.Join(l.home, "cache")
			h0, _ := cacheHost(t, l.home)
			key := testKey("component", a)
			l.entry = h0.dirCache().entryPath(key)
			l.shard = filepath.Dir(l.entry)
			if err := os.MkdirAll(l.shard, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(l.entry, entry(key, betaCode), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := c.setup(l); err != nil {
				t.Fatal(err)
			}
			h, rec := cacheHost(t, l.home)
			name := describeName(t, h, a)
			warnings := warnings(rec.lines())
			if c.warn == "" {
				if name != "beta" || warnings != "" {
					t.Fatalf("a safe cache was not used: ran %s; %s", name, warnings)
				}
				return
			}
			if name != "alpha" {
				t.Fatalf("an unsafe cache entry ran: the plugin is %s", name)
			}
			want := strings.NewReplacer("CACHE", l.cache, "SHARD", l.shard, "ENTRY", l.entry, "HOME", l.home).Replace(c.warn)
			if !strings.Contains(warnings, "compile cache "+l.cache+" ") || !strings.Contains(warnings, want) {
				t.Fatalf("warning\n got  %s\n want %s", warnings, want)
			}
			// Nothing is written where another user could swap it later.
			if fi, err := os.Stat(l.entry); err == nil && c.name != "entry writable by all" && c.name != "entry writable by its group" && c.name != "entry owned by another user" {
				if data, _ := os.ReadFile(l.entry); !bytes.Equal(data, entry(key, betaCode)) {
					t.Errorf("an entry was written into the unsafe cache (%s)", fi.Mode())
				}
			}
		})
	}
}

// A cache directory reached through a symbolic link is judged by what the
// link leads to.
func TestCompileCacheSymlink(t *testing.T) {
	for _, mode := range []fs.FileMode{0o755, 0o777} {
		t.Run(mode.String(), func(t *testing.T) {
			home, target := t.TempDir(), filepath.Join(t.TempDir(), "real-cache")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(target, mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(home, "cache")); err != nil {
				t.Fatal(err)
			}
			h, rec := cacheHost(t, home)
			describeName(t, h, fixture{name: "alpha"}.wasm(t))
			n, err := NewDirCache(target).entries()
			if err != nil {
				t.Fatal(err)
			}
			warnings := warnings(rec.lines())
			if mode == 0o755 && (n != 1 || warnings != "") {
				t.Errorf("safe target: %d entries, warnings %q", n, warnings)
			}
			if mode == 0o777 && (n != 0 || !strings.Contains(warnings, ": "+target+" is writable by group and others")) {
				t.Errorf("unsafe target: %d entries, warnings %q", n, warnings)
			}
		})
	}
}

// warnings joins the messages of lines at warn level or above.
func warnings(lines []logLine) string {
	var b strings.Builder
	for _, l := range lines {
		if l.Level >= slog.LevelWarn {
			b.WriteString(l.Msg + "\n")
		}
	}
	return b.String()
}

// slowFixture is a plugin with n extra functions, to make its compilation
// take long enough for concurrent loads to overlap.
func slowFixture(name string, n int) fixture {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "(func $slow%d (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const %d)) (i32.const 7)))\n", i, i)
	}
	return fixture{name: name, funcs: b.String()}
}

// stepCounter counts the slow steps a host reports.
type stepCounter struct {
	mu    sync.Mutex
	steps map[StepKind]int
}

func (s *stepCounter) progress(st Step) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.steps == nil {
		s.steps = map[StepKind]int{}
	}
	s.steps[st.Kind]++
	return nil
}

func (s *stepCounter) count(k StepKind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.steps[k]
}

// Concurrent cold loads of one plugin by separate hosts sharing a cache
// (as separate processes would: each host its own engine, the lock an
// flock on a file beside the entry) compile it once; the others wait and
// load what it stored.
func TestCompileCacheLock(t *testing.T) {
	wasm := slowFixture("alpha", 3000).wasm(t)
	dir := filepath.Join(t.TempDir(), "cache")
	const n = 4
	var steps stepCounter
	hosts := make([]*Host, n)
	for i := range hosts {
		h, err := New(Options{Cache: NewDirCache(dir), Progress: steps.progress, Logger: slog.New(&logRecorder{})})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Close)
		hosts[i] = h
	}
	start := make(chan struct{})
	errs := make(chan error, n)
	for _, h := range hosts {
		go func() {
			<-start
			p, err := h.LoadBytes(context.Background(), "alpha", wasm)
			if err == nil && p.Info().Name != "alpha" {
				err = fmt.Errorf("loaded %s", p.Info().Name)
			}
			errs <- err
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if c := steps.count(StepCompile); c != 1 {
		t.Errorf("%d hosts compiled the plugin, want 1 (%d waited)", c, steps.count(StepWaitCompile))
	}
	if n, err := NewDirCache(dir).entries(); err != nil || n != 1 {
		t.Errorf("%d entries, %v", n, err)
	}
}

// A host waiting for another to compile gives up when its context ends,
// with a cancelled error; once the lock is free it compiles.
func TestCompileCacheLockCancel(t *testing.T) {
	wasm := fixture{name: "alpha"}.wasm(t)
	dir := filepath.Join(t.TempDir(), "cache")
	var steps stepCounter
	h, err := New(Options{Cache: NewDirCache(dir), Progress: steps.progress, Logger: slog.New(&logRecorder{})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	// Another process compiling: it holds the key's lock.
	key := testKey("component", wasm)
	lockPath := strings.TrimSuffix(h.dirCache().entryPath(key), ".cwasm") + ".lock"
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ok, err := tryLock(f); !ok || err != nil {
		t.Fatalf("lock: %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err = h.LoadBytes(ctx, "alpha", wasm)
	wantError(t, err, KindCancelled, "plugin alpha: load: cancelled while waiting for another process compiling the plugin")
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("the wait ended %s after the context", d)
	}
	if steps.count(StepWaitCompile) != 1 || steps.count(StepCompile) != 0 {
		t.Errorf("steps %v", steps.steps)
	}
	unlock(f)
	if p, err := h.LoadBytes(context.Background(), "alpha", wasm); err != nil || p.Info().Name != "alpha" {
		t.Fatalf("after the lock was released: %v", err)
	}
	if steps.count(StepCompile) != 1 {
		t.Errorf("steps %v", steps.steps)
	}
}

// The cache does not only grow: validating leaves nothing, Prepare keeps
// the compiled code, ForgetCompiled removes a plugin's entry, PruneCache
// what no installed plugin uses, ClearCache everything; CacheInfo tells
// what is there.
func TestCacheLifecycle(t *testing.T) {
	home := t.TempDir()
	h, _ := cacheHost(t, home)
	ctx := context.Background()
	plugins := filepath.Join(home, "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	write := func(dir, name string, f fixture) string {
		t.Helper()
		p := filepath.Join(dir, name+".wasm")
		if err := os.WriteFile(p, f.wasm(t), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	count := func() int {
		t.Helper()
		n, err := h.dirCache().entries()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Validating a file writes no entry; preparing one does.
	if _, err := h.Validate(ctx, write(elsewhere, "alpha", fixture{name: "alpha"})); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("validate left %d entries", n)
	}
	alpha := write(plugins, "alpha", fixture{name: "alpha"})
	if _, err := h.Prepare(ctx, alpha); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("prepare left %d entries", n)
	}
	// Installed: alpha and beta (loaded, so cached); gone: gamma, and
	// alpha's older version. Leftovers: a lock of gamma's key, an old and a
	// fresh temporary file, a file the cache does not name.
	beta := write(plugins, "beta", slowFixture("beta", 50))
	if _, err := h.Load(ctx, beta); err != nil {
		t.Fatal(err)
	}
	gamma := write(elsewhere, "gamma", fixture{name: "gamma"})
	if _, err := h.Load(ctx, gamma); err != nil {
		t.Fatal(err)
	}
	oldAlpha := fixture{name: "alpha", data: `"version 0"`}.wasm(t)
	if _, err := h.LoadBytes(ctx, "alpha", oldAlpha); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 4 {
		t.Fatalf("%d entries, want 4", n)
	}
	gammaKey := testKey("component", fixture{name: "gamma"}.wasm(t))
	shard := filepath.Dir(h.dirCache().entryPath(gammaKey))
	leftovers := map[string]bool{ // path → whether prune removes it
		strings.TrimSuffix(h.dirCache().entryPath(gammaKey), ".cwasm") + ".lock": true,
		filepath.Join(shard, ".tmp-old"):                                         true,
		filepath.Join(shard, ".tmp-fresh"):                                       false,
		filepath.Join(shard, "notes.txt"):                                        false,
	}
	for p := range leftovers {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(filepath.Join(shard, ".tmp-old"), old, old); err != nil {
		t.Fatal(err)
	}

	info, err := h.CacheInfo()
	if err != nil {
		t.Fatal(err)
	}
	size := func(key string) int64 {
		fi, err := os.Stat(h.dirCache().entryPath(key))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	alphaKey := testKey("component", fixture{name: "alpha"}.wasm(t))
	betaKey := testKey("component", slowFixture("beta", 50).wasm(t))
	oldKey := testKey("component", oldAlpha)
	want := CacheInfo{Dir: filepath.Join(home, "cache"), Entries: 4,
		Bytes:         size(alphaKey) + size(betaKey) + size(gammaKey) + size(oldKey),
		Plugins:       []CachedPlugin{{"alpha", size(alphaKey)}, {"beta", size(betaKey)}},
		UnusedEntries: 2, UnusedBytes: size(gammaKey) + size(oldKey)}
	if fmt.Sprint(info) != fmt.Sprint(want) {
		t.Errorf("info\n got  %+v\n want %+v", info, want)
	}

	removed, err := h.PruneCache()
	if err != nil {
		t.Fatal(err)
	}
	if removed != (CacheRemoved{Entries: 2, Bytes: want.UnusedBytes}) {
		t.Errorf("prune removed %+v", removed)
	}
	for _, k := range []string{alphaKey, betaKey} {
		if _, err := os.Stat(h.dirCache().entryPath(k)); err != nil {
			t.Errorf("prune removed an installed plugin's entry: %v", err)
		}
	}
	for p, gone := range leftovers {
		if _, err := os.Stat(p); (err != nil) != gone {
			t.Errorf("%s: removed %t, want %t", filepath.Base(p), err != nil, gone)
		}
	}

	// Removing a plugin: its entry goes.
	betaSize := size(betaKey)
	removed, err = h.ForgetCompiled(beta)
	if err != nil || removed != (CacheRemoved{Entries: 1, Bytes: betaSize}) {
		t.Errorf("forget beta: %+v, %v", removed, err)
	}
	if _, err := os.Stat(h.dirCache().entryPath(betaKey)); err == nil {
		t.Error("beta's entry is still there")
	}

	removed, err = h.ClearCache()
	if err != nil || removed.Entries != 1 || count() != 0 {
		t.Errorf("clear: %+v, %v; %d entries left", removed, err, count())
	}
	if _, err := os.Stat(filepath.Join(shard, "notes.txt")); err != nil {
		t.Error("clear removed a file the cache did not write")
	}
}

// A FIFO planted where a cache entry goes is not opened (it would block
// every load): the plugin compiles as if there were no entry.
func TestCompileCacheFIFOEntry(t *testing.T) {
	home := t.TempDir()
	a := fixture{name: "alpha"}.wasm(t)
	h, _ := cacheHost(t, home)
	path := h.dirCache().entryPath(testKey("component", a))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() { done <- describeName(t, h, a) }()
	select {
	case name := <-done:
		if name != "alpha" {
			t.Fatal(name)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("loading blocked on a FIFO in the cache")
	}
}
