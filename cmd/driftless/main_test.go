package main

// Integration tests: TestMain builds the binary once; every test runs it
// as a user would, with exec.Command, in a temporary plugin home. Plugins
// come from internal/testplugin (WAT components built in the test) and
// from the examples built by `make -f mk/examples.mk examples` (tests that
// need those skip without them, or fail with DRIFTLESS_REQUIRE_EXAMPLES=1).
//
// Every home's compile cache is a link to one shared cache, so a plugin
// is compiled once (the JavaScript example takes seconds): it lives in the
// user's cache directory and is reused by later runs (the host verifies
// every entry and rebuilds what does not match);
// DRIFTLESS_TEST_CACHE=DIR puts it elsewhere.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/testplugin"
)

var (
	binary      string // the driftless binary under test
	sharedCache string // the compile cache every test home links to
)

func TestMain(m *testing.M) {
	if noTestsRun() {
		os.Exit(m.Run()) // fuzzing (make fuzz): no binary needed
	}
	dir, err := os.MkdirTemp("", "driftless-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "driftless")
	sharedCache = os.Getenv("DRIFTLESS_TEST_CACHE")
	if sharedCache == "" {
		if base, err := os.UserCacheDir(); err == nil {
			sharedCache = filepath.Join(base, "driftless", "cli-test-compile-cache")
		} else {
			sharedCache = filepath.Join(dir, "cache")
		}
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(goTool, "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building driftless:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// noTestsRun reports whether this process only fuzzes: a fuzz worker, or
// -run '^$'.
func noTestsRun() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzzworker") || a == "-test.run=^$" {
			return true
		}
	}
	return false
}

// newHome makes an empty plugin home whose cache is the shared one.
func newHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sharedCache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sharedCache, filepath.Join(home, "cache")); err != nil {
		t.Fatal(err)
	}
	return home
}

// put writes a plugin binary straight into a home's plugin directory.
func put(t *testing.T, home, name string, wasm []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(home, "plugins", name+".wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// drift runs the binary with DRIFTLESS_HOME=home in dir "" (the package
// directory) and returns what it printed and its exit code.
func drift(t *testing.T, home string, args ...string) result {
	t.Helper()
	return cliIn(t, home, "", "", args...)
}

func cliIn(t *testing.T, home, dir, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home, "NO_COLOR=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("driftless %s: %v", strings.Join(args, " "), err)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("driftless %s panicked:\n%s", strings.Join(args, " "), r)
	}
	return r
}

// expect checks the exit code.
func expect(t *testing.T, r result, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("driftless %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
}

// runCLI runs the CLI and checks its exit code.
func runCLI(t *testing.T, home string, code int, args ...string) result {
	t.Helper()
	r := drift(t, home, args...)
	expect(t, r, code, args...)
	return r
}

// runJSON runs the CLI with --output json, checks the exit code and that
// stdout is exactly one JSON document, and returns it.
func runJSON(t *testing.T, home string, code int, args ...string) map[string]any {
	t.Helper()
	var v map[string]any
	jsonDoc(t, runCLI(t, home, code, append([]string{"--output", "json"}, args...)...), &v)
	return v
}

func jsonDoc(t *testing.T, r result, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON document:\n%s", r)
	}
}

// errorOf returns the "error" object of a JSON document and checks its
// kind.
func errorOf(t *testing.T, doc map[string]any, kind string) map[string]any {
	t.Helper()
	e, ok := doc["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", doc)
	}
	if e["kind"] != kind {
		t.Fatalf("error kind %v, want %s: %v", e["kind"], kind, e)
	}
	if m, _ := e["message"].(string); m == "" {
		t.Fatalf("error without message: %v", e)
	}
	return e
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// fixture is the WAT test plugin most tests use.
var fixture = testplugin.Plugin{
	Name: "fixture", Version: "1.0.0", Description: "Driftless CLI test plugin.",
	Tasks: []testplugin.Task{
		{Name: "ok", Description: "Succeeds without change.", CheckMode: true, Do: testplugin.Result(false, "all good", `{"n":1}`, "")},
		{Name: "change", Description: "Changes things; supports check mode.", CheckMode: true,
			Schema: `{"type":"object","required":["path"],"properties":{"path":{"type":"string","minLength":1,"description":"Where."},"mode":{"type":"string","enum":["a","b"],"default":"a"}},"additionalProperties":false}`,
			Do:     testplugin.CheckAware(true, "changed it", "would change it", "-old\n+new")},
		{Name: "echo", Description: "Returns its config as output.", Do: testplugin.Echo("echoed")},
		{Name: "fail", Description: "Fails.", Do: testplugin.Fail("failed", "the disk is on fire")},
		{Name: "spin", Description: "Never returns.", Do: testplugin.Spin()},
		{Name: "grow", Description: "Allocates without end.", Do: testplugin.Grow()},
		{Name: "garbage", Description: "Returns output that is not JSON.", Do: testplugin.Result(false, "m", "not json", "")},
	},
	Collectors: []testplugin.Collector{
		{Name: "info", Description: "Constant facts.", Do: testplugin.Const(`{"answer":42,"name":"fixture"}`)},
		{Name: "configured", Description: "Needs a config.", Schema: `{"type":"object","required":["level"],"properties":{"level":{"type":"integer"}}}`,
			Do: testplugin.Echo("")},
	},
	Extensions: []testplugin.Extension{
		{Name: "wrap", Description: "Returns [value, args...].", Category: "test",
			Args: []testplugin.Arg{{Name: "first", Description: "First."}, {Name: "second-arg"}}, Do: testplugin.Echo("")},
		{Name: "pack", Function: true, Description: "Returns [args...].", Do: testplugin.Echo("")},
		{Name: "answer", Function: true, Description: "Returns 42.", Do: testplugin.Const(`42`)},
		{Name: "reject", Description: "Refuses every value.", Do: testplugin.Fail("invalid-input", "values are not welcome")},
		{Name: "hang", Description: "Never returns.", Do: testplugin.Spin()},
	},
}

var fixtureWasm = sync.OnceValues(func() ([]byte, error) { return fixture.Wasm() })

func fixtureBytes(t *testing.T) []byte {
	t.Helper()
	wasm, err := fixtureWasm()
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// fixtureHome is a new home with the fixture installed.
func fixtureHome(t *testing.T) string {
	home := newHome(t)
	put(t, home, "fixture", fixtureBytes(t))
	return home
}

// repoPath returns a path relative to the repository root.
func repoPath(t *testing.T, rel string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
