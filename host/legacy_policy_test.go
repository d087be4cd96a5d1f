package host

// Load-time rules of the legacy adapter: the import policy (default-deny),
// export rules and types, memories and tables, definitions, WASI.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func legacyTestdata(t testing.TB, name string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "legacy", name))
	if err != nil {
		t.Fatal(err)
	}
	return legacyWat(t, string(src))
}

// wantProblems checks a load error: KindLoad, and exactly the problems
// listed (in order), also through Problems.
func wantProblems(t testing.TB, err error, plugin string, problems ...string) {
	t.Helper()
	msg := problems[0]
	if len(problems) > 1 {
		msg = litoa(len(problems)) + " problems: " + strings.Join(problems, "; ")
	}
	wantLegacyError(t, err, KindLoad, "plugin "+plugin+": load: "+msg)
	if got := Problems(err); !reflect.DeepEqual(got, problems) {
		t.Errorf("Problems =\n  %q\nwant\n  %q", got, problems)
	}
}

func TestLegacyForbiddenImports(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	p, err := h.LoadBytes(context.Background(), "evil", legacyTestdata(t, "forbidden-imports.wat"))
	wantProblems(t, err, "evil",
		"forbidden import env.fd_write: file-system access is not allowed to plugins (only through WASI, with allow_wasi = true)",
		"forbidden import env.host_get_timestamp: type func() -> i32, expected func() -> i64",
		"forbidden import env.host_log: type func(i32) is neither func(i32, i32) (two C strings) nor func(i32, i32, i32, i32) (two pointer/length pairs)",
		"forbidden import env.mystery: unknown host function; the host provides only env.host_log, env.host_get_timestamp, env.host_state_get, env.host_state_set, env.host_state_delete",
		"forbidden import env.net_send: network access is not allowed to plugins",
		"forbidden import env.path_open: file-system access is not allowed to plugins (only through WASI, with allow_wasi = true)",
		"forbidden import env.socket_connect: network access is not allowed to plugins",
		"forbidden import env.syscall_open: system calls are not allowed to plugins",
		"forbidden import env.system: system calls are not allowed to plugins",
		"forbidden import env.table: the host provides no table to legacy plugins (only the functions host_log, host_get_timestamp, host_state_get, host_state_set and host_state_delete)",
		`forbidden import evil.steal: unknown module "evil"; legacy plugins may import only env.host_log, env.host_get_timestamp, env.host_state_get, env.host_state_set, env.host_state_delete and, with allow_wasi = true, wasi_snapshot_preview1`,
		"forbidden import wasi_snapshot_preview1.fd_write: WASI is not allowed to this plugin (allow_wasi = false)",
		`forbidden import wasi_unstable.fd_write: unknown module "wasi_unstable"; legacy plugins may import only env.host_log, env.host_get_timestamp, env.host_state_get, env.host_state_set, env.host_state_delete and, with allow_wasi = true, wasi_snapshot_preview1`,
	)
	if p == nil || p.Err() != err || p.ABI() != ABILegacy {
		t.Errorf("the broken plugin is not listed with its error: %+v", p)
	}
	if _, err := h.Plugin("evil"); !errors.Is(err, err) || KindOf(err) != KindLoad {
		t.Errorf("Plugin(evil): %v", err)
	}
	// Validate lists the same problems without registering anything.
	path := filepath.Join(t.TempDir(), "evil2.wasm")
	lmust(t, os.WriteFile(path, legacyTestdata(t, "forbidden-imports.wat"), 0o644))
	_, err = h.Validate(context.Background(), path)
	if got := Problems(err); len(got) != 13 || got[0] != "forbidden import env.fd_write: file-system access is not allowed to plugins (only through WASI, with allow_wasi = true)" {
		t.Errorf("Validate problems: %q", got)
	}

	// Each category on its own, in a module that is otherwise fine.
	for imp, reason := range map[string]string{
		`"env" "syscall"`:                        "system calls are not allowed to plugins",
		`"env" "system_exec"`:                    "system calls are not allowed to plugins",
		`"env" "fd_read"`:                        "file-system access is not allowed to plugins (only through WASI, with allow_wasi = true)",
		`"env" "path_unlink"`:                    "file-system access is not allowed to plugins (only through WASI, with allow_wasi = true)",
		`"env" "sock_open"`:                      "network access is not allowed to plugins",
		`"env" "net_resolve"`:                    "network access is not allowed to plugins",
		`"other" "thing"`:                        `unknown module "other"; legacy plugins may import only env.host_log, env.host_get_timestamp, env.host_state_get, env.host_state_set, env.host_state_delete and, with allow_wasi = true, wasi_snapshot_preview1`,
		`"wasi_snapshot_preview1" "sock_accept"`: "WASI is not allowed to this plugin (allow_wasi = false)",
	} {
		f := fullFixture(defaultFx())
		f.imp(`(import ` + imp + ` (func (param i32) (result i32)))`)
		name := strings.ReplaceAll(strings.Trim(imp, `"`), `" "`, ".")
		_, err := h.LoadBytes(context.Background(), "one", f.wasm(t))
		wantProblems(t, err, "one", "forbidden import "+name+": "+reason)
	}
}

func TestLegacyForbiddenExports(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	_, err := h.LoadBytes(context.Background(), "evil", legacyTestdata(t, "bad-exports.wat"))
	wantProblems(t, err, "evil",
		"export allocate has type func() -> i32, expected func(i32) -> i32",
		"export deallocate has type func(i32, i32) -> i32, expected func(i32, i32)",
		"export execute_task has type func(i32) -> i32, expected func(i32, i32) -> i32",
		"export execute_template_filter has type func(i32, i32) -> i32, expected func(i32, i32, i32, i32) -> i32 or func(i32, i32, i32) -> i32",
		"export get_task_definitions has type func() -> i64, expected func() -> i32",
		`forbidden export do_syscall: exports containing "syscall" are not allowed`,
		"forbidden export unsafe_exec: exports named unsafe_* are not allowed",
	)
	// An unsafe_ export alone is enough.
	f := fullFixture(defaultFx()).fn(`(func (export "unsafe_raw_memory") (result i32) (i32.const 0))`)
	_, err = h.LoadBytes(context.Background(), "one", f.wasm(t))
	wantProblems(t, err, "one", "forbidden export unsafe_raw_memory: exports named unsafe_* are not allowed")

	_, err = h.LoadBytes(context.Background(), "nomem", legacyTestdata(t, "no-memory.wat"))
	wantProblems(t, err, "nomem",
		`the module does not export its memory as "memory", which the legacy ABI needs`,
		"the module exports execute_log_filter, execute_task but not allocate(i32) -> i32: the host cannot pass it strings",
	)
	_, err = h.LoadBytes(context.Background(), "many", legacyTestdata(t, "too-many.wat"))
	wantProblems(t, err, "many",
		"export memory is a 64-bit memory: the legacy ABI passes i32 pointers",
		"the module has 2 memories; legacy plugins may have at most 1",
		"the module has 5 tables; legacy plugins may have at most 4",
	)
	_, err = h.LoadBytes(context.Background(), "nothing", legacyTestdata(t, "nothing.wat"))
	wantProblems(t, err, "nothing",
		"the module exports none of get_task_definitions, get_facts_collectors, get_template_extensions, get_log_sources, get_log_parsers, get_log_filters, get_log_outputs: it provides nothing")
	// Not valid wasm at all.
	_, err = h.LoadBytes(context.Background(), "garbage", []byte("\x00asm\x01\x00\x00\x00\x01\x02"))
	wantLegacyErrorPrefix(t, err, KindLoad, "plugin garbage: load: not a valid WebAssembly module: ")
}

func wantLegacyErrorPrefix(t testing.TB, err error, kind ErrorKind, prefix string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != kind || !strings.HasPrefix(e.Error(), prefix) {
		t.Fatalf("error %v, want %s: %q...", err, kind, prefix)
	}
}

func TestLegacyDefinitionProblems(t *testing.T) {
	h, _ := newLegacyHost(t, "")
	ctx := context.Background()
	f := newLegacyFixture().
		static("get_task_definitions", `[{"name":"a"},`).
		static("get_facts_collectors", `[{"name":"c","config_schema":7}]`).
		static("get_template_extensions", `[{"name":"e"}]`).
		static("get_log_sources", `{"status":"error","message":"no sources today"}`).
		static("get_log_parsers", `"parsers"`)
	_, err := h.LoadBytes(ctx, "defs", f.wasm(t))
	wantProblems(t, err, "defs",
		"get_task_definitions returned invalid JSON: unexpected EOF",
		"get_facts_collectors: \"c\": config_schema is a number, not a JSON Schema object or a string holding one",
		"get_template_extensions: \"e\": has no type (filter or function)",
		"get_log_sources reported an error: no sources today",
		"get_log_parsers returned a string, not an array of definitions",
	)

	// Definitions without the functions that run them.
	f = newLegacyFixture().
		static("get_task_definitions", `[{"name":"t"}]`).
		static("get_template_extensions", `[{"name":"up","type":"filter"},{"name":"now","type":"function"}]`).
		static("get_log_parsers", `[{"name":"p"}]`)
	_, err = h.LoadBytes(ctx, "unrunnable", f.wasm(t))
	wantProblems(t, err, "unrunnable",
		"the plugin defines tasks but does not export execute_task",
		`the plugin defines template filter "up" but exports neither execute_template_filter nor execute_filter`,
		`the plugin defines template function "now" but exports neither execute_template_function nor execute_function`,
		"the plugin defines log parsers but does not export execute_log_parser",
	)

	// Definitions the host indexes: schemas and names are checked as for
	// components.
	f = newLegacyFixture().
		static("get_task_definitions", `[{"name":"x","config_schema":"{not json"},{"name":"y"},{"name":"y"},{"name":"a.b"}]`).
		fn(`(func (export "execute_task") (param i32 i32) (result i32) (i32.const 0))`)
	_, err = h.LoadBytes(ctx, "index", f.wasm(t))
	got := Problems(err)
	if len(got) != 3 || !strings.HasPrefix(got[0], `task "x": config-schema is not valid JSON: `) ||
		got[1] != `task "y" is defined twice` || got[2] != `task "a.b": names may not contain spaces, dots or slashes` {
		t.Errorf("index problems: %q", got)
	}

	// A definition function that traps or misbehaves is reported by name.
	f = newLegacyFixture().fn(`(func (export "get_task_definitions") (result i32) unreachable)`)
	_, err = h.LoadBytes(ctx, "trapdefs", f.wasm(t))
	wantLegacyErrorPrefix(t, err, KindLoad, "plugin trapdefs: load: tasks.definitions: wasm trap: wasm `unreachable` instruction executed")
	f = newLegacyFixture().fn(`(func (export "get_task_definitions") (result i32) (i32.const 0x7fffffff))`)
	_, err = h.LoadBytes(ctx, "ptrdefs", f.wasm(t))
	wantProblems(t, err, "ptrdefs", "tasks.definitions: get_task_definitions returned a pointer 0x7fffffff past the end of memory (65536 bytes)")

	// Definitions as an object keyed by name, and schemas as strings.
	f = newLegacyFixture().
		static("get_task_definitions", `{"one":{"type":"apply","config_schema":"{\"type\":\"object\"}"},"two":{"name":"deux"}}`).
		fn(`(func (export "execute_task") (param i32 i32) (result i32) (i32.const 0))`)
	p, err := h.LoadBytes(ctx, "keyed", f.wasm(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := taskNames(p.Tasks()), []string{"one", "deux"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tasks of keyed definitions: %v, want %v", got, want)
	}
	if s, _ := p.Schema("task", "one"); s != `{"type":"object"}` {
		t.Errorf("schema of one: %q", s)
	}
}

func TestLegacyWASI(t *testing.T) {
	cfg := `
[plugins.wasi]
allow_wasi = true
debug_enabled = true
[plugins.wasienv]
allow_wasi = true
[plugins.wasienv.env]
A = "1"
B = "2"
`
	h, logs := newLegacyHost(t, cfg)
	ctx := context.Background()
	p := loadLegacy(t, h, "wasi", legacyTestdata(t, "wasi-stdout.wat"))
	res, err := p.ExecuteTask(ctx, "hello", "", false)
	if err != nil {
		t.Fatal(err)
	}
	// Sealed: no environment, no preopened directory (errno 8, badf).
	if res.Output != `{"env":0,"open":8}` {
		t.Errorf("output %s, want {\"env\":0,\"open\":8}", res.Output)
	}
	if !strings.Contains(logs.String(), `level=DEBUG msg="stdout: hello from wasi" plugin=wasi`) {
		t.Errorf("stdout did not reach the debug log:\n%s", logs.String())
	}
	p = loadLegacy(t, h, "wasienv", legacyTestdata(t, "wasi-stdout.wat"))
	res, err = p.ExecuteTask(ctx, "hello", "", false)
	if err != nil || res.Output != `{"env":2,"open":8}` {
		t.Errorf("with env A and B: %+v, %v", res, err)
	}
	if strings.Contains(logs.String(), "plugin=wasienv") {
		t.Errorf("debug output of a plugin without debug_enabled was logged:\n%s", logs.String())
	}
	// Without allow_wasi: refused, every import named.
	_, err = h.LoadBytes(ctx, "nowasi", legacyTestdata(t, "wasi-stdout.wat"))
	wantProblems(t, err, "nowasi",
		"forbidden import wasi_snapshot_preview1.environ_sizes_get: WASI is not allowed to this plugin (allow_wasi = false)",
		"forbidden import wasi_snapshot_preview1.fd_write: WASI is not allowed to this plugin (allow_wasi = false)",
		"forbidden import wasi_snapshot_preview1.path_open: WASI is not allowed to this plugin (allow_wasi = false)",
	)
	// With it, still no network.
	f := fullFixture(defaultFx())
	f.imp(`(import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))`)
	_, err = h.LoadBytes(ctx, "wasi", f.wasm(t))
	wantProblems(t, err, "wasi", "forbidden import wasi_snapshot_preview1.sock_accept: network access is not allowed to plugins")
}

func TestLegacyHostImports(t *testing.T) {
	for _, form := range []int{2, 4} {
		t.Run(litoa(form), func(t *testing.T) {
			h, logs := newLegacyHost(t, "")
			o := defaultFx()
			o.hostLog = form
			p := loadLegacy(t, h, "logger", fullFixture(o).wasm(t))
			want := "import env.host_log: func(i32, i32)\n"
			if form == 4 {
				want = "import env.host_log: func(i32, i32, i32, i32)\n"
			}
			if !strings.Contains(p.Interface(), want) {
				t.Errorf("Interface lacks %q", want)
			}
			if _, err := p.ExecuteTask(context.Background(), "greet", `{"to": "ada"}`, false); err != nil {
				t.Fatal(err)
			}
			if want := `level=WARN msg="{\"to\": \"ada\"}" plugin=logger`; !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %s:\n%s", want, logs.String())
			}
		})
	}
	// A module with neither import links fine (defaultFx has both).
	h, _ := newLegacyHost(t, "")
	f := newLegacyFixture().static("get_task_definitions", `[]`)
	p := loadLegacy(t, h, "quiet", f.wasm(t))
	if strings.Contains(p.Interface(), "import ") {
		t.Errorf("imports of a module without any:\n%s", p.Interface())
	}
}

func TestLegacyLevels(t *testing.T) {
	for in, want := range map[string]string{"trace": "DEBUG-4", "DEBUG": "DEBUG", "info": "INFO", "warning": "WARN",
		"warn": "WARN", "error": "ERROR", "critical": "ERROR", "fatal": "ERROR", "loud": "INFO", "": "INFO"} {
		if got := legacyLevel(in).String(); got != want {
			t.Errorf("level %q: %s, want %s", in, got, want)
		}
	}
}

// Compiled modules go through the compile cache like components, under
// their own kind, with the same verification.
func TestLegacyCompileCache(t *testing.T) {
	h, logs := newLegacyHost(t, "")
	wasm := fullFixture(defaultFx()).wasm(t)
	loadLegacy(t, h, "cached", wasm)
	if n, err := h.dirCache().entries(); err != nil || n != 1 {
		t.Fatalf("%d cache entries, %v; want 1", n, err)
	}
	key := testKey("module", wasm)
	if key == testKey("component", wasm) {
		t.Fatal("modules and components share cache keys")
	}
	path := h.dirCache().entryPath(key)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Another host on the same home uses the entry (it is not rewritten).
	other := func() *Host {
		h2, err := New(Options{Cache: h.cache, Config: &Config{}, Logger: h.logger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h2.Close)
		return h2
	}
	p := loadLegacy(t, other(), "cached", wasm)
	if after, _ := os.Stat(path); !after.ModTime().Equal(before.ModTime()) {
		t.Error("the cache entry was rewritten instead of used")
	}
	if res, err := p.ExecuteTask(context.Background(), "echo", `{"message":"from cache"}`, false); err != nil || res.Output != `{"message":"from cache"}` {
		t.Fatalf("a plugin loaded from the cache: %+v, %v", res, err)
	}
	// A corrupt entry is removed and rebuilt, never loaded.
	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 0xff
	lmust(t, os.WriteFile(path, data, 0o644))
	loadLegacy(t, other(), "cached", wasm)
	if h.cacheGet(context.Background(), key) == nil {
		t.Error("the corrupt entry was not rebuilt")
	}
	// An entry that verifies but that wasmtime refuses is replaced, with a
	// warning.
	lmust(t, h.cache.Put(context.Background(), key, entry(key, []byte("not compiled code"))))
	loadLegacy(t, other(), "cached", wasm)
	if !strings.Contains(logs.String(), "compile cache entry refused by wasmtime; recompiling") {
		t.Errorf("no warning about the refused entry:\n%s", logs.String())
	}
	if got := h.cacheGet(context.Background(), key); got == nil || string(got) == "not compiled code" {
		t.Error("the refused entry was not rebuilt")
	}
}
