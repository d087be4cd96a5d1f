package playbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/templating"
)

// Runner runs plugin tasks; HostRunner adapts a *host.Host.
type Runner interface {
	// Lookup fails when PLUGIN.TASK cannot run: no such plugin, a plugin
	// that did not load, no such task.
	Lookup(plugin, task string) error
	// Execute runs a task with a JSON config.
	Execute(ctx context.Context, plugin, task, config string, check bool) (tasks.TaskResult, error)
}

// HostRunner runs tasks through the plugins loaded in h.
func HostRunner(h *host.Host) Runner { return hostRunner{h} }

type hostRunner struct{ h *host.Host }

func (r hostRunner) Lookup(plugin, task string) error {
	p, err := r.h.Plugin(plugin)
	if err != nil {
		return err
	}
	_, err = p.Task(task)
	return err
}

func (r hostRunner) Execute(ctx context.Context, plugin, task, config string, check bool) (tasks.TaskResult, error) {
	p, err := r.h.Plugin(plugin)
	if err != nil {
		return tasks.TaskResult{}, err
	}
	return p.ExecuteTask(ctx, task, config, check)
}

// Status is the outcome of one task.
type Status string

// Task outcomes.
const (
	StatusOK      Status = "ok"
	StatusChanged Status = "changed"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// Result is what one task did.
type Result struct {
	Task    *Task
	Status  Status
	Check   bool            // whether it ran in check mode
	Changed bool            // whether it changed (or would change) anything
	Message string          // the task's message, or why it failed or was skipped
	Output  json.RawMessage // the task's output; nil when it did not run
	Diff    *string         // the task's diff, if any
	Err     error           // why it failed (a *host.Error, or an *Error for its config)
	Ignored bool            // failed, but ignore_errors let the run go on
}

// Recap counts the results as Ansible's PLAY RECAP does: OK counts every
// task that succeeded, changed ones included, and failures that
// ignore_errors let through (which Ignored also counts); Failed counts the
// failures that stopped the run.
type Recap struct {
	OK      int `json:"ok"`
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Ignored int `json:"ignored"`
}

func (r *Recap) add(res Result) {
	switch res.Status {
	case StatusOK:
		r.OK++
	case StatusChanged:
		r.OK++
		r.Changed++
	case StatusSkipped:
		r.Skipped++
	case StatusFailed:
		if res.Ignored {
			r.OK++
			r.Ignored++
		} else {
			r.Failed++
		}
	}
}

// Report is the outcome of a run.
type Report struct {
	Results []Result // one per task that ran (or was skipped), in order
	Recap   Recap
	// Err is the failure that stopped the run (a task's, or the caller's
	// context), or nil when every task ran.
	Err error
}

// Options configure a run.
type Options struct {
	Runner    Runner
	Templates *templating.Env // renders config strings; nil means no plugin extensions
	Facts     map[string]any  // in scope as facts
	Vars      map[string]any  // extra variables; they override the playbook's
	Check     bool            // check mode (dry run)
	// Progress, if set, is called when a task starts (with a nil result)
	// and with its result when it ends.
	Progress func(t *Task, r *Result)
}

// Check verifies, before anything runs, that every task's PLUGIN.TASK can
// run; it lists every problem, each at its line.
func Check(pb *Playbook, r Runner) error {
	var errs Errors
	for i := range pb.Tasks {
		t := &pb.Tasks[i]
		if err := r.Lookup(t.Plugin, t.Task); err != nil {
			errs = append(errs, &Error{File: pb.File, Line: t.LineOf("uses"), Key: t.Key() + ".uses", Msg: err.Error(), Err: err})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Run runs the playbook's tasks in order. It stops at the first failure of
// a task without ignore_errors. In check mode (opts.Check, or a task's
// check_mode = true), a task that does not support check mode is skipped;
// check_mode = false runs a task for real even in a check run.
func Run(ctx context.Context, pb *Playbook, opts Options) Report {
	env := opts.Templates
	if env == nil {
		env = templating.New(nil)
	}
	// Templates in the playbook include files relative to it, as Ansible
	// resolves a playbook's files.
	if dir, err := filepath.Abs(filepath.Dir(pb.File)); err == nil {
		env = env.WithDir(dir)
	}
	vars := make(map[string]any, len(pb.Vars)+len(opts.Vars))
	for k, v := range pb.Vars {
		vars[k] = v
	}
	for k, v := range opts.Vars {
		vars[k] = v
	}
	var rep Report
	for i := range pb.Tasks {
		t := &pb.Tasks[i]
		if err := ctx.Err(); err != nil {
			rep.Err = err
			break
		}
		if opts.Progress != nil {
			opts.Progress(t, nil)
		}
		res := runTask(ctx, pb, t, env, opts, vars)
		rep.Results = append(rep.Results, res)
		rep.Recap.add(res)
		if t.Register != "" {
			vars[t.Register] = registered(res)
		}
		if opts.Progress != nil {
			opts.Progress(t, &rep.Results[len(rep.Results)-1])
		}
		if res.Status == StatusFailed && !res.Ignored {
			rep.Err = res.Err
			break
		}
	}
	return rep
}

func runTask(ctx context.Context, pb *Playbook, t *Task, env *templating.Env, opts Options, vars map[string]any) Result {
	check := opts.Check
	if t.CheckMode != nil {
		check = *t.CheckMode
	}
	res := Result{Task: t, Check: check}
	fail := func(err error) Result {
		res.Status, res.Err, res.Message, res.Ignored = StatusFailed, err, err.Error(), t.IgnoreErrors
		return res
	}
	scope, err := templating.Scope(opts.Facts, vars)
	if err != nil {
		return fail(&Error{File: pb.File, Line: t.Line, Key: t.Key(), Msg: err.Error(), Err: err})
	}
	config, err := renderValue(ctx, env, t.Config, t.Key()+".config", scope)
	if err != nil {
		var te *templating.Error
		msg := err.Error()
		if errors.As(err, &te) {
			msg = "template: " + te.Msg
			if te.Line > 1 {
				msg = fmt.Sprintf("template line %d: %s", te.Line, te.Msg)
			}
		}
		key := t.Key() + ".config"
		if te != nil {
			key = te.File
		}
		return fail(&Error{File: pb.File, Line: t.LineOf("config"), Key: key, Msg: msg, Err: err})
	}
	text, err := json.Marshal(config)
	if err != nil {
		return fail(&Error{File: pb.File, Line: t.LineOf("config"), Key: t.Key() + ".config", Msg: "cannot be sent as JSON: " + err.Error(), Err: err})
	}
	out, err := opts.Runner.Execute(ctx, t.Plugin, t.Task, string(text), check)
	if err != nil {
		if check && errors.Is(err, host.ErrUnsupported) {
			res.Status, res.Message = StatusSkipped, "the task does not support check mode"
			return res
		}
		return fail(err)
	}
	res.Changed, res.Message, res.Diff = out.Changed, out.Message, out.Diff
	res.Output = json.RawMessage(out.Output)
	if !json.Valid(res.Output) {
		res.Output = nil
	}
	res.Status = StatusOK
	if out.Changed {
		res.Status = StatusChanged
	}
	return res
}

// renderValue renders every string in a config value as a template; key
// names the value in errors (tasks[2].config.message).
func renderValue(ctx context.Context, env *templating.Env, v any, key string, scope map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "{{") && !strings.Contains(x, "{%") && !strings.Contains(x, "{#") {
			return x, nil
		}
		return env.RenderString(ctx, key, x, scope)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(x))
		for _, k := range keys {
			r, err := renderValue(ctx, env, x[k], key+"."+k, scope)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderValue(ctx, env, e, fmt.Sprintf("%s[%d]", key, i), scope)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderValue(ctx, env, e, fmt.Sprintf("%s[%d]", key, i), scope)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// registered is the value register = NAME stores: the result as templates
// see it.
func registered(r Result) map[string]any {
	m := map[string]any{
		"status":  string(r.Status),
		"changed": r.Changed,
		"failed":  r.Status == StatusFailed,
		"skipped": r.Status == StatusSkipped,
		"message": r.Message,
		"output":  nil,
		"diff":    nil,
	}
	if r.Output != nil {
		if v, err := templating.FromJSON(string(r.Output)); err == nil {
			m["output"] = v
		}
	}
	if r.Diff != nil {
		m["diff"] = *r.Diff
	}
	return m
}
