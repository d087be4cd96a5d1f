// Package safefile opens the files driftless reads and writes without
// trusting what they are. A path named x.wasm, plugins.toml or site.toml may
// be a named pipe (opening it blocks until someone writes to it), a device
// (/dev/zero never ends) or a directory: every open here checks the file's
// type without blocking, and every read is bounded in size, so that no such
// file can hang driftless or make it read for ever.
//
// Opening for reading uses O_NONBLOCK, which makes open(2) of a FIFO return
// at once instead of waiting for a writer, then fstat(2) on the open file
// (not a second lookup of the path, which could be swapped in between)
// decides; symbolic links are followed, as users link plugins and configs.
package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError is a path that is not a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string { return e.Path + " " + e.Reason() }

// Reason is the error without the path, for messages that name it already.
func (e *NotRegularError) Reason() string {
	return fmt.Sprintf("is %s, not a regular file", Describe(e.Mode))
}

// Describe names the type of a file mode for people: "a directory", "a
// named pipe (FIFO)", ...
func Describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}

// TooLargeError is a file or stream over a size limit.
type TooLargeError struct {
	Path string // the file, or what the stream is ("standard input")
	Size int64  // its size when known (a regular file); else -1
	Max  int64
}

func (e *TooLargeError) Error() string { return e.Path + " " + e.Reason() }

// Reason is the error without the path, for messages that name it already.
func (e *TooLargeError) Reason() string {
	if e.Size >= 0 {
		return fmt.Sprintf("is %d bytes, more than the limit of %d bytes", e.Size, e.Max)
	}
	return fmt.Sprintf("is more than the limit of %d bytes", e.Max)
}

// Reason returns why opening or reading a file failed, without its path:
// "is a directory, not a regular file", "is 2000000 bytes, more than the
// limit of 1048576 bytes", "no such file or directory", ...
func Reason(err error) string {
	var nr *NotRegularError
	var tl *TooLargeError
	var pe *fs.PathError
	switch {
	case errors.As(err, &nr):
		return nr.Reason()
	case errors.As(err, &tl):
		return tl.Reason()
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}

// Open opens the regular file at path for reading. It fails with a
// *NotRegularError for anything else, without blocking on a FIFO or
// reading from a device; errors are *fs.PathError or *NotRegularError.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) {
			// open(2) of a socket fails so; say what the path is.
			if st, serr := os.Stat(path); serr == nil {
				return nil, &NotRegularError{Path: path, Mode: st.Mode()}
			}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return f, nil
}

// Check fails when path is not a regular file (or cannot be opened),
// without blocking: for paths that something else will open later.
func Check(path string) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// ReadFile reads the regular file at path, refusing one of more than max
// bytes (a *TooLargeError) before reading it.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, &TooLargeError{Path: path, Size: st.Size(), Max: max}
	}
	// The file may grow while it is read: the limit holds whatever the
	// size said.
	return ReadAll(f, path, max)
}

// ReadAll reads r to its end, failing with a *TooLargeError naming what as
// soon as it has more than max bytes.
func ReadAll(r io.Reader, what string, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Path: what, Size: -1, Max: max}
	}
	return data, nil
}

// copyChunk is the most one read of Copy asks for.
const copyChunk = 256 << 10

// Copy copies src to dst until src ends, and fails with a *TooLargeError
// naming what as soon as more than max bytes came, or with ctx's error as
// soon as ctx ends. Reads run on a goroutine of their own, so that ending
// ctx stops the copy at once even while a read waits for input (a pipe or
// a terminal that sends nothing: a read of one cannot be interrupted); that
// read is abandoned. It returns the bytes written. On failure dst holds a
// partial copy: the caller removes it.
func Copy(ctx context.Context, dst io.Writer, src io.Reader, what string, max int64) (int64, error) {
	type chunk struct {
		b   []byte
		err error
	}
	chunks := make(chan chunk, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			buf := make([]byte, copyChunk)
			n, err := src.Read(buf)
			select {
			case chunks <- chunk{buf[:n], err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var n int64
	for {
		var c chunk
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case c = <-chunks:
		}
		if len(c.b) > 0 {
			if n+int64(len(c.b)) > max {
				return n, &TooLargeError{Path: what, Size: -1, Max: max}
			}
			w, werr := dst.Write(c.b)
			n += int64(w)
			if werr != nil {
				return n, werr
			}
			if w < len(c.b) {
				return n, io.ErrShortWrite
			}
		}
		if c.err == io.EOF {
			return n, nil
		}
		if c.err != nil {
			return n, c.err
		}
	}
}

// OpenWrite opens path for writing with flag (os.O_CREATE, os.O_TRUNC,
// os.O_APPEND, ...) and perm, refusing a named pipe, a socket or a
// directory without blocking (opening a FIFO for writing waits for a
// reader). Regular files and character devices such as /dev/null are
// accepted.
func OpenWrite(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if st, err := os.Stat(path); err == nil && !writable(st.Mode()) {
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	f, err := os.OpenFile(path, flag|os.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, perm)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) { // a FIFO without a reader, or a socket
			if st, serr := os.Stat(path); serr == nil {
				return nil, &NotRegularError{Path: path, Mode: st.Mode()}
			}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !writable(st.Mode()) {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return f, nil
}

// CheckWrite fails when path exists and OpenWrite would refuse it, without
// opening it: for checks before anything is written.
func CheckWrite(path string) error {
	if st, err := os.Stat(path); err == nil && !writable(st.Mode()) {
		return &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return nil
}

func writable(m fs.FileMode) bool {
	return m.IsRegular() || (m&fs.ModeCharDevice != 0)
}
