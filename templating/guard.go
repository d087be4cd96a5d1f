package templating

// How the limits reach inside gonja. gonja renders by recursion (a macro
// call renders the macro's body, which may call it again; an include
// parses and renders another template) and has no hook for depth, size or
// time, so the templates of a render are rewritten once parsed:
//
//   - the nodes of every body (a macro's, a loop's, an if branch, a block,
//     a template's top level) are moved into one guard node, which counts
//     the nesting, checks the time and the context before each node,
//     renders {{ ... }} itself (measuring a value before printing it) and
//     checks the size of the buffer gonja renders macros and blocks into;
//   - every a * b, a + b and a ~ b becomes a call of a function that
//     measures the result before building it (gonja's own evaluation of
//     'x' * 10**12 asks Go for a terabyte, which kills the process);
//   - every control structure's parser is wrapped to count parse nesting
//     (extends and from-imports parse other templates while parsing) and
//     to rewrite what it parsed, and include is ours, to rewrite the
//     template it includes before rendering it.
//
// The rewrite finds nodes by reflection, through the unexported fields of
// gonja's control structures too, and changes only nodes of package nodes
// (a Wrapper's or Template's Nodes, a BinaryExpression's fields); the tests
// in limits_test.go fail if a gonja upgrade hides a node from it.

import (
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Names of the functions the rewritten operators call. A template that
// uses them by name only calls them.
const (
	opFunc   = "__driftless_op__"
	lastFunc = "__driftless_last__"
)

// controlStructureNames are gonja's control structures (its set cannot
// list them); TestControlStructuresWrapped checks the list.
var controlStructureNames = []string{
	"autoescape", "block", "extends", "filter", "for", "from", "if", "import", "include", "macro",
	"raw", "set", "with", "do", "break", "continue", "trans", "call",
}

// controlStructures returns gonja's control structures, each parser
// wrapped to count nesting and rewrite what it parses, and include ours.
func (c *call) controlStructures() *exec.ControlStructureSet {
	m := make(map[string]parser.ControlStructureParser, len(controlStructureNames))
	for _, name := range controlStructureNames {
		parse, ok := builtins.ControlStructures.Get(name)
		if name == "include" {
			parse, ok = c.includeParser, true
		}
		if ok {
			m[name] = c.wrapParser(parse)
		}
	}
	return exec.NewControlStructureSet(m)
}

func (c *call) wrapParser(parse parser.ControlStructureParser) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		file, line := p.Template.Identifier, 0
		if t := p.Current(); t != nil {
			line = t.Line
		}
		c.parseDepth++
		defer func() { c.parseDepth-- }()
		if c.parseDepth > c.lim.MaxDepth {
			return nil, c.hit(&limitError{limit: LimitDepth, file: file, line: line, msg: fmt.Sprintf(
				"template limit max_depth (%d) reached: blocks, extends and imports nested more than %d deep", c.lim.MaxDepth, c.lim.MaxDepth)})
		}
		if err := c.tick(file, line); err != nil {
			return nil, err
		}
		cs, err := parse(p, args)
		if err != nil {
			return cs, err
		}
		c.rewrite(cs, file)
		if p.Template.Parent != nil { // {% extends %} parsed its parent
			c.rewrite(p.Template.Parent, p.Template.Parent.Identifier)
		}
		return cs, nil
	}
}

var (
	wrapperType  = reflect.TypeFor[nodes.Wrapper]()
	templateType = reflect.TypeFor[nodes.Template]()
	binaryType   = reflect.TypeFor[nodes.BinaryExpression]()
	// The packages whose structs the rewrite walks through.
	walked = map[string]bool{
		reflect.TypeFor[nodes.Wrapper]().PkgPath():                       true,
		"github.com/nikolalohinski/gonja/v2/builtins/control_structures": true,
	}
)

// rewrite rewrites the nodes reachable from v (a template, a control
// structure), once per node for the whole render.
func (c *call) rewrite(v any, file string) {
	c.walk(reflect.ValueOf(v), file)
}

func (c *call) walk(v reflect.Value, file string) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			c.walk(v.Elem(), file)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		t := v.Type().Elem()
		if t.Kind() != reflect.Struct || !walked[t.PkgPath()] {
			return
		}
		// The fields of control structures are unexported: reflection may
		// read them but not hand out the pointer, which UnsafePointer does.
		p := v.UnsafePointer()
		key := reflect.NewAt(t, p).Interface()
		if c.seen[key] {
			return
		}
		c.seen[key] = true
		if t == templateType {
			if id := (*nodes.Template)(p).Identifier; id != "" {
				file = id
			}
		}
		c.walk(v.Elem(), file) // children first
		switch t {
		case wrapperType:
			w := (*nodes.Wrapper)(p)
			w.Nodes = c.guarded(w.Nodes, w.Location, file)
		case templateType:
			t := (*nodes.Template)(p)
			t.Nodes = c.guarded(t.Nodes, nil, file)
		case binaryType:
			c.boundOperator((*nodes.BinaryExpression)(p))
		}
	case reflect.Struct:
		if walked[v.Type().PkgPath()] {
			for i := 0; i < v.NumField(); i++ {
				c.walk(v.Field(i), file)
			}
		}
	case reflect.Slice, reflect.Array:
		switch v.Type().Elem().Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Struct, reflect.Slice, reflect.Map:
			for i := 0; i < v.Len(); i++ {
				c.walk(v.Index(i), file)
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			c.walk(it.Value(), file)
		}
	}
}

// guarded moves body into one guard node.
func (c *call) guarded(body []nodes.Node, loc *tokens.Token, file string) []nodes.Node {
	if loc == nil {
		loc = &tokens.Token{Line: 1}
		if len(body) > 0 {
			if p := body[0].Position(); p != nil {
				loc = p
			}
		}
	}
	g := &guard{c: c, file: file, loc: loc, body: body}
	return []nodes.Node{&nodes.ControlStructureBlock{Location: loc, Name: "driftless-guard", ControlStructure: g}}
}

// guard renders a body under the limits: see the top of this file.
type guard struct {
	c    *call
	file string
	loc  *tokens.Token
	body []nodes.Node
}

func (g *guard) Position() *tokens.Token { return g.loc }
func (g *guard) String() string          { return "body" }

func (g *guard) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	c := g.c
	if err := c.enter(g.file, g.loc.Line); err != nil {
		return err
	}
	defer c.leave()
	for _, n := range g.body {
		line := g.loc.Line
		if p := n.Position(); p != nil {
			line = p.Line
		}
		if err := c.tick(g.file, line); err != nil {
			return err
		}
		var err error
		if out, ok := n.(*nodes.Output); ok {
			err = c.output(r, out, g.file)
		} else {
			err = nodes.Walk(r, n)
		}
		if err != nil {
			return err
		}
		if _, ours := r.Output.(*boundedWriter); !ours && buffered(r.Output) > c.lim.MaxOutput {
			return c.tooBig(g.file, line, "the output of a macro, block or {% set %}")
		}
	}
	return nil
}

// output renders {{ ... }} as gonja's renderer does, measuring the value
// before turning it into text.
func (c *call) output(r *exec.Renderer, n *nodes.Output, file string) error {
	var value *exec.Value
	if n.Condition != nil {
		cond := r.Eval(n.Condition)
		if cond.IsError() {
			return fmt.Errorf("Unable to render condition at line %d: %s: %w", n.Condition.Position().Line, n.Condition, cond)
		}
		switch {
		case !cond.IsNil() && cond.IsTrue():
			value = r.Eval(n.Expression)
		case n.Alternative != nil:
			value = r.Eval(n.Alternative)
		default:
			return nil
		}
	} else {
		value = r.Eval(n.Expression)
	}
	line := n.Expression.Position().Line
	if value.IsError() {
		return fmt.Errorf("Unable to render expression at line %d: %s: %w", line, n.Expression, value)
	}
	if !value.IsString() {
		if n := textSize(value, c.lim.MaxOutput); n < 0 {
			return c.tooLarge(n, file, line, "the value printed")
		}
	}
	var err error
	if r.Config.AutoEscape && value.IsString() && !value.Safe {
		_, err = io.WriteString(r.Output, value.Escaped())
	} else {
		_, err = io.WriteString(r.Output, value.String())
	}
	return err
}

// boundOperator turns a * b, a + b and a ~ b into
// __driftless_op__("*", a, b) or __driftless_last__(): the function
// computes the result after measuring it and keeps it for
// __driftless_last__, which 'or' evaluates when the result is falsy (so
// the node keeps its type, which its parent holds, and a and b are
// evaluated once, in order).
func (c *call) boundOperator(b *nodes.BinaryExpression) {
	if b.Operator == nil || b.Operator.Token == nil {
		return
	}
	op := b.Operator.Token
	switch op.Type {
	case tokens.Multiply, tokens.Addition, tokens.Tilde:
	default:
		return
	}
	name := func(n string) *nodes.Name {
		return &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: n, Line: op.Line, Col: op.Col}}
	}
	b.Left = &nodes.Call{Location: op, Func: name(opFunc),
		Args: []nodes.Expression{&nodes.String{Location: op, Val: op.Val}, b.Left, b.Right}, Kwargs: map[string]nodes.Expression{}}
	b.Right = &nodes.Call{Location: op, Func: name(lastFunc), Kwargs: map[string]nodes.Expression{}}
	b.Operator = &nodes.BinOperator{Token: &tokens.Token{Type: tokens.Or, Val: "or", Line: op.Line, Col: op.Col}}
}

// operator computes a bounded a * b, a + b or a ~ b, as gonja would.
func (c *call) operator(params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 3 {
		return exec.AsValue(fmt.Errorf("%s takes 3 arguments", opFunc))
	}
	op, l, r := params.Args[0].String(), params.Args[1], params.Args[2]
	file := c.rootID
	if err := c.tick(file, 0); err != nil {
		return c.keep(exec.AsValue(err))
	}
	max := c.lim.MaxOutput
	var v *exec.Value
	switch op {
	case "*":
		switch {
		case l.IsFloat() || r.IsFloat():
			v = exec.AsValue(l.Float() * r.Float())
		case l.IsString():
			n := r.Integer()
			if n <= 0 {
				v = exec.AsValue("")
			} else if s := l.String(); len(s) > 0 && int64(n) > max/int64(len(s)) {
				return c.keep(exec.AsValue(c.tooBig(file, 0, fmt.Sprintf("a string of %d bytes repeated %d times", len(s), n))))
			} else {
				v = exec.AsValue(strings.Repeat(s, n))
			}
		default:
			v = exec.AsValue(l.Integer() * r.Integer())
		}
	case "+":
		switch {
		case l.IsList():
			if !r.IsList() {
				return c.keep(exec.AsValue(fmt.Errorf("Unable to concatenate list to %s", r.String())))
			}
			if n := fits(max, l, r); n < 0 {
				return c.keep(exec.AsValue(c.tooLarge(n, file, 0, "the concatenated list")))
			}
			out := make([]any, 0, l.Len()+r.Len())
			for _, side := range []*exec.Value{l, r} {
				side.Iterate(func(_, _ int, key, _ *exec.Value) bool {
					out = append(out, key.Interface())
					return true
				}, func() {})
			}
			v = exec.AsValue(out)
		case l.IsFloat() || r.IsFloat():
			v = exec.AsValue(l.Float() + r.Float())
		case l.IsString() || r.IsString():
			if n := fits(max, l, r); n < 0 {
				return c.keep(exec.AsValue(c.tooLarge(n, file, 0, "the concatenated string")))
			}
			v = exec.AsValue(l.String() + r.String())
		default:
			v = exec.AsValue(l.Integer() + r.Integer())
		}
	case "~":
		if n := fits(max, l, r); n < 0 {
			return c.keep(exec.AsValue(c.tooLarge(n, file, 0, "the concatenated string")))
		}
		v = exec.AsValue(l.String() + r.String())
	default:
		return c.keep(exec.AsValue(fmt.Errorf("%s: unknown operator %q", opFunc, op)))
	}
	return c.keep(v)
}

// fits returns the size of the text of a and b together, or textSize's
// -1 or -2 when it is over max bytes or nests too deeply.
func fits(max int64, a, b *exec.Value) int64 {
	n := textSize(a, max)
	if n < 0 {
		return n
	}
	m := textSize(b, max-n)
	if m < 0 {
		return m
	}
	return n + m
}

func (c *call) keep(v *exec.Value) *exec.Value {
	c.last = v
	return v
}

// includeControlStructure is {% include %}, as gonja's, but the included
// template is rewritten before it renders.
type includeControlStructure struct {
	c             *call
	location      *tokens.Token
	file          string
	name          nodes.Expression
	ignoreMissing bool
}

func (ics *includeControlStructure) Position() *tokens.Token { return ics.location }
func (ics *includeControlStructure) String() string {
	return fmt.Sprintf("IncludeControlStructure(Filename=%s Line=%d Col=%d)", ics.name, ics.location.Line, ics.location.Col)
}

func (c *call) includeParser(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	cs := &includeControlStructure{c: c, location: p.Current(), file: p.Template.Identifier}
	name, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	cs.name = name
	c.rewrite(name, cs.file)
	if args.MatchName("ignore") != nil {
		if args.MatchName("missing") != nil {
			cs.ignoreMissing = true
		} else {
			args.Stream().Backup()
		}
	}
	if tok := args.MatchName("with", "without"); tok != nil {
		if args.MatchName("context") == nil {
			args.Stream().Backup()
		}
	}
	if !args.End() {
		return nil, args.Error("Malformed 'include'-tag args.", nil)
	}
	return cs, nil
}

func (ics *includeControlStructure) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	name := r.Eval(ics.name)
	if name.IsError() {
		return fmt.Errorf("Unable to evaluate filename: %w", name)
	}
	filename, err := r.Loader.Resolve(name.String())
	if err != nil {
		if ics.ignoreMissing {
			return nil
		}
		return fmt.Errorf("failed to resolve filename: %s", err)
	}
	loader, err := r.Loader.Inherit(filename)
	if err != nil {
		if ics.ignoreMissing {
			return nil
		}
		return fmt.Errorf("failed to inherit loader: %s", err)
	}
	included, err := exec.NewTemplate(filename, r.Config, loader, r.Environment)
	if err != nil {
		if l := ics.c.reached(); l != nil {
			return l
		}
		if ics.ignoreMissing {
			return nil
		}
		return fmt.Errorf("unable to load template '%s': %s", filename, err)
	}
	ics.c.rewrite(included.Root(), filename)
	return exec.NewRenderer(r.Environment, r.Output, r.Config.Inherit(), loader, included).Execute()
}
