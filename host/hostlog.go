package host

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/driftless-dev/driftless/internal/safetext"
)

// Log levels plugins log at, as in the WIT contract's `level` enum.
const (
	LevelTrace = slog.LevelDebug - 4
	LevelDebug = slog.LevelDebug
	LevelInfo  = slog.LevelInfo
	LevelWarn  = slog.LevelWarn
	LevelError = slog.LevelError
)

// pluginLog writes a plugin's messages (host.log, and WASI stdout/stderr at
// debug level) to the host's slog.Logger, tagged with the plugin's name.
//
// A plugin cannot flood the host: messages beyond the plugin's log_rate (per
// second, bursts of ten times that) are dropped and counted, and the count is
// reported in one warning ("plugin log messages suppressed") at the end of
// the call that dropped them, or during a long call at most once a second;
// each message is cut at DefaultMaxLogMessage bytes and stripped of control
// characters that could forge log lines.
type pluginLog struct {
	plugin string
	logger *slog.Logger
	debug  bool

	mu         sync.Mutex
	limiter    *rate.Limiter
	suppressed int
	since      time.Time   // when the first of the suppressed messages came
	pending    atomic.Bool // suppressed > 0, read without the lock by flush
}

// noticeInterval is how often, at most, a plugin logging over its rate
// during one long call gets a suppression notice.
const noticeInterval = time.Second

func newPluginLog(plugin string, logger *slog.Logger, l Limits) *pluginLog {
	return &pluginLog{
		plugin:  plugin,
		logger:  logger.With("plugin", plugin),
		debug:   l.DebugEnabled,
		limiter: rate.NewLimiter(rate.Limit(l.LogRate), 10*l.LogRate),
	}
}

func (p *pluginLog) log(ctx context.Context, level slog.Level, msg string) {
	if level < slog.LevelInfo && !p.debug {
		return
	}
	if !p.logger.Enabled(ctx, level) {
		return
	}
	p.mu.Lock()
	if !p.limiter.Allow() {
		if p.suppressed == 0 {
			p.since = time.Now()
			p.pending.Store(true)
		}
		p.suppressed++
		p.mu.Unlock()
		return
	}
	dropped := 0
	if p.suppressed > 0 && time.Since(p.since) >= noticeInterval {
		dropped = p.takeSuppressed()
	}
	p.mu.Unlock()
	p.notice(ctx, dropped)
	p.logger.LogAttrs(ctx, level, sanitize(msg, DefaultMaxLogMessage))
}

// flush reports the messages suppressed and not yet reported. The host
// calls it at the end of every call into the plugin.
func (p *pluginLog) flush(ctx context.Context) {
	if !p.pending.Load() {
		return
	}
	p.mu.Lock()
	if p.suppressed == 0 {
		p.mu.Unlock()
		return
	}
	dropped := p.takeSuppressed()
	p.mu.Unlock()
	p.notice(ctx, dropped)
}

// takeSuppressed returns and resets the count; p.mu is held.
func (p *pluginLog) takeSuppressed() int {
	n := p.suppressed
	p.suppressed = 0
	p.pending.Store(false)
	return n
}

func (p *pluginLog) notice(ctx context.Context, dropped int) {
	if dropped > 0 {
		p.logger.LogAttrs(ctx, slog.LevelWarn, "plugin log messages suppressed: over the rate limit",
			slog.Int("suppressed", dropped))
	}
}

// Suppressed returns how many messages were dropped and not yet reported.
func (p *pluginLog) Suppressed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.suppressed
}

// sanitize makes a plugin's text safe to log: valid UTF-8, no control
// characters but tab (line breaks and the others are shown escaped, by the
// rules of package safetext that the CLI's output follows too, so a plugin
// cannot forge log lines or terminal sequences), at most max bytes once
// escaped, then a truncation note.
func sanitize(s string, max int) string {
	cut := false
	if len(s) > max {
		n := max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	var b strings.Builder
	b.Grow(len(s))
	var esc [8]byte
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		piece := safetext.AppendRune(esc[:0], r, safetext.KeepTab)
		if b.Len()+len(piece) > max {
			cut = true
			break
		}
		b.Write(piece)
	}
	if cut {
		return b.String() + fmt.Sprintf("... [truncated at %d bytes]", max)
	}
	return b.String()
}

// lineWriter turns a plugin's WASI stdout or stderr into debug log lines.
type lineWriter struct {
	log    *pluginLog
	stream string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.log.log(context.Background(), LevelDebug, w.stream+": "+string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > DefaultMaxLogMessage {
		w.log.log(context.Background(), LevelDebug, w.stream+": "+string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// now is the host's clock for host.timestamp; tests may replace it.
var now = time.Now
