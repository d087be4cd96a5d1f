//go:build unix

package host

import (
	"io/fs"
	"os"
	"syscall"
)

// fileOwner returns the user id owning the file fi describes.
func fileOwner(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// ownersChecked reports whether this platform tells file owners apart.
const ownersChecked = true

// currentUID is the user the cache must belong to (or root).
func currentUID() int { return os.Geteuid() }

// openEntryFlags open a cache entry without following a symbolic link and
// without blocking on a FIFO planted in its place.
const openEntryFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// tryLock takes an exclusive advisory lock on f without waiting; ok is
// false when another open file (of this process or another) holds it.
func tryLock(f *os.File) (ok bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == syscall.EWOULDBLOCK {
		return false, nil
	}
	return err == nil, err
}

// unlock releases tryLock's lock (closing f would too).
func unlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
