package host

import (
	"context"
	"fmt"
	"sync"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
)

// MaxBatch bounds the entries or lines of one call into a log stage.
const MaxBatch = 65536

// LogSource produces log entries from a plugin source. Like every log
// stage it keeps one instance of its plugin (until Restart), is for one
// goroutine at a time, and must be closed.
type LogSource struct {
	stage[sourceStage]
}

// LogParser turns raw lines into entries with a plugin parser.
type LogParser struct {
	stage[parserStage]
}

// LogFilter decides which entries go on with a plugin filter.
type LogFilter struct {
	stage[filterStage]
}

// LogOutput renders entries with a plugin output.
type LogOutput struct {
	stage[outputStage]
}

type stage[S interface{ close(context.Context) error }] struct {
	p      *Plugin
	name   string
	fn     string
	s      S
	reopen func(context.Context) (S, error) // opens the component again, same config
	once   sync.Once
	closed bool
	// lost is why a Restart could not open the component again: the stage
	// has no instance.
	lost error
}

// Plugin returns the plugin the stage belongs to.
func (s *stage[S]) Plugin() *Plugin { return s.p }

// Name returns the log component's name.
func (s *stage[S]) Name() string { return s.name }

// Close drops the plugin's resource and frees the stage's instance.
func (s *stage[S]) Close(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.closed = true
		if s.lost == nil {
			err = s.p.callError(s.fn+".drop", s.s.close(ctx))
		}
	})
	return err
}

// Restart replaces the stage's instance with a fresh one and opens the
// component again with the same name and config: what a pipeline does
// after a call trapped or hit a limit (the instance cannot be trusted
// again), and to recycle an instance whose memory grows. Whatever state
// the component kept is lost. The old resource is dropped when its
// instance is still sound. When the component cannot be opened again, the
// stage's calls fail with that error until a Restart succeeds.
func (s *stage[S]) Restart(ctx context.Context) error {
	if s.closed {
		return s.usable("restart")
	}
	if s.lost == nil {
		_ = s.s.close(ctx)
	}
	st, err := s.reopen(ctx)
	if err != nil {
		s.lost = err
		return err
	}
	s.s, s.lost = st, nil
	return nil
}

// MemorySize returns the size in bytes of the linear memory of the
// stage's instance, and whether the host can tell: it can for legacy
// plugins (core modules), not for components, whose memories wasmtime's C
// API does not expose.
func (s *stage[S]) MemorySize() (int64, bool) {
	if m, ok := any(s.s).(interface{ memorySize() (int64, bool) }); ok && s.lost == nil && !s.closed {
		return m.memorySize()
	}
	return 0, false
}

// usable fails calls into a closed stage (its instance is gone), or one
// whose Restart failed.
func (s *stage[S]) usable(fn string) error {
	if s.closed {
		return &Error{Plugin: s.p.name, Func: s.fn + "." + fn, Kind: KindFailed, Msg: "log stage is closed"}
	}
	if s.lost != nil {
		return &Error{Plugin: s.p.name, Func: s.fn + "." + fn, Kind: KindOf(s.lost),
			Msg: "log stage could not be restarted: " + s.lost.Error(), Err: s.lost}
	}
	return nil
}

func (s *stage[S]) badOutput(format string, args ...any) error {
	return &Error{Plugin: s.p.name, Func: s.fn, Kind: KindBadOutput, Msg: fmt.Sprintf(format, args...)}
}

// openStage validates the component's name, kind and config, then opens it.
func openStage[S any](ctx context.Context, p *Plugin, fn, name string, kind logs.ComponentKind, config string,
	open func(ctx context.Context, name, config string) (S, error)) (S, error) {
	var zero S
	if err := p.usable(); err != nil {
		return zero, err
	}
	if p.unloaded.Load() {
		return zero, &Error{Plugin: p.name, Func: fn, Kind: errPoolClosed.Kind, Msg: errPoolClosed.Msg}
	}
	def, err := p.LogComponent(name)
	if err != nil {
		return zero, err
	}
	if def.Kind != kind {
		return zero, &Error{Plugin: p.name, Func: fn, Kind: KindNotFound,
			Msg: fmt.Sprintf("log component %q is a %s, not a %s", name, def.Kind, kind)}
	}
	if config, err = p.checkConfig(fn, "log", name, config); err != nil {
		return zero, err
	}
	defer p.log.flush(ctx)
	st, err := open(ctx, name, config)
	if err != nil {
		return zero, p.callError(fn, err)
	}
	return st, nil
}

// OpenSource opens the named log source with its config.
func (p *Plugin) OpenSource(ctx context.Context, name, config string) (*LogSource, error) {
	const fn = "logs.open-source"
	open := func(ctx context.Context) (sourceStage, error) {
		return openStage(ctx, p, fn, name, logs.ComponentKindSource, config, func(ctx context.Context, n, c string) (sourceStage, error) {
			return p.rt.openSource(ctx, n, c)
		})
	}
	st, err := open(ctx)
	if err != nil {
		return nil, err
	}
	return &LogSource{stage[sourceStage]{p: p, name: name, fn: "logs.source", s: st, reopen: open}}, nil
}

// OpenParser opens the named log parser with its config.
func (p *Plugin) OpenParser(ctx context.Context, name, config string) (*LogParser, error) {
	const fn = "logs.open-parser"
	open := func(ctx context.Context) (parserStage, error) {
		return openStage(ctx, p, fn, name, logs.ComponentKindParser, config, func(ctx context.Context, n, c string) (parserStage, error) {
			return p.rt.openParser(ctx, n, c)
		})
	}
	st, err := open(ctx)
	if err != nil {
		return nil, err
	}
	return &LogParser{stage[parserStage]{p: p, name: name, fn: "logs.parser", s: st, reopen: open}}, nil
}

// OpenFilter opens the named log filter with its config.
func (p *Plugin) OpenFilter(ctx context.Context, name, config string) (*LogFilter, error) {
	const fn = "logs.open-filter"
	open := func(ctx context.Context) (filterStage, error) {
		return openStage(ctx, p, fn, name, logs.ComponentKindFilter, config, func(ctx context.Context, n, c string) (filterStage, error) {
			return p.rt.openFilter(ctx, n, c)
		})
	}
	st, err := open(ctx)
	if err != nil {
		return nil, err
	}
	return &LogFilter{stage[filterStage]{p: p, name: name, fn: "logs.filter", s: st, reopen: open}}, nil
}

// OpenOutput opens the named log output with its config.
func (p *Plugin) OpenOutput(ctx context.Context, name, config string) (*LogOutput, error) {
	const fn = "logs.open-output"
	open := func(ctx context.Context) (outputStage, error) {
		return openStage(ctx, p, fn, name, logs.ComponentKindOutput, config, func(ctx context.Context, n, c string) (outputStage, error) {
			return p.rt.openOutput(ctx, n, c)
		})
	}
	st, err := open(ctx)
	if err != nil {
		return nil, err
	}
	return &LogOutput{stage[outputStage]{p: p, name: name, fn: "logs.output", s: st, reopen: open}}, nil
}

// Next returns up to max entries; an empty result means the source is
// exhausted.
func (s *LogSource) Next(ctx context.Context, max int) ([]logs.LogEntry, error) {
	if err := s.usable("next"); err != nil {
		return nil, err
	}
	if max <= 0 || max > MaxBatch {
		return nil, fmt.Errorf("host: LogSource.Next: max %d is out of range 1..%d", max, MaxBatch)
	}
	defer s.p.log.flush(ctx)
	out, err := s.s.next(ctx, uint32(max))
	if err != nil {
		return nil, s.p.callError(s.fn+".next", err)
	}
	if len(out) > max {
		return nil, s.badOutput("returned %d entries, more than the %d asked for", len(out), max)
	}
	return out, nil
}

// Parse parses lines; the result has one element per line, nil where the
// parser dropped the line.
func (s *LogParser) Parse(ctx context.Context, lines []string) ([]*logs.LogEntry, error) {
	if err := s.usable("parse"); err != nil {
		return nil, err
	}
	if len(lines) > MaxBatch {
		return nil, fmt.Errorf("host: LogParser.Parse: %d lines, more than %d", len(lines), MaxBatch)
	}
	defer s.p.log.flush(ctx)
	out, err := s.s.parse(ctx, lines)
	if err != nil {
		return nil, s.p.callError(s.fn+".parse", err)
	}
	if len(out) != len(lines) {
		return nil, s.badOutput("returned %d results for %d lines", len(out), len(lines))
	}
	return out, nil
}

// Keep returns one decision per entry, in order.
func (s *LogFilter) Keep(ctx context.Context, entries []logs.LogEntry) ([]bool, error) {
	if err := s.usable("keep"); err != nil {
		return nil, err
	}
	if len(entries) > MaxBatch {
		return nil, fmt.Errorf("host: LogFilter.Keep: %d entries, more than %d", len(entries), MaxBatch)
	}
	defer s.p.log.flush(ctx)
	out, err := s.s.keep(ctx, entries)
	if err != nil {
		return nil, s.p.callError(s.fn+".keep", err)
	}
	if len(out) != len(entries) {
		return nil, s.badOutput("returned %d decisions for %d entries", len(out), len(entries))
	}
	return out, nil
}

// Write renders entries; the host delivers the returned records.
func (s *LogOutput) Write(ctx context.Context, entries []logs.LogEntry) ([]string, error) {
	if err := s.usable("write"); err != nil {
		return nil, err
	}
	if len(entries) > MaxBatch {
		return nil, fmt.Errorf("host: LogOutput.Write: %d entries, more than %d", len(entries), MaxBatch)
	}
	defer s.p.log.flush(ctx)
	out, err := s.s.write(ctx, entries)
	if err != nil {
		return nil, s.p.callError(s.fn+".write", err)
	}
	total := 0
	for _, r := range out {
		total += len(r)
	}
	if total > maxResultSize {
		return nil, s.badOutput("rendered %d bytes, over the host's limit of %d bytes", total, maxResultSize)
	}
	return out, nil
}
