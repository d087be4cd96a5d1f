package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/driftless-dev/driftless/internal/boundeddecode"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/pluginstate"
)

// Defaults of the [security] section of plugins.toml.
const (
	DefaultMaxMemory           = 64 << 20 // bytes
	DefaultFuelLimit           = 1_000_000_000
	DefaultExecutionTimeout    = 30 * time.Second
	DefaultMaxPluginSize       = 50 << 20 // bytes
	DefaultMaxInstances        = 8
	DefaultMaxCallsPerInstance = 10_000
	DefaultMaxLogMessage       = 4 << 10 // bytes kept of one log message
	DefaultLogRate             = 100     // messages per second a plugin may log, with bursts of 10x
	DefaultRegistryTimeout     = 30 * time.Second

	// MinExecutionTimeout is the shortest execution_timeout_secs: running
	// calls check their deadline at every epoch tick (10ms by default), so
	// a shorter timeout could not be enforced as written, and one that
	// rounds to zero would mean no timeout at all.
	MinExecutionTimeout = 10 * time.Millisecond
	// MaxExecutionTimeout is the longest execution_timeout_secs: a day.
	MaxExecutionTimeout = 24 * time.Hour
	// MaxLogRate is the largest log_rate (its burst, ten times it, must
	// not overflow).
	MaxLogRate = 1_000_000
	// MaxCallsPerInstanceLimit is the largest max_calls_per_instance.
	MaxCallsPerInstanceLimit = 1 << 31

	// maxWasmMemory is the most a 32-bit linear memory can hold.
	maxWasmMemory = 4 << 30

	// The most the state limits may be raised to: a key is bounded by the
	// host's key handling, a value by what one call of a plugin should
	// move, the total by what one SQLite namespace should hold.
	maxStateKeySize   = 64 << 10
	maxStateValueSize = 16 << 20
	maxStateBytes     = 64 << 30
	maxStateKeys      = 100_000_000
)

// Config is the content of plugins.toml. The zero Config means "all
// defaults".
type Config struct {
	// Security holds the limits every plugin runs under.
	Security Security `toml:"security"`
	// Plugins overrides Security (and grants WASI access) per plugin name.
	Plugins map[string]PluginConfig `toml:"plugins"`
	// Registries are where `driftless plugins install`, `search`,
	// `update` and `publish` find plugins (package registry); the host
	// itself does not use them.
	Registries []Registry `toml:"registries"`
	// Templates bounds template rendering (package templating reads it;
	// the host renders no templates).
	Templates Templates `toml:"templates"`

	// Path is the file the configuration was read from; "" for defaults.
	Path string `toml:"-"`
}

// Security is the [security] section: limits that apply to every plugin.
// Unset fields take the defaults.
type Security struct {
	MaxMemory            *int64   `toml:"max_memory"`
	FuelLimit            *int64   `toml:"fuel_limit"`
	ExecutionTimeoutSecs *float64 `toml:"execution_timeout_secs"`
	AllowWASI            *bool    `toml:"allow_wasi"`
	DebugEnabled         *bool    `toml:"debug_enabled"`
	MaxPluginSize        *int64   `toml:"max_plugin_size"`
	MaxInstances         *int64   `toml:"max_instances"`
	MaxCallsPerInstance  *int64   `toml:"max_calls_per_instance"`
	LogRate              *int64   `toml:"log_rate"`
	MaxStateKeySize      *int64   `toml:"max_state_key_size"`
	MaxStateValueSize    *int64   `toml:"max_state_value_size"`
	MaxStateBytes        *int64   `toml:"max_state_bytes"`
	MaxStateKeys         *int64   `toml:"max_state_keys"`
}

// PluginConfig is a [plugins.NAME] section: the Security keys for one
// plugin, and what its WASI context may see when allow_wasi is true.
type PluginConfig struct {
	Security
	// Env is the environment the plugin sees (only with allow_wasi).
	Env map[string]string `toml:"env"`
	// Dirs are host directories the plugin may open (only with allow_wasi).
	Dirs []DirConfig `toml:"dirs"`
	// Extensions is the config of the plugin's template extensions, by
	// extension name ([plugins.NAME.extensions.EXT]): templates call the
	// extension with it (as JSON), checked against its config-schema when
	// the plugin loads. Extensions without one get {}.
	Extensions map[string]map[string]any `toml:"extensions"`
}

// Templates is the [templates] section: the limits of one template
// render (templating.Limits). Unset fields take templating's defaults.
type Templates struct {
	MaxDepth    *int64   `toml:"max_depth"`    // nesting of blocks, expressions, macro calls, includes
	MaxOutput   *int64   `toml:"max_output"`   // bytes of the output and of any string built
	TimeoutSecs *float64 `toml:"timeout_secs"` // wall time of one render
}

// Bounds of the [templates] keys.
const (
	MaxTemplateDepth  = 10_000
	MaxTemplateOutput = 1 << 30
)

func (t *Templates) validate(file string) error {
	key := func(k string) string { return "templates." + k }
	if d := t.MaxDepth; d != nil && (*d < 1 || *d > MaxTemplateDepth) {
		return &ConfigError{File: file, Key: key("max_depth"), Err: fmt.Errorf("%d is out of range: between 1 and %d", *d, MaxTemplateDepth)}
	}
	if o := t.MaxOutput; o != nil && (*o < 1 || *o > MaxTemplateOutput) {
		return &ConfigError{File: file, Key: key("max_output"), Err: fmt.Errorf("%d is out of range: between 1 and %d bytes", *o, MaxTemplateOutput)}
	}
	if s := t.TimeoutSecs; s != nil && (math.IsNaN(*s) || *s < 0.001 || *s > MaxExecutionTimeout.Seconds()) {
		return &ConfigError{File: file, Key: key("timeout_secs"), Err: fmt.Errorf("%v is out of range: between 0.001 and 86400", *s)}
	}
	return nil
}

// DirConfig grants a plugin access to a host directory.
type DirConfig struct {
	Host     string `toml:"host"`
	Guest    string `toml:"guest"`
	ReadOnly bool   `toml:"readonly"`
}

// Registry is a [[registries]] entry.
type Registry struct {
	// Name is how commands refer to it (REGISTRY/NAME[@VERSION]).
	Name string `toml:"name"`
	// URL is oci://HOST[:PORT]/NAMESPACE (an OCI registry), file:///DIR
	// or https://HOST/PATH (a static index), or http:// with Insecure.
	URL string `toml:"url"`
	// Enabled registries are searched; install and update use only them.
	Enabled bool `toml:"enabled"`
	// Insecure allows plain HTTP; TLS is always verified otherwise.
	Insecure bool `toml:"insecure"`
	// PublicKey, if set, is a PEM public key file (absolute once loaded:
	// a relative path is taken from plugins.toml's directory); every plugin
	// installed from the registry must carry a valid signature by it.
	PublicKey string `toml:"public_key"`
	// TimeoutSecs is how long the registry may stay silent (connecting,
	// answering, between two chunks of a download); unset means 30.
	TimeoutSecs *float64 `toml:"timeout_secs"`
}

// Timeout returns how long the registry may stay silent.
func (r Registry) Timeout() time.Duration {
	if r.TimeoutSecs == nil {
		return DefaultRegistryTimeout
	}
	return time.Duration(*r.TimeoutSecs * float64(time.Second))
}

// Registry returns the [[registries]] entry named name.
func (c *Config) Registry(name string) (Registry, bool) {
	for _, r := range c.Registries {
		if r.Name == name {
			return r, true
		}
	}
	return Registry{}, false
}

// Limits are the limits one plugin runs under: the defaults, overridden by
// plugins.toml's [security], overridden by its [plugins.NAME]
// (Config.LimitsFor); or given in Go for one load (LoadOptions.Limits, whose
// zero fields take the defaults).
type Limits struct {
	MaxMemory        int64         // bytes one linear memory may grow to
	FuelLimit        uint64        // fuel each call starts with
	ExecutionTimeout time.Duration // wall time each call may take
	// TimeoutRaisedFrom is the configured execution timeout when the host
	// raised it to its epoch tick (Options.EpochTick longer than the
	// timeout: deadlines are only checked at each tick); else 0.
	TimeoutRaisedFrom   time.Duration
	AllowWASI           bool  // whether Env and Dirs are granted
	DebugEnabled        bool  // whether debug and trace logs are shown
	MaxPluginSize       int64 // bytes of the plugin file
	MaxInstances        int   // instances of the plugin alive at once
	MaxCallsPerInstance int   // calls before an instance is recycled
	LogRate             int   // log messages per second (bursts of 10x)
	MaxStateKeySize     int   // bytes of one key of the plugin's state
	MaxStateValueSize   int   // bytes of one value of the plugin's state
	MaxStateBytes       int64 // bytes of all the plugin's state keys and values
	MaxStateKeys        int64 // keys of the plugin's state
	Env                 map[string]string
	Dirs                []DirConfig
}

// DefaultLimits returns the limits of a plugin without any configuration.
func DefaultLimits() Limits {
	return Limits{
		MaxMemory:           DefaultMaxMemory,
		FuelLimit:           DefaultFuelLimit,
		ExecutionTimeout:    DefaultExecutionTimeout,
		MaxPluginSize:       DefaultMaxPluginSize,
		MaxInstances:        DefaultMaxInstances,
		MaxCallsPerInstance: DefaultMaxCallsPerInstance,
		LogRate:             DefaultLogRate,
		MaxStateKeySize:     pluginstate.DefaultMaxKeySize,
		MaxStateValueSize:   pluginstate.DefaultMaxValueSize,
		MaxStateBytes:       pluginstate.DefaultMaxBytes,
		MaxStateKeys:        pluginstate.DefaultMaxKeys,
	}
}

// StateLimits returns the limits of the plugin's state.
func (l Limits) StateLimits() pluginstate.Limits {
	return pluginstate.Limits{MaxKeySize: l.MaxStateKeySize, MaxValueSize: l.MaxStateValueSize,
		MaxBytes: l.MaxStateBytes, MaxKeys: l.MaxStateKeys}
}

// MaxConfigFileSize bounds plugins.toml (and every TOML or JSON file the
// CLI reads): a larger file is refused before it is read. Its nesting is
// bounded too (boundeddecode.MaxDepth, 32 levels), before it is decoded.
const MaxConfigFileSize = boundeddecode.MaxSize

// LoadConfig reads plugins.toml at path. A missing file gives the defaults.
// Unknown keys, values of the wrong type and impossible values are errors
// naming the file and the key; so are a file that is not a regular file
// (a FIFO, a device: refused without blocking) and one over
// MaxConfigFileSize.
func LoadConfig(path string) (*Config, error) {
	data, err := safefile.ReadFile(path, MaxConfigFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, &ConfigError{File: path, Err: errors.New(safefile.Reason(err))}
	}
	return ParseConfig(path, data)
}

// ParseConfig parses the content of a plugins.toml; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	md, err := boundeddecode.TOML(name, data, &c)
	if be, ok := err.(*boundeddecode.Error); ok {
		return nil, &ConfigError{File: name, Err: errors.New(be.Reason())}
	}
	if err != nil {
		return nil, decodeError(name, err)
	}
	if err := checkTables(name, md); err != nil {
		return nil, err
	}
	if err := unknownKeys(name, md.Undecoded()); err != nil {
		return nil, err
	}
	c.Path = name
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// typeErrorRE matches the TOML decoder's errors about values of the wrong
// type, which it returns as plain text.
var typeErrorRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

var (
	incompatibleRE = regexp.MustCompile(`^incompatible types: TOML value has type (\w+); destination has type (\w+)$`)
	notTableRE     = regexp.MustCompile(`^type mismatch for [\w.*\[\]]+: expected table but found (\w+)$`)
)

// decodeError turns an error of the TOML decoder into a ConfigError that
// names the key, when the decoder says which.
func decodeError(file string, err error) *ConfigError {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &ConfigError{File: file, Err: fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)}
	}
	m := typeErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &ConfigError{File: file, Err: err}
	}
	msg := m[3]
	if t := incompatibleRE.FindStringSubmatch(msg); t != nil {
		msg = fmt.Sprintf("must be %s, not %s", tomlTypeName(t[2]), tomlTypeName(t[1]))
	} else if t := notTableRE.FindStringSubmatch(msg); t != nil {
		msg = fmt.Sprintf("must be a table, not %s", tomlTypeName(t[1]))
	}
	return &ConfigError{File: file, Key: m[2], Err: fmt.Errorf("line %s: %s", m[1], msg)}
}

// tomlTypeName names a type of the decoder's messages (Go or TOML kinds)
// the way plugins.toml's documentation does.
func tomlTypeName(t string) string {
	switch t {
	case "int64", "integer", "Integer":
		return "an integer"
	case "float64", "float", "Float":
		return "a number"
	case "string", "String":
		return "a string"
	case "bool", "boolean", "Bool":
		return "a boolean"
	case "slice", "Array", "ArrayHash":
		return "an array"
	case "map", "struct", "Hash":
		return "a table"
	case "Datetime":
		return "a date-time"
	}
	return t
}

// checkTables finds values given where plugins.toml expects a table of
// names, which the TOML decoder ignores instead of refusing.
func checkTables(file string, md toml.MetaData) error {
	for _, k := range md.Keys() {
		isMap := (len(k) == 1 && k[0] == "plugins") || (len(k) == 3 && k[0] == "plugins" && k[2] == "env")
		if t := md.Type(k...); isMap && t != "Hash" {
			return &ConfigError{File: file, Key: k.String(), Err: fmt.Errorf("must be a table, not %s", tomlTypeName(t))}
		}
	}
	return nil
}

// unknownKeys reports the keys plugins.toml does not know, each section
// listing its own known keys.
func unknownKeys(file string, und []toml.Key) error {
	if len(und) == 0 {
		return nil
	}
	// Keys inside an unknown table are not worth naming separately.
	var keys []toml.Key
	for _, k := range und {
		inner := false
		for _, o := range und {
			if len(o) < len(k) && slices.Equal(o, k[:len(o)]) {
				inner = true
			}
		}
		if !inner {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	k := keys[0]
	var where string
	var known []string
	switch {
	case len(k) == 1:
		where, known = "the top level", []string{"[security]", "[plugins.NAME]", "[[registries]]", "[templates]"}
	case k[0] == "security":
		where, known = "[security]", securityKeys()
	case k[0] == "plugins" && len(k) == 3:
		where, known = "[plugins."+k[1]+"]", append(securityKeys(), "env", "dirs", "extensions")
	case k[0] == "plugins" && len(k) == 4 && k[2] == "dirs":
		where, known = "an entry of plugins."+k[1]+".dirs", []string{"host", "guest", "readonly"}
	case k[0] == "templates":
		where, known = "[templates]", []string{"max_depth", "max_output", "timeout_secs"}
	case k[0] == "registries":
		where, known = "[[registries]]", []string{"name", "url", "enabled", "insecure", "public_key", "timeout_secs"}
	}
	msg := "unknown key"
	if where != "" {
		msg += fmt.Sprintf(" (%s has: %s)", where, strings.Join(known, ", "))
	}
	if len(keys) > 1 {
		others := make([]string, len(keys)-1)
		for i, o := range keys[1:] {
			others[i] = o.String()
		}
		msg += "; also unknown: " + strings.Join(others, ", ")
	}
	return &ConfigError{File: file, Key: k.String(), Err: errors.New(msg)}
}

func securityKeys() []string {
	return []string{"max_memory", "fuel_limit", "execution_timeout_secs", "allow_wasi", "debug_enabled",
		"max_plugin_size", "max_instances", "max_calls_per_instance", "log_rate",
		"max_state_key_size", "max_state_value_size", "max_state_bytes", "max_state_keys"}
}

func (c *Config) validate() error {
	if err := c.Security.validate(c.Path, "security"); err != nil {
		return err
	}
	if err := c.Templates.validate(c.Path); err != nil {
		return err
	}
	for _, name := range sortedNames(c.Plugins) {
		p := c.Plugins[name]
		section := "plugins." + name
		if err := checkName(name); err != nil {
			return &ConfigError{File: c.Path, Key: "plugins." + strconv.Quote(name),
				Err: errors.New("is not a valid plugin name: plugin names have letters, digits, '-' and '_'")}
		}
		if err := p.Security.validate(c.Path, section); err != nil {
			return err
		}
		wasi := c.LimitsFor(name).AllowWASI
		if !wasi && len(p.Env) > 0 {
			return &ConfigError{File: c.Path, Key: section + ".env", Err: errors.New("env is only given to plugins with allow_wasi = true")}
		}
		if !wasi && len(p.Dirs) > 0 {
			return &ConfigError{File: c.Path, Key: section + ".dirs", Err: errors.New("dirs are only given to plugins with allow_wasi = true")}
		}
		for _, ext := range sortedNames(p.Extensions) {
			if _, err := json.Marshal(p.Extensions[ext]); err != nil {
				return &ConfigError{File: c.Path, Key: section + ".extensions." + ext,
					Err: fmt.Errorf("cannot be given to the extension as JSON: %v", err)}
			}
		}
		for i, d := range p.Dirs {
			key := fmt.Sprintf("%s.dirs[%d]", section, i)
			if d.Host == "" || d.Guest == "" {
				return &ConfigError{File: c.Path, Key: key, Err: errors.New("needs both host and guest paths")}
			}
			if !filepath.IsAbs(d.Host) {
				return &ConfigError{File: c.Path, Key: key + ".host", Err: fmt.Errorf("%q is not an absolute path", d.Host)}
			}
			if st, err := os.Stat(d.Host); err != nil || !st.IsDir() {
				return &ConfigError{File: c.Path, Key: key + ".host", Err: fmt.Errorf("%q is not a directory", d.Host)}
			}
		}
	}
	seen := map[string]bool{}
	for i := range c.Registries {
		r := &c.Registries[i]
		key := fmt.Sprintf("registries[%d]", i)
		if r.Name == "" {
			return &ConfigError{File: c.Path, Key: key + ".name", Err: errors.New("is empty")}
		}
		if checkName(r.Name) != nil {
			return &ConfigError{File: c.Path, Key: key + ".name", Err: fmt.Errorf("%q is not a valid registry name: letters, digits, '-' and '_'", r.Name)}
		}
		if seen[r.Name] {
			return &ConfigError{File: c.Path, Key: key + ".name", Err: fmt.Errorf("%q names two registries", r.Name)}
		}
		seen[r.Name] = true
		switch {
		case strings.HasPrefix(r.URL, "oci://"), strings.HasPrefix(r.URL, "https://"), strings.HasPrefix(r.URL, "file:///"):
		case strings.HasPrefix(r.URL, "http://"):
			if !r.Insecure {
				return &ConfigError{File: c.Path, Key: key + ".url", Err: fmt.Errorf("%q is plain HTTP: set insecure = true to allow it", r.URL)}
			}
		default:
			return &ConfigError{File: c.Path, Key: key + ".url", Err: fmt.Errorf("%q is not an oci://, https://, http:// or file:/// URL", r.URL)}
		}
		if r.TimeoutSecs != nil && (math.IsNaN(*r.TimeoutSecs) || *r.TimeoutSecs < 0.01 || *r.TimeoutSecs > 3600) {
			return &ConfigError{File: c.Path, Key: key + ".timeout_secs", Err: fmt.Errorf("%v is out of range: between 0.01 and 3600", *r.TimeoutSecs)}
		}
		if r.PublicKey != "" {
			if !filepath.IsAbs(r.PublicKey) && c.Path != "" {
				r.PublicKey = filepath.Join(filepath.Dir(c.Path), r.PublicKey)
			}
			if st, err := os.Stat(r.PublicKey); err != nil || !st.Mode().IsRegular() {
				return &ConfigError{File: c.Path, Key: key + ".public_key", Err: fmt.Errorf("%q is not a readable file", r.PublicKey)}
			}
		}
	}
	return nil
}

func (s *Security) validate(file, section string) error {
	key := func(k string) string { return section + "." + k }
	if s.MaxMemory != nil && (*s.MaxMemory < 64<<10 || *s.MaxMemory > maxWasmMemory) {
		return &ConfigError{File: file, Key: key("max_memory"), Err: fmt.Errorf("%d is out of range: between 65536 (one wasm page) and %d bytes", *s.MaxMemory, int64(maxWasmMemory))}
	}
	if s.FuelLimit != nil && *s.FuelLimit <= 0 {
		return &ConfigError{File: file, Key: key("fuel_limit"), Err: fmt.Errorf("%d must be positive", *s.FuelLimit)}
	}
	if t := s.ExecutionTimeoutSecs; t != nil && (math.IsNaN(*t) || *t <= 0 || *t > MaxExecutionTimeout.Seconds()) {
		return &ConfigError{File: file, Key: key("execution_timeout_secs"), Err: fmt.Errorf("%v is out of range: more than 0 and at most 86400", *t)}
	}
	if t := s.ExecutionTimeoutSecs; t != nil && *t < MinExecutionTimeout.Seconds() {
		return &ConfigError{File: file, Key: key("execution_timeout_secs"), Err: fmt.Errorf(
			"%v is below the minimum of %v seconds (running calls check their deadline every %s)", *t, MinExecutionTimeout.Seconds(), MinExecutionTimeout)}
	}
	if s.MaxPluginSize != nil && (*s.MaxPluginSize <= 0 || *s.MaxPluginSize > 1<<30) {
		return &ConfigError{File: file, Key: key("max_plugin_size"), Err: fmt.Errorf("%d is out of range: between 1 and %d bytes", *s.MaxPluginSize, 1<<30)}
	}
	if s.MaxInstances != nil && (*s.MaxInstances < 1 || *s.MaxInstances > 1024) {
		return &ConfigError{File: file, Key: key("max_instances"), Err: fmt.Errorf("%d is out of range: between 1 and 1024", *s.MaxInstances)}
	}
	if s.MaxCallsPerInstance != nil && (*s.MaxCallsPerInstance < 1 || *s.MaxCallsPerInstance > MaxCallsPerInstanceLimit) {
		return &ConfigError{File: file, Key: key("max_calls_per_instance"), Err: fmt.Errorf("%d is out of range: between 1 and %d", *s.MaxCallsPerInstance, MaxCallsPerInstanceLimit)}
	}
	if s.LogRate != nil && (*s.LogRate < 1 || *s.LogRate > MaxLogRate) {
		return &ConfigError{File: file, Key: key("log_rate"), Err: fmt.Errorf("%d is out of range: between 1 and %d messages per second", *s.LogRate, MaxLogRate)}
	}
	for _, r := range []struct {
		name     string
		v        *int64
		min, max int64
	}{
		{"max_state_key_size", s.MaxStateKeySize, 1, maxStateKeySize},
		{"max_state_value_size", s.MaxStateValueSize, 0, maxStateValueSize},
		{"max_state_bytes", s.MaxStateBytes, 0, maxStateBytes},
		{"max_state_keys", s.MaxStateKeys, 0, maxStateKeys},
	} {
		if r.v != nil && (*r.v < r.min || *r.v > r.max) {
			return &ConfigError{File: file, Key: key(r.name), Err: fmt.Errorf("%d is out of range: between %d and %d", *r.v, r.min, r.max)}
		}
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LimitsFor returns the effective limits of the named plugin.
func (c *Config) LimitsFor(plugin string) Limits {
	l := DefaultLimits()
	c.Security.apply(&l)
	if p, ok := c.Plugins[plugin]; ok {
		p.Security.apply(&l)
		if l.AllowWASI {
			l.Env = p.Env
			l.Dirs = p.Dirs
		}
	}
	return l
}

// resolve returns l with its zero fields set to the defaults, after
// checking its values against the bounds plugins.toml has; what names l in
// errors ("LoadOptions.Limits").
func (l Limits) resolve(what string) (Limits, error) {
	d := DefaultLimits()
	fail := func(field, format string, args ...any) (Limits, error) {
		return Limits{}, fmt.Errorf("%s.%s: %s", what, field, fmt.Sprintf(format, args...))
	}
	switch {
	case l.MaxMemory == 0:
		l.MaxMemory = d.MaxMemory
	case l.MaxMemory < 64<<10 || l.MaxMemory > maxWasmMemory:
		return fail("MaxMemory", "%d is out of range: between 65536 (one wasm page) and %d bytes (0 for the default)", l.MaxMemory, int64(maxWasmMemory))
	}
	if l.FuelLimit == 0 {
		l.FuelLimit = d.FuelLimit
	}
	switch {
	case l.ExecutionTimeout == 0:
		l.ExecutionTimeout = d.ExecutionTimeout
	case l.ExecutionTimeout < MinExecutionTimeout || l.ExecutionTimeout > MaxExecutionTimeout:
		return fail("ExecutionTimeout", "%s is out of range: between %s and %s (0 for the default; running calls check their deadline every %s)",
			l.ExecutionTimeout, MinExecutionTimeout, MaxExecutionTimeout, MinExecutionTimeout)
	}
	switch {
	case l.MaxPluginSize == 0:
		l.MaxPluginSize = d.MaxPluginSize
	case l.MaxPluginSize < 0 || l.MaxPluginSize > 1<<30:
		return fail("MaxPluginSize", "%d is out of range: between 1 and %d bytes (0 for the default)", l.MaxPluginSize, 1<<30)
	}
	switch {
	case l.MaxInstances == 0:
		l.MaxInstances = d.MaxInstances
	case l.MaxInstances < 0 || l.MaxInstances > 1024:
		return fail("MaxInstances", "%d is out of range: between 1 and 1024 (0 for the default)", l.MaxInstances)
	}
	switch {
	case l.MaxCallsPerInstance == 0:
		l.MaxCallsPerInstance = d.MaxCallsPerInstance
	case l.MaxCallsPerInstance < 0 || l.MaxCallsPerInstance > MaxCallsPerInstanceLimit:
		return fail("MaxCallsPerInstance", "%d is out of range: between 1 and %d (0 for the default)", l.MaxCallsPerInstance, MaxCallsPerInstanceLimit)
	}
	switch {
	case l.LogRate == 0:
		l.LogRate = d.LogRate
	case l.LogRate < 0 || l.LogRate > MaxLogRate:
		return fail("LogRate", "%d is out of range: between 1 and %d messages per second (0 for the default)", l.LogRate, MaxLogRate)
	}
	// The state limits: 0 is the default here (plugins.toml can say 0).
	stateLimit := func(name string, v, def, max int64) (int64, error) {
		switch {
		case v == 0:
			return def, nil
		case v < 0 || v > max:
			return 0, fmt.Errorf("%s.%s: %d is out of range: between 1 and %d (0 for the default)", what, name, v, max)
		}
		return v, nil
	}
	keySize, err := stateLimit("MaxStateKeySize", int64(l.MaxStateKeySize), int64(d.MaxStateKeySize), maxStateKeySize)
	if err != nil {
		return Limits{}, err
	}
	valueSize, err := stateLimit("MaxStateValueSize", int64(l.MaxStateValueSize), int64(d.MaxStateValueSize), maxStateValueSize)
	if err != nil {
		return Limits{}, err
	}
	l.MaxStateKeySize, l.MaxStateValueSize = int(keySize), int(valueSize)
	if l.MaxStateBytes, err = stateLimit("MaxStateBytes", l.MaxStateBytes, d.MaxStateBytes, maxStateBytes); err != nil {
		return Limits{}, err
	}
	if l.MaxStateKeys, err = stateLimit("MaxStateKeys", l.MaxStateKeys, d.MaxStateKeys, maxStateKeys); err != nil {
		return Limits{}, err
	}
	if !l.AllowWASI && len(l.Env) > 0 {
		return fail("Env", "is only given to plugins with AllowWASI")
	}
	if !l.AllowWASI && len(l.Dirs) > 0 {
		return fail("Dirs", "are only given to plugins with AllowWASI")
	}
	for i, dir := range l.Dirs {
		if err := dir.check(); err != nil {
			return fail(fmt.Sprintf("Dirs[%d]", i), "%v", err)
		}
	}
	// The caller keeps its map and slice; the plugin's must not change.
	l.Env, l.Dirs = maps.Clone(l.Env), slices.Clone(l.Dirs)
	return l, nil
}

// check reports what is wrong with a directory grant.
func (d DirConfig) check() error {
	switch {
	case d.Host == "" || d.Guest == "":
		return errors.New("needs both host and guest paths")
	case !filepath.IsAbs(d.Host):
		return fmt.Errorf("host %q is not an absolute path", d.Host)
	}
	if st, err := os.Stat(d.Host); err != nil || !st.IsDir() {
		return fmt.Errorf("host %q is not a directory", d.Host)
	}
	return nil
}

func (s *Security) apply(l *Limits) {
	if s.MaxMemory != nil {
		l.MaxMemory = *s.MaxMemory
	}
	if s.FuelLimit != nil {
		l.FuelLimit = uint64(*s.FuelLimit)
	}
	if s.ExecutionTimeoutSecs != nil {
		l.ExecutionTimeout = time.Duration(*s.ExecutionTimeoutSecs * float64(time.Second))
	}
	if s.AllowWASI != nil {
		l.AllowWASI = *s.AllowWASI
	}
	if s.DebugEnabled != nil {
		l.DebugEnabled = *s.DebugEnabled
	}
	if s.MaxPluginSize != nil {
		l.MaxPluginSize = *s.MaxPluginSize
	}
	if s.MaxInstances != nil {
		l.MaxInstances = int(*s.MaxInstances)
	}
	if s.MaxCallsPerInstance != nil {
		l.MaxCallsPerInstance = int(*s.MaxCallsPerInstance)
	}
	if s.LogRate != nil {
		l.LogRate = int(*s.LogRate)
	}
	if s.MaxStateKeySize != nil {
		l.MaxStateKeySize = int(*s.MaxStateKeySize)
	}
	if s.MaxStateValueSize != nil {
		l.MaxStateValueSize = int(*s.MaxStateValueSize)
	}
	if s.MaxStateBytes != nil {
		l.MaxStateBytes = *s.MaxStateBytes
	}
	if s.MaxStateKeys != nil {
		l.MaxStateKeys = *s.MaxStateKeys
	}
}

// ConfigError is an error in plugins.toml.
type ConfigError struct {
	File string // the file
	Key  string // the key at fault, e.g. "plugins.evil.max_memory"; may be ""
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("config %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("config %s: %s: %v", e.File, e.Key, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }
