package safetext

import (
	"bytes"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, line, block string }{
		{"plain text, ünïcode ✓", "plain text, ünïcode ✓", "plain text, ünïcode ✓"},
		{"\x1b[2J\x1b]0;owned\x07", `\x1b[2J\x1b]0;owned\x07`, `\x1b[2J\x1b]0;owned\x07`},
		{"a\nb\tc\rd", `a\nb\tc\rd`, "a\nb\tc\\rd"},
		{"del\x7f csi\u009b[31m", `del\x7f csi\u009b[31m`, `del\x7f csi\u009b[31m`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`, `evil\u202egnp.exe`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`, `bad \xff\xfe utf8`},
	} {
		if got := Line(c.in); got != c.line {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := Block(c.in); got != c.block {
			t.Errorf("Block(%q) = %q, want %q", c.in, got, c.block)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate(strings.Repeat("é", 3000), 9); got != "éééé... (6000 bytes in all)" {
		t.Errorf("got %q", got)
	}
	if got := Truncate("short", 9); got != "short" {
		t.Errorf("got %q", got)
	}
}

// A character split between two writes is escaped as one.
func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := &Writer{W: &b}
	in := "ok \u009b x \x1b y é\n"
	for i := 0; i < len(in); i++ {
		w.Write([]byte{in[i]})
	}
	w.Flush()
	if want := "ok \\u009b x \\x1b y é\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	w.Write([]byte("cut \xc2"))
	w.Flush()
	if b.String() != `cut \xc2` {
		t.Errorf("got %q", b.String())
	}
}
