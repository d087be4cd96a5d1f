// Package pluginlock reads and writes plugins.lock, the file that pins each
// installed plugin of a Driftless home to where it came from (a registry, an
// OCI reference or a local file), its version, the SHA-256 of its wasm and
// the key that verified its signature. `driftless plugins install`, `update`
// and `remove` keep it current; `plugins install` without arguments installs
// exactly what it names; the host refuses to load an installed plugin whose
// bytes no longer match its entry.
//
// The file is TOML (docs/registries.md describes it):
//
//	version = 1
//
//	[plugins.hello]
//	source = "registry"
//	registry = "team"
//	ref = "oci://registry.example/plugins/hello@sha256:…"
//	version = "1.2.0"
//	sha256 = "…"
//	size = 123456
//	key = "sha256:…"
//
// Everything read is bounded before it is decoded (MaxSize, nesting depth),
// and every error names the file and, where it can, the line.
package pluginlock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/driftless-dev/driftless/pluginstore"
)

// FileName is the lock file's name in a plugin home.
const FileName = "plugins.lock"

// MaxSize is the largest lock file read: about 4,000 entries, far more
// than a home holds.
const MaxSize = 1 << 20

// maxDepth bounds the nesting of tables and arrays: the format needs two
// levels ([plugins.NAME]); anything deeper is refused before decoding, as
// the TOML decoder's memory use grows quadratically with nesting.
const maxDepth = 8

// FormatVersion is the version of the format this package writes.
const FormatVersion = 1

// Source says where a locked plugin came from.
type Source string

// The sources of a plugin.
const (
	// SourceRegistry: a [[registries]] entry of plugins.toml, by name.
	SourceRegistry Source = "registry"
	// SourceOCI: an OCI reference given on the command line.
	SourceOCI Source = "oci"
	// SourceFile: a local file.
	SourceFile Source = "file"
)

// Entry pins one installed plugin.
type Entry struct {
	// Name is the plugin's name (its file is plugins/NAME.wasm).
	Name string `toml:"-"`
	// Source says where the plugin came from.
	Source Source `toml:"source"`
	// Registry is the name of the registry (SourceRegistry only).
	Registry string `toml:"registry,omitempty"`
	// Upstream is the plugin's name in its registry when it was installed
	// under another (install --name); "" means Name.
	Upstream string `toml:"upstream,omitempty"`
	// Ref is the exact location of the bytes: an OCI reference by
	// manifest digest (oci://HOST/REPO@sha256:…), the URL of a file of a
	// static index, or file:///PATH of a local file.
	Ref string `toml:"ref"`
	// Version is the version installed: the registry's version, the OCI
	// tag, or the plugin's own metadata version for files; may be "".
	Version string `toml:"version,omitempty"`
	// SHA256 is the hex SHA-256 of the wasm file.
	SHA256 string `toml:"sha256"`
	// Size is the wasm file's size in bytes.
	Size int64 `toml:"size"`
	// Key is the fingerprint ("sha256:" and the hex SHA-256 of the DER
	// public key) of the key that verified the plugin's signature, or ""
	// when none was required.
	Key string `toml:"key,omitempty"`
}

// UpstreamName returns the plugin's name in its registry.
func (e Entry) UpstreamName() string {
	if e.Upstream != "" {
		return e.Upstream
	}
	return e.Name
}

// Lock is the content of a lock file.
type Lock struct {
	// Path is the file the lock was read from and is written to.
	Path string
	// Plugins are the entries by plugin name.
	Plugins map[string]Entry
}

// New returns an empty lock to be written at path.
func New(path string) *Lock { return &Lock{Path: path, Plugins: map[string]Entry{}} }

// Error is a problem with a lock file.
type Error struct {
	File string // the lock file
	Line int    // 1-based line, or 0 when unknown
	Key  string // the key at fault, e.g. "plugins.hello.sha256"; may be ""
	Err  error
}

func (e *Error) Error() string {
	s := "lock file " + e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Read reads the lock file at path. A missing file is an empty lock.
func Read(path string) (*Lock, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return New(path), nil
	}
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{File: path, Err: errors.New("is not a regular file")}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Parse(path, data)
}

// Parse parses the content of a lock file; path is used in errors and
// kept as the lock's Path.
func Parse(path string, data []byte) (*Lock, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: path, Err: fmt.Errorf("is over %d bytes", MaxSize)}
	}
	if line, err := checkDepth(data, maxDepth); err != nil {
		return nil, &Error{File: path, Line: line, Err: err}
	}
	var doc struct {
		Version *int64           `toml:"version"`
		Plugins map[string]Entry `toml:"plugins"`
	}
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: path, Line: pe.Position.Line, Err: errors.New(pe.Message)}
		}
		return nil, &Error{File: path, Err: err}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &Error{File: path, Line: keyLine(data, k), Key: k.String(),
			Err: errors.New("unknown key (entries have: source, registry, upstream, ref, version, sha256, size, key)")}
	}
	if doc.Version == nil {
		return nil, &Error{File: path, Key: "version", Err: errors.New("is missing")}
	}
	if *doc.Version != FormatVersion {
		return nil, &Error{File: path, Line: keyLine(data, toml.Key{"version"}), Key: "version",
			Err: fmt.Errorf("%d is not a version this driftless reads (%d)", *doc.Version, FormatVersion)}
	}
	l := New(path)
	for name, e := range doc.Plugins {
		e.Name = name
		if err := e.check(); err != nil {
			key := toml.Key{"plugins", name}
			var fe *fieldError
			if errors.As(err, &fe) {
				key = append(key, fe.field)
			}
			return nil, &Error{File: path, Line: keyLine(data, key), Key: key.String(), Err: err}
		}
		l.Plugins[name] = e
	}
	return l, nil
}

type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.err.Error() }

var (
	// validName is the host's rule for plugin names (host.CheckName).
	validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
	hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	keyPrint  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// check reports what is wrong with an entry.
func (e *Entry) check() error {
	bad := func(field, format string, args ...any) error {
		return &fieldError{field: field, err: fmt.Errorf(format, args...)}
	}
	if !validName.MatchString(e.Name) {
		return fmt.Errorf("%q is not a valid plugin name", e.Name)
	}
	switch e.Source {
	case SourceRegistry:
		if e.Registry == "" {
			return bad("registry", "is missing (source = %q needs it)", e.Source)
		}
	case SourceOCI, SourceFile:
	case "":
		return bad("source", "is missing")
	default:
		return bad("source", "%q is not one of registry, oci, file", e.Source)
	}
	if e.Upstream != "" && !validName.MatchString(e.Upstream) {
		return bad("upstream", "%q is not a valid plugin name", e.Upstream)
	}
	if e.Ref == "" {
		return bad("ref", "is missing")
	}
	if !hexSHA256.MatchString(e.SHA256) {
		return bad("sha256", "%q is not a SHA-256 digest (64 lowercase hex digits)", e.SHA256)
	}
	if e.Size <= 0 {
		return bad("size", "%d is not a file size", e.Size)
	}
	if e.Key != "" && !keyPrint.MatchString(e.Key) {
		return bad("key", "%q is not a key fingerprint (sha256: and 64 lowercase hex digits)", e.Key)
	}
	return nil
}

// Get returns the entry of the named plugin.
func (l *Lock) Get(name string) (Entry, bool) {
	e, ok := l.Plugins[name]
	return e, ok
}

// Set adds or replaces the entry of e.Name. It panics on an entry that
// could not be read back (a bug of the caller, never of input).
func (l *Lock) Set(e Entry) {
	if err := e.check(); err != nil {
		panic(fmt.Sprintf("pluginlock: invalid entry for %q: %v", e.Name, err))
	}
	if l.Plugins == nil {
		l.Plugins = map[string]Entry{}
	}
	l.Plugins[e.Name] = e
}

// Remove removes the entry of the named plugin, if any.
func (l *Lock) Remove(name string) { delete(l.Plugins, name) }

// Names returns the names of the locked plugins, sorted.
func (l *Lock) Names() []string {
	names := make([]string, 0, len(l.Plugins))
	for n := range l.Plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

const header = `# plugins.lock: the plugins installed in this home, pinned by SHA-256.
# Written by driftless plugins install, update and remove; do not edit.
# "driftless plugins install" with no argument installs exactly these;
# docs/registries.md describes the format.
`

// Marshal returns the lock file's content: deterministic, entries in name
// order.
func (l *Lock) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "version = %d\n", FormatVersion)
	for _, name := range l.Names() {
		e := l.Plugins[name]
		b.WriteString("\n[plugins." + name + "]\n")
		enc := toml.NewEncoder(&b)
		if err := enc.Encode(e); err != nil {
			// Strings and integers always encode.
			panic(fmt.Sprintf("pluginlock: encoding %q: %v", name, err))
		}
	}
	return b.Bytes()
}

// Write writes the lock to l.Path atomically: readers see the old file or
// the whole new one, even if the process dies half-way.
func (l *Lock) Write() error {
	if err := pluginstore.WriteFileAtomic(l.Path, l.Marshal(), 0o644); err != nil {
		return &Error{File: l.Path, Err: err}
	}
	return nil
}

// keyLine returns the line that defines key ([plugins.NAME] and then
// FIELD = ...), or 0 when it cannot tell: the TOML decoder reports lines
// for syntax errors only.
func keyLine(data []byte, key toml.Key) int {
	lines := strings.Split(string(data), "\n")
	table := ""
	found := 0
	for i, raw := range lines {
		s := strings.TrimSpace(raw)
		if strings.HasPrefix(s, "[") {
			table = strings.Trim(strings.TrimSpace(strings.SplitN(s, "#", 2)[0]), "[]")
			table = strings.ReplaceAll(strings.ReplaceAll(table, `"`, ""), " ", "")
			if len(key) >= 2 && table == strings.Join(key[:2], ".") && found == 0 {
				found = i + 1
			}
			continue
		}
		k, _, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		k = strings.Trim(strings.TrimSpace(k), `"`)
		switch {
		case len(key) == 1 && table == "" && k == key[0]:
			return i + 1
		case len(key) == 3 && table == key[0]+"."+key[1] && k == key[2]:
			return i + 1
		case len(key) == 2 && table == "" && k == key[0]+"."+key[1]:
			return i + 1
		}
	}
	return found
}

// checkDepth refuses TOML whose arrays and inline tables nest deeper than
// max, or whose table headers have more than max parts, returning the
// line at fault. It skips strings and comments; it does not validate
// anything else (the decoder does).
func checkDepth(data []byte, max int) (int, error) {
	depth, line := 0, 1
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\n':
			line++
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			multi := i+2 < len(data) && data[i+1] == c && data[i+2] == c
			if multi {
				end := bytes.Index(data[i+3:], []byte{c, c, c})
				if end < 0 {
					return line, nil // the decoder reports the open string
				}
				line += bytes.Count(data[i+3:i+3+end], []byte{'\n'})
				i += 3 + end + 2
				continue
			}
			for i++; i < len(data) && data[i] != c && data[i] != '\n'; i++ {
				if c == '"' && data[i] == '\\' {
					i++
				}
			}
			if i < len(data) && data[i] == '\n' {
				line++
			}
		case '[', '{':
			depth++
			if depth > max {
				return line, fmt.Errorf("nests arrays or tables deeper than %d levels", max)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '.':
			// Dotted keys and table headers nest too: a.b.c.d…
			if n := dots(data, i); n > max {
				return line, fmt.Errorf("has a key of more than %d parts", max)
			}
		}
	}
	return 0, nil
}

// dots counts the dotted parts of the key around the dot at i, on its line.
func dots(data []byte, i int) int {
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	end := bytes.IndexByte(data[i:], '\n')
	if end < 0 {
		end = len(data)
	} else {
		end += i
	}
	s := data[start:end]
	if eq := bytes.IndexByte(s, '='); eq >= 0 && start+eq < i {
		return 0 // a dot in a value (a float), not in a key
	}
	return bytes.Count(s, []byte{'.'}) + 1
}
