// Package playbook parses and runs Driftless playbooks: TOML files with an
// ordered list of plugin tasks, run one after the other through the host,
// their config strings rendered as templates over facts and variables,
// ending with an Ansible-style recap.
//
//	name = "motd"                  # optional
//	gather_facts = true            # optional, default true (the caller gathers)
//
//	[vars]                         # optional; strings are not templates
//	greeting = "hello"
//
//	[[tasks]]
//	name = "say hello"             # optional, default: the uses value
//	uses = "js-plugin.echo"        # PLUGIN.TASK, required
//	config = { message = "{{ greeting }} from {{ facts.hostname }}" }
//	ignore_errors = false          # optional: a failure does not stop the run
//	check_mode = true              # optional: force check mode on (or off)
//	register = "echoed"            # optional: the result becomes a variable
//
// Tasks are numbered from 1 in messages (tasks[1] is the first [[tasks]]
// table). Parse errors name the file, the line and the key at fault.
package playbook

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/boundeddecode"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/templating"

	"github.com/driftless-dev/driftless/internal/safetext"
)

// Playbook is a parsed playbook.
type Playbook struct {
	File        string         // the file it was read from
	Name        string         // its name; "" when not given
	GatherFacts bool           // whether facts are gathered before the run
	Vars        map[string]any // its variables
	Tasks       []Task
}

// Task is one [[tasks]] entry.
type Task struct {
	Number       int            // 1-based position in the playbook
	Line         int            // line of its [[tasks]] header; 0 when unknown
	Name         string         // its name, or Uses when not given
	Uses         string         // "PLUGIN.TASK"
	Plugin, Task string         // Uses split at its first dot
	Config       map[string]any // string values are templates
	IgnoreErrors bool           // a failure is reported but does not stop the run
	CheckMode    *bool          // when set, overrides the run's check mode
	Register     string         // the variable the result is stored in; "" for none

	keyLines map[string]int // line of each of its keys, where found
}

// LineOf returns the line of one of the task's keys ("uses", "config",
// ...), else of its [[tasks]] header; 0 when unknown.
func (t *Task) LineOf(key string) int {
	if l := t.keyLines[key]; l > 0 {
		return l
	}
	return t.Line
}

// Key returns the task's key in messages, e.g. "tasks[2]".
func (t *Task) Key() string { return "tasks[" + strconv.Itoa(t.Number) + "]" }

// Error is a problem of a playbook, at a line and key of its file.
type Error struct {
	File   string
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Key    string // e.g. "tasks[2].uses"; "" when the problem is not about a key
	Msg    string
	Err    error // the underlying error, if any (a template error, a host error)
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			s += ":" + strconv.Itoa(e.Column)
		}
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errors lists several problems of one playbook.
type Errors []*Error

// Unwrap returns the problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

var (
	topKeys  = []string{"name", "gather_facts", "vars", "tasks"}
	taskKeys = []string{"name", "uses", "config", "ignore_errors", "check_mode", "register"}

	identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// MaxFileSize bounds a playbook file: a larger one is refused before it is
// read.
const MaxFileSize = boundeddecode.MaxSize

// ParseFile reads and parses the playbook at path. A path that is not a
// regular file (a FIFO, a device) is refused without blocking.
func ParseFile(path string) (*Playbook, error) {
	data, err := safefile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the playbook: " + safefile.Reason(err), Err: err}
	}
	return Parse(path, data)
}

// Parse parses a playbook; file names it in errors. Every problem found is
// reported (an Errors), each naming its line and key.
func Parse(file string, data []byte) (*Playbook, error) {
	var doc map[string]any
	if _, err := boundeddecode.TOML(file, data, &doc); err != nil {
		var be *boundeddecode.Error
		if errors.As(err, &be) {
			return nil, &Error{File: file, Line: be.Line, Column: be.Column, Msg: be.Msg, Err: err}
		}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if pe.LastKey != "" {
				msg += fmt.Sprintf(" (after key %q)", pe.LastKey)
			}
			return nil, &Error{File: file, Line: pe.Position.Line, Column: pe.Position.Col, Msg: "TOML syntax: " + msg, Err: err}
		}
		return nil, &Error{File: file, Msg: "TOML: " + err.Error(), Err: err}
	}
	p := &parser{file: file, lines: strings.Split(string(data), "\n")}
	pb := p.playbook(doc)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return pb, nil
}

type parser struct {
	file  string
	lines []string
	errs  Errors
}

func (p *parser) fail(line int, key, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) playbook(doc map[string]any) *Playbook {
	pb := &Playbook{File: p.file, GatherFacts: true, Vars: map[string]any{}}
	headers := p.taskHeaders()
	p.unknownKeys(doc, topKeys, "", 0)
	if v, ok := doc["name"]; ok {
		pb.Name = p.str(v, "name", p.keyLine("name", 0))
	}
	if v, ok := doc["gather_facts"]; ok {
		pb.GatherFacts = p.boolean(v, "gather_facts", p.keyLine("gather_facts", 0))
	}
	if v, ok := doc["vars"]; ok {
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				if k == templating.FactsVar || k == templating.VarsVar {
					p.fail(p.keyLine(k, p.tableLine("vars")), "vars."+k, "the variable name %q is reserved", k)
				}
			}
			pb.Vars = m
		} else {
			p.fail(p.keyLine("vars", 0), "vars", "must be a table, not %s", tomlType(v))
		}
	}
	raw, ok := doc["tasks"]
	if !ok {
		p.fail(0, "tasks", "the playbook has no [[tasks]]")
		return pb
	}
	list, ok := raw.([]map[string]any)
	if !ok {
		if arr, isArr := raw.([]any); isArr && len(arr) == 0 {
			return pb
		}
		p.fail(p.keyLine("tasks", 0), "tasks", "must be an array of tables ([[tasks]]), not %s", tomlType(raw))
		return pb
	}
	for i, m := range list {
		t := Task{Number: i + 1}
		if len(headers) == len(list) {
			t.Line = headers[i]
		}
		p.task(&t, m)
		pb.Tasks = append(pb.Tasks, t)
	}
	return pb
}

func (p *parser) task(t *Task, m map[string]any) {
	key := t.Key()
	t.keyLines = map[string]int{}
	if t.Line > 0 {
		for k := range m {
			if l := p.keyLine(k, t.Line); l > 0 {
				t.keyLines[k] = l
			}
		}
	}
	line := t.LineOf
	p.unknownKeys(m, taskKeys, key+".", t.Line)
	if v, ok := m["uses"]; ok {
		t.Uses = p.str(v, key+".uses", line("uses"))
		if t.Uses != "" {
			plugin, task, found := strings.Cut(t.Uses, ".")
			switch {
			case !found || task == "":
				p.fail(line("uses"), key+".uses", "%s is not PLUGIN.TASK (e.g. \"js-plugin.echo\")", safetext.Quote(t.Uses, 128))
			case host.CheckName(plugin) != nil:
				p.fail(line("uses"), key+".uses", "%s is not a plugin name (letters, digits, '-' and '_')", safetext.Quote(plugin, 128))
			case strings.ContainsAny(task, " \t./"):
				p.fail(line("uses"), key+".uses", "%s is not a task name (no spaces, dots or slashes)", safetext.Quote(task, 128))
			default:
				t.Plugin, t.Task = plugin, task
			}
		}
	} else {
		p.fail(t.Line, key+".uses", "missing: every task needs uses = \"PLUGIN.TASK\"")
	}
	t.Name = t.Uses
	if v, ok := m["name"]; ok {
		if n := p.str(v, key+".name", line("name")); n != "" {
			t.Name = n
		}
	}
	t.Config = map[string]any{}
	if v, ok := m["config"]; ok {
		if c, ok := v.(map[string]any); ok {
			t.Config = c
		} else {
			p.fail(line("config"), key+".config", "must be a table (config = { ... }), not %s", tomlType(v))
		}
	}
	if v, ok := m["ignore_errors"]; ok {
		t.IgnoreErrors = p.boolean(v, key+".ignore_errors", line("ignore_errors"))
	}
	if v, ok := m["check_mode"]; ok {
		b := p.boolean(v, key+".check_mode", line("check_mode"))
		t.CheckMode = &b
	}
	if v, ok := m["register"]; ok {
		r := p.str(v, key+".register", line("register"))
		switch {
		case r == templating.FactsVar || r == templating.VarsVar:
			p.fail(line("register"), key+".register", "the variable name %q is reserved", r)
		case r != "" && !identifier.MatchString(r):
			p.fail(line("register"), key+".register", "%s is not a variable name (letters, digits and '_', not starting with a digit)", safetext.Quote(r, 128))
		default:
			t.Register = r
		}
	}
}

func (p *parser) str(v any, key string, line int) string {
	s, ok := v.(string)
	if !ok {
		p.fail(line, key, "must be a string, not %s", tomlType(v))
	}
	return s
}

func (p *parser) boolean(v any, key string, line int) bool {
	b, ok := v.(bool)
	if !ok {
		p.fail(line, key, "must be true or false, not %s", tomlType(v))
	}
	return b
}

func (p *parser) unknownKeys(m map[string]any, known []string, prefix string, from int) {
	var unknown []string
	for k := range m {
		if !contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		l := p.keyLine(k, from)
		if l == 0 {
			l = from
		}
		p.fail(l, prefix+k, "unknown key (known keys: %s)", strings.Join(known, ", "))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

var tasksHeader = regexp.MustCompile(`^\s*\[\[\s*tasks\s*\]\]\s*(#.*)?$`)

// taskHeaders returns the 1-based lines of the [[tasks]] headers.
func (p *parser) taskHeaders() []int {
	var out []int
	for i, l := range p.lines {
		if tasksHeader.MatchString(l) {
			out = append(out, i+1)
		}
	}
	return out
}

// tableLine returns the line of the [name] header, or 0.
func (p *parser) tableLine(name string) int {
	re := regexp.MustCompile(`^\s*\[\s*` + regexp.QuoteMeta(name) + `\s*\]\s*(#.*)?$`)
	for i, l := range p.lines {
		if re.MatchString(l) {
			return i + 1
		}
	}
	return 0
}

// keyLine returns the 1-based line where key is assigned in the table
// whose header is at line from (0: the top of the file, before any
// header), or 0 when it is not found there.
func (p *parser) keyLine(key string, from int) int {
	q := regexp.QuoteMeta(key)
	re := regexp.MustCompile(`^\s*("` + q + `"|'` + q + `'|` + q + `)\s*=`)
	for i := from; i < len(p.lines); i++ {
		if strings.HasPrefix(strings.TrimSpace(p.lines[i]), "[") {
			break
		}
		if re.MatchString(p.lines[i]) {
			return i + 1
		}
	}
	return 0
}
