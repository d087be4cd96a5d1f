package host

import (
	"encoding/json"
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
	})
}
