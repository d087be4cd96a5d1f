package main

// TestDocsExamples runs the examples of docs/cli.md: every fenced block of
// it is preceded by a marker, an HTML comment that readers do not see,
// saying how the block is checked:
//
//	<!-- test[ OPTIONS]: driftless ARGS -->   the block is the output of the command
//	<!-- test commands[ OPTIONS] -->          every `driftless ...` line of the block succeeds
//	<!-- test session[ OPTIONS] -->           "$ driftless ..." lines, each followed by its output
//	<!-- test file=PATH -->                   the block is the file PATH of the repository
//	<!-- synopsis -->                         a usage line: `driftless CMD --help` works
//
// OPTIONS: exit=N (the command's exit code, default 0), stderr (compare
// stderr instead of stdout), plugins=a,b (the home's plugins, from
// build/examples, plus "broken", a file that is not WebAssembly; default
// js-plugin,legacy-plugin,c-plugin; "none" for none), cache=private (a
// compile cache of the home's own instead of the tests' shared one).
//
// Commands run in a directory where examples/ and build/ are the
// repository's and evil.wasm is a component that imports what plugins may
// not. Outputs are compared after normalising what must vary: the home's
// path (shown as /home/me/.driftless), the host name (web1), durations and
// sizes. In an expected text, a line "..." stands for any lines and "..."
// within a line for any text; in expected JSON, the string "..." stands
// for any value, a string ending in "..." for any string starting so, a
// last array element "..." for any further elements.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

// docExample is a marked block of a document.
type docExample struct {
	line    int    // of the marker
	kind    string // "test", "commands", "session", "file", "synopsis"
	command []string
	opts    map[string]string
	lang    string // the block's language
	body    string
}

var markerRe = regexp.MustCompile(`^<!-- (test|synopsis)((?: [a-z]+(?:=[^ :]*)?)*)(?:: (.*?))? -->$`)

// docExamples reads the marked blocks of the markdown file at path; it
// fails for a block without a marker.
func docExamples(t *testing.T, path string) []docExample {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []docExample
	var pending *docExample
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := markerRe.FindStringSubmatch(l); m != nil {
			ex := docExample{line: i + 1, kind: m[1], opts: map[string]string{}}
			for _, o := range strings.Fields(m[2]) {
				k, v, _ := strings.Cut(o, "=")
				switch k {
				case "commands", "session":
					ex.kind = k
				default:
					ex.opts[k] = v
				}
			}
			if ex.opts["file"] != "" {
				ex.kind = "file"
			}
			if m[3] != "" {
				ex.command, err = splitArgs(m[3])
				if err != nil {
					t.Fatalf("%s:%d: %v", path, i+1, err)
				}
			}
			pending = &ex
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "<!-- test") || strings.HasPrefix(strings.TrimSpace(l), "<!-- synopsis") {
			t.Fatalf("%s:%d: malformed marker %q", path, i+1, l)
		}
		if !strings.HasPrefix(l, "```") {
			if pending != nil && strings.TrimSpace(l) != "" {
				t.Fatalf("%s:%d: the marker of line %d is not followed by a block", path, i+1, pending.line)
			}
			continue
		}
		lang := strings.TrimPrefix(l, "```")
		start := i + 1
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
		}
		if pending == nil {
			t.Errorf("%s:%d: a block without a test marker (every example in the docs is tested; see docs_test.go)", path, start)
			continue
		}
		pending.lang, pending.body = lang, strings.Join(lines[start:i], "\n")+"\n"
		out = append(out, *pending)
		pending = nil
	}
	return out
}

// splitArgs splits a command line as a POSIX shell would, for the quoting
// the docs use: single and double quotes, backslash in double quotes.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`, s[i+1]) >= 0:
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote in %q", s)
	}
	if in {
		args = append(args, cur.String())
	}
	return args, nil
}

// evilWAT imports what plugins may not, and provides nothing.
const evilWAT = `(component
  (import "wasi:sockets/tcp@0.2.0" (instance))
  (import "evil:mischief/all@1.0.0" (instance)))`

// docWorkDir is where the examples' commands run: examples/ and build/ of
// the repository, and evil.wasm.
func docWorkDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"examples", "build"} {
		if err := os.Symlink(repoPath(t, d), filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	evil, err := wasmtime.Wat2Wasm(evilWAT)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "evil.wasm", string(evil))
	return dir
}

// docHome makes the home an example asks for.
func docHome(t *testing.T, ex docExample) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if ex.opts["cache"] != "private" {
		if err := os.MkdirAll(sharedCache, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(sharedCache, filepath.Join(home, "cache")); err != nil {
			t.Fatal(err)
		}
	}
	plugins, ok := ex.opts["plugins"]
	if !ok {
		plugins = "js-plugin,legacy-plugin,c-plugin"
	}
	for _, p := range strings.Split(plugins, ",") {
		switch p {
		case "none", "":
		case "broken":
			put(t, home, "broken", []byte("this is not WebAssembly"))
		default:
			put(t, home, p, builtexample.Wasm(t, p))
		}
	}
	return home
}

var (
	builtRe    = regexp.MustCompile(`build/examples/([a-z-]+)\.wasm`)
	durationRe = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|ms|s)\b`)
	sizeRe     = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)? (bytes|KiB|MiB|GiB)\b`)
)

// normalise replaces what varies between runs in s.
func normalise(s, home string) string {
	s = strings.ReplaceAll(s, home, "/home/me/.driftless")
	if h, err := os.Hostname(); err == nil && h != "" {
		s = regexp.MustCompile(`\b`+regexp.QuoteMeta(h)+`\b`).ReplaceAllString(s, "web1")
	}
	s = durationRe.ReplaceAllString(s, "DURATION")
	return sizeRe.ReplaceAllString(s, "SIZE")
}

func TestDocsExamples(t *testing.T) {
	for _, ex := range docExamples(t, repoPath(t, "docs/cli.md")) {
		t.Run(fmt.Sprintf("cli.md:%d", ex.line), func(t *testing.T) {
			// Examples the block installs must be built (else it skips,
			// or fails under DRIFTLESS_REQUIRE_EXAMPLES=1).
			for _, m := range builtRe.FindAllStringSubmatch(ex.body+strings.Join(ex.command, " "), -1) {
				builtexample.Path(t, m[1])
			}
			switch ex.kind {
			case "file":
				want, err := os.ReadFile(repoPath(t, ex.opts["file"]))
				if err != nil {
					t.Fatal(err)
				}
				if ex.body != string(want) {
					t.Errorf("the block is not %s as shipped:\n%s", ex.opts["file"], ex.body)
				}
			case "synopsis":
				words := strings.Fields(ex.body)
				var cmd []string
				for _, w := range words[1:] {
					if strings.ToLower(w) != w || strings.ContainsAny(w, "[.-") {
						break
					}
					cmd = append(cmd, w)
				}
				runCLI(t, newHome(t), 0, append(cmd, "--help")...)
			case "commands":
				home, dir := docHome(t, ex), docWorkDir(t)
				for _, l := range strings.Split(ex.body, "\n") {
					if !strings.HasPrefix(l, "driftless ") {
						continue
					}
					if i := strings.Index(l, "  #"); i > 0 {
						l = strings.TrimSpace(l[:i])
					}
					args, err := splitArgs(strings.TrimPrefix(l, "driftless "))
					if err != nil {
						t.Fatal(err)
					}
					r := cliIn(t, home, dir, "", args...)
					expect(t, r, 0, args...)
				}
			case "session":
				home, dir := docHome(t, ex), docWorkDir(t)
				parts := strings.Split("\n"+ex.body, "\n$ ")
				for _, part := range parts[1:] {
					cmdLine, want, _ := strings.Cut(part, "\n")
					args, err := splitArgs(strings.TrimPrefix(cmdLine, "driftless "))
					if err != nil || !strings.HasPrefix(cmdLine, "driftless ") {
						t.Fatalf("%q: not a driftless command (%v)", cmdLine, err)
					}
					r := cliIn(t, home, dir, "", args...)
					expect(t, r, 0, args...)
					compareText(t, cmdLine, normalise(want, home), normalise(r.stdout, home))
				}
			default:
				if len(ex.command) < 2 || ex.command[0] != "driftless" {
					t.Fatalf("the marker's command is not a driftless command: %q", ex.command)
				}
				home, dir := docHome(t, ex), docWorkDir(t)
				code := 0
				if s, ok := ex.opts["exit"]; ok {
					code, _ = strconv.Atoi(s)
				}
				r := cliIn(t, home, dir, "", ex.command[1:]...)
				expect(t, r, code, ex.command[1:]...)
				got := r.stdout
				if _, ok := ex.opts["stderr"]; ok {
					got = r.stderr
				}
				got, want := normalise(got, home), normalise(ex.body, home)
				if ex.lang == "json" {
					compareJSON(t, want, got)
				} else {
					compareText(t, strings.Join(ex.command, " "), want, got)
				}
			}
		})
	}
}

// compareText compares output with the documented text ("..." wildcards).
func compareText(t *testing.T, what, want, got string) {
	t.Helper()
	// Trailing blank lines do not show in the docs.
	w := strings.Split(strings.TrimRight(want, "\n"), "\n")
	g := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if !matchLines(w, g) {
		t.Errorf("%s: the output does not match the docs\n--- docs\n%s\n--- output\n%s", what, want, got)
	}
}

// matchLines matches lines against patterns: a pattern "..." matches any
// number of lines, "..." within a pattern any text.
func matchLines(pats, lines []string) bool {
	if len(pats) == 0 {
		return len(lines) == 0
	}
	if strings.TrimSpace(pats[0]) == "..." {
		for i := 0; i <= len(lines); i++ {
			if matchLines(pats[1:], lines[i:]) {
				return true
			}
		}
		return false
	}
	return len(lines) > 0 && matchLine(pats[0], lines[0]) && matchLines(pats[1:], lines[1:])
}

func matchLine(pat, line string) bool {
	parts := strings.Split(pat, "...")
	if len(parts) == 1 {
		return pat == line
	}
	if !strings.HasPrefix(line, parts[0]) {
		return false
	}
	rest := line[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(rest, p)
		}
		j := strings.Index(rest, p)
		if j < 0 {
			return false
		}
		rest = rest[j+len(p):]
	}
	return true
}

// compareJSON compares a JSON output with the documented JSON (see the
// wildcards above).
func compareJSON(t *testing.T, want, got string) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("the docs' JSON does not parse: %v\n%s", err, want)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("the output is not JSON: %v\n%s", err, got)
	}
	if path, ok := matchJSON("", w, g); !ok {
		t.Errorf("the output does not match the docs at %s\n--- docs\n%s\n--- output\n%s", path, want, got)
	}
}

func matchJSON(path string, want, got any) (string, bool) {
	switch w := want.(type) {
	case string:
		if w == "..." {
			return "", true
		}
		g, ok := got.(string)
		if p, cut := strings.CutSuffix(w, "..."); cut && ok {
			return path, strings.HasPrefix(g, p)
		}
		return path, ok && g == w
	case []any:
		g, ok := got.([]any)
		if !ok {
			return path, false
		}
		open := len(w) > 0 && w[len(w)-1] == "..."
		if open {
			w = w[:len(w)-1]
		}
		if len(g) < len(w) || (!open && len(g) != len(w)) {
			return path + " (length)", false
		}
		for i := range w {
			if p, ok := matchJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); !ok {
				return p, false
			}
		}
		return "", true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		_, open := w["..."]
		for k, v := range w {
			if k == "..." {
				continue
			}
			gv, ok := g[k]
			if !ok {
				return path + "." + k + " (missing)", false
			}
			if p, ok := matchJSON(path+"."+k, v, gv); !ok {
				return p, false
			}
		}
		if !open {
			for k := range g {
				if _, ok := w[k]; !ok {
					return path + "." + k + " (not in the docs)", false
				}
			}
		}
		return "", true
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	return path, string(wb) == string(gb)
}

// The matchers the docs test relies on.
func TestDocsMatchers(t *testing.T) {
	for _, c := range []struct {
		pat, line string
		ok        bool
	}{
		{"abc", "abc", true}, {"abc", "abcd", false}, {"a...d", "abcd", true}, {"a...", "a", true},
		{"...x", "yx", true}, {"a...c...e", "abcde", true}, {"a...c...e", "abde", false}, {"...ignoring", "...ignoring", true},
	} {
		t.Run(c.pat+"/"+c.line, func(t *testing.T) {
			if matchLine(c.pat, c.line) != c.ok {
				t.Errorf("matchLine(%q, %q) != %t", c.pat, c.line, c.ok)
			}
		})
	}
	if !matchLines([]string{"a", "...", "z"}, []string{"a", "b", "c", "z"}) || matchLines([]string{"a", "...", "z"}, []string{"a", "b"}) {
		t.Error("matchLines with a line wildcard")
	}
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{`{"a": 1}`, `{"a": 1}`, true}, {`{"a": 1}`, `{"a": 1, "b": 2}`, false}, {`{"a": 1, "...": "..."}`, `{"a": 1, "b": 2}`, true},
		{`["x", "..."]`, `["x", "y", "z"]`, true}, {`["x"]`, `["x", "y"]`, false}, {`{"s": "Exa..."}`, `{"s": "Example"}`, true},
		{`{"s": "..."}`, `{"s": {"deep": [1]}}`, true}, {`{"n": 1}`, `{"n": 2}`, false},
	} {
		var w, g any
		json.Unmarshal([]byte(c.want), &w)
		json.Unmarshal([]byte(c.got), &g)
		if _, ok := matchJSON("", w, g); ok != c.ok {
			t.Errorf("matchJSON(%s, %s) = %t", c.want, c.got, ok)
		}
	}
	args, err := splitArgs(`-o json task run x.y --config '{"key":"a b"}' "q\"q" plain`)
	if err != nil || fmt.Sprintf("%q", args) != `["-o" "json" "task" "run" "x.y" "--config" "{\"key\":\"a b\"}" "q\"q" "plain"]` {
		t.Errorf("splitArgs: %q, %v", args, err)
	}
}
