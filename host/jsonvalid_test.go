package host

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var jsonCases = []string{
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

func BenchmarkValidJSON(b *testing.B) {
	doc := `{"message":"hello","pad":"` + strings.Repeat("x", 990) + `"}`
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !validJSON(doc) {
			b.Fatal("invalid")
		}
	}
}

func TestValidJSON(t *testing.T) {
	for _, c := range jsonCases {
		if got, want := validJSON(c), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.40q) = %t, encoding/json says %t", c, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { validJSON(` {"a" : [1, 2.5, "x", null, true, {"b":{}}]} `) }); n != 0 {
		t.Errorf("validJSON allocates %v times", n)
	}
}

// FuzzValidJSON: validJSON agrees with encoding/json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, c := range jsonCases {
		if len(c) < 1000 {
			f.Add(c)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validJSON(s), json.Valid([]byte(s)); got != want {
			t.Fatalf("validJSON(%q) = %t, encoding/json says %t", s, got, want)
		}
		checkSplitJSON(t, s)
	})
}

// checkSplitJSON: splitJSON validates as validJSON does and returns the
// members parseObject finds in a valid object.
func checkSplitJSON(t *testing.T, s string) {
	t.Helper()
	obj, ok := splitJSON(s)
	if ok != validJSON(s) {
		t.Fatalf("splitJSON(%q) ok = %t, validJSON says %t", s, ok, !ok)
	}
	if !ok {
		return
	}
	want, _, err := parseObject(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("parseObject(%q): %v", s, err)
	}
	if !reflect.DeepEqual(obj, want) {
		t.Fatalf("splitJSON(%q) = %q, parseObject says %q", s, obj, want)
	}
}

func TestSplitJSON(t *testing.T) {
	for _, c := range jsonCases {
		checkSplitJSON(t, c)
	}
	obj, ok := splitJSON(` { "a" : 1 , "b\u00e9\n" : {"c":[1,{"d":2}]}, "e":"x\"y", "a":[] , "f":{}} `)
	want := jsonObject{{"a", "1"}, {"bé\n", `{"c":[1,{"d":2}]}`}, {"e", `"x\"y"`}, {"a", "[]"}, {"f", "{}"}}
	if !ok || !reflect.DeepEqual(obj, want) {
		t.Fatalf("splitJSON = %q, %t; want %q", obj, ok, want)
	}
}
