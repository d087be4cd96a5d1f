package pipeline

import (
	"context"
	"regexp"
	"strings"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/host"
)

// A filter removes the entries it does not keep from a batch, in place,
// keeping the order of the others, and returns how many it removed.
type filter interface {
	filter(ctx context.Context, b *batch) (dropped int, err error)
}

// compact keeps the entries whose keep is true.
func compact(b *batch, keep func(i int, e *logs.LogEntry) bool) int {
	es := b.entries
	j := 0
	for i := range es {
		if keep(i, &es[i]) {
			if i != j {
				es[j] = es[i]
			}
			j++
		}
	}
	clear(es[j:])
	b.entries = es[:j]
	return len(es) - j
}

// levelFilter keeps entries whose level is at least min; entries without a
// level, or with one it does not know, are kept (the rule of the example
// plugins' min-level filters).
type levelFilter struct{ min int }

func (f levelFilter) filter(_ context.Context, b *batch) (int, error) {
	return compact(b, func(_ int, e *logs.LogEntry) bool {
		if e.Level == nil {
			return true
		}
		r := levelRank(*e.Level)
		return r < 0 || r >= f.min
	}), nil
}

// matchFilter keeps entries whose field matches a regular expression or
// contains a substring (with invert, those that do not). An entry without
// the field does not match.
type matchFilter struct {
	field    string
	re       *regexp.Regexp
	contains string
	invert   bool
}

func newMatchFilter(c *FilterConfig) *matchFilter {
	f := &matchFilter{field: c.Field, contains: c.Contains, invert: c.Invert}
	if f.field == "" {
		f.field = "message"
	}
	if c.Pattern != "" {
		f.re = regexp.MustCompile(c.Pattern) // checked by Parse
	}
	return f
}

func (f *matchFilter) value(e *logs.LogEntry) (string, bool) {
	switch f.field {
	case "message":
		return e.Message, true
	case "source":
		return e.Source, true
	case "level":
		if e.Level == nil {
			return "", false
		}
		return *e.Level, true
	}
	for _, kv := range e.Fields {
		if kv.F0 == f.field {
			return kv.F1, true
		}
	}
	return "", false
}

func (f *matchFilter) filter(_ context.Context, b *batch) (int, error) {
	return compact(b, func(_ int, e *logs.LogEntry) bool {
		v, ok := f.value(e)
		m := false
		if ok {
			if f.re != nil {
				m = f.re.MatchString(v)
			} else {
				m = strings.Contains(v, f.contains)
			}
		}
		return m != f.invert
	}), nil
}

// pluginFilter calls a plugin's filter with the whole batch.
type pluginFilter struct {
	f *host.LogFilter
	g *guard
}

func (pf pluginFilter) filter(ctx context.Context, b *batch) (int, error) {
	if len(b.entries) == 0 {
		return 0, nil
	}
	var keep []bool
	err := guarded(ctx, pf.g, entriesBytes(b.entries), func() (err error) {
		keep, err = pf.f.Keep(ctx, b.entries)
		return err
	})
	if err != nil {
		return 0, err
	}
	return compact(b, func(i int, _ *logs.LogEntry) bool { return keep[i] }), nil
}
