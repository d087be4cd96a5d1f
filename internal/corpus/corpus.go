// Package corpus gives tests the WIT and components that `make corpus`
// (mk/corpus.mk) gathers from the test suites of other projects — wit-bindgen's
// runtime and codegen tests, wit-component's components, wit-parser's WIT — and
// builds components from WIT with wasm-tools at test time. A test that needs
// the corpus is skipped when it is not built, saying which make target builds
// it; with DRIFTLESS_REQUIRE_EXAMPLES=1 (set by `make test`) it fails instead.
package corpus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.bytecodealliance.org/wit"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

// Root returns the directory `make corpus` builds, build/corpus.
func Root() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(self))), "build", "corpus")
}

// Require returns Root, or skips the test (fails it under
// DRIFTLESS_REQUIRE_EXAMPLES=1) when the corpus is not built.
func Require(t testing.TB) string {
	t.Helper()
	root := Root()
	for _, p := range []string{filepath.Join(root, "src", ".stamp"), filepath.Join(root, "bin", "wasm-tools")} {
		if _, err := os.Stat(p); err != nil {
			msg := p + " is missing: run `make corpus` (make test builds it)"
			if builtexample.Required() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return root
}

// RequireRust returns the directory of the Rust guests `make corpus` builds,
// or skips (fails under DRIFTLESS_REQUIRE_EXAMPLES=1) when they are not.
func RequireRust(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Require(t), "rust")
	if m, _ := filepath.Glob(filepath.Join(dir, "*.wasm")); len(m) == 0 {
		msg := dir + " holds no guests: run `make corpus` where rustup has the wasm32-wasip2 target"
		if builtexample.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// WasmTools runs the corpus's wasm-tools with args and returns its stdout.
func WasmTools(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(Root(), "bin", "wasm-tools"), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wasm-tools %s: %v\n%s", strings.Join(args, " "), err, bounded(errb.String()))
	}
	return out.Bytes(), nil
}

func bounded(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// WIT is a WIT document or package directory of the corpus.
type WIT struct {
	Name string // e.g. "wit-bindgen/runtime/lists"
	Path string // a .wit file, or a directory (with deps/ when it has them)
}

// WITs lists the corpus's WIT: wit-bindgen's runtime tests (test.wit, or the
// directory when it has deps) and codegen tests (files, and the wit/
// directories of the others), and wit-parser's UI tests that parse.
func WITs(root string) ([]WIT, error) {
	var out []WIT
	src := filepath.Join(root, "src")
	rt := filepath.Join(src, "wit-bindgen-cli-0.63.0", "tests", "runtime")
	dirs, err := os.ReadDir(rt)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		p := filepath.Join(rt, d.Name())
		if _, err := os.Stat(filepath.Join(p, "test.wit")); err != nil {
			continue // a directory of one language's tests
		}
		if _, err := os.Stat(filepath.Join(p, "deps")); err != nil {
			p = filepath.Join(p, "test.wit")
		}
		out = append(out, WIT{"wit-bindgen/runtime/" + d.Name(), p})
	}
	cg := filepath.Join(src, "wit-bindgen-cli-0.63.0", "tests", "codegen")
	entries, err := os.ReadDir(cg)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		switch p := filepath.Join(cg, e.Name()); {
		case !e.IsDir() && strings.HasSuffix(e.Name(), ".wit"):
			out = append(out, WIT{"wit-bindgen/codegen/" + strings.TrimSuffix(e.Name(), ".wit"), p})
		case e.IsDir():
			if _, err := os.Stat(filepath.Join(p, "wit")); err == nil {
				out = append(out, WIT{"wit-bindgen/codegen/" + e.Name(), filepath.Join(p, "wit")})
			}
		}
	}
	ui := filepath.Join(src, "wit-parser-0.263.0", "tests", "ui")
	entries, err = os.ReadDir(ui)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		p := filepath.Join(ui, e.Name())
		switch {
		case e.Name() == "parse-fail":
		case !e.IsDir() && strings.HasSuffix(e.Name(), ".wit"):
			out = append(out, WIT{"wit-parser/ui/" + strings.TrimSuffix(e.Name(), ".wit"), p})
		case e.IsDir():
			out = append(out, WIT{"wit-parser/ui/" + e.Name(), p})
		}
	}
	slices.SortFunc(out, func(a, b WIT) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Resolve decodes WIT (a document, a directory or a component) with the
// corpus's wasm-tools, which knows every feature of the WIT it reads: with
// every gated feature on, or, for a document that only parses without
// them (one that tests gates), with none.
func Resolve(path string) (*wit.Resolve, error) {
	js, err := WasmTools("component", "wit", "-j", "--all-features", path)
	if err != nil {
		var err2 error
		if js, err2 = WasmTools("component", "wit", "-j", path); err2 != nil {
			return nil, err
		}
	}
	return wit.DecodeJSON(bytes.NewReader(js))
}
