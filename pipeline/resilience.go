package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/host"
)

// A long pipeline must survive its plugins: a plugin stage's instance that
// traps or hits a limit cannot be trusted again, and one whose guest heap
// only grows (the JavaScript example's does) ends up at max_memory. So
// each plugin stage instance runs its calls through a guard:
//
//   - after a fault (a trap, fuel, memory, the timeout, a malformed
//     answer) it restarts the stage on a fresh instance (the component is
//     opened again with the same config) and retries the batch once; a
//     batch that fails again is handed to the stage's error policy
//     (on_error) with its size;
//   - a stateless stage is recycled before it wears out: every
//     recycle_after calls, when the data it was given since it started
//     (its strings, plus itemCost per line or entry) reaches a quarter of
//     the plugin's max_memory (a proxy for the memory of a component,
//     which the host cannot read), and when its memory, where
//     the host can read it (legacy plugins), reaches three quarters of
//     max_memory.
//
// A plugin error (the component returned plugin-error) is the plugin's
// answer, not a fault: the instance is sound, nothing is retried.
//
// A plugin source is guarded only with resume = true, its promise that it
// keeps its position in the plugin's state: a call that fails commits
// nothing, so the fresh instance reads on from where the last call that
// succeeded left it. Only a trap or a limit is retried there, not a
// malformed answer: the host may find an answer malformed after the call
// committed (more entries than asked for), and a retry would then skip
// what the discarded answer held. A source is never recycled.

// pluginStage is what a guard needs of a host log stage.
type pluginStage interface {
	Restart(ctx context.Context) error
	MemorySize() (int64, bool)
	Plugin() *host.Plugin
}

// stageCounters are the live counts of one plugin stage, all its parallel
// instances together.
type stageCounters struct {
	key, what string
	restarts  atomic64 // instances replaced after a fault
	recycles  atomic64 // instances replaced before they wore out
	failed    atomic64 // batches that failed (after the retry, when there was one)
	lost      atomic64 // lines or entries of the failed batches that on_error = "skip" dropped
	warnOnce  sync.Once
}

// guard runs the calls of one instance of a plugin stage, from one
// goroutine.
type guard struct {
	st           pluginStage
	c            *stageCounters
	stateless    bool
	source       bool // a resumable source: only traps and limits are retried
	recycleAfter int
	maxBytes     int64 // input since the instance started before it is recycled
	maxMemory    int64 // memory of the instance before it is recycled
	warn         func(error)

	calls   int
	bytes   int64
	restart bool // the instance failed and could not be replaced yet
}

func newGuard(st pluginStage, c *stageCounters, s *Stage, warn func(error)) *guard {
	g := &guard{st: st, c: c, stateless: s.Stateless, recycleAfter: s.RecycleAfter, warn: warn}
	if g.recycleAfter <= 0 {
		g.recycleAfter = DefaultRecycleAfter
	}
	if m := st.Plugin().Limits().MaxMemory; m > 0 {
		g.maxBytes, g.maxMemory = m/4, m/4*3
	}
	return g
}

// faulty reports whether err means the instance cannot be trusted: the
// host discarded its state.
func faulty(err error) bool {
	switch host.KindOf(err) {
	case host.KindTrap, host.KindFuel, host.KindMemory, host.KindTimeout, host.KindBadOutput:
		return true
	}
	return false
}

// retriable reports whether a call that failed with err is retried on a
// fresh instance.
func (g *guard) retriable(err error) bool {
	if g.source && host.KindOf(err) == host.KindBadOutput {
		return false
	}
	return faulty(err)
}

// call runs f, one call of the stage with a batch of inBytes bytes, with
// the restarts and recycling described above. retried tells whether the
// error returned is the second failure of the batch.
func (g *guard) call(ctx context.Context, inBytes int64, f func() error) (retried bool, err error) {
	if err := g.prepare(ctx); err != nil {
		return false, err
	}
	err = f()
	if err == nil {
		g.calls++
		g.bytes += inBytes
		return false, nil
	}
	if !g.retriable(err) || ctx.Err() != nil {
		return false, err
	}
	first := err
	g.c.restarts.Add(1)
	if rerr := g.st.Restart(ctx); rerr != nil {
		g.restart = true
		return false, fmt.Errorf("%w (restarting the stage on a fresh instance failed: %v)", first, rerr)
	}
	g.calls, g.bytes = 0, 0
	if err = f(); err == nil {
		g.calls++
		g.bytes += inBytes
		retry := "the batch went through on the retry"
		if g.source {
			retry = "it read on from its position in the plugin state"
		}
		g.c.warnOnce.Do(func() {
			g.warn(&StageError{Stage: g.c.key, What: g.c.what, Err: fmt.Errorf(
				"restarted on a fresh instance after: %v; %s (later restarts are only counted in the stats)", first, retry)})
		})
		return false, nil
	}
	if faulty(err) {
		g.restart = true
	}
	return true, err
}

// prepare replaces the instance before a call when it failed earlier, or
// when a stateless one is due for recycling.
func (g *guard) prepare(ctx context.Context) error {
	switch {
	case g.restart:
		g.c.restarts.Add(1)
	case g.stateless && g.worn():
		g.c.recycles.Add(1)
	default:
		return nil
	}
	if err := g.st.Restart(ctx); err != nil {
		g.restart = true
		return err
	}
	g.restart, g.calls, g.bytes = false, 0, 0
	return nil
}

func (g *guard) worn() bool {
	if g.calls >= g.recycleAfter || (g.maxBytes > 0 && g.bytes >= g.maxBytes) {
		return true
	}
	if m, ok := g.st.MemorySize(); ok && g.maxMemory > 0 && m >= g.maxMemory {
		return true
	}
	return false
}

// BatchError is a batch a plugin stage failed on: how many lines or
// entries it held, and whether it failed again after the stage was
// restarted on a fresh instance and the batch retried.
type BatchError struct {
	N       int
	Unit    string // "lines", "entries"
	Retried bool
	Err     error
}

func (e *BatchError) Error() string {
	again := ""
	if e.Retried {
		again = " again after a restart on a fresh instance"
	}
	return fmt.Sprintf("a batch of %d %s failed%s: %v", e.N, e.Unit, again, e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// batchFailed applies the stage's error policy to a batch it failed on:
// with on_error = "skip" the batch is counted, reported and dropped (drop
// empties it) and the pipeline goes on; otherwise the error stops it.
func (rn *runner) batchFailed(c *stageCounters, policy string, n int, unit string, err error, drop func()) error {
	retried := false
	var re *retriedError
	if errors.As(err, &re) {
		retried, err = true, re.err
	}
	be := &BatchError{N: n, Unit: unit, Retried: retried, Err: err}
	c.failed.Add(1)
	if policy != "skip" || rn.work.Err() != nil {
		return rn.stageError(c.key, c.what, be)
	}
	c.lost.Add(uint64(n))
	rn.warn(&StageError{Stage: c.key, What: c.what, Err: fmt.Errorf("%w; dropped (on_error = \"skip\")", be)})
	drop()
	return nil
}

// retriedError marks the error of a batch's second attempt.
type retriedError struct{ err error }

func (e *retriedError) Error() string { return e.err.Error() }
func (e *retriedError) Unwrap() error { return e.err }

// guarded runs f through g and marks a second failure.
func guarded(ctx context.Context, g *guard, inBytes int64, f func() error) error {
	retried, err := g.call(ctx, inBytes, f)
	if err != nil && retried {
		return &retriedError{err}
	}
	return err
}

// itemCost is what one line or entry counts for in the data a stage was
// given, besides its strings: a guest keeps objects per item, not only
// bytes (the JavaScript example's heap grows by about 120 bytes per line).
const itemCost = 64

// linesBytes and entriesBytes are what a batch gives a stage, for
// recycling.
func linesBytes(lines []string) int64 {
	n := itemCost * len(lines)
	for _, l := range lines {
		n += len(l)
	}
	return int64(n)
}

func entriesBytes(es []logs.LogEntry) int64 {
	n := 0
	for i := range es {
		e := &es[i]
		n += itemCost + len(e.Message) + len(e.Source)
		if e.Level != nil {
			n += len(*e.Level)
		}
		for _, f := range e.Fields {
			n += len(f.F0) + len(f.F1)
		}
	}
	return int64(n)
}
