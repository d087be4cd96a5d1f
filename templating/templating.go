// Package templating renders Jinja2 templates for Driftless with gonja
// (github.com/nikolalohinski/gonja/v2), with every template filter and
// function of the loaded plugins registered and values crossing to plugins
// as JSON.
//
// # Names
//
// A plugin extension is registered under two identifiers (Jinja
// identifiers: every character other than a letter, digit or underscore
// becomes "_", and a leading digit gets a "_" in front):
//
//   - its short name: filter "shout" of plugin "js-plugin" is
//     {{ x | shout }}, function "greet" is {{ greet("Ada") }};
//   - its qualified name, plugin and extension joined by two underscores:
//     {{ x | js_plugin__shout }}, {{ js_plugin__greet("Ada") }}.
//
// Clashes are resolved the same way whatever the load order:
//
//   - a name claimed by exactly one plugin extension is that extension,
//     even when gonja has a builtin of that name (the plugin wins, as
//     Ansible's filter plugins do); every builtin filter and global
//     function stays reachable as builtin__NAME ({{ x | builtin__upper }});
//   - a name claimed by several plugin extensions is bound to none: using
//     it fails with an error that lists the qualified names to use instead;
//   - a template variable shadows a function of the same name.
//
// # Values
//
// The filtered value and every argument are converted to JSON (strings,
// numbers, booleans, none as null, lists, dicts with string keys) and the
// plugin's JSON result is converted back (integers stay integers). Keyword
// arguments are placed by the extension's declared argument names:
// {{ x | shout(exclamations=3) }}; gaps become null. Extensions are called
// with the config {}.
//
// # Rendering
//
// Undefined variables are errors (StrictUndefined; use `is defined` or
// `default`), trim_blocks is on and a trailing newline is kept, as
// Ansible's template module does. Errors are *Error values naming the
// template, the line and the cause.
package templating

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/parser"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/templates"
	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
)

// BuiltinPrefix is the prefix under which gonja's builtin filters and
// global functions stay reachable when a plugin takes their name.
const BuiltinPrefix = "builtin__"

// Reserved variable names: the facts, and all variables as one map.
const (
	FactsVar = "facts"
	VarsVar  = "vars"
)

// Extension is one plugin template extension.
type Extension struct {
	Plugin     *host.Plugin
	Definition templates.ExtensionDefinition
}

// Filter reports whether the extension is a filter (else a function).
func (x Extension) Filter() bool { return x.Definition.Kind == templates.ExtensionKindFilter }

// Qualified returns the extension's qualified template name.
func (x Extension) Qualified() string {
	return Ident(x.Plugin.Name()) + "__" + Ident(x.Definition.Name)
}

// Binding is one template name and what it calls: one extension, or
// several when the name is ambiguous (then calling it is an error).
type Binding struct {
	Name       string
	Filter     bool
	Extensions []Extension
}

// Ambiguous reports whether several extensions claim the name.
func (b Binding) Ambiguous() bool { return len(b.Extensions) > 1 }

// Env renders templates. It is safe for concurrent use.
type Env struct {
	filters   []Binding
	functions []Binding
	limits    Limits
	dir       string // where RenderString resolves includes; "" for the working directory
}

// New returns an environment with the filters and functions of plugins;
// plugins that did not load are left out.
func New(plugins []*host.Plugin) *Env {
	claims := [2]map[string][]Extension{{}, {}} // functions, filters
	var names [2][]string
	claim := func(filter bool, name string, x Extension) {
		i := 0
		if filter {
			i = 1
		}
		if _, seen := claims[i][name]; !seen {
			names[i] = append(names[i], name)
		}
		claims[i][name] = append(claims[i][name], x)
	}
	var usable []*host.Plugin
	for _, p := range plugins {
		if p != nil && p.Err() == nil {
			usable = append(usable, p)
		}
	}
	sort.Slice(usable, func(i, j int) bool { return usable[i].Name() < usable[j].Name() })
	for _, p := range usable {
		for _, d := range p.Extensions() {
			x := Extension{Plugin: p, Definition: d}
			claim(x.Filter(), Ident(d.Name), x)
			claim(x.Filter(), x.Qualified(), x)
		}
	}
	e := &Env{}
	for i, list := range []*[]Binding{&e.functions, &e.filters} {
		sort.Strings(names[i])
		for _, n := range names[i] {
			*list = append(*list, Binding{Name: n, Filter: i == 1, Extensions: claims[i][n]})
		}
	}
	return e
}

// Filters returns the plugin filter names, sorted.
func (e *Env) Filters() []Binding { return e.filters }

// Functions returns the plugin function names, sorted.
func (e *Env) Functions() []Binding { return e.functions }

// Ident turns a plugin or extension name into a Jinja identifier.
func Ident(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// Scope returns the variables templates see: vars at the top level and
// as the map `vars`, facts as `facts`. A variable named facts or vars is
// an error.
func Scope(facts, vars map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(vars)+2)
	for k, v := range vars {
		if k == FactsVar || k == VarsVar {
			return nil, fmt.Errorf("variable name %q is reserved (facts are {{ facts.NAME }}, variables also {{ vars.NAME }})", k)
		}
		out[k] = v
	}
	if facts == nil {
		facts = map[string]any{}
	}
	if vars == nil {
		vars = map[string]any{}
	}
	out[FactsVar] = facts
	out[VarsVar] = vars
	return out, nil
}

// Error is a template that does not parse or render.
type Error struct {
	File   string // the template file, or the name given to RenderString
	Line   int    // 1-based; 0 when gonja does not tell
	Column int    // 1-based; 0 when unknown
	Msg    string // the cause, for people
	// Limit is the limit the template reached (LimitDepth, LimitOutput,
	// LimitTimeout, LimitRange); "" for other errors.
	Limit string
	// Err is a plugin's *host.Error when a plugin call failed, or
	// context.Canceled when the render was interrupted; else nil.
	Err error
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			loc += ":" + strconv.Itoa(e.Column)
		}
	}
	return loc + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// RenderFile renders the template in the file at path; {% include %} and
// {% extends %} resolve relative to its directory. A path that is not a
// regular file (a FIFO, a device) or is larger than MaxTemplateSize is
// refused before it is read.
func (e *Env) RenderFile(ctx context.Context, path string, data map[string]any) (string, error) {
	src, err := safefile.ReadFile(path, MaxTemplateSize)
	if err != nil {
		return "", &Error{File: path, Msg: "cannot read the template: " + safefile.Reason(err), Err: err}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	return e.render(ctx, path, src, dir, data)
}

// RenderString renders src; name identifies it in errors. Includes
// resolve relative to the directory WithDir set, else the working
// directory.
func (e *Env) RenderString(ctx context.Context, name, src string, data map[string]any) (string, error) {
	dir := e.dir
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			dir = "/"
		}
	}
	return e.render(ctx, name, []byte(src), dir, data)
}

// call is the state of one render: the context plugin calls run in and the
// first plugin failure (gonja turns errors into text on the way up).
type call struct {
	ctx    context.Context
	mu     sync.Mutex
	failed *extensionError
	bounds
}

func (c *call) fail(err *extensionError) *exec.Value {
	c.mu.Lock()
	if c.failed == nil {
		c.failed = err
	}
	c.mu.Unlock()
	return exec.AsValue(err)
}

// extensionError is a failed call of a plugin extension, or a value that
// cannot cross to it.
type extensionError struct {
	what, name string
	err        error
}

func (e *extensionError) Error() string { return fmt.Sprintf("%s %s: %v", e.what, e.name, e.err) }

func (e *extensionError) Unwrap() error { return e.err }

func newConfig() *config.Config {
	c := config.New()
	c.StrictUndefined = true
	c.TrimBlocks = true
	c.KeepTrailingNewline = true
	return c
}

func (e *Env) render(ctx context.Context, name string, src []byte, dir string, data map[string]any) (string, error) {
	lim := e.Limits()
	if int64(len(src)) > MaxTemplateSize {
		return "", &Error{File: name, Msg: fmt.Sprintf("the template is %d bytes, more than the limit of %d bytes", len(src), MaxTemplateSize)}
	}
	// The render runs on a goroutine of its own, so that the caller gets
	// the time limit's error (or ctrl-C's) when it comes, even while the
	// render finishes a step that does not check the time; the render
	// stops at its next check.
	rctx, cancel := context.WithTimeoutCause(ctx, lim.Timeout, errTimeLimit)
	defer cancel()
	const rootID = "driftless-template-root"
	c := &call{ctx: rctx, bounds: bounds{lim: lim, rootID: rootID, name: name, seen: map[any]bool{}}}
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() {
			if r := recover(); r != nil {
				res = result{"", &Error{File: name, Msg: fmt.Sprintf("the template engine failed: %v", r)}}
			}
			done <- res
		}()
		res.out, res.err = e.execute(c, name, src, dir, data)
	}()
	select {
	case res := <-done:
		return res.out, res.err
	case <-rctx.Done():
		// The render stops at its next check (plugin calls end with the
		// context), with an error naming the line it was at: wait for it
		// a little, also so that it is not still using plugins when the
		// caller goes on, e.g. to close them.
		select {
		case res := <-done:
			return res.out, res.err
		case <-time.After(stopGrace):
		}
		return "", c.limitErr(c.stopped(rootID, 0))
	}
}

// stopGrace is how long a render whose time ran out gets to stop.
const stopGrace = 2 * time.Second

func (e *Env) execute(c *call, name string, src []byte, dir string, data map[string]any) (string, error) {
	l := &loader{dir: dir, rootID: c.rootID, rootSrc: src, check: c.prescan}
	tpl, err := exec.NewTemplate(c.rootID, newConfig(), l, e.environment(c))
	if err != nil {
		if lerr := c.reached(); lerr != nil {
			return "", c.limitErr(lerr)
		}
		return "", parseError(name, err)
	}
	c.rewrite(tpl.Root(), c.rootID)
	out := &boundedWriter{c: c}
	if err := tpl.Execute(out, exec.NewContext(data)); err != nil {
		return "", c.renderError(name, err)
	}
	return out.buf.String(), nil
}

// limitErr turns a limit reached into the *Error the caller gets.
func (c *call) limitErr(l *limitError) *Error {
	file := l.file
	if file == "" || file == c.rootID {
		file = c.name
	}
	return &Error{File: file, Line: l.line, Msg: l.msg, Limit: l.limit, Err: l.err}
}

// environment builds gonja's environment for one render: builtins under
// the limits, their builtin__ aliases, the plugin extensions bound to c,
// and the functions the rewritten operators call.
func (e *Env) environment(c *call) *exec.Environment {
	b := gonjaBuiltins()
	filters := make(map[string]exec.FilterFunction, 2*len(b.filters)+len(e.filters))
	for n, f := range b.filters {
		f = c.boundedFilter(n, f)
		filters[n] = f
		filters[BuiltinPrefix+n] = f
	}
	for _, x := range e.filters {
		filters[x.Name] = c.filter(x)
	}
	vars := make(map[string]any, len(b.globals)+len(b.functions)+len(e.functions)+2)
	for n, v := range b.globals {
		vars[n] = v
	}
	for n, f := range b.functions {
		f = c.boundedFunction(n, f)
		if n == "range" {
			f = c.rangeFunction
		}
		vars[n] = f
		vars[BuiltinPrefix+n] = f
	}
	for _, x := range e.functions {
		vars[x.Name] = c.function(x)
	}
	vars[opFunc] = c.operator
	vars[lastFunc] = func(*exec.VarArgs) *exec.Value { return c.last }
	return &exec.Environment{
		Context:           exec.NewContext(vars),
		Filters:           exec.NewFilterSet(filters),
		Tests:             builtins.Tests,
		ControlStructures: c.controlStructures(),
		Methods:           c.methods(),
	}
}

// gonjaBuiltins lists gonja's builtin filters, global functions and
// global variables (its sets do not list their names; copying them into
// a map of ours does).
var gonjaBuiltins = sync.OnceValue(func() (b struct {
	filters   map[string]exec.FilterFunction
	functions map[string]any
	globals   map[string]any
}) {
	b.filters = map[string]exec.FilterFunction{}
	exec.NewFilterSet(b.filters).Update(builtins.Filters)
	b.functions = map[string]any{}
	exec.NewContext(b.functions).Update(builtins.GlobalFunctions)
	b.globals = map[string]any{}
	exec.NewContext(b.globals).Update(builtins.GlobalVariables)
	return b
})

func (c *call) filter(b Binding) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if err := c.tick(c.rootID, 0); err != nil {
			return exec.AsValue(err)
		}
		if b.Ambiguous() {
			return c.fail(ambiguous(b))
		}
		x := b.Extensions[0]
		value, err := toJSON(in)
		if err != nil {
			return c.fail(&extensionError{"filter", b.Name, fmt.Errorf("the value cannot cross to the plugin as JSON: %v", err)})
		}
		args, err := arguments(x, params)
		if err != nil {
			return c.fail(&extensionError{"filter", b.Name, err})
		}
		out, err := x.Plugin.ApplyFilter(c.ctx, x.Definition.Name, x.Plugin.ExtensionConfig(x.Definition.Name), value, args)
		if err != nil {
			return c.fail(&extensionError{"filter", b.Name, err})
		}
		return c.result("filter", b.Name, out)
	}
}

func (c *call) function(b Binding) func(*exec.VarArgs) *exec.Value {
	return func(params *exec.VarArgs) *exec.Value {
		if err := c.tick(c.rootID, 0); err != nil {
			return exec.AsValue(err)
		}
		if b.Ambiguous() {
			return c.fail(ambiguous(b))
		}
		x := b.Extensions[0]
		args, err := arguments(x, params)
		if err != nil {
			return c.fail(&extensionError{"function", b.Name, err})
		}
		out, err := x.Plugin.CallFunction(c.ctx, x.Definition.Name, x.Plugin.ExtensionConfig(x.Definition.Name), args)
		if err != nil {
			return c.fail(&extensionError{"function", b.Name, err})
		}
		return c.result("function", b.Name, out)
	}
}

func (c *call) result(what, name, out string) *exec.Value {
	v, err := fromJSON(out)
	if err != nil {
		return c.fail(&extensionError{what, name, fmt.Errorf("the plugin's result is not JSON: %v", err)})
	}
	return exec.AsValue(v)
}

func ambiguous(b Binding) *extensionError {
	alts := make([]string, len(b.Extensions))
	for i, x := range b.Extensions {
		alts[i] = fmt.Sprintf("%s (plugin %s)", x.Qualified(), x.Plugin.Name())
	}
	what := "function"
	if b.Filter {
		what = "filter"
	}
	return &extensionError{what, b.Name, fmt.Errorf("the name is ambiguous: several plugins provide it; use one of %s", strings.Join(alts, ", "))}
}

// arguments converts positional and keyword arguments to JSON texts in
// the extension's argument order. An extension that declares its arguments
// gets at most those, and every required one; one that declares none gets
// whatever the template passes (legacy plugins rarely declare theirs).
func arguments(x Extension, params *exec.VarArgs) ([]string, error) {
	args, err := argumentsJSON(x, params)
	if err != nil {
		return nil, err
	}
	decl := x.Definition.Arguments
	if len(decl) == 0 {
		return args, nil
	}
	if len(args) > len(decl) {
		names := make([]string, len(decl))
		for i, a := range decl {
			names[i] = Ident(a.Name)
		}
		return nil, fmt.Errorf("takes at most %d arguments (%s), got %d", len(decl), strings.Join(names, ", "), len(args))
	}
	for i, a := range decl {
		if a.Required && !given(params, i, a.Name) {
			return nil, fmt.Errorf("argument %s is required", Ident(a.Name))
		}
	}
	return args, nil
}

// given reports whether the template passed the extension's argument i,
// named name, by position or keyword.
func given(params *exec.VarArgs, i int, name string) bool {
	if i < len(params.Args) {
		return true
	}
	_, ok := params.KwArgs[name]
	if !ok {
		_, ok = params.KwArgs[Ident(name)]
	}
	return ok
}

func argumentsJSON(x Extension, params *exec.VarArgs) ([]string, error) {
	args := make([]string, 0, len(params.Args))
	for i, a := range params.Args {
		j, err := toJSON(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d cannot cross to the plugin as JSON: %v", i+1, err)
		}
		args = append(args, j)
	}
	if len(params.KwArgs) == 0 {
		return args, nil
	}
	keys := make([]string, 0, len(params.KwArgs))
	for k := range params.KwArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	set := make([]bool, len(args))
	for i := range set {
		set[i] = true
	}
	for _, k := range keys {
		pos := -1
		for i, a := range x.Definition.Arguments {
			if a.Name == k || Ident(a.Name) == k {
				pos = i
				break
			}
		}
		if pos < 0 {
			known := make([]string, len(x.Definition.Arguments))
			for i, a := range x.Definition.Arguments {
				known[i] = Ident(a.Name)
			}
			if len(known) == 0 {
				return nil, fmt.Errorf("no argument named %s (it declares no arguments)", k)
			}
			return nil, fmt.Errorf("no argument named %s (arguments: %s)", k, strings.Join(known, ", "))
		}
		for len(args) <= pos {
			args = append(args, "null")
			set = append(set, false)
		}
		if set[pos] {
			return nil, fmt.Errorf("argument %s is given twice", k)
		}
		j, err := toJSON(params.KwArgs[k])
		if err != nil {
			return nil, fmt.Errorf("argument %s cannot cross to the plugin as JSON: %v", k, err)
		}
		args[pos], set[pos] = j, true
	}
	return args, nil
}

// toJSON converts a template value to JSON text.
func toJSON(v *exec.Value) (string, error) {
	g := v.ToGoSimpleType(false)
	if err, ok := g.(error); ok {
		return "", err
	}
	if err := checkFinite(g); err != nil {
		return "", err
	}
	b, err := json.Marshal(g)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func checkFinite(v any) error {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%v has no JSON form", x)
		}
	case []any:
		for _, e := range x {
			if err := checkFinite(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := checkFinite(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// fromJSON converts JSON text to template values: objects, arrays,
// strings, bools, nil, int for integers that fit and float64 otherwise.
func fromJSON(text string) (any, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the value")
	}
	return numbers(v), nil
}

// FromJSON converts JSON text to the values templates work with (see
// fromJSON); callers use it to put plugin results in scope.
func FromJSON(text string) (any, error) { return fromJSON(text) }

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

var lineRE = regexp.MustCompile(`at line (\d+)`)

func parseError(name string, err error) *Error {
	var se *parser.SyntaxError
	if errors.As(err, &se) {
		msg := se.Message
		if se.Raw != "" {
			msg += fmt.Sprintf(" (near %q)", se.Raw)
		}
		return &Error{File: name, Line: se.Line, Column: se.Column, Msg: "syntax error: " + msg}
	}
	msg := err.Error()
	// gonja quotes the whole template source in this wrapper: drop it.
	if i := strings.Index(msg, "failed to parse template '"); i == 0 {
		if j := strings.LastIndex(msg, "': "); j > 0 {
			msg = msg[j+3:]
		}
	}
	return &Error{File: name, Line: lastLine(msg), Msg: "syntax error: " + msg}
}

func (c *call) renderError(name string, err error) *Error {
	if l := c.reached(); l != nil {
		e := c.limitErr(l)
		if e.Line == 0 { // reached in a filter or operator: gonja's message has the line
			e.Line = lastLine(err.Error())
		}
		return e
	}
	msg := err.Error()
	e := &Error{File: name, Line: lastLine(msg)}
	c.mu.Lock()
	failed := c.failed
	c.mu.Unlock()
	if failed != nil && strings.Contains(msg, failed.Error()) {
		e.Msg = failed.Error()
		var he *host.Error
		if errors.As(failed.err, &he) {
			e.Err = he
		}
		return e
	}
	e.Msg = rootMessage(err)
	return e
}

func lastLine(msg string) int {
	m := lineRE.FindAllStringSubmatch(msg, -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// rootMessage returns the innermost message of gonja's chain of wrapped
// errors (some of which are template values holding an error).
func rootMessage(err error) string {
	for {
		var next error
		if v, ok := err.(*exec.Value); ok && v.IsError() {
			next, _ = v.Interface().(error)
		} else {
			next = errors.Unwrap(err)
		}
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
