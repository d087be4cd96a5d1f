package goadapter

// The adapter's files: wasi:filesystem played by Go over real temporary
// directories (the preopens), each preview1 function called as Go's syscall
// package calls it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// fsHandle is a descriptor or a directory-entry stream of the fake.
type fsHandle struct {
	path    string // host path
	dir     bool
	read    bool
	write   bool
	entries []fs.DirEntry // a stream's entries
	pos     int
	stream  bool
}

type fakeFS struct {
	h        *host
	handles  map[int32]*fsHandle
	next     int32
	preopens []string // host directories, guest names "/p0", "/p1", ...
	dropped  []int32
}

// wasi:filesystem error-code cases.
const (
	ecBadDescriptor = 3
	ecExist         = 7
	ecInvalid       = 12
	ecIsDirectory   = 14
	ecNoEntry       = 20
	ecNotDirectory  = 24
	ecNotEmpty      = 25
	ecNotPermitted  = 31
)

func errorCode(err error) uint8 {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ecNoEntry
	case errors.Is(err, fs.ErrExist):
		return ecExist
	case errors.Is(err, fs.ErrPermission):
		return ecNotPermitted
	case strings.Contains(fmt.Sprint(err), "is a directory"):
		return ecIsDirectory
	case strings.Contains(fmt.Sprint(err), "not a directory"):
		return ecNotDirectory
	case strings.Contains(fmt.Sprint(err), "directory not empty"):
		return ecNotEmpty
	}
	return ecInvalid
}

func (f *fakeFS) add(h *fsHandle) int32 {
	f.next++
	f.handles[f.next] = h
	return f.next
}

// realloc allocates in the adapter as the canonical ABI would.
func realloc(c *wasmtime.Caller, size, align int32) int32 {
	p, err := c.GetExport("cabi_import_realloc").Func().Call(c, int32(0), int32(0), align, size)
	if err != nil {
		panic(err)
	}
	return p.(int32)
}

func (f *fakeFS) define(t *testing.T, l *wasmtime.Linker) {
	le := binary.LittleEndian
	h := f.h
	mod := "wasi:filesystem/types@0.2.0"
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	str := func(p, n int32) string { return string(h.data()[p : p+n]) }
	// result<_, error-code> and friends: case @0, error @off.
	fail := func(ret, off int32, err error) {
		h.data()[ret] = 1
		h.data()[ret+off] = errorCode(err)
	}
	stat := func(ret int32, fi fs.FileInfo) {
		d := h.data()
		clear(d[ret : ret+104])
		d[ret+8] = 6 // regular-file
		if fi.IsDir() {
			d[ret+8] = 3
		}
		le.PutUint64(d[ret+16:], 1)
		le.PutUint64(d[ret+24:], uint64(fi.Size()))
		d[ret+56] = 1 // data-modification-timestamp: some
		le.PutUint64(d[ret+64:], uint64(fi.ModTime().Unix()))
		le.PutUint32(d[ret+72:], uint32(fi.ModTime().Nanosecond()))
	}
	must(l.FuncWrap("wasi:filesystem/preopens@0.2.0", "get-directories", func(c *wasmtime.Caller, ret int32) {
		h.call("get-directories")
		list := realloc(c, int32(12*len(f.preopens)), 4)
		for i, dir := range f.preopens {
			name := fmt.Sprintf("/p%d", i)
			p := realloc(c, int32(len(name)), 1)
			copy(h.data()[p:], name)
			e := list + int32(12*i)
			le.PutUint32(h.data()[e:], uint32(f.add(&fsHandle{path: dir, dir: true, read: true, write: true})))
			le.PutUint32(h.data()[e+4:], uint32(p))
			le.PutUint32(h.data()[e+8:], uint32(len(name)))
		}
		le.PutUint32(h.data()[ret:], uint32(list))
		le.PutUint32(h.data()[ret+4:], uint32(len(f.preopens)))
	}))
	must(l.FuncWrap(mod, "[method]descriptor.open-at", func(self, pathFlags, p, n, oflags, flags, ret int32) {
		h.call("open-at " + str(p, n))
		d := f.handles[self]
		path := filepath.Join(d.path, str(p, n))
		mode := os.O_RDONLY
		switch {
		case flags&3 == 3:
			mode = os.O_RDWR
		case flags&2 != 0:
			mode = os.O_WRONLY
		}
		if oflags&1 != 0 {
			mode |= os.O_CREATE
		}
		if oflags&4 != 0 {
			mode |= os.O_EXCL
		}
		if oflags&8 != 0 {
			mode |= os.O_TRUNC
		}
		fi, err := os.Stat(path)
		if err == nil && fi.IsDir() && flags&2 != 0 {
			fail(ret, 4, errors.New("is a directory"))
			return
		}
		if err == nil && !fi.IsDir() && oflags&2 != 0 {
			fail(ret, 4, errors.New("not a directory"))
			return
		}
		if err != nil || !fi.IsDir() {
			file, err := os.OpenFile(path, mode, 0o644)
			if err != nil {
				fail(ret, 4, err)
				return
			}
			file.Close()
		}
		h.data()[ret] = 0
		le.PutUint32(h.data()[ret+4:], uint32(f.add(&fsHandle{path: path, dir: err == nil && fi.IsDir(), read: flags&1 != 0, write: flags&2 != 0})))
	}))
	must(l.FuncWrap(mod, "[method]descriptor.get-type", func(self, ret int32) {
		h.call("get-type")
		h.data()[ret] = 0
		h.data()[ret+1] = 6
		if f.handles[self].dir {
			h.data()[ret+1] = 3
		}
	}))
	must(l.FuncWrap(mod, "[method]descriptor.read", func(c *wasmtime.Caller, self int32, length, offset int64, ret int32) {
		h.call(fmt.Sprintf("read(%d, %d)", length, offset))
		d := f.handles[self]
		data, err := os.ReadFile(d.path)
		if err != nil || !d.read {
			fail(ret, 4, fs.ErrPermission)
			return
		}
		data = data[min(int(offset), len(data)):]
		data = data[:min(int(length), len(data))]
		p := int32(0)
		if len(data) > 0 {
			p = realloc(c, int32(len(data)), 1)
			copy(h.data()[p:], data)
		}
		h.data()[ret] = 0
		le.PutUint32(h.data()[ret+4:], uint32(p))
		le.PutUint32(h.data()[ret+8:], uint32(len(data)))
		h.data()[ret+12] = 0
	}))
	must(l.FuncWrap(mod, "[method]descriptor.write", func(self, p, n int32, offset int64, ret int32) {
		h.call(fmt.Sprintf("write(%d, %d)", n, offset))
		d := f.handles[self]
		file, err := os.OpenFile(d.path, os.O_WRONLY, 0)
		if err != nil || !d.write {
			fail(ret, 8, fs.ErrPermission)
			return
		}
		defer file.Close()
		w, err := file.WriteAt(h.data()[p:p+n], offset)
		if err != nil {
			fail(ret, 8, err)
			return
		}
		h.data()[ret] = 0
		le.PutUint64(h.data()[ret+8:], uint64(w))
	}))
	must(l.FuncWrap(mod, "[method]descriptor.stat", func(self, ret int32) {
		h.call("stat")
		fi, err := os.Stat(f.handles[self].path)
		if err != nil {
			fail(ret, 8, err)
			return
		}
		stat(ret, fi)
	}))
	must(l.FuncWrap(mod, "[method]descriptor.stat-at", func(self, pathFlags, p, n, ret int32) {
		h.call("stat-at " + str(p, n))
		fi, err := os.Stat(filepath.Join(f.handles[self].path, str(p, n)))
		if err != nil {
			fail(ret, 8, err)
			return
		}
		stat(ret, fi)
	}))
	must(l.FuncWrap(mod, "[method]descriptor.set-size", func(self int32, size int64, ret int32) {
		h.call("set-size")
		if err := os.Truncate(f.handles[self].path, size); err != nil {
			fail(ret, 1, err)
			return
		}
		h.data()[ret] = 0
	}))
	for _, name := range []string{"sync", "sync-data"} {
		must(l.FuncWrap(mod, "[method]descriptor."+name, func(self, ret int32) { h.call(name); h.data()[ret] = 0 }))
	}
	must(l.FuncWrap(mod, "[method]descriptor.read-directory", func(self, ret int32) {
		h.call("read-directory")
		entries, err := os.ReadDir(f.handles[self].path)
		if err != nil {
			fail(ret, 4, err)
			return
		}
		h.data()[ret] = 0
		le.PutUint32(h.data()[ret+4:], uint32(f.add(&fsHandle{stream: true, entries: entries})))
	}))
	must(l.FuncWrap(mod, "[method]directory-entry-stream.read-directory-entry", func(c *wasmtime.Caller, self, ret int32) {
		h.call("read-directory-entry")
		s := f.handles[self]
		d := h.data()
		d[ret] = 0
		if s.pos >= len(s.entries) {
			d[ret+4] = 0
			return
		}
		e := s.entries[s.pos]
		s.pos++
		p := realloc(c, int32(len(e.Name())), 1)
		d = h.data()
		copy(d[p:], e.Name())
		d[ret+4] = 1
		d[ret+8] = 6
		if e.IsDir() {
			d[ret+8] = 3
		}
		le.PutUint32(d[ret+12:], uint32(p))
		le.PutUint32(d[ret+16:], uint32(len(e.Name())))
	}))
	pathOp := func(name string, op func(path string) error) {
		must(l.FuncWrap(mod, "[method]descriptor."+name, func(self, p, n, ret int32) {
			h.call(name + " " + str(p, n))
			if err := op(filepath.Join(f.handles[self].path, str(p, n))); err != nil {
				fail(ret, 1, err)
				return
			}
			h.data()[ret] = 0
		}))
	}
	pathOp("create-directory-at", func(p string) error { return os.Mkdir(p, 0o755) })
	pathOp("remove-directory-at", func(p string) error { return os.Remove(p) })
	pathOp("unlink-file-at", func(p string) error { return os.Remove(p) })
	must(l.FuncWrap(mod, "[method]descriptor.rename-at", func(self, p, n, newSelf, np, nn, ret int32) {
		h.call("rename-at")
		err := os.Rename(filepath.Join(f.handles[self].path, str(p, n)), filepath.Join(f.handles[newSelf].path, str(np, nn)))
		if err != nil {
			fail(ret, 1, err)
			return
		}
		h.data()[ret] = 0
	}))
	for _, name := range []string{"[resource-drop]descriptor", "[resource-drop]directory-entry-stream"} {
		must(l.FuncWrap(mod, name, func(handle int32) {
			h.call(name)
			if f.handles[handle] == nil {
				t.Errorf("%s of unknown handle %d", name, handle)
			}
			delete(f.handles, handle)
			f.dropped = append(f.dropped, handle)
		}))
	}
}

// Guest memory used by the file tests, above the scratch area.
const (
	pathBuf = 20000 // paths
	ioBuf   = 24000 // iovecs
	dataBuf = 25000 // data
	outBuf  = 40000 // results
)

// newFSAdapter returns an adapter with n preopened temporary directories.
func newFSAdapter(t *testing.T, n int) (*host, []string) {
	h := newAdapter(t)
	for range n {
		h.fs.preopens = append(h.fs.preopens, t.TempDir())
	}
	return h, h.fs.preopens
}

// path writes s at pathBuf and returns its address and length.
func (h *host) path(s string) (int32, int32) {
	copy(h.data()[pathBuf:], s)
	return pathBuf, int32(len(s))
}

// open opens path in directory fd with oflags, rights and fdflags; it
// returns the errno and the new fd.
func (h *host) open(dirfd int32, path string, oflags int32, rights int64, fdflags int32) (int32, int32) {
	p, n := h.path(path)
	e := h.fn("path_open", dirfd, int32(1), p, n, oflags, rights, int64(0x1fffffff), fdflags, int32(outBuf))
	return e, int32(h.u32(outBuf))
}

const (
	rightRead  = 2
	rightWrite = 64
	oCreat     = 1
	oDirectory = 2
	oExcl      = 4
	oTrunc     = 8
)

func (h *host) write(fd int32, parts ...string) (int32, uint32) {
	d := h.data()
	at := dataBuf
	for i, s := range parts {
		copy(d[at:], s)
		binary.LittleEndian.PutUint32(d[ioBuf+8*i:], uint32(at))
		binary.LittleEndian.PutUint32(d[ioBuf+8*i+4:], uint32(len(s)))
		at += len(s)
	}
	e := h.fn("fd_write", fd, int32(ioBuf), int32(len(parts)), int32(outBuf))
	return e, h.u32(outBuf)
}

// read reads into iovecs of the given sizes (consecutive at dataBuf).
func (h *host) read(fd int32, sizes ...int) (int32, string) {
	d := h.data()
	at := dataBuf
	for i, n := range sizes {
		binary.LittleEndian.PutUint32(d[ioBuf+8*i:], uint32(at))
		binary.LittleEndian.PutUint32(d[ioBuf+8*i+4:], uint32(n))
		clear(d[at : at+n])
		at += n
	}
	e := h.fn("fd_read", fd, int32(ioBuf), int32(len(sizes)), int32(outBuf))
	return e, string(d[dataBuf : dataBuf+int(h.u32(outBuf))])
}

func TestAdapterPreopens(t *testing.T) {
	h, _ := newFSAdapter(t, 2)
	for fd, want := range map[int32]string{3: "/p0", 4: "/p1"} {
		if e := h.fn("fd_prestat_get", fd, int32(outBuf)); e != 0 || h.u32(outBuf) != 0 || h.u32(outBuf+4) != uint32(len(want)) {
			t.Fatalf("fd_prestat_get(%d): errno %d, %d %d", fd, e, h.u32(outBuf), h.u32(outBuf+4))
		}
		h.fn("fd_prestat_dir_name", fd, int32(outBuf), int32(len(want)))
		if got := string(h.data()[outBuf : outBuf+len(want)]); got != want {
			t.Errorf("fd_prestat_dir_name(%d): %q", fd, got)
		}
	}
	if e := h.fn("fd_prestat_get", int32(5), int32(outBuf)); e != errnoBadf {
		t.Errorf("fd_prestat_get(5): %d", e)
	}
	if strings.Count(strings.Join(h.calls, ","), "get-directories") != 1 {
		t.Errorf("preopens are loaded once: %v", h.calls)
	}
	if e := h.fn("fd_fdstat_get", int32(3), int32(outBuf)); e != 0 || h.data()[outBuf] != 3 {
		t.Errorf("fd_fdstat_get(3): errno %d, filetype %d", e, h.data()[outBuf])
	}
}

func TestAdapterFileReadWrite(t *testing.T) {
	h, dirs := newFSAdapter(t, 1)
	e, fd := h.open(3, "a.txt", oCreat|oTrunc, rightRead|rightWrite, 0)
	if e != 0 || fd != 4 {
		t.Fatalf("path_open: errno %d, fd %d", e, fd)
	}
	if e, n := h.write(fd, "hello", " world"); e != 0 || n != 11 {
		t.Fatalf("fd_write: errno %d, %d", e, n)
	}
	if data, _ := os.ReadFile(filepath.Join(dirs[0], "a.txt")); string(data) != "hello world" {
		t.Fatalf("file: %q", data)
	}
	if e := h.fn("fd_seek", fd, int64(0), int32(0), int32(outBuf)); e != 0 || h.u64(outBuf) != 0 {
		t.Fatalf("fd_seek: %d %d", e, h.u64(outBuf))
	}
	// Two iovecs (consecutive here): the data lands in both, read straight
	// into them.
	if e, got := h.read(fd, 5, 100); e != 0 || got != "hello world" {
		t.Fatalf("fd_read: errno %d, %q", e, got)
	}
	if e, got := h.read(fd, 100); e != 0 || got != "" {
		t.Fatalf("fd_read at the end: errno %d, %q", e, got)
	}
	h.fn("fd_seek", fd, int64(6), int32(0), int32(outBuf))
	if e, got := h.read(fd, 3); e != 0 || got != "wor" {
		t.Fatalf("fd_read after a seek: errno %d, %q", e, got)
	}
	if e := h.fn("fd_tell", fd, int32(outBuf)); e != 0 || h.u64(outBuf) != 9 {
		t.Errorf("fd_tell: %d %d", e, h.u64(outBuf))
	}
	if e := h.fn("fd_seek", fd, int64(-5), int32(2), int32(outBuf)); e != 0 || h.u64(outBuf) != 6 {
		t.Errorf("fd_seek from the end: %d %d", e, h.u64(outBuf))
	}
	if e := h.fn("fd_seek", fd, int64(-100), int32(1), int32(outBuf)); e != errnoInval {
		t.Errorf("fd_seek before the start: %d", e)
	}
	// pread does not move the offset.
	binary.LittleEndian.PutUint32(h.data()[ioBuf:], dataBuf)
	binary.LittleEndian.PutUint32(h.data()[ioBuf+4:], 3)
	if e := h.fn("fd_pread", fd, int32(ioBuf), int32(1), int64(2), int32(outBuf)); e != 0 || string(h.data()[dataBuf:dataBuf+3]) != "llo" {
		t.Errorf("fd_pread: %d %q", e, h.data()[dataBuf:dataBuf+3])
	}
	if e := h.fn("fd_filestat_get", fd, int32(outBuf)); e != 0 || h.data()[outBuf+16] != 4 || h.u64(outBuf+32) != 11 || h.u64(outBuf+48) == 0 {
		t.Errorf("fd_filestat_get: errno %d, type %d, size %d, mtime %d", e, h.data()[outBuf+16], h.u64(outBuf+32), h.u64(outBuf+48))
	}
	if e := h.fn("fd_filestat_set_size", fd, int64(4)); e != 0 {
		t.Errorf("fd_filestat_set_size: %d", e)
	}
	if e := h.fn("fd_close", fd); e != 0 || len(h.fs.dropped) != 1 {
		t.Errorf("fd_close: %d, dropped %v", e, h.fs.dropped)
	}
	if e, _ := h.read(fd, 1); e != errnoBadf {
		t.Errorf("read after close: %d", e)
	}

	// Append: each write goes to the end.
	_, fd = h.open(3, "a.txt", 0, rightWrite, 1)
	h.write(fd, "!")
	h.write(fd, "?")
	if data, _ := os.ReadFile(filepath.Join(dirs[0], "a.txt")); string(data) != "hell!?" {
		t.Errorf("append: %q", data)
	}
	p, n := h.path("a.txt")
	if e := h.fn("path_filestat_get", int32(3), int32(1), p, n, int32(outBuf)); e != 0 || h.u64(outBuf+32) != 6 {
		t.Errorf("path_filestat_get: %d size %d", e, h.u64(outBuf+32))
	}

	// Errors of the host become errnos.
	if e, _ := h.open(3, "missing", 0, rightRead, 0); e != 44 {
		t.Errorf("a missing file: errno %d, want noent", e)
	}
	if e, _ := h.open(3, "a.txt", oCreat|oExcl, rightWrite, 0); e != 20 {
		t.Errorf("exclusive create of an existing file: errno %d, want exist", e)
	}
	if e, _ := h.open(1, "x", 0, rightRead, 0); e != errnoBadf {
		t.Errorf("open relative to stdout: %d", e)
	}
	if e, _ := h.open(9, "x", 0, rightRead, 0); e != errnoBadf {
		t.Errorf("open relative to a closed fd: %d", e)
	}
	if e, _ := h.open(fd, "x", 0, rightRead, 0); e != 54 {
		t.Errorf("open relative to a file: errno %d, want notdir", e)
	}
	// No call leaves in no-leave mode.
	h.setNoLeave(true)
	if e, _ := h.open(3, "a.txt", 0, rightRead, 0); e != 6 {
		t.Errorf("no-leave open: errno %d, want again", e)
	}
	if e, _ := h.write(fd, "x"); e != 6 {
		t.Errorf("no-leave write: errno %d", e)
	}
}

func TestAdapterDirectories(t *testing.T) {
	h, dirs := newFSAdapter(t, 1)
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("file-with-a-longish-name-%02d", i))
		os.WriteFile(filepath.Join(dirs[0], names[i]), nil, 0o644)
	}
	p, n := h.path("sub")
	if e := h.fn("path_create_directory", int32(3), p, n); e != 0 {
		t.Fatalf("path_create_directory: %d", e)
	}
	names = append(names, "sub")
	slices.Sort(names)
	e, fd := h.open(3, ".", oDirectory, rightRead|0x4000, 0)
	if e != 0 {
		t.Fatalf("open the directory: %d", e)
	}
	if e, _ := h.read(fd, 10); e != 31 {
		t.Errorf("fd_read of a directory: errno %d, want isdir", e)
	}
	// Read with a buffer that holds about two entries at a time, going on
	// from the last whole entry's d_next, as Go does.
	var got []string
	cookie := int64(0)
	for round := 0; round < 100; round++ {
		const size = 120
		if e := h.fn("fd_readdir", fd, int32(dataBuf), int32(size), cookie, int32(outBuf)); e != 0 {
			t.Fatalf("fd_readdir: %d", e)
		}
		used := int(h.u32(outBuf))
		d := h.data()[dataBuf : dataBuf+used]
		for len(d) >= 24 {
			namlen := int(binary.LittleEndian.Uint32(d[16:]))
			if len(d) < 24+namlen {
				break // cut: read again from cookie
			}
			got = append(got, string(d[24:24+namlen]))
			cookie = int64(binary.LittleEndian.Uint64(d))
			d = d[24+namlen:]
		}
		if used < size {
			break
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Errorf("fd_readdir:\n got  %q\n want %q", got, names)
	}
	p, n = h.path("sub")
	if e := h.fn("path_remove_directory", int32(3), p, n); e != 0 {
		t.Errorf("path_remove_directory: %d", e)
	}
	p, n = h.path(names[0])
	np, nn := int32(pathBuf+100), int32(len("renamed"))
	copy(h.data()[np:], "renamed")
	if e := h.fn("path_rename", int32(3), p, n, int32(3), np, nn); e != 0 {
		t.Errorf("path_rename: %d", e)
	}
	p, n = h.path("renamed")
	if e := h.fn("path_unlink_file", int32(3), p, n); e != 0 {
		t.Errorf("path_unlink_file: %d", e)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "renamed")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after unlink: %v", err)
	}
	if e := h.fn("fd_close", fd); e != 0 {
		t.Fatal(e)
	}
	// Every stream and the descriptor are dropped: only the preopen is left.
	if len(h.fs.handles) != 1 {
		t.Errorf("handles left: %v", h.fs.handles)
	}
}

// TestAdapterFDLimit: at most 64 descriptors; the next open fails with
// EMFILE without leaking the host's handle.
func TestAdapterFDLimit(t *testing.T) {
	h, dirs := newFSAdapter(t, 1)
	os.WriteFile(filepath.Join(dirs[0], "f"), nil, 0o644)
	for fd := int32(4); fd < 64; fd++ {
		if e, got := h.open(3, "f", 0, rightRead, 0); e != 0 || got != fd {
			t.Fatalf("open %d: errno %d, fd %d", fd, e, got)
		}
	}
	before := len(h.fs.handles)
	if e, _ := h.open(3, "f", 0, rightRead, 0); e != 33 {
		t.Errorf("open beyond 64 descriptors: errno %d, want mfile", e)
	}
	if len(h.fs.handles) != before {
		t.Errorf("a refused open left a host handle")
	}
	h.fn("fd_close", int32(10))
	if e, got := h.open(3, "f", 0, rightRead, 0); e != 0 || got != 10 {
		t.Errorf("open after a close: errno %d, fd %d", e, got)
	}
}
