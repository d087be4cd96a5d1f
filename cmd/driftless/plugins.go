package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/pluginlock"
	"github.com/driftless-dev/driftless/templating"
)

func pluginsCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugins",
		Usage: "create, list, inspect, validate, install, update, remove, verify, search, publish and document plugins",
		Subcommands: []*cli.Command{
			pluginsNewCommand(),
			{
				Name:   "list",
				Usage:  "list installed plugins: ABI, version, what they provide, load errors",
				Action: pluginsList,
			},
			{
				Name:      "inspect",
				Usage:     "show a plugin's metadata, interface (WIT), definitions with their config schemas, and limits",
				ArgsUsage: "NAME",
				Action:    pluginsInspect,
			},
			{
				Name:      "validate",
				Usage:     "run every check of loading on a plugin file, without installing it",
				ArgsUsage: "FILE",
				Flags:     []cli.Flag{nameFlag("name the plugin would have (default: the file name without .wasm)")},
				Action:    pluginsValidate,
			},
			{
				Name: "install",
				Usage: "install a plugin from a file (- for standard input, with --name), an OCI reference or a registry " +
					"(validated, pinned in plugins.lock); without REF, install exactly what plugins.lock names",
				ArgsUsage: "[FILE | - | oci://HOST/REPO:TAG | oci://HOST/REPO@sha256:DIGEST | REGISTRY/NAME[@VERSION]]",
				Flags: []cli.Flag{
					nameFlag("install under this name (default: the file or repository name)"),
					&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace an installed plugin of the same name"},
				},
				Action: pluginsInstall,
			},
			{
				Name:      "update",
				Usage:     "install the newest version (or the one asked) of plugins installed from registries, showing old → new",
				ArgsUsage: "[NAME[@VERSION]...]",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "check", Usage: "only report what would be updated"}},
				Action:    pluginsUpdate,
			},
			{
				Name: "remove",
				Usage: "remove an installed plugin and its plugins.lock entry; asks whether to remove its state too when it has some " +
					"(without a terminal to ask on, the state is kept)",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "purge", Usage: "remove the plugin's state too, without asking"},
					&cli.BoolFlag{Name: "keep-state", Usage: "keep the plugin's state, without asking"},
				},
				Action: pluginsRemove,
			},
			{
				Name:   "verify",
				Usage:  "check every installed plugin against plugins.lock and its signature where one is required; exit 1 naming each mismatch",
				Action: pluginsVerify,
			},
			{
				Name:      "search",
				Usage:     "what the enabled registries offer: name, versions, description",
				ArgsUsage: "[TERM]",
				Action:    pluginsSearch,
			},
			{
				Name:      "publish",
				Usage:     "validate a plugin file and publish it to a registry, signed with --key",
				ArgsUsage: "FILE REGISTRY/NAME@VERSION",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "key", Usage: "sign with this cosign private key `FILE` (password in $COSIGN_PASSWORD)"},
					&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace a version already published"},
				},
				Action: pluginsPublish,
			},
			{
				Name:      "doc",
				Usage:     "documentation of a plugin or one of its tasks, collectors, template extensions or log components",
				ArgsUsage: "NAME[.ITEM]",
				Action:    pluginsDoc,
			},
		},
	}
}

func nameFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "name", Usage: usage + " (`NAME`)"}
}

// providesJSON is what a plugin provides, by name.
type providesJSON struct {
	Tasks              []string `json:"tasks"`
	Collectors         []string `json:"collectors"`
	TemplateExtensions []string `json:"template_extensions"`
	LogComponents      []string `json:"log_components"`
}

func provides(p *host.Plugin) providesJSON {
	out := providesJSON{Tasks: []string{}, Collectors: []string{}, TemplateExtensions: []string{}, LogComponents: []string{}}
	for _, d := range p.Tasks() {
		out.Tasks = append(out.Tasks, d.Name)
	}
	for _, d := range p.Collectors() {
		out.Collectors = append(out.Collectors, d.Name)
	}
	for _, d := range p.Extensions() {
		out.TemplateExtensions = append(out.TemplateExtensions, d.Name)
	}
	for _, d := range p.LogComponents() {
		out.LogComponents = append(out.LogComponents, d.Name)
	}
	return out
}

// providesText is a one-line summary of what a plugin provides.
func providesText(p *host.Plugin) string {
	var parts []string
	add := func(what string, names []string) {
		if len(names) > 0 {
			parts = append(parts, what+": "+strings.Join(names, ", "))
		}
	}
	pr := provides(p)
	add("tasks", pr.Tasks)
	add("facts", pr.Collectors)
	var exts []string
	for _, d := range p.Extensions() {
		exts = append(exts, fmt.Sprintf("%s (%s)", d.Name, d.Kind))
	}
	add("templates", exts)
	add("logs", pr.LogComponents)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

type pluginJSON struct {
	Name        string       `json:"name"`
	ABI         string       `json:"abi"`
	Version     string       `json:"version"`
	Description string       `json:"description"`
	Path        string       `json:"path"`
	SHA256      string       `json:"sha256"`
	Source      sourceJSON   `json:"source"`
	Provides    providesJSON `json:"provides"`
	Error       *errorJSON   `json:"error"`
}

func describePlugin(p *host.Plugin) pluginJSON {
	out := pluginJSON{Name: p.Name(), ABI: string(p.ABI()), Path: p.Path(), SHA256: p.SHA256(), Source: sourceOf(p.LockEntry()), Provides: provides(p)}
	if p.Err() == nil {
		out.Version, out.Description = p.Info().Version, p.Info().Description
	} else {
		out.Error = errorDoc(p.Err())
	}
	return out
}

func pluginsList(c *cli.Context) error {
	if err := argCount(c, 0, 0); err != nil {
		return err
	}
	a := appOf(c)
	plugins, err := a.loadAll(c.Context)
	if err != nil {
		return err
	}
	if h, err := a.host(); err == nil {
		warnLeftovers(a, h)
	}
	docs := make([]pluginJSON, 0, len(plugins))
	for _, p := range plugins {
		docs = append(docs, describePlugin(p))
	}
	return a.emit(docs, func(w io.Writer) {
		if len(plugins) == 0 {
			h, _ := a.host()
			fmt.Fprintf(w, "no plugins installed in %s\n", h.PluginDir())
			for _, n := range h.Lock().Names() {
				fmt.Fprintf(w, "warning: plugins.lock names %s, which is not installed: `driftless plugins install` installs it\n", n)
			}
			return
		}
		t := table(w)
		fmt.Fprintln(t, "NAME\tABI\tVERSION\tSOURCE\tDIGEST\tPROVIDES")
		var unlocked []string
		for _, p := range plugins {
			abi, version, what := orDash(string(p.ABI())), "-", providesText(p)
			if p.Err() == nil {
				version = orDash(p.Info().Version)
			} else {
				what = "ERROR: " + oneLine(p.Err().Error())
			}
			e, locked := p.LockEntry()
			if !locked {
				unlocked = append(unlocked, p.Name())
			}
			digest := "-"
			if p.SHA256() != "" {
				digest = "sha256:" + p.SHA256()[:12]
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name(), abi, version, sourceText(e, locked), digest, what)
		}
		t.Flush()
		for _, n := range unlocked {
			fmt.Fprintf(w, "warning: %s is not in plugins.lock (copied in by hand?): nothing pins its bytes; `driftless plugins verify` reports it\n", n)
		}
		listed := map[string]bool{}
		for _, p := range plugins {
			listed[p.Name()] = true
		}
		h, _ := a.host()
		for _, n := range h.Lock().Names() {
			if !listed[n] {
				fmt.Fprintf(w, "warning: plugins.lock names %s, which is not installed: `driftless plugins install` installs it\n", n)
			}
		}
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// limitsJSON are the limits in force for a plugin, as plugins.toml names
// them.
type limitsJSON struct {
	MaxMemory            int64             `json:"max_memory"`
	FuelLimit            uint64            `json:"fuel_limit"`
	ExecutionTimeoutSecs float64           `json:"execution_timeout_secs"`
	TimeoutRaisedFrom    float64           `json:"execution_timeout_raised_from_secs,omitempty"`
	AllowWASI            bool              `json:"allow_wasi"`
	DebugEnabled         bool              `json:"debug_enabled"`
	MaxPluginSize        int64             `json:"max_plugin_size"`
	MaxInstances         int               `json:"max_instances"`
	MaxCallsPerInstance  int               `json:"max_calls_per_instance"`
	LogRate              int               `json:"log_rate"`
	MaxStateKeySize      int               `json:"max_state_key_size"`
	MaxStateValueSize    int               `json:"max_state_value_size"`
	MaxStateBytes        int64             `json:"max_state_bytes"`
	MaxStateKeys         int64             `json:"max_state_keys"`
	Env                  map[string]string `json:"env,omitempty"`
	Dirs                 []host.DirConfig  `json:"dirs,omitempty"`
}

func limits(l host.Limits) limitsJSON {
	return limitsJSON{
		MaxMemory: l.MaxMemory, FuelLimit: l.FuelLimit, ExecutionTimeoutSecs: l.ExecutionTimeout.Seconds(), TimeoutRaisedFrom: l.TimeoutRaisedFrom.Seconds(),
		AllowWASI: l.AllowWASI, DebugEnabled: l.DebugEnabled, MaxPluginSize: l.MaxPluginSize,
		MaxInstances: l.MaxInstances, MaxCallsPerInstance: l.MaxCallsPerInstance, LogRate: l.LogRate,
		MaxStateKeySize: l.MaxStateKeySize, MaxStateValueSize: l.MaxStateValueSize,
		MaxStateBytes: l.MaxStateBytes, MaxStateKeys: l.MaxStateKeys,
		Env: l.Env, Dirs: l.Dirs,
	}
}

type taskJSON struct {
	Name              string `json:"name"`
	Kind              string `json:"kind"`
	Description       string `json:"description"`
	SupportsCheckMode bool   `json:"supports_check_mode"`
	ConfigSchema      any    `json:"config_schema"`
}

type collectorJSON struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	ConfigSchema any    `json:"config_schema"`
}

type argumentJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

type extensionJSON struct {
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`
	Description   string         `json:"description"`
	Category      string         `json:"category"`
	Arguments     []argumentJSON `json:"arguments"`
	TemplateNames []string       `json:"template_names"`
	ConfigSchema  any            `json:"config_schema"`
}

type logComponentJSON struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Description  string `json:"description"`
	ConfigSchema any    `json:"config_schema"`
}

type inspectJSON struct {
	Name               string             `json:"name"`
	Version            string             `json:"version"`
	Description        string             `json:"description"`
	ABI                string             `json:"abi"`
	Path               string             `json:"path"`
	Size               int                `json:"size"`
	SHA256             string             `json:"sha256"`
	Source             sourceJSON         `json:"source"`
	Provides           []string           `json:"provides"`
	Interface          string             `json:"interface"`
	Tasks              []taskJSON         `json:"tasks"`
	Collectors         []collectorJSON    `json:"collectors"`
	TemplateExtensions []extensionJSON    `json:"template_extensions"`
	LogComponents      []logComponentJSON `json:"log_components"`
	Limits             limitsJSON         `json:"limits"`
}

// templateNames returns the names a template reaches an extension by.
func templateNames(p *host.Plugin, name string) []string {
	x := templating.Extension{Plugin: p}
	x.Definition.Name = name
	return []string{templating.Ident(name), x.Qualified()}
}

func inspect(p *host.Plugin) inspectJSON {
	info := p.Info()
	out := inspectJSON{
		Name: p.Name(), Version: info.Version, Description: info.Description, ABI: string(p.ABI()),
		Path: p.Path(), Size: p.Size(), SHA256: p.SHA256(), Source: sourceOf(p.LockEntry()), Provides: p.Provides(), Interface: p.Interface(),
		Tasks: []taskJSON{}, Collectors: []collectorJSON{}, TemplateExtensions: []extensionJSON{}, LogComponents: []logComponentJSON{},
		Limits: limits(p.Limits()),
	}
	if out.Provides == nil {
		out.Provides = []string{}
	}
	for _, d := range p.Tasks() {
		out.Tasks = append(out.Tasks, taskJSON{d.Name, d.Kind.String(), d.Description, d.SupportsCheckMode, jsonValue(d.ConfigSchema)})
	}
	for _, d := range p.Collectors() {
		out.Collectors = append(out.Collectors, collectorJSON{d.Name, d.Description, jsonValue(d.ConfigSchema)})
	}
	for _, d := range p.Extensions() {
		args := []argumentJSON{}
		for _, a := range d.Arguments {
			args = append(args, argumentJSON{a.Name, a.Description, a.Required})
		}
		out.TemplateExtensions = append(out.TemplateExtensions, extensionJSON{d.Name, d.Kind.String(), d.Description, d.Category, args,
			templateNames(p, d.Name), jsonValue(d.ConfigSchema)})
	}
	for _, d := range p.LogComponents() {
		out.LogComponents = append(out.LogComponents, logComponentJSON{d.Name, d.Kind.String(), d.Description, jsonValue(d.ConfigSchema)})
	}
	return out
}

func pluginsInspect(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	p, err := a.plugin(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	doc := inspect(p)
	return a.emit(doc, func(w io.Writer) {
		t := table(w)
		fmt.Fprintf(t, "name\t%s\n", doc.Name)
		fmt.Fprintf(t, "version\t%s\n", orDash(doc.Version))
		fmt.Fprintf(t, "description\t%s\n", orDash(doc.Description))
		fmt.Fprintf(t, "abi\t%s\n", doc.ABI)
		fmt.Fprintf(t, "path\t%s\n", doc.Path)
		fmt.Fprintf(t, "size\t%s\n", bytesText(int64(doc.Size)))
		fmt.Fprintf(t, "sha256\t%s\n", doc.SHA256)
		switch src := doc.Source; src.Kind {
		case "":
			fmt.Fprintf(t, "source\tnot in plugins.lock (copied in by hand?): nothing pins its bytes\n")
		default:
			what := src.Kind
			if src.Registry != "" {
				what = "registry " + src.Registry
			}
			fmt.Fprintf(t, "source\t%s\n", what)
			fmt.Fprintf(t, "ref\t%s\n", src.Ref)
			fmt.Fprintf(t, "locked version\t%s\n", orDash(src.Version))
			if src.Key != "" {
				fmt.Fprintf(t, "signed by key\t%s\n", src.Key)
			}
		}
		fmt.Fprintf(t, "provides\t%s\n", orDash(strings.Join(doc.Provides, ", ")))
		t.Flush()

		fmt.Fprintln(w, "\nlimits (plugins.toml)")
		t = table(w)
		l := doc.Limits
		fmt.Fprintf(t, "  max_memory\t%s\n", bytesText(l.MaxMemory))
		fmt.Fprintf(t, "  fuel_limit\t%d\n", l.FuelLimit)
		if l.TimeoutRaisedFrom > 0 {
			fmt.Fprintf(t, "  execution_timeout_secs\t%g (raised from %g to the host's epoch tick)\n", l.ExecutionTimeoutSecs, l.TimeoutRaisedFrom)
		} else {
			fmt.Fprintf(t, "  execution_timeout_secs\t%g\n", l.ExecutionTimeoutSecs)
		}
		fmt.Fprintf(t, "  allow_wasi\t%t\n", l.AllowWASI)
		fmt.Fprintf(t, "  debug_enabled\t%t\n", l.DebugEnabled)
		fmt.Fprintf(t, "  max_plugin_size\t%s\n", bytesText(l.MaxPluginSize))
		fmt.Fprintf(t, "  max_instances\t%d\n", l.MaxInstances)
		fmt.Fprintf(t, "  max_calls_per_instance\t%d\n", l.MaxCallsPerInstance)
		fmt.Fprintf(t, "  log_rate\t%d messages/s\n", l.LogRate)
		fmt.Fprintf(t, "  max_state_key_size\t%s\n", bytesText(int64(l.MaxStateKeySize)))
		fmt.Fprintf(t, "  max_state_value_size\t%s\n", bytesText(int64(l.MaxStateValueSize)))
		fmt.Fprintf(t, "  max_state_bytes\t%s\n", bytesText(l.MaxStateBytes))
		fmt.Fprintf(t, "  max_state_keys\t%d\n", l.MaxStateKeys)
		for _, k := range sortedKeys(l.Env) {
			fmt.Fprintf(t, "  env\t%s=%s\n", k, l.Env[k])
		}
		for _, d := range l.Dirs {
			ro := ""
			if d.ReadOnly {
				ro = " (read-only)"
			}
			fmt.Fprintf(t, "  dir\t%s -> %s%s\n", d.Host, d.Guest, ro)
		}
		t.Flush()

		schema := func(s any) {
			b, _ := json.Marshal(s)
			fmt.Fprintf(w, "    config schema: %s\n", prettyJSON(string(b), "    "))
		}
		if len(doc.Tasks) > 0 {
			fmt.Fprintln(w, "\ntasks")
			for _, d := range doc.Tasks {
				check := "no check mode"
				if d.SupportsCheckMode {
					check = "check mode"
				}
				fmt.Fprintf(w, "  %s (%s, %s): %s\n", d.Name, d.Kind, check, orDash(d.Description))
				schema(d.ConfigSchema)
			}
		}
		if len(doc.Collectors) > 0 {
			fmt.Fprintln(w, "\nfacts collectors")
			for _, d := range doc.Collectors {
				fmt.Fprintf(w, "  %s: %s\n", d.Name, orDash(d.Description))
				schema(d.ConfigSchema)
			}
		}
		if len(doc.TemplateExtensions) > 0 {
			fmt.Fprintln(w, "\ntemplate extensions")
			for _, d := range doc.TemplateExtensions {
				var args []string
				for _, x := range d.Arguments {
					n := x.Name
					if !x.Required {
						n += "?"
					}
					args = append(args, n)
				}
				fmt.Fprintf(w, "  %s(%s) (%s, in templates: %s): %s\n", d.Name, strings.Join(args, ", "), d.Kind,
					strings.Join(d.TemplateNames, " or "), orDash(d.Description))
				schema(d.ConfigSchema)
			}
		}
		if len(doc.LogComponents) > 0 {
			fmt.Fprintln(w, "\nlog components")
			for _, d := range doc.LogComponents {
				fmt.Fprintf(w, "  %s (%s): %s\n", d.Name, d.Kind, orDash(d.Description))
				schema(d.ConfigSchema)
			}
		}
		if doc.Interface != "" {
			fmt.Fprintf(w, "\ninterface (WIT)\n%s\n", indent(doc.Interface, "  "))
		}
	})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bytesText shows a byte count for people.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB (%d bytes)", n>>30, n)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB (%d bytes)", float64(n)/(1<<10), n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// validateAs runs the host's load checks on file as the plugin name
// (name "" means the file's own name).
func validateAs(ctx context.Context, h *host.Host, file, name string) (*host.Plugin, error) {
	if err := checkFile(file, "plugin file"); err != nil {
		return nil, err
	}
	if name == "" || name == strings.TrimSuffix(filepath.Base(file), ".wasm") {
		return h.Validate(ctx, file)
	}
	if err := host.CheckName(name); err != nil {
		return nil, usagef("--name: %v", err)
	}
	dir, err := os.MkdirTemp("", "driftless-validate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	link := filepath.Join(dir, name+".wasm")
	if err := os.Symlink(abs, link); err != nil {
		return nil, err
	}
	return h.Validate(ctx, link)
}

// checkFile fails with a usage error when the file named on the command
// line cannot be read or is not a regular file (a directory, a FIFO, a
// device: checked without blocking); what names what it should be.
func checkFile(file, what string) error {
	err := safefile.Check(file)
	if err == nil {
		return nil
	}
	if nr, ok := errorsAs[*safefile.NotRegularError](err); ok {
		if nr.Mode.IsDir() {
			return usagef("%s is a directory, not a %s", file, what)
		}
		return usagef("%s %s: a %s must be a regular file", file, nr.Reason(), what)
	}
	return &cliError{kind: "usage", msg: fmt.Sprintf("cannot read %s: %v", file, unwrapPathError(err)), err: err}
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type validateJSON struct {
	File        string       `json:"file"`
	Valid       bool         `json:"valid"`
	Name        string       `json:"name"`
	ABI         string       `json:"abi"`
	Version     string       `json:"version"`
	Description string       `json:"description"`
	Provides    providesJSON `json:"provides"`
}

func pluginsValidate(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	h, err := a.host()
	if err != nil {
		return err
	}
	file := c.Args().First()
	p, err := validateAs(c.Context, h, file, c.String("name"))
	if err != nil {
		return err
	}
	doc := validateJSON{File: file, Valid: true, Name: p.Name(), ABI: string(p.ABI()), Version: p.Info().Version,
		Description: p.Info().Description, Provides: provides(p)}
	return a.emit(doc, func(w io.Writer) {
		fmt.Fprintf(w, "%s: valid: loads as plugin %s (%s, version %s)\n", file, p.Name(), p.ABI(), orDash(p.Info().Version))
		fmt.Fprintf(w, "provides: %s\n", providesText(p))
	})
}

type removeJSON struct {
	Removed bool             `json:"removed"`
	Name    string           `json:"name"`
	Path    string           `json:"path"`
	Cache   cacheCountJSON   `json:"cache_removed"`
	State   *removeStateJSON `json:"state,omitempty"` // when the plugin had state
}

type removeStateJSON struct {
	Keys    int64  `json:"keys"`
	Bytes   int64  `json:"bytes"`
	Removed bool   `json:"removed"`
	File    string `json:"file"`
}

func pluginsRemove(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	purge, keep := c.Bool("purge"), c.Bool("keep-state")
	if purge && keep {
		return usagef("--purge and --keep-state contradict each other")
	}
	name := c.Args().First()
	in, err := newInstaller(a)
	if err != nil {
		return err
	}
	path, err := a.installedPath(name)
	if err != nil {
		if _, locked := in.h.Lock().Get(name); !locked {
			return err
		}
		path = in.home.PluginPath(name) // only its lock entry is left
	}
	// The state first: with --purge, a state that cannot be removed
	// leaves the plugin installed, and nothing is half done.
	doc := removeJSON{Removed: true, Name: name, Path: path}
	s, err := a.stateStore(name, "plugins remove", false)
	if err != nil && purge {
		return err
	}
	if err != nil {
		a.logger.Warn("cannot read the plugin's state; it is kept", "plugin", name, "error", err)
	}
	if s != nil {
		u, err := s.Usage(c.Context, name)
		if err != nil {
			return stateError(name, "plugins remove", err)
		}
		if u.Keys > 0 {
			doc.State = &removeStateJSON{Keys: u.Keys, Bytes: u.Bytes, File: s.Path()}
			if !purge && !keep && !a.json && isTerminal(os.Stdin) && isTerminal(a.stderr) {
				purge = askYesNo(os.Stdin, a.stderr, fmt.Sprintf("plugin %s has state: %d %s, %d bytes. Remove it too? [y/N] ",
					name, u.Keys, plural(u.Keys, "key", "keys"), u.Bytes))
			}
			if purge {
				if _, err := s.Clear(c.Context, name); err != nil {
					return stateError(name, "plugins remove", err)
				}
				doc.State.Removed = true
			}
		}
	}
	// Under the home's lock, the lock entry, then the file: a removal cut
	// short leaves a plugin without an entry (listed with a warning), never
	// an entry that `plugins install` would bring back.
	var forgot host.CacheRemoved
	err = in.lockedHome(c.Context, func(lock *pluginlock.Lock) error {
		if _, locked := lock.Get(name); locked {
			lock.Remove(name)
			if err := lock.Write(); err != nil {
				return err
			}
		}
		// Its compiled code goes with it (a file that cannot be read has none).
		var err error
		if forgot, err = in.h.ForgetCompiled(path); err != nil {
			a.logger.Debug("no compiled code removed", "plugin", name, "error", err)
		}
		return in.home.Remove(name)
	})
	if err != nil {
		return err
	}
	doc.Cache = cacheCountJSON{forgot.Entries, forgot.Bytes}
	return a.emit(doc, func(w io.Writer) {
		fmt.Fprintf(w, "removed %s (%s)", name, path)
		if forgot.Entries > 0 {
			fmt.Fprintf(w, " and its compiled code (%s)", sizeText(forgot.Bytes))
		}
		fmt.Fprintln(w)
		switch st := doc.State; {
		case st == nil:
		case st.Removed:
			fmt.Fprintf(w, "removed its state (%d %s)\n", st.Keys, plural(st.Keys, "key", "keys"))
		default:
			fmt.Fprintf(w, "kept its state (%d %s, %d bytes in %s): a plugin installed as %s gets it back; "+
				"remove it with: driftless state rm %s --all\n", st.Keys, plural(st.Keys, "key", "keys"), st.Bytes, st.File, name, name)
		}
	})
}

// askYesNo asks question on out and reads the answer from in: only "y" or
// "yes" (any case) is yes; anything else, or no answer, is no.
func askYesNo(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprint(out, question)
	line, _ := bufio.NewReader(io.LimitReader(in, 1024)).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
