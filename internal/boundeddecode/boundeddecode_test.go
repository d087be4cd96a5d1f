package boundeddecode

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// depthOf is how many containers enclose the deepest value of a decoded
// document (the document itself counts).
func depthOf(v any) int {
	switch x := v.(type) {
	case map[string]any:
		d := 1
		for _, e := range x {
			d = max(d, 1+depthOf(e))
		}
		return d
	case []map[string]any:
		d := 1
		for _, e := range x {
			d = max(d, 1+depthOf(e))
		}
		return d
	case []any:
		d := 1
		for _, e := range x {
			d = max(d, 1+depthOf(e))
		}
		return d
	}
	return 0
}

func TestTOMLDepth(t *testing.T) {
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, c := range []struct {
		name, doc string
		depth     int // of the decoded document
	}{
		{"scalar", "a = 1\n", 1},
		{"inline tables", "a = " + nest("{b = ", "}", 31) + "\n", 32},
		{"arrays", "a = " + nest("[", "]", 31) + "\n", 32},
		{"mixed", "a = [{b = [{c = [1]}]}]\n", 6},
		{"dotted key", strings.Repeat("k.", 31) + "k = 1\n", 32},
		{"header", "[" + strings.Repeat("k.", 30) + "k]\nx = 1\n", 32},
		{"array of tables", "[[" + strings.Repeat("k.", 29) + "k]]\nx = 1\n", 32},
		{"dotted key in an inline table", "a = {" + strings.Repeat("k.", 30) + "k = 1}\n", 32},
		{"empty inline table", "a = " + nest("{b = ", "}", 30)[:0] + strings.Repeat("{b = ", 30) + "{}" + strings.Repeat("}", 30) + "\n", 32},
		{"brackets in strings and comments do not count", "a = \"[[[{{{\" # [[[[\nb = '{{{' \nc = \"\"\"\n[[[\n\\\"\"\"\"\nd = '''\n{{{'''\n", 1},
		{"multi-line array with comments", "a = [\n  1, # ]]]\n  [2],\n]\n", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v map[string]any
			if _, err := toml.Decode(c.doc, &v); err != nil {
				t.Fatalf("the test document is not TOML: %v", err)
			}
			if got := depthOf(v); got != c.depth {
				t.Fatalf("decoded depth %d, want %d", got, c.depth)
			}
			if err := CheckTOML("f.toml", []byte(c.doc)); err != nil {
				t.Fatalf("%d levels refused: %v", c.depth, err)
			}
		})
	}
}

func TestTOMLTooDeep(t *testing.T) {
	for _, c := range []struct{ name, doc, at string }{
		{"inline tables", "x = 1\na = " + strings.Repeat("{b = ", 32) + "1" + strings.Repeat("}", 32) + "\n", "f.toml:2:"},
		{"arrays", "a = " + strings.Repeat("[", 32) + "1" + strings.Repeat("]", 32) + "\n", "f.toml:1:36"},
		{"dotted key", "\n\n" + strings.Repeat("k.", 32) + "k = 1\n", "f.toml:3:"},
		{"header", "[" + strings.Repeat("k.", 31) + "k]\n", "f.toml:1:"},
		{"array of tables", "[[" + strings.Repeat("k.", 30) + "k]]\nx = 1\n", "f.toml:1:"},
		{"multi-line array", "a = [\n" + strings.Repeat("[\n", 32) + strings.Repeat("]\n", 32) + "]\n", "f.toml:32:1"},
		// The case: 4000 nested inline tables took seconds and GBs.
		{"16 KB of inline tables", "a = " + strings.Repeat("{a=", 4000) + "1" + strings.Repeat("}", 4000), "f.toml:1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := TOML("f.toml", []byte(c.doc), &map[string]any{})
			var be *Error
			if !errors.As(err, &be) || !strings.HasPrefix(err.Error(), c.at) ||
				!strings.HasSuffix(err.Error(), ": nested more than 32 levels deep (tables, arrays and dotted keys count; the limit is 32)") {
				t.Fatalf("got %v, want %s...: nested more than 32 levels deep", err, c.at)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing took %s", d)
			}
		})
	}
}

func TestSize(t *testing.T) {
	big := []byte("# " + strings.Repeat("x", MaxSize) + "\n")
	for name, err := range map[string]error{
		"TOML": CheckTOML("big.toml", big),
		"JSON": CheckJSON("big.toml", big),
	} {
		if want := fmt.Sprintf("big.toml: is %d bytes, more than the limit of 1048576 bytes", len(big)); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", name, err, want)
		}
	}
}

func TestJSONDepth(t *testing.T) {
	ok := `{"a": "[[[{{{", "b": [` + strings.Repeat("[", 30) + strings.Repeat("]", 30) + `]}`
	var v any
	if err := JSON("c.json", []byte(ok), &v); err != nil {
		t.Fatalf("32 levels refused: %v", err)
	}
	if got := depthOf(v); got != 32 {
		t.Fatalf("decoded depth %d", got)
	}
	deep := "{\n \"a\": \"\\\"[\",\n \"b\": " + strings.Repeat("[", 32) + strings.Repeat("]", 32) + "}"
	err := JSON("c.json", []byte(deep), &v)
	if err == nil || err.Error() != "c.json:3:38: nested more than 32 levels deep (tables, arrays and dotted keys count; the limit is 32)" {
		t.Fatalf("got %v", err)
	}
}

// FuzzCheckTOML: whatever CheckTOML accepts and the TOML decoder decodes
// nests at most MaxDepth deep, so the decoder never sees a deeper document
// (the scanner may stop early on malformed input, never undercount valid
// input). Inputs are capped at 8 KiB to keep the decoder's memory small.
func FuzzCheckTOML(f *testing.F) {
	for _, s := range []string{
		"a = 1\n", "a = {b = {c = [1, {d = 2}]}}\n", "[x.y]\nz = [[1], [2]]\n", "[[t]]\nk.l.m = 'x'\n",
		"a = \"\"\"\n]]]\"\"\"\nb = '''{{'''\n", "a = [ # c\n 1,\n]\n", "\"q.k\".r = {s.t = 1}\n",
		"a = " + strings.Repeat("{b=", 40) + "1" + strings.Repeat("}", 40),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8<<10 {
			return
		}
		if err := CheckTOML("f.toml", data); err != nil {
			return
		}
		var v map[string]any
		if _, err := toml.Decode(string(data), &v); err != nil {
			return
		}
		if d := depthOf(v); d > MaxDepth {
			t.Fatalf("CheckTOML accepted a document %d levels deep:\n%q", d, data)
		}
	})
}

// FuzzCheckJSON: the same for JSON.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":"]]"}]}`, `"\\"`, `[` + strings.Repeat("[", 40) + strings.Repeat("]", 41)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8<<10 || CheckJSON("f.json", data) != nil {
			return
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		if d := depthOf(v); d > MaxDepth {
			t.Fatalf("CheckJSON accepted a document %d levels deep:\n%q", d, data)
		}
	})
}

func TestUTF8(t *testing.T) {
	doc := []byte("a = \"ok\"\nb = \"caf\xe9\"\n")
	if err := CheckTOML("f.toml", doc); err == nil || err.Error() != "f.toml:2:9: not valid UTF-8 (byte 0xe9)" {
		t.Errorf("TOML: got %v", err)
	}
	if err := CheckJSON("f.json", []byte("{\"a\": \"\xff\"}")); err == nil || err.Error() != "f.json:1:8: not valid UTF-8 (byte 0xff)" {
		t.Errorf("JSON: got %v", err)
	}
}
