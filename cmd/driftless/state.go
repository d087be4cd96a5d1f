package main

// The state command group: what plugins keep in the plugin home's state
// database (package pluginstate; docs/cli.md, "driftless state").

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/pluginstate"
)

func init() { commands = append(commands, stateCommand) }

func stateCommand() *cli.Command {
	return &cli.Command{
		Name:  "state",
		Usage: "list, show, remove, export and import what plugins keep in their state",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list a plugin's state keys with the sizes of their values; without PLUGIN, the plugins that have state",
				ArgsUsage: "[PLUGIN]",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "prefix", Usage: "only keys that start with `PREFIX`"}},
				Action:    stateList,
			},
			{
				Name:      "get",
				Usage:     "print the value of a plugin's state key",
				ArgsUsage: "PLUGIN KEY",
				Action:    stateGet,
			},
			{
				Name:      "rm",
				Usage:     "remove state keys of a plugin (all of them or, if one is not set, none), or all its state with --all",
				ArgsUsage: "PLUGIN KEY... | PLUGIN --all",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "all", Usage: "remove every key of the plugin"}},
				Action:    stateRm,
			},
			{
				Name:      "export",
				Usage:     "write a plugin's state as a JSON document (to stdout, or to --file), for backups and moves",
				ArgsUsage: "PLUGIN",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "write to `FILE` instead of stdout"}},
				Action:    stateExport,
			},
			{
				Name:      "import",
				Usage:     "read a JSON document of state export into a plugin's state (from FILE, or stdin for - or none)",
				ArgsUsage: "PLUGIN [FILE|-]",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "replace",
					Usage: "remove the plugin's keys first, so that its state is exactly the document's (default: keys not in the document are kept)"}},
				Action: stateImport,
			},
		},
	}
}

// stateStore returns the state database of the plugin home, for the
// command fn on plugin. With create false, a home without one gives nil,
// nil: reading commands do not create it.
func (a *app) stateStore(plugin, fn string, create bool) (*pluginstate.Store, error) {
	h, err := a.host()
	if err != nil {
		return nil, err
	}
	if !create {
		if _, err := os.Lstat(h.StatePath()); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	s, err := h.State()
	if err != nil {
		return nil, stateError(plugin, fn, err)
	}
	return s, nil
}

// statePlugin checks the plugin name argument and returns the plugin's
// state limits. The plugin need not be installed: state outlives it.
func (a *app) statePlugin(name string) (pluginstate.Limits, error) {
	if err := host.CheckName(name); err != nil {
		return pluginstate.Limits{}, usagef("%v", err)
	}
	h, err := a.host()
	if err != nil {
		return pluginstate.Limits{}, err
	}
	return h.Config().LimitsFor(name).StateLimits(), nil
}

// stateError makes an error of the store the CLI's: database failures are
// KindState errors naming the file.
func stateError(plugin, fn string, err error) error {
	var he *host.Error
	if err == nil || errors.As(err, &he) {
		return err
	}
	kind := host.KindState
	var le *pluginstate.LimitError
	if errors.As(err, &le) {
		kind = host.KindInvalidInput
	}
	if plugin == "" {
		return &cliError{kind: string(kind), msg: err.Error(), err: err}
	}
	return &host.Error{Plugin: plugin, Func: fn, Kind: kind, Msg: err.Error(), Err: err}
}

type stateUsageJSON struct {
	Plugin string `json:"plugin"`
	Keys   int64  `json:"keys"`
	Bytes  int64  `json:"bytes"`
}

type stateListJSON struct {
	Plugin string              `json:"plugin"`
	Prefix string              `json:"prefix,omitempty"`
	Keys   []pluginstate.Entry `json:"keys"`
	Count  int                 `json:"count"`
	Bytes  int64               `json:"bytes"` // of the values listed
}

func stateList(c *cli.Context) error {
	if err := argCount(c, 0, 1); err != nil {
		return err
	}
	a := appOf(c)
	if c.Args().Len() == 0 {
		if c.IsSet("prefix") {
			return usagef("--prefix needs a PLUGIN")
		}
		return stateListPlugins(c.Context, a)
	}
	name := c.Args().First()
	lim, err := a.statePlugin(name)
	if err != nil {
		return err
	}
	s, err := a.stateStore(name, "state list", false)
	if err != nil {
		return err
	}
	entries := []pluginstate.Entry{}
	if s != nil {
		if entries, err = s.List(c.Context, name, c.String("prefix"), lim); err != nil {
			return stateError(name, "state list", err)
		}
	}
	doc := stateListJSON{Plugin: name, Prefix: c.String("prefix"), Keys: entries, Count: len(entries)}
	for _, e := range entries {
		doc.Bytes += e.Size
	}
	return a.emit(doc, func(w io.Writer) {
		if len(entries) == 0 {
			what := "no state keys"
			if doc.Prefix != "" {
				what += fmt.Sprintf(" starting with %q", doc.Prefix)
			}
			fmt.Fprintf(w, "plugin %s has %s\n", name, what)
			return
		}
		tw := table(w)
		fmt.Fprintln(tw, "KEY\tSIZE")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%d\n", printable(e.Key), e.Size)
		}
		tw.Flush()
	})
}

func stateListPlugins(ctx context.Context, a *app) error {
	s, err := a.stateStore("", "state list", false)
	if err != nil {
		return err
	}
	var all []pluginstate.Usage
	if s != nil {
		if all, err = s.Namespaces(ctx); err != nil {
			return stateError("", "state list", err)
		}
	}
	doc := struct {
		File    string           `json:"file"`
		Plugins []stateUsageJSON `json:"plugins"`
	}{Plugins: []stateUsageJSON{}}
	if h, err := a.host(); err == nil {
		doc.File = h.StatePath()
	}
	for _, u := range all {
		doc.Plugins = append(doc.Plugins, stateUsageJSON{Plugin: u.Namespace, Keys: u.Keys, Bytes: u.Bytes})
	}
	return a.emit(doc, func(w io.Writer) {
		if len(doc.Plugins) == 0 {
			fmt.Fprintf(w, "no plugin has state (%s)\n", doc.File)
			return
		}
		tw := table(w)
		fmt.Fprintln(tw, "PLUGIN\tKEYS\tBYTES")
		for _, u := range doc.Plugins {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", u.Plugin, u.Keys, u.Bytes)
		}
		tw.Flush()
	})
}

// printable escapes control characters for a terminal: keys and values
// come from plugins.
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

type stateValueJSON struct {
	Plugin string  `json:"plugin"`
	Key    string  `json:"key"`
	Size   int     `json:"size"`
	Value  []byte  `json:"value"`          // base64
	Text   *string `json:"text,omitempty"` // the value, when it is UTF-8 text
}

func stateGet(c *cli.Context) error {
	if err := argCount(c, 2, 2); err != nil {
		return err
	}
	a := appOf(c)
	name, key := c.Args().Get(0), c.Args().Get(1)
	lim, err := a.statePlugin(name)
	if err != nil {
		return err
	}
	s, err := a.stateStore(name, "state get", false)
	if err != nil {
		return err
	}
	var v []byte
	ok := false
	if s != nil {
		if v, ok, err = s.Get(c.Context, name, key, lim); err != nil {
			return stateError(name, "state get", err)
		}
	}
	if !ok {
		return &host.Error{Plugin: name, Func: "state get", Kind: host.KindNotFound, Msg: fmt.Sprintf("no state key %q", key)}
	}
	doc := stateValueJSON{Plugin: name, Key: key, Size: len(v), Value: v}
	if utf8.Valid(v) {
		text := string(v)
		doc.Text = &text
	}
	if a.json {
		return writeJSON(a.stdout, doc)
	}
	// The value as it is, for pipes and files; on a terminal, control
	// characters are escaped.
	if isTerminal(a.stdout) {
		text := printable(strings.ToValidUTF8(string(v), "\uFFFD"))
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		_, err = io.WriteString(a.stdout, text)
		return err
	}
	_, err = a.stdout.Write(v)
	return err
}

type stateRmJSON struct {
	Plugin  string   `json:"plugin"`
	Removed int64    `json:"removed"`
	Keys    []string `json:"keys,omitempty"`
	All     bool     `json:"all,omitempty"`
}

func stateRm(c *cli.Context) error {
	a := appOf(c)
	all := c.Bool("all")
	if all {
		if err := argCount(c, 1, 1); err != nil {
			return usagef("state rm --all takes only PLUGIN: it removes every key")
		}
	} else if err := argCount(c, 2, -1); err != nil {
		return usagef("state rm needs PLUGIN and the KEYs to remove, or PLUGIN --all")
	}
	name := c.Args().First()
	if _, err := a.statePlugin(name); err != nil {
		return err
	}
	keys := c.Args().Slice()[1:]
	s, err := a.stateStore(name, "state rm", false)
	if err != nil {
		return err
	}
	doc := stateRmJSON{Plugin: name, All: all}
	switch {
	case s == nil && all:
	case s == nil:
		return &host.Error{Plugin: name, Func: "state rm", Kind: host.KindNotFound,
			Msg: fmt.Sprintf("no state key %q (nothing removed)", keys[0])}
	case all:
		if doc.Removed, err = s.Clear(c.Context, name); err != nil {
			return stateError(name, "state rm", err)
		}
	default:
		missing, err := s.Delete(c.Context, name, keys...)
		if err != nil {
			return stateError(name, "state rm", err)
		}
		if len(missing) > 0 {
			return &host.Error{Plugin: name, Func: "state rm", Kind: host.KindNotFound,
				Msg: fmt.Sprintf("no state key %s (nothing removed)", quoteAll(missing))}
		}
		doc.Removed, doc.Keys = int64(len(keys)), keys
	}
	return a.emit(doc, func(w io.Writer) {
		fmt.Fprintf(w, "removed %d state %s of %s\n", doc.Removed, plural(doc.Removed, "key", "keys"), name)
	})
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ")
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// stateDocFormat names the JSON documents of state export and import.
const stateDocFormat = "driftless-state/1"

// stateDoc is the document of state export and import: values are base64
// (they are bytes), keys UTF-8 text.
type stateDoc struct {
	Format   string          `json:"format"`
	Plugin   string          `json:"plugin"`
	Exported string          `json:"exported,omitempty"` // RFC 3339
	Entries  []stateDocEntry `json:"entries"`
}

type stateDocEntry struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

func stateExport(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	name := c.Args().First()
	lim, err := a.statePlugin(name)
	if err != nil {
		return err
	}
	s, err := a.stateStore(name, "state export", false)
	if err != nil {
		return err
	}
	doc := stateDoc{Format: stateDocFormat, Plugin: name, Exported: time.Now().UTC().Format(time.RFC3339), Entries: []stateDocEntry{}}
	if s != nil {
		items, err := s.Export(c.Context, name, lim)
		if err != nil {
			return stateError(name, "state export", err)
		}
		for _, it := range items {
			doc.Entries = append(doc.Entries, stateDocEntry{Key: it.Key, Value: it.Value})
		}
	}
	file := c.String("file")
	if file == "" || file == "-" {
		return writeJSON(a.stdout, doc)
	}
	// Written beside, then renamed: a failed export leaves no half file.
	tmp, err := os.CreateTemp(dirOf(file), ".driftless-state-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeJSON(tmp, doc); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"plugin": name, "file": file, "keys": len(doc.Entries)})
	}
	fmt.Fprintf(a.stderr, "exported %d state %s of %s to %s\n", len(doc.Entries), plural(int64(len(doc.Entries)), "key", "keys"), name, file)
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}

type stateImportJSON struct {
	Plugin   string `json:"plugin"`
	Imported int    `json:"imported"`
	Replaced bool   `json:"replaced"`
	From     string `json:"from,omitempty"` // the plugin the document was exported from, when another
	Keys     int64  `json:"keys"`
	Bytes    int64  `json:"bytes"`
}

func stateImport(c *cli.Context) error {
	if err := argCount(c, 1, 2); err != nil {
		return err
	}
	a := appOf(c)
	name := c.Args().First()
	lim, err := a.statePlugin(name)
	if err != nil {
		return err
	}
	src := c.Args().Get(1)
	doc, err := readStateDoc(src, lim)
	if err != nil {
		return err
	}
	items := make([]pluginstate.Item, len(doc.Entries))
	seen := make(map[string]bool, len(doc.Entries))
	for i, e := range doc.Entries {
		if seen[e.Key] {
			return &cliError{kind: string(host.KindInvalidInput), msg: fmt.Sprintf("%s: key %q appears twice", srcName(src), e.Key)}
		}
		seen[e.Key] = true
		items[i] = pluginstate.Item{Key: e.Key, Value: e.Value}
	}
	s, err := a.stateStore(name, "state import", true)
	if err != nil {
		return err
	}
	if err := s.Import(c.Context, name, items, c.Bool("replace"), lim); err != nil {
		return stateError(name, "state import", err)
	}
	u, err := s.Usage(c.Context, name)
	if err != nil {
		return stateError(name, "state import", err)
	}
	out := stateImportJSON{Plugin: name, Imported: len(items), Replaced: c.Bool("replace"), Keys: u.Keys, Bytes: u.Bytes}
	if doc.Plugin != name {
		out.From = doc.Plugin
	}
	return a.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "imported %d state %s into %s", out.Imported, plural(int64(out.Imported), "key", "keys"), name)
		if out.From != "" {
			fmt.Fprintf(w, " (exported from %s)", out.From)
		}
		fmt.Fprintf(w, ": it has %d %s, %d bytes\n", u.Keys, plural(u.Keys, "key", "keys"), u.Bytes)
	})
}

func srcName(src string) string {
	if src == "" || src == "-" {
		return "stdin"
	}
	return src
}

// readStateDoc reads and checks a document of state export, bounded
// before it is parsed: base64 makes values 4/3 larger, and keys and JSON
// add a little per entry.
func readStateDoc(src string, lim pluginstate.Limits) (*stateDoc, error) {
	max := lim.MaxBytes/3*4 + lim.MaxKeys*(int64(lim.MaxKeySize)*6+64) + 4096
	var r io.Reader = os.Stdin
	if src != "" && src != "-" {
		// The type is checked on the open file, without blocking on a FIFO.
		f, err := safefile.Open(src)
		if err != nil {
			return nil, &cliError{kind: "usage", msg: err.Error(), err: err}
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), max+1))
	if err != nil {
		return nil, err
	}
	return parseStateDoc(srcName(src), data, max)
}

// parseStateDoc parses a document of state export of at most max bytes;
// name is where it came from, for errors.
func parseStateDoc(name string, data []byte, max int64) (*stateDoc, error) {
	bad := func(format string, args ...any) error {
		return &cliError{kind: string(host.KindInvalidInput), msg: name + ": " + fmt.Sprintf(format, args...)}
	}
	if int64(len(data)) > max {
		return nil, bad("over %d bytes, more than the plugin's state limits allow (max_state_bytes, max_state_keys)", max)
	}
	var doc stateDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, bad("not a document of driftless state export: %v", err)
	}
	if dec.More() {
		return nil, bad("more than one JSON document")
	}
	if doc.Format != stateDocFormat {
		return nil, bad("format %q, want %q (a document of driftless state export)", doc.Format, stateDocFormat)
	}
	return &doc, nil
}
