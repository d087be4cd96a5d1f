package host_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/host"
)

// Embedding the host: a plugin home with one plugin and a plugins.toml,
// LoadAll, a task, and the errors a caller sees.
func Example() {
	ctx := context.Background()

	// A plugin home: plugins/*.wasm and plugins.toml. (The plugin is a
	// hand-written component, testdata/hello-plugin.wat.)
	home, err := os.MkdirTemp("", "driftless-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	wat, err := os.ReadFile("testdata/hello-plugin.wat")
	if err != nil {
		panic(err)
	}
	wasm, err := wasmtime.Wat2Wasm(string(wat))
	if err != nil {
		panic(err)
	}
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
