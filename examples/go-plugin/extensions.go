package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/facts"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/templates"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/types"
)

// ---- facts ----

func (plugin) Collectors() []facts.CollectorDefinition {
	return []facts.CollectorDefinition{{
		Name: "go-runtime",
		Description: "The plugin's Go runtime: version, goroutines, heap after a collection, " +
			"and the log filters open in this instance.",
		ConfigSchema: schema(map[string]any{}),
	}}
}

func (plugin) Collect(name, config string) (string, error) {
	if name != "go-runtime" {
		return "", fail(types.ErrorKindNotFound, "no collector %q", name)
	}
	if err := decodeConfig("go-runtime", config, &struct{}{}); err != nil {
		return "", err
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return toJSON(map[string]any{
		"plugin":           pluginName,
		"engine":           "go",
		"go_version":       runtime.Version(),
		"goos":             runtime.GOOS,
		"goarch":           runtime.GOARCH,
		"goroutines":       runtime.NumGoroutine(),
		"heap_alloc_bytes": m.HeapAlloc,
		"heap_sys_bytes":   m.HeapSys,
		"open_filters":     openFilters.Load(),
	}), nil
}

// ---- templates ----

func (plugin) Extensions() []templates.ExtensionDefinition {
	return []templates.ExtensionDefinition{
		{
			Name:        "quote",
			Kind:        templates.ExtensionKindFilter,
			Description: `Quotes a string for a POSIX shell ('it'\''s'), or as JSON with style "json".`,
			Category:    "strings",
			Arguments: []templates.Argument{
				{Name: "style", Description: `"shell" (the default) or "json"`},
			},
			ConfigSchema: schema(map[string]any{}),
		},
		{
			Name:         "sha256",
			Kind:         templates.ExtensionKindFunction,
			Description:  "The SHA-256 of a string, in hex.",
			Category:     "hashing",
			Arguments:    []templates.Argument{{Name: "text", Description: "the string to hash", Required: true}},
			ConfigSchema: schema(map[string]any{}),
		},
	}
}

func (plugin) ApplyFilter(name, config, value string, args []string) (string, error) {
	if name != "quote" {
		return "", fail(types.ErrorKindNotFound, "no filter %q", name)
	}
	var s string
	if err := json.Unmarshal([]byte(value), &s); err != nil {
		return "", fail(types.ErrorKindInvalidInput, "quote: the value must be a string")
	}
	style := "shell"
	if len(args) > 0 && args[0] != "null" {
		if err := json.Unmarshal([]byte(args[0]), &style); err != nil {
			return "", fail(types.ErrorKindInvalidInput, "quote: style must be a string")
		}
	}
	switch style {
	case "shell":
		return toJSON("'" + strings.ReplaceAll(s, "'", `'\''`) + "'"), nil
	case "json":
		return toJSON(toJSON(s)), nil
	}
	return "", fail(types.ErrorKindInvalidInput, "quote: unknown style %q (shell or json)", style)
}

func (plugin) CallFunction(name, config string, args []string) (string, error) {
	if name != "sha256" {
		return "", fail(types.ErrorKindNotFound, "no function %q", name)
	}
	var s string
	if len(args) != 1 || json.Unmarshal([]byte(args[0]), &s) != nil {
		return "", fail(types.ErrorKindInvalidInput, "sha256: takes one string")
	}
	sum := sha256.Sum256([]byte(s))
	return toJSON(hex.EncodeToString(sum[:])), nil
}

// ---- logs ----

func (plugin) Components() []logs.ComponentDefinition {
	return []logs.ComponentDefinition{{
		Name: "regex",
		Kind: logs.ComponentKindFilter,
		Description: "Keeps the entries whose message (or field config.field) matches the regular expression " +
			"config.pattern (Go's RE2 syntax); config.invert keeps the others.",
		ConfigSchema: schema(map[string]any{
			"pattern": map[string]any{"type": "string"},
			"field":   map[string]any{"type": "string", "minLength": 1},
			"invert":  map[string]any{"type": "boolean"},
		}, "pattern"),
	}}
}

// openFilters counts the regex filters the host holds handles of.
var openFilters atomic.Int64

// regexFilter is the resource behind a regex filter stage: it keeps the
// compiled expression for the stage's life.
type regexFilter struct {
	re     *regexp.Regexp
	field  string
	invert bool
}

func (plugin) OpenFilter(name, config string) (logs.Filter, error) {
	if name != "regex" {
		return nil, fail(types.ErrorKindNotFound, "no log filter %q", name)
	}
	var c struct {
		Pattern string `json:"pattern"`
		Field   string `json:"field"`
		Invert  bool   `json:"invert"`
	}
	if err := decodeConfig("regex", config, &c); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(c.Pattern)
	if err != nil {
		return nil, fail(types.ErrorKindInvalidConfig, "regex: %v", err)
	}
	openFilters.Add(1)
	debugf("regex filter %q opened", c.Pattern)
	return &regexFilter{re: re, field: c.Field, invert: c.Invert}, nil
}

func (f *regexFilter) Keep(entries []logs.LogEntry) ([]bool, error) {
	keep := make([]bool, len(entries))
	for i, e := range entries {
		text := e.Message
		if f.field != "" {
			text = ""
			for _, kv := range e.Fields {
				if kv.F0 == f.field {
					text = kv.F1
					break
				}
			}
		}
		keep[i] = f.re.MatchString(text) != f.invert
	}
	return keep, nil
}

// ResourceDrop runs when the host drops the filter (the stage ends).
func (f *regexFilter) ResourceDrop() {
	openFilters.Add(-1)
	debugf("regex filter %q closed", f.re.String())
}

func (plugin) OpenSource(name, config string) (logs.Source, error) {
	return nil, fail(types.ErrorKindNotFound, "no log source %q", name)
}

func (plugin) OpenParser(name, config string) (logs.Parser, error) {
	return nil, fail(types.ErrorKindNotFound, "no log parser %q", name)
}

func (plugin) OpenOutput(name, config string) (logs.Output, error) {
	return nil, fail(types.ErrorKindNotFound, "no log output %q", name)
}
