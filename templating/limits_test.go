package templating

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nikolalohinski/gonja/v2/builtins"

	"github.com/driftless-dev/driftless/host"
)

// renderLimited renders src (files, if any, are written next to it) under
// lim and returns the output and the error; it fails the test when the
// render takes more than wait.
func renderLimited(t *testing.T, lim Limits, src string, files map[string]string, wait time.Duration) (string, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "main.j2")
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	type res struct {
		out string
		err error
	}
	done := make(chan res, 1)
	go func() {
		out, err := New(nil).WithLimits(lim).RenderFile(context.Background(), main, nil)
		done <- res{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-time.After(wait):
		t.Fatalf("rendering %.60q took more than %s", src, wait)
		return "", nil
	}
}

// wantLimit checks that err is a template error at line of the named
// limit, whose message starts with msg.
func wantLimit(t *testing.T, err error, limit string, line int, msg string) {
	t.Helper()
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a template error", err)
	}
	if te.Limit != limit || te.Line != line || !strings.HasPrefix(te.Msg, msg) {
		t.Fatalf("got limit %q line %d msg %q\nwant limit %q line %d msg %q...", te.Limit, te.Line, te.Msg, limit, line, msg)
	}
}

// TestDepthLimit: recursion (a macro calling itself, a template including,
// extending or importing itself) and nesting (100,000 parentheses, blocks
// or operators) used to overflow Go's stack, which kills the process; they
// stop at max_depth with an error naming the file and line.
func TestDepthLimit(t *testing.T) {
	const depthMsg = "template limit max_depth (200) reached: "
	recursion := depthMsg + "macro calls, includes, blocks and loops nested more than 200 deep"
	for _, c := range []struct {
		name, src string
		files     map[string]string
		line      int
		msg       string
	}{
		{"macro calls itself", "x\n{% macro f(n) %}{{ f(n) }}{% endmacro %}\n{{ f(1) }}", nil, 2, recursion},
		{"mutual recursion", "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", nil, 1, recursion},
		{"caller recursion", "{% macro m() %}{% call m() %}x{% endcall %}{% endmacro %}{{ m() }}", nil, 1, recursion},
		{"recursive loop", "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", nil, 1, recursion},
		{"include itself", "{% include 'main.j2' %}", nil, 1, recursion},
		{"include each other", "{% include 'other.j2' %}", map[string]string{"other.j2": "\n{% include 'main.j2' %}"}, 1, recursion},
		{"extends itself", "{% extends 'main.j2' %}", nil, 1, depthMsg + "blocks, extends and imports nested more than 200 deep"},
		{"imports itself", "{% from 'main.j2' import m %}{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", nil, 1, ""},
		{"100,000 parentheses", "{{ " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + " }}", nil, 1,
			depthMsg + "an expression (brackets and operators) nested more than 200 deep"},
		{"100,000 nested lists", "{{ " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + " }}", nil, 1,
			depthMsg + "an expression (brackets and operators) nested more than 200 deep"},
		{"a long chain of operators", "\n{{ 1" + strings.Repeat(" + 1", 100000) + " }}", nil, 2,
			depthMsg + "an expression (brackets and operators) nested more than 200 deep"},
		{"a long chain of attributes", "{{ x" + strings.Repeat(".a", 1000) + " }}", nil, 1,
			depthMsg + "an expression (brackets and operators) nested more than 200 deep"},
		{"10,000 nested ifs", strings.Repeat("{% if 1 %}\n", 10000) + strings.Repeat("{% endif %}", 10000), nil, 201,
			depthMsg + "blocks nested more than 200 deep"},
		{"nested in an include", "{% include 'deep.j2' %}", map[string]string{"deep.j2": "{{ " + strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000) + " }}"}, 1,
			depthMsg + "an expression (brackets and operators) nested more than 200 deep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := renderLimited(t, Limits{}, c.src, c.files, 30*time.Second)
			if c.msg == "" { // only: it ends, with a depth error
				var te *Error
				if !errors.As(err, &te) || te.Limit != LimitDepth {
					t.Fatalf("got %v", err)
				}
				return
			}
			wantLimit(t, err, LimitDepth, c.line, c.msg)
		})
	}
	// What is allowed renders.
	out, err := renderLimited(t, Limits{}, "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}done{% endif %}{% endmacro %}{{ f(90) }}", nil, 30*time.Second)
	if err != nil || out != "done" {
		t.Fatalf("90 recursive calls: %q %v", out, err)
	}
	if _, err := renderLimited(t, Limits{}, "{{ "+strings.Repeat("(", 190)+"1"+strings.Repeat(")", 190)+" }}", nil, 30*time.Second); err != nil {
		t.Fatalf("190 parentheses: %v", err)
	}
	// Configurable.
	_, err = renderLimited(t, Limits{MaxDepth: 10}, "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(20) }}", nil, 30*time.Second)
	wantLimit(t, err, LimitDepth, 1, "template limit max_depth (10) reached")
}

// TestOutputLimit: the output, and every string a template builds, stay
// under max_output; what would allocate more (and kill the process when
// Go cannot) is refused before it is built.
func TestOutputLimit(t *testing.T) {
	const outMsg = "template limit max_output (16777216 bytes) reached: "
	for _, c := range []struct {
		name, src string
		limit     string
		line      int
		msg       string
	}{
		{"string repeated", "a\n{{ 'x' * 1000000000000 }}", LimitOutput, 2,
			outMsg + "a string of 1 bytes repeated 1000000000000 times would be more than 16777216 bytes"},
		{"repeated in a set", "{% set x = 'ab' * 100000000 %}{{ x }}", LimitOutput, 1, outMsg + "a string of 2 bytes repeated 100000000 times"},
		{"doubling", "{% set ns = namespace(x='ab') %}{% for i in range(60) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}", LimitOutput, 1,
			outMsg + "the concatenated string would be"},
		{"list doubling", "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", LimitOutput, 1,
			outMsg + "the concatenated list would be"},
		{"a large output", "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", LimitOutput, 1, outMsg + "the output would be"},
		{"a macro's output", "{% macro m() %}{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}{% endmacro %}{% set x = m() %}", LimitOutput, 1,
			outMsg + "the output of a macro, block or {% set %} would be"},
		{"one string printed many times", "{% set s = 'x' * 10000000 %}{{ [s, s, s] }}", LimitOutput, 1, outMsg + "the value printed would be"},
		{"joined", "{% set s = 'x' * 10000000 %}{{ [s, s, s] | join }}", LimitOutput, 1, outMsg + "the joined list would be"},
		{"center", "{{ 'x' | center(1000000000000) }}", LimitOutput, 1, outMsg + "center(1000000000000)"},
		{"str.center", "{{ 'x'.center(1000000000000) }}", LimitOutput, 1, outMsg + "center(1000000000000)"},
		{"str.zfill", "{{ '1'.zfill(1000000000000) }}", LimitOutput, 1, outMsg + "zfill(1000000000000)"},
		{"replace", "{% set s = 'x' * 5000 %}{{ s | replace('', s) }}", LimitOutput, 1, outMsg + "replacing 5001 occurrences with 5000 bytes"},
		{"format width", "{{ '{:>1000000000000}'.format(1) }}", LimitOutput, 1, outMsg + "a field of width 1000000000000"},
		{"indent", "{{ ('x\\n' * 100000) | indent(1000) }}", LimitOutput, 1, outMsg + "indent(1000) of 100001 lines"},
		{"lipsum", "{{ lipsum(n=100000000) }}", LimitOutput, 1, outMsg + "lipsum"},
		{"self-appended list", "{% set l = [1] %}{% for i in range(2000) %}{% do l.append(l) %}{% endfor %}{{ l | tojson }}", "", 0, ""},
		{"range", "{% for i in range(100000000) %}{% endfor %}", LimitRange, 1,
			"template limit range (100000 items) reached: range() of 100000000 items"},
		{"batch", "{{ [1] | batch(1000000000000, fill_with=0) }}", LimitRange, 1, "template limit range (100000 items) reached: batch(1000000000000)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := renderLimited(t, Limits{}, c.src, nil, 60*time.Second)
			if c.limit == "" { // ends, under the limit, either way
				if int64(len(out)) > DefaultMaxOutput {
					t.Fatalf("%d bytes of output", len(out))
				}
				return
			}
			wantLimit(t, err, c.limit, c.line, c.msg)
		})
	}
	// Under the limit, and configurable.
	out, err := renderLimited(t, Limits{MaxOutput: 10}, "{{ 'x' * 10 }}", nil, 30*time.Second)
	if err != nil || out != "xxxxxxxxxx" {
		t.Fatalf("10 bytes: %q %v", out, err)
	}
	_, err = renderLimited(t, Limits{MaxOutput: 10}, "{{ 'x' * 5 }}{{ 'y' * 6 }}", nil, 30*time.Second)
	wantLimit(t, err, LimitOutput, 1, "template limit max_output (10 bytes) reached: the output would be more than 10 bytes")
}

// TestOperatorsKeepTheirMeaning: the bounded *, + and ~ compute what
// gonja's do, falsy results included.
func TestOperatorsKeepTheirMeaning(t *testing.T) {
	env := New(nil)
	for src, want := range map[string]string{
		"{{ 2 * 3 }}": "6", "{{ 'ab' * 2 }}": "abab", "{{ 1.5 * 2 }}": "3.0", "{{ 'a' * 0 }}": "", "{{ 'a' * -1 }}": "",
		"{{ 0 * 5 }}": "0", "{{ 1 + 2 }}": "3", "{{ 0 + 0 }}": "0", "{{ 1 + 2.5 }}": "3.5", "{{ 'a' + 'b' }}": "ab",
		"{{ [1] + [2, 3] }}": "[1, 2, 3]", "{{ [] + [] }}": "[]", "{{ 'a' ~ 1 ~ None }}": "a1", "{{ '' ~ '' }}": "",
		"{{ (2 * 3) + 1 }}": "7", "{{ 2 * 3 + 1 == 7 }}": "True", "{% set x = 'a' * 3 %}{{ x }}": "aaa",
		"{% for i in range(3) %}{{ i * 2 }}{% endfor %}": "024", "{{ range(2, 10, 3) | list }}": "[2, 5, 8]",
		"{{ range(3, 0, -1) | list }}": "[3, 2, 1]", "{{ range(0) | list }}": "[]",
		"{% macro m(a, b=2 * 3) %}{{ a ~ b }}{% endmacro %}{{ m('x') }}": "x6",
	} {
		if got := render(t, env, src, nil); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	_, err := env.RenderString(context.Background(), "t", "{{ [1] + 2 }}", nil)
	if err == nil || !strings.Contains(err.Error(), "Unable to concatenate list to 2") {
		t.Errorf("list + int: %v", err)
	}
}

// TestTimeLimit: long loops stop at the time limit and when the context
// ends (ctrl-C), with the render's error returned at once.
func TestTimeLimit(t *testing.T) {
	loops := "a\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
	start := time.Now()
	_, err := renderLimited(t, Limits{Timeout: 300 * time.Millisecond}, loops, nil, 10*time.Second)
	wantLimit(t, err, LimitTimeout, 2, "template limit timeout_secs (0.3) reached: rendering took longer than 300ms")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stopped after %s", d)
	}
	for _, src := range []string{loops, "{% macro f() %}{% for i in range(100000) %}{{ i }}{% endfor %}{% endmacro %}{% for j in range(100000) %}{% set x = f() %}{% endfor %}"} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start = time.Now()
		_, err = New(nil).RenderString(ctx, "t", src, nil)
		var te *Error
		if !errors.As(err, &te) || te.Msg != "rendering interrupted" || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("stopped %s after the context ended", d)
		}
	}
}

// TestLimitsOf: plugins.toml's [templates] section sets the limits.
func TestLimitsOf(t *testing.T) {
	if got := LimitsOf(nil); got != DefaultLimits() {
		t.Errorf("defaults: %+v", got)
	}
	c, err := host.ParseConfig("p.toml", []byte("[templates]\nmax_depth = 50\nmax_output = 1024\ntimeout_secs = 2.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := LimitsOf(c), (Limits{MaxDepth: 50, MaxOutput: 1024, Timeout: 2500 * time.Millisecond}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// The lists of names the limits wrap must match gonja's: a name gonja
// drops fails here, one it adds would go unbounded (checked by hand).
func TestBuiltinNamesWrapped(t *testing.T) {
	for _, n := range controlStructureNames {
		if !builtins.ControlStructures.Exists(n) {
			t.Errorf("gonja has no control structure %q", n)
		}
	}
	for _, n := range strMethodNames {
		if _, ok := builtins.Methods.Str.Get(n); !ok {
			t.Errorf("gonja has no string method %q", n)
		}
	}
}

// FuzzTemplateLimits: whatever the template, rendering under small limits
// ends in time, without a panic, with at most max_output bytes of output.
func FuzzTemplateLimits(f *testing.F) {
	for _, s := range []string{
		"{{ x }}", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "{{ 'a' * 99999 }}", "{% for i in range(9) %}{{ i }}{% endfor %}",
		"{{ ((((1)))) + [1][0] ~ 'x' }}", "{% set s = 'x' * 1000 %}{{ [s,s,s,s] | join }}", "{{ '{:>99}'.format(1) }}",
		"{% if 1 %}{% for x in [1,2] recursive %}{{ loop([]) }}{% endfor %}{% endif %}", "{{ 'ab' | center(80) | replace('', '-') }}",
	} {
		f.Add(s)
	}
	env := New(nil).WithLimits(Limits{MaxDepth: 20, MaxOutput: 64 << 10, Timeout: time.Second})
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4<<10 {
			return
		}
		done := make(chan string, 1)
		go func() {
			out, _ := env.RenderString(context.Background(), "fuzz.j2", src, map[string]any{"x": 1})
			done <- out
		}()
		select {
		case out := <-done:
			if len(out) > 64<<10 {
				t.Fatalf("%d bytes of output", len(out))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("still rendering after 10s: %q", src)
		}
	})
}
