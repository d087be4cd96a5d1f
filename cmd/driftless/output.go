package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/internal/safetext"
	"github.com/driftless-dev/driftless/playbook"
	"github.com/driftless-dev/driftless/pluginlock"
	"github.com/driftless-dev/driftless/registry"
	"github.com/driftless-dev/driftless/templating"
)

// emit prints a command's result: doc as one JSON document with --output
// json, else what text writes, with control characters escaped (names,
// descriptions, schemas and messages come from plugins and files: a
// terminal would obey an ESC or BEL in them).
func (a *app) emit(doc any, text func(w io.Writer)) error {
	if a.json {
		return writeJSON(a.stdout, doc)
	}
	w := &safetext.Writer{W: a.stdout}
	text(w)
	return w.Flush()
}

// emitRaw is emit for text that escapes what it prints itself (to colour
// the rest).
func (a *app) emitRaw(doc any, text func(w io.Writer)) error {
	if a.json {
		return writeJSON(a.stdout, doc)
	}
	text(a.stdout)
	return nil
}

// writeJSON writes v as indented JSON. encoding/json escapes C0 controls
// in strings but not DEL, the C1 controls or the bidirectional overrides:
// they are written as \u escapes too (still JSON), so no string in the
// document can drive a terminal it is shown on.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := b.Bytes()
	if bytes.ContainsFunc(out, safetext.Unsafe) {
		var e []byte
		for _, r := range string(out) {
			if r != '\n' && safetext.Unsafe(r) {
				e = fmt.Appendf(e, `\u%04x`, r)
			} else {
				e = utf8.AppendRune(e, r)
			}
		}
		out = e
	}
	_, err := w.Write(out)
	return err
}

// table returns a tabwriter for aligned columns; Flush it.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// colorOn reports whether w is a terminal that wants colours.
func colorOn(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

var statusColors = map[string]string{"ok": "32", "changed": "33", "failed": "31", "skipped": "36"}

// status returns a task status word, coloured on terminals.
func (a *app) status(s string) string { return a.paint(s, s) }

// paint colours text as the task status s on terminals.
func (a *app) paint(text, s string) string {
	if c, ok := statusColors[s]; ok && a.color {
		return "\x1b[" + c + "m" + text + "\x1b[0m"
	}
	return text
}

// exit1Kinds are the error kinds of a task or plugin that failed or hit a
// limit (exit 1); every other kind is a usage, configuration or
// validation error (exit 2).
var exit1Kinds = map[string]bool{
	string(host.KindFailed): true, string(host.KindTimeout): true, string(host.KindCancelled): true,
	string(host.KindFuel): true, string(host.KindMemory): true, string(host.KindTrap): true,
	string(host.KindBadOutput): true, string(host.KindBusy): true, "internal": true,
	string(host.KindState): true, string(host.KindStateConflict): true,
	// A registry that cannot be reached, refuses access or stays silent;
	// installed plugins that do not match plugins.lock.
	string(registry.KindUnreachable): true, string(registry.KindUnauthorized): true, "verify": true,
	"update": true, // some of several plugins could not be updated
}

// classify returns the kind of an error (as JSON errors show it) and the
// exit code it means.
func classify(err error) (string, int) {
	kind := "failed"
	if he, ok := errorsAs[*host.Error](err); ok {
		kind = string(he.Kind)
	} else if _, ok := errorsAs[*host.ConfigError](err); ok {
		kind = "config"
	} else if re, ok := errorsAs[*registry.Error](err); ok {
		kind = string(re.Kind)
	} else if _, ok := errorsAs[*pluginlock.Error](err); ok {
		kind = "lock"
	} else if ce, ok := errorsAs[*cliError](err); ok {
		kind = ce.kind // the CLI's own word wins over a wrapped cause's
	} else if _, ok := errorsAs[*safefile.TooLargeError](err); ok {
		kind = "too-large"
	} else if te, ok := errorsAs[*templating.Error](err); ok {
		kind = "template"
		if errors.Is(te, context.Canceled) {
			kind = string(host.KindCancelled) // ctrl-C while rendering
		}
	} else if _, ok := errorsAs[*playbook.Error](err); ok {
		kind = "playbook"
	} else if _, ok := errorsAs[playbook.Errors](err); ok {
		kind = "playbook"
	} else if errors.Is(err, context.Canceled) {
		kind = string(host.KindCancelled)
	}
	if ec, ok := errorsAs[exitCoder](err); ok && ec.ExitCode() > 0 {
		return kind, ec.ExitCode()
	}
	if exit1Kinds[kind] {
		return kind, exitFailed
	}
	return kind, exitInvalid
}

// exitCoder is an error that decides its own exit code, e.g. `logs run`
// stopped by ctrl-C after draining (130).
type exitCoder interface {
	error
	ExitCode() int
}

// errorJSON is the "error" object of JSON output.
type errorJSON struct {
	Kind       string          `json:"kind"`
	Message    string          `json:"message"`
	Plugin     string          `json:"plugin,omitempty"`
	Function   string          `json:"function,omitempty"`
	File       string          `json:"file,omitempty"`
	Line       int             `json:"line,omitempty"`
	Column     int             `json:"column,omitempty"`
	Key        string          `json:"key,omitempty"`
	Limit      string          `json:"limit,omitempty"` // the template limit reached
	Violations []violationJSON `json:"violations,omitempty"`
	Problems   []string        `json:"problems,omitempty"`
}

type violationJSON struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// errorDoc describes err for JSON output.
func errorDoc(err error) *errorJSON {
	if r, ok := errorsAs[*reported](err); ok {
		err = r.err
	}
	kind, _ := classify(err)
	e := &errorJSON{Kind: kind, Message: err.Error()}
	if he, ok := errorsAs[*host.Error](err); ok {
		e.Plugin, e.Function = he.Plugin, he.Func
		if he.Kind == host.KindLoad {
			if ps := host.Problems(he.Err); len(ps) > 1 {
				e.Problems = ps
			}
		}
	}
	if se, ok := errorsAs[*host.SchemaError](err); ok {
		for _, v := range se.Violations {
			p := v.Path
			if p == "" {
				p = "/"
			}
			e.Violations = append(e.Violations, violationJSON{Path: p, Message: v.Message})
		}
	}
	if ce, ok := errorsAs[*host.ConfigError](err); ok {
		e.File, e.Key = ce.File, ce.Key
	}
	if le, ok := errorsAs[*pluginlock.Error](err); ok {
		e.File, e.Line, e.Key = le.File, le.Line, le.Key
	}
	if pe, ok := errorsAs[*playbook.Error](err); ok {
		e.File, e.Line, e.Column, e.Key = pe.File, pe.Line, pe.Column, pe.Key
	} else if te, ok := errorsAs[*templating.Error](err); ok {
		e.File, e.Line, e.Column = te.File, te.Line, te.Column
	}
	if te, ok := errorsAs[*templating.Error](err); ok {
		e.Limit = te.Limit
	}
	if pes, ok := errorsAs[playbook.Errors](err); ok {
		if len(pes) == 1 {
			e.File, e.Line, e.Column, e.Key = pes[0].File, pes[0].Line, pes[0].Column, pes[0].Key
		} else {
			e.File = pes[0].File
			e.Message = fmt.Sprintf("%s: %d problems", pes[0].File, len(pes))
			for _, p := range pes {
				e.Problems = append(e.Problems, p.Error())
			}
		}
	}
	return e
}

// report prints err (unless its result was already printed) and returns
// the exit code.
func (a *app) report(err error) int {
	_, code := classify(err)
	if _, done := errorsAs[*reported](err); done {
		return code
	}
	doc := errorDoc(err)
	if a.json {
		if werr := writeJSON(a.stdout, map[string]any{"error": doc}); werr != nil {
			fmt.Fprintf(a.stderr, "error: %v\n", err)
		}
		return code
	}
	var b bytes.Buffer
	msg := doc.Message
	if _, many := errorsAs[playbook.Errors](err); many && len(doc.Problems) > 1 {
		msg += ":"
	} else if he, ok := errorsAs[*host.Error](err); ok && len(doc.Problems) > 1 {
		// The message joins the problems; they follow one per line.
		msg = fmt.Sprintf("plugin %s: %s: %d problems:", he.Plugin, he.Func, len(doc.Problems))
	}
	b.WriteString("error: " + msg + "\n")
	if len(doc.Violations) > 1 {
		for _, v := range doc.Violations {
			fmt.Fprintf(&b, "  at %s: %s\n", v.Path, v.Message)
		}
	}
	for _, p := range doc.Problems {
		b.WriteString("  - " + strings.ReplaceAll(p, "\n", "\n    ") + "\n")
	}
	// Messages quote plugins and files: escaped for the terminal.
	io.WriteString(a.stderr, safetext.Block(b.String()))
	return code
}

// jsonValue returns JSON text as a value to embed in JSON output; text
// that is not JSON is embedded as a string.
func jsonValue(text string) any {
	if strings.TrimSpace(text) == "" {
		return map[string]any{}
	}
	if json.Valid([]byte(text)) {
		return json.RawMessage(text)
	}
	return text
}

// prettyJSON indents JSON text for people; other text is returned as is.
func prettyJSON(text, indent string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(text), indent, "  "); err != nil {
		return text
	}
	return b.String()
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
