package pipeline

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/host"
)

// A parser turns a batch's lines into its entries and returns how many
// lines it dropped. Batches from plugin sources hold entries already and
// do not reach it.
type parser interface {
	parse(ctx context.Context, b *batch) (dropped int, err error)
}

// plainParser makes one entry per line: message = the line, source = the
// source's name, no level, no timestamp.
type plainParser struct{}

func (plainParser) parse(_ context.Context, b *batch) (int, error) {
	es := make([]logs.LogEntry, len(b.lines))
	for i, l := range b.lines {
		es[i].Message = l
		es[i].Source = b.source
	}
	b.entries, b.lines, b.parsed = es, nil, true
	return 0, nil
}

// pluginParser calls a plugin's parser with the whole batch.
type pluginParser struct {
	p *host.LogParser
	g *guard
}

func (pp pluginParser) parse(ctx context.Context, b *batch) (int, error) {
	var res []*logs.LogEntry
	err := guarded(ctx, pp.g, linesBytes(b.lines), func() (err error) {
		res, err = pp.p.Parse(ctx, b.lines)
		return err
	})
	if err != nil {
		return 0, err
	}
	es := make([]logs.LogEntry, 0, len(res))
	for _, e := range res {
		if e == nil {
			continue
		}
		if e.Source == "" {
			e.Source = b.source
		}
		es = append(es, *e)
	}
	dropped := len(b.lines) - len(es)
	b.entries, b.lines, b.parsed = es, nil, true
	return dropped, nil
}

// jsonParser reads one JSON object per line. The timestamp comes from the
// first of timestamp, time, ts, @timestamp (or timestamp_key): a number of
// seconds, milliseconds, microseconds or nanoseconds since 1970 (told apart
// by magnitude), or an RFC 3339 string. The level comes from level, lvl,
// severity (or level_key): a string, or a number in pino/bunyan style (10
// trace .. 50 error, 60 fatal). The message comes from message, msg (or
// message_key). Every other key becomes a field, in order: strings by
// value, anything else as its JSON text. A line that is not a JSON object
// is dropped (and counted).
type jsonParser struct {
	tsKeys, levelKeys, msgKeys []string
	fieldsHint                 atomic.Int64 // fields in the last batch
}

func newJSONParser(c *ParserConfig) *jsonParser {
	p := &jsonParser{
		tsKeys:    []string{"timestamp", "time", "ts", "@timestamp"},
		levelKeys: []string{"level", "lvl", "severity"},
		msgKeys:   []string{"message", "msg"},
	}
	if c.TimestampKey != "" {
		p.tsKeys = []string{c.TimestampKey}
	}
	if c.LevelKey != "" {
		p.levelKeys = []string{c.LevelKey}
	}
	if c.MessageKey != "" {
		p.msgKeys = []string{c.MessageKey}
	}
	return p
}

func (p *jsonParser) parse(_ context.Context, b *batch) (int, error) {
	es := make([]logs.LogEntry, 0, len(b.lines))
	// Fields of the whole batch share one backing array, sized after the
	// previous batch.
	slab := make([]field, 0, p.fieldsHint.Load()+16)
	var sc jsonScanner
	var members []member
	for _, line := range b.lines {
		var ok bool
		if members, ok = sc.object(line, members[:0]); !ok {
			continue
		}
		e := logs.LogEntry{Source: b.source}
		haveMsg := false
		start := len(slab)
		for _, m := range members {
			switch {
			case e.Timestamp == 0 && p.isKey(p.tsKeys, m.key):
				if ts, ok := parseTimestamp(m.raw, m.isString, &sc); ok {
					e.Timestamp = ts
					continue
				}
			case e.Level == nil && p.isKey(p.levelKeys, m.key):
				if lv := jsonLevel(m.raw, m.isString, &sc); lv != nil {
					e.Level = lv
					continue
				}
			case !haveMsg && m.isString && p.isKey(p.msgKeys, m.key):
				e.Message = sc.str(m.raw)
				haveMsg = true
				continue
			}
			v := m.raw
			if m.isString {
				v = sc.str(m.raw)
			}
			slab = append(slab, field{F0: m.key, F1: v})
		}
		if len(slab) > start {
			e.Fields = slab[start:len(slab):len(slab)]
		}
		es = append(es, e)
	}
	p.fieldsHint.Store(int64(len(slab)) + int64(len(slab))/8)
	dropped := len(b.lines) - len(es)
	b.entries, b.lines, b.parsed = es, nil, true
	return dropped, nil
}

func (p *jsonParser) isKey(keys []string, k string) bool {
	for _, c := range keys {
		if c == k {
			return true
		}
	}
	return false
}

// parseTimestamp reads a JSON timestamp value (see jsonParser).
func parseTimestamp(raw string, isString bool, sc *jsonScanner) (uint64, bool) {
	if isString {
		t, err := time.Parse(time.RFC3339Nano, sc.str(raw))
		if err != nil || t.UnixNano() <= 0 {
			return 0, false
		}
		return uint64(t.UnixNano()), true
	}
	if !strings.ContainsAny(raw, "eE-") {
		return decimalNanos(raw)
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		return 0, false
	}
	var ns float64
	switch {
	case f < 1e11:
		ns = f * 1e9
	case f < 1e14:
		ns = f * 1e6
	case f < 1e17:
		ns = f * 1e3
	default:
		ns = f
	}
	if ns >= math.MaxInt64 {
		return 0, false
	}
	return uint64(math.Round(ns)), true
}

// decimalNanos converts a plain decimal number of seconds, milliseconds,
// microseconds or nanoseconds (told apart by magnitude: seconds until the
// year 5138, ...) to nanoseconds exactly.
func decimalNanos(raw string) (uint64, bool) {
	ip, fp, _ := strings.Cut(raw, ".")
	i, err := strconv.ParseUint(ip, 10, 64)
	if err != nil {
		return 0, false
	}
	var unit uint64
	switch {
	case i < 1e11:
		unit = 1e9
	case i < 1e14:
		unit = 1e6
	case i < 1e17:
		unit = 1e3
	default:
		unit = 1
	}
	if i > math.MaxInt64/unit {
		return 0, false
	}
	ns := i * unit
	for d := unit / 10; d > 0 && len(fp) > 0; d /= 10 {
		ns += uint64(fp[0]-'0') * d
		fp = fp[1:]
	}
	if ns == 0 || ns > math.MaxInt64 {
		return 0, false
	}
	return ns, true
}

// jsonLevel reads a level: a string (known names normalised, others kept
// as they are) or a pino/bunyan number.
func jsonLevel(raw string, isString bool, sc *jsonScanner) *string {
	if isString {
		s := sc.str(raw)
		if lv := normLevel(s); lv != nil {
			return lv
		}
		if s == "" {
			return nil
		}
		return &s
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return nil
	}
	switch {
	case n <= 10:
		return levelStrings[0]
	case n <= 20:
		return levelStrings[1]
	case n <= 30:
		return levelStrings[2]
	case n <= 40:
		return levelStrings[3]
	}
	return levelStrings[4]
}

// jsonScanner reads the top level of a one-line JSON object. Values keep
// their raw text; nested objects and arrays are checked and passed as
// text. It allocates only for strings with escapes.
type jsonScanner struct {
	s string
	i int
}

// member is one key and raw value of an object.
type member struct {
	key, raw string
	isString bool
}

// object appends the members of the object in line to dst, and reports
// whether line is one valid JSON object.
func (sc *jsonScanner) object(line string, dst []member) ([]member, bool) {
	sc.s, sc.i = line, 0
	sc.space()
	if !sc.eat('{') {
		return dst, false
	}
	sc.space()
	if sc.eat('}') {
		return dst, sc.end()
	}
	for {
		sc.space()
		kraw, ok := sc.stringRaw()
		if !ok {
			return dst, false
		}
		sc.space()
		if !sc.eat(':') {
			return dst, false
		}
		sc.space()
		start := sc.i
		isString := sc.i < len(sc.s) && sc.s[sc.i] == '"'
		if !sc.value(0) {
			return dst, false
		}
		dst = append(dst, member{key: sc.str(kraw), raw: sc.s[start:sc.i], isString: isString})
		sc.space()
		if sc.eat(',') {
			continue
		}
		if sc.eat('}') {
			return dst, sc.end()
		}
		return dst, false
	}
}

func (sc *jsonScanner) end() bool {
	sc.space()
	return sc.i == len(sc.s)
}

func (sc *jsonScanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r', '\n':
			sc.i++
		default:
			return
		}
	}
}

func (sc *jsonScanner) eat(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// jsonPlain[c] is true for the bytes a JSON string holds as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// stringRaw scans a string and returns it with its quotes.
func (sc *jsonScanner) stringRaw() (string, bool) {
	start := sc.i
	if !sc.eat('"') {
		return "", false
	}
	s := sc.s
	i := sc.i
	for {
		for i < len(s) && jsonPlain[s[i]] {
			i++
		}
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"':
			sc.i = i + 1
			return s[start:sc.i], true
		case '\\':
			if i+1 >= len(s) {
				return "", false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return "", false
				}
				for k := i + 2; k < i+6; k++ {
					if !isHex(s[k]) {
						return "", false
					}
				}
				i += 6
			default:
				return "", false
			}
		default: // a control character
			return "", false
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// value scans one JSON value; depth bounds nesting.
func (sc *jsonScanner) value(depth int) bool {
	if depth > 100 || sc.i >= len(sc.s) {
		return false
	}
	switch c := sc.s[sc.i]; {
	case c == '"':
		_, ok := sc.stringRaw()
		return ok
	case c == '{':
		sc.i++
		sc.space()
		if sc.eat('}') {
			return true
		}
		for {
			sc.space()
			if _, ok := sc.stringRaw(); !ok {
				return false
			}
			sc.space()
			if !sc.eat(':') {
				return false
			}
			sc.space()
			if !sc.value(depth + 1) {
				return false
			}
			sc.space()
			if sc.eat(',') {
				continue
			}
			return sc.eat('}')
		}
	case c == '[':
		sc.i++
		sc.space()
		if sc.eat(']') {
			return true
		}
		for {
			sc.space()
			if !sc.value(depth + 1) {
				return false
			}
			sc.space()
			if sc.eat(',') {
				continue
			}
			return sc.eat(']')
		}
	case c == 't':
		return sc.word("true")
	case c == 'f':
		return sc.word("false")
	case c == 'n':
		return sc.word("null")
	default:
		return sc.number()
	}
}

func (sc *jsonScanner) word(w string) bool {
	if strings.HasPrefix(sc.s[sc.i:], w) {
		sc.i += len(w)
		return true
	}
	return false
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *jsonScanner) number() bool {
	sc.eat('-')
	digits := func() int {
		n := 0
		for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
			sc.i++
			n++
		}
		return n
	}
	if sc.eat('0') {
		// no more digits may follow a leading zero
	} else if digits() == 0 {
		return false
	}
	if sc.eat('.') && digits() == 0 {
		return false
	}
	if sc.i < len(sc.s) && (sc.s[sc.i] == 'e' || sc.s[sc.i] == 'E') {
		sc.i++
		if !sc.eat('+') {
			sc.eat('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// str returns the value of a raw JSON string (with its quotes), decoding
// escapes; without escapes it is a substring of the line.
func (sc *jsonScanner) str(raw string) string {
	s := raw[1 : len(raw)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, _ := strconv.ParseUint(s[i+1:i+5], 16, 32)
			i += 4
			if r >= 0xD800 && r < 0xDC00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if lo, err := strconv.ParseUint(s[i+3:i+7], 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
					r = (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000
					i += 6
				}
			}
			b = utf8.AppendRune(b, rune(r)) // lone surrogates become U+FFFD
		default: // " \ /
			b = append(b, s[i])
		}
	}
	return string(b)
}
