package main

import (
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestPermute(t *testing.T) {
	ca := newApp(&app{stdout: io.Discard, stderr: io.Discard})
	for _, c := range []struct{ in, want string }{
		{"driftless task run x.y --check -o json", "driftless -o json task run --check x.y"},
		{"driftless -o json task run x.y --config {} --check=false", "driftless -o json task run --config {} --check=false x.y"},
		{"driftless plugins list --output=json --home /h", "driftless --output=json --home /h plugins list"},
		{"driftless --home plugins plugins list", "driftless --home plugins plugins list"},
		{"driftless template render - --var a=b -e c=d", "driftless template render --var a=b -e c=d -"},
		{"driftless apply p.toml -- --odd", "driftless apply -- p.toml --odd"},
		{"driftless task run x.y --nosuch", "driftless task run --nosuch x.y"},
		{"driftless help task", "driftless help task"},
		{"driftless plugins doc a.b -h", "driftless plugins doc -h a.b"},
		{"driftless", "driftless"},
	} {
		got, _ := permute(ca, strings.Fields(c.in))
		if strings.Join(got, " ") != c.want {
			t.Errorf("permute(%q) = %q, want %q", c.in, strings.Join(got, " "), c.want)
		}
	}
	_, globals := permute(ca, strings.Fields("driftless plugins list -o json --log-level debug"))
	if globals[flagOutput] != "json" || globals[flagLogLevel] != "debug" {
		t.Errorf("globals: %v", globals)
	}
}

// FuzzPermute: reordering never panics and keeps every argument ("--"
// aside: it is moved, added before positional arguments that look like
// flags, or dropped when nothing follows it).
func FuzzPermute(f *testing.F) {
	for _, s := range []string{"task run x.y --check", "-o json plugins list", "apply -- -x", "--home", "template render - -e", "help"} {
		f.Add(s)
	}
	ca := newApp(&app{stdout: io.Discard, stderr: io.Discard})
	f.Fuzz(func(t *testing.T, line string) {
		in := append([]string{"driftless"}, strings.Split(line, " ")...)
		out, _ := permute(ca, in)
		if a, b := withoutDashes(in), withoutDashes(out); !reflect.DeepEqual(a, b) {
			t.Fatalf("permute(%q) = %q: arguments lost or added", in, out)
		}
	})
}

// withoutDashes returns s sorted, without "--".
func withoutDashes(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "--" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
