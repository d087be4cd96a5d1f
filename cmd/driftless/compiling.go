package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/host"
)

// compileSpinner shows the host's slow steps of loading (compiling a
// plugin that is not in the compile cache, waiting for another process
// compiling it) as one live line on stderr: a spinner, what is happening
// and for how long. When a compilation ends, the line becomes
// "compiled NAME (SIZE) in 9.4s"; a wait leaves nothing. It is only made
// for terminals and text output (slowSteps): pipes, files and JSON mode see
// nothing.
type compileSpinner struct {
	w     io.Writer
	every time.Duration // how often the line is redrawn
	now   func() time.Time
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// slowSteps returns the host's Options.Progress for the CLI: a spinner on
// stderr when it is a terminal and the output is text, else nil.
func slowSteps(stderr io.Writer, tty, json bool) func(host.Step) func() {
	if !tty || json {
		return nil
	}
	s := &compileSpinner{w: stderr, every: 100 * time.Millisecond, now: time.Now}
	return s.step
}

// stderrIsTerminal reports whether live lines may be drawn on w (a
// variable so that tests can pretend).
var stderrIsTerminal = func(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("TERM") != "dumb"
}

// step draws st until the returned function is called.
func (s *compileSpinner) step(st host.Step) func() {
	start := s.now()
	what := fmt.Sprintf("%s %s (%s)", st.Kind, st.Plugin, sizeText(int64(st.Size)))
	var mu sync.Mutex
	frame := 0
	draw := func() {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(s.w, "\r\x1b[K%s %s... %s", spinnerFrames[frame%len(spinnerFrames)], what, s.now().Sub(start).Round(100*time.Millisecond))
		frame++
	}
	draw()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(s.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				draw()
			}
		}
	}()
	return func() {
		close(stop)
		<-stopped
		io.WriteString(s.w, "\r\x1b[K")
		if st.Kind == host.StepCompile {
			fmt.Fprintf(s.w, "compiled %s (%s) in %s\n", st.Plugin, sizeText(int64(st.Size)), s.now().Sub(start).Round(100*time.Millisecond))
		}
	}
}

// sizeText is a short byte count: 11.9 MiB, 512 KiB, 300 bytes.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
