package main

// The logs command group: `logs run` and `logs validate` for the log
// pipelines of package pipeline (docs/pipeline.md).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safetext"
	"github.com/driftless-dev/driftless/pipeline"
)

func init() { commands = append(commands, logsCommand) }

// exitInterrupted is the exit code of a `logs run` stopped by SIGINT or
// SIGTERM after draining: 128 + SIGINT, as shells report it.
const exitInterrupted = 130

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:  "logs",
		Usage: "run log pipelines: sources → parser → filters → outputs (see docs/pipeline.md)",
		Subcommands: []*cli.Command{
			{
				Name:      "run",
				Usage:     "run a pipeline until its sources are exhausted; ctrl-C stops reading, drains and exits 130",
				ArgsUsage: "PIPELINE.toml",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "stats", Usage: "print lines in/out/dropped and lines per second on stderr at the end (and a progress line while it runs, when stderr is a terminal)"},
				},
				Action: logsRun,
			},
			{
				Name:      "validate",
				Usage:     "check a pipeline file: keys, plugins, components and their configs, input files",
				ArgsUsage: "PIPELINE.toml",
				Action:    logsValidate,
			},
		},
	}
}

// loadPipeline reads a pipeline file and loads the plugins it uses (only
// those); problems are configuration errors (exit 2) naming the file, line
// and key.
func loadPipeline(c *cli.Context) (*pipeline.Config, *host.Host, error) {
	if err := argCount(c, 1, 1); err != nil {
		return nil, nil, err
	}
	cfg, err := pipeline.LoadConfig(c.Args().First())
	if err != nil {
		return nil, nil, pipelineError(err)
	}
	a := appOf(c)
	stages := cfg.PluginStages()
	if len(stages) == 0 {
		return cfg, nil, nil
	}
	h, err := a.host()
	if err != nil {
		return nil, nil, err
	}
	for _, s := range stages {
		if _, err := a.plugin(c.Context, s.Plugin); err != nil {
			return nil, nil, pipelineError(cfg.Errorf(s.Key+".plugin", "%v", err))
		}
	}
	if err := cfg.Check(h); err != nil {
		return nil, nil, pipelineError(err)
	}
	return cfg, h, nil
}

// pipelineDir is where the relative paths of a pipeline file resolve: its
// own directory, as Vector and Ansible resolve a config's paths, so that
// it runs the same from anywhere.
func pipelineDir(cfg *pipeline.Config) string {
	dir, err := filepath.Abs(filepath.Dir(cfg.File))
	if err != nil {
		return ""
	}
	return dir
}

// pipelineError gives the errors of package pipeline their exit codes: a
// *pipeline.ConfigError is a configuration error (2); a *StageError is a
// failure (1), whatever kind of plugin error it wraps (a plugin reporting
// invalid-input while the pipeline runs fails the run: its kind, plugin and
// function stay in JSON errors).
func pipelineError(err error) error {
	var ce *pipeline.ConfigError
	if errors.As(err, &ce) {
		return &cliError{kind: "invalid-config", msg: ce.Error(), err: err}
	}
	var se *pipeline.StageError
	if errors.As(err, &se) {
		return stageFailure{se}
	}
	return err
}

// stageFailure is a stage that failed while the pipeline ran: exit 1.
type stageFailure struct{ *pipeline.StageError }

func (e stageFailure) Unwrap() error { return e.StageError }
func (stageFailure) ExitCode() int   { return exitFailed }

// interruptedError ends a `logs run` that SIGINT or SIGTERM stopped after
// it drained: its stats are printed, the exit code is 130.
type interruptedError struct{}

func (interruptedError) Error() string {
	return "interrupted: stopped reading and drained what was read"
}
func (interruptedError) ExitCode() int { return exitInterrupted }
func (interruptedError) Unwrap() error { return context.Canceled }

func logsRun(c *cli.Context) error {
	a := appOf(c)
	cfg, h, err := loadPipeline(c)
	if err != nil {
		return err
	}
	// The pipeline allocates per batch, not per line, but at hundreds of
	// thousands of lines a second the garbage collector still runs often
	// with the default GOGC: trade some memory for CPU unless the user
	// chose.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}

	// The first SIGINT/SIGTERM ends c.Context (main's signal context): the
	// sources stop and the pipeline drains. A second one aborts.
	abort, cancelAbort := context.WithCancel(context.Background())
	defer cancelAbort()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for {
			select {
			case <-sigs:
				if n++; n == 2 {
					fmt.Fprintln(a.stderr, "driftless: second interrupt: aborting")
					cancelAbort()
					return
				}
			case <-abort.Done():
				return
			}
		}
	}()

	showStats := c.Bool("stats")
	opts := pipeline.Options{Stdout: a.stdout, Stderr: a.stderr, Abort: abort, Dir: pipelineDir(cfg)}
	if isTerminal(a.stdout) {
		// Records shown on a terminal: escaped, as the terminal would obey
		// the control characters of a log line.
		w := &terminalWriter{w: safetext.Writer{W: a.stdout}}
		opts.Stdout = w
		defer w.flush()
	}
	var progress *progressLine
	if showStats && isTerminal(a.stderr) {
		progress = &progressLine{w: a.stderr}
		opts.Progress = progress.update
	}
	// What the pipeline survived (a batch dropped, a stage restarted) is
	// said on stderr as it happens, over the progress line if there is one.
	opts.Warn = func(err error) {
		erase := ""
		if progress != nil {
			erase = "\r\x1b[K"
		}
		fmt.Fprintf(a.stderr, "%swarning: %s\n", erase, safetext.Block(err.Error())) // quotes plugins
	}
	st, runErr := pipeline.Run(c.Context, h, cfg, opts)
	if progress != nil {
		progress.clear()
	}
	if errors.Is(runErr, pipeline.ErrAborted) {
		runErr = &reported{err: interruptedError{}}
	}
	if runErr != nil && !st.Interrupted {
		// No stats line: the error that stopped the run is what to read.
		err := pipelineError(runErr)
		if a.json && cfg.WritesStdout() && st.Duration > 0 {
			// The pipeline ran (its stages opened) and stdout holds
			// records: the error document goes to stderr, like the stats
			// would. Errors found before it ran go to stdout as usual.
			if _, done := errorsAs[*reported](err); !done {
				writeJSON(a.stderr, map[string]any{"error": errorDoc(err)})
			}
			return &reported{err: err}
		}
		return err
	}
	if a.json {
		// The stats are the command's JSON result: on stdout, unless an
		// output writes its records there (then stderr, as the last line).
		w := a.stdout
		if cfg.WritesStdout() {
			w = a.stderr
		}
		if err := writeJSON(w, map[string]any{"pipeline": cfg.File, "stats": st}); err != nil {
			return err
		}
	} else if showStats {
		writeStats(a.stderr, st)
	}
	if st.Interrupted {
		if !a.json {
			fmt.Fprintln(a.stderr, "driftless: interrupted: stopped reading and drained what was read")
		}
		return &reported{err: interruptedError{}}
	}
	return nil
}

// writeStats prints the stats for people.
func writeStats(w io.Writer, st pipeline.Stats) {
	var b strings.Builder
	b.WriteString("stats: " + st.Summary() + "\n")
	for _, f := range st.Filters {
		fmt.Fprintf(&b, "  %s (%s): %d dropped\n", f.Stage, f.What, f.Dropped)
	}
	for _, o := range st.Outputs {
		fmt.Fprintf(&b, "  %s (%s): %d records, %d bytes\n", o.Stage, o.What, o.Records, o.Bytes)
	}
	for _, p := range st.PluginStages {
		var parts []string
		if p.Recycles > 0 {
			parts = append(parts, fmt.Sprintf("%d recycled", p.Recycles))
		}
		if p.Restarts > 0 {
			parts = append(parts, fmt.Sprintf("%d restarted after a failure", p.Restarts))
		}
		if p.FailedBatches > 0 {
			parts = append(parts, fmt.Sprintf("%d failed batches, %d lost", p.FailedBatches, p.Lost))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "  %s (%s): %s\n", p.Stage, p.What, strings.Join(parts, ", "))
		}
	}
	io.WriteString(w, b.String())
}

// progressLine keeps one line of live counts on a terminal.
type progressLine struct {
	w    io.Writer
	last time.Time
	prev uint64
}

func (p *progressLine) update(st pipeline.Stats) {
	now := time.Now()
	rate := st.LinesPerSecond
	if !p.last.IsZero() {
		rate = float64(st.LinesIn-p.prev) / now.Sub(p.last).Seconds()
	}
	p.last, p.prev = now, st.LinesIn
	fmt.Fprintf(p.w, "\r\x1b[K%d lines in, %d out, %d dropped, %.0f lines/s", st.LinesIn, st.LinesOut, st.Dropped, rate)
}

func (p *progressLine) clear() {
	if !p.last.IsZero() {
		io.WriteString(p.w, "\r\x1b[K")
	}
}

// terminalWriter escapes what the pipeline's outputs write to a terminal.
type terminalWriter struct {
	mu sync.Mutex
	w  safetext.Writer
}

func (t *terminalWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.w.Write(p)
}

func (t *terminalWriter) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w.Flush()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func logsValidate(c *cli.Context) error {
	a := appOf(c)
	cfg, h, err := loadPipeline(c)
	if err != nil {
		return err
	}
	if err := pipeline.Validate(c.Context, h, cfg, pipeline.Options{Dir: pipelineDir(cfg)}); err != nil {
		return pipelineError(err)
	}
	parser := "plain (default)"
	if p := cfg.Parser; p != nil {
		parser = describeStage(p.Stage)
	}
	doc := map[string]any{
		"pipeline": cfg.File,
		"valid":    true,
		"sources":  len(cfg.Sources),
		"parser":   parser,
		"filters":  len(cfg.Filters),
		"outputs":  len(cfg.Outputs),
		"plugins":  nonNil(cfg.Plugins()),
	}
	return a.emit(doc, func(w io.Writer) {
		fmt.Fprintf(w, "%s: ok: %d source(s), parser %s, %d filter(s), %d output(s)\n",
			cfg.File, len(cfg.Sources), parser, len(cfg.Filters), len(cfg.Outputs))
	})
}

func describeStage(s pipeline.Stage) string {
	if s.IsPlugin() {
		return s.Plugin + "/" + s.Name
	}
	return s.Type
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
