package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/bindings"
)

// cacheMagic starts every cache entry; the version changes when the entry
// layout does. An entry is the magic, its key and a newline, the payload's
// length (8 bytes) and CRC-32C (4 bytes, both little-endian), and the
// payload (wasmtime's serialized code).
//
// The checksum is there to catch corruption (a flipped bit, a truncated or
// garbled file), not forgery: whoever can write the cache could write any
// checksum, so a cryptographic hash would add nothing but time (SHA-256
// took a third of loading the JavaScript example from the cache).
const cacheMagic = "DRIFTLESS-CACHE-3\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxCacheEntry bounds what the host reads of one cache entry: compiled
// code is a few times the size of its plugin (max_plugin_size is 50 MiB by
// default); a larger entry is taken for a corrupt one (removed, rebuilt).
const maxCacheEntry = 1 << 30

// wasmtimeVersion is part of every cache key: artifacts of another wasmtime
// are never offered to this one.
const wasmtimeVersion = "wasmtime-" + bindings.WasmtimeVersion

// CompileCache keeps compiled plugins (wasmtime's serialized code) between
// loads, keyed by the SHA-256 of the plugin binary, the wasmtime version and
// the engine settings (a key is 64 lowercase hex digits). NewDirCache is the
// implementation the CLI uses; an embedder may implement it over any store
// (memory, a database, a shared volume). Its methods may be called
// concurrently, by any number of hosts.
//
// Deserializing compiled code trusts it completely: it is native code that
// runs in the host's process, outside the sandbox. So a cache must give
// back only what Put stored, from storage nobody but the embedder can
// write. The host frames what it stores with the key, length and CRC-32C
// of the code, and removes (Delete) and recompiles an entry that does not
// match its key or its checksum, or that wasmtime refuses: that catches
// corruption and mix-ups, not forgery.
type CompileCache interface {
	// Get returns the data stored under key; ok is false when there is
	// none. An error is logged as a warning and taken for a miss.
	Get(ctx context.Context, key string) (data []byte, ok bool, err error)
	// Put stores data under key, replacing what was there. An error is
	// logged as a warning; the load goes on.
	Put(ctx context.Context, key string, data []byte) error
	// Delete removes what is stored under key (one that turned out
	// corrupt); no entry is not an error.
	Delete(ctx context.Context, key string) error
}

// DirCache is a CompileCache in a directory (the CLI's is the plugin
// home's cache/): entries are files, <2 hex>/<key>.cwasm, written
// atomically, so hosts and processes can share one directory; a host that
// finds another one compiling the same plugin waits for it (a lock file
// beside the entry) instead of compiling it too. Because compiled code runs
// outside the sandbox, the directory is used only when nobody but the user
// running the host could have written it (the directory, every directory
// above it and each entry are owned by that user or root and writable by
// no one else, as OpenSSH requires of ~/.ssh); otherwise the host compiles
// every plugin and warns once, naming the path at fault and the fix. An
// entry is used only when its header names its own key (an entry copied or
// renamed to another key is refused), and its length and checksum match
// its content; a corrupt, truncated or mismatched entry is removed and
// rebuilt, never loaded. What the checksum cannot catch (an entry of
// another wasmtime or other engine settings) wasmtime refuses when
// deserializing, and the host rebuilds it.
//
// The Host's CacheInfo, PruneCache, ClearCache and ForgetCompiled look
// after a DirCache.
type DirCache struct {
	dir string

	checkOnce sync.Once
	unsafe    error // why dir must not be used (safeDir), checked once
}

// NewDirCache returns the compile cache in directory dir, which is made
// (mode 0755) when the first entry is written. It touches nothing until it
// is used.
func NewDirCache(dir string) *DirCache {
	return &DirCache{dir: dir}
}

// Dir returns the cache's directory.
func (c *DirCache) Dir() string { return c.dir }

// check returns why the cache's directory must not be used, or nil; it
// looks once.
func (c *DirCache) check() error {
	c.checkOnce.Do(func() {
		if c.dir == "" {
			c.unsafe = errors.New("compile cache: NewDirCache was given no directory")
			return
		}
		c.unsafe = safeDir(c.dir)
	})
	return c.unsafe
}

// UnsafeCacheError says why the compile cache is not used: a file or
// directory in it, or a directory above it, could have been written by
// another user. Compiled code runs outside the sandbox, so such a cache
// could make the host run anything; the host compiles plugins instead.
type UnsafeCacheError struct {
	Dir     string // the cache directory
	Path    string // the file or directory at fault
	Problem string // "is writable by group and others (mode drwxrwxrwx)"
	Fix     string // the command that fixes it
}

func (e *UnsafeCacheError) Error() string {
	at := ""
	if e.Path != e.Dir {
		at = ": " + e.Path
	}
	return fmt.Sprintf("compile cache %s is not used%s %s; compiled code runs outside the sandbox, so only you (or root) may be able to write it: %s",
		e.Dir, at, e.Problem, e.Fix)
}

// checkOwnerMode refuses a file or directory another user owns or can
// write. A directory above the cache may be writable by others when it has
// the sticky bit (like /tmp: nobody can rename or remove what is not
// theirs there).
func checkOwnerMode(dir, path string, fi fs.FileInfo, above bool) error {
	if uid, ok := fileOwner(fi); ok && ownersChecked && uid != currentUID() && uid != 0 {
		return &UnsafeCacheError{Dir: dir, Path: path,
			Problem: fmt.Sprintf("is owned by user %d, not by you (user %d) or root", uid, currentUID()),
			Fix:     fmt.Sprintf("remove it, or make it yours (chown %d %s) if you trust its content", currentUID(), path)}
	}
	perm := fi.Mode()
	if perm.Perm()&0o022 == 0 || (above && perm&fs.ModeSticky != 0) {
		return nil
	}
	who := "group and others"
	switch {
	case perm.Perm()&0o020 == 0:
		who = "others"
	case perm.Perm()&0o002 == 0:
		who = "its group"
	}
	fix := "chmod go-w " + path
	if !above && !fi.IsDir() {
		fix = "remove it (rm " + path + ")"
	} else if !above {
		fix += " (or remove the directory)"
	}
	return &UnsafeCacheError{Dir: dir, Path: path,
		Problem: fmt.Sprintf("is writable by %s (mode %s)", who, perm), Fix: fix}
}

// safeDir checks the cache directory and every directory above it (after
// resolving symbolic links): a directory another user could write could
// have any entry swapped, or the cache itself replaced. When the cache
// directory does not exist yet, where it would be created is checked.
func safeDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	p := abs
	for {
		if _, err := os.Lstat(p); err == nil {
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	above := p != abs
	for {
		fi, err := os.Stat(real)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("compile cache %s is not used: %s is not a directory", dir, real)
		}
		if err := checkOwnerMode(dir, real, fi, above); err != nil {
			return err
		}
		parent := filepath.Dir(real)
		if parent == real {
			return nil
		}
		real, above = parent, true
	}
}

// cacheKey returns the cache key of the wasm whose SHA-256 is sum,
// compiled with the given engine fingerprint; kind tells components and
// core modules apart.
func cacheKey(kind string, sum [sha256.Size]byte, engine string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", wasmtimeVersion, kind, engine)
	h.Write(sum[:])
	return hex.EncodeToString(h.Sum(nil))
}

func (c *DirCache) path(key string) (string, error) {
	if !isHex(key, 64) {
		return "", fmt.Errorf("compile cache: %q is not a cache key (64 hex digits)", key)
	}
	return filepath.Join(c.dir, key[:2], key+".cwasm"), nil
}

// Get returns the entry stored under key. An entry that another user could
// have written is removed, and the error (an *UnsafeCacheError) says so;
// one that cannot be read or is over 1 GiB is removed silently (a miss).
// When the directory itself is unsafe, the error is its
// *UnsafeCacheError, every time.
func (c *DirCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := c.check(); err != nil {
		return nil, false, err
	}
	p, err := c.path(key)
	if err != nil {
		return nil, false, err
	}
	data, err := c.read(p)
	if err != nil {
		var ue *UnsafeCacheError
		switch {
		case errors.As(err, &ue):
			_ = os.Remove(p)
			return nil, false, ue
		case !errors.Is(err, fs.ErrNotExist):
			_ = os.Remove(p) // unreadable or oversized: rebuilt
		}
		return nil, false, nil
	}
	return data, true, nil
}

// read reads the entry at p after checking, on the open file and its
// directory, that only this user or root could have written them.
func (c *DirCache) read(p string) ([]byte, error) {
	shard := filepath.Dir(p)
	fi, err := os.Stat(shard)
	if err != nil {
		return nil, err
	}
	if err := checkOwnerMode(c.dir, shard, fi, false); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|openEntryFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &UnsafeCacheError{Dir: c.dir, Path: p, Problem: "is not a regular file", Fix: "remove it (rm " + p + ")"}
	}
	if err := checkOwnerMode(c.dir, p, fi, false); err != nil {
		return nil, err
	}
	if fi.Size() > maxCacheEntry {
		return nil, fmt.Errorf("cache entry %s is %d bytes, over the bound of %d", p, fi.Size(), maxCacheEntry)
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return data, nil
}

// verifyEntry returns the compiled code of an entry framed by entry, if it
// is whole and names key.
func verifyEntry(key string, data []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(cacheMagic+key+"\n"))
	if !ok || len(rest) < 12 {
		return nil, false
	}
	n, sum, payload := binary.LittleEndian.Uint64(rest), binary.LittleEndian.Uint32(rest[8:]), rest[12:]
	if n != uint64(len(payload)) || n == 0 || crc32.Checksum(payload, castagnoli) != sum {
		return nil, false
	}
	return payload, true
}

// entry is what put writes for key.
func entry(key string, compiled []byte) []byte {
	out := make([]byte, 0, len(cacheMagic)+len(key)+1+12+len(compiled))
	out = append(append(append(out, cacheMagic...), key...), '\n')
	out = binary.LittleEndian.AppendUint64(out, uint64(len(compiled)))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(compiled, castagnoli))
	return append(out, compiled...)
}

// Delete removes the entry stored under key.
func (c *DirCache) Delete(ctx context.Context, key string) error {
	if err := c.check(); err != nil {
		return err
	}
	p, err := c.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Put stores data under key atomically: readers see the old entry, no
// entry, or the whole new one. It never writes where another user could
// swap the entry afterwards.
func (c *DirCache) Put(ctx context.Context, key string, data []byte) error {
	if err := c.check(); err != nil {
		return err
	}
	p, err := c.path(key)
	if err != nil {
		return err
	}
	if err := c.safeShard(filepath.Dir(p)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// entries counts the entries in the cache, for tests.
func (c *DirCache) entries() (int, error) {
	files, err := c.scan()
	n := 0
	for _, f := range files {
		if f.kind == cacheEntry {
			n++
		}
	}
	return n, err
}

// The files of a cache directory: <2 hex>/<key>.cwasm entries, their
// <key>.lock files, and .tmp-* files of entries being written.
type cacheFileKind int

const (
	cacheEntry cacheFileKind = iota
	cacheLock
	cacheTemp
)

type cacheFile struct {
	path string
	key  string // of an entry or a lock
	kind cacheFileKind
	size int64
	mod  time.Time
}

// scan lists the cache's files. Only files named as the cache names them,
// in shard directories named as it names them, are listed: nothing else
// is ever removed. A missing cache directory is an empty cache.
func (c *DirCache) scan() ([]cacheFile, error) {
	if c.dir == "" {
		return nil, nil
	}
	shards, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []cacheFile
	for _, sd := range shards {
		if !sd.IsDir() || !isHex(sd.Name(), 2) {
			continue
		}
		shard := filepath.Join(c.dir, sd.Name())
		files, err := os.ReadDir(shard)
		if err != nil {
			return out, err
		}
		for _, f := range files {
			if !f.Type().IsRegular() {
				continue
			}
			cf := cacheFile{path: filepath.Join(shard, f.Name())}
			name := f.Name()
			switch {
			case strings.HasSuffix(name, ".cwasm") && isHex(strings.TrimSuffix(name, ".cwasm"), 64):
				cf.kind, cf.key = cacheEntry, strings.TrimSuffix(name, ".cwasm")
			case strings.HasSuffix(name, ".lock") && isHex(strings.TrimSuffix(name, ".lock"), 64):
				cf.kind, cf.key = cacheLock, strings.TrimSuffix(name, ".lock")
			case strings.HasPrefix(name, ".tmp-"):
				cf.kind = cacheTemp
			default:
				continue
			}
			if fi, err := f.Info(); err == nil {
				cf.size, cf.mod = fi.Size(), fi.ModTime()
			}
			out = append(out, cf)
		}
	}
	return out, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// staleTemp is the age after which a .tmp-* file is taken for the leftover
// of a host that died while writing an entry (writing one takes seconds).
const staleTemp = time.Hour

// CacheInfo describes the compile cache (Host.CacheInfo).
type CacheInfo struct {
	// Dir is the cache directory; "" when the cache is off.
	Dir string
	// Unsafe is why the cache is not used, or nil (see UnsafeCacheError).
	Unsafe error
	// Entries and Bytes count every entry.
	Entries int
	Bytes   int64
	// Plugins are the installed plugins that have an entry, by name.
	Plugins []CachedPlugin
	// UnusedEntries and UnusedBytes count the entries no installed plugin
	// uses (of removed or replaced plugins, files only validated by older
	// versions, other wasmtime versions or engine settings): what
	// PruneCache removes.
	UnusedEntries int
	UnusedBytes   int64
}

// CachedPlugin is an installed plugin's share of the compile cache.
type CachedPlugin struct {
	Name  string
	Bytes int64
}

// CacheRemoved is what PruneCache, ClearCache or ForgetCompiled removed.
type CacheRemoved struct {
	Entries int
	Bytes   int64
}

// pluginKeys returns the cache keys the plugin binary wasm can have: one
// per kind (the kind depends on what the binary is, which does not matter
// here).
func pluginKeys(wasm []byte) []string {
	sum := sha256.Sum256(wasm)
	return []string{cacheKey("component", sum, engineFingerprint()), cacheKey("module", sum, engineFingerprint())}
}

// dirCache returns the host's compile cache when it is a DirCache, the
// only kind CacheInfo, PruneCache, ClearCache and ForgetCompiled look
// after.
func (h *Host) dirCache() *DirCache {
	dc, _ := h.cache.(*DirCache)
	return dc
}

// installedKeys maps the cache keys of the installed plugins to their
// names. A plugin file that cannot be read (too large, not a regular
// file) has no key.
func (h *Host) installedKeys(what string) (map[string]string, error) {
	if h.pluginDir == "" {
		return nil, errNoPluginDir(what)
	}
	paths, err := filepath.Glob(filepath.Join(h.pluginDir, "*.wasm"))
	if err != nil {
		return nil, err
	}
	keys := map[string]string{}
	for _, p := range paths {
		name := nameFromPath(p)
		wasm, err := readPlugin(p, h.config.LimitsFor(name).MaxPluginSize)
		if err != nil {
			continue
		}
		for _, k := range pluginKeys(wasm) {
			keys[k] = name
		}
	}
	return keys, nil
}

// CacheInfo describes the compile cache when it is a DirCache: its
// directory, whether it is used, its entries and their sizes, by installed
// plugin (those of Options.PluginDir) and unused. With another cache, or
// none, Dir is "" and there is nothing to count.
func (h *Host) CacheInfo() (CacheInfo, error) {
	dc := h.dirCache()
	if dc == nil {
		return CacheInfo{}, nil
	}
	info := CacheInfo{Dir: dc.dir, Unsafe: dc.check()}
	files, err := dc.scan()
	if err != nil {
		return info, err
	}
	installed := map[string]string{}
	if h.pluginDir != "" {
		if installed, err = h.installedKeys("CacheInfo"); err != nil {
			return info, err
		}
	}
	byName := map[string]int64{}
	for _, f := range files {
		if f.kind != cacheEntry {
			continue
		}
		info.Entries++
		info.Bytes += f.size
		if name, ok := installed[f.key]; ok {
			byName[name] += f.size
		} else {
			info.UnusedEntries++
			info.UnusedBytes += f.size
		}
	}
	for _, name := range sortedNames(byName) {
		info.Plugins = append(info.Plugins, CachedPlugin{Name: name, Bytes: byName[name]})
	}
	return info, nil
}

// PruneCache removes the entries of the compile cache (a DirCache) that no
// installed plugin (a *.wasm of Options.PluginDir) uses, their lock files,
// and temporary files left by hosts that died while writing an entry.
// With a cache directory shared between plugin homes, the entries of the
// other homes' plugins go too. It needs Options.PluginDir; with another
// cache than a DirCache, or none, it removes nothing.
func (h *Host) PruneCache() (CacheRemoved, error) {
	dc := h.dirCache()
	if dc == nil {
		return CacheRemoved{}, nil
	}
	installed, err := h.installedKeys("PruneCache")
	if err != nil {
		return CacheRemoved{}, err
	}
	return dc.remove(func(f cacheFile) bool { return installed[f.key] == "" })
}

// ClearCache removes every entry of the compile cache (a DirCache), and
// the lock and stale temporary files: every plugin is compiled again on its
// next load. With another cache than a DirCache, or none, it removes
// nothing.
func (h *Host) ClearCache() (CacheRemoved, error) {
	dc := h.dirCache()
	if dc == nil {
		return CacheRemoved{}, nil
	}
	return dc.remove(func(cacheFile) bool { return true })
}

// ForgetCompiled removes the compile cache's entries of the plugin binary
// at path, e.g. before the plugin is removed: from a DirCache, its files;
// from another cache, through Delete.
func (h *Host) ForgetCompiled(path string) (CacheRemoved, error) {
	if h.cache == nil {
		return CacheRemoved{}, nil
	}
	wasm, err := readPlugin(path, h.config.LimitsFor(nameFromPath(path)).MaxPluginSize)
	if err != nil {
		return CacheRemoved{}, err
	}
	keys := pluginKeys(wasm)
	dc := h.dirCache()
	if dc == nil {
		var first error
		for _, k := range keys {
			if err := h.cache.Delete(context.Background(), k); err != nil && first == nil {
				first = err
			}
		}
		return CacheRemoved{}, first
	}
	return dc.remove(func(f cacheFile) bool { return f.key == keys[0] || f.key == keys[1] })
}

// remove removes the entries and lock files drop selects, and temporary
// files older than staleTemp; it counts the entries removed.
func (c *DirCache) remove(drop func(cacheFile) bool) (CacheRemoved, error) {
	var out CacheRemoved
	files, err := c.scan()
	if err != nil {
		return out, err
	}
	var first error
	for _, f := range files {
		switch {
		case f.kind == cacheTemp && time.Since(f.mod) < staleTemp:
			continue
		case f.kind != cacheTemp && !drop(f):
			continue
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			if first == nil {
				first = err
			}
			continue
		}
		if f.kind == cacheEntry {
			out.Entries++
			out.Bytes += f.size
		}
	}
	return out, first
}

// Step is a slow step of loading a plugin, reported to Options.Progress.
type Step struct {
	Plugin string   // the plugin's name
	Kind   StepKind // what the host is doing
	Size   int      // bytes of the plugin's binary
}

// StepKind says what a Step is.
type StepKind int

const (
	// StepCompile: the plugin is being compiled (it is not in the compile
	// cache); seconds for a large component.
	StepCompile StepKind = iota
	// StepWaitCompile: another process (or host) is compiling the same
	// plugin; this one waits to use its result.
	StepWaitCompile
)

func (k StepKind) String() string {
	if k == StepWaitCompile {
		return "waiting for another process compiling"
	}
	return "compiling"
}

// step reports a slow step to Options.Progress and returns what ends it.
func (h *Host) step(p *Plugin, kind StepKind) (done func()) {
	if h.progress == nil {
		return func() {}
	}
	if done := h.progress(Step{Plugin: p.name, Kind: kind, Size: p.size}); done != nil {
		return done
	}
	return func() {}
}

// Waiting for another process compiling the same plugin: polled every
// lockPoll (flock cannot wait and honour a context at once), given up after
// lockWaitMax (that process may be stopped; compiling again is only slower).
const (
	lockPoll    = 50 * time.Millisecond
	lockWaitMax = 10 * time.Minute
)

// lock takes the lock of key, so that concurrent hosts (processes or not)
// compile a plugin once: the others wait, then find the entry. waiting is
// called when the lock is taken by another, and the function it returns
// when the wait ends. The lock file, <key>.lock beside the entry, stays.
// It fails with the context's error when ctx ends while waiting.
func (c *DirCache) lock(ctx context.Context, key string, waiting func() func()) (release func(), err error) {
	p, err := c.path(key)
	if err != nil {
		return nil, err
	}
	shard := filepath.Dir(p)
	if err := c.safeShard(shard); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(strings.TrimSuffix(p, ".cwasm")+".lock", os.O_RDWR|os.O_CREATE|openEntryFlags, 0o600)
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if !ok && err == nil {
		done := waiting()
		t := time.NewTicker(lockPoll)
		deadline := time.Now().Add(lockWaitMax)
		for !ok && err == nil {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-t.C:
				ok, err = tryLock(f)
				if !ok && err == nil && time.Now().After(deadline) {
					err = fmt.Errorf("another process has been compiling it for %s", lockWaitMax)
				}
			}
		}
		t.Stop()
		done()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		unlock(f)
		f.Close()
	}, nil
}

// safeShard makes the directory of a key's files and checks that no other
// user can write it.
func (c *DirCache) safeShard(shard string) error {
	if err := os.MkdirAll(shard, 0o755); err != nil {
		return err
	}
	fi, err := os.Stat(shard)
	if err != nil {
		return err
	}
	return checkOwnerMode(c.dir, shard, fi, false)
}

// cacheGet returns the verified compiled code stored under key, or nil.
// An entry that does not verify is deleted.
func (h *Host) cacheGet(ctx context.Context, key string) []byte {
	data, ok, err := h.cache.Get(ctx, key)
	if err != nil {
		var ue *UnsafeCacheError
		if errors.As(err, &ue) {
			h.logger.Warn(ue.Error() + " (the entry is removed and the plugin compiled again)")
		} else {
			h.logger.Warn("cannot read the compile cache; compiling", "key", key, "error", err)
		}
		return nil
	}
	if !ok {
		return nil
	}
	payload, ok := []byte(nil), len(data) <= maxCacheEntry
	if ok {
		payload, ok = verifyEntry(key, data)
	}
	if !ok {
		if err := h.cache.Delete(ctx, key); err != nil {
			h.logger.Warn("cannot remove a corrupt compile cache entry", "key", key, "error", err)
		}
		return nil
	}
	return payload
}

// cacheUsable reports whether the host has a compile cache it may use: a
// DirCache whose directory is unsafe is not used, which the host says once.
func (h *Host) cacheUsable() bool {
	if h.cache == nil {
		return false
	}
	dc := h.dirCache()
	if dc == nil {
		return true
	}
	err := dc.check()
	if err != nil {
		h.cacheWarn.Do(func() { h.logger.Warn(err.Error()) })
	}
	return err == nil
}

// compileCached returns plugin p's compiled code of the given kind
// ("component" or "module"): from a verified cache entry that load accepts,
// else made by compile and, unless p is only being validated, stored with
// serialize. With a DirCache, one host at a time compiles a given plugin
// (lock): the others wait, honouring ctx, and load what it stored. Slow
// steps are reported to Options.Progress.
func compileCached[T any](ctx context.Context, h *Host, p *Plugin, kind string,
	load func([]byte) (T, error), compile func() (T, error), serialize func(T) ([]byte, error)) (T, error) {
	key := cacheKey(kind, p.digest, engineFingerprint())
	usable := h.cacheUsable()
	cached := func() (T, bool) {
		var zero T
		if !usable {
			return zero, false
		}
		data := h.cacheGet(ctx, key)
		if data == nil {
			return zero, false
		}
		v, err := load(data)
		if err != nil {
			h.logger.Warn("compile cache entry refused by wasmtime; recompiling", "key", key, "error", bindings.CoreError("deserialize", err))
			_ = h.cache.Delete(ctx, key)
			return zero, false
		}
		return v, true
	}
	if v, ok := cached(); ok {
		return v, nil
	}
	store := usable && !p.validating
	if dc := h.dirCache(); store && dc != nil {
		release, err := dc.lock(ctx, key, func() func() { return h.step(p, StepWaitCompile) })
		switch {
		case err == nil:
			defer release()
			if v, ok := cached(); ok { // compiled by whoever held the lock
				return v, nil
			}
		case ctx.Err() != nil:
			var zero T
			return zero, &Error{Plugin: p.name, Func: "load", Kind: KindCancelled,
				Msg: "cancelled while waiting for another process compiling the plugin", Err: ctx.Err()}
		default:
			h.logger.Warn("compiling without the compile cache's lock", "plugin", p.name, "error", err)
		}
	}
	done := h.step(p, StepCompile)
	v, err := compile()
	done()
	if err != nil {
		return v, err
	}
	if store {
		data, err := serialize(v)
		if err == nil {
			err = h.cache.Put(ctx, key, entry(key, data))
		}
		if err != nil {
			attrs := []any{"error", err}
			if dc := h.dirCache(); dc != nil {
				attrs = append([]any{"dir", dc.dir}, attrs...)
			}
			h.logger.Warn("cannot write the compile cache", attrs...)
		}
	}
	return v, nil
}
