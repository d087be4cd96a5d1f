package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// cacheMagic starts every cache entry; the version changes when the entry
// layout does. An entry is the magic, its key and a newline, the SHA-256 of
// the payload, and the payload (wasmtime's serialized code).
const cacheMagic = "DRIFTLESS-CACHE-2\n"

// wasmtimeVersion is part of every cache key: artifacts of another wasmtime
// are never offered to this one.
const wasmtimeVersion = "wasmtime-39.0.1"

// compileCache stores compiled plugins (wasmtime's serialized code) under
// dir, keyed by the SHA-256 of the wasm, the wasmtime version and the engine
// settings. Deserializing compiled code trusts it completely, so an entry is
// used only when its header names its own key (an entry copied or renamed
// to another key is refused) and its SHA-256 matches its content; a corrupt,
// truncated or mismatched entry is removed and rebuilt, never loaded. What
// the checksum cannot catch (an entry of another wasmtime or other engine
// settings) wasmtime refuses when deserializing, and the host rebuilds it.
type compileCache struct {
	dir string // "" disables the cache
}

// key returns the cache key of wasm compiled with the given engine
// fingerprint; kind tells components and core modules apart.
func (c *compileCache) key(kind string, wasm []byte, engine string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", wasmtimeVersion, kind, engine)
	sum := sha256.Sum256(wasm)
	h.Write(sum[:])
	return hex.EncodeToString(h.Sum(nil))
}

func (c *compileCache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".cwasm")
}

// get returns the verified compiled code for key, or nil. An entry that
// fails verification is deleted.
func (c *compileCache) get(key string) []byte {
	if c.dir == "" {
		return nil
	}
	p := c.path(key)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	payload, ok := verifyEntry(key, data)
	if !ok {
		_ = os.Remove(p)
		return nil
	}
	return payload
}

func verifyEntry(key string, data []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(cacheMagic+key+"\n"))
	if !ok || len(rest) < sha256.Size {
		return nil, false
	}
	want, payload := rest[:sha256.Size], rest[sha256.Size:]
	got := sha256.Sum256(payload)
	if !bytes.Equal(want, got[:]) || len(payload) == 0 {
		return nil, false
	}
	return payload, true
}

// entry is what put writes for key.
func entry(key string, compiled []byte) []byte {
	sum := sha256.Sum256(compiled)
	out := make([]byte, 0, len(cacheMagic)+len(key)+1+len(sum)+len(compiled))
	out = append(append(append(append(out, cacheMagic...), key...), '\n'), sum[:]...)
	return append(out, compiled...)
}

// invalidate removes an entry that verified but that wasmtime refused.
func (c *compileCache) invalidate(key string) {
	if c.dir != "" {
		_ = os.Remove(c.path(key))
	}
}

// put stores compiled code atomically: readers see the old entry, no entry,
// or the whole new one.
func (c *compileCache) put(key string, compiled []byte) error {
	if c.dir == "" {
		return nil
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(entry(key, compiled))
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

// entries counts the entries in the cache, for tests and `plugins` output.
func (c *compileCache) entries() (int, error) {
	n := 0
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && filepath.Ext(path) == ".cwasm" {
			n++
		}
		return nil
	})
	return n, err
}
