// Package scaffold writes new plugin projects: `driftless plugins new`.
//
// A project is rendered from the templates of its language, embedded in the
// binary under templates/LANG/, plus a copy of the contract's WIT (package
// wit). Adding a language is one template directory and one entry of the
// languages table (languages.go); see templates/README.md for the rules
// the templates follow.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/driftless-dev/driftless/wit"
)

//go:embed templates
var templates embed.FS

// Options says what project to write.
type Options struct {
	// Name is the plugin's name: its file name without .wasm, and the
	// prefix users write (NAME.TASK). A letter, then letters, digits, '-'
	// and '_', at most 64 characters.
	Name string
	// Lang is a language of Languages(), by name ("rust", "js", ...).
	Lang string
	// World is a world of Worlds() ("task-plugin", ...); "" means
	// DefaultWorld.
	World string
	// Dir is where to write the project; "" means ./Name.
	Dir string
	// Force writes into a directory that is not empty, replacing files of
	// the same names and leaving the others alone.
	Force bool
}

// DefaultWorld is the world of a project when Options.World is empty.
const DefaultWorld = "task-plugin"

// Project is a project that New wrote.
type Project struct {
	Name  string
	Lang  string
	World string
	// Dir is the project's directory as given (or ./Name).
	Dir string
	// Files are the paths written, relative to Dir, sorted.
	Files []string
	// BuildCommand builds the plugin when run by a shell in Dir.
	BuildCommand string
	// Artifact is the built component's path, relative to Dir.
	Artifact string
	// Build and Install are the two commands to build and install the
	// plugin, run from the directory New was called in.
	Build   string
	Install string
}

// World is one of the contract's worlds: what a plugin built against it
// exports besides metadata.
type World struct {
	Name                         string
	Tasks, Facts, Templates, Log bool
}

// worlds are the contract's worlds (wit/plugin.wit); a test checks them
// against the WIT.
var worlds = []World{
	{Name: "task-plugin", Tasks: true},
	{Name: "facts-plugin", Facts: true},
	{Name: "template-plugin", Templates: true},
	{Name: "log-plugin", Log: true},
	{Name: "plugin", Tasks: true, Facts: true, Templates: true, Log: true},
}

// Worlds returns the worlds a project can target.
func Worlds() []World { return append([]World(nil), worlds...) }

// Languages returns the languages New can write a project in.
func Languages() []Language { return append([]Language(nil), languages...) }

// LanguageNames returns the names of Languages(), in order.
func LanguageNames() []string {
	var names []string
	for _, l := range languages {
		names = append(names, l.Name)
	}
	return names
}

// WorldNames returns the names of Worlds(), in order.
func WorldNames() []string {
	var names []string
	for _, w := range worlds {
		names = append(names, w.Name)
	}
	return names
}

// UsageError is an error in the options (a bad name, language, world or
// directory), as opposed to a failure to write.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// CheckName reports whether name can name a new plugin project. It is
// stricter than a plugin name (which may start with a digit and be
// longer) because it also names packages: crates, npm packages.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return usagef("invalid plugin name %q: use a letter, then letters, digits, '-' and '_' (at most 64 characters)", name)
	}
	return nil
}

func findLanguage(name string) (Language, error) {
	for _, l := range languages {
		if l.Name == name {
			return l, nil
		}
	}
	return Language{}, usagef("unknown language %q (languages: %s)", name, strings.Join(LanguageNames(), ", "))
}

func findWorld(name string) (World, error) {
	if name == "" {
		name = DefaultWorld
	}
	for _, w := range worlds {
		if w.Name == name {
			return w, nil
		}
	}
	return World{}, usagef("unknown world %q (worlds: %s)", name, strings.Join(WorldNames(), ", "))
}

// Data is what the templates see.
type Data struct {
	Name        string // the plugin's name, e.g. "hello-world"
	Ident       string // Name as an identifier: "hello_world"
	Description string // one sentence: "A Driftless plugin (Rust, world task-plugin)."
	World       World
	WorldID     string // "driftless:plugin/task-plugin@0.1.0"
	WorldC      string // the world as a C identifier: "task_plugin" (wit-bindgen c's prefix)
	WorldGo     string // the Go package of the world's bindings: "taskplugin"
	Module      string // the Go module path of a Go project: "example.com/hello-world"
	Package     string // "driftless:plugin"
	Version     string // the contract's version, "0.1.0"
	Lang        Language
	Build       string // the build command, run in the project's directory
	Artifact    string // the built component, relative to the project's directory
	Install     string // the install command, run in the project's directory
	Tools       map[string]string
}

var versionRE = regexp.MustCompile(`(?m)^package\s+([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)@([0-9][0-9A-Za-z.+-]*)\s*;`)

// contractVersion returns the package name and version of the embedded WIT.
func contractVersion() (pkg, version string, err error) {
	data, err := wit.Files.ReadFile("plugin.wit")
	if err != nil {
		return "", "", err
	}
	m := versionRE.FindSubmatch(data)
	if m == nil {
		return "", "", errors.New("scaffold: wit/plugin.wit has no package line")
	}
	return string(m[1]), string(m[2]), nil
}

func newData(name string, lang Language, w World) (*Data, error) {
	pkg, version, err := contractVersion()
	if err != nil {
		return nil, err
	}
	d := &Data{
		Name:        name,
		Ident:       strings.ReplaceAll(name, "-", "_"),
		Description: fmt.Sprintf("A Driftless plugin (%s, world %s).", lang.Title, w.Name),
		World:       w,
		WorldID:     pkg + "/" + w.Name + "@" + version,
		WorldC:      strings.ReplaceAll(w.Name, "-", "_"),
		WorldGo:     strings.ReplaceAll(w.Name, "-", ""),
		// A placeholder to replace, as in Go's own tutorials; a bare NAME
		// would clash with the standard library's packages (net, time, ...).
		Module:  "example.com/" + name,
		Package: pkg,
		Version: version,
		Lang:    lang,
		Build:   lang.Build,
		Tools:   toolVersions,
	}
	d.Artifact, err = expand(lang.Artifact, d)
	if err != nil {
		return nil, err
	}
	d.Install = installCommand(d.Artifact, d)
	return d, nil
}

// installCommand installs the component at file (a path for the shell);
// --name when the artifact's file name is not the plugin's (Rust's
// target/.../hello_world.wasm).
func installCommand(file string, d *Data) string {
	cmd := "driftless plugins install " + file
	if path.Base(d.Artifact) != d.Name+".wasm" {
		cmd += " --name " + d.Name
	}
	return cmd
}

func expand(text string, d *Data) (string, error) {
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

var funcs = template.FuncMap{
	"lower": strings.ToLower,
	// quote writes s as a string literal that JSON, JavaScript, TypeScript,
	// Python, Rust, C and TOML all read the same (for the names used here).
	"quote": func(s string) string { return fmt.Sprintf("%q", s) },
}

// Render returns the files of a project (path relative to the project's
// directory -> content) without writing anything.
func Render(name, lang, world string) (map[string][]byte, *Data, error) {
	if err := CheckName(name); err != nil {
		return nil, nil, err
	}
	l, err := findLanguage(lang)
	if err != nil {
		return nil, nil, err
	}
	w, err := findWorld(world)
	if err != nil {
		return nil, nil, err
	}
	d, err := newData(name, l, w)
	if err != nil {
		return nil, nil, err
	}
	common, err := template.New("common").Funcs(funcs).Option("missingkey=error").ParseFS(templates, "templates/common.tmpl")
	if err != nil {
		return nil, nil, fmt.Errorf("scaffold: %w", err)
	}
	files := map[string][]byte{}
	// shared/ first: the language's own files replace those of the same name.
	for _, root := range []string{"templates/shared", "templates/" + l.Name} {
		if err := renderDir(files, common, root, d); err != nil {
			return nil, nil, err
		}
	}
	// The contract, vendored: the project builds against this copy.
	wits, err := fs.Glob(wit.Files, "*.wit")
	if err != nil {
		return nil, nil, err
	}
	for _, f := range wits {
		data, err := wit.Files.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		files[path.Join(l.WITDir, f)] = data
	}
	if l.addFiles != nil {
		if err := l.addFiles(d, files); err != nil {
			return nil, nil, err
		}
	}
	// Go sources are gofmt'd: the templates' conditionals leave imports and
	// alignment to it.
	for name, data := range files {
		if strings.HasSuffix(name, ".go") {
			src, err := format.Source(data)
			if err != nil {
				return nil, nil, fmt.Errorf("scaffold: %s: %w", name, err)
			}
			files[name] = src
		}
	}
	return files, d, nil
}

// renderDir renders the templates under root into files.
func renderDir(files map[string][]byte, common *template.Template, root string, d *Data) error {
	return fs.WalkDir(templates, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel := outputPath(strings.TrimPrefix(p, root+"/"))
		src, err := templates.ReadFile(p)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(rel, ".tmpl") {
			files[rel] = src
			return nil
		}
		rel = strings.TrimSuffix(rel, ".tmpl")
		t, err := common.Clone()
		if err == nil {
			t, err = t.New(p).Parse(string(src))
		}
		if err != nil {
			return fmt.Errorf("scaffold: %w", err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			return fmt.Errorf("scaffold: %w", err)
		}
		// A template that renders to nothing is not part of this world's project.
		if out := tidy(b.Bytes()); len(out) > 0 {
			files[rel] = out
		} else {
			delete(files, rel)
		}
		return nil
	})
}

// outputPath maps a template's path to the file's: each "dot-" at the
// start of a path element becomes "." (templates carry no dotfiles, which
// embed and git would treat specially).
func outputPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "dot-") {
			parts[i] = "." + strings.TrimPrefix(s, "dot-")
		}
	}
	return strings.Join(parts, "/")
}

var blankRuns = regexp.MustCompile(`\n(?:[ \t]*\n){3,}`)

// tidy removes what the templates' conditionals leave behind: trailing
// spaces, runs of more than two blank lines, blank lines at the start, and
// ends the text with exactly one newline. An empty result stays empty.
func tidy(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s := strings.Join(lines, "\n")
	s = blankRuns.ReplaceAllString(s, "\n\n\n")
	s = strings.TrimLeft(s, "\n")
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return []byte(s + "\n")
}

// New renders the project opts describes and writes it.
func New(opts Options) (*Project, error) {
	files, d, err := Render(opts.Name, opts.Lang, opts.World)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = opts.Name
	}
	if err := checkDir(dir, opts.Force); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range names {
		if err := writeFile(dir, f, files[f]); err != nil {
			return nil, err
		}
	}
	return &Project{
		Name: d.Name, Lang: d.Lang.Name, World: d.World.Name, Dir: dir, Files: names,
		BuildCommand: d.Build, Artifact: d.Artifact,
		Build:   "(cd " + shellQuote(dir) + " && " + d.Build + ")",
		Install: installCommand(shellQuote(filepath.Join(dir, d.Artifact)), d),
	}, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+:,@%=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkDir refuses a path that is not a directory, and a directory that is
// not empty unless force.
func checkDir(dir string, force bool) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return usagef("%s exists and is not a directory", dir)
	}
	if force {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return usagef("%s is not empty; use --force to write the project into it anyway (files of the same names are replaced)", dir)
	}
	return nil
}

// writeFile writes dir/rel, creating its directories. It never writes
// through a symbolic link: with --force, a link in an existing directory
// could otherwise point the write anywhere.
func writeFile(dir, rel string, data []byte) error {
	cur := dir
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		cur = filepath.Join(cur, p)
		st, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if i < len(parts)-1 {
				if err := os.Mkdir(cur, 0o755); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		case st.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link: not writing through it", cur)
		case i < len(parts)-1 && !st.IsDir():
			return fmt.Errorf("%s is not a directory", cur)
		case i == len(parts)-1 && !st.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file", cur)
		}
	}
	return os.WriteFile(cur, data, 0o644)
}
