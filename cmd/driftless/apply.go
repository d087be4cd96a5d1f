package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/internal/safetext"
	"github.com/driftless-dev/driftless/playbook"
	"github.com/driftless-dev/driftless/templating"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "run a playbook: its tasks in order, then a recap (ok, changed, failed, skipped, ignored)",
		ArgsUsage: "PLAYBOOK.toml",
		Flags: append(varFlags(),
			&cli.BoolFlag{Name: "check", Usage: "check mode: tasks report what would change and change nothing; tasks without check mode are skipped"},
		),
		Action: apply,
	}
}

type applyJSON struct {
	Playbook string          `json:"playbook"`
	Name     string          `json:"name,omitempty"`
	Check    bool            `json:"check_mode"`
	Tasks    []applyTaskJSON `json:"tasks"`
	Recap    playbook.Recap  `json:"recap"`
	Error    *errorJSON      `json:"error,omitempty"`
}

type applyTaskJSON struct {
	Number    int        `json:"number"`
	Name      string     `json:"name"`
	Uses      string     `json:"uses"`
	Line      int        `json:"line,omitempty"`
	CheckMode bool       `json:"check_mode"`
	Status    string     `json:"status"`
	Changed   bool       `json:"changed"`
	Message   string     `json:"message"`
	Output    any        `json:"output"`
	Diff      *string    `json:"diff"`
	Ignored   bool       `json:"ignored"`
	Error     *errorJSON `json:"error,omitempty"`
}

func apply(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	vars, err := readVars(c)
	if err != nil {
		return err
	}
	pb, err := playbook.ParseFile(c.Args().First())
	if err != nil {
		return err
	}
	plugins, err := a.loadAll(c.Context)
	if err != nil {
		return err
	}
	h, err := a.host()
	if err != nil {
		return err
	}
	runner := playbook.HostRunner(h)
	if err := playbook.Check(pb, runner); err != nil {
		return err
	}
	facts, err := a.gatherFacts(c.Context, pb.GatherFacts)
	if err != nil {
		return err
	}
	check := c.Bool("check")
	opts := playbook.Options{
		Runner:    runner,
		Templates: templating.New(plugins).WithLimits(templating.LimitsOf(h.Config())),
		Facts:     facts,
		Vars:      vars,
		Check:     check,
	}
	if !a.json {
		title := pb.Name
		if title == "" {
			title = pb.File
		}
		if check {
			title += " (check mode)"
		}
		banner(a.stdout, "PLAY ["+title+"]")
		opts.Progress = func(t *playbook.Task, r *playbook.Result) {
			if r == nil {
				title := "TASK [" + t.Name + "]"
				if t.Name != t.Uses {
					title += " (" + t.Uses + ")"
				}
				banner(a.stdout, title)
				return
			}
			a.writePlayResult(a.stdout, r)
		}
	}
	rep := playbook.Run(c.Context, pb, opts)
	if a.json {
		doc := applyJSON{Playbook: pb.File, Name: pb.Name, Check: check, Tasks: []applyTaskJSON{}, Recap: rep.Recap}
		for _, r := range rep.Results {
			t := applyTaskJSON{Number: r.Task.Number, Name: r.Task.Name, Uses: r.Task.Uses, Line: r.Task.Line, CheckMode: r.Check,
				Status: string(r.Status), Changed: r.Changed, Message: r.Message, Diff: r.Diff, Ignored: r.Ignored}
			if r.Output != nil {
				t.Output = r.Output
			}
			if r.Err != nil {
				t.Error = errorDoc(r.Err)
			}
			doc.Tasks = append(doc.Tasks, t)
		}
		if rep.Err != nil {
			doc.Error = errorDoc(rep.Err)
		}
		if err := writeJSON(a.stdout, doc); err != nil {
			return err
		}
	} else {
		banner(a.stdout, "PLAY RECAP")
		r := rep.Recap
		fmt.Fprintf(a.stdout, "%s=%d  %s=%d  %s=%d  %s=%d  ignored=%d\n",
			a.status("ok"), r.OK, a.status("changed"), r.Changed, a.status("failed"), r.Failed, a.status("skipped"), r.Skipped, r.Ignored)
	}
	if rep.Err != nil {
		if !a.json {
			if !stoppedByTask(rep) {
				// The run stopped for another reason (the context ended):
				// say it, since no task result did.
				fmt.Fprintf(a.stderr, "error: %s\n", safetext.Block(rep.Err.Error()))
			}
		}
		return &reported{rep.Err}
	}
	return nil
}

// stoppedByTask reports whether a task's failure stopped the run (its
// result says why).
func stoppedByTask(rep playbook.Report) bool {
	n := len(rep.Results)
	return n > 0 && rep.Results[n-1].Status == playbook.StatusFailed && !rep.Results[n-1].Ignored
}

func banner(w io.Writer, title string) {
	title = safetext.Line(title) // names from the playbook
	pad := 72 - len(title) - 1
	if pad < 3 {
		pad = 3
	}
	fmt.Fprintf(w, "\n%s %s\n", title, strings.Repeat("*", pad))
}

func (a *app) writePlayResult(w io.Writer, r *playbook.Result) {
	word := string(r.Status)
	if r.Status == playbook.StatusSkipped {
		word = "skipping"
	}
	msg := safetext.Line(oneLine(r.Message))
	if r.Status == playbook.StatusFailed {
		if kind, _ := classify(r.Err); kind != string(playbook.StatusFailed) {
			word += " (" + kind + ")"
		}
	}
	fmt.Fprintf(w, "%s: %s\n", a.paint(word, string(r.Status)), msg)
	if r.Diff != nil && *r.Diff != "" {
		fmt.Fprintln(w, safetext.Block(indent(*r.Diff, "  ")))
	}
	if r.Ignored {
		fmt.Fprintln(w, "...ignoring")
	}
}
