package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestConfigErrors(t *testing.T) {
	const file = "/home/u/.driftless/plugins.toml"
	dir := t.TempDir()
	for _, c := range []struct{ toml, want string }{
		// Unknown keys, each section naming its own keys.
		{"bogus = 1\n", "bogus: unknown key (the top level has: [security], [plugins.NAME], [[registries]], [templates])"},
		{"[sandbox]\nmax_memory = 1\n", "sandbox: unknown key (the top level has: [security], [plugins.NAME], [[registries]], [templates])"},
		{"[security]\nmax_memroy = 1\n", "security.max_memroy: unknown key ([security] has: max_memory, fuel_limit, " +
			"execution_timeout_secs, allow_wasi, debug_enabled, max_plugin_size, max_instances, max_calls_per_instance, log_rate, " +
			"max_state_key_size, max_state_value_size, max_state_bytes, max_state_keys)"},
		{"[security]\nb = 1\na = 2\n", "security.a: unknown key ([security] has: max_memory, fuel_limit, " +
			"execution_timeout_secs, allow_wasi, debug_enabled, max_plugin_size, max_instances, max_calls_per_instance, log_rate, " +
			"max_state_key_size, max_state_value_size, max_state_bytes, max_state_keys); " +
			"also unknown: security.b"},
		{"[plugins.evil]\nfuel = 1\n", "plugins.evil.fuel: unknown key ([plugins.evil] has: max_memory, fuel_limit, " +
			"execution_timeout_secs, allow_wasi, debug_enabled, max_plugin_size, max_instances, max_calls_per_instance, log_rate, " +
			"max_state_key_size, max_state_value_size, max_state_bytes, max_state_keys, env, dirs, extensions)"},
		{"[plugins.x]\nallow_wasi = true\ndirs = [{host = '/tmp', guest = '/t', mode = 'rw'}]\n",
			"plugins.x.dirs.mode: unknown key (an entry of plugins.x.dirs has: host, guest, readonly)"},
		{"[[registries]]\nname = 'a'\nurl = 'https://r.example'\ntoken = 's'\n", "registries.token: unknown key ([[registries]] has: name, url, enabled, insecure, public_key, timeout_secs)"},
		{"[templates]\nmax_dept = 3\n", "templates.max_dept: unknown key ([templates] has: max_depth, max_output, timeout_secs)"},
		{"[templates]\nmax_depth = 0\n", "templates.max_depth: 0 is out of range: between 1 and 10000"},
		{"[templates]\nmax_output = 2147483648\n", "templates.max_output: 2147483648 is out of range: between 1 and 1073741824 bytes"},
		{"[templates]\ntimeout_secs = nan\n", "templates.timeout_secs: NaN is out of range: between 0.001 and 86400"},
		{"[templates]\ntimeout_secs = 1e-9\n", "templates.timeout_secs: 1e-09 is out of range: between 0.001 and 86400"},
		// Wrong types.
		{"[security]\nmax_memory = '64M'\n", "security.max_memory: line 2: must be an integer, not a string"},
		{"[security]\nmax_memory = 1.5e6\n", "security.max_memory: line 2: must be an integer, not a number"},
		{"[security]\nallow_wasi = 1\n", "security.allow_wasi: line 2: must be a boolean, not an integer"},
		{"[security]\nexecution_timeout_secs = '30'\n", "security.execution_timeout_secs: line 2: must be a number, not a string"},
		{"security = 'strict'\n", "security: line 1: must be a table, not a string"},
		{"plugins = 3\n", "plugins: must be a table, not an integer"},
		{"[plugins]\nx = 3\n", "plugins.x: line 2: must be a table, not an integer"},
		{"[plugins.x]\nallow_wasi = true\nenv = 3\n", "plugins.x.env: must be a table, not an integer"},
		{"[plugins.x]\nallow_wasi = true\nenv = {A = 1}\n", "plugins.x.env.A: line 3: must be a string, not an integer"},
		{"[plugins.x]\nallow_wasi = true\ndirs = 3\n", "plugins.x.dirs: line 3: must be an array, not an integer"},
		{"registries = 1\n", "registries: line 1: must be an array, not an integer"},
		// Impossible values.
		{"[security]\nmax_memory = 0\n", "security.max_memory: 0 is out of range: between 65536 (one wasm page) and 4294967296 bytes"},
		{"[security]\nmax_memory = 4294967297\n", "security.max_memory: 4294967297 is out of range: between 65536 (one wasm page) and 4294967296 bytes"},
		{"[plugins.x]\nmax_memory = 1000\n", "plugins.x.max_memory: 1000 is out of range: between 65536 (one wasm page) and 4294967296 bytes"},
		{"[security]\nfuel_limit = -1\n", "security.fuel_limit: -1 must be positive"},
		{"[security]\nfuel_limit = 0\n", "security.fuel_limit: 0 must be positive"},
		{"[security]\nexecution_timeout_secs = 0\n", "security.execution_timeout_secs: 0 is out of range: more than 0 and at most 86400"},
		{"[security]\nexecution_timeout_secs = -5\n", "security.execution_timeout_secs: -5 is out of range: more than 0 and at most 86400"},
		{"[security]\nexecution_timeout_secs = nan\n", "security.execution_timeout_secs: NaN is out of range: more than 0 and at most 86400"},
		{"[security]\nmax_plugin_size = 0\n", "security.max_plugin_size: 0 is out of range: between 1 and 1073741824 bytes"},
		{"[security]\nmax_instances = 0\n", "security.max_instances: 0 is out of range: between 1 and 1024"},
		{"[security]\nmax_calls_per_instance = 0\n", "security.max_calls_per_instance: 0 is out of range: between 1 and 2147483648"},
		{"[security]\nmax_calls_per_instance = 9223372036854775807\n", "security.max_calls_per_instance: 9223372036854775807 is out of range: between 1 and 2147483648"},
		{"[security]\nlog_rate = 0\n", "security.log_rate: 0 is out of range: between 1 and 1000000 messages per second"},
		// Its burst (ten times it) overflowed an int into a negative burst.
		{"[security]\nlog_rate = 1844674407370955162\n", "security.log_rate: 1844674407370955162 is out of range: between 1 and 1000000 messages per second"},
		// Timeouts that round to zero (no timeout at all) or fall between
		// two checks of the deadline; infinities.
		{"[security]\nexecution_timeout_secs = 1e-10\n", "security.execution_timeout_secs: 1e-10 is below the minimum of 0.01 seconds (running calls check their deadline every 10ms)"},
		{"[plugins.x]\nexecution_timeout_secs = 0.009\n", "plugins.x.execution_timeout_secs: 0.009 is below the minimum of 0.01 seconds (running calls check their deadline every 10ms)"},
		{"[security]\nexecution_timeout_secs = inf\n", "security.execution_timeout_secs: +Inf is out of range: more than 0 and at most 86400"},
		{"[security]\nexecution_timeout_secs = -inf\n", "security.execution_timeout_secs: -Inf is out of range: more than 0 and at most 86400"},
		{"[security]\nexecution_timeout_secs = 86400.5\n", "security.execution_timeout_secs: 86400.5 is out of range: more than 0 and at most 86400"},
		{"[security]\nmax_state_key_size = 0\n", "security.max_state_key_size: 0 is out of range: between 1 and 65536"},
		{"[security]\nmax_state_value_size = 16777217\n", "security.max_state_value_size: 16777217 is out of range: between 0 and 16777216"},
		{"[plugins.x]\nmax_state_bytes = -1\n", "plugins.x.max_state_bytes: -1 is out of range: between 0 and 68719476736"},
		{"[plugins.x]\nmax_state_keys = 100000001\n", "plugins.x.max_state_keys: 100000001 is out of range: between 0 and 100000000"},
		{"[plugins.\"my.plugin\"]\nfuel_limit = 5\n", `plugins."my.plugin": is not a valid plugin name: plugin names have letters, digits, '-' and '_'`},
		// WASI grants without allow_wasi, and bad grants.
		{"[plugins.x]\nenv = {A = 'b'}\n", "plugins.x.env: env is only given to plugins with allow_wasi = true"},
		{"[plugins.x]\nallow_wasi = false\ndirs = [{host = '/tmp', guest = '/t'}]\n", "plugins.x.dirs: dirs are only given to plugins with allow_wasi = true"},
		{"[security]\nallow_wasi = true\n[plugins.x]\nallow_wasi = false\nenv = {A = 'b'}\n", "plugins.x.env: env is only given to plugins with allow_wasi = true"},
		{"[plugins.x]\nallow_wasi = true\ndirs = [{host = 'rel', guest = '/t'}]\n", `plugins.x.dirs[0].host: "rel" is not an absolute path`},
		{"[plugins.x]\nallow_wasi = true\ndirs = [{host = '" + dir + "/none', guest = '/t'}]\n", `plugins.x.dirs[0].host: "` + dir + `/none" is not a directory`},
		{"[plugins.x]\nallow_wasi = true\ndirs = [{host = '" + dir + "'}]\n", "plugins.x.dirs[0]: needs both host and guest paths"},
		{"[[registries]]\nname = ''\nurl = 'https://r.example'\n", "registries[0].name: is empty"},
		{"[[registries]]\nname = 'a'\nurl = 'ftp://r.example'\n", `registries[0].url: "ftp://r.example" is not an oci://, https://, http:// or file:/// URL`},
		{"[[registries]]\nname = 'a'\nurl = 'http://r.example'\n", `registries[0].url: "http://r.example" is plain HTTP: set insecure = true to allow it`},
		{"[[registries]]\nname = 'a'\nurl = 'file://relative/dir'\n", `registries[0].url: "file://relative/dir" is not an oci://, https://, http:// or file:/// URL`},
		{"[[registries]]\nname = 'a/b'\nurl = 'oci://r.example/p'\n", `registries[0].name: "a/b" is not a valid registry name: letters, digits, '-' and '_'`},
		{"[[registries]]\nname = 'a'\nurl = 'oci://r.example/p'\n[[registries]]\nname = 'a'\nurl = 'oci://r.example/q'\n", `registries[1].name: "a" names two registries`},
		{"[[registries]]\nname = 'a'\nurl = 'oci://r.example/p'\ntimeout_secs = 0\n", `registries[0].timeout_secs: 0 is out of range: between 0.01 and 3600`},
		{"[[registries]]\nname = 'a'\nurl = 'oci://r.example/p'\npublic_key = '" + dir + "/none.pub'\n", `registries[0].public_key: "` + dir + `/none.pub" is not a readable file`},
		{"[[registries]]\nname = 'a'\nurl = 'oci://r.example/p'\npublic_key = '" + dir + "'\n", `registries[0].public_key: "` + dir + `" is not a readable file`},
		// Not TOML.
		{"[security\n", "line 2: expected '.' or ']' to end table name, but got '\\n' instead"},
	} {
		_, err := ParseConfig(file, []byte(c.toml))
		want := "config " + file + ": " + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got  %v\n want %s", c.toml, err, want)
			continue
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.File != file || KindOf(err) != KindInvalidConfig {
			t.Errorf("%q: %#v is not a ConfigError for the file", c.toml, err)
		}
		if key, _, _ := strings.Cut(c.want, ":"); !strings.HasPrefix(key, "line ") && ce.Key != key {
			t.Errorf("%q: ConfigError.Key = %q, want %q", c.toml, ce.Key, key)
		}
	}
}

func TestConfigDefaultsAndOverrides(t *testing.T) {
	// A missing file means the defaults.
	c, err := LoadConfig(filepath.Join(t.TempDir(), "plugins.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxMemory: 67108864, FuelLimit: 1000000000, ExecutionTimeout: 30 * time.Second,
		MaxPluginSize: 50 << 20, MaxInstances: 8, MaxCallsPerInstance: 10000, LogRate: 100,
		MaxStateKeySize: 1024, MaxStateValueSize: 1 << 20, MaxStateBytes: 64 << 20, MaxStateKeys: 100_000}
	if got := c.LimitsFor("any"); !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, DefaultLimits()) {
		t.Fatalf("defaults: %+v", got)
	}
	// A file that cannot be read is an error naming it.
	dir := t.TempDir()
	if _, err := LoadConfig(dir); err == nil || !strings.HasPrefix(err.Error(), "config "+dir+": ") {
		t.Fatalf("a directory as plugins.toml: %v", err)
	}

	data := `
[security]
max_memory = 134217728
fuel_limit = 5000000000
execution_timeout_secs = 2.5
debug_enabled = true
max_plugin_size = 1048576

[plugins.big]
max_memory = 1073741824
execution_timeout_secs = 120
allow_wasi = true
env = { LANG = "C", MODE = "test" }
dirs = [{ host = "` + dir + `", guest = "/data", readonly = true }]

[plugins.quiet]
debug_enabled = false
log_rate = 5
max_state_key_size = 100
max_state_value_size = 1000
max_state_bytes = 10000
max_state_keys = 10

[[registries]]
name = "official"
url = "https://plugins.driftless.example"
enabled = true

[[registries]]
name = "local"
url = "file:///srv/plugins"
`
	path := filepath.Join(dir, "plugins.toml")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path {
		t.Errorf("Path = %q", c.Path)
	}
	base := Limits{MaxMemory: 128 << 20, FuelLimit: 5000000000, ExecutionTimeout: 2500 * time.Millisecond, DebugEnabled: true,
		MaxPluginSize: 1 << 20, MaxInstances: 8, MaxCallsPerInstance: 10000, LogRate: 100,
		MaxStateKeySize: 1024, MaxStateValueSize: 1 << 20, MaxStateBytes: 64 << 20, MaxStateKeys: 100_000}
	if got := c.LimitsFor("other"); !reflect.DeepEqual(got, base) {
		t.Errorf("[security]:\n got  %+v\n want %+v", got, base)
	}
	big := base
	big.MaxMemory, big.ExecutionTimeout, big.AllowWASI = 1<<30, 120*time.Second, true
	big.Env = map[string]string{"LANG": "C", "MODE": "test"}
	big.Dirs = []DirConfig{{Host: dir, Guest: "/data", ReadOnly: true}}
	if got := c.LimitsFor("big"); !reflect.DeepEqual(got, big) {
		t.Errorf("[plugins.big]:\n got  %+v\n want %+v", got, big)
	}
	quiet := base
	quiet.DebugEnabled, quiet.LogRate = false, 5
	quiet.MaxStateKeySize, quiet.MaxStateValueSize, quiet.MaxStateBytes, quiet.MaxStateKeys = 100, 1000, 10000, 10
	if got := c.LimitsFor("quiet"); !reflect.DeepEqual(got, quiet) {
		t.Errorf("[plugins.quiet]:\n got  %+v\n want %+v", got, quiet)
	}
	wantReg := []Registry{{Name: "official", URL: "https://plugins.driftless.example", Enabled: true}, {Name: "local", URL: "file:///srv/plugins"}}
	if !reflect.DeepEqual(c.Registries, wantReg) {
		t.Errorf("registries: %+v", c.Registries)
	}

	// The host reads plugins.toml from its home, and refuses a bad one.
	h, err := New(homeOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := h.Config().LimitsFor("big"); !reflect.DeepEqual(got, big) {
		t.Errorf("host config: %+v", got)
	}
	if err := os.WriteFile(path, []byte("[security]\nmax_memory = -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := HomeOptions(dir); err == nil ||
		err.Error() != "config "+path+": security.max_memory: -1 is out of range: between 65536 (one wasm page) and 4294967296 bytes" {
		t.Fatalf("New with a bad plugins.toml: %v", err)
	}
}

func TestDefaultHome(t *testing.T) {
	t.Setenv("DRIFTLESS_HOME", "/srv/driftless")
	if got := DefaultHome(); got != "/srv/driftless" {
		t.Errorf("with DRIFTLESS_HOME: %q", got)
	}
	t.Setenv("DRIFTLESS_HOME", "")
	t.Setenv("HOME", "/home/someone")
	if got := DefaultHome(); got != "/home/someone/.driftless" {
		t.Errorf("without DRIFTLESS_HOME: %q", got)
	}
}

// plugins.toml that is a FIFO, a device or a directory is refused without
// blocking, and one over MaxConfigFileSize before it is read.
func TestLoadConfigSpecialAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxConfigFileSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "config " + fifo + ": is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", "config /dev/zero: is a character device, not a regular file"},
		{dir, "config " + dir + ": is a directory, not a regular file"},
		{big, fmt.Sprintf("config %s: is %d bytes, more than the limit of 1048576 bytes", big, MaxConfigFileSize+3)},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := LoadConfig(c.path); done <- err }()
			select {
			case err := <-done:
				var ce *ConfigError
				if !errors.As(err, &ce) || err.Error() != c.want {
					t.Fatalf("got %v\nwant %s", err, c.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("LoadConfig blocked")
			}
		})
	}
}

// Deeply nested TOML is refused before it is decoded (the decoder's time
// and memory grow with the square of the depth), naming the line.
func TestConfigTooDeep(t *testing.T) {
	deep := "[security]\nmax_memory = 65536\n[plugins.x.extensions.e]\nv = " + strings.Repeat("{a=", 4000) + "1" + strings.Repeat("}", 4000) + "\n"
	start := time.Now()
	_, err := ParseConfig("/etc/plugins.toml", []byte(deep))
	var ce *ConfigError
	if !errors.As(err, &ce) || err.Error() != "config /etc/plugins.toml: line 4: nested more than 32 levels deep (tables, arrays and dotted keys count; the limit is 32)" {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s", d)
	}
}

// The shortest timeout is accepted; a host whose epoch tick is longer than
// a plugin's timeout raises the timeout to the tick (deadlines are only
// checked then) and says so in the limits.
func TestExecutionTimeoutMinimum(t *testing.T) {
	c, err := ParseConfig("p.toml", []byte("[security]\nexecution_timeout_secs = 0.01\n[plugins.slow]\nexecution_timeout_secs = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LimitsFor("x").ExecutionTimeout; got != 10*time.Millisecond {
		t.Fatalf("timeout %s", got)
	}
	h, err := New(Options{Config: c, EpochTick: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if l := h.limitsFor("x"); l.ExecutionTimeout != 50*time.Millisecond || l.TimeoutRaisedFrom != 10*time.Millisecond {
		t.Errorf("x: timeout %s, raised from %s", l.ExecutionTimeout, l.TimeoutRaisedFrom)
	}
	if l := h.limitsFor("slow"); l.ExecutionTimeout != 2*time.Second || l.TimeoutRaisedFrom != 0 {
		t.Errorf("slow: timeout %s, raised from %s", l.ExecutionTimeout, l.TimeoutRaisedFrom)
	}
	p, _ := h.LoadBytes(context.Background(), "x", fixture{name: "x"}.wasm(t))
	if l := p.Limits(); l.ExecutionTimeout != 50*time.Millisecond || l.TimeoutRaisedFrom != 10*time.Millisecond {
		t.Errorf("plugin limits: %+v", l)
	}

	// A Config given in Options is checked as plugins.toml is.
	zero := 1e-10
	_, err = New(Options{Config: &Config{Security: Security{ExecutionTimeoutSecs: &zero}}})
	if err == nil || err.Error() != "config Options.Config: security.execution_timeout_secs: 1e-10 is below the minimum of 0.01 seconds (running calls check their deadline every 10ms)" {
		t.Fatalf("got %v", err)
	}
}

// TestTOMLDecoderTextPinned: BurntSushi/toml (go.mod's version) types its
// syntax errors (toml.ParseError, used as such by decodeError) but returns
// type mismatches as plain text, which decodeError matches to name the key
// and the types. This pins each text it matches, straight from the
// decoder, so an upgrade that rewords one fails here rather than making
// the messages about plugins.toml vaguer.
func TestTOMLDecoderTextPinned(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		inner     *regexp.Regexp
	}{
		{"incompatible", "[security]\nmax_memory = 'x'\n", incompatibleRE},
		{"not a table", "security = 'strict'\n", notTableRE},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cfg Config
			_, err := toml.Decode(c.doc, &cfg)
			if err == nil {
				t.Fatal("decoded")
			}
			var pe toml.ParseError
			if errors.As(err, &pe) {
				t.Fatalf("a type mismatch is now a ParseError (%v): decodeError can use it", err)
			}
			m := typeErrorRE.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("%q does not match typeErrorRE", err)
			}
			if !c.inner.MatchString(m[3]) {
				t.Fatalf("%q does not match %v", m[3], c.inner)
			}
		})
	}
	// Syntax errors are typed.
	var cfg Config
	_, err := toml.Decode("[security\n", &cfg)
	var pe toml.ParseError
	if !errors.As(err, &pe) || pe.Position.Line == 0 {
		t.Fatalf("syntax error: %T %v", err, err)
	}
}

// A registry's public_key is taken from plugins.toml's directory when
// relative; its timeout defaults to 30 s.
func TestRegistryKeysAndTimeouts(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "team.pub"), []byte("key"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(filepath.Join(dir, "plugins.toml"), []byte(`
[[registries]]
name = "team"
url = "oci://registry.example/plugins"
enabled = true
public_key = "team.pub"
timeout_secs = 2.5

[[registries]]
name = "web"
url = "http://plugins.example/index"
insecure = true
`))
	if err != nil {
		t.Fatal(err)
	}
	team, ok := c.Registry("team")
	if !ok || team.PublicKey != filepath.Join(dir, "team.pub") || team.Timeout() != 2500*time.Millisecond {
		t.Errorf("team: %+v", team)
	}
	web, _ := c.Registry("web")
	if !web.Insecure || web.Timeout() != DefaultRegistryTimeout {
		t.Errorf("web: %+v", web)
	}
	if _, ok := c.Registry("nope"); ok {
		t.Error("found a registry that is not configured")
	}
}
