package jsonscan

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var cases = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.0E+4`, `true`, `false`, `null`, ` {"a" : [1, 2.5, "x", null, true, {"b":{}}]} `,
	`{"id":"w1-c2"}`, `"\u00e9\n\t\"\\\/"`, `"é ü 日本"`, "\"a\x7fb\"",
	`{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a":1 "b":2}`, `[1 2]`, `{1:2}`, `{"a":1]`, `[1}`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `1.5.2`, `--1`, `tru`, `truex`, `nul`, `True`, `NaN`, `Infinity`,
	`"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\nb\"", "\"\x00\"", `"\`, `{} {}`, `1 2`, `[] x`, "\v1", "1\f",
	"\"\xff\"", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 50) + "1" + strings.Repeat("}", 50),
	// Long strings, read eight bytes at a time, with the byte that ends the
	// run at every offset of a word.
	` { "a" : 1 , "b\u00e9\n" : {"c":[1,{"d":2}]}, "e":"x\"y", "a":[] , "f":{}} `, `{"a":{"b":1}}`, `[{"a":1}]`, `{"a":1}x`,
	`"0123456789abcdef0123456789"`, `"0123456789abcdef\\0123456789"`, "\"0123456789abcde\x1f0123456789\"",
	"\"0123456\xc3\xa9789abcdef\x7f\x80\xff 0123\"", `["0123456789abcdef","0123456789abcdef"]`, `"01234567\"`,
}

// stringRun finds the same byte as a byte loop, wherever it sits.
func TestStringRun(t *testing.T) {
	naive := func(s string, i int) int {
		for ; i < len(s); i++ {
			if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
				return i
			}
		}
		return i
	}
	for _, stop := range []byte{'"', '\\', 0, 0x1f, '\n'} {
		for _, fill := range []byte{'a', ' ', '!', '#', '[', ']', 0x20, 0x7f, 0x80, 0xa2, 0xdc, 0xff} {
			for n := 0; n < 40; n++ {
				for at := 0; at <= n; at++ {
					b := []byte(strings.Repeat(string([]byte{fill}), n))
					if at < n {
						b[at] = stop
					}
					for from := 0; from <= min(n, 9); from++ {
						if got, want := stringRun(string(b), from), naive(string(b), from); got != want {
							t.Fatalf("stringRun(%q, %d) = %d, want %d", b, from, got, want)
						}
						if got, want := stringRun(b, from), naive(string(b), from); got != want {
							t.Fatalf("stringRun([]byte %q, %d) = %d, want %d", b, from, got, want)
						}
					}
				}
			}
		}
	}
}

func BenchmarkValid(b *testing.B) {
	doc := `{"message":"hello","pad":"` + strings.Repeat("x", 990) + `"}`
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !Valid(doc) {
			b.Fatal("invalid")
		}
	}
}

func TestValid(t *testing.T) {
	for _, c := range cases {
		if got, want := Valid(c), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %t, encoding/json says %t", c, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Valid(` {"a" : [1, 2.5, "x", null, true, {"b":{}}]} `) }); n != 0 {
		t.Errorf("Valid allocates %v times", n)
	}
}

// FuzzValid: Valid agrees with encoding/json.Valid, and Split with
// encoding/json's reading of an object's members.
func FuzzValid(f *testing.F) {
	for _, c := range cases {
		if len(c) < 1000 {
			f.Add(c)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Valid(s), json.Valid([]byte(s)); got != want {
			t.Fatalf("Valid(%q) = %t, encoding/json says %t", s, got, want)
		}
		checkSplit(t, s)
	})
}

// members reads the members of the object s with encoding/json's
// tokenizer: keys decoded, values compacted. nil if s is not an object.
func members(t *testing.T, s string) [][2]string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	out := [][2]string{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		var c bytes.Buffer
		_ = json.Compact(&c, v)
		out = append(out, [2]string{tok.(string), c.String()})
	}
	if _, err := d.Token(); err != nil && err != io.EOF {
		t.Fatalf("encoding/json: %v", err)
	}
	return out
}

// checkSplit: Split validates as Valid does and, for an object, returns
// the members encoding/json reads, in order, duplicates included, values as
// substrings of s.
func checkSplit(t *testing.T, s string) {
	t.Helper()
	obj, ok := Split(s)
	if ok != Valid(s) {
		t.Fatalf("Split(%q) ok = %t, Valid says %t", s, ok, !ok)
	}
	if !ok || !utf8.ValidString(s) {
		// Like encoding/json's validator, Split does not check UTF-8;
		// encoding/json's decoder replaces invalid bytes, Split keeps them.
		return
	}
	want := members(t, s)
	if want == nil || len(want) == 0 {
		if obj != nil {
			t.Fatalf("Split(%q) = %q for a value without members", s, obj)
		}
		return
	}
	got := make([][2]string, len(obj))
	for i, m := range obj {
		var c bytes.Buffer
		if err := json.Compact(&c, []byte(m.Value)); err != nil {
			t.Fatalf("Split(%q): member %q has invalid value %q", s, m.Key, m.Value)
		}
		if !strings.Contains(s, m.Value) {
			t.Fatalf("Split(%q): value %q is not a substring", s, m.Value)
		}
		got[i] = [2]string{m.Key, c.String()}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Split(%q) = %q, encoding/json reads %q", s, got, want)
	}
}

func TestSplit(t *testing.T) {
	for _, c := range cases {
		checkSplit(t, c)
	}
	obj, ok := Split(` { "a" : 1 , "b\u00e9\n" : {"c":[1,{"d":2}]}, "e":"x\"y", "a":[] , "f":{}} `)
	want := Object{{"a", "1"}, {"bé\n", `{"c":[1,{"d":2}]}`}, {"e", `"x\"y"`}, {"a", "[]"}, {"f", "{}"}}
	if !ok || !reflect.DeepEqual(obj, want) {
		t.Fatalf("Split = %q, %t; want %q", obj, ok, want)
	}
}

func TestObject(t *testing.T) {
	obj, ok := Split(`{"s":"x","n":null,"b":true,"i":3,"s":"y\u00e9","f":false}`)
	if !ok {
		t.Fatal("invalid")
	}
	if v, ok := obj.Get("s"); !ok || v != `"y\u00e9"` {
		t.Errorf("Get(s) = %q %t: the last of a repeated key", v, ok)
	}
	if _, ok := obj.Get("n"); ok {
		t.Error("Get(n): null is absent")
	}
	if v, ok := obj.Lookup("n"); !ok || v != "null" {
		t.Errorf("Lookup(n) = %q %t", v, ok)
	}
	if _, ok := obj.Lookup("zz"); ok {
		t.Error("Lookup of a missing key")
	}
	for _, c := range []struct {
		key, want string
		ok        bool
		err       string
	}{{"s", "yé", true, ""}, {"n", "", false, ""}, {"zz", "", false, ""}, {"i", "", false, `"i" is a number, not a string`}} {
		s, ok, err := obj.Str(c.key)
		if s != c.want || ok != c.ok || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("Str(%s) = %q %t %v", c.key, s, ok, err)
		}
	}
	for _, c := range []struct {
		key      string
		def, got bool
		err      string
	}{{"b", false, true, ""}, {"f", true, false, ""}, {"n", true, true, ""}, {"zz", true, true, ""}, {"s", false, false, `"s" is a string, not a boolean`}} {
		b, err := obj.Bool(c.key, c.def)
		if b != c.got || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("Bool(%s, %t) = %t %v", c.key, c.def, b, err)
		}
	}
}

func TestKindAndUnquote(t *testing.T) {
	for raw, want := range map[string]string{` {}`: "an object", "[1]": "an array", `"x"`: "a string", "true": "a boolean",
		"false": "a boolean", "null": "null", "-1": "a number", "  ": "empty"} {
		if got := Kind(raw); got != want {
			t.Errorf("Kind(%q) = %q, want %q", raw, got, want)
		}
		if got := Kind([]byte(raw)); got != want {
			t.Errorf("Kind([]byte %q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]string{`""`: "", `"abc"`: "abc", `"a\"b\u00e9"`: `a"bé`} {
		if got, err := Unquote(raw); err != nil || got != want {
			t.Errorf("Unquote(%s) = %q %v", raw, got, err)
		}
	}
	if _, err := Unquote(`"\x"`); err == nil {
		t.Error("Unquote of an invalid escape")
	}
}
