package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stateDocText is a document of state export for plugin with the given
// keys and values.
func stateDocText(t *testing.T, plugin string, kv ...string) string {
	t.Helper()
	doc := stateDoc{Format: stateDocFormat, Plugin: plugin, Entries: []stateDocEntry{}}
	for i := 0; i < len(kv); i += 2 {
		doc.Entries = append(doc.Entries, stateDocEntry{Key: kv[i], Value: []byte(kv[i+1])})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStateCommands(t *testing.T) {
	home := newHome(t)
	statePath := filepath.Join(home, "state", "state.db")

	// Reading commands on a home without state create nothing.
	r := runCLI(t, home, 0, "state", "list")
	contains(t, "state list", r.stdout, "no plugin has state")
	runCLI(t, home, 0, "state", "list", "alpha")
	r = runCLI(t, home, 2, "state", "get", "alpha", "k")
	contains(t, "state get of a missing key", r.stderr, `error: plugin alpha: state get: no state key "k"`)
	if _, err := os.Stat(statePath); err == nil {
		t.Fatal("a reading command created the state database")
	}

	// Import (from stdin, and from a file), list, get.
	r = cliIn(t, home, "", stateDocText(t, "alpha", "cursor", "42", "seen/a", "1", "seen/b", "\x00\x01"), "state", "import", "alpha")
	expect(t, r, 0)
	contains(t, "state import", r.stdout, "imported 3 state keys into alpha: it has 3 keys")
	file := writeFile(t, t.TempDir(), "beta.json", stateDocText(t, "old-name", "x", "y"))
	imp := runJSON(t, home, 0, "state", "import", "beta", file)
	if imp["imported"] != 1.0 || imp["from"] != "old-name" || imp["keys"] != 1.0 {
		t.Fatalf("import JSON: %v", imp)
	}

	r = runCLI(t, home, 0, "state", "list")
	contains(t, "state list", r.stdout, "PLUGIN", "alpha", "beta")
	list := runJSON(t, home, 0, "state", "list", "alpha", "--prefix", "seen/")
	if list["count"] != 2.0 || list["bytes"] != 3.0 {
		t.Fatalf("list JSON: %v", list)
	}
	r = runCLI(t, home, 0, "state", "list", "alpha")
	contains(t, "state list alpha", r.stdout, "KEY", "cursor", "seen/a", "seen/b")

	r = runCLI(t, home, 0, "state", "get", "alpha", "cursor")
	if r.stdout != "42" {
		t.Fatalf("state get prints the value as it is: %q", r.stdout)
	}
	get := runJSON(t, home, 0, "state", "get", "alpha", "seen/b")
	if get["value"] != base64.StdEncoding.EncodeToString([]byte("\x00\x01")) || get["size"] != 2.0 {
		t.Fatalf("get JSON: %v", get)
	}

	// Export is the document import reads: a round trip.
	exp := runCLI(t, home, 0, "state", "export", "alpha")
	var doc stateDoc
	if err := json.Unmarshal([]byte(exp.stdout), &doc); err != nil || doc.Plugin != "alpha" || len(doc.Entries) != 3 {
		t.Fatalf("export: %v %s", err, exp.stdout)
	}
	out := filepath.Join(t.TempDir(), "alpha.json")
	runCLI(t, home, 0, "state", "export", "alpha", "--file", out)
	runCLI(t, home, 0, "state", "import", "gamma", out, "--replace")
	if a, g := runCLI(t, home, 0, "state", "get", "gamma", "seen/b").stdout, "\x00\x01"; a != g {
		t.Fatalf("gamma after the move: %q", a)
	}

	// rm: all or nothing; --all.
	r = runCLI(t, home, 2, "state", "rm", "alpha", "cursor", "nope")
	contains(t, "rm with a missing key", r.stderr, `no state key "nope" (nothing removed)`)
	runCLI(t, home, 0, "state", "get", "alpha", "cursor")
	rm := runJSON(t, home, 0, "state", "rm", "alpha", "cursor", "seen/a")
	if rm["removed"] != 2.0 {
		t.Fatalf("rm JSON: %v", rm)
	}
	runCLI(t, home, 2, "state", "get", "alpha", "cursor")
	r = runCLI(t, home, 0, "state", "rm", "alpha", "--all")
	contains(t, "rm --all", r.stdout, "removed 1 state key of alpha")

	// --replace makes the state exactly the document's; merging keeps keys.
	runCLI(t, home, 0, "state", "import", "beta", writeFile(t, t.TempDir(), "m.json", stateDocText(t, "beta", "z", "1")))
	if l := runJSON(t, home, 0, "state", "list", "beta"); l["count"] != 2.0 {
		t.Fatalf("a merging import removed keys: %v", l)
	}
	runCLI(t, home, 0, "state", "import", "beta", "--replace", writeFile(t, t.TempDir(), "r.json", stateDocText(t, "beta", "z", "2")))
	if l := runJSON(t, home, 0, "state", "list", "beta"); l["count"] != 1.0 {
		t.Fatalf("a replacing import kept keys: %v", l)
	}
}

func TestStateCommandErrors(t *testing.T) {
	home := newHome(t)
	writeFile(t, home, "plugins.toml", "[plugins.small]\nmax_state_value_size = 4\nmax_state_keys = 2\nmax_state_bytes = 1000\n")
	fifo := mkfifo(t, filepath.Join(t.TempDir(), "state.json"))
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"bad name", "", []string{"state", "list", "no/such"}, 2, "invalid plugin name"},
		{"rm without keys", "", []string{"state", "rm", "alpha"}, 2, "state rm needs PLUGIN and the KEYs to remove, or PLUGIN --all"},
		{"rm --all with keys", "", []string{"state", "rm", "alpha", "k", "--all"}, 2, "state rm --all takes only PLUGIN"},
		{"not JSON", "hello", []string{"state", "import", "alpha"}, 2, "stdin: not a document of driftless state export"},
		{"other format", `{"format":"x","plugin":"a","entries":[]}`, []string{"state", "import", "alpha"}, 2, `stdin: format "x", want "driftless-state/1"`},
		{"unknown field", `{"format":"driftless-state/1","plugin":"a","entries":[],"extra":1}`, []string{"state", "import", "alpha"}, 2, `unknown field "extra"`},
		{"value not base64", `{"format":"driftless-state/1","plugin":"a","entries":[{"key":"k","value":"!!"}]}`, []string{"state", "import", "alpha"}, 2, "not a document of driftless state export"},
		{"twice", stateDocText(t, "a", "k", "1", "k", "2"), []string{"state", "import", "alpha"}, 2, `stdin: key "k" appears twice`},
		{"over the value limit", stateDocText(t, "a", "k", "12345"), []string{"state", "import", "small"}, 2,
			`plugin small: state import: state: the value for key "k" is 5 bytes, over the limit of 4 (max_state_value_size)`},
		{"over the key limit", stateDocText(t, "a", "a", "1", "b", "2", "c", "3"), []string{"state", "import", "small"}, 2,
			"the import would make 3 keys, over the limit of 2 (max_state_keys)"},
		{"too large to read", strings.Repeat(" ", 1<<20), []string{"state", "import", "small"}, 2, "more than the plugin's state limits allow"},
		{"not a file", "", []string{"state", "import", "alpha", home}, 2, home + " is a directory, not a regular file"},
		{"a FIFO", "", []string{"state", "import", "alpha", fifo}, 2, fifo + " is a named pipe (FIFO), not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cliIn(t, home, "", c.stdin, c.args...)
			expect(t, r, c.code, c.args...)
			contains(t, c.name, r.stderr, c.want)
		})
	}
	// Nothing was imported by the failures.
	r := runCLI(t, home, 0, "state", "list")
	contains(t, "state list", r.stdout, "no plugin has state")

	// A corrupt database is an error naming the file (exit 1).
	if err := os.MkdirAll(filepath.Join(home, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	db := writeFile(t, filepath.Join(home, "state"), "state.db", strings.Repeat("garbage!", 512))
	doc := runJSON(t, home, 1, "state", "list", "alpha")
	e := errorOf(t, doc, "state")
	contains(t, "corrupt database", e["message"].(string), "state database "+db+": open: the file is not a database")
}

// plugins inspect shows the state limits in force.
func TestInspectStateLimits(t *testing.T) {
	home := fixtureHome(t)
	writeFile(t, home, "plugins.toml", "[plugins.fixture]\nmax_state_keys = 7\n")
	l := runJSON(t, home, 0, "plugins", "inspect", "fixture")["limits"].(map[string]any)
	if l["max_state_keys"] != 7.0 || l["max_state_key_size"] != 1024.0 || l["max_state_value_size"] != float64(1<<20) || l["max_state_bytes"] != float64(64<<20) {
		t.Fatalf("limits: %v", l)
	}
	r := runCLI(t, home, 0, "plugins", "inspect", "fixture")
	contains(t, "inspect", r.stdout, "max_state_keys          7", "max_state_value_size    1 MiB (1048576 bytes)")
}

func TestPluginsRemoveState(t *testing.T) {
	home := fixtureHome(t)
	state := stateDocText(t, "fixture", "k", "v", "k2", "v2")
	// Without a terminal to ask on, and without flags: the state is kept,
	// and the output says how to remove it.
	expect(t, cliIn(t, home, "", state, "state", "import", "fixture"), 0)
	r := runCLI(t, home, 0, "plugins", "remove", "fixture")
	contains(t, "remove", r.stdout, "removed fixture", "kept its state (2 keys", "driftless state rm fixture --all")
	if l := runJSON(t, home, 0, "state", "list", "fixture"); l["count"] != 2.0 {
		t.Fatalf("state after remove: %v", l)
	}
	// --purge removes it; JSON says so.
	put(t, home, "fixture", fixtureBytes(t))
	doc := runJSON(t, home, 0, "plugins", "remove", "fixture", "--purge")
	st, _ := doc["state"].(map[string]any)
	if doc["removed"] != true || st == nil || st["removed"] != true || st["keys"] != 2.0 {
		t.Fatalf("remove --purge JSON: %v", doc)
	}
	if l := runJSON(t, home, 0, "state", "list", "fixture"); l["count"] != 0.0 {
		t.Fatalf("state after --purge: %v", l)
	}
	// --keep-state, and a plugin without state.
	put(t, home, "fixture", fixtureBytes(t))
	expect(t, cliIn(t, home, "", state, "state", "import", "fixture"), 0)
	doc = runJSON(t, home, 0, "plugins", "remove", "fixture", "--keep-state")
	if st, _ := doc["state"].(map[string]any); st == nil || st["removed"] != false {
		t.Fatalf("remove --keep-state JSON: %v", doc)
	}
	put(t, home, "fixture", fixtureBytes(t))
	runCLI(t, home, 0, "state", "rm", "fixture", "--all")
	doc = runJSON(t, home, 0, "plugins", "remove", "fixture")
	if _, ok := doc["state"]; ok {
		t.Fatalf("a plugin without state: %v", doc)
	}
	put(t, home, "fixture", fixtureBytes(t))
	runCLI(t, home, 2, "plugins", "remove", "fixture", "--purge", "--keep-state")
}

// The question plugins remove asks on a terminal: only yes is yes.
func TestAskYesNo(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{{"y\n", true}, {"YES\n", true}, {" yes \n", true}, {"n\n", false}, {"\n", false}, {"", false}, {"maybe\n", false}} {
		var out strings.Builder
		if got := askYesNo(strings.NewReader(c.in), &out, "remove? [y/N] "); got != c.want || out.String() != "remove? [y/N] " {
			t.Errorf("%q: %v (asked %q)", c.in, got, out.String())
		}
	}
}
