package templating

// gonja's builtin filters, functions and string methods under the limits:
// each checks the time before it runs and the size of what it returns
// after; those whose output size an argument sets (center(width),
// replace('', s), join of a list holding one large string many times,
// range(n), ...) are checked before they run, since the allocation itself
// would kill the process.

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// strMethodNames are gonja's string methods (its method sets cannot list
// them); TestStringMethodsWrapped checks the list.
var strMethodNames = []string{
	"capitalize", "capwords", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find",
	"format", "format_map", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric",
	"isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
	"removeprefix", "removesuffix", "replace", "rfind", "rjust", "rpartition", "rsplit", "rstrip", "split",
	"splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill",
}

// textFilters turn their input into text: a list or dict given to one is
// measured first.
var textFilters = map[string]bool{
	"capitalize": true, "center": true, "e": true, "escape": true, "forceescape": true, "format": true,
	"indent": true, "lower": true, "pprint": true, "replace": true, "safe": true, "string": true,
	"striptags": true, "title": true, "tojson": true, "trim": true, "truncate": true, "upper": true,
	"urlencode": true, "urlize": true, "wordcount": true, "wordwrap": true,
}

// arg returns argument i of a call, given by position or as keyword kw;
// nil when it is not given.
func arg(p *exec.VarArgs, i int, kw string) *exec.Value {
	if p == nil {
		return nil
	}
	if i < len(p.Args) {
		return p.Args[i]
	}
	if v, ok := p.KwArgs[kw]; ok {
		return v
	}
	return nil
}

func intArg(p *exec.VarArgs, i int, kw string, def int) int {
	if v := arg(p, i, kw); v != nil && v.IsInteger() {
		return v.Integer()
	}
	return def
}

func strArg(p *exec.VarArgs, i int, kw, def string) string {
	if v := arg(p, i, kw); v != nil && v.IsString() {
		return v.String()
	}
	return def
}

// precheck refuses a call of a builtin filter (method false: in is its
// input) or string method (method true: in is the string) whose result
// would be over MaxOutput, before it runs.
func (c *call) precheck(name string, method bool, in *exec.Value, p *exec.VarArgs) error {
	max := c.lim.MaxOutput
	big := func(what string) error { return c.tooBig(c.rootID, 0, what) }
	s := ""
	if in != nil && in.IsString() {
		s = in.String()
	}
	switch name {
	case "center", "ljust", "rjust", "zfill":
		if w := intArg(p, 0, "width", 0); int64(w) > max {
			return big(fmt.Sprintf("%s(%d)", name, w))
		}
	case "indent":
		lines := int64(strings.Count(s, "\n") + 1)
		width := int64(4)
		if v := arg(p, 0, "width"); v != nil && v.IsInteger() {
			width = int64(v.Integer())
		} else if v != nil && v.IsString() {
			width = int64(len(v.String()))
		}
		if width > 0 && lines > (max-int64(len(s)))/width {
			return big(fmt.Sprintf("indent(%d) of %d lines", width, lines))
		}
	case "expandtabs":
		tabs := int64(strings.Count(s, "\t"))
		if size := int64(intArg(p, 0, "tabsize", 8)); size > 0 && tabs > 0 && tabs > (max-int64(len(s)))/size {
			return big(fmt.Sprintf("expandtabs(%d) of %d tabs", size, tabs))
		}
	case "replace":
		old, repl := strArg(p, 0, "old", ""), strArg(p, 1, "new", "")
		n := int64(utf8.RuneCountInString(s) + 1)
		if old != "" {
			n = int64(strings.Count(s, old))
		}
		if count := intArg(p, 2, "count", -1); count >= 0 && int64(count) < n {
			n = int64(count)
		}
		if grow := int64(len(repl) - len(old)); grow > 0 && n > (max-int64(len(s)))/grow {
			return big(fmt.Sprintf("replacing %d occurrences with %d bytes", n, len(repl)))
		}
	case "join":
		list, sep := in, strArg(p, 0, "d", "")
		if method {
			list, sep = arg(p, 0, "iterable"), s
		}
		if list != nil {
			size := textSize(list, max)
			if size < 0 {
				return c.tooLarge(size, c.rootID, 0, "the joined list")
			}
			if list.IsList() && list.Len() > 0 {
				size += int64(len(sep)) * int64(list.Len()-1)
			}
			if size > max {
				return big("the joined string")
			}
		}
	case "wordwrap":
		width := max64(int64(intArg(p, 0, "width", 79)), 1)
		wrap := strArg(p, 2, "wrapstring", "\n")
		if (int64(len(s))/width+1)*int64(len(wrap)) > max-int64(len(s)) {
			return big(fmt.Sprintf("wordwrap(%d)", width))
		}
	case "batch":
		if n := intArg(p, 0, "linecount", 0); n > MaxRange {
			return c.hit(&limitError{limit: LimitRange, file: c.rootID, msg: fmt.Sprintf(
				"template limit range (%d items) reached: batch(%d) makes rows of more than %d items", MaxRange, n, MaxRange)})
		}
	case "slice":
		if n := intArg(p, 0, "slices", 0); n > MaxRange {
			return c.hit(&limitError{limit: LimitRange, file: c.rootID, msg: fmt.Sprintf(
				"template limit range (%d items) reached: slice(%d) makes more than %d slices", MaxRange, n, MaxRange)})
		}
	case "format", "format_map":
		if method {
			if err := c.checkFormat(s, p); err != nil {
				return err
			}
		}
	}
	if !method && textFilters[name] && in != nil && !in.IsString() {
		if n := textSize(in, max); n < 0 {
			return c.tooLarge(n, c.rootID, 0, "the value given to "+name)
		}
	}
	if name == "tojson" && intArg(p, 0, "indent", 0) > 100 {
		return big(fmt.Sprintf("tojson(indent=%d)", intArg(p, 0, "indent", 0)))
	}
	return nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

var (
	formatField = regexp.MustCompile(`\{[^{}]*(\{[^{}]*\}[^{}]*)*\}`)
	formatWidth = regexp.MustCompile(`[0-9]+`)
)

// checkFormat refuses str.format widths over MaxOutput: written in the
// format ("{:>1000000000000}") or given as a nested field ("{:>{}}").
func (c *call) checkFormat(s string, p *exec.VarArgs) error {
	for _, f := range formatField.FindAllString(s, -1) {
		_, spec, ok := strings.Cut(f[1:len(f)-1], ":")
		if !ok {
			continue
		}
		for _, n := range formatWidth.FindAllString(spec, -1) {
			if w, err := strconv.ParseInt(n, 10, 64); err != nil || w > c.lim.MaxOutput {
				return c.tooBig(c.rootID, 0, "a field of width "+n)
			}
		}
		if strings.Contains(spec, "{") && p != nil {
			for _, a := range p.Args {
				if a.IsInteger() && int64(a.Integer()) > c.lim.MaxOutput {
					return c.tooBig(c.rootID, 0, fmt.Sprintf("a field of width %d", a.Integer()))
				}
			}
			for _, a := range p.KwArgs {
				if a.IsInteger() && int64(a.Integer()) > c.lim.MaxOutput {
					return c.tooBig(c.rootID, 0, fmt.Sprintf("a field of width %d", a.Integer()))
				}
			}
		}
	}
	return nil
}

// postcheck refuses a result over MaxOutput (what the prechecks let
// through can still be too large, only not enough to harm).
func (c *call) postcheck(v *exec.Value, what string) *exec.Value {
	if v != nil && v.IsString() && int64(len(v.String())) > c.lim.MaxOutput {
		return exec.AsValue(c.tooBig(c.rootID, 0, "the result of "+what))
	}
	return v
}

// boundedFilter wraps a builtin filter.
func (c *call) boundedFilter(name string, f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if err := c.tick(c.rootID, 0); err != nil {
			return exec.AsValue(err)
		}
		if err := c.precheck(name, false, in, p); err != nil {
			return exec.AsValue(err)
		}
		return c.postcheck(f(e, in, p), name)
	}
}

// boundedFunction wraps a builtin global function, whatever its signature.
func (c *call) boundedFunction(name string, f any) any {
	fv := reflect.ValueOf(f)
	if fv.Kind() != reflect.Func {
		return f
	}
	t := fv.Type()
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		fail := func(err error) []reflect.Value {
			out := make([]reflect.Value, t.NumOut())
			for i := range out {
				out[i] = reflect.Zero(t.Out(i))
			}
			switch {
			case t.NumOut() == 2 && t.Out(1) == reflect.TypeFor[error]():
				out[1] = reflect.ValueOf(&err).Elem()
			case t.NumOut() >= 1 && t.Out(0) == valueType:
				out[0] = reflect.ValueOf(exec.AsValue(err))
			}
			return out
		}
		if err := c.tick(c.rootID, 0); err != nil {
			return fail(err)
		}
		if name == "lipsum" {
			for _, a := range in {
				if p, ok := a.Interface().(*exec.VarArgs); ok && int64(intArg(p, 0, "n", 5))*int64(intArg(p, 3, "max", 100)) > 100_000 {
					return fail(c.tooBig(c.rootID, 0, "lipsum(n × max over 100000 words)"))
				}
			}
		}
		out := fv.Call(in)
		if len(out) > 0 && out[0].Type() == valueType {
			out[0] = reflect.ValueOf(c.postcheck(out[0].Interface().(*exec.Value), name))
		}
		return out
	}).Interface()
}

// rangeFunction is range(), bounded to MaxRange items (gonja's sends them
// on a channel from a goroutine that leaks when the loop stops early).
func (c *call) rangeFunction(p *exec.VarArgs) *exec.Value {
	if err := c.tick(c.rootID, 0); err != nil {
		return exec.AsValue(err)
	}
	start, stop, step := 0, 0, 1
	ints := func() bool {
		for _, a := range p.Args {
			if !a.IsInteger() {
				return false
			}
		}
		return len(p.KwArgs) == 0
	}
	switch n := len(p.Args); {
	case n == 1 && ints():
		stop = p.Args[0].Integer()
	case n == 2 && ints():
		start, stop = p.Args[0].Integer(), p.Args[1].Integer()
	case n == 3 && ints():
		start, stop, step = p.Args[0].Integer(), p.Args[1].Integer(), p.Args[2].Integer()
	default:
		return exec.AsValue(exec.ErrInvalidCall(fmt.Errorf("expected signature is [start, ]stop[, step] where all arguments are integers")))
	}
	if step == 0 {
		return exec.AsValue(exec.ErrInvalidCall(fmt.Errorf("step cannot be 0")))
	}
	var count uint64
	switch {
	case step > 0 && stop > start:
		count = (uint64(stop-start) + uint64(step) - 1) / uint64(step)
	case step < 0 && stop < start:
		count = (uint64(start-stop) + uint64(-step) - 1) / uint64(-step)
	}
	if count > MaxRange {
		return exec.AsValue(c.hit(&limitError{limit: LimitRange, file: c.rootID, msg: fmt.Sprintf(
			"template limit range (%d items) reached: range() of %d items (a loop holds all its items in memory)", MaxRange, count)}))
	}
	out := make([]int, 0, count)
	for i := start; len(out) < int(count); i += step {
		out = append(out, i)
	}
	return exec.AsValue(out)
}

// methods returns gonja's methods with the string methods bounded.
func (c *call) methods() exec.Methods {
	m := builtins.Methods
	str := make(map[string]exec.Method[string], len(strMethodNames))
	for _, name := range strMethodNames {
		f, ok := builtins.Methods.Str.Get(name)
		if !ok {
			continue
		}
		str[name] = func(self string, sv *exec.Value, p *exec.VarArgs) (any, error) {
			if err := c.tick(c.rootID, 0); err != nil {
				return nil, err
			}
			if err := c.precheck(name, true, exec.AsValue(self), p); err != nil {
				return nil, err
			}
			out, err := f(self, sv, p)
			if s, ok := out.(string); ok && int64(len(s)) > c.lim.MaxOutput {
				return nil, c.tooBig(c.rootID, 0, "the result of "+name)
			}
			return out, err
		}
	}
	m.Str = exec.NewMethodSet(str)
	return m
}
