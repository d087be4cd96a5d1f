// Package boundeddecode decodes the TOML and JSON documents driftless reads
// from users (plugins.toml, playbooks, pipelines, --vars, --config) after
// checking, before any decoder sees them, that they are not too large and
// not nested too deeply.
//
// The check matters for TOML: github.com/BurntSushi/toml takes time and
// memory quadratic in the nesting depth (a 16 KB file of nested inline
// tables took ~700 MB). Checking is one pass over the text that skips
// strings and comments and counts tables, arrays and the segments of dotted
// keys; it never builds anything, so its cost is linear and its memory
// constant. JSON gets the same bounds so that every input has one rule.
//
// Depth counts containers the way JSON does: in `a = 1` the value is one
// level deep (the document's table holds it), in `a = { b = [1] }` the 1 is
// three levels deep (the document, a, the array), and so is the value of
// `name` under `[[tasks]]` (the document, the array tasks, its table).
package boundeddecode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Bounds of every document.
const (
	// MaxSize is the most bytes a document may have.
	MaxSize = 1 << 20
	// MaxDepth is how deeply its values may nest.
	MaxDepth = 32
)

// Error is a document over a bound; Line (1-based) and Column are where the
// bound was crossed, or 0 for the size.
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Reason is the error without the file, for messages that name it:
// "line 3: nested more than ...".
func (e *Error) Reason() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func sizeError(file string, n int) *Error {
	return &Error{File: file, Msg: fmt.Sprintf("is %d bytes, more than the limit of %d bytes", n, MaxSize)}
}

// checkUTF8 fails at the first byte that is not UTF-8: the decoders would
// replace it (JSON) or plugins would refuse the text later, after running.
func checkUTF8(file string, data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	line, bol := 1, 0
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return &Error{File: file, Line: line, Column: i - bol + 1, Msg: fmt.Sprintf("not valid UTF-8 (byte 0x%02x)", data[i])}
		}
		if r == '\n' {
			line, bol = line+1, i+1
		}
		i += n
	}
	return nil
}

func depthMsg() string {
	return fmt.Sprintf("nested more than %d levels deep (tables, arrays and dotted keys count; the limit is %d)", MaxDepth, MaxDepth)
}

// TOML checks data (see CheckTOML), then decodes it into v as toml.Decode
// does. file names the document in errors.
func TOML(file string, data []byte, v any) (toml.MetaData, error) {
	if err := CheckTOML(file, data); err != nil {
		return toml.MetaData{}, err
	}
	return toml.Decode(string(data), v)
}

// JSON checks data (see CheckJSON), then decodes it into v as json.Unmarshal
// does, with numbers as json.Number when v is an *any or a map.
func JSON(file string, data []byte, v any) error {
	if err := CheckJSON(file, data); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// CheckJSON fails with an *Error when data is over MaxSize, is not UTF-8
// or nests deeper than MaxDepth. It does not validate the JSON: decoding
// does.
func CheckJSON(file string, data []byte) error {
	if len(data) > MaxSize {
		return sizeError(file, len(data))
	}
	if err := checkUTF8(file, data); err != nil {
		return err
	}
	depth, line, col := 0, 1, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line, col = line+1, 0
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				switch data[i] {
				case '\\':
					i++
					col++
				case '\n':
					line, col = line+1, 0
				}
				col++
			}
			col++
		case '[', '{':
			if depth++; depth > MaxDepth {
				return &Error{File: file, Line: line, Column: col, Msg: depthMsg()}
			}
		case ']', '}':
			depth--
		}
		col++
	}
	return nil
}
