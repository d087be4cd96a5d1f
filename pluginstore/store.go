// Package pluginstore changes the plugins installed in a Driftless home
// safely: a plugin is streamed into a staging file (bounded by
// max_plugin_size while it arrives, cancelled by the caller's context even
// while a read waits), checked there, and only then renamed into
// plugins/NAME.wasm, so a half-written plugin is never visible and a
// killed install leaves nothing installed.
//
// Two kinds of flock(2), which the kernel releases when their process
// dies, keep concurrent processes apart:
//
//   - each staging directory is locked by its install while it runs, so a
//     directory that is not locked is the leftover of a killed install,
//     which Leftovers reports and CleanStale removes, and never the work
//     of a running one;
//   - the home's lock (Lock) serializes the short steps that change
//     plugins.lock and plugins/, so two installs never lose each other's
//     lock entries, while their downloads and validations run side by side.
package pluginstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/driftless-dev/driftless/internal/safefile"
)

// stagePrefix starts the name of every staging directory in plugins/; the
// host loads plugins/*.wasm only, so staging files are never loaded.
const stagePrefix = ".install-"

// lockName is the file of the home's lock.
const lockName = ".install.lock"

// Home is a plugin home: plugins/, plugins.lock and the signatures that
// verified its plugins.
type Home struct{ dir string }

// Open returns the home in dir; nothing is created until it is changed.
func Open(dir string) *Home { return &Home{dir: dir} }

// Dir returns the home's directory.
func (h *Home) Dir() string { return h.dir }

// PluginDir returns the directory of the installed plugins.
func (h *Home) PluginDir() string { return filepath.Join(h.dir, "plugins") }

// PluginPath returns the file of the installed plugin name.
func (h *Home) PluginPath(name string) string { return filepath.Join(h.PluginDir(), name+".wasm") }

// SignatureDir returns the directory where the signatures that verified
// installed plugins are kept, one NAME.json each, for `plugins verify`.
func (h *Home) SignatureDir() string { return filepath.Join(h.dir, "signatures") }

// Locked is a held home lock.
type Locked struct{ f *os.File }

// Unlock releases the lock.
func (l *Locked) Unlock() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}

// lockPoll is how often Lock retries while another process holds the lock.
var lockPoll = 100 * time.Millisecond

// Lock takes the home's lock, waiting while another process holds it
// (calling waiting once, e.g. to say so) until ctx ends.
func (h *Home) Lock(ctx context.Context, waiting func()) (*Locked, error) {
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return nil, err
	}
	l, err := LockFile(ctx, filepath.Join(h.dir, lockName), waiting)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("waiting for the lock on %s (another driftless is changing this home): %w", h.dir, context.Cause(ctx))
	}
	return l, err
}

// LockFile takes an exclusive flock on path (created if missing), waiting
// while another process holds it (calling waiting once) until ctx ends.
// The kernel releases it when the process dies, so a killed process never
// leaves it held.
func LockFile(ctx context.Context, path string, waiting func()) (*Locked, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Locked{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, context.Cause(ctx)
		case <-time.After(lockPoll):
		}
	}
}

// Leftover is the staging directory of an install that was killed.
type Leftover struct {
	Path  string
	Bytes int64 // what its files take
}

// Leftovers returns the staging directories that no running install holds:
// those of installs killed before they finished.
func (h *Home) Leftovers() ([]Leftover, error) {
	return h.leftovers(false)
}

// CleanStale removes the staging directories of killed installs (never one
// a running install holds) and returns what it removed.
func (h *Home) CleanStale() ([]Leftover, error) {
	return h.leftovers(true)
}

func (h *Home) leftovers(remove bool) ([]Leftover, error) {
	entries, err := os.ReadDir(h.PluginDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Leftover
	var first error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stagePrefix) {
			continue
		}
		p := filepath.Join(h.PluginDir(), e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // a running install holds it
			continue
		}
		l := Leftover{Path: p, Bytes: dirSize(p)}
		if remove {
			if err := os.RemoveAll(p); err != nil && first == nil {
				first = err
			}
		}
		f.Close()
		out = append(out, l)
	}
	return out, first
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// Staged is a plugin file being installed: a file NAME.wasm in a staging
// directory of plugins/ (so that it validates under its plugin name).
type Staged struct {
	name string
	dir  string
	path string
	lock *os.File // the directory, flocked while the install runs
	f    *os.File
	sum  hash.Hash
	size int64
}

// Stage creates the staging file of the plugin name.
func (h *Home) Stage(name string) (*Staged, error) {
	if err := os.MkdirAll(h.PluginDir(), 0o755); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		dir, err := os.MkdirTemp(h.PluginDir(), stagePrefix+name+"-")
		if err != nil {
			return nil, err
		}
		lock, err := os.Open(dir)
		if err == nil {
			err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX)
		}
		if err == nil {
			if _, serr := os.Stat(dir); serr != nil {
				// Another process's CleanStale took it for a leftover
				// between MkdirTemp and Flock: it is gone, try again.
				lock.Close()
				if attempt < 2 {
					continue
				}
				return nil, fmt.Errorf("%s vanished while it was being locked", dir)
			}
			path := filepath.Join(dir, name+".wasm")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err == nil {
				return &Staged{name: name, dir: dir, path: path, lock: lock, f: f, sum: sha256.New()}, nil
			}
		}
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(dir)
		return nil, err
	}
}

// Path returns the staged file (plugins/.install-…/NAME.wasm).
func (s *Staged) Path() string { return s.path }

// Size returns the bytes written so far.
func (s *Staged) Size() int64 { return s.size }

// SHA256 returns the hex SHA-256 of the bytes written so far.
func (s *Staged) SHA256() string { return hex.EncodeToString(s.sum.Sum(nil)) }

// Fill streams r into the staged file and syncs it. It fails with a
// *safefile.TooLargeError naming what (a file, "standard input", ...) as
// soon as more than max bytes came in all, and with the context's error as
// soon as ctx ends, even while a read waits (see safefile.Copy). progress,
// if set, is called with the bytes staged so far.
func (s *Staged) Fill(ctx context.Context, r io.Reader, what string, max int64, progress func(n int64)) error {
	if s.f == nil {
		return errors.New("pluginstore: Fill after Commit or Discard")
	}
	w := writerFunc(func(p []byte) (int, error) {
		n, err := s.f.Write(p)
		s.sum.Write(p[:n])
		s.size += int64(n)
		if progress != nil {
			progress(s.size)
		}
		return n, err
	})
	if _, err := safefile.Copy(ctx, w, r, what, max-s.size); err != nil {
		var tl *safefile.TooLargeError
		if errors.As(err, &tl) {
			tl.Max = max
		}
		return err
	}
	return s.f.Sync()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Commit renames the staged file to plugins/NAME.wasm, replacing an
// installed plugin of that name only if replace is set (else it fails with
// an error wrapping fs.ErrExist), and removes the staging directory.
func (s *Staged) Commit(replace bool) error {
	if s.f == nil {
		return errors.New("pluginstore: Commit after Commit or Discard")
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		s.Discard()
		return err
	}
	dest := filepath.Join(filepath.Dir(s.dir), s.name+".wasm")
	if replace {
		err = os.Rename(s.path, dest)
	} else if err = os.Link(s.path, dest); err != nil && !errors.Is(err, fs.ErrExist) {
		// No hard links here: Rename, after checking, can only lose a race.
		if _, serr := os.Lstat(dest); serr == nil {
			err = &fs.PathError{Op: "install", Path: dest, Err: fs.ErrExist}
		} else {
			err = os.Rename(s.path, dest)
		}
	}
	s.Discard()
	if err != nil {
		return err
	}
	syncDir(filepath.Dir(dest))
	return nil
}

// Discard removes the staged file; a no-op after Commit.
func (s *Staged) Discard() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
		s.dir = ""
	}
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// Remove removes the installed plugin name and its kept signature.
func (h *Home) Remove(name string) error {
	if err := os.Remove(h.PluginPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(filepath.Join(h.SignatureDir(), name+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	syncDir(h.PluginDir())
	return nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed over path, then syncs the directory:
// readers see the old file or the whole new one, even if the process dies
// half-way.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		_ = os.Remove(name)
		return err
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
