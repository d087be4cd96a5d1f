package pluginlock

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func entry(name string) Entry {
	return Entry{Name: name, Source: SourceRegistry, Registry: "team", Ref: "oci://r.example/p/" + name + "@sha256:" + sum,
		Version: "1.2.0", SHA256: sum, Size: 1234, Key: "sha256:" + sum}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l := New(path)
	l.Set(entry("hello"))
	l.Set(Entry{Name: "local", Source: SourceFile, Ref: "file:///tmp/local.wasm", SHA256: sum, Size: 9})
	if err := l.Write(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, l) {
		t.Errorf("read back:\n got  %+v\n want %+v", got, l)
	}
	// Deterministic: the same lock marshals to the same bytes.
	if a, b := string(l.Marshal()), string(got.Marshal()); a != b {
		t.Errorf("marshal differs:\n%s\n%s", a, b)
	}
	text := string(l.Marshal())
	if !strings.Contains(text, "[plugins.hello]\nsource = \"registry\"\nregistry = \"team\"\n") ||
		strings.Index(text, "[plugins.hello]") > strings.Index(text, "[plugins.local]") {
		t.Errorf("unexpected layout:\n%s", text)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	l, err := Read(filepath.Join(t.TempDir(), FileName))
	if err != nil || len(l.Plugins) != 0 {
		t.Fatalf("Read of a missing file: %v, %v", l, err)
	}
}

func TestParseErrors(t *testing.T) {
	good := "version = 1\n\n[plugins.hello]\nsource = \"registry\"\nregistry = \"team\"\nref = \"oci://r/p/hello@sha256:" + sum +
		"\"\nsha256 = \"" + sum + "\"\nsize = 10\n"
	if _, err := Parse("plugins.lock", []byte(good)); err != nil {
		t.Fatalf("good lock: %v", err)
	}
	cases := []struct{ name, data, want string }{
		{"syntax", "version = 1\n[plugins.a\n", "lock file plugins.lock:3: expected '.' or ']' to end table name"},
		{"missing version", "[plugins]\n", "lock file plugins.lock: version: is missing"},
		{"future version", "\nversion = 7\n", "lock file plugins.lock:2: version: 7 is not a version this driftless reads (1)"},
		{"unknown key", strings.Replace(good, "size = 10", "size = 10\nsignature = 'x'", 1), "lock file plugins.lock:9: plugins.hello.signature: unknown key"},
		{"bad sha256", strings.Replace(good, "sha256 = \""+sum, "sha256 = \"ABC", 1), "lock file plugins.lock:7: plugins.hello.sha256: \"ABC"},
		{"bad size", strings.Replace(good, "size = 10", "size = -1", 1), "lock file plugins.lock:8: plugins.hello.size: -1 is not a file size"},
		{"bad source", strings.Replace(good, `source = "registry"`, `source = "ftp"`, 1), "lock file plugins.lock:4: plugins.hello.source: \"ftp\" is not one of registry, oci, file"},
		{"no registry", strings.Replace(good, "registry = \"team\"\n", "", 1), "lock file plugins.lock:3: plugins.hello.registry: is missing (source = \"registry\" needs it)"},
		{"no ref", strings.Replace(good, "ref =", "#ref =", 1), "lock file plugins.lock:3: plugins.hello.ref: is missing"},
		{"bad key", strings.Replace(good, "size = 10", "size = 10\nkey = 'abc'", 1), "lock file plugins.lock:9: plugins.hello.key: \"abc\" is not a key fingerprint"},
		{"bad name", strings.Replace(good, "[plugins.hello]", "[plugins.\"a b\"]", 1), "plugins.\"a b\": \"a b\" is not a valid plugin name"},
		{"wrong type", strings.Replace(good, "size = 10", "size = 'ten'", 1), "lock file plugins.lock"},
		{"deep nesting", "version = 1\nx = " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", "lock file plugins.lock:2: nests arrays or tables deeper than 8 levels"},
		{"deep key", "version = 1\n[" + strings.Repeat("a.", 50) + "a]\n", "lock file plugins.lock:2: has a key of more than 8 parts"},
		{"too big", "version = 1\n" + strings.Repeat("#", MaxSize), "is over 1048576 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("plugins.lock", []byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			var le *Error
			if !errors.As(err, &le) || le.File != "plugins.lock" {
				t.Errorf("not a *Error naming the file: %#v", err)
			}
		})
	}
}

func TestReadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("Read of a directory: %v", err)
	}
}

// Writers racing on one lock file never leave a torn file: every read
// sees one complete version (the home lock serializes real updates; this
// checks the file itself).
func TestAtomicWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := New(path)
			for i := 0; i < 50; i++ {
				l.Set(entry("p" + string(rune('a'+w))))
				if err := l.Write(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		if _, err := Read(path); err != nil {
			t.Fatalf("torn read: %v", err)
		}
	}
	wg.Wait()
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestSetPanicsOnInvalidEntry(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New("x").Set(Entry{Name: "a"})
}
