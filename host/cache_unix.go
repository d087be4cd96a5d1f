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
