package templating

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/testplugin"
)

// loadPlugins builds the test plugins and loads them into one host.
func loadPlugins(t *testing.T, cfg *host.Config, plugins ...testplugin.Plugin) []*host.Plugin {
	t.Helper()
	dir := t.TempDir()
	h, err := host.New(host.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	var out []*host.Plugin
	for _, p := range plugins {
		wasm, err := p.Wasm()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, p.Name+".wasm")
		if err := os.WriteFile(path, wasm, 0o644); err != nil {
			t.Fatal(err)
		}
		pl, err := h.Load(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pl)
	}
	return out
}

func extPlugin(name string, exts ...testplugin.Extension) testplugin.Plugin {
	return testplugin.Plugin{Name: name, Version: "1.0.0", Extensions: exts}
}

var (
	wrap   = testplugin.Extension{Name: "wrap", Args: []testplugin.Arg{{Name: "first"}, {Name: "second-arg"}}, Do: testplugin.Echo("")}
	args   = testplugin.Extension{Name: "args", Function: true, Do: testplugin.Echo("")}
	answer = testplugin.Extension{Name: "answer", Function: true, Do: testplugin.Const(`42`)}
	bad    = testplugin.Extension{Name: "bad", Do: testplugin.Fail("invalid-input", "value refused")}
	upper  = testplugin.Extension{Name: "upper", Do: testplugin.Const(`"PLUGIN"`)}
	ranged = testplugin.Extension{Name: "range", Function: true, Do: testplugin.Const(`"plugin range"`)}
)

func render(t *testing.T, env *Env, src string, data map[string]any) string {
	t.Helper()
	out, err := env.RenderString(context.Background(), "test.j2", src, data)
	if err != nil {
		t.Fatalf("render %q: %v", src, err)
	}
	return out
}

func TestPluginFiltersAndFunctions(t *testing.T) {
	env := New(loadPlugins(t, nil, extPlugin("my-plugin", wrap, args, answer, upper, ranged)))
	for _, c := range []struct{ src, want string }{
		{`{{ "a" | wrap(1) | tojson }}`, `["a",1]`},
		{`{{ "a" | my_plugin__wrap(1) | tojson }}`, `["a",1]`},
		{`{{ args("x", 2) | tojson }}`, `["x",2]`},
		{`{{ my_plugin__args() | tojson }}`, `[]`},
		{`{{ answer() + 1 }}`, `43`},
		{`{{ answer() is integer }}`, `True`},
		// values cross as JSON, both ways
		{`{{ {"k": [1, 2.5, None, true, "s"]} | wrap | tojson }}`, `[{"k":[1,2.5,null,true,"s"]}]`},
		{`{{ (1 | wrap)[0] + 1 }}`, `2`},
		{`{{ ({"a": {"b": 3}} | wrap)[0].a.b }}`, `3`},
		// keyword arguments by declared name; '-' in a name becomes '_'
		{`{{ 1 | wrap(second_arg=3) | tojson }}`, `[1,null,3]`},
		{`{{ 1 | wrap(2, second_arg=3) | tojson }}`, `[1,2,3]`},
		// plugins win over gonja builtins; builtins stay reachable
		{`{{ "x" | upper }}`, `PLUGIN`},
		{`{{ "x" | builtin__upper }}`, `X`},
		{`{{ range() }}`, `plugin range`},
		{`{{ builtin__range(3) | list | tojson }}`, `[0,1,2]`},
		{`{{ "x" | lower }}`, `x`},
	} {
		if got := render(t, env, c.src, nil); got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
	var names []string
	for _, b := range env.Filters() {
		names = append(names, b.Name)
	}
	if strings.Join(names, " ") != "my_plugin__upper my_plugin__wrap upper wrap" {
		t.Errorf("filters: %v", names)
	}
}

func TestKeywordArgumentErrors(t *testing.T) {
	need := testplugin.Extension{Name: "need", Function: true, Do: testplugin.Echo(""),
		Args: []testplugin.Arg{{Name: "a", Required: true}, {Name: "b-arg", Required: true}, {Name: "c"}}}
	env := New(loadPlugins(t, nil, extPlugin("p", wrap, args, need)))
	for _, ok := range []string{`{{ need(1, 2) | tojson }}`, `{{ need(1, b_arg=2, c=3) | tojson }}`, `{{ need(b_arg=2, a=None) | tojson }}`} {
		if _, err := env.RenderString(context.Background(), "t", ok, nil); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for src, want := range map[string]string{
		`{{ 1 | wrap(third=1) }}`:    "filter wrap: no argument named third (arguments: first, second_arg)",
		`{{ 1 | wrap(2, first=1) }}`: "argument first is given twice",
		`{{ args(x=1) }}`:            "function args: no argument named x (it declares no arguments)",
		`{{ 1 | wrap(1, 2, 3) }}`:    "filter wrap: takes at most 2 arguments (first, second_arg), got 3",
		`{{ need(b_arg=1) }}`:        "function need: argument a is required",
		`{{ need() }}`:               "function need: argument a is required",
		`{{ need(1) }}`:              "function need: argument b_arg is required",
	} {
		_, err := env.RenderString(context.Background(), "t", src, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}

func TestAmbiguousNames(t *testing.T) {
	env := New(loadPlugins(t, nil, extPlugin("beta", wrap), extPlugin("alpha", wrap)))
	_, err := env.RenderString(context.Background(), "t", "{{ 1 | wrap }}", nil)
	want := "filter wrap: the name is ambiguous: several plugins provide it; use one of alpha__wrap (plugin alpha), beta__wrap (plugin beta)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v", err)
	}
	if got := render(t, env, "{{ 1 | alpha__wrap | tojson }}{{ 2 | beta__wrap | tojson }}", nil); got != "[1][2]" {
		t.Errorf("qualified: %q", got)
	}
}

func TestBrokenPluginsAreLeftOut(t *testing.T) {
	ps := loadPlugins(t, nil, extPlugin("p", wrap))
	h, err := host.New(host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	broken, err := h.LoadBytes(context.Background(), "broken", []byte("not wasm"))
	if err == nil || broken == nil {
		t.Fatalf("broken plugin loaded: %v", err)
	}
	env := New(append(ps, nil, broken))
	if len(env.Functions()) != 0 || len(env.Filters()) != 2 {
		t.Errorf("got %v %v", env.Functions(), env.Filters())
	}
}

func TestScope(t *testing.T) {
	env := New(nil)
	scope, err := Scope(map[string]any{"os": "linux", "js-plugin": map[string]any{"engine": "js"}}, map[string]any{"name": "Ada", "my-var": 1})
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, env, `{{ name }} {{ vars.name }} {{ vars["my-var"] }} {{ facts.os }} {{ facts["js-plugin"].engine }}`, scope)
	if got != "Ada Ada 1 linux js" {
		t.Errorf("got %q", got)
	}
	for _, reserved := range []string{"facts", "vars"} {
		if _, err := Scope(nil, map[string]any{reserved: 1}); err == nil {
			t.Errorf("%s accepted as a variable", reserved)
		}
	}
}

func TestRenderingRules(t *testing.T) {
	env := New(nil)
	for _, c := range []struct{ src, want string }{
		{"a\n", "a\n"}, // trailing newline kept
		{"{% if true %}\nyes\n{% endif %}\n", "yes\n"}, // trim_blocks
		{"{{ x is defined }} {{ x | default('d') }}", "False d"},
	} {
		if got := render(t, env, c.src, nil); got != c.want {
			t.Errorf("%q = %q, want %q", c.src, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	timeout := 0.3
	env := New(loadPlugins(t, &host.Config{Security: host.Security{ExecutionTimeoutSecs: &timeout}}, extPlugin("p", bad,
		testplugin.Extension{Name: "spin", Do: testplugin.Spin()})))
	for _, c := range []struct {
		src  string
		line int
		msg  string
		kind host.ErrorKind
	}{
		{"one\ntwo {{ nope }}\n", 2, `Unable to evaluate name "nope"`, ""},
		{"one\n{% for i in [1] %}\n  {{ i.x }}\n{% endfor %}\n", 3, "attribute 'x' not found", ""},
		{"one\ntwo\n{{ x \n", 3, "syntax error: '}}' expected here", ""},
		{"{{ 1 | nosuchfilter }}", 1, "filter 'nosuchfilter' not found", ""},
		{"a\nb\n{{ 1 | bad }}", 3, "filter bad: plugin p: templates.apply-filter: value refused", host.KindInvalidInput},
		{"{{ 1 | spin }}", 1, "execution timeout of 300ms exceeded", host.KindTimeout},
	} {
		_, err := env.RenderString(context.Background(), "my.j2", c.src, nil)
		var te *Error
		if !errors.As(err, &te) {
			t.Errorf("%q: %v is not a template error", c.src, err)
			continue
		}
		if te.File != "my.j2" || te.Line != c.line || !strings.Contains(te.Msg, c.msg) {
			t.Errorf("%q: got file %q line %d msg %q; want line %d msg %q", c.src, te.File, te.Line, te.Msg, c.line, c.msg)
		}
		if c.kind != "" {
			var he *host.Error
			if !errors.As(err, &he) || he.Kind != c.kind {
				t.Errorf("%q: kind %v, want %s", c.src, err, c.kind)
			}
		} else if te.Err != nil {
			t.Errorf("%q: unexpected plugin error %v", c.src, te.Err)
		}
	}
}

func TestRenderFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "part.j2"), []byte("part {{ name }}"), 0o644)
	main := filepath.Join(dir, "main.j2")
	os.WriteFile(main, []byte("{% include 'part.j2' %}!\n"), 0o644)
	got, err := New(nil).RenderFile(context.Background(), main, map[string]any{"name": "x"})
	if err != nil || got != "part x!\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	bad := filepath.Join(dir, "bad.j2")
	os.WriteFile(bad, []byte("ok\n{% if %}\n"), 0o644)
	_, err = New(nil).RenderFile(context.Background(), bad, nil)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":") {
		t.Fatalf("got %v", err)
	}
	if _, err := New(nil).RenderFile(context.Background(), filepath.Join(dir, "missing.j2"), nil); err == nil {
		t.Fatal("missing file rendered")
	}
}

// TestNoPanics feeds odd templates: every one renders or fails, none panics.
func TestNoPanics(t *testing.T) {
	env := New(nil)
	for _, src := range []string{
		"{{", "}}", "{%", "{% endfor %}", "{% for x in %}", "{{ 1/0 }}", "{{ [] | first }}", "{{ none.x }}",
		"{{ 'a' * -1 }}", "{% macro m() %}{{ m() }}{% endmacro %}", "{{ {1: 2} | tojson }}", "{#", "{% raw %}",
		"{{ x[0:] }}", "{{ ''.join }}", "{{ range(3)[5] }}", "{% set x = %}", "{{ 1 | int(base=99) }}",
		"\x00{{\xff}}", "{% include 'nope' %}", "{% extends 'nope' %}", "{{ 9999999999999999999999 }}",
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%q panicked: %v", src, r)
				}
			}()
			env.RenderString(context.Background(), "t", src, nil)
		}()
	}
}

func TestIdent(t *testing.T) {
	for in, want := range map[string]string{"js-plugin": "js_plugin", "a.b c": "a_b_c", "9lives": "_9lives", "": "_", "ok_1": "ok_1", "é": "_"} {
		if got := Ident(in); got != want {
			t.Errorf("Ident(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSONConversion(t *testing.T) {
	v, err := fromJSON(`{"i": 1, "f": 1.5, "big": 1e300, "l": [true, null, "s"]}`)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["i"] != 1 || m["f"] != 1.5 || m["big"] != 1e300 {
		t.Errorf("numbers: %#v", m)
	}
	if _, err := fromJSON(`1 2`); err == nil {
		t.Error("trailing data accepted")
	}
	if _, err := fromJSON(`{`); err == nil {
		t.Error("bad JSON accepted")
	}
}

// plugins.toml's [plugins.NAME.extensions.EXT] is the config a template
// extension gets; without one it gets {}. A config the extension's schema
// refuses, or one for an extension the plugin lacks, stops the plugin from
// loading, naming the key.
func TestExtensionConfig(t *testing.T) {
	schema := `{"type": "object", "properties": {"style": {"enum": ["loud", "quiet"]}}, "additionalProperties": false}`
	conf := testplugin.Extension{Name: "conf", Function: true, Schema: schema, Do: testplugin.EchoConfig()}
	plain := testplugin.Extension{Name: "plain", Do: testplugin.EchoConfig()}
	cfg, err := host.ParseConfig("plugins.toml", []byte("[plugins.p.extensions.conf]\nstyle = \"loud\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := New(loadPlugins(t, cfg, extPlugin("p", conf, plain)))
	if got := render(t, env, `{{ conf() | tojson }} {{ 1 | plain | tojson }}`, nil); got != `{"style":"loud"} {}` {
		t.Errorf("configs: %s", got)
	}

	for toml, want := range map[string]string{
		"[plugins.p.extensions.conf]\nstyle = \"shrill\"\n": `plugins.toml [plugins.p.extensions.conf]: extension "conf"`,
		"[plugins.p.extensions.nosuch]\nx = 1\n":            `plugins.toml configures extension "nosuch", which the plugin does not provide (it provides: conf, plain)`,
	} {
		cfg, err := host.ParseConfig("plugins.toml", []byte(toml))
		if err != nil {
			t.Fatal(err)
		}
		h, err := host.New(host.Options{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		wasm, err := extPlugin("p", conf, plain).Wasm()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.LoadBytes(context.Background(), "p", wasm); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", toml, err, want)
		}
	}
}

// A template file, or a file it includes, that is a FIFO or a device is
// refused without blocking; one over MaxTemplateSize before it is read.
func TestSpecialAndHugeTemplateFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.j2")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.j2")
	if err := os.WriteFile(big, make([]byte, MaxTemplateSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, src, file, want string }{
		{"fifo", "", fifo, "cannot read the template: is a named pipe (FIFO), not a regular file"},
		{"device", "", "/dev/zero", "cannot read the template: is a character device, not a regular file"},
		{"huge", "", big, "cannot read the template: is 1048577 bytes, more than the limit of 1048576 bytes"},
		{"include fifo", "{% include 'fifo.j2' %}", "", "fifo.j2: is a named pipe (FIFO), not a regular file"},
		{"include device", "{% include '/dev/zero' %}", "", "/dev/zero: is a character device, not a regular file"},
		{"import fifo", "{% import 'fifo.j2' as f %}", "", "fifo.j2: is a named pipe (FIFO), not a regular file"},
		{"extends huge", "{% extends 'big.j2' %}", "", "big.j2: is 1048577 bytes, more than the limit of 1048576 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := c.file
			if file == "" {
				file = filepath.Join(dir, "main.j2")
				if err := os.WriteFile(file, []byte(c.src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 1)
			go func() {
				_, err := New(nil).RenderFile(context.Background(), file, nil)
				done <- err
			}()
			select {
			case err := <-done:
				var te *Error
				if !errors.As(err, &te) || te.File != file || !strings.Contains(te.Msg, c.want) {
					t.Fatalf("got %v\nwant %s: ...%s", err, file, c.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("rendering blocked on a special file")
			}
		})
	}
}
