package templating_test

import (
	"context"
	"fmt"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/testplugin"
	"github.com/driftless-dev/driftless/templating"
)

// Render a template with a filter a plugin provides: load the plugin into a
// host (the zero Options need no home), give the plugins to New, render.
func Example() {
	ctx := context.Background()
	h, err := host.New(host.Options{})
	check(err)
	defer h.Close()
	p, err := h.LoadBytes(ctx, "loud", shoutPlugin())
	check(err)

	env := templating.New([]*host.Plugin{p})
	out, err := env.RenderString(ctx, "greeting.j2", "Hello, {{ name | shout }}!", map[string]any{"name": "world"})
	check(err)
	fmt.Println(out)
	fmt.Println(env.Filters()[0].Name, env.Filters()[1].Name)
	// Output:
	// Hello, WORLD!
	// loud__shout shout
}

// shoutPlugin is the binary of a plugin with one filter, shout, which puts
// a string in capitals (a stand-in for a plugin file read with os.ReadFile).
func shoutPlugin() []byte {
	wasm, err := testplugin.Plugin{Name: "loud", Version: "1.0.0", Extensions: []testplugin.Extension{
		{Name: "shout", Description: "Puts a string in capitals.", Do: testplugin.Upper()},
	}}.Wasm()
	check(err)
	return wasm
}

// check stops the example at the first error.
func check(err error) {
	if err != nil {
		panic(err)
	}
}
