package playbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/host"
)

// fakeRunner runs tasks from a table and records the calls.
type fakeRunner struct {
	calls []string
	tasks map[string]func(config string, check bool) (tasks.TaskResult, error)
}

func (f *fakeRunner) Lookup(plugin, task string) error {
	if _, ok := f.tasks[plugin+"."+task]; !ok {
		return &host.Error{Plugin: plugin, Func: "tasks.execute", Kind: host.KindNotFound, Msg: fmt.Sprintf("no task named %q", task)}
	}
	return nil
}

func (f *fakeRunner) Execute(ctx context.Context, plugin, task, config string, check bool) (tasks.TaskResult, error) {
	f.calls = append(f.calls, fmt.Sprintf("%s.%s %s check=%t", plugin, task, config, check))
	fn, ok := f.tasks[plugin+"."+task]
	if !ok {
		return tasks.TaskResult{}, f.Lookup(plugin, task)
	}
	return fn(config, check)
}

func newFake() *fakeRunner {
	diff := "-a\n+b"
	return &fakeRunner{tasks: map[string]func(string, bool) (tasks.TaskResult, error){
		"p.ok": func(c string, _ bool) (tasks.TaskResult, error) {
			return tasks.TaskResult{Message: "fine", Output: c}, nil
		},
		"p.change": func(c string, check bool) (tasks.TaskResult, error) {
			return tasks.TaskResult{Changed: true, Message: fmt.Sprintf("check=%t", check), Output: `{"n":1}`, Diff: &diff}, nil
		},
		"p.nocheck": func(c string, check bool) (tasks.TaskResult, error) {
			if check {
				return tasks.TaskResult{}, &host.Error{Plugin: "p", Func: "tasks.execute", Kind: host.KindUnsupported, Msg: "task \"nocheck\" does not support check mode"}
			}
			return tasks.TaskResult{Changed: true, Message: "did it", Output: "{}"}, nil
		},
		"p.fail": func(string, bool) (tasks.TaskResult, error) {
			return tasks.TaskResult{}, &host.Error{Plugin: "p", Func: "tasks.execute", Kind: host.KindFailed, Msg: "it broke"}
		},
	}}
}

func parse(t *testing.T, src string) *Playbook {
	t.Helper()
	pb, err := Parse("play.toml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return pb
}

func TestParse(t *testing.T) {
	pb := parse(t, `name = "demo"
gather_facts = false

[vars]
who = "world"

[[tasks]]
uses = "js-plugin.echo"
config = { message = "hi {{ who }}", nested = { list = ["{{ who }}", 1] } }

[[tasks]]
name = "second"
uses = "p.change"
ignore_errors = true
check_mode = false
register = "second_result"
`)
	if pb.Name != "demo" || pb.GatherFacts || pb.Vars["who"] != "world" || len(pb.Tasks) != 2 {
		t.Fatalf("got %+v", pb)
	}
	t1, t2 := pb.Tasks[0], pb.Tasks[1]
	if t1.Name != "js-plugin.echo" || t1.Plugin != "js-plugin" || t1.Task != "echo" || t1.Line != 7 || t1.Number != 1 || t1.CheckMode != nil {
		t.Errorf("task 1: %+v", t1)
	}
	if t2.Name != "second" || !t2.IgnoreErrors || t2.CheckMode == nil || *t2.CheckMode || t2.Register != "second_result" || t2.Line != 11 {
		t.Errorf("task 2: %+v", t2)
	}
	if !parse(t, "[[tasks]]\nuses = \"a.b\"\n").GatherFacts {
		t.Error("gather_facts does not default to true")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []string // each error's text, in order
	}{
		{"[[tasks]]\nuses = \"a.b\"\nbogus = 1\n", []string{`play.toml:3: tasks[1].bogus: unknown key (known keys: name, uses, config, ignore_errors, check_mode, register)`}},
		{"[[tasks]]\nname = \"x\"\n", []string{`play.toml:1: tasks[1].uses: missing: every task needs uses = "PLUGIN.TASK"`}},
		{"[[tasks]]\nuses = \"a.b\"\n\n[[tasks]]\nuses = \"nodot\"\n", []string{`play.toml:5: tasks[2].uses: "nodot" is not PLUGIN.TASK (e.g. "js-plugin.echo")`}},
		{"[[tasks]]\nuses = \"bad name.x\"\n", []string{`play.toml:2: tasks[1].uses: "bad name" is not a plugin name`}},
		{"[[tasks]]\nuses = \"a.b\"\nignore_errors = \"yes\"\ncheck_mode = 1\n", []string{
			`play.toml:3: tasks[1].ignore_errors: must be true or false, not a string`,
			`play.toml:4: tasks[1].check_mode: must be true or false, not an integer`}},
		{"[[tasks]]\nuses = \"a.b\"\nconfig = \"x\"\n", []string{`play.toml:3: tasks[1].config: must be a table (config = { ... }), not a string`}},
		{"[[tasks]]\nuses = \"a.b\"\nregister = \"not ok\"\n", []string{`play.toml:3: tasks[1].register: "not ok" is not a variable name`}},
		{"[[tasks]]\nuses = \"a.b\"\nregister = \"facts\"\n", []string{`play.toml:3: tasks[1].register: the variable name "facts" is reserved`}},
		{"tasks = 3\n", []string{`play.toml:1: tasks: must be an array of tables ([[tasks]]), not an integer`}},
		{"name = \"x\"\n", []string{`play.toml: tasks: the playbook has no [[tasks]]`}},
		{"task = []\n[[tasks]]\nuses = \"a.b\"\n", []string{`play.toml:1: task: unknown key (known keys: name, gather_facts, vars, tasks)`}},
		{"[vars]\nvars = 1\n[[tasks]]\nuses = \"a.b\"\n", []string{`play.toml:2: vars.vars: the variable name "vars" is reserved`}},
		{"[[tasks]]\nuses = \"a.b\"\nconfig = { a = \n", []string{`play.toml:3:`, `TOML syntax:`}},
		{"[[tasks]]\nuses = a.b\n", []string{`play.toml:2:`, `TOML syntax:`}},
	} {
		_, err := Parse("play.toml", []byte(c.src))
		if err == nil {
			t.Errorf("%q: no error", c.src)
			continue
		}
		var es Errors
		if errors.As(err, &es) {
			if len(es) != len(c.want) {
				t.Errorf("%q: %d errors, want %d: %v", c.src, len(es), len(c.want), err)
				continue
			}
			for i, e := range es {
				if !strings.HasPrefix(e.Error(), c.want[i]) {
					t.Errorf("%q: error %d = %q, want prefix %q", c.src, i, e.Error(), c.want[i])
				}
			}
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q does not contain %q", c.src, err.Error(), w)
			}
		}
	}
}

func TestParseFile(t *testing.T) {
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.toml")); err == nil || !strings.Contains(err.Error(), "missing.toml: cannot read the playbook: no such file or directory") {
		t.Errorf("got %v", err)
	}
	path := filepath.Join(t.TempDir(), "p.toml")
	os.WriteFile(path, []byte("[[tasks]]\nuses = \"a.b\"\n"), 0o644)
	if pb, err := ParseFile(path); err != nil || pb.File != path {
		t.Errorf("got %v %v", pb, err)
	}
}

func TestRunOrderTemplatesAndRecap(t *testing.T) {
	pb := parse(t, `[vars]
who = "world"
[[tasks]]
uses = "p.ok"
config = { message = "hi {{ who }} on {{ facts.os }}", n = 1, list = ["{{ who | upper }}", true] }
register = "first"
[[tasks]]
uses = "p.change"
[[tasks]]
uses = "p.ok"
config = { prev = "{{ first.message }} {{ first.output.n }}" }
`)
	f := newFake()
	var progress []string
	rep := Run(context.Background(), pb, Options{Runner: f, Facts: map[string]any{"os": "linux"},
		Progress: func(t *Task, r *Result) {
			if r == nil {
				progress = append(progress, "start "+t.Key())
			} else {
				progress = append(progress, "end "+t.Key()+" "+string(r.Status))
			}
		}})
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	want := []string{
		`p.ok {"list":["WORLD",true],"message":"hi world on linux","n":1} check=false`,
		`p.change {} check=false`,
		`p.ok {"prev":"fine 1"} check=false`,
	}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}
	if rep.Recap != (Recap{OK: 3, Changed: 1}) {
		t.Errorf("recap %+v", rep.Recap)
	}
	if got := strings.Join(progress, ","); got != "start tasks[1],end tasks[1] ok,start tasks[2],end tasks[2] changed,start tasks[3],end tasks[3] ok" {
		t.Errorf("progress: %s", got)
	}
	r := rep.Results[1]
	if r.Status != StatusChanged || r.Message != "check=false" || r.Diff == nil || string(r.Output) != `{"n":1}` {
		t.Errorf("result 2: %+v", r)
	}
}

func TestRunStopsAtFirstFailure(t *testing.T) {
	pb := parse(t, "[[tasks]]\nuses = \"p.ok\"\n[[tasks]]\nuses = \"p.fail\"\n[[tasks]]\nuses = \"p.ok\"\n")
	f := newFake()
	rep := Run(context.Background(), pb, Options{Runner: f})
	if len(f.calls) != 2 || len(rep.Results) != 2 || rep.Recap != (Recap{OK: 1, Failed: 1}) {
		t.Fatalf("calls %v recap %+v", f.calls, rep.Recap)
	}
	if host.KindOf(rep.Err) != host.KindFailed || !strings.Contains(rep.Results[1].Message, "it broke") {
		t.Errorf("err %v, result %+v", rep.Err, rep.Results[1])
	}
}

func TestRunIgnoreErrors(t *testing.T) {
	pb := parse(t, "[[tasks]]\nuses = \"p.fail\"\nignore_errors = true\nregister = \"r\"\n[[tasks]]\nuses = \"p.ok\"\nconfig = { failed = \"{{ r.failed }}\" }\n")
	f := newFake()
	rep := Run(context.Background(), pb, Options{Runner: f})
	if rep.Err != nil || len(f.calls) != 2 {
		t.Fatalf("err %v calls %v", rep.Err, f.calls)
	}
	if rep.Recap != (Recap{OK: 2, Ignored: 1}) || !rep.Results[0].Ignored || rep.Results[0].Status != StatusFailed {
		t.Errorf("recap %+v results %+v", rep.Recap, rep.Results)
	}
	if !strings.Contains(f.calls[1], `"failed":"True"`) {
		t.Errorf("registered failure not visible: %v", f.calls[1])
	}
}

func TestRunCheckMode(t *testing.T) {
	pb := parse(t, `[[tasks]]
uses = "p.change"
[[tasks]]
uses = "p.nocheck"
[[tasks]]
uses = "p.nocheck"
check_mode = false
[[tasks]]
uses = "p.ok"
`)
	f := newFake()
	rep := Run(context.Background(), pb, Options{Runner: f, Check: true})
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	st := []Status{}
	for _, r := range rep.Results {
		st = append(st, r.Status)
	}
	if fmt.Sprint(st) != "[changed skipped changed ok]" {
		t.Errorf("statuses %v", st)
	}
	if rep.Recap != (Recap{OK: 3, Changed: 2, Skipped: 1}) {
		t.Errorf("recap %+v", rep.Recap)
	}
	if rep.Results[0].Message != "check=true" || !rep.Results[0].Check || rep.Results[2].Check {
		t.Errorf("check flags: %+v", rep.Results)
	}
	if !strings.Contains(rep.Results[1].Message, "does not support check mode") {
		t.Errorf("skip message %q", rep.Results[1].Message)
	}
	// check_mode = true forces check mode in a normal run.
	pb = parse(t, "[[tasks]]\nuses = \"p.change\"\ncheck_mode = true\n[[tasks]]\nuses = \"p.nocheck\"\ncheck_mode = true\n")
	rep = Run(context.Background(), pb, Options{Runner: newFake()})
	if rep.Results[0].Message != "check=true" || rep.Results[1].Status != StatusSkipped {
		t.Errorf("forced check mode: %+v", rep.Results)
	}
}

func TestRunTemplateError(t *testing.T) {
	pb := parse(t, "[[tasks]]\nuses = \"p.ok\"\n\n[[tasks]]\nuses = \"p.ok\"\nconfig = { a = { b = \"{{ missing }}\" } }\n")
	f := newFake()
	rep := Run(context.Background(), pb, Options{Runner: f})
	var pe *Error
	if !errors.As(rep.Err, &pe) {
		t.Fatalf("got %v", rep.Err)
	}
	if pe.Error() != `play.toml:6: tasks[2].config.a.b: template: Unable to evaluate name "missing"` {
		t.Errorf("got %q", pe.Error())
	}
	if len(f.calls) != 1 || rep.Recap.Failed != 1 {
		t.Errorf("calls %v recap %+v", f.calls, rep.Recap)
	}
}

func TestRunCancelled(t *testing.T) {
	pb := parse(t, "[[tasks]]\nuses = \"p.ok\"\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake()
	rep := Run(ctx, pb, Options{Runner: f})
	if !errors.Is(rep.Err, context.Canceled) || len(f.calls) != 0 {
		t.Errorf("err %v calls %v", rep.Err, f.calls)
	}
}

func TestCheck(t *testing.T) {
	pb := parse(t, "[[tasks]]\nuses = \"p.ok\"\n[[tasks]]\nuses = \"p.nope\"\n[[tasks]]\nuses = \"q.x\"\n")
	err := Check(pb, newFake())
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("got %v", err)
	}
	if !strings.HasPrefix(es[0].Error(), `play.toml:4: tasks[2].uses: plugin p: tasks.execute: no task named "nope"`) || es[1].Line != 6 {
		t.Errorf("got %v", err)
	}
	if host.KindOf(es[0]) != host.KindNotFound {
		t.Errorf("kind %s", host.KindOf(es[0]))
	}
}

func TestResultOutputJSON(t *testing.T) {
	pb := parse(t, "[[tasks]]\nuses = \"p.ok\"\nconfig = { x = 1 }\n")
	rep := Run(context.Background(), pb, Options{Runner: newFake()})
	var v map[string]any
	if err := json.Unmarshal(rep.Results[0].Output, &v); err != nil || v["x"] != 1.0 {
		t.Errorf("output %s: %v", rep.Results[0].Output, err)
	}
}

// FuzzParse: any input parses or fails with errors; never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[[tasks]]\nuses = \"a.b\"\n",
		"name = 1\n[vars]\nx = [1, {a = 2}]\n[[tasks]]\nuses = \"a.b\"\nconfig = { x = \"{{ y }}\" }\nregister = \"r\"\n",
		"tasks = [{uses = \"a.b\"}]\n", "[[tasks]]\n[[tasks]]\nuses = 3\n", "[tasks]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pb, err := Parse("fuzz.toml", data)
		if (pb == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", pb, err)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// A deeply nested config is refused before the TOML decoder sees it (its
// cost grows with the square of the depth); so is a file over 1 MiB.
func TestParseBounds(t *testing.T) {
	deep := "name = \"x\"\n[[tasks]]\nuses = \"a.b\"\nconfig = " + strings.Repeat("{a=", 4000) + "1" + strings.Repeat("}", 4000) + "\n"
	start := time.Now()
	_, err := Parse("site.toml", []byte(deep))
	var pe *Error
	if !errors.As(err, &pe) || err.Error() != "site.toml:4:97: nested more than 32 levels deep (tables, arrays and dotted keys count; the limit is 32)" {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s", d)
	}
	path := filepath.Join(t.TempDir(), "big.toml")
	os.WriteFile(path, []byte("# "+strings.Repeat("x", MaxFileSize)), 0o644)
	if _, err := ParseFile(path); err == nil || err.Error() != path+": cannot read the playbook: is 1048578 bytes, more than the limit of 1048576 bytes" {
		t.Fatalf("got %v", err)
	}
}

// Templates in a playbook include files relative to the playbook, not to
// the directory driftless runs in (as Ansible resolves a playbook's files).
func TestRunIncludesRelativeToThePlaybook(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "part.j2"), []byte("from part"), 0o644)
	path := filepath.Join(dir, "play.toml")
	os.WriteFile(path, []byte("[[tasks]]\nuses = \"p.ok\"\nconfig = { a = \"{% include 'part.j2' %}\" }\n"), 0o644)
	pb, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	rep := Run(context.Background(), pb, Options{Runner: f})
	if rep.Err != nil || len(f.calls) != 1 || f.calls[0] != `p.ok {"a":"from part"} check=false` {
		t.Fatalf("err %v calls %v", rep.Err, f.calls)
	}
}
