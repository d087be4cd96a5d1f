// Package safetext makes text that came from a plugin or a file safe to
// print on a terminal or in a log line: control characters (which a
// terminal obeys: ESC starts an escape sequence that can move the cursor,
// rewrite the screen or the window title, BEL rings, CR overwrites what
// was printed) and bidirectional overrides (which make text read
// differently from what it is) are shown as escapes instead, as \x1b,
// \r, \u202e. host's log sanitiser and the CLI's text output share these
// rules.
package safetext

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Keep lists the control characters left as they are.
type Keep uint8

const (
	// KeepTab leaves horizontal tabs.
	KeepTab Keep = 1 << iota
	// KeepNewline leaves line feeds (multi-line text: diffs, outputs).
	KeepNewline
)

// Unsafe reports whether r is shown escaped: C0 controls, DEL, C1 controls
// and the bidirectional embedding, override and isolate characters.
func Unsafe(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// AppendRune appends r to dst, escaped when it is unsafe and not kept.
func AppendRune(dst []byte, r rune, keep Keep) []byte {
	switch {
	case r == '\t' && keep&KeepTab != 0, r == '\n' && keep&KeepNewline != 0, !Unsafe(r):
		return utf8.AppendRune(dst, r)
	case r == '\n':
		return append(dst, `\n`...)
	case r == '\r':
		return append(dst, `\r`...)
	case r == '\t':
		return append(dst, `\t`...)
	case r < 0x80:
		return fmt.Appendf(dst, `\x%02x`, r)
	}
	return fmt.Appendf(dst, `\u%04x`, r)
}

// Escape returns s with its unsafe characters (but those kept) escaped,
// and each byte that is not UTF-8 shown as \xNN.
func Escape(s string, keep Keep) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (Unsafe(r) && !(r == '\t' && keep&KeepTab != 0) && !(r == '\n' && keep&KeepNewline != 0)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	out := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			out = fmt.Appendf(out, `\x%02x`, s[i])
			i++
			continue
		}
		out = AppendRune(out, r, keep)
		i += n
	}
	return string(out)
}

// Line escapes every unsafe character, line breaks and tabs included: for
// text printed on one line or in a table cell.
func Line(s string) string { return Escape(s, 0) }

// Block escapes the unsafe characters but line breaks and tabs: for
// multi-line text.
func Block(s string) string { return Escape(s, KeepTab|KeepNewline) }

// Truncate returns s cut to at most n bytes (at a character boundary) with
// a note of how much was cut, for names and values echoed in messages.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes in all)", s[:cut], len(s))
}

// Quote quotes a name or value given by a user or a plugin for a message,
// cut to at most n bytes first (a 5,000-character name is not echoed in
// full).
func Quote(s string, n int) string { return strconv.Quote(Truncate(s, n)) }

// Writer escapes what is written to W as Block does. A character split
// between two writes is held until the next one; Flush writes what is
// held (a truncated character, escaped).
type Writer struct {
	W    io.Writer
	held []byte
}

func (w *Writer) Write(p []byte) (int, error) {
	data := p
	if len(w.held) > 0 {
		data = append(w.held, p...)
		w.held = nil
	}
	// Hold an incomplete last character.
	end := len(data)
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				end = i
			}
			break
		}
	}
	w.held = append(w.held, data[end:]...)
	if _, err := io.WriteString(w.W, Block(string(data[:end]))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is held.
func (w *Writer) Flush() error {
	if len(w.held) == 0 {
		return nil
	}
	_, err := io.WriteString(w.W, Block(string(w.held)))
	w.held = nil
	return err
}
