package pipeline

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parseErr parses a pipeline that must be refused and returns its error.
func parseErr(t *testing.T, doc string) *ConfigError {
	t.Helper()
	_, err := Parse("p.toml", []byte(doc))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConfigError, got %v", err)
	}
	return ce
}

// wantProblem checks that the error has a problem at line and key whose
// message contains msg.
func wantProblem(t *testing.T, ce *ConfigError, line int, key, msg string) {
	t.Helper()
	for _, p := range ce.Problems {
		if p.Key == key && p.Line == line && strings.Contains(p.Msg, msg) {
			if !strings.Contains(ce.Error(), "p.toml:") {
				t.Errorf("the message does not name the file: %s", ce)
			}
			return
		}
	}
	t.Errorf("want a problem at line %d, key %q, containing %q; got:\n%s", line, key, msg, ce)
}

func TestParseExample(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join(repoRoot(), "examples", "js-plugin", "pipeline.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Type != "file" || cfg.Sources[0].Path != "app.log" {
		t.Errorf("sources: %+v", cfg.Sources)
	}
	if cfg.Parser == nil || cfg.Parser.Plugin != "js-plugin" || cfg.Parser.Name != "colon" {
		t.Errorf("parser: %+v", cfg.Parser)
	}
	if len(cfg.Filters) != 1 || cfg.Filters[0].ConfigJSON() != `{"level":"warn"}` {
		t.Errorf("filters: %+v", cfg.Filters)
	}
	if len(cfg.Outputs) != 1 || cfg.Outputs[0].To != "stdout" || !cfg.WritesStdout() {
		t.Errorf("outputs: %+v", cfg.Outputs)
	}
	if got := cfg.Plugins(); len(got) != 1 || got[0] != "js-plugin" {
		t.Errorf("plugins: %v", got)
	}
	if len(cfg.PluginStages()) != 3 {
		t.Errorf("plugin stages: %+v", cfg.PluginStages())
	}
	if cfg.batchSize() != DefaultBatchSize || cfg.buffer() != DefaultBuffer {
		t.Errorf("defaults: %d %d", cfg.batchSize(), cfg.buffer())
	}
}

func TestParseAllKeys(t *testing.T) {
	cfg, err := Parse("p.toml", []byte(`
[pipeline]
batch_size = 256
buffer = 8

[[sources]]
type = "file"
path = "a.log"

[[sources]]
type = "stdin"

[[sources]]
plugin = "p"
name = "seq"
config = { count = 3, nested = { a = [1, 2] } }

[parser]
type = "json"
message_key = "text"
parallel = 2

[[filters]]
type = "level"
level = "WARNING"

[[filters]]
type = "match"
pattern = "^GET "
field = "request"
invert = true

[[filters]]
plugin = "p"
name = "f"
parallel = 3
[filters.config]
level = "info"

[[outputs]]
type = "file"
path = "out.json"
format = "json"
append = true

[[outputs]]
plugin = "p"
name = "o"
to = "file:records.log"
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.batchSize() != 256 || cfg.buffer() != 8 {
		t.Errorf("settings: %+v", cfg.Pipeline)
	}
	if got := cfg.Sources[2].ConfigJSON(); got != `{"count":3,"nested":{"a":[1,2]}}` {
		t.Errorf("source config: %s", got)
	}
	if got := cfg.Filters[2].ConfigJSON(); got != `{"level":"info"}` {
		t.Errorf("filter config from a sub-table: %s", got)
	}
	if cfg.Parser.MessageKey != "text" || cfg.Parser.Parallel != 2 {
		t.Errorf("parser: %+v", cfg.Parser)
	}
	if !cfg.Filters[1].Invert || cfg.Filters[1].Field != "request" {
		t.Errorf("match filter: %+v", cfg.Filters[1])
	}
	if cfg.WritesStdout() {
		t.Error("no output writes to stdout")
	}
}

func TestParseErrors(t *testing.T) {
	// Unknown keys name the element they are in and its line.
	ce := parseErr(t, `[[sources]]
type = "stdin"

[[filters]]
type = "level"
level = "info"

[[filters]]
plugin = "p"
name = "f"
levle = "warn"

[[outputs]]
type = "stdout"
`)
	wantProblem(t, ce, 11, "filters[1].levle", "unknown key")
	if !strings.Contains(ce.Error(), "p.toml:11: filters[1].levle: unknown key (known keys: type, plugin, name, config") {
		t.Errorf("message: %s", ce)
	}

	ce = parseErr(t, "[[sources]]\ntype = \"stdin\"\n[[outputs]]\ntype = \"stdout\"\n[extra]\nx = 1\n")
	wantProblem(t, ce, 5, "extra", "unknown key (the tables are sources, parser, filters, outputs, pipeline)")
	if len(ce.Problems) != 1 {
		t.Errorf("the keys of an unknown table are not reported again: %s", ce)
	}

	// TOML syntax errors have their line.
	ce = parseErr(t, "[[sources]]\ntype = \"stdin\"\npath = \n")
	if len(ce.Problems) != 1 || ce.Problems[0].Line != 3 {
		t.Errorf("syntax error: %+v", ce.Problems)
	}
	// So do values of the wrong type.
	ce = parseErr(t, "[[sources]]\ntype = \"file\"\npath = 3\n[[outputs]]\ntype = \"stdout\"\n")
	if len(ce.Problems) != 1 || !strings.Contains(ce.Error(), "path") {
		t.Errorf("wrong type: %s", ce)
	}

	// Missing and contradictory keys.
	ce = parseErr(t, "")
	wantProblem(t, ce, 0, "sources", "at least one [[sources]]")
	wantProblem(t, ce, 0, "outputs", "at least one [[outputs]]")

	ce = parseErr(t, `[[sources]]
type = "file"

[[sources]]
type = "stdin"
path = "x"

[[sources]]
type = "stdin"

[[sources]]
type = "socket"

[[sources]]
plugin = "p"

[[sources]]
name = "n"

[parser]
type = "plain"
level_key = "lvl"

[[filters]]
type = "level"

[[filters]]
type = "level"
level = "loud"

[[filters]]
type = "match"

[[filters]]
type = "match"
pattern = "("

[[filters]]
type = "match"
pattern = "a"
contains = "b"

[[filters]]
plugin = "p"
name = "f"
level = "warn"

[[filters]]
type = "level"
plugin = "p"
name = "f"
level = "info"

[[outputs]]
type = "file"

[[outputs]]
type = "stdout"
format = "xml"

[[outputs]]
plugin = "p"
name = "o"
to = "tcp:1"

[[outputs]]
plugin = "p"
name = "o"
path = "x"

[[outputs]]
type = "stdout"
to = "stderr"
parallel = 100

[pipeline]
batch_size = 100000
`)
	for _, w := range []struct {
		line     int
		key, msg string
	}{
		{1, "sources[0].path", "needs a path"},
		{6, "sources[1].path", "has no path"},
		{8, "sources[2]", "one source only"},
		{12, "sources[3].type", `unknown type "socket"`},
		{14, "sources[4].name", "needs the name"},
		{17, "sources[5].plugin", "needs the plugin"},
		{20, "parser", "options of the json parser"},
		{24, "filters[0].level", "needs a level"},
		{29, "filters[1].level", `unknown level "loud"`},
		{31, "filters[2]", "needs a pattern"},
		{36, "filters[3].pattern", "missing closing )"},
		{38, "filters[4]", "not both"},
		{43, "filters[5]", "options of the built-in filters"},
		{49, "filters[6].type", "not both"},
		{54, "outputs[0].path", "needs a path"},
		{59, "outputs[1].format", `unknown format "xml"`},
		{64, "outputs[2].to", "unknown destination"},
		{69, "outputs[3].path", `"to" says`},
		{73, "outputs[4].to", "for plugin outputs"},
		{74, "outputs[4].parallel", "between 1 and"},
		{77, "pipeline.batch_size", "between 1 and 65536"},
	} {
		wantProblem(t, ce, w.line, w.key, w.msg)
	}
}

func TestKeyLines(t *testing.T) {
	lines := keyLines(`# comment
[[sources]]
type = "file"
"path" = "x"

[[sources]]
  type = "stdin"
[parser]
config.a = 1
[[filters]]
[filters.config]
level = "x"
`)
	for key, want := range map[string]int{
		"sources[0]": 2, "sources[0].type": 3, "sources[0].path": 4, "sources[1].type": 7,
		"parser": 8, "parser.config.a": 9, "filters[0]": 10, "filters[0].config": 11, "filters[0].config.level": 12,
	} {
		if lines[key] != want {
			t.Errorf("%s: line %d, want %d", key, lines[key], want)
		}
	}
}

func TestCheckAgainstHost(t *testing.T) {
	h := newHost(t, nil)
	loadWatlogs(t, h)
	cfg, err := Parse("p.toml", []byte(`[[sources]]
plugin = "watlogs"
name = "raw"

[parser]
plugin = "nope"
name = "x"

[[filters]]
plugin = "watlogs"
name = "absent"

[[filters]]
plugin = "watlogs"
name = "min-level"
config = { level = "info" }

[[outputs]]
plugin = "watlogs"
name = "poison"
`))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Check(h)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConfigError, got %v", err)
	}
	wantProblem(t, ce, 3, "sources[0].name", `"raw" of plugin watlogs is a parser, not a source`)
	wantProblem(t, ce, 6, "parser.plugin", "no such plugin")
	wantProblem(t, ce, 11, "filters[0].name", `no log component named "absent" (available: flaky, message, min-level, poison, raw, seq)`)
	wantProblem(t, ce, 20, "outputs[0].name", "is a filter, not an output")
	if len(ce.Problems) != 4 {
		t.Errorf("want 4 problems, got:\n%s", ce)
	}
}

// The keys of a stage's resilience: on_error, stateless and recycle_after
// belong to plugin stages; sources are never recycled.
func TestParseResilienceKeys(t *testing.T) {
	_, err := Parse("p.toml", []byte(`[[sources]]
plugin = "p"
name = "s"
stateless = true
on_error = "skip"

[[sources]]
type = "stdin"
on_error = "skip"

[parser]
plugin = "p"
name = "raw"
on_error = "ignore"

[[filters]]
type = "level"
level = "warn"
stateless = true

[[filters]]
plugin = "p"
name = "f"
recycle_after = 10

[[filters]]
plugin = "p"
name = "f"
stateless = true
recycle_after = -1

[[outputs]]
plugin = "p"
name = "o"
stateless = true
recycle_after = 50
on_error = "stop"
`))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConfigError, got %v", err)
	}
	for _, w := range []struct {
		line     int
		key, msg string
	}{
		{4, "sources[0].stateless", "sources are not recycled"},
		{5, "sources[0].on_error", "a source that fails stops the pipeline (resume = true restarts"},
		{9, "sources[1].on_error", "on_error is for plugin stages"},
		{14, "parser.on_error", `unknown value "ignore" (stop or skip)`},
		{19, "filters[0].stateless", "stateless is for plugin stages"},
		{24, "filters[1].recycle_after", "only a stateless stage is recycled"},
		{30, "filters[2].recycle_after", "between 1 and 1000000"},
	} {
		t.Run(w.key, func(t *testing.T) { wantProblem(t, ce, w.line, w.key, w.msg) })
	}
	if len(ce.Problems) != 7 {
		t.Errorf("%d problems, want 7 (the output is right):\n%s", len(ce.Problems), ce)
	}
}

// resume belongs to plugin sources: on a built-in source, the parser, a
// filter or an output it is a configuration error naming its line; on a
// plugin source it is taken.
func TestParseResumeKey(t *testing.T) {
	_, err := Parse("p.toml", []byte(`[[sources]]
plugin = "p"
name = "s"
resume = true

[[sources]]
type = "file"
path = "in.log"
resume = true

[parser]
plugin = "p"
name = "raw"
resume = true

[[filters]]
plugin = "p"
name = "f"
resume = true

[[outputs]]
type = "stdout"
resume = false

[[outputs]]
plugin = "p"
name = "o"
resume = true
`))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConfigError, got %v", err)
	}
	for _, w := range []struct {
		line     int
		key, msg string
	}{
		{9, "sources[1].resume", "resume is for plugin sources (a file source is not restarted)"},
		{14, "parser.resume", "resume is for plugin sources (a plugin parser, filter or output is restarted after a fault without it"},
		{19, "filters[0].resume", "resume is for plugin sources"},
		{28, "outputs[1].resume", "resume is for plugin sources"},
	} {
		t.Run(w.key, func(t *testing.T) { wantProblem(t, ce, w.line, w.key, w.msg) })
	}
	if len(ce.Problems) != 4 {
		t.Errorf("%d problems, want 4 (sources[0] and outputs[0] are right):\n%s", len(ce.Problems), ce)
	}
	if !strings.HasPrefix(ce.Error(), "p.toml:9: sources[1].resume: ") {
		t.Errorf("message: %s", ce)
	}
}

// A deeply nested pipeline file is refused before the TOML decoder sees
// it (its cost grows with the square of the depth), naming the line.
func TestParseTooDeep(t *testing.T) {
	deep := "[[sources]]\ntype = \"stdin\"\n[[outputs]]\nplugin = \"p\"\nname = \"o\"\nconfig = " +
		strings.Repeat("{a=", 4000) + "1" + strings.Repeat("}", 4000) + "\n"
	start := time.Now()
	_, err := Parse("p.toml", []byte(deep))
	var ce *ConfigError
	if !errors.As(err, &ce) || err.Error() != "p.toml:6: nested more than 32 levels deep (tables, arrays and dotted keys count; the limit is 32)" {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s", d)
	}
}
