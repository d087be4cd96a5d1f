package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

// openPTY opens a pseudo-terminal pair: what the CLI writes to the
// terminal side is read from the controlling side.
func openPTY(t *testing.T) (ctl, term *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	unlock := int32(0)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ctl.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		ctl.Close()
		t.Fatalf("unlocking the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ctl.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		ctl.Close()
		t.Fatalf("numbering the pseudo-terminal: %v", e)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ctl.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close(); term.Close() })
	return ctl, term
}

// onTerminal runs driftless with stderr on a terminal (stdout captured
// apart) and returns what it drew there and what it printed.
func onTerminal(t *testing.T, home string, args ...string) (drawn, stdout string) {
	t.Helper()
	ctl, term := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home, "NO_COLOR=1", "TERM=xterm")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, term
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close() // the child holds it; reading ends when the child exits
	var screen bytes.Buffer
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(&screen, ctl)
		read <- err
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("driftless %s: %v\nstdout: %s\nterminal: %q", strings.Join(args, " "), err, out.String(), screen.String())
	}
	// Linux reports the end of a terminal whose last writer left as EIO.
	if err := <-read; err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	return screen.String(), out.String()
}

// TestTerminalProgress: on a real terminal, installing from a registry
// draws the download's progress bar and the compilation's live line on
// stderr, erases them, and leaves stdout as it is without a terminal.
func TestTerminalProgress(t *testing.T) {
	wasm := builtexample.Path(t, "rust-plugin")
	regDir := t.TempDir()
	home := newHome(t)
	// A cache of its own, empty: the install compiles (the tests' shared
	// cache may hold the plugin already).
	if err := os.Remove(filepath.Join(home, "cache")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+regDir+"'\nenabled = true\n")
	runCLI(t, home, 0, "plugins", "publish", wasm, "team/rust-plugin@1.0.0")

	drawn, stdout := onTerminal(t, home, "plugins", "install", "team/rust-plugin")
	for _, want := range []string{
		"\rdownloading rust-plugin 1.0.0: ", // the bar, redrawn in place
		" 100%\x1b[K",                       // always drawn at the end
		"\r\x1b[K",                          // and erased
		"compiling rust-plugin (",           // the compile step's live line
		"compiled rust-plugin (",            // and the line it leaves
	} {
		if !strings.Contains(drawn, want) {
			t.Errorf("the terminal shows no %q:\n%q", want, drawn)
		}
	}
	if strings.Contains(stdout, "\r") || strings.Contains(stdout, "\x1b") {
		t.Errorf("stdout holds terminal drawing: %q", stdout)
	}
	if !strings.Contains(stdout, "installed rust-plugin") {
		t.Errorf("stdout: %q", stdout)
	}

	// -o json draws nothing, even on a terminal.
	home2 := newHome(t)
	writeFile(t, home2, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+regDir+"'\nenabled = true\n")
	if drawn, _ := onTerminal(t, home2, "-o", "json", "plugins", "install", "team/rust-plugin"); drawn != "" {
		t.Errorf("-o json drew on the terminal: %q", drawn)
	}
}
