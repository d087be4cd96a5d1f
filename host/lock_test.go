package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/pluginlock"
)

// An installed plugin loads only if its bytes match its plugins.lock entry;
// one without an entry loads and says so.
func TestLockPinsInstalledPlugins(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	good := fixture{name: "good"}.wasm(t)
	other := fixture{name: "other"}.wasm(t)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	for name, wasm := range map[string][]byte{"pinned": good, "tampered": other, "loose": good} {
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), wasm, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lock := pluginlock.New(filepath.Join(home, pluginlock.FileName))
	for _, name := range []string{"pinned", "tampered"} {
		lock.Set(pluginlock.Entry{Name: name, Source: pluginlock.SourceFile, Ref: "file:///x.wasm", SHA256: sum(good), Size: int64(len(good))})
	}
	if err := lock.Write(); err != nil {
		t.Fatal(err)
	}
	opts, err := HomeOptions(home)
	if err != nil {
		t.Fatal(err)
	}
	opts.Cache = nil
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()

	p, err := h.Load(ctx, filepath.Join(dir, "pinned.wasm"))
	if err != nil {
		t.Fatalf("pinned: %v", err)
	}
	if e, ok := p.LockEntry(); !ok || e.SHA256 != sum(good) {
		t.Errorf("pinned: LockEntry = %+v, %v", e, ok)
	}

	_, err = h.Load(ctx, filepath.Join(dir, "tampered.wasm"))
	path := filepath.Join(dir, "tampered.wasm")
	wantError(t, err, KindLoad, "plugin tampered: load: "+path+" does not match its entry in "+lock.Path+
		": the file's sha256 is "+sum(other)+", the lock pins "+sum(good)+
		" (reinstall what the lock names with `driftless plugins install`, or the plugin with `plugins install REF --force`)")
	if !errors.Is(err, ErrLockMismatch) {
		t.Errorf("error chain lacks ErrLockMismatch: %v", err)
	}

	p, err = h.Load(ctx, filepath.Join(dir, "loose.wasm"))
	if err != nil {
		t.Fatalf("loose: %v", err)
	}
	if _, ok := p.LockEntry(); ok {
		t.Error("loose: has a lock entry")
	}

	// The pin applies to installed files only: the same name loaded from
	// elsewhere (plugins validate, an install's staged copy) is not pinned.
	elsewhere := filepath.Join(t.TempDir(), "tampered.wasm")
	if err := os.WriteFile(elsewhere, other, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Validate(ctx, elsewhere); err != nil {
		t.Errorf("validate elsewhere: %v", err)
	}
	if p, err := h.Load(ctx, elsewhere); err != nil {
		t.Errorf("load elsewhere: %v", err)
	} else if _, ok := p.LockEntry(); ok {
		t.Error("a file outside plugins/ got a lock entry")
	}
}

// A malformed lock file stops HomeOptions, naming file and line.
func TestMalformedLockFile(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, pluginlock.FileName)
	if err := os.WriteFile(path, []byte("version = 1\n[plugins.x]\nsource = 'oci'\nref = 'r'\nsha256 = 'nope'\nsize = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := HomeOptions(home)
	var le *pluginlock.Error
	if !errors.As(err, &le) || le.Line != 5 || !strings.HasPrefix(err.Error(), "lock file "+path+":5: plugins.x.sha256: ") {
		t.Fatalf("error %v", err)
	}
}
