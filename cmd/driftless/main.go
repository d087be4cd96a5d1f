// Command driftless is the Driftless CLI: it lists, inspects, validates,
// installs and documents plugins, runs one task, collects facts, renders
// templates and applies playbooks, on top of package host. docs/cli.md
// describes every command, flag, exit code and JSON shape.
//
// Layout: main.go wires the application (global flags, the commands
// slice, exit codes); output.go prints results and errors; one file per
// command group. A command group in a file of its own adds itself to
// commands from an init function:
//
//	func init() { commands = append(commands, logsCommand) }
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
)

// version is the CLI's version; the build may set it with
// -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// commands are the top-level commands, each made by a function so that
// every run gets fresh flag values. Files that add a command group append
// to it from init.
var commands = []func() *cli.Command{
	pluginsCommand,
	taskCommand,
	factsCommand,
	templateCommand,
	applyCommand,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0 // success
	exitFailed  = 1 // a task or plugin failed, or hit a limit
	exitInvalid = 2 // usage, configuration or validation error
)

// app is the state of one invocation, shared by its commands (appOf).
type app struct {
	stdout, stderr io.Writer
	json           bool // --output json
	color          bool // ANSI colours on stdout
	stderrTTY      bool // stderr is a terminal: live progress lines
	home           string
	logger         *slog.Logger
	helpErr        error          // `help TOPIC` for an unknown topic
	h              *host.Host     // made on first use by host()
	all            []*host.Plugin // every installed plugin, once loadAll ran
	loadedAll      bool
}

// appOf returns the invocation's state from a command's context.
func appOf(c *cli.Context) *app { return c.App.Metadata["app"].(*app) }

// host returns the plugin host of the plugin home (--home, else
// $DRIFTLESS_HOME, else ~/.driftless), creating it on first use (which
// reads plugins.toml but loads no plugin).
func (a *app) host() (*host.Host, error) {
	if a.h == nil {
		opts, err := host.HomeOptions(a.homeDir())
		if err != nil {
			return nil, err
		}
		opts.Logger, opts.Progress = a.logger, slowSteps(a.stderr, a.stderrTTY, a.json)
		h, err := host.New(opts)
		if err != nil {
			return nil, err
		}
		a.h = h
	}
	return a.h, nil
}

// homeDir returns the plugin home: --home, else $DRIFTLESS_HOME, else
// ~/.driftless.
func (a *app) homeDir() string {
	if a.home == "" {
		a.home = host.DefaultHome()
	}
	return a.home
}

// loadAll loads every installed plugin (once per run); broken ones keep
// their error and are logged at warn level.
func (a *app) loadAll(ctx context.Context) ([]*host.Plugin, error) {
	if a.loadedAll {
		return a.all, nil
	}
	h, err := a.host()
	if err != nil {
		return nil, err
	}
	plugins, err := h.LoadAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range plugins {
		if p.Err() != nil {
			a.logger.Warn("plugin did not load", "plugin", p.Name(), "error", p.Err())
		}
	}
	a.all, a.loadedAll = plugins, true
	return plugins, nil
}

// plugin loads only the named installed plugin; it fails when it is not
// installed (listing those that are) or did not load.
func (a *app) plugin(ctx context.Context, name string) (*host.Plugin, error) {
	h, err := a.host()
	if err != nil {
		return nil, err
	}
	if p, err := h.Plugin(name); err == nil || host.KindOf(err) != host.KindNotFound {
		return p, err
	}
	path, err := a.installedPath(name)
	if err != nil {
		return nil, err
	}
	return h.Load(ctx, path)
}

// installedPath returns the file of an installed plugin, or a not-found
// error listing the installed ones.
func (a *app) installedPath(name string) (string, error) {
	h, err := a.host()
	if err != nil {
		return "", err
	}
	if err := host.CheckName(name); err != nil {
		return "", &cliError{kind: string(host.KindNotFound), msg: "no such plugin: " + err.Error(), err: err}
	}
	path := filepath.Join(h.PluginDir(), name+".wasm")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	installed := a.installedNames()
	msg := "no such plugin"
	if len(installed) == 0 {
		msg += fmt.Sprintf(" (no plugins are installed in %s)", h.PluginDir())
	} else {
		msg += fmt.Sprintf(" (installed: %s)", strings.Join(installed, ", "))
	}
	return "", &host.Error{Plugin: name, Kind: host.KindNotFound, Msg: msg}
}

// installedNames lists the plugins installed, from their file names.
func (a *app) installedNames() []string {
	h, err := a.host()
	if err != nil {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(h.PluginDir(), "*.wasm"))
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".wasm"))
	}
	sort.Strings(names)
	return names
}

func (a *app) close() {
	if a.h != nil {
		a.h.Close()
	}
}

// Global flag names.
const (
	flagHome     = "home"
	flagOutput   = "output"
	flagLogLevel = "log-level"
)

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagHome, Usage: "plugin home `DIR` (default: $DRIFTLESS_HOME, else ~/.driftless)"},
		&cli.StringFlag{Name: flagOutput, Aliases: []string{"o"}, Value: "text", Usage: "output `FORMAT`: text or json"},
		&cli.StringFlag{Name: flagLogLevel, Value: "warn", Usage: "diagnostics on stderr from `LEVEL` up: trace, debug, info, warn, error"},
	}
}

var logLevels = map[string]slog.Level{
	"trace": host.LevelTrace, "debug": slog.LevelDebug, "info": slog.LevelInfo,
	"warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError,
}

// run runs the CLI with args (args[0] is the program name) and returns the
// exit code. It never panics: a panic becomes an internal error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	a := &app{stdout: stdout, stderr: stderr, color: colorOn(stdout), stderrTTY: stderrIsTerminal(stderr)}
	defer a.close()
	defer func() {
		if r := recover(); r != nil {
			code = a.report(&cliError{kind: "internal", msg: fmt.Sprintf("internal error (please report it): %v", r)})
		}
	}()
	cliApp := newApp(a)
	args, globals := permute(cliApp, args)
	a.json = globals[flagOutput] == "json"
	err := cliApp.RunContext(ctx, args)
	if err == nil {
		err = a.helpErr
	}
	if err == nil {
		return exitOK
	}
	return a.report(err)
}

func newApp(a *app) *cli.App {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version", DisableDefaultText: true}
	cmds := make([]*cli.Command, 0, len(commands))
	for _, mk := range commands {
		cmds = append(cmds, mk())
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	ca := &cli.App{
		Name:                      "driftless",
		Usage:                     "automation with WebAssembly plugins: tasks, facts, templates, playbooks",
		Version:                   version,
		Flags:                     globalFlags(),
		Commands:                  cmds,
		Writer:                    a.stdout,
		ErrWriter:                 a.stderr,
		Metadata:                  map[string]any{"app": a},
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           false,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError:              onUsageError,
		CommandNotFound: func(c *cli.Context, name string) {
			a.helpErr = usagef("no help topic %q", name)
		},
		Before: func(c *cli.Context) error {
			switch o := c.String(flagOutput); o {
			case "text", "json":
				a.json = o == "json"
			default:
				a.json = false
				return usagef("--output must be text or json, not %q", o)
			}
			lvl, ok := logLevels[strings.ToLower(c.String(flagLogLevel))]
			if !ok {
				return usagef("--log-level must be one of trace, debug, info, warn, error, not %q", c.String(flagLogLevel))
			}
			a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: lvl}))
			a.home = c.String(flagHome)
			return nil
		},
		Action: groupAction,
	}
	for _, c := range ca.Commands {
		setUsageErrors(c)
	}
	return ca
}

// setUsageErrors makes flag errors of every command usage errors (exit 2)
// and gives command groups an action that rejects unknown subcommands.
func setUsageErrors(c *cli.Command) {
	c.OnUsageError = onUsageError
	if len(c.Subcommands) > 0 && c.Action == nil {
		c.Action = groupAction
	}
	for _, s := range c.Subcommands {
		setUsageErrors(s)
	}
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return &cliError{kind: "usage", msg: err.Error() + " (see --help)", err: err}
}

// groupAction runs when a command group is given no known subcommand.
func groupAction(c *cli.Context) error {
	root := true // no ancestor context runs a command
	for _, anc := range c.Lineage()[1:] {
		if anc.Command != nil {
			root = false
		}
	}
	name, subs := c.App.Name, c.App.Commands
	if !root {
		name += " " + c.Command.Name
		subs = c.Command.Subcommands
	}
	var names []string
	for _, s := range subs {
		if s.Name != "help" {
			names = append(names, s.Name)
		}
	}
	if c.Args().Present() {
		return usagef("%s: unknown command %q (commands: %s)", name, c.Args().First(), strings.Join(names, ", "))
	}
	if !appOf(c).json {
		if root {
			_ = cli.ShowAppHelp(c)
		} else {
			_ = cli.ShowSubcommandHelp(c)
		}
	}
	return usagef("%s: missing command (commands: %s)", name, strings.Join(names, ", "))
}

// argCount checks a command's number of positional arguments.
func argCount(c *cli.Context, min, max int) error {
	n := c.Args().Len()
	if n >= min && (max < 0 || n <= max) {
		return nil
	}
	usage := c.Command.HelpName
	if c.Command.ArgsUsage != "" {
		usage += " " + c.Command.ArgsUsage
	}
	switch {
	case n < min:
		return usagef("missing argument: usage: %s", usage)
	default:
		return usagef("too many arguments (%s): usage: %s", strings.Join(c.Args().Slice()[max:], " "), usage)
	}
}

// permute reorders args so that urfave/cli v2, whose flag parsing stops at
// the first positional argument, accepts flags anywhere: after
// positionals (`task run x.y --check`) and global flags after the command
// (`plugins list --output json`). Each flag goes to the command level that
// defines it. It also returns the values of the global flags it saw.
func permute(ca *cli.App, args []string) ([]string, map[string]string) {
	globals := map[string]string{}
	if len(args) == 0 {
		return args, globals
	}
	type level struct {
		name  string
		flags []cli.Flag
		subs  []*cli.Command
		out   []string
	}
	levels := []*level{{flags: ca.Flags, subs: ca.Commands}}
	var positional []string
	find := func(name string) (int, cli.Flag) {
		for i := len(levels) - 1; i >= 0; i-- {
			for _, f := range levels[i].flags {
				for _, n := range f.Names() {
					if n == name {
						return i, f
					}
				}
			}
		}
		return -1, nil
	}
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		tok := rest[i]
		if tok == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if len(tok) > 1 && tok[0] == '-' {
			name, value, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
			cur := levels[len(levels)-1]
			if name == "h" || name == "help" {
				cur.out = append(cur.out, tok)
				continue
			}
			at, f := find(name)
			if f == nil {
				cur.out = append(cur.out, tok) // unknown: the parser reports it
				continue
			}
			lv := levels[at]
			lv.out = append(lv.out, tok)
			if _, isBool := f.(*cli.BoolFlag); !isBool && !hasValue && i+1 < len(rest) {
				i++
				value = rest[i]
				lv.out = append(lv.out, value)
			}
			if at == 0 {
				globals[f.Names()[0]] = value
			}
			continue
		}
		cur := levels[len(levels)-1]
		if len(positional) == 0 {
			if tok == "help" && len(levels) == 1 {
				levels = append(levels, &level{name: tok})
				positional = append(positional, rest[i+1:]...)
				break
			}
			if sub := findCommand(cur.subs, tok); sub != nil {
				levels = append(levels, &level{name: tok, flags: sub.Flags, subs: sub.Subcommands})
				continue
			}
		}
		positional = append(positional, tok)
	}
	out := []string{args[0]}
	for i, lv := range levels {
		if i > 0 {
			out = append(out, lv.name)
		}
		out = append(out, lv.out...)
	}
	for _, p := range positional {
		if strings.HasPrefix(p, "-") && p != "-" {
			out = append(out, "--")
			break
		}
	}
	return append(out, positional...), globals
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// cliError is an error of the CLI itself (not of a plugin or the host):
// kind is its kind in JSON errors and decides the exit code.
type cliError struct {
	kind string // usage, invalid-config, template, playbook, internal, ...
	msg  string
	err  error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &cliError{kind: "usage", msg: fmt.Sprintf(format, args...)}
}

// reported marks an error whose result was already printed (a failed task
// result, a playbook report): only the exit code remains to be decided.
type reported struct{ err error }

func (r *reported) Error() string { return r.err.Error() }
func (r *reported) Unwrap() error { return r.err }

// errorsAs is errors.As for a pointer target type.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
