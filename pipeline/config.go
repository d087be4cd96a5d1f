package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/boundeddecode"
	"github.com/driftless-dev/driftless/internal/safefile"
)

// Defaults and bounds of the [pipeline] table.
const (
	DefaultBatchSize = 1024
	DefaultBuffer    = 4
	MaxParallel      = 64
	// DefaultRecycleAfter is how many calls a stateless plugin stage's
	// instance serves before a fresh one replaces it (recycle_after).
	DefaultRecycleAfter = 100
	MaxRecycleAfter     = 1_000_000
)

// Config is a pipeline file: sources → one parser → filters → outputs. See
// docs/pipeline.md for the format.
type Config struct {
	Sources  []SourceConfig `toml:"sources"`
	Parser   *ParserConfig  `toml:"parser"`
	Filters  []FilterConfig `toml:"filters"`
	Outputs  []OutputConfig `toml:"outputs"`
	Pipeline Settings       `toml:"pipeline"`

	// File is the file the configuration was read from, for messages.
	File string `toml:"-"`

	lines map[string]int // "filters[1].plugin" → line, for messages
}

// Settings is the [pipeline] table.
type Settings struct {
	// BatchSize is the most lines or entries one batch holds (one call of a
	// plugin stage); 0 means DefaultBatchSize. At most host.MaxBatch.
	BatchSize int `toml:"batch_size"`
	// Buffer is how many batches may wait between two stages; 0 means
	// DefaultBuffer.
	Buffer int `toml:"buffer"`
}

// Stage holds the keys every stage table has: a built-in type, or a log
// component of a plugin with its config.
type Stage struct {
	Type   string         `toml:"type"`
	Plugin string         `toml:"plugin"`
	Name   string         `toml:"name"`
	Config map[string]any `toml:"config"`
	// Parallel runs that many instances of the stage, each on a goroutine
	// of its own, batches dealt round-robin and collected in order. Only
	// for components without state across batches; 0 means 1.
	Parallel int `toml:"parallel"`
	// OnError is what a plugin stage does with a batch it fails on, after
	// a trap or a limit was answered by restarting its instance and
	// retrying the batch once: "stop" (the default) stops the pipeline,
	// "skip" drops the batch, reports it (stage, count, error) and goes on.
	// Not for sources (a source that fails stops the pipeline).
	OnError string `toml:"on_error"`
	// Resume, on a plugin source, declares that the component keeps its
	// position in the plugin's state (committed only by a call that
	// succeeds), so that a fresh instance goes on where the failed one
	// stood: a call of next that traps or hits a limit then restarts the
	// source on a fresh instance and is retried once. Only for plugin
	// sources; without it a source that fails stops the pipeline.
	Resume bool `toml:"resume"`
	// Stateless says the component keeps no state across batches, so its
	// instance may be replaced at any time: it is recycled every
	// RecycleAfter calls, when the data it was given since it started
	// reaches a quarter of the plugin's max_memory, and when its memory
	// (when the host can read it) reaches three quarters of max_memory.
	Stateless bool `toml:"stateless"`
	// RecycleAfter is the calls a stateless stage's instance serves before
	// a fresh one replaces it; 0 means DefaultRecycleAfter.
	RecycleAfter int `toml:"recycle_after"`
}

// IsPlugin reports whether the stage is a plugin's log component.
func (s *Stage) IsPlugin() bool { return s.Plugin != "" }

// ConfigJSON returns the stage's config as a JSON object.
func (s *Stage) ConfigJSON() string {
	if len(s.Config) == 0 {
		return "{}"
	}
	b, err := json.Marshal(s.Config)
	if err != nil { // TOML values always marshal; keep the signature simple
		return "{}"
	}
	return string(b)
}

// SourceConfig is a [[sources]] table.
type SourceConfig struct {
	Stage
	// Path is the file of a "file" source.
	Path string `toml:"path"`
}

// ParserConfig is the [parser] table.
type ParserConfig struct {
	Stage
	// Keys the "json" parser reads the timestamp, level and message from,
	// instead of its lists of usual names.
	TimestampKey string `toml:"timestamp_key"`
	LevelKey     string `toml:"level_key"`
	MessageKey   string `toml:"message_key"`
}

// FilterConfig is a [[filters]] table.
type FilterConfig struct {
	Stage
	// Level is the least level a "level" filter keeps.
	Level string `toml:"level"`
	// Pattern (a regular expression) or Contains (a substring) is what a
	// "match" filter looks for in Field ("message" when empty; also
	// "level", "source", or the key of a field).
	Pattern  string `toml:"pattern"`
	Contains string `toml:"contains"`
	Field    string `toml:"field"`
	// Invert makes a "match" filter drop the entries that match.
	Invert bool `toml:"invert"`
}

// OutputConfig is an [[outputs]] table.
type OutputConfig struct {
	Stage
	// Path is the file of a "file" output.
	Path string `toml:"path"`
	// Format of a built-in output: "text" (default) or "json".
	Format string `toml:"format"`
	// To is where a plugin output's records go: "stdout" (default),
	// "stderr" or "file:PATH".
	To string `toml:"to"`
	// Append makes a file output add to the file instead of replacing it.
	Append bool `toml:"append"`
}

// batchSize and buffer return the settings with defaults applied.
func (c *Config) batchSize() int {
	if c.Pipeline.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return c.Pipeline.BatchSize
}

func (c *Config) buffer() int {
	if c.Pipeline.Buffer <= 0 {
		return DefaultBuffer
	}
	return c.Pipeline.Buffer
}

// Problem is one thing wrong with a pipeline file.
type Problem struct {
	Line int    // 1-based; 0 when unknown
	Key  string // e.g. "filters[1].plugin"; "" for the whole file
	Msg  string
}

// ConfigError lists what is wrong with a pipeline file: bad TOML, unknown
// keys, missing or contradictory keys, unknown plugins or components, a
// component of the wrong kind, a config its schema refuses. The CLI exits
// with status 2 for it.
type ConfigError struct {
	File     string
	Problems []Problem
	Err      error // the underlying error of a single problem, if any
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
		if p.Key != "" {
			b.WriteString(p.Key)
			b.WriteString(": ")
		}
		b.WriteString(p.Msg)
	}
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// problems collects Problems with the lines of their keys.
type problems struct {
	c    *Config
	list []Problem
}

func (p *problems) add(key, format string, args ...any) {
	p.list = append(p.list, Problem{Line: p.c.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ConfigError{File: p.c.File, Problems: p.list}
}

// line returns the line of key, or of the closest enclosing table.
func (c *Config) line(key string) int {
	for key != "" {
		if l, ok := c.lines[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// Errorf returns a *ConfigError about key of the pipeline file (e.g.
// "filters[1].plugin"), with the key's line.
func (c *Config) Errorf(key, format string, args ...any) *ConfigError {
	return &ConfigError{File: c.File, Problems: []Problem{{Line: c.line(key), Key: key, Msg: fmt.Sprintf(format, args...)}}}
}

// MaxFileSize bounds a pipeline file: a larger one is refused before it is
// read.
const MaxFileSize = boundeddecode.MaxSize

// LoadConfig reads and checks the pipeline file at path (see Parse). A
// path that is not a regular file (a FIFO, a device) is refused without
// blocking.
func LoadConfig(path string) (*Config, error) {
	data, err := safefile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, &ConfigError{File: path, Problems: []Problem{{Msg: "cannot read the pipeline: " + safefile.Reason(err)}}, Err: err}
	}
	return Parse(path, data)
}

// Parse parses a pipeline file; name is used in messages. It checks
// everything that does not need plugins: the TOML, unknown keys, and the
// keys each stage needs or may not have. Check completes it against a host.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{File: name}
	c.lines = keyLines(string(data))
	md, err := boundeddecode.TOML(name, data, c)
	if err != nil {
		var be *boundeddecode.Error
		if errors.As(err, &be) {
			return nil, &ConfigError{File: name, Problems: []Problem{{Line: be.Line, Msg: be.Msg}}, Err: err}
		}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: name, Problems: []Problem{{Line: pe.Position.Line, Msg: pe.Message}}, Err: err}
		}
		if m := tomlErr.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &ConfigError{File: name, Problems: []Problem{{Line: line, Key: m[2], Msg: m[3]}}, Err: err}
		}
		return nil, &ConfigError{File: name, Problems: []Problem{{Msg: strings.TrimPrefix(err.Error(), "toml: ")}}, Err: err}
	}
	p := &problems{c: c}
	var unknown []string
outer:
	for _, k := range md.Undecoded() {
		if len(k) > 2 && k[1] == "config" {
			continue // a component's config is free-form (its schema checks it)
		}
		key := c.indexKey(k)
		for _, u := range unknown {
			if strings.HasPrefix(key, u+".") {
				continue outer // in a table already reported
			}
		}
		unknown = append(unknown, key)
		p.add(key, "unknown key%s", knownKeys(k))
	}
	c.check(p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// tomlErr is how the TOML decoder words a value of the wrong type.
var tomlErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// indexKey turns a decoded TOML key ("filters.plugn") into the key of the
// element it is in ("filters[1].plugn"), found through the lines.
func (c *Config) indexKey(k toml.Key) string {
	if len(k) < 2 {
		return k.String()
	}
	switch k[0] {
	case "sources", "filters", "outputs":
		rest := strings.Join(k[1:], ".")
		var best string
		bestLine := 0
		for key, line := range c.lines {
			i := strings.IndexByte(key, ']')
			if i < 0 || !strings.HasPrefix(key, k[0]+"[") || key[i+1:] != "."+rest {
				continue
			}
			if best == "" || line < bestLine {
				best, bestLine = key, line
			}
		}
		if best != "" {
			return best
		}
	}
	return k.String()
}

var tableKeys = map[string][]string{
	"":         {"sources", "parser", "filters", "outputs", "pipeline"},
	"sources":  {"type", "path", "plugin", "name", "config", "parallel", "resume"},
	"parser":   {"type", "plugin", "name", "config", "parallel", "on_error", "stateless", "recycle_after", "timestamp_key", "level_key", "message_key"},
	"filters":  {"type", "plugin", "name", "config", "parallel", "on_error", "stateless", "recycle_after", "level", "pattern", "contains", "field", "invert"},
	"outputs":  {"type", "path", "format", "append", "plugin", "name", "config", "to", "parallel", "on_error", "stateless", "recycle_after"},
	"pipeline": {"batch_size", "buffer"},
}

func knownKeys(k toml.Key) string {
	table := ""
	if len(k) > 1 {
		table = k[0]
	}
	if len(k) > 2 {
		return ""
	}
	known, ok := tableKeys[table]
	if !ok {
		return ""
	}
	if table == "" {
		return " (the tables are " + strings.Join(known, ", ") + ")"
	}
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

// check applies the rules that need no plugins.
func (c *Config) check(p *problems) {
	if len(c.Sources) == 0 {
		p.add("sources", "a pipeline needs at least one [[sources]] table")
	}
	if len(c.Outputs) == 0 {
		p.add("outputs", "a pipeline needs at least one [[outputs]] table")
	}
	if c.Pipeline.BatchSize < 0 || c.Pipeline.BatchSize > host.MaxBatch {
		p.add("pipeline.batch_size", "must be between 1 and %d", host.MaxBatch)
	}
	if c.Pipeline.Buffer < 0 || c.Pipeline.Buffer > 1024 {
		p.add("pipeline.buffer", "must be between 1 and 1024")
	}
	stdin := 0
	for i := range c.Sources {
		s := &c.Sources[i]
		key := fmt.Sprintf("sources[%d]", i)
		c.checkStage(p, key, &s.Stage, []string{"file", "stdin"})
		if s.Parallel > 1 {
			p.add(key+".parallel", "sources do not run in parallel instances")
		}
		if s.IsPlugin() && (s.Stateless || s.RecycleAfter != 0) {
			p.add(key+".stateless", "a source's position is its state: sources are not recycled")
		}
		if s.IsPlugin() && s.OnError != "" {
			p.add(key+".on_error", "a source's position is its state: a source that fails stops the pipeline (resume = true restarts one that keeps its position in plugin state)")
		}
		if s.Resume && !s.IsPlugin() && s.Type != "" {
			p.add(key+".resume", "resume is for plugin sources (a %s source is not restarted)", s.Type)
		}
		switch {
		case s.IsPlugin():
			if s.Path != "" {
				p.add(key+".path", "a plugin source has no path (put it in its config)")
			}
		case s.Type == "file":
			if s.Path == "" {
				p.add(key+".path", "a file source needs a path")
			}
		case s.Type == "stdin":
			stdin++
			if stdin == 2 {
				p.add(key, "standard input can be read by one source only")
			}
			if s.Path != "" {
				p.add(key+".path", "a stdin source has no path")
			}
		}
	}
	if c.Parser != nil {
		s := c.Parser
		c.checkStage(p, "parser", &s.Stage, []string{"plain", "json"})
		noResume(p, "parser", &s.Stage)
		if s.Type != "json" && (s.TimestampKey != "" || s.LevelKey != "" || s.MessageKey != "") {
			p.add("parser", "timestamp_key, level_key and message_key are options of the json parser")
		}
	}
	for i := range c.Filters {
		f := &c.Filters[i]
		key := fmt.Sprintf("filters[%d]", i)
		c.checkStage(p, key, &f.Stage, []string{"level", "match"})
		noResume(p, key, &f.Stage)
		matchKeys := f.Pattern != "" || f.Contains != "" || f.Field != "" || f.Invert
		switch {
		case f.IsPlugin():
			if f.Level != "" || matchKeys {
				p.add(key, "level, pattern, contains, field and invert are options of the built-in filters (a plugin filter takes config)")
			}
		case f.Type == "level":
			if f.Level == "" {
				p.add(key+".level", "a level filter needs a level (one of %s)", strings.Join(levelNames[:], ", "))
			} else if levelRank(f.Level) < 0 {
				p.add(key+".level", "unknown level %q (one of %s)", f.Level, strings.Join(levelNames[:], ", "))
			}
			if matchKeys {
				p.add(key, "pattern, contains, field and invert are options of the match filter")
			}
		case f.Type == "match":
			if f.Level != "" {
				p.add(key+".level", "level is an option of the level filter")
			}
			switch {
			case f.Pattern == "" && f.Contains == "":
				p.add(key, "a match filter needs a pattern (a regular expression) or contains (a substring)")
			case f.Pattern != "" && f.Contains != "":
				p.add(key, "a match filter takes a pattern or contains, not both")
			case f.Pattern != "":
				if _, err := regexp.Compile(f.Pattern); err != nil {
					p.add(key+".pattern", "%v", err)
				}
			}
		}
	}
	for i := range c.Outputs {
		o := &c.Outputs[i]
		key := fmt.Sprintf("outputs[%d]", i)
		c.checkStage(p, key, &o.Stage, []string{"stdout", "file"})
		noResume(p, key, &o.Stage)
		if o.IsPlugin() {
			if o.Path != "" {
				p.add(key+".path", `a plugin output writes where "to" says ("file:PATH")`)
			}
			if o.Format != "" {
				p.add(key+".format", "a plugin output renders its own records")
			}
			if _, _, err := parseTo(o.To); err != nil {
				p.add(key+".to", "%v", err)
			}
			continue
		}
		if o.To != "" {
			p.add(key+".to", "to is for plugin outputs")
		}
		switch o.Format {
		case "", "text", "json":
		default:
			p.add(key+".format", "unknown format %q (text or json)", o.Format)
		}
		switch o.Type {
		case "file":
			if o.Path == "" {
				p.add(key+".path", "a file output needs a path")
			}
		case "stdout":
			if o.Path != "" {
				p.add(key+".path", "a stdout output has no path")
			}
			if o.Append {
				p.add(key+".append", "append is for files")
			}
		}
	}
}

// noResume refuses resume on a stage that is not a source: a plugin
// parser, filter or output is restarted after a fault without it.
func noResume(p *problems, key string, s *Stage) {
	if s.Resume {
		p.add(key+".resume", "resume is for plugin sources (a plugin parser, filter or output is restarted after a fault without it: see on_error)")
	}
}

// checkStage checks the keys common to every stage: a built-in type or a
// plugin and name.
func (c *Config) checkStage(p *problems, key string, s *Stage, builtin []string) {
	switch {
	case s.Plugin != "" && s.Type != "":
		p.add(key+".type", "a stage is a built-in type or a plugin component, not both")
	case s.Plugin != "":
		if s.Name == "" {
			p.add(key+".name", "a plugin stage needs the name of the plugin's log component")
		}
	case s.Type == "":
		if s.Name != "" {
			p.add(key+".plugin", "name %q needs the plugin it belongs to", s.Name)
		} else {
			p.add(key, "a stage needs a type (%s) or a plugin and name", strings.Join(builtin, ", "))
		}
	default:
		known := false
		for _, b := range builtin {
			known = known || s.Type == b
		}
		if !known {
			p.add(key+".type", "unknown type %q (built-in: %s; or a plugin and name)", s.Type, strings.Join(builtin, ", "))
		}
		if s.Name != "" {
			p.add(key+".name", "name is for plugin stages")
		}
		if len(s.Config) > 0 {
			p.add(key+".config", "config is for plugin stages (built-in types take their options as keys of the table)")
		}
	}
	if s.Parallel < 0 || s.Parallel > MaxParallel {
		p.add(key+".parallel", "must be between 1 and %d", MaxParallel)
	}
	switch s.OnError {
	case "", "stop", "skip":
		if s.OnError != "" && s.Plugin == "" {
			p.add(key+".on_error", "on_error is for plugin stages (a built-in stage that fails stops the pipeline)")
		}
	default:
		p.add(key+".on_error", "unknown value %q (stop or skip)", s.OnError)
	}
	if s.Stateless && s.Plugin == "" {
		p.add(key+".stateless", "stateless is for plugin stages")
	}
	switch {
	case s.RecycleAfter < 0 || s.RecycleAfter > MaxRecycleAfter:
		p.add(key+".recycle_after", "must be between 1 and %d", MaxRecycleAfter)
	case s.RecycleAfter != 0 && !s.Stateless:
		p.add(key+".recycle_after", "only a stateless stage is recycled (stateless = true)")
	}
}

// parseTo parses the "to" of a plugin output: stdout, stderr or file:PATH.
func parseTo(to string) (kind, path string, err error) {
	switch {
	case to == "" || to == "stdout":
		return "stdout", "", nil
	case to == "stderr":
		return "stderr", "", nil
	case strings.HasPrefix(to, "file:"):
		if to == "file:" {
			return "", "", errors.New(`"file:" needs a path`)
		}
		return "file", to[len("file:"):], nil
	}
	return "", "", fmt.Errorf(`unknown destination %q (stdout, stderr or file:PATH)`, to)
}

// PluginStage is a stage of the pipeline that a plugin provides.
type PluginStage struct {
	Key    string // "filters[1]"
	Kind   string // "source", "parser", "filter" or "output"
	Plugin string
	Name   string
	Config string // JSON
}

// PluginStages lists the stages that plugins provide, in pipeline order.
func (c *Config) PluginStages() []PluginStage {
	var out []PluginStage
	add := func(key, kind string, s *Stage) {
		if s.IsPlugin() {
			out = append(out, PluginStage{Key: key, Kind: kind, Plugin: s.Plugin, Name: s.Name, Config: s.ConfigJSON()})
		}
	}
	for i := range c.Sources {
		add(fmt.Sprintf("sources[%d]", i), "source", &c.Sources[i].Stage)
	}
	if c.Parser != nil {
		add("parser", "parser", &c.Parser.Stage)
	}
	for i := range c.Filters {
		add(fmt.Sprintf("filters[%d]", i), "filter", &c.Filters[i].Stage)
	}
	for i := range c.Outputs {
		add(fmt.Sprintf("outputs[%d]", i), "output", &c.Outputs[i].Stage)
	}
	return out
}

// Plugins returns the names of the plugins the pipeline uses, sorted.
func (c *Config) Plugins() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range c.PluginStages() {
		if !seen[s.Plugin] {
			seen[s.Plugin] = true
			out = append(out, s.Plugin)
		}
	}
	sort.Strings(out)
	return out
}

// WritesStdout reports whether an output writes to standard output.
func (c *Config) WritesStdout() bool {
	for _, o := range c.Outputs {
		if o.IsPlugin() {
			if k, _, _ := parseTo(o.To); k == "stdout" {
				return true
			}
		} else if o.Type == "stdout" {
			return true
		}
	}
	return false
}

// Check checks the plugin stages against h: each plugin is loaded, has a
// log component of that name, and it is of the stage's kind. (Configs are
// checked against the components' schemas when the stages open.)
func (c *Config) Check(h *host.Host) error {
	p := &problems{c: c}
	for _, s := range c.PluginStages() {
		pl, err := h.Plugin(s.Plugin)
		if err != nil {
			p.add(s.Key+".plugin", "%v", err)
			continue
		}
		def, err := pl.LogComponent(s.Name)
		if err != nil {
			p.add(s.Key+".name", "%v", err)
			continue
		}
		if def.Kind.String() != s.Kind {
			p.add(s.Key+".name", "log component %q of plugin %s is %s, not %s", s.Name, s.Plugin, withArticle(def.Kind.String()), withArticle(s.Kind))
		}
	}
	return p.err()
}

func withArticle(kind string) string {
	if strings.HasPrefix(kind, "o") {
		return "an " + kind
	}
	return "a " + kind
}

// keyLines maps the keys of a TOML document to the lines they are on:
// "parser", "parser.type", "filters[1]", "filters[1].config.level", ... It
// understands the usual layout (table headers, key = value, dotted keys);
// a key it misses just has no line in messages.
func keyLines(doc string) map[string]int {
	lines := map[string]int{}
	counts := map[string]int{}
	table := ""
	for n, raw := range strings.Split(doc, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[[") {
			end := strings.Index(line, "]]")
			if end < 0 {
				continue
			}
			name := normKey(line[2:end])
			table = fmt.Sprintf("%s[%d]", name, counts[name])
			counts[name]++
			lines[table] = n + 1
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				continue
			}
			name := normKey(line[1:end])
			// [filters.config] is in the last [[filters]].
			if i := strings.IndexByte(name, '.'); i > 0 && counts[name[:i]] > 0 {
				name = fmt.Sprintf("%s[%d]%s", name[:i], counts[name[:i]]-1, name[i:])
			}
			table = name
			lines[table] = n + 1
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			continue
		}
		key := normKey(line[:eq])
		if table != "" {
			key = table + "." + key
		}
		if _, ok := lines[key]; !ok {
			lines[key] = n + 1
		}
	}
	return lines
}

// normKey normalises a TOML key as written: spaces and quotes removed.
func normKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}
