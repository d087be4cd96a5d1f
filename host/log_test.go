package host

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// logFixture's "evil" task logs its data at each level, trace to error:
// "at trace", "at debug", ..., then a message with a line break and a
// control character, then 5,000 "a"s.
func logFixture(name string) fixture {
	return fixture{
		name: name,
		data: `"at traceat debugat info at warn at error\0a\1bforged"`,
		evil: `(call $log (i32.const 0) (i32.const 2048) (i32.const 8))
	  (call $log (i32.const 1) (i32.const 2056) (i32.const 8))
	  (call $log (i32.const 2) (i32.const 2064) (i32.const 7))
	  (call $log (i32.const 3) (i32.const 2072) (i32.const 7))
	  (call $log (i32.const 4) (i32.const 2080) (i32.const 8))
	  (call $log (i32.const 2) (i32.const 2088) (i32.const 8))
	  (memory.fill (i32.const 20000) (i32.const 97) (i32.const 5000))
	  (call $log (i32.const 2) (i32.const 20000) (i32.const 5000))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`,
	}
}

func TestHostLog(t *testing.T) {
	h, rec := testHost(t, "[plugins.verbose]\ndebug_enabled = true\n", false)
	ctx := context.Background()
	for _, name := range []string{"verbose", "normal"} {
		p := load(t, h, logFixture(name))
		rec.reset()
		if _, err := p.ExecuteTask(ctx, "evil", "{}", false); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range rec.lines() {
			if l.Attrs["plugin"] != name {
				t.Errorf("%s: a record without the plugin's name: %+v", name, l)
			}
			msg := l.Msg
			if len(msg) > 100 {
				msg = fmt.Sprintf("%d bytes ending in %q", len(msg), msg[len(msg)-30:])
			}
			got = append(got, fmt.Sprintf("%s %s", l.Level, msg))
		}
		want := []string{"INFO at info", "WARN at warn", "ERROR at error", `INFO \n\x1bforged`,
			`INFO 4125 bytes ending in "a... [truncated at 4096 bytes]"`}
		if name == "verbose" {
			want = append([]string{"DEBUG-4 at trace", "DEBUG at debug"}, want...)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got  %q\n want %q", name, got, want)
		}
	}
	if LevelTrace != slog.LevelDebug-4 {
		t.Errorf("LevelTrace = %v", LevelTrace)
	}
}

// A plugin logging 100,000 messages in one call cannot flood the host: the
// handler gets the burst the rate allows (10 × log_rate) plus what the rate
// refills during the call, then one notice with the count of the others;
// the call completes.
func TestHostLogFlood(t *testing.T) {
	h, rec := testHost(t, "[security]\nlog_rate = 50\n", false)
	p := load(t, h, fixture{name: "flood", data: `"flood"`, evil: `(local $i i32)
	  (loop $more
	    (call $log (i32.const 2) (i32.const 2048) (i32.const 5))
	    (local.set $i (i32.add (local.get $i) (i32.const 1)))
	    (br_if $more (i32.lt_u (local.get $i) (i32.const 100000))))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`})
	rec.reset()
	start := time.Now()
	if _, err := p.ExecuteTask(context.Background(), "evil", "{}", false); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	passed, notices, suppressed := 0, 0, 0
	for _, l := range rec.lines() {
		switch {
		case l.Msg == "flood":
			passed++
		case l.Msg == "plugin log messages suppressed: over the rate limit" && l.Level == slog.LevelWarn && l.Attrs["plugin"] == "flood":
			notices++
			fmt.Sscan(l.Attrs["suppressed"], &suppressed)
		default:
			t.Errorf("unexpected record %+v", l)
		}
	}
	limit := 500 + int(50*took.Seconds()) + 1
	if passed < 500 || passed > limit {
		t.Errorf("%d messages reached the handler in %v; the rate allows %d", passed, took, limit)
	}
	if notices != 1 || passed+suppressed != 100000 {
		t.Errorf("%d notices, the last counting %d suppressed messages (%d passed)", notices, suppressed, passed)
	}
	if took > 10*time.Second {
		t.Errorf("the flood took %v", took)
	}
	// The next call logs again once the rate allows, without an old notice.
	rec.reset()
	echo(t, p, "after")
	if lines := rec.lines(); len(lines) != 0 {
		t.Errorf("records after the flood: %+v", lines)
	}
	if strings.Contains(fmt.Sprint(rec.lines()), "suppressed") {
		t.Error("a second notice")
	}
}

// sanitize bounds what it returns, escapes included, and never cuts a rune.
func TestSanitize(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain\ttext", 100, "plain\ttext"},
		{"a\nb\rc\x00d\x7f\x1b[2J", 100, `a\nb\rc\x00d\x7f\x1b[2J`},
		{"bad \xff utf-8", 100, "bad \uFFFD utf-8"},
		{strings.Repeat("\x00", 100), 20, `\x00\x00\x00\x00\x00... [truncated at 20 bytes]`},
		{"ééééé", 5, "éé... [truncated at 5 bytes]"},
		{strings.Repeat("x", 10), 10, strings.Repeat("x", 10)},
	} {
		if got := sanitize(c.in, c.max); got != c.want {
			t.Errorf("sanitize(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
