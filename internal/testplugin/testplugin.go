// Package testplugin builds small WebAssembly component plugins for tests
// from a Go description: a plugin's metadata, tasks, facts collectors and
// template extensions, each with a simple behaviour (return a constant,
// echo its input, fail with a plugin error, spin forever, grow memory until
// the cap). The result is real component bytes (written as WAT and compiled
// with wasmtime's Wat2Wasm), so tests of the CLI, templating and playbooks
// run plugins through the real host without any other toolchain.
//
// Memory layout of the generated core module: constant data (strings,
// definitions, constant results) from address 1024, a bump allocator above
// it that the host's realloc calls and dynamic results use, reset after
// every call (post-return).
package testplugin

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// Plugin describes a component plugin.
type Plugin struct {
	Name, Version, Description string
	Tasks                      []Task
	Collectors                 []Collector
	Extensions                 []Extension
}

// Task is a task definition and what execute does for it.
type Task struct {
	Name, Description string
	Kind              string // "apply" (default), "facts" or "logs"
	Schema            string // config-schema; "" means {}
	CheckMode         bool   // supports-check-mode
	Do                Behaviour
}

// Collector is a facts collector and what collect does for it.
type Collector struct {
	Name, Description, Schema string
	Do                        Behaviour
}

// Extension is a template filter (or, with Function, a function).
type Extension struct {
	Name, Description, Category string
	Function                    bool
	Args                        []Arg
	Schema                      string
	Do                          Behaviour
}

// Arg is an argument of a template extension.
type Arg struct {
	Name, Description string
	Required          bool
}

// Behaviour is what a task, collector or extension does when called.
type Behaviour struct {
	op                    op
	changed               bool
	message, checkMessage string
	output                string
	diff                  *string
	kind                  string
}

type op int

const (
	opResult op = iota
	opEcho
	opEchoConfig
	opFail
	opSpin
	opGrow
	opUpper
)

// Result: a task returns ok with these values; diff "" means none. In
// check mode a task returns checkMessage instead of message when it is
// not "" (and output {"check_mode":true}).
func Result(changed bool, message, output, diff string) Behaviour {
	b := Behaviour{op: opResult, changed: changed, message: message, output: output}
	if diff != "" {
		b.diff = &diff
	}
	return b
}

// CheckAware: a task that reports checkMessage in check mode and message
// otherwise, with output {"check_mode":BOOL}.
func CheckAware(changed bool, message, checkMessage, diff string) Behaviour {
	b := Result(changed, message, `{"check_mode":false}`, diff)
	b.checkMessage = checkMessage
	return b
}

// Const: a collector or extension returns this JSON text.
func Const(json string) Behaviour { return Behaviour{op: opResult, output: json} }

// Echo returns the input: a task returns ok (unchanged, message) with its
// config as output; a collector returns its config; a filter returns the
// JSON array [value, args...]; a function returns [args...].
func Echo(message string) Behaviour { return Behaviour{op: opEcho, message: message} }

// EchoConfig returns ok(the config it was called with), for facts
// collectors and template extensions.
func EchoConfig() Behaviour { return Behaviour{op: opEchoConfig} }

// Fail returns err(plugin-error{kind, message}); kind is a WIT error-kind
// name: invalid-config, invalid-input, not-found, unsupported, failed.
func Fail(kind, message string) Behaviour { return Behaviour{op: opFail, kind: kind, message: message} }

// Upper: a filter returns its value (a JSON string) with the letters a-z
// in capitals (an escape sequence's letter is left alone).
func Upper() Behaviour { return Behaviour{op: opUpper} }

// Spin loops forever (until the host's timeout or fuel stops it).
func Spin() Behaviour { return Behaviour{op: opSpin} }

// Grow grows memory by 1 MiB at a time until refused, then traps.
func Grow() Behaviour { return Behaviour{op: opGrow} }

var errorKinds = map[string]int{"invalid-config": 0, "invalid-input": 1, "not-found": 2, "unsupported": 3, "failed": 4}
var taskKinds = map[string]int{"": 0, "apply": 0, "facts": 1, "logs": 2}

// WAT returns the component's text.
func (p Plugin) WAT() (string, error) {
	g := &gen{mem: layout{base: dataBase}}
	return g.component(p)
}

// Wasm returns the component's binary.
func (p Plugin) Wasm() ([]byte, error) {
	wat, err := p.WAT()
	if err != nil {
		return nil, err
	}
	wasm, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		return nil, fmt.Errorf("testplugin %s: %w", p.Name, err)
	}
	return wasm, nil
}

const (
	dataBase = 1024
	pageSize = 65536
)

// layout places constant data in the core module's memory.
type layout struct {
	base int
	buf  []byte
}

func (l *layout) addr() int { return l.base + len(l.buf) }

func (l *layout) reserve(size, align int) int {
	for len(l.buf)%align != 0 {
		l.buf = append(l.buf, 0)
	}
	a := l.addr()
	l.buf = append(l.buf, make([]byte, size)...)
	return a
}

func (l *layout) u8(addr int, v int)  { l.buf[addr-l.base] = byte(v) }
func (l *layout) u32(addr int, v int) { binary.LittleEndian.PutUint32(l.buf[addr-l.base:], uint32(v)) }

// str places s and returns its address and length.
func (l *layout) str(s string) (int, int) {
	a := l.addr()
	l.buf = append(l.buf, s...)
	return a, len(s)
}

// strAt writes a (ptr, len) pair for s at addr.
func (l *layout) strAt(addr int, s string) {
	p, n := l.str(s)
	l.u32(addr, p)
	l.u32(addr+4, n)
}

type gen struct {
	mem  layout
	code strings.Builder
}

// taskResult places ok(task-result) or err(plugin-error) (36 bytes).
func (g *gen) taskResult(b Behaviour, check bool) int {
	r := g.mem.reserve(36, 4)
	if b.op == opFail {
		g.errAt(r, b)
		return r
	}
	msg, out := b.message, b.output
	if check && b.checkMessage != "" {
		msg, out = b.checkMessage, `{"check_mode":true}`
	}
	g.mem.u8(r+4, boolInt(b.changed))
	g.mem.strAt(r+8, msg)
	g.mem.strAt(r+16, out)
	if b.diff != nil {
		g.mem.u8(r+24, 1)
		g.mem.strAt(r+28, *b.diff)
	}
	return r
}

// jsonResult places ok(json) or err(plugin-error) (16 bytes).
func (g *gen) jsonResult(b Behaviour) int {
	r := g.mem.reserve(16, 4)
	if b.op == opFail {
		g.errAt(r, b)
		return r
	}
	g.mem.strAt(r+4, b.output)
	return r
}

func (g *gen) errAt(r int, b Behaviour) {
	g.mem.u8(r, 1)
	g.mem.u8(r+4, errorKinds[b.kind])
	g.mem.strAt(r+8, b.message)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (g *gen) component(p Plugin) (string, error) {
	for _, b := range allBehaviours(p) {
		if b.op == opFail {
			if _, ok := errorKinds[b.kind]; !ok {
				return "", fmt.Errorf("testplugin %s: unknown error kind %q", p.Name, b.kind)
			}
		}
	}
	info := g.mem.reserve(24, 4)
	g.mem.strAt(info, p.Name)
	g.mem.strAt(info+8, p.Version)
	g.mem.strAt(info+16, p.Description)
	notFound := g.jsonResult(Fail("not-found", "no such name in this test plugin"))
	taskNotFound := g.taskResult(Fail("not-found", "no such task in this test plugin"), false)

	var c strings.Builder
	c.WriteString("(component\n")
	c.WriteString(componentTypes)
	c.WriteString("  (core module $m\n    (memory (export \"memory\") 1)\n")
	c.WriteString(coreHelpers)
	fmt.Fprintf(&c, "    (func (export \"describe\") (result i32) (i32.const %d))\n", info)

	// tasks
	if len(p.Tasks) > 0 {
		defs := g.mem.reserve(32*len(p.Tasks), 4)
		for i, t := range p.Tasks {
			d := defs + 32*i
			k, ok := taskKinds[t.Kind]
			if !ok {
				return "", fmt.Errorf("testplugin %s: task %s: unknown kind %q", p.Name, t.Name, t.Kind)
			}
			g.mem.strAt(d, t.Name)
			g.mem.u8(d+8, k)
			g.mem.strAt(d+12, t.Description)
			g.mem.strAt(d+20, t.Schema)
			g.mem.u8(d+28, boolInt(t.CheckMode))
		}
		list := g.mem.reserve(8, 4)
		g.mem.u32(list, defs)
		g.mem.u32(list+4, len(p.Tasks))
		fmt.Fprintf(&c, "    (func (export \"definitions\") (result i32) (i32.const %d))\n", list)
		c.WriteString("    (func (export \"execute\") (param $np i32) (param $nl i32) (param $cp i32) (param $cl i32) (param $check i32) (result i32)\n")
		for _, t := range p.Tasks {
			np, nl := g.mem.str(t.Name)
			fmt.Fprintf(&c, "      (if (call $streq (local.get $np) (local.get $nl) (i32.const %d) (i32.const %d)) (then\n", np, nl)
			c.WriteString(g.taskBody(t.Do))
			c.WriteString("      ))\n")
		}
		fmt.Fprintf(&c, "      (i32.const %d))\n", taskNotFound)
	}

	// facts
	if len(p.Collectors) > 0 {
		defs := g.mem.reserve(24*len(p.Collectors), 4)
		for i, col := range p.Collectors {
			d := defs + 24*i
			g.mem.strAt(d, col.Name)
			g.mem.strAt(d+8, col.Description)
			g.mem.strAt(d+16, col.Schema)
		}
		list := g.mem.reserve(8, 4)
		g.mem.u32(list, defs)
		g.mem.u32(list+4, len(p.Collectors))
		fmt.Fprintf(&c, "    (func (export \"collectors\") (result i32) (i32.const %d))\n", list)
		c.WriteString("    (func (export \"collect\") (param $np i32) (param $nl i32) (param $cp i32) (param $cl i32) (result i32)\n")
		for _, col := range p.Collectors {
			np, nl := g.mem.str(col.Name)
			fmt.Fprintf(&c, "      (if (call $streq (local.get $np) (local.get $nl) (i32.const %d) (i32.const %d)) (then\n", np, nl)
			c.WriteString(g.jsonBody(col.Do, "(call $okjson (local.get $cp) (local.get $cl))"))
			c.WriteString("      ))\n")
		}
		fmt.Fprintf(&c, "      (i32.const %d))\n", notFound)
	}

	// templates
	if len(p.Extensions) > 0 {
		defs := g.mem.reserve(44*len(p.Extensions), 4)
		for i, e := range p.Extensions {
			d := defs + 44*i
			g.mem.strAt(d, e.Name)
			g.mem.u8(d+8, boolInt(e.Function))
			g.mem.strAt(d+12, e.Description)
			g.mem.strAt(d+20, e.Category)
			if len(e.Args) > 0 {
				args := g.mem.reserve(20*len(e.Args), 4)
				for j, a := range e.Args {
					g.mem.strAt(args+20*j, a.Name)
					g.mem.strAt(args+20*j+8, a.Description)
					g.mem.u8(args+20*j+16, boolInt(a.Required))
				}
				g.mem.u32(d+28, args)
				g.mem.u32(d+32, len(e.Args))
			}
			g.mem.strAt(d+36, e.Schema)
		}
		list := g.mem.reserve(8, 4)
		g.mem.u32(list, defs)
		g.mem.u32(list+4, len(p.Extensions))
		fmt.Fprintf(&c, "    (func (export \"extensions\") (result i32) (i32.const %d))\n", list)
		c.WriteString("    (func (export \"apply-filter\") (param $np i32) (param $nl i32) (param $cp i32) (param $cl i32) (param $vp i32) (param $vl i32) (param $ap i32) (param $an i32) (result i32)\n")
		for _, e := range p.Extensions {
			if e.Function {
				continue
			}
			np, nl := g.mem.str(e.Name)
			fmt.Fprintf(&c, "      (if (call $streq (local.get $np) (local.get $nl) (i32.const %d) (i32.const %d)) (then\n", np, nl)
			c.WriteString(g.jsonBody(e.Do, "(call $array (local.get $vp) (local.get $vl) (i32.const 1) (local.get $ap) (local.get $an))"))
			c.WriteString("      ))\n")
		}
		fmt.Fprintf(&c, "      (i32.const %d))\n", notFound)
		c.WriteString("    (func (export \"call-function\") (param $np i32) (param $nl i32) (param $cp i32) (param $cl i32) (param $ap i32) (param $an i32) (result i32)\n")
		for _, e := range p.Extensions {
			if !e.Function {
				continue
			}
			np, nl := g.mem.str(e.Name)
			fmt.Fprintf(&c, "      (if (call $streq (local.get $np) (local.get $nl) (i32.const %d) (i32.const %d)) (then\n", np, nl)
			c.WriteString(g.jsonBody(e.Do, "(call $array (i32.const 0) (i32.const 0) (i32.const 0) (local.get $ap) (local.get $an))"))
			c.WriteString("      ))\n")
		}
		fmt.Fprintf(&c, "      (i32.const %d))\n", notFound)
	}

	heap := (g.mem.addr() + 15) &^ 15
	if heap >= pageSize {
		return "", fmt.Errorf("testplugin %s: constant data (%d bytes) does not fit in one page", p.Name, heap)
	}
	fmt.Fprintf(&c, "    (global $heap (mut i32) (i32.const %d))\n", heap)
	fmt.Fprintf(&c, "    (func (export \"reset\") (param i32) (global.set $heap (i32.const %d)))\n", heap)
	fmt.Fprintf(&c, "    (data (i32.const %d) \"%s\"))\n", dataBase, watBytes(g.mem.buf))
	c.WriteString("  (core instance $i (instantiate $m))\n")
	c.WriteString(metadataExport)
	if len(p.Tasks) > 0 {
		c.WriteString(tasksExport)
	}
	if len(p.Collectors) > 0 {
		c.WriteString(factsExport)
	}
	if len(p.Extensions) > 0 {
		c.WriteString(templatesExport)
	}
	c.WriteString(")\n")
	return c.String(), nil
}

func allBehaviours(p Plugin) []Behaviour {
	var out []Behaviour
	for _, t := range p.Tasks {
		out = append(out, t.Do)
	}
	for _, c := range p.Collectors {
		out = append(out, c.Do)
	}
	for _, e := range p.Extensions {
		out = append(out, e.Do)
	}
	return out
}

// taskBody returns the WAT that returns the task's result pointer.
func (g *gen) taskBody(b Behaviour) string {
	switch b.op {
	case opSpin:
		return "        (loop $spin (br $spin)) (unreachable)\n"
	case opGrow:
		return growBody
	case opEcho:
		mp, ml := g.mem.str(b.message)
		return fmt.Sprintf("        (return (call $echotask (i32.const %d) (i32.const %d) (local.get $cp) (local.get $cl)))\n", mp, ml)
	}
	plain := g.taskResult(b, false)
	if b.checkMessage == "" {
		return fmt.Sprintf("        (return (i32.const %d))\n", plain)
	}
	check := g.taskResult(b, true)
	return fmt.Sprintf("        (if (local.get $check) (then (return (i32.const %d))))\n        (return (i32.const %d))\n", check, plain)
}

// jsonBody returns the WAT that returns a result<json, plugin-error>
// pointer; echo is the expression for Echo.
func (g *gen) jsonBody(b Behaviour, echo string) string {
	switch b.op {
	case opSpin:
		return "        (loop $spin (br $spin)) (unreachable)\n"
	case opGrow:
		return growBody
	case opEcho:
		return "        (return " + echo + ")\n"
	case opEchoConfig:
		return "        (return (call $okjson (local.get $cp) (local.get $cl)))\n"
	case opUpper:
		return "        (return (call $upper (local.get $vp) (local.get $vl)))\n"
	}
	return fmt.Sprintf("        (return (i32.const %d))\n", g.jsonResult(b))
}

const growBody = "        (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) (unreachable)\n"

// watBytes escapes data for a WAT string literal.
func watBytes(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, "\\%02x", c)
		}
	}
	return s.String()
}

// coreHelpers: the allocator, string equality, and dynamic results.
const coreHelpers = `    (func $alloc (param $size i32) (param $align i32) (result i32)
      (local $p i32) (local $end i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
        (then (if (i32.eq (memory.grow (i32.add (i32.div_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65536)) (i32.const 1))) (i32.const -1))
          (then unreachable))))
      (global.set $heap (local.get $end))
      (local.get $p))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (call $alloc (local.get 3) (local.get 2)))
    (func $streq (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
      (local $i i32)
      (if (i32.ne (local.get $al) (local.get $bl)) (then (return (i32.const 0))))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $al)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i))) (i32.load8_u (i32.add (local.get $b) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (i32.const 1))
    (func $upper (param $p i32) (param $l i32) (result i32)
      (local $q i32) (local $i i32) (local $c i32)
      (local.set $q (call $alloc (local.get $l) (i32.const 1)))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $l)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.eq (local.get $c) (i32.const 92)) ;; a backslash: copy the escaped byte as it is
          (then (i32.store8 (i32.add (local.get $q) (local.get $i)) (local.get $c))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $done (i32.ge_u (local.get $i) (local.get $l)))
                (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
          (else (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
            (then (local.set $c (i32.sub (local.get $c) (i32.const 32)))))))
        (i32.store8 (i32.add (local.get $q) (local.get $i)) (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (call $okjson (local.get $q) (local.get $l)))
    (func $okjson (param $p i32) (param $l i32) (result i32)
      (local $r i32)
      (local.set $r (call $alloc (i32.const 16) (i32.const 4)))
      (i32.store8 (local.get $r) (i32.const 0))
      (i32.store offset=4 (local.get $r) (local.get $p))
      (i32.store offset=8 (local.get $r) (local.get $l))
      (local.get $r))
    (func $echotask (param $mp i32) (param $ml i32) (param $cp i32) (param $cl i32) (result i32)
      (local $r i32)
      (local.set $r (call $alloc (i32.const 36) (i32.const 4)))
      (i32.store8 (local.get $r) (i32.const 0))
      (i32.store8 offset=4 (local.get $r) (i32.const 0))
      (i32.store offset=8 (local.get $r) (local.get $mp))
      (i32.store offset=12 (local.get $r) (local.get $ml))
      (i32.store offset=16 (local.get $r) (local.get $cp))
      (i32.store offset=20 (local.get $r) (local.get $cl))
      (i32.store8 offset=24 (local.get $r) (i32.const 0))
      (local.get $r))
    ;; $array returns ok("[value,arg0,arg1,...]") (without value unless $hasv).
    (func $array (param $vp i32) (param $vl i32) (param $hasv i32) (param $ap i32) (param $an i32) (result i32)
      (local $total i32) (local $i i32) (local $out i32) (local $w i32) (local $p i32) (local $l i32) (local $first i32)
      (local.set $total (i32.add (i32.const 2) (local.get $vl)))
      (block $done (loop $sum
        (br_if $done (i32.ge_u (local.get $i) (local.get $an)))
        (local.set $total (i32.add (local.get $total)
          (i32.add (i32.load offset=4 (i32.add (local.get $ap) (i32.shl (local.get $i) (i32.const 3)))) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sum)))
      (local.set $out (call $alloc (local.get $total) (i32.const 1)))
      (local.set $w (local.get $out))
      (i32.store8 (local.get $w) (i32.const 91))
      (local.set $w (i32.add (local.get $w) (i32.const 1)))
      (local.set $first (i32.const 1))
      (if (local.get $hasv) (then
        (memory.copy (local.get $w) (local.get $vp) (local.get $vl))
        (local.set $w (i32.add (local.get $w) (local.get $vl)))
        (local.set $first (i32.const 0))))
      (local.set $i (i32.const 0))
      (block $done2 (loop $copy
        (br_if $done2 (i32.ge_u (local.get $i) (local.get $an)))
        (local.set $p (i32.load (i32.add (local.get $ap) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $l (i32.load offset=4 (i32.add (local.get $ap) (i32.shl (local.get $i) (i32.const 3)))))
        (if (i32.eqz (local.get $first)) (then
          (i32.store8 (local.get $w) (i32.const 44))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))))
        (local.set $first (i32.const 0))
        (memory.copy (local.get $w) (local.get $p) (local.get $l))
        (local.set $w (i32.add (local.get $w) (local.get $l)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
      (i32.store8 (local.get $w) (i32.const 93))
      (local.set $w (i32.add (local.get $w) (i32.const 1)))
      (call $okjson (local.get $out) (i32.sub (local.get $w) (local.get $out))))
`

// componentTypes imports the types-only interface, as real plugins do.
const componentTypes = `  (import "driftless:plugin/types@0.1.0" (instance $types
    (type $level' (enum "trace" "debug" "info" "warn" "error"))
    (export "level" (type (eq $level')))
    (type $ek' (enum "invalid-config" "invalid-input" "not-found" "unsupported" "failed"))
    (export "error-kind" (type $ek (eq $ek')))
    (type $pe' (record (field "kind" $ek) (field "message" string)))
    (export "plugin-error" (type (eq $pe')))))
  (alias export $types "plugin-error" (type $plugin-error))
`

const metadataExport = `  (type $plugin-info (record (field "name" string) (field "version" string) (field "description" string)))
  (func $describe (result $plugin-info) (canon lift (core func $i "describe") (memory $i "memory")))
  (instance $metadata
    (export "plugin-info" (type $plugin-info))
    (export "describe" (func $describe)))
  (export "driftless:plugin/metadata@0.1.0" (instance $metadata))
`

const tasksExport = `  (type $task-kind (enum "apply" "facts" "logs"))
  (type $task-definition (record (field "name" string) (field "kind" $task-kind) (field "description" string)
    (field "config-schema" string) (field "supports-check-mode" bool)))
  (type $task-result (record (field "changed" bool) (field "message" string) (field "output" string)
    (field "diff" (option string))))
  (func $definitions (result (list $task-definition))
    (canon lift (core func $i "definitions") (memory $i "memory")))
  (func $execute (param "name" string) (param "config" string) (param "check-mode" bool)
      (result (result $task-result (error $plugin-error)))
    (canon lift (core func $i "execute") (memory $i "memory") (realloc (func $i "realloc"))
      (post-return (func $i "reset"))))
  (instance $tasks
    (export "plugin-error" (type $plugin-error))
    (export "task-kind" (type $task-kind))
    (export "task-definition" (type $task-definition))
    (export "task-result" (type $task-result))
    (export "definitions" (func $definitions))
    (export "execute" (func $execute)))
  (export "driftless:plugin/tasks@0.1.0" (instance $tasks))
`

const factsExport = `  (type $collector-definition (record (field "name" string) (field "description" string) (field "config-schema" string)))
  (func $collectors (result (list $collector-definition))
    (canon lift (core func $i "collectors") (memory $i "memory")))
  (func $collect (param "name" string) (param "config" string) (result (result string (error $plugin-error)))
    (canon lift (core func $i "collect") (memory $i "memory") (realloc (func $i "realloc"))
      (post-return (func $i "reset"))))
  (instance $facts
    (export "plugin-error" (type $plugin-error))
    (export "collector-definition" (type $collector-definition))
    (export "collectors" (func $collectors))
    (export "collect" (func $collect)))
  (export "driftless:plugin/facts@0.1.0" (instance $facts))
`

const templatesExport = `  (type $extension-kind (enum "filter" "function"))
  (type $argument (record (field "name" string) (field "description" string) (field "required" bool)))
  (type $extension-definition (record (field "name" string) (field "kind" $extension-kind) (field "description" string)
    (field "category" string) (field "arguments" (list $argument)) (field "config-schema" string)))
  (func $extensions (result (list $extension-definition))
    (canon lift (core func $i "extensions") (memory $i "memory")))
  (func $apply-filter (param "name" string) (param "config" string) (param "value" string) (param "args" (list string))
      (result (result string (error $plugin-error)))
    (canon lift (core func $i "apply-filter") (memory $i "memory") (realloc (func $i "realloc"))
      (post-return (func $i "reset"))))
  (func $call-function (param "name" string) (param "config" string) (param "args" (list string))
      (result (result string (error $plugin-error)))
    (canon lift (core func $i "call-function") (memory $i "memory") (realloc (func $i "realloc"))
      (post-return (func $i "reset"))))
  (instance $templates
    (export "plugin-error" (type $plugin-error))
    (export "extension-kind" (type $extension-kind))
    (export "argument" (type $argument))
    (export "extension-definition" (type $extension-definition))
    (export "extensions" (func $extensions))
    (export "apply-filter" (func $apply-filter))
    (export "call-function" (func $call-function)))
  (export "driftless:plugin/templates@0.1.0" (instance $templates))
`
