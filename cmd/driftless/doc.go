package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/templating"

	"github.com/driftless-dev/driftless/internal/safetext"
)

// docJSON is the documentation `plugins doc` prints, generated from a
// plugin's definitions and their config schemas.
type docJSON struct {
	Plugin      string    `json:"plugin"`
	Version     string    `json:"version"`
	Description string    `json:"description"`
	ABI         string    `json:"abi"`
	Items       []docItem `json:"items"`
}

type docItem struct {
	Kind          string         `json:"kind"` // task, collector, filter, function, log source/parser/filter/output
	Name          string         `json:"name"`
	Description   string         `json:"description"`
	TaskKind      string         `json:"task_kind,omitempty"`
	CheckMode     *bool          `json:"supports_check_mode,omitempty"`
	Category      string         `json:"category,omitempty"`
	Arguments     []argumentJSON `json:"arguments,omitempty"`
	TemplateNames []string       `json:"template_names,omitempty"`
	Options       []docOption    `json:"options"`
	OtherKeys     bool           `json:"other_keys_allowed"`
	Example       string         `json:"example"`
}

// docOption is one config key, from the config schema's properties.
type docOption struct {
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Required    bool        `json:"required"`
	Description string      `json:"description,omitempty"`
	Default     any         `json:"default,omitempty"`
	Choices     []any       `json:"choices,omitempty"`
	Constraints []string    `json:"constraints,omitempty"`
	Suboptions  []docOption `json:"suboptions,omitempty"`
}

func pluginsDoc(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	ref := c.Args().First()
	name, item, hasItem := strings.Cut(ref, ".")
	if err := host.CheckName(name); err != nil || (hasItem && item == "") {
		return usagef("plugins doc: %s is not NAME or NAME.ITEM of an installed plugin "+
			"(plugins list shows them; plugins validate FILE checks a plugin file)", safetext.Quote(ref, 128))
	}
	p, err := a.plugin(c.Context, name)
	if err != nil {
		return err
	}
	doc := pluginDoc(p)
	if hasItem {
		var kept []docItem
		var known []string
		for _, it := range doc.Items {
			known = append(known, it.Name)
			if it.Name == item {
				kept = append(kept, it)
			}
		}
		if len(kept) == 0 {
			msg := fmt.Sprintf("no task, collector, template extension or log component named %s", safetext.Quote(item, 128))
			if len(known) > 0 {
				msg += " (documented: " + strings.Join(known, ", ") + ")"
			}
			return &host.Error{Plugin: name, Kind: host.KindNotFound, Msg: msg}
		}
		doc.Items = kept
	}
	return a.emit(doc, func(w io.Writer) { writeDoc(w, doc, !hasItem) })
}

func pluginDoc(p *host.Plugin) docJSON {
	info := p.Info()
	doc := docJSON{Plugin: p.Name(), Version: info.Version, Description: info.Description, ABI: string(p.ABI()), Items: []docItem{}}
	for _, d := range p.Tasks() {
		check := d.SupportsCheckMode
		it := schemaDoc(d.ConfigSchema)
		it.Kind, it.Name, it.Description, it.TaskKind, it.CheckMode = "task", d.Name, d.Description, d.Kind.String(), &check
		it.Example = "driftless task run " + p.Name() + "." + d.Name
		if ex := exampleConfig(d.ConfigSchema); ex != "" {
			it.Example += " --config '" + ex + "'"
		}
		if check {
			it.Example += " [--check]"
		}
		doc.Items = append(doc.Items, it)
	}
	for _, d := range p.Collectors() {
		it := schemaDoc(d.ConfigSchema)
		it.Kind, it.Name, it.Description = "collector", d.Name, d.Description
		it.Example = "driftless facts collect " + p.Name() + "." + d.Name
		if ex := exampleConfig(d.ConfigSchema); ex != "" {
			it.Example += " --config '" + ex + "'"
		}
		doc.Items = append(doc.Items, it)
	}
	for _, d := range p.Extensions() {
		it := schemaDoc(d.ConfigSchema)
		it.Kind, it.Name, it.Description, it.Category = d.Kind.String(), d.Name, d.Description, d.Category
		it.TemplateNames = templateNames(p, d.Name)
		var args []string
		for _, x := range d.Arguments {
			it.Arguments = append(it.Arguments, argumentJSON{x.Name, x.Description, x.Required})
			if x.Required {
				args = append(args, templating.Ident(x.Name))
			} else {
				args = append(args, templating.Ident(x.Name)+"?")
			}
		}
		call := it.TemplateNames[0]
		if len(args) > 0 {
			call += "(" + strings.Join(args, ", ") + ")"
		}
		if it.Kind == "filter" {
			it.Example = "{{ value | " + call + " }}"
		} else {
			if len(args) == 0 {
				call += "()"
			}
			it.Example = "{{ " + call + " }}"
		}
		doc.Items = append(doc.Items, it)
	}
	for _, d := range p.LogComponents() {
		it := schemaDoc(d.ConfigSchema)
		it.Kind, it.Name, it.Description = "log "+d.Kind.String(), d.Name, d.Description
		it.Example = fmt.Sprintf("in a log pipeline (driftless logs run): plugin = %q, name = %q", p.Name(), d.Name)
		doc.Items = append(doc.Items, it)
	}
	return doc
}

// schemaDoc reads the options of a config schema.
func schemaDoc(text string) docItem {
	it := docItem{Options: []docOption{}, OtherKeys: true}
	var s map[string]any
	if json.Unmarshal([]byte(text), &s) != nil {
		return it
	}
	it.Options = options(s)
	if ap, ok := s["additionalProperties"].(bool); ok && !ap {
		it.OtherKeys = false
	}
	return it
}

func options(s map[string]any) []docOption {
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if n, ok := r.(string); ok {
				required[n] = true
			}
		}
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []docOption{}
	for _, n := range names {
		ps, _ := props[n].(map[string]any)
		o := docOption{Name: n, Required: required[n], Type: typeText(ps)}
		o.Description, _ = ps["description"].(string)
		if o.Description == "" {
			o.Description, _ = ps["title"].(string)
		}
		o.Default = ps["default"]
		if e, ok := ps["enum"].([]any); ok {
			o.Choices = e
		} else if c, ok := ps["const"]; ok {
			o.Choices = []any{c}
		}
		for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
			"pattern", "format", "minItems", "maxItems", "uniqueItems"} {
			if v, ok := ps[k]; ok {
				o.Constraints = append(o.Constraints, fmt.Sprintf("%s: %s", k, jsonText(v)))
			}
		}
		if _, ok := ps["properties"]; ok {
			o.Suboptions = options(ps)
		} else if items, ok := ps["items"].(map[string]any); ok {
			if _, ok := items["properties"]; ok {
				o.Suboptions = options(items)
			}
		}
		out = append(out, o)
	}
	return out
}

// typeText describes a schema's type for people.
func typeText(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		if t == "array" {
			if items, ok := s["items"].(map[string]any); ok {
				if it := typeText(items); it != "any" {
					return "list of " + it
				}
			}
			return "list"
		}
		return t
	case []any:
		parts := make([]string, 0, len(t))
		for _, x := range t {
			parts = append(parts, fmt.Sprint(x))
		}
		return strings.Join(parts, " or ")
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[k].([]any); ok {
			var parts []string
			for _, a := range alts {
				if m, ok := a.(map[string]any); ok {
					parts = append(parts, typeText(m))
				}
			}
			return "one of " + strings.Join(parts, ", ")
		}
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return "enum"
	}
	return "any"
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// exampleConfig builds an example config from a schema: every required
// key with its example, default, first choice or a placeholder.
func exampleConfig(text string) string {
	var s map[string]any
	if json.Unmarshal([]byte(text), &s) != nil {
		return ""
	}
	ex := example(s)
	m, ok := ex.(map[string]any)
	if !ok || len(m) == 0 {
		return ""
	}
	return jsonText(m)
}

func example(s map[string]any) any {
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	if d, ok := s["default"]; ok {
		return d
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	if c, ok := s["const"]; ok {
		return c
	}
	t, _ := s["type"].(string)
	if tt, ok := s["type"].([]any); ok && len(tt) > 0 {
		t, _ = tt[0].(string)
	}
	switch t {
	case "string":
		return "..."
	case "integer", "number":
		return 0
	case "boolean":
		return false
	case "array":
		return []any{}
	case "null":
		return nil
	}
	props, _ := s["properties"].(map[string]any)
	out := map[string]any{}
	req, _ := s["required"].([]any)
	for _, r := range req {
		n, _ := r.(string)
		if ps, ok := props[n].(map[string]any); ok {
			out[n] = example(ps)
		} else if n != "" {
			out[n] = "..."
		}
	}
	return out
}

// writeDoc prints documentation the way ansible-doc does.
func writeDoc(w io.Writer, doc docJSON, overview bool) {
	if overview {
		fmt.Fprintf(w, "> %s %s (%s plugin)\n\n", strings.ToUpper(doc.Plugin), orDash(doc.Version), doc.ABI)
		if doc.Description != "" {
			fmt.Fprintf(w, "%s\n\n", indent(wrap(doc.Description, 70), "  "))
		}
		if len(doc.Items) == 0 {
			fmt.Fprintln(w, "  (it provides nothing)")
		}
		for _, it := range doc.Items {
			fmt.Fprintf(w, "  %-12s %s\n", it.Kind, it.Name)
		}
		fmt.Fprintln(w)
	}
	for i, it := range doc.Items {
		if i > 0 || overview {
			fmt.Fprintln(w, strings.Repeat("-", 72))
		}
		head := it.Kind
		if it.CheckMode != nil {
			if *it.CheckMode {
				head += ", supports check mode"
			} else {
				head += ", no check mode"
			}
		}
		if it.Category != "" {
			head += ", category " + it.Category
		}
		fmt.Fprintf(w, "> %s.%s    (%s)\n\n", strings.ToUpper(doc.Plugin), strings.ToUpper(it.Name), head)
		fmt.Fprintf(w, "%s\n\n", indent(wrap(orDash(it.Description), 70), "  "))
		if len(it.TemplateNames) > 0 {
			fmt.Fprintf(w, "  In templates: %s (the short name when no other plugin provides it)\n\n", strings.Join(it.TemplateNames, " or "))
		}
		if len(it.Arguments) > 0 {
			fmt.Fprintln(w, "ARGUMENTS (= is mandatory):")
			fmt.Fprintln(w)
			for _, x := range it.Arguments {
				mark := "-"
				if x.Required {
					mark = "="
				}
				fmt.Fprintf(w, "%s %s\n", mark, templating.Ident(x.Name))
				if x.Description != "" {
					fmt.Fprintf(w, "%s\n", indent(wrap(x.Description, 62), "        "))
				}
				fmt.Fprintln(w)
			}
		}
		if len(it.Options) > 0 {
			fmt.Fprintln(w, "CONFIG (= is mandatory):")
			fmt.Fprintln(w)
			writeOptions(w, it.Options, "")
		} else {
			fmt.Fprintln(w, "CONFIG: none")
			fmt.Fprintln(w)
		}
		if !it.OtherKeys {
			fmt.Fprintln(w, "  Other config keys are refused.")
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "EXAMPLE\n\n  %s\n\n", it.Example)
	}
}

func writeOptions(w io.Writer, opts []docOption, pad string) {
	for _, o := range opts {
		mark := "-"
		if o.Required {
			mark = "="
		}
		fmt.Fprintf(w, "%s%s %s\n", pad, mark, o.Name)
		body := pad + "        "
		if o.Description != "" {
			fmt.Fprintf(w, "%s\n", indent(wrap(o.Description, 62), body))
		}
		fmt.Fprintf(w, "%stype: %s\n", body, o.Type)
		if o.Default != nil {
			fmt.Fprintf(w, "%sdefault: %s\n", body, jsonText(o.Default))
		}
		if len(o.Choices) > 0 {
			cs := make([]string, len(o.Choices))
			for i, c := range o.Choices {
				cs[i] = jsonText(c)
			}
			fmt.Fprintf(w, "%schoices: %s\n", body, strings.Join(cs, ", "))
		}
		for _, c := range o.Constraints {
			fmt.Fprintf(w, "%s%s\n", body, c)
		}
		if len(o.Suboptions) > 0 {
			fmt.Fprintf(w, "%ssuboptions:\n", body)
			writeOptions(w, o.Suboptions, body)
		}
		fmt.Fprintln(w)
	}
}

// wrap breaks text into lines of at most width runes, at spaces.
func wrap(text string, width int) string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
				out = append(out, line)
				line = word
			} else if line == "" {
				line = word
			} else {
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
