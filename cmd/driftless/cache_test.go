package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/driftless-dev/driftless/internal/testplugin"
)

// privateHome is a home with a compile cache of its own (not the shared
// one of the other tests, which these commands would empty).
func privateHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	return home
}

// TestCacheCommands: `plugins validate` leaves nothing in the cache, a run
// or an install fills it, `plugins remove` and `cache prune|clear` empty
// it, and `cache info` tells what is there, in text and JSON.
func TestCacheCommands(t *testing.T) {
	home := privateHome(t)
	other, err := testplugin.Plugin{Name: "other", Version: "2.0.0", Tasks: []testplugin.Task{
		{Name: "ok", Do: testplugin.Result(false, "fine", "null", "")}}}.Wasm()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	otherFile := writeFile(t, dir, "other.wasm", string(other))
	info := func() map[string]any {
		t.Helper()
		return runJSON(t, home, 0, "cache", "info")
	}
	count := func(doc map[string]any, key string) float64 {
		t.Helper()
		if key == "" {
			return doc["entries"].(float64)
		}
		return doc[key].(map[string]any)["entries"].(float64)
	}

	runCLI(t, home, 0, "plugins", "validate", otherFile)
	if doc := info(); count(doc, "") != 0 || doc["enabled"] != true || doc["dir"] != filepath.Join(home, "cache") {
		t.Fatalf("after validate: %v", doc)
	}
	put(t, home, "fixture", fixtureBytes(t))
	runCLI(t, home, 0, "task", "run", "fixture.ok")
	runCLI(t, home, 0, "plugins", "install", otherFile)
	doc := info()
	plugins := doc["plugins"].([]any)
	if count(doc, "") != 2 || len(plugins) != 2 || plugins[0].(map[string]any)["name"] != "fixture" ||
		plugins[1].(map[string]any)["name"] != "other" || count(doc, "unused") != 0 {
		t.Fatalf("after a run and an install: %v", doc)
	}
	r := runCLI(t, home, 0, "cache", "info")
	if !regexp.MustCompile(`^compile cache \S+/cache: 2 entries, [0-9.]+ KiB\n  fixture  [0-9.]+ KiB\n  other    [0-9.]+ KiB\n$`).MatchString(r.stdout) {
		t.Errorf("cache info:\n%s", r.stdout)
	}

	// Removing a plugin removes its compiled code.
	doc = runJSON(t, home, 0, "plugins", "remove", "other")
	if count(doc, "cache_removed") != 1 {
		t.Errorf("remove: %v", doc)
	}
	if doc := info(); count(doc, "") != 1 {
		t.Fatalf("after remove: %v", doc)
	}

	// A plugin file deleted by hand leaves an unused entry: prune removes
	// it, and only it.
	runCLI(t, home, 0, "plugins", "install", otherFile)
	if err := os.Remove(filepath.Join(home, "plugins", "other.wasm")); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, home, 0, "cache", "info")
	if !regexp.MustCompile(`\n  \(unused\)  1 entry, [0-9.]+ KiB  driftless cache prune removes them\n$`).MatchString(r.stdout) {
		t.Errorf("cache info with an unused entry:\n%s", r.stdout)
	}
	r = runCLI(t, home, 0, "cache", "prune")
	if !regexp.MustCompile(`^removed 1 entry, [0-9.]+ KiB no installed plugin used from \S+/cache\n$`).MatchString(r.stdout) {
		t.Errorf("cache prune: %q", r.stdout)
	}
	if doc := info(); count(doc, "") != 1 || count(doc, "unused") != 0 {
		t.Fatalf("after prune: %v", doc)
	}
	doc = runJSON(t, home, 0, "cache", "prune")
	if count(doc, "removed") != 0 {
		t.Errorf("second prune: %v", doc)
	}

	doc = runJSON(t, home, 0, "cache", "clear")
	if count(doc, "removed") != 1 || doc["dir"] != filepath.Join(home, "cache") {
		t.Errorf("clear: %v", doc)
	}
	if doc := info(); count(doc, "") != 0 {
		t.Fatalf("after clear: %v", doc)
	}
	errorOf(t, runJSON(t, home, 2, "cache", "nosuch"), "usage")
	errorOf(t, runJSON(t, home, 2, "cache", "info", "extra"), "usage")
}

// An unsafe cache is reported by `cache info` (and not used).
func TestCacheInfoUnsafe(t *testing.T) {
	home := privateHome(t)
	cache := filepath.Join(home, "cache")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	doc := runJSON(t, home, 0, "cache", "info")
	if msg, _ := doc["unsafe"].(string); doc["enabled"] != false || !regexp.MustCompile(`is writable by group and others .*chmod go-w `).MatchString(msg) {
		t.Errorf("cache info: %v", doc)
	}
	put(t, home, "fixture", fixtureBytes(t))
	r := runCLI(t, home, 0, "task", "run", "fixture.ok")
	contains(t, "warning", r.stderr, "compile cache "+cache+" is not used")
	r = runCLI(t, home, 0, "cache", "info")
	contains(t, "cache info", r.stdout, "compile cache "+cache+": 0 entries, 0 bytes\nNOT USED: compile cache "+cache+" is not used")
}
