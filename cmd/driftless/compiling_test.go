package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/host"
)

// syncBuffer is a bytes.Buffer safe for the spinner's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The spinner is only for terminals in text mode.
func TestSlowStepsOnlyOnTerminals(t *testing.T) {
	for _, c := range []struct {
		name      string
		tty, json bool
		on        bool
	}{{"terminal", true, false, true}, {"pipe", false, false, false}, {"terminal, json", true, true, false}, {"pipe, json", false, true, false}} {
		t.Run(c.name, func(t *testing.T) {
			if on := slowSteps(&bytes.Buffer{}, c.tty, c.json) != nil; on != c.on {
				t.Errorf("spinner %t, want %t", on, c.on)
			}
		})
	}
}

// What the spinner draws: a redrawn line with the elapsed time, erased at
// the end; a compilation leaves a line saying how long it took.
func TestCompileSpinner(t *testing.T) {
	var out syncBuffer
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &compileSpinner{w: &out, every: 5 * time.Millisecond, now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(300 * time.Millisecond)
		return clock
	}}
	done := s.step(host.Step{Plugin: "js-plugin", Kind: host.StepCompile, Size: 12_500_000})
	time.Sleep(40 * time.Millisecond)
	done()
	got := out.String()
	if !strings.HasPrefix(got, "\r\x1b[K⠋ compiling js-plugin (11.9 MiB)... 300ms\r\x1b[K⠙ compiling js-plugin (11.9 MiB)... ") {
		t.Errorf("spinner starts %q", got)
	}
	if !regexp.MustCompile(`\r\x1b\[Kcompiled js-plugin \(11\.9 MiB\) in [0-9.]+s\n$`).MatchString(got) {
		t.Errorf("spinner ends %q", got)
	}

	out = syncBuffer{}
	done = s.step(host.Step{Plugin: "js-plugin", Kind: host.StepWaitCompile, Size: 2048})
	done()
	if got := out.String(); !strings.HasPrefix(got, "\r\x1b[K⠋ waiting for another process compiling js-plugin (2 KiB)... ") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("waiting: %q", got)
	}
}

// Through the CLI with a cold cache: a terminal sees the spinner and the
// time it took, JSON mode and pipes see nothing of it.
func TestCompilingShownOnTerminal(t *testing.T) {
	coldHome := func() string {
		home := t.TempDir()
		if err := os.MkdirAll(filepath.Join(home, "plugins"), 0o755); err != nil {
			t.Fatal(err)
		}
		put(t, home, "fixture", fixtureBytes(t))
		return home
	}
	// The binary's stderr is a pipe: nothing.
	r := runCLI(t, coldHome(), 0, "task", "run", "fixture.ok")
	if strings.Contains(r.stderr, "compil") {
		t.Errorf("progress on a pipe: %q", r.stderr)
	}
	// In process, with stderr taken for a terminal.
	old := stderrIsTerminal
	stderrIsTerminal = func(w io.Writer) bool { return true }
	defer func() { stderrIsTerminal = old }()
	for _, c := range []struct {
		args []string
		show bool
	}{
		{[]string{"task", "run", "fixture.ok"}, true},
		{[]string{"-o", "json", "task", "run", "fixture.ok"}, false},
		{[]string{"plugins", "install", ""}, true},
	} {
		home := coldHome()
		args := c.args
		if args[len(args)-1] == "" {
			args[len(args)-1] = writeFile(t, t.TempDir(), "fixture.wasm", string(fixtureBytes(t)))
			os.Remove(filepath.Join(home, "plugins", "fixture.wasm"))
		}
		var stdout, stderr syncBuffer
		if code := run(context.Background(), append([]string{"driftless", "--home", home}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
		}
		shown := regexp.MustCompile(`⠋ compiling fixture \([0-9]+ KiB\)\.\.\. .*\r\x1b\[Kcompiled fixture \([0-9]+ KiB\) in [0-9.]+m?s\n`).MatchString(stderr.String())
		if shown != c.show {
			t.Errorf("%v: progress shown %t, want %t: %q", args, shown, c.show, stderr.String())
		}
	}
}
