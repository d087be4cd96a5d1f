package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/internal/boundeddecode"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/internal/safetext"
)

func taskCommand() *cli.Command {
	return &cli.Command{
		Name:  "task",
		Usage: "run one plugin task",
		Subcommands: []*cli.Command{{
			Name:      "run",
			Usage:     "run PLUGIN.TASK with a JSON config (validated against the task's config schema first)",
			ArgsUsage: "PLUGIN.TASK",
			Flags: []cli.Flag{
				configFlag(),
				&cli.BoolFlag{Name: "check", Usage: "check mode: report what would change, change nothing"},
			},
			Action: taskRun,
		}},
	}
}

func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the config: a JSON object, or @FILE to read it from FILE (@- for stdin)"}
}

// readConfig returns the --config value as JSON object text ("{}" when
// not given).
func readConfig(c *cli.Context) (string, error) {
	v := c.String("config")
	if v == "" {
		return "{}", nil
	}
	source := "--config"
	if strings.HasPrefix(v, "@") {
		path := v[1:]
		var data []byte
		var err error
		if path == "-" {
			data, err = safefile.ReadAll(os.Stdin, "standard input", maxInputFile)
		} else {
			data, err = safefile.ReadFile(path, maxInputFile)
		}
		if err != nil {
			return "", &cliError{kind: "usage", msg: fmt.Sprintf("--config %s: cannot read it: %s", v, safefile.Reason(err)), err: err}
		}
		v, source = string(data), "--config "+v
	}
	if err := boundeddecode.CheckJSON(source, []byte(v)); err != nil {
		be := err.(*boundeddecode.Error)
		return "", &cliError{kind: "invalid-config", msg: source + ": " + be.Reason(), err: err}
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(v))
	if err := dec.Decode(&obj); err != nil {
		if _, isObj := err.(*json.UnmarshalTypeError); isObj {
			return "", &cliError{kind: "invalid-config", msg: source + ": the config must be a JSON object ({...})"}
		}
		return "", &cliError{kind: "invalid-config", msg: fmt.Sprintf("%s: not valid JSON: %v", source, err), err: err}
	}
	if dec.More() {
		return "", &cliError{kind: "invalid-config", msg: source + ": not valid JSON: trailing data after the object"}
	}
	if obj == nil {
		return "", &cliError{kind: "invalid-config", msg: source + ": the config must be a JSON object ({...})"}
	}
	return v, nil
}

// splitRef splits PLUGIN.ITEM.
func splitRef(ref, what string) (string, string, error) {
	plugin, item, ok := strings.Cut(ref, ".")
	if !ok || plugin == "" || item == "" {
		return "", "", usagef("%s is not PLUGIN.%s (e.g. js-plugin.echo)", safetext.Quote(ref, 128), what)
	}
	return plugin, item, nil
}

// taskResultJSON is the result `task run` prints.
type taskResultJSON struct {
	Plugin    string     `json:"plugin"`
	Task      string     `json:"task"`
	CheckMode bool       `json:"check_mode"`
	Status    string     `json:"status"`
	Changed   bool       `json:"changed"`
	Message   string     `json:"message"`
	Output    any        `json:"output"`
	Diff      *string    `json:"diff"`
	Error     *errorJSON `json:"error,omitempty"`
}

func taskRun(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	plugin, task, err := splitRef(c.Args().First(), "TASK")
	if err != nil {
		return err
	}
	config, err := readConfig(c)
	if err != nil {
		return err
	}
	p, err := a.plugin(c.Context, plugin)
	if err != nil {
		return err
	}
	check := c.Bool("check")
	res, err := p.ExecuteTask(c.Context, task, config, check)
	doc := taskResultJSON{Plugin: plugin, Task: task, CheckMode: check}
	if err != nil {
		if _, code := classify(err); code != exitFailed {
			return err // nothing ran: a usage or validation error
		}
		doc.Status, doc.Message, doc.Error = "failed", err.Error(), errorDoc(err)
		if werr := a.emitRaw(doc, func(w io.Writer) { a.writeTaskResult(w, doc) }); werr != nil {
			return werr
		}
		return &reported{err}
	}
	doc.fill(res)
	return a.emitRaw(doc, func(w io.Writer) { a.writeTaskResult(w, doc) })
}

func (d *taskResultJSON) fill(res tasks.TaskResult) {
	d.Status, d.Changed, d.Message, d.Diff = "ok", res.Changed, res.Message, res.Diff
	if res.Changed {
		d.Status = "changed"
	}
	d.Output = jsonValue(res.Output)
}

// writeTaskResult prints a task result for people; what the plugin said is
// escaped (its status word is coloured).
func (a *app) writeTaskResult(w io.Writer, d taskResultJSON) {
	t := table(w)
	ref := safetext.Line(d.Plugin + "." + d.Task)
	if d.CheckMode {
		ref += " (check mode)"
	}
	fmt.Fprintf(t, "task\t%s\n", ref)
	fmt.Fprintf(t, "status\t%s\n", a.status(d.Status))
	if d.Error != nil {
		fmt.Fprintf(t, "error\t%s\n", d.Error.Kind)
	}
	if d.Message != "" {
		fmt.Fprintf(t, "message\t%s\n", safetext.Line(oneLine(d.Message)))
	}
	t.Flush()
	if d.Output != nil {
		b, _ := json.Marshal(d.Output)
		if text := string(b); len(text) <= 100 {
			fmt.Fprintf(w, "output   %s\n", safetext.Line(text))
		} else {
			fmt.Fprintf(w, "output\n%s\n", safetext.Block(prettyJSON(text, "  ")))
		}
	}
	if d.Diff != nil && *d.Diff != "" {
		fmt.Fprintf(w, "diff\n%s\n", safetext.Block(indent(*d.Diff, "  ")))
	}
}
