package pipeline

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/host"
)

// A renderer appends the records of a batch's entries to buf, one line
// each, and returns how many records it rendered.
type renderer interface {
	render(ctx context.Context, b *batch, buf []byte) ([]byte, int, error)
}

// textRenderer: "TIMESTAMP [LEVEL] MESSAGE key=value ...", each part only
// when the entry has it. The timestamp is RFC 3339 in UTC with as many
// fraction digits as needed; a message's line breaks are written \n and
// \r; a field value is quoted (Go syntax) when it is empty or has spaces,
// quotes, '=' or control characters. The source is not written, so a
// plain-parsed line comes out as it went in.
type textRenderer struct{}

func (textRenderer) render(_ context.Context, b *batch, buf []byte) ([]byte, int, error) {
	for i := range b.entries {
		buf = appendText(buf, &b.entries[i])
	}
	return buf, len(b.entries), nil
}

func appendText(buf []byte, e *logs.LogEntry) []byte {
	if e.Timestamp != 0 {
		buf = appendTime(buf, e.Timestamp)
		buf = append(buf, ' ')
	}
	if e.Level != nil {
		buf = append(buf, '[')
		buf = append(buf, *e.Level...)
		buf = append(buf, "] "...)
	}
	if strings.IndexByte(e.Message, '\n') < 0 && strings.IndexByte(e.Message, '\r') < 0 {
		buf = append(buf, e.Message...)
	} else {
		for i := 0; i < len(e.Message); i++ {
			switch c := e.Message[i]; c {
			case '\n':
				buf = append(buf, `\n`...)
			case '\r':
				buf = append(buf, `\r`...)
			default:
				buf = append(buf, c)
			}
		}
	}
	for _, f := range e.Fields {
		buf = append(buf, ' ')
		buf = appendLogfmt(buf, f.F0)
		buf = append(buf, '=')
		buf = appendLogfmt(buf, f.F1)
	}
	return append(buf, '\n')
}

func appendTime(buf []byte, ns uint64) []byte {
	if ns > 1<<63-1 {
		ns = 1<<63 - 1
	}
	return time.Unix(0, int64(ns)).UTC().AppendFormat(buf, time.RFC3339Nano)
}

// appendLogfmt writes s bare, or quoted when it would not read back as
// one value.
func appendLogfmt(buf []byte, s string) []byte {
	if s == "" {
		return append(buf, `""`...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '=' || c == 0x7f || c == '\\' {
			return strconv.AppendQuote(buf, s)
		}
	}
	return append(buf, s...)
}

// jsonRenderer: one JSON object per entry: {"timestamp": RFC 3339 (absent
// when unknown), "level" (absent when none), "message", "source",
// "fields": {key: value, ...} (absent when none)}.
type jsonRenderer struct{}

func (jsonRenderer) render(_ context.Context, b *batch, buf []byte) ([]byte, int, error) {
	for i := range b.entries {
		buf = appendJSON(buf, &b.entries[i])
	}
	return buf, len(b.entries), nil
}

func appendJSON(buf []byte, e *logs.LogEntry) []byte {
	buf = append(buf, '{')
	if e.Timestamp != 0 {
		buf = append(buf, `"timestamp":"`...)
		buf = appendTime(buf, e.Timestamp)
		buf = append(buf, `",`...)
	}
	if e.Level != nil {
		buf = append(buf, `"level":`...)
		buf = appendJSONString(buf, *e.Level)
		buf = append(buf, ',')
	}
	buf = append(buf, `"message":`...)
	buf = appendJSONString(buf, e.Message)
	buf = append(buf, `,"source":`...)
	buf = appendJSONString(buf, e.Source)
	if len(e.Fields) > 0 {
		buf = append(buf, `,"fields":{`...)
		for i, f := range e.Fields {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, f.F0)
			buf = append(buf, ':')
			buf = appendJSONString(buf, f.F1)
		}
		buf = append(buf, '}')
	}
	return append(buf, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// pluginRenderer calls a plugin's output with the whole batch; the host
// writes each record it returns as one line.
type pluginRenderer struct {
	o *host.LogOutput
	g *guard
}

func (pr pluginRenderer) render(ctx context.Context, b *batch, buf []byte) ([]byte, int, error) {
	var recs []string
	err := guarded(ctx, pr.g, entriesBytes(b.entries), func() (err error) {
		recs, err = pr.o.Write(ctx, b.entries)
		return err
	})
	if err != nil {
		return buf, 0, err
	}
	for _, r := range recs {
		buf = append(buf, r...)
		if !strings.HasSuffix(r, "\n") {
			buf = append(buf, '\n')
		}
	}
	return buf, len(recs), nil
}

// sink is a destination (standard output, standard error, a file) that
// outputs share: each output writes a whole rendered batch at once, so
// lines of two outputs to the same destination never interleave.
type sink struct {
	name   string
	w      io.Writer
	closer io.Closer
	mu     sync.Mutex
}

func (s *sink) write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(p)
	return err
}

func (s *sink) close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}
