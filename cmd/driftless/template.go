package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/boundeddecode"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/internal/safetext"
	"github.com/driftless-dev/driftless/templating"
)

func templateCommand() *cli.Command {
	return &cli.Command{
		Name:  "template",
		Usage: "render Jinja2 templates with facts, variables and plugin filters and functions",
		Subcommands: []*cli.Command{{
			Name:      "render",
			Usage:     "render FILE (- for stdin) to stdout",
			ArgsUsage: "FILE",
			Flags: append(varFlags(),
				&cli.BoolFlag{Name: "gather-facts", Value: true, Usage: "run every plugin facts collector (the built-in facts are always there); --gather-facts=false to skip"},
			),
			Action: templateRender,
		}},
	}
}

func varFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "vars", Usage: "read variables from `FILE` (a JSON or TOML object; repeatable, later files win)"},
		&cli.StringSliceFlag{Name: "var", Aliases: []string{"e"}, Usage: "set variable `KEY=VALUE` (a string; repeatable; wins over --vars)"},
	}
}

// readVars returns the variables of --vars files and --var settings.
func readVars(c *cli.Context) (map[string]any, error) {
	vars := map[string]any{}
	for _, file := range c.StringSlice("vars") {
		m, err := readVarsFile(file)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			vars[k] = v
		}
	}
	for _, kv := range c.StringSlice("var") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--var %q: expected KEY=VALUE", kv)
		}
		vars[strings.TrimSpace(k)] = v
	}
	for k := range vars {
		if k == templating.FactsVar || k == templating.VarsVar {
			return nil, usagef("the variable name %q is reserved", k)
		}
	}
	return vars, nil
}

// maxInputFile bounds the files the CLI reads as --vars and --config @FILE
// (and standard input for them): as plugins.toml, 1 MiB.
const maxInputFile = host.MaxConfigFileSize

func readVarsFile(file string) (map[string]any, error) {
	data, err := safefile.ReadFile(file, maxInputFile)
	if err != nil {
		return nil, &cliError{kind: "usage", msg: fmt.Sprintf("--vars %s: cannot read it: %s", file, safefile.Reason(err)), err: err}
	}
	// Size and nesting are bounded before either decoder runs.
	ext := strings.ToLower(filepath.Ext(file))
	if ext != ".toml" {
		jerr := boundeddecode.CheckJSON(file, data)
		var v any
		if jerr == nil {
			v, jerr = templating.FromJSON(string(data))
		}
		if m, ok := v.(map[string]any); jerr == nil && ok {
			return m, nil
		}
		if jerr == nil {
			return nil, usagef("--vars %s: the variables must be a JSON object", file)
		}
		if be, ok := jerr.(*boundeddecode.Error); ok && ext == ".json" {
			return nil, usagef("--vars %s: %s", file, be.Reason())
		}
		if ext == ".json" {
			return nil, usagef("--vars %s: not valid JSON: %v", file, jerr)
		}
	}
	var m map[string]any
	if _, err := boundeddecode.TOML(file, data, &m); err != nil {
		if be, ok := err.(*boundeddecode.Error); ok {
			return nil, usagef("--vars %s: %s", file, be.Reason())
		}
		if ext == ".toml" {
			return nil, usagef("--vars %s: not valid TOML: %v", file, err)
		}
		return nil, usagef("--vars %s: neither a JSON object nor TOML", file)
	}
	return m, nil
}

type renderJSON struct {
	File   string `json:"file"`
	Output string `json:"output"`
}

func templateRender(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	file := c.Args().First()
	vars, err := readVars(c)
	if err != nil {
		return err
	}
	var src []byte
	if file == "-" {
		if src, err = safefile.ReadAll(os.Stdin, "standard input", templating.MaxTemplateSize); err != nil {
			return &cliError{kind: "usage", msg: "template -: cannot read it: " + safefile.Reason(err), err: err}
		}
	} else if err := checkFile(file, "template"); err != nil {
		return err
	}
	plugins, err := a.loadAll(c.Context)
	if err != nil {
		return err
	}
	facts, err := a.gatherFacts(c.Context, c.Bool("gather-facts"))
	if err != nil {
		return err
	}
	scope, err := templating.Scope(facts, vars)
	if err != nil {
		return usagef("%v", err)
	}
	h, err := a.host()
	if err != nil {
		return err
	}
	env := templating.New(plugins).WithLimits(templating.LimitsOf(h.Config()))
	var out string
	if file == "-" {
		out, err = env.RenderString(c.Context, "<stdin>", string(src), scope)
	} else {
		out, err = env.RenderFile(c.Context, file, scope)
	}
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, renderJSON{File: file, Output: out})
	}
	// The rendered text is the command's product (often redirected to a
	// file): it is written as it is, unless it goes to a terminal, which
	// would obey the control characters a plugin or a file put in it.
	if isTerminal(a.stdout) {
		out = safetext.Block(out)
	}
	_, err = io.WriteString(a.stdout, out)
	return err
}
