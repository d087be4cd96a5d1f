package templating

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/driftless-dev/driftless/host"
)

// Limits bound one render. A template that reaches one fails with an
// *Error naming the file, the line and the limit (Error.Limit); the
// process never does: Go cannot recover from a stack overflow or a failed
// allocation, so every recursion and every allocation a template controls
// is bounded before it happens.
type Limits struct {
	// MaxDepth bounds nesting: blocks within blocks, and brackets and
	// operators within one expression, when parsing; macro calls,
	// includes, extends, imports, recursive loops and blocks within each
	// other when rendering (a macro that calls itself, a template that
	// includes itself). 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxOutput bounds, in bytes, the rendered text and every string
	// built while rendering (a macro's output, 'x' * n, a join, a value
	// printed). 0 means DefaultMaxOutput.
	MaxOutput int64
	// Timeout bounds the wall time of one render; loops stop at it, and
	// when the context of the render ends (ctrl-C). 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// Defaults of Limits, and what cannot be configured.
const (
	DefaultMaxDepth  = 200
	DefaultMaxOutput = 16 << 20
	DefaultTimeout   = 30 * time.Second

	// MaxRange is the most items range() makes (as in Jinja2's sandbox):
	// a for loop holds all its items in memory before the first turn.
	MaxRange = 100_000
	// maxValueDepth bounds how deeply a value built by a template (a list
	// appended to itself) may nest before printing it is refused.
	maxValueDepth = 1000
)

// Names of the limits in errors, as plugins.toml's [templates] names them.
const (
	LimitDepth   = "max_depth"
	LimitOutput  = "max_output"
	LimitTimeout = "timeout_secs"
	LimitRange   = "range"
)

// DefaultLimits returns the limits used when none are set.
func DefaultLimits() Limits {
	return Limits{MaxDepth: DefaultMaxDepth, MaxOutput: DefaultMaxOutput, Timeout: DefaultTimeout}
}

// LimitsOf returns the limits plugins.toml's [templates] section sets.
func LimitsOf(c *host.Config) Limits {
	var l Limits
	if c == nil {
		return l.withDefaults()
	}
	t := c.Templates
	if t.MaxDepth != nil {
		l.MaxDepth = int(*t.MaxDepth)
	}
	if t.MaxOutput != nil {
		l.MaxOutput = *t.MaxOutput
	}
	if t.TimeoutSecs != nil {
		l.Timeout = time.Duration(*t.TimeoutSecs * float64(time.Second))
	}
	return l.withDefaults()
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = d.MaxOutput
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// WithLimits returns a copy of e that renders under l (zero fields take
// the defaults).
func (e *Env) WithLimits(l Limits) *Env {
	c := *e
	c.limits = l.withDefaults()
	return &c
}

// WithDir returns a copy of e whose RenderString resolves {% include %},
// {% import %} and {% extends %} relative to dir (a playbook's templates
// resolve against the playbook's directory).
func (e *Env) WithDir(dir string) *Env {
	c := *e
	c.dir = dir
	return &c
}

// Limits returns the limits e renders under.
func (e *Env) Limits() Limits { return e.limits.withDefaults() }

// limitError is a limit reached while parsing or rendering.
type limitError struct {
	limit string // LimitDepth, ...
	file  string // the template's identifier
	line  int
	msg   string
	err   error // context.Canceled when interrupted
}

func (e *limitError) Error() string { return e.msg }
func (e *limitError) Unwrap() error { return e.err }

// render state kept by call (see templating.go) for the limits.
type bounds struct {
	lim        Limits
	rootID     string // the identifier of the template being rendered
	name       string // its name in errors
	depth      int    // guards entered and not left
	parseDepth int    // control structures being parsed
	seen       map[any]bool

	lmu   sync.Mutex
	limit *limitError // the first limit reached

	last *exec.Value // the result of the last bounded operator
}

// hit records the first limit reached and returns it.
func (c *call) hit(e *limitError) *limitError {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	if c.limit == nil {
		c.limit = e
	}
	return c.limit
}

func (c *call) reached() *limitError {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return c.limit
}

// tick fails when the render ran out of time or its context ended. It is
// called at every node a guard renders, every filter, function, method and
// bounded operator, and every write: a template spends its time in those.
func (c *call) tick(file string, line int) error {
	if c.ctx.Err() == nil {
		return nil
	}
	return c.stopped(file, line)
}

// stopped is the error of a render whose context ended.
func (c *call) stopped(file string, line int) *limitError {
	if errors.Is(context.Cause(c.ctx), errTimeLimit) {
		return c.hit(&limitError{limit: LimitTimeout, file: file, line: line, msg: fmt.Sprintf(
			"template limit timeout_secs (%s) reached: rendering took longer than %s", secs(c.lim.Timeout), c.lim.Timeout)})
	}
	return c.hit(&limitError{limit: "", file: file, line: line, msg: "rendering interrupted", err: context.Canceled})
}

// errTimeLimit is the cause of the render context when Timeout ends it.
var errTimeLimit = errors.New("template time limit")

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// enter counts one more level of nesting; leave undoes it.
func (c *call) enter(file string, line int) error {
	c.depth++
	if c.depth > c.lim.MaxDepth {
		return c.hit(&limitError{limit: LimitDepth, file: file, line: line, msg: fmt.Sprintf(
			"template limit max_depth (%d) reached: macro calls, includes, blocks and loops nested more than %d deep "+
				"(a macro that calls itself, or a template that includes itself?)", c.lim.MaxDepth, c.lim.MaxDepth)})
	}
	return c.tick(file, line)
}

func (c *call) leave() { c.depth-- }

// tooBig is the error of a value or output over MaxOutput.
func (c *call) tooBig(file string, line int, what string) *limitError {
	return c.hit(&limitError{limit: LimitOutput, file: file, line: line, msg: fmt.Sprintf(
		"template limit max_output (%d bytes) reached: %s would be more than %d bytes", c.lim.MaxOutput, what, c.lim.MaxOutput)})
}

// buffered returns how many bytes w holds, for the writers gonja renders
// macros, blocks and {% set %} bodies into, or -1.
func buffered(w any) int64 {
	switch b := w.(type) {
	case *strings.Builder:
		return int64(b.Len())
	case interface{ Len() int }:
		return int64(b.Len())
	}
	return -1
}

// boundedWriter receives the rendered text, at most MaxOutput bytes.
type boundedWriter struct {
	c   *call
	buf strings.Builder
}

func (w *boundedWriter) WriteString(s string) (int, error) {
	if err := w.c.tick(w.c.rootID, 0); err != nil {
		return 0, err
	}
	if int64(w.buf.Len())+int64(len(s)) > w.c.lim.MaxOutput {
		return 0, w.c.tooBig(w.c.rootID, 0, "the output")
	}
	return w.buf.WriteString(s)
}

func (w *boundedWriter) Write(p []byte) (int, error) { return w.WriteString(string(p)) }

func (w *boundedWriter) Len() int { return w.buf.Len() }

var (
	valueType = reflect.TypeFor[*exec.Value]()
	dictType  = reflect.TypeFor[*exec.Dict]()
)

// textSize estimates how many bytes v takes as text (printed, joined,
// converted to JSON), giving up (-1) once it passes budget, or (-2) when v
// nests deeper than maxValueDepth: a list can hold the same large string
// many times, or itself, for the price of a pointer each, so the text
// must be measured before it is built. Strings in containers count their
// quotes.
func textSize(v *exec.Value, budget int64) int64 {
	if v == nil {
		return 4
	}
	n := budget
	if !sizeOf(v.Val, 0, &n, false) {
		if n >= 0 {
			return -2
		}
		return -1
	}
	return budget - n
}

// tooLarge is the error of a value textSize refused.
func (c *call) tooLarge(size int64, file string, line int, what string) *limitError {
	if size == -2 {
		return c.hit(&limitError{limit: LimitDepth, file: file, line: line, msg: fmt.Sprintf(
			"template limit max_depth reached: %s nests more than %d levels deep", what, maxValueDepth)})
	}
	return c.tooBig(file, line, what)
}

func sizeOf(rv reflect.Value, depth int, left *int64, nested bool) bool {
	if depth > maxValueDepth {
		return false
	}
	add := func(k int64) bool {
		*left -= k
		return *left >= 0
	}
	if !rv.IsValid() {
		return add(4)
	}
	switch rv.Kind() {
	case reflect.String:
		if nested {
			return add(int64(rv.Len()) + 2)
		}
		return add(int64(rv.Len()))
	case reflect.Interface:
		if rv.IsNil() {
			return add(4)
		}
		return sizeOf(rv.Elem(), depth, left, nested)
	case reflect.Pointer:
		if rv.IsNil() {
			return add(4)
		}
		switch rv.Type() {
		case valueType:
			return sizeOf(rv.Interface().(*exec.Value).Val, depth, left, nested)
		case dictType:
			d := rv.Interface().(*exec.Dict)
			if !add(2) {
				return false
			}
			for _, p := range d.Pairs {
				if !add(4) || !sizeOf(reflect.ValueOf(p.Key), depth+1, left, true) || !sizeOf(reflect.ValueOf(p.Value), depth+1, left, true) {
					return false
				}
			}
			return true
		}
		return sizeOf(rv.Elem(), depth+1, left, nested)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return add(int64(rv.Len()))
		}
		if !add(2) {
			return false
		}
		for i := 0; i < rv.Len(); i++ {
			if !add(2) || !sizeOf(rv.Index(i), depth+1, left, true) {
				return false
			}
		}
		return true
	case reflect.Map:
		if !add(2) {
			return false
		}
		it := rv.MapRange()
		for it.Next() {
			if !add(4) || !sizeOf(it.Key(), depth+1, left, true) || !sizeOf(it.Value(), depth+1, left, true) {
				return false
			}
		}
		return true
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return add(32)
	case reflect.Struct:
		return add(64)
	}
	return add(24) // numbers, booleans
}
