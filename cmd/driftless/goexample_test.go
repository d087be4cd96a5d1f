package main

// TestGoPluginREADME runs what examples/go-plugin/README.md shows, with the
// plugin in standard Go (build/examples/go-plugin.wasm, `make example-go`).

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

func TestGoPluginREADME(t *testing.T) {
	home := newHome(t)
	r := runCLI(t, home, 0, "plugins", "install", builtexample.Path(t, "go-plugin"))
	contains(t, "install", r.stdout, "installed go-plugin 0.1.0 (component)",
		"tasks: ensure-line, write-file, checksum, parallel-sum, allocate, panic; facts: go-runtime; templates: quote (filter), sha256 (function); logs: regex")

	r = runCLI(t, home, 0, "task", "run", "go-plugin.ensure-line", "--config", `{"line": "PermitRootLogin no", "current": "Port 22\n"}`, "--check")
	contains(t, "ensure-line --check", r.stdout, "status   changed", "message  would add line", "diff\n  +PermitRootLogin no")
	doc := runJSON(t, home, 0, "task", "run", "go-plugin.parallel-sum", "--config", `{"upto": 1000000, "workers": 8}`)
	if out := doc["output"].(map[string]any); out["sum"] != float64(500000500000) {
		t.Errorf("parallel-sum: %v", doc)
	}
	errorOf(t, runJSON(t, home, 2, "task", "run", "go-plugin.checksum", "--config", `{"text": "x", "algorithm": "crc"}`), "invalid-config")
	e := errorOf(t, runJSON(t, home, 1, "task", "run", "go-plugin.panic", "--config", `{"message": "kaboom"}`), "trap")
	contains(t, "panic", e["message"].(string), "plugin go-plugin: tasks.execute: wasm trap")

	r = runCLI(t, home, 0, "template", "render", repoPath(t, "examples/go-plugin/deploy.tmpl"))
	contains(t, "deploy.tmpl", r.stdout, "echo 'it'\\''s deployed'\n",
		"checksum=74ed36716c9c13b6adfda87f102b886a0cfcd1bcec5ccd7f1b3fac673e9aae10\n", "built with go1.")

	r = cliIn(t, home, repoPath(t, "examples/go-plugin"), "", "logs", "run", "pipeline.toml")
	expect(t, r, 0)
	if r.stdout != "POST /login 302\nDELETE /api/items/7 403\nPUT /api/items/7 200\n" {
		t.Errorf("pipeline: %q", r.stdout)
	}

	// write-file in a directory the configuration grants.
	data := t.TempDir()
	writeFile(t, home, "plugins.toml", "[plugins.go-plugin]\nallow_wasi = true\ndirs = [{ host = \""+data+"\", guest = \"/data\" }]\n")
	r = runCLI(t, home, 0, "task", "run", "go-plugin.write-file", "--config", `{"path": "/data/motd", "content": "hello\n"}`, "--check")
	contains(t, "write-file --check", r.stdout, "message  would write /data/motd", "diff\n  --- /data/motd\n  +++ /data/motd\n  +hello")
	runCLI(t, home, 0, "task", "run", "go-plugin.write-file", "--config", `{"path": "/data/motd", "content": "hello\n"}`)
	if b, err := os.ReadFile(filepath.Join(data, "motd")); err != nil || string(b) != "hello\n" {
		t.Errorf("write-file wrote %q, %v", b, err)
	}

	facts := runJSON(t, home, 0, "facts", "collect", "go-plugin.go-runtime")
	if f := facts["go-plugin"].(map[string]any); f["engine"] != "go" || f["goos"] != "wasip1" {
		t.Errorf("facts: %v", facts)
	}
}
