package host

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/bindings"
)

// cacheHost makes a host with the compile cache in home/cache.
func cacheHost(t *testing.T, home string) (*Host, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	h, err := New(Options{Home: home, Logger: slog.New(rec)})
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
	key := h.cache.key("component", a, engineFingerprint())
	path := h.cache.path(key)
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
	if n, err := h.cache.entries(); err != nil || n != 1 {
		t.Fatalf("%d entries, %v", n, err)
	}

	// The cache is what later loads use: an entry forged to hold beta's
	// code under alpha's key (checksum and key right: only a recompile could
	// tell) makes alpha's load run beta. This is why the cache directory
	// must be as trusted as the plugins themselves.
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
	bKey := h.cache.key("component", b, engineFingerprint())
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
		{"code compiled with other engine settings", entry(key, otherCode), true},
	} {
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		h3, rec3 := cacheHost(t, home)
		if name := describeName(t, h3, a); name != "alpha" {
			t.Fatalf("%s: the entry was trusted: the plugin is %s", c.name, name)
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
	var c compileCache
	wasm := []byte("\x00asm\x0d\x00\x01\x00")
	base := c.key("component", wasm, engineFingerprint())
	for name, k := range map[string]string{
		"other wasm":     c.key("component", append(wasm, 0), engineFingerprint()),
		"other kind":     c.key("module", wasm, engineFingerprint()),
		"other settings": c.key("component", wasm, strings.Replace(engineFingerprint(), "fuel=true", "fuel=false", 1)),
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
	if !strings.Contains(messages(rec.lines()), "cannot write the compile cache") {
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
