package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/pipeline"
)

// Run a log pipeline from Go: JSON lines from a reader, a plugin's filter
// (min-level) and output (message), the stats at the end. The host needs
// no home: the plugin is loaded from its bytes.
func Example() {
	ctx := context.Background()
	h, err := host.New(host.Options{})
	check(err)
	defer h.Close()
	_, err = h.LoadBytes(ctx, "watlogs", watlogs())
	check(err)

	cfg, err := pipeline.Parse("pipeline.toml", []byte(`
[[sources]]
type = "stdin"

[parser]
type = "json"

[[filters]]
plugin = "watlogs"
name = "min-level"
config = { level = "warn" }

[[outputs]]
plugin = "watlogs"
name = "message"
`))
	check(err)
	logs := `{"level":"info","msg":"started"}
{"level":"warn","msg":"disk 91% full"}
{"level":"error","msg":"cannot write /var/log/app.log"}
`
	stats, err := pipeline.Run(ctx, h, cfg, pipeline.Options{Stdin: strings.NewReader(logs), Stdout: os.Stdout})
	check(err)
	fmt.Println(stats.LinesIn, "lines in,", stats.DroppedFilters, "dropped by the filter")
	// Output:
	// disk 91% full
	// cannot write /var/log/app.log
	// 3 lines in, 1 dropped by the filter
}

// watlogs is testdata/watlogs.wat compiled: a log plugin written by hand
// in the WebAssembly text format (a stand-in for a plugin file read with
// os.ReadFile).
func watlogs() []byte {
	wat, err := os.ReadFile("testdata/watlogs.wat")
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
