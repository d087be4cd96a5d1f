package safefile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// specials makes one file of every type that must not be opened as a
// regular file, and returns their paths by name.
func specials(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.wasm")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.toml")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	link := filepath.Join(dir, "link.wasm")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"fifo":            fifo,
		"symlink to fifo": link,
		"socket":          sock,
		"directory":       dir,
		"device":          "/dev/zero",
	}
}

var wantKind = map[string]string{
	"fifo":            "is a named pipe (FIFO), not a regular file",
	"symlink to fifo": "is a named pipe (FIFO), not a regular file",
	"socket":          "is a socket, not a regular file",
	"directory":       "is a directory, not a regular file",
	"device":          "is a character device, not a regular file",
}

// within fails the test when f does not return in time (a blocking open of
// a FIFO would never return).
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("blocked: opening a special file must not wait")
		return nil
	}
}

func TestSpecialFilesAreRefusedWithoutBlocking(t *testing.T) {
	for name, path := range specials(t) {
		t.Run(name, func(t *testing.T) {
			for op, f := range map[string]func() error{
				"Open":     func() error { _, err := Open(path); return err },
				"ReadFile": func() error { _, err := ReadFile(path, 1<<20); return err },
				"Check":    func() error { return Check(path) },
			} {
				err := within(t, f)
				var nr *NotRegularError
				if !errors.As(err, &nr) {
					t.Fatalf("%s: got %v, want a *NotRegularError", op, err)
				}
				if want := path + " " + wantKind[name]; err.Error() != want {
					t.Errorf("%s: error %q, want %q", op, err, want)
				}
			}
		})
	}
}

func TestOpenWriteRefusesPipesSocketsAndDirectories(t *testing.T) {
	for name, path := range specials(t) {
		t.Run(name, func(t *testing.T) {
			err := within(t, func() error {
				f, err := OpenWrite(path, os.O_CREATE|os.O_APPEND, 0o644)
				if err == nil {
					f.Close()
				}
				return err
			})
			if name == "device" {
				if err != nil {
					t.Fatalf("a character device (/dev/null, /dev/zero) is a valid output: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), wantKind[name]) {
				t.Fatalf("got %v, want %q", err, wantKind[name])
			}
		})
	}
}

func TestReadFileBoundsTheSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.toml")
	if err := os.WriteFile(path, bytes.Repeat([]byte("a"), 101), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path, 100)
	if err == nil || err.Error() != path+" is 101 bytes, more than the limit of 100 bytes" {
		t.Fatalf("got %v", err)
	}
	data, err := ReadFile(path, 101)
	if err != nil || len(data) != 101 {
		t.Fatalf("got %d bytes, %v", len(data), err)
	}
}

func TestReadAllBoundsAStream(t *testing.T) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = ReadAll(f, "standard input", 1000)
	if err == nil || err.Error() != "standard input is more than the limit of 1000 bytes" {
		t.Fatalf("got %v", err)
	}
}

func TestCopyStopsAtTheLimit(t *testing.T) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out countingWriter
	n, err := Copy(context.Background(), &out, f, "/dev/zero", 1<<20)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Max != 1<<20 {
		t.Fatalf("got %v", err)
	}
	if n > 1<<20 || out.n > 1<<20 {
		t.Fatalf("wrote %d bytes past the limit", out.n)
	}
}

func TestCopyStopsWhenTheContextEnds(t *testing.T) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out countingWriter
	out.after, out.cancel = 4<<20, cancel
	_, err = Copy(ctx, &out, f, "/dev/zero", 1<<40)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if out.n > 5<<20 {
		t.Fatalf("copied %d bytes after the context ended", out.n)
	}
}

// A read that waits for ever (a pipe nobody writes to) does not keep Copy
// from ending with its context.
func TestCopyStopsWhileAReadWaits(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.Write([]byte("some bytes, then nothing"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { _, err := Copy(ctx, &out, r, "stdin", 1<<20); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Copy waited for the read after its context ended")
	}
}

func TestCopyCopiesEverythingUnderTheLimit(t *testing.T) {
	src := strings.Repeat("0123456789", 100_000)
	var out bytes.Buffer
	n, err := Copy(context.Background(), &out, strings.NewReader(src), "x", int64(len(src)))
	if err != nil || n != int64(len(src)) || out.String() != src {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

type countingWriter struct {
	n      int64
	after  int64
	cancel func()
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.cancel != nil && w.n >= w.after {
		w.cancel()
	}
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
