package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

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

// wasmtimeVersion is part of every cache key: artifacts of another wasmtime
// are never offered to this one.
const wasmtimeVersion = "wasmtime-" + bindings.WasmtimeVersion

// compileCache stores compiled plugins (wasmtime's serialized code) under
// dir, keyed by the SHA-256 of the wasm, the wasmtime version and the engine
// settings. Deserializing compiled code trusts it completely, so an entry is
// used only when its header names its own key (an entry copied or renamed
// to another key is refused) and its length and checksum match its content;
// a corrupt,
// truncated or mismatched entry is removed and rebuilt, never loaded. What
// the checksum cannot catch (an entry of another wasmtime or other engine
// settings) wasmtime refuses when deserializing, and the host rebuilds it.
type compileCache struct {
	dir string // "" disables the cache
}

// key returns the cache key of wasm compiled with the given engine
// fingerprint; kind tells components and core modules apart.
func (c *compileCache) key(kind string, wasm []byte, engine string) string {
	return c.keySum(kind, sha256.Sum256(wasm), engine)
}

// keySum is key for the wasm whose SHA-256 is sum.
func (c *compileCache) keySum(kind string, sum [sha256.Size]byte, engine string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", wasmtimeVersion, kind, engine)
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
