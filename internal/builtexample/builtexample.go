// Package builtexample finds, for tests, the example plugins that
// `make -f mk/examples.mk examples` builds into build/examples/. A test
// whose example is missing is skipped, saying which make target builds it;
// with DRIFTLESS_REQUIRE_EXAMPLES=1 (set by `make test`) it fails instead,
// so that CI never passes by skipping.
package builtexample

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Required reports whether missing examples fail tests
// (DRIFTLESS_REQUIRE_EXAMPLES=1) instead of skipping them.
func Required() bool { return os.Getenv("DRIFTLESS_REQUIRE_EXAMPLES") == "1" }

// file returns the path of build/examples/NAME.wasm.
func file(name string) string {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(filepath.Dir(self)))
	return filepath.Join(root, "build", "examples", name+".wasm")
}

// Built reports whether the example NAME (e.g. "js-plugin") is built.
func Built(name string) bool {
	_, err := os.Stat(file(name))
	return err == nil
}

// Path returns the absolute path of the built example NAME (e.g.
// "js-plugin" for build/examples/js-plugin.wasm), or skips the test (fails
// it when Required) when it is not built.
func Path(t testing.TB, name string) string {
	t.Helper()
	p := file(name)
	if _, err := os.Stat(p); err != nil {
		missing(t, p, name)
	}
	return p
}

// Wasm returns the bytes of the built example NAME, or skips the test
// (fails it when Required) when it is not built.
func Wasm(t testing.TB, name string) []byte {
	t.Helper()
	p := file(name)
	data, err := os.ReadFile(p)
	if err != nil {
		missing(t, p, name)
	}
	return data
}

func missing(t testing.TB, path, name string) {
	t.Helper()
	target := "example-" + strings.TrimSuffix(name, "-plugin")
	msg := path + " is not built; run `make -f mk/examples.mk " + target + "` (make test builds it)"
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Root returns the repository's root directory.
func Root() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(self)))
}

// NPMTools returns the directory of the pinned npm tools (tools/npm, with
// its node_modules installed by `make -f mk/examples.mk tools-npm`), or
// skips the test (fails it when Required) when node or the tools are
// missing.
func NPMTools(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(), "tools", "npm")
	if _, err := exec.LookPath("node"); err != nil {
		Unavailable(t, "node is not installed (node 20+ is needed)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".driftless-npm-ci.stamp")); err != nil {
		Unavailable(t, "tools/npm/node_modules is not installed; run `make -f mk/examples.mk tools-npm` (make test installs it)")
	}
	return dir
}

// Unavailable skips the test because something it needs is missing (msg
// says what and how to get it), or fails it when Required.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ToolCache returns the tool cache of mk/examples.mk: $DRIFTLESS_TOOLCACHE
// (make exports it to the tests), else ~/.cache/driftless as in the
// Makefile.
func ToolCache() string {
	if d := os.Getenv("DRIFTLESS_TOOLCACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "driftless")
}

// Command returns the path of the program name on PATH, or of one that
// mk/examples.mk installed into the tool cache (wit-bindgen, wasm-tools:
// `make -f mk/examples.mk tools-cargo`); or skips the test (fails it when
// Required). how says how to install it.
func Command(t testing.TB, name, how string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join(ToolCache(), "cargo", "bin", name)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	Unavailable(t, name+" is not installed: "+how)
	return ""
}
