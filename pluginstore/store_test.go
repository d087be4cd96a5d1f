package pluginstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/safefile"
)

// endless is an io.Reader that never ends, counting what it gives.
type endless struct{ n atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	e.n.Add(int64(len(p)))
	return len(p), nil
}

// blocked is a reader whose reads wait forever, as a pipe that sends
// nothing.
type blocked struct{}

func (blocked) Read([]byte) (int, error) { select {} }

func TestFillBounds(t *testing.T) {
	ctx := context.Background()
	h := Open(t.TempDir())
	t.Run("endless source", func(t *testing.T) {
		s, _ := h.Stage("big")
		defer s.Discard()
		err := s.Fill(ctx, &endless{}, "standard input", 100_000, nil)
		var tl *safefile.TooLargeError
		if !errors.As(err, &tl) || tl.Max != 100_000 || tl.Path != "standard input" {
			t.Fatalf("err %v", err)
		}
		if s.Size() > 100_000 {
			t.Errorf("staged %d bytes", s.Size())
		}
	})
	t.Run("a read that waits ends with the context", func(t *testing.T) {
		s, _ := h.Stage("waiting")
		defer s.Discard()
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := s.Fill(cctx, blocked{}, "standard input", 1000, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("progress", func(t *testing.T) {
		s, _ := h.Stage("p")
		defer s.Discard()
		var last int64
		if err := s.Fill(ctx, bytes.NewReader(make([]byte, 200_000)), "x", 200_000, func(n int64) { last = n }); err != nil || last != 200_000 {
			t.Fatalf("err %v, last %d", err, last)
		}
	})
}

func TestStageCommit(t *testing.T) {
	ctx := context.Background()
	h := Open(t.TempDir())
	data := []byte("\x00asm\x01\x00\x00\x00 plugin bytes")
	sum := sha256.Sum256(data)

	s, err := h.Stage("hello")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(s.Path()) != "hello.wasm" || !strings.HasPrefix(s.Path(), h.PluginDir()) {
		t.Errorf("staged at %s", s.Path())
	}
	if err := s.Fill(ctx, bytes.NewReader(data), "hello.wasm", 1000, nil); err != nil {
		t.Fatal(err)
	}
	if s.SHA256() != hex.EncodeToString(sum[:]) || s.Size() != int64(len(data)) {
		t.Errorf("sha256 %s size %d", s.SHA256(), s.Size())
	}
	if err := s.Commit(false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(h.PluginPath("hello")); !bytes.Equal(got, data) {
		t.Errorf("installed %q", got)
	}
	onlyInstalled(t, h, "hello.wasm")

	// A second install of the same name without replace fails and leaves
	// the first; with replace it wins.
	s, _ = h.Stage("hello")
	if err := s.Fill(ctx, strings.NewReader("other"), "other", 1000, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("commit over an installed plugin: %v", err)
	}
	onlyInstalled(t, h, "hello.wasm")
	s, _ = h.Stage("hello")
	_ = s.Fill(ctx, strings.NewReader("other"), "other", 1000, nil)
	if err := s.Commit(true); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(h.PluginPath("hello")); string(got) != "other" {
		t.Errorf("replaced with %q", got)
	}

	// Over the bound: nothing installed, nothing left.
	s, _ = h.Stage("big")
	err = s.Fill(ctx, &endless{}, "big", 5000, nil)
	var tl *safefile.TooLargeError
	if !errors.As(err, &tl) || tl.Max != 5000 {
		t.Fatalf("fill: %v", err)
	}
	s.Discard()
	onlyInstalled(t, h, "hello.wasm")

	if err := h.Remove("hello"); err != nil {
		t.Fatal(err)
	}
	onlyInstalled(t, h)
}

func onlyInstalled(t *testing.T, h *Home, want ...string) {
	t.Helper()
	entries, _ := os.ReadDir(h.PluginDir())
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("plugins/ holds %v, want %v", got, want)
	}
}

func TestCleanStale(t *testing.T) {
	h := Open(t.TempDir())
	killed, err := h.Stage("killed")
	if err != nil {
		t.Fatal(err)
	}
	if err := killed.Fill(context.Background(), strings.NewReader("half"), "x", 100, nil); err != nil {
		t.Fatal(err)
	}
	// As a killed process leaves it: files closed, lock released.
	killed.f.Close()
	killed.lock.Close()
	running, err := h.Stage("running")
	if err != nil {
		t.Fatal(err)
	}
	defer running.Discard()
	if err := os.WriteFile(h.PluginPath("kept"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	left, err := h.Leftovers()
	if err != nil || len(left) != 1 || left[0].Path != filepath.Dir(killed.Path()) || left[0].Bytes != 4 {
		t.Fatalf("leftovers %v, %v", left, err)
	}
	removed, err := h.CleanStale()
	if err != nil || len(removed) != 1 || removed[0].Path != filepath.Dir(killed.Path()) {
		t.Fatalf("removed %v, %v", removed, err)
	}
	if _, err := os.Stat(filepath.Dir(running.Path())); err != nil {
		t.Errorf("the running install's directory was removed: %v", err)
	}
	running.Discard()
	onlyInstalled(t, h, "kept.wasm")
}

func TestLockWaits(t *testing.T) {
	h := Open(t.TempDir())
	ctx := context.Background()
	first, err := h.Lock(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	got := make(chan error, 1)
	go func() {
		l, err := h.Lock(ctx, func() { close(waited) })
		if err == nil {
			l.Unlock()
		}
		got <- err
	}()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("the second Lock did not wait")
	}
	select {
	case err := <-got:
		t.Fatalf("the second Lock returned while the first was held: %v", err)
	case <-time.After(3 * lockPoll):
	}
	first.Unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}

	// A waiting Lock ends with its context.
	first, _ = h.Lock(ctx, nil)
	defer first.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 3*lockPoll)
	defer cancel()
	if _, err := h.Lock(cctx, nil); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "another driftless is changing this home") {
		t.Fatalf("err %v", err)
	}
}
