package host

// The TypeScript example (examples/ts-plugin): its exports are typed by
// `jco guest-types` and fail by throwing {payload: plugin-error}, which
// componentize-js must turn into err values of the right kind.

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

func TestExampleTS(t *testing.T) {
	wasm := builtexample.Wasm(t, "ts-plugin")
	h, rec := exampleHost(t, "")
	ctx := context.Background()
	p, err := h.LoadBytes(ctx, "ts-plugin", wasm)
	if err != nil {
		t.Fatal(err)
	}
	if p.Info().Name != "ts-plugin" || len(p.Provides()) != 2 || len(p.Tasks()) != 1 || len(p.Extensions()) != 2 {
		t.Fatalf("info %+v provides %v", p.Info(), p.Provides())
	}

	res, err := p.ExecuteTask(ctx, "set-json", `{"document":{"a":{"b":1}},"path":"a.b","value":2}`, true)
	if err != nil || !res.Changed || res.Message != "would set a.b to 2" || res.Diff == nil || *res.Diff != "--- a.b\n+++ a.b\n-1\n+2\n" {
		t.Fatalf("set-json --check: %+v %v", res, err)
	}
	var out struct {
		Document  map[string]map[string]int `json:"document"`
		CheckMode bool                      `json:"check_mode"`
	}
	if err := json.Unmarshal([]byte(res.Output), &out); err != nil || out.Document["a"]["b"] != 2 || !out.CheckMode {
		t.Errorf("output %s %v", res.Output, err)
	}
	rec.reset()
	res, err = p.ExecuteTask(ctx, "set-json", `{"document":{"a":{"b":[1,{"c":null}]}},"path":"a.b","value":[1,{"c":null}]}`, false)
	if err != nil || res.Changed || res.Diff != nil || res.Message != `a.b is already [1,{"c":null}]` {
		t.Fatalf("set-json, nothing to do: %+v %v", res, err)
	}
	if lines := rec.lines(); len(lines) != 1 || lines[0].Msg != res.Message || lines[0].Attrs["plugin"] != "ts-plugin" {
		t.Errorf("host.log: %+v", lines)
	}

	// Errors the plugin throws arrive as err values of their kind.
	_, err = p.ExecuteTask(ctx, "set-json", `{"document":{"a":1},"path":"a.b","value":2}`, false)
	wantError(t, err, KindInvalidConfig, "plugin ts-plugin: tasks.execute: set-json: a is not an object")
	_, err = p.ExecuteTask(ctx, "set-json", `{"path":"a..b","value":2}`, false)
	wantError(t, err, KindInvalidConfig, `plugin ts-plugin: tasks.execute: set-json: path "a..b" has an empty part`)
	_, err = p.ExecuteTask(ctx, "set-json", `{"path":"a"}`, false)
	wantErrorPrefix(t, err, KindInvalidConfig, `plugin ts-plugin: tasks.execute: task "set-json": config does not match the config-schema: at (root): missing property 'value'`)

	for _, c := range []struct {
		value string
		args  []string
		want  string
	}{
		{`"7"`, []string{"3", `"0"`}, `"007"`},
		{`42`, []string{"4"}, `"  42"`},
		{`"long"`, []string{"2", "null"}, `"long"`},
	} {
		if got, err := p.ApplyFilter(ctx, "pad", "", c.value, c.args); err != nil || got != c.want {
			t.Errorf("pad(%s, %v) = %q %v; want %q", c.value, c.args, got, err, c.want)
		}
	}
	if got, err := p.CallFunction(ctx, "plural", "", []string{"2", `"box"`, `"boxes"`}); err != nil || got != `"2 boxes"` {
		t.Errorf("plural: %q %v", got, err)
	}
	_, err = p.ApplyFilter(ctx, "pad", "", `true`, []string{"3"})
	wantError(t, err, KindInvalidInput, "plugin ts-plugin: templates.apply-filter: pad: value must be a string or a number")
	_, err = p.CallFunction(ctx, "plural", "", []string{"1.5", `"x"`})
	wantError(t, err, KindInvalidInput, "plugin ts-plugin: templates.call-function: plural: count must be an integer")
	_, err = p.ApplyFilter(ctx, "pad", `{"x":1}`, `"a"`, []string{"3"})
	wantErrorPrefix(t, err, KindInvalidConfig, "plugin ts-plugin: templates.apply-filter:")
}
