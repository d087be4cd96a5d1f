// Command go-plugin is a Driftless plugin in standard Go: a component of
// world driftless:plugin/plugin@0.1.0 (../../wit/plugin.wit), built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared and the WASI adapter
// of tools/goadapter (see README.md).
//
// It is written against the Go guest bindings `witgen -guest go` generates
// into gen/: each exported WIT interface is a Go interface (tasks.Exports,
// templates.Exports, ...) that init passes to the package's Export, and
// host.Log / host.Timestamp call the host. A function returning
// result<T, plugin-error> returns (T, error), and the error must be a
// *types.PluginError: fail builds one.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/facts"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/host"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/metadata"
	_ "github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/plugin" // links every export of the world
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/tasks"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/templates"
	"github.com/driftless-dev/driftless/examples/go-plugin/gen/driftless/plugin/types"
)

const (
	pluginName    = "go-plugin"
	pluginVersion = "0.1.0"
)

func init() {
	metadata.Export(plugin{})
	tasks.Export(plugin{})
	facts.Export(plugin{})
	templates.Export(plugin{})
	logs.Export(plugin{})
}

// main is not called: the host calls the component's exports.
func main() {}

// plugin implements every exported interface.
type plugin struct{}

func (plugin) Describe() metadata.PluginInfo {
	return metadata.PluginInfo{
		Name:    pluginName,
		Version: pluginVersion,
		Description: "Example plugin in standard Go: tasks (ensure-line, write-file, checksum, parallel-sum, allocate, panic), " +
			"a facts collector (go-runtime), template extensions (quote, sha256) and a log filter (regex).",
	}
}

// fail returns the error of an err(plugin-error) answer.
func fail(kind types.ErrorKind, format string, args ...any) error {
	return &types.PluginError{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// decodeConfig parses a config (JSON text, "" meaning {}) into v, refusing
// unknown properties. The host has already checked it against the schema;
// this is for what a schema cannot say.
func decodeConfig(what, config string, v any) error {
	if strings.TrimSpace(config) == "" {
		config = "{}"
	}
	d := json.NewDecoder(strings.NewReader(config))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fail(types.ErrorKindInvalidConfig, "%s: %v", what, err)
	}
	return nil
}

// asPluginError turns an unexpected error into err(failed): an error that
// is not a *types.PluginError would trap (the bindings cannot guess its
// kind).
func asPluginError(err error) error {
	var pe *types.PluginError
	if err == nil || errors.As(err, &pe) {
		return err
	}
	return fail(types.ErrorKindFailed, "%s: %v", pluginName, err)
}

// toJSON renders v as one JSON value.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // values of this program always marshal
	}
	return string(b)
}

// schema renders a JSON Schema.
func schema(properties map[string]any, required ...string) string {
	s := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"type":                 "object",
		"properties":           properties,
		"additionalProperties": false,
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return toJSON(s)
}

func debugf(format string, args ...any) {
	host.Log(types.LevelDebug, fmt.Sprintf(format, args...))
}
