package host

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/bindings"

	"github.com/driftless-dev/driftless/internal/safetext"
)

// ErrorKind classifies a failure for people and programs (the CLI prints it
// in its JSON errors). The first five are the plugin-reported kinds of the
// WIT contract; the others are detected by the host.
type ErrorKind string

// Error kinds.
const (
	KindInvalidConfig ErrorKind = "invalid-config" // config does not match the schema
	KindInvalidInput  ErrorKind = "invalid-input"  // the plugin refused its input
	KindNotFound      ErrorKind = "not-found"      // no such plugin, task, collector, ...
	KindUnsupported   ErrorKind = "unsupported"    // e.g. check mode on a task without it
	KindFailed        ErrorKind = "failed"         // the plugin reported a failure

	KindTimeout   ErrorKind = "timeout"        // execution_timeout_secs exceeded
	KindCancelled ErrorKind = "cancelled"      // the caller's context ended
	KindFuel      ErrorKind = "fuel-exhausted" // fuel_limit used up
	KindMemory    ErrorKind = "memory-limit"   // max_memory reached
	KindTrap      ErrorKind = "trap"           // the plugin crashed (trap)
	KindBadOutput ErrorKind = "bad-output"     // the plugin returned something malformed
	KindLoad      ErrorKind = "load"           // the plugin file cannot be loaded
	KindBusy      ErrorKind = "busy"           // no instance became free in time

	KindState         ErrorKind = "state"          // the state database cannot be read or written
	KindStateConflict ErrorKind = "state-conflict" // a call's state commit conflicted with another's
)

// Error is a failure of a plugin or of the host running it. Its message
// names the plugin, the function and the limit or value at fault, e.g.
// "plugin evil: tasks.execute: execution timeout of 30s exceeded".
type Error struct {
	Plugin string    // plugin name
	Func   string    // what was running: "tasks.execute", "load", ...
	Kind   ErrorKind // classification
	Msg    string    // what went wrong, for people
	Err    error     // the underlying error, if any
}

func (e *Error) Error() string {
	s := "plugin " + safetext.Truncate(e.Plugin, maxNameEcho)
	if e.Func != "" {
		s += ": " + e.Func
	}
	return s + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) and friends work on kinds.
func (e *Error) Is(target error) bool {
	k, ok := target.(kindSentinel)
	return ok && ErrorKind(k) == e.Kind
}

type kindSentinel ErrorKind

func (k kindSentinel) Error() string { return string(k) }

// Sentinels matching the kind of an *Error with errors.Is.
var (
	ErrNotFound    error = kindSentinel(KindNotFound)
	ErrUnsupported error = kindSentinel(KindUnsupported)
	ErrTimeout     error = kindSentinel(KindTimeout)
	ErrFuel        error = kindSentinel(KindFuel)
	ErrMemory      error = kindSentinel(KindMemory)
	ErrTrap        error = kindSentinel(KindTrap)
)

// ErrLockMismatch is in the chain of the load error of an installed plugin
// whose bytes differ from its plugins.lock entry.
var ErrLockMismatch = errors.New("plugin file does not match plugins.lock")

// KindOf returns the kind of err: the kind of the *Error in its chain, or
// KindFailed.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return KindInvalidConfig
	}
	return KindFailed
}

// limitError turns an error from a call into the guest into a host *Error
// that names the limit at fault.
func limitError(plugin, fn string, l Limits, err error) *Error {
	e := &Error{Plugin: plugin, Func: fn, Err: err}
	var trapped *bindings.InstanceTrappedError
	var hp *bindings.HostPanicError
	var trap *bindings.Trap
	switch {
	case errors.Is(err, bindings.ErrTimeout):
		e.Kind, e.Msg = KindTimeout, fmt.Sprintf("execution timeout of %s exceeded", l.ExecutionTimeout)
	case errors.Is(err, context.Canceled):
		e.Kind, e.Msg = KindCancelled, "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind, e.Msg = KindCancelled, "caller's deadline exceeded"
	case errors.Is(err, bindings.ErrFuelExhausted):
		e.Kind, e.Msg = KindFuel, fmt.Sprintf("fuel limit of %d exhausted", l.FuelLimit)
	case errors.Is(err, bindings.ErrMemoryLimit):
		// wasmtime refuses to grow a memory past the cap (memory.grow
		// returns -1), so this is an instantiation whose memories need more
		// than the cap to begin with; wasmtime's message says how much.
		e.Kind, e.Msg = KindMemory, fmt.Sprintf("memory limit of %d bytes (max_memory) exceeded", l.MaxMemory)
		var be *bindings.Error
		if errors.As(err, &be) {
			e.Msg += ": " + be.Message
		}
	case errors.As(err, &hp):
		e.Kind, e.Msg = KindTrap, fmt.Sprintf("host function %s panicked: %v", hp.Func, hp.Value)
	case errors.As(err, &trapped):
		e.Kind, e.Msg = KindTrap, "instance unusable after an earlier trap"
	case errors.As(err, &trap):
		e.Kind, e.Msg = KindTrap, trapMessage(trap)
		if trap.Kind == bindings.TrapUnreachable {
			// A guest whose memory.grow was refused at max_memory usually
			// aborts with `unreachable`, but so does any guest panic: the
			// host cannot tell, so it says what the cap is without
			// claiming it was the cause.
			e.Msg += fmt.Sprintf(" (the plugin aborted; if it ran out of memory: max_memory is %d bytes)", l.MaxMemory)
		}
	default:
		e.Kind, e.Msg = KindFailed, err.Error()
	}
	return e
}

// trapMessage is the one-line description of a trap. wasmtime describes
// traps raised outside guest code (a canonical ABI check while lifting the
// arguments of a host function: a string out of bounds, invalid UTF-8) as
// "error while executing at wasm backtrace: <frames> Caused by: <reason>";
// only the reason is kept, the frames are in the *bindings.Trap.
func trapMessage(t *bindings.Trap) string {
	msg := t.Error()
	if i := strings.LastIndex(msg, "Caused by:"); i >= 0 {
		if reason := strings.Join(strings.Fields(msg[i+len("Caused by:"):]), " "); reason != "" {
			return "wasm trap: " + reason
		}
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}
