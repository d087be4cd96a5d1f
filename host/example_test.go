package host_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/examples/embedding/gen/acme/deploy/secrets"
	"github.com/driftless-dev/driftless/host"
)

// Load a plugin from its bytes and run one of its tasks: the zero Options
// are default limits, no file, no environment variable and no cache.
func Example() {
	ctx := context.Background()
	wasm := helloPlugin() // the plugin's binary, e.g. from os.ReadFile

	h, err := host.New(host.Options{})
	check(err)
	defer h.Close()
	p, err := h.LoadBytes(ctx, "hello", wasm)
	check(err)
	res, err := p.ExecuteTask(ctx, "greet", `{"name":"world"}`, false)
	check(err)
	fmt.Println(res.Changed, res.Message, res.Output)
	// Output: true hello {"name":"world"}
}

// Limits for one load, in Go: zero fields keep the defaults.
func ExampleLoadOptions() {
	ctx := context.Background()
	h, err := host.New(host.Options{})
	check(err)
	defer h.Close()

	p, err := h.LoadBytes(ctx, "hello", helloPlugin(), host.LoadOptions{Limits: &host.Limits{
		MaxMemory:        16 << 20,
		ExecutionTimeout: 2 * time.Second,
	}})
	check(err)
	l := p.Limits()
	fmt.Println(l.MaxMemory, l.ExecutionTimeout, l.FuelLimit == host.DefaultFuelLimit)

	_, err = h.LoadBytes(ctx, "greedy", helloPlugin(), host.LoadOptions{Limits: &host.Limits{MaxMemory: 1000}})
	fmt.Println(err)
	// Output:
	// 16777216 2s true
	// plugin greedy: load: LoadOptions.Limits.MaxMemory: 1000 is out of range: between 65536 (one wasm page) and 4294967296 bytes (0 for the default)
}

// A host interface of the program's own. The program's WIT
// (examples/embedding/wit/deploy.wit) declares acme:deploy/secrets;
// tools/witgen generated its Go bindings, package secrets; the program
// implements secrets.Imports (vault, below) and registers it. The plugins
// that import the interface (testdata/secrets-plugin.wat) get it, and the
// implementation knows which plugin calls.
func ExampleInterface() {
	ctx := context.Background()
	h, err := host.New(host.Options{Interfaces: []host.Interface{{
		Name:   secrets.InterfaceName,
		Define: func(l *bindings.Linker) error { return secrets.AddToLinker(l, vault{}) },
		Check:  secrets.CheckImports,
	}}})
	check(err)
	defer h.Close()

	wasm := watPlugin("testdata/secrets-plugin.wat")
	for _, name := range []string{"deployer", "intruder"} {
		p, err := h.LoadBytes(ctx, name, wasm)
		check(err)
		res, err := p.ExecuteTask(ctx, "connect", "{}", false)
		fmt.Printf("%s: %q %v\n", name, res.Message, err)
	}
	// Output:
	// deployer: "hunter2" <nil>
	// intruder: "" plugin intruder: tasks.execute: secret db-password: denied
}

// vault implements acme:deploy/secrets: only the plugin named deployer may
// read the database password.
type vault struct{}

func (vault) Get(ctx context.Context, name string) (string, error) {
	switch {
	case host.CallingPlugin(ctx) != "deployer":
		return "", secrets.SecretErrorDenied
	case name != "db-password":
		return "", secrets.SecretErrorNotFound
	}
	return "hunter2", nil
}

// helloPlugin is testdata/hello-plugin.wat compiled: a task plugin with
// one task, greet.
func helloPlugin() []byte { return watPlugin("testdata/hello-plugin.wat") }

// watPlugin compiles a component written in the WebAssembly text format.
func watPlugin(path string) []byte {
	wat, err := os.ReadFile(path)
	check(err)
	wasm, err := wasmtime.Wat2Wasm(string(wat))
	check(err)
	return wasm
}

// check stops the example at the first error.
func check(err error) {
	if err != nil {
		panic(err)
	}
}

// A host over a plugin home, the layout the driftless CLI uses
// (plugins.toml, plugins/*.wasm, cache/): LoadAll, a task, and the errors a
// caller sees.
func ExampleHomeOptions() {
	ctx := context.Background()

	// A plugin home: plugins/*.wasm and plugins.toml. (The plugin is a
	// hand-written component, testdata/hello-plugin.wat.)
	home, err := os.MkdirTemp("", "driftless-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	wasm := helloPlugin()
	must(os.MkdirAll(filepath.Join(home, "plugins"), 0o755))
	must(os.WriteFile(filepath.Join(home, "plugins", "hello.wasm"), wasm, 0o644))
	must(os.WriteFile(filepath.Join(home, "plugins", "broken.wasm"), []byte("not wasm"), 0o644))
	must(os.WriteFile(filepath.Join(home, "plugins.toml"), []byte(`
[security]
execution_timeout_secs = 5

[plugins.hello]
max_memory = 16777216
`), 0o644))

	// Plugin logs go to this logger, with the plugin's name (no time, to
	// keep the output stable).
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	opts, err := host.HomeOptions(home)
	if err != nil {
		panic(err) // a bad plugins.toml: the error names the file and the key
	}
	opts.Logger = logger
	h, err := host.New(opts)
	if err != nil {
		panic(err)
	}
	defer h.Close()

	plugins, err := h.LoadAll(ctx)
	if err != nil {
		panic(err)
	}
	for _, p := range plugins {
		fmt.Printf("%s: abi=%q err=%v\n", p.Name(), p.ABI(), p.Err())
	}

	p, err := h.Plugin("hello")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Info().Description, p.Limits().MaxMemory, p.Limits().ExecutionTimeout)
	res, err := p.ExecuteTask(ctx, "greet", `{"name":"world"}`, false)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Changed, res.Message, res.Output)

	// The config is checked against the task's config-schema first.
	_, err = p.ExecuteTask(ctx, "greet", `{"name":42}`, false)
	fmt.Println(host.KindOf(err), err)
	_, err = p.ExecuteTask(ctx, "greet", `{"name":"world"}`, true)
	fmt.Println(errors.Is(err, host.ErrUnsupported), err)
	_, err = p.ExecuteTask(ctx, "wave", `{}`, false)
	fmt.Println(errors.Is(err, host.ErrNotFound), err)

	// Output:
	// broken: abi="" err=plugin broken: load: not a WebAssembly file (no \0asm header)
	// hello: abi="component" err=<nil>
	// says hello 16777216 5s
	// level=INFO msg=greeting plugin=hello
	// true hello {"name":"world"}
	// invalid-config plugin hello: tasks.execute: task "greet": config does not match the config-schema: at /name: got number, want string
	// true plugin hello: tasks.execute: task "greet" does not support check mode
	// true plugin hello: tasks.execute: no task named "wave" (available: greet)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
