package scaffold

// A Language is how projects in one language are written and built.
//
// To add a language: a template directory templates/NAME/ (see
// templates/README.md) and an entry in languages below. The tests render
// every language for every world, and build one world of each.
type Language struct {
	// Name is the --lang value and the template directory's name.
	Name string
	// Title is the language's name for people ("Rust").
	Title string
	// Build builds the plugin when a shell runs it in the project's
	// directory. It is printed, documented, and what the tests run.
	Build string
	// Artifact is where Build puts the component, relative to the
	// project's directory; a text/template over Data ("{{.Name}}.wasm").
	Artifact string
	// WITDir is where the contract's WIT goes in the project.
	WITDir string
	// Needs says what Build needs installed, for people.
	Needs string

	// addFiles adds the files that are not templates (generated code,
	// binaries) to a rendered project.
	addFiles func(d *Data, files map[string][]byte) error
}

var languages = []Language{
	{
		Name:     "rust",
		Title:    "Rust",
		Build:    "cargo build --release",
		Artifact: "target/wasm32-wasip2/release/{{.Ident}}.wasm",
		WITDir:   "wit",
		Needs:    "Rust (rustup) with the wasm32-wasip2 target: rustup target add wasm32-wasip2",
	},
	{
		Name:     "js",
		Title:    "JavaScript",
		Build:    "npm install && npm run build",
		Artifact: "{{.Name}}.wasm",
		WITDir:   "wit",
		Needs:    "node 20+ and npm (npm install fetches componentize-js)",
	},
	{
		Name:     "ts",
		Title:    "TypeScript",
		Build:    "npm install && npm run build",
		Artifact: "{{.Name}}.wasm",
		WITDir:   "wit",
		Needs:    "node 20+ and npm (npm install fetches jco, typescript and componentize-js)",
	},
	{
		Name:     "python",
		Title:    "Python",
		Build:    "make",
		Artifact: "{{.Name}}.wasm",
		WITDir:   "wit",
		Needs:    "python3 with venv, and make (make installs componentize-py into .venv)",
	},
	{
		Name:     "c",
		Title:    "C",
		Build:    "make",
		Artifact: "{{.Name}}.wasm",
		WITDir:   "wit",
		Needs:    "clang with wasi-libc and lld, wit-bindgen and wasm-tools on PATH, and make",
	},
	{
		Name:     "go",
		Title:    "Go",
		Build:    "make",
		Artifact: "{{.Name}}.wasm",
		WITDir:   "wit",
		Needs:    "Go 1.24 or later, wasm-tools on PATH, and make",
		addFiles: goProject,
	},
}

// toolVersions are the versions the templates pin, as .Tools.NAME. They
// are the versions the repository builds its examples with (a test checks
// them against tools/npm/package.json, mk/examples.mk and
// examples/rust-plugin/Cargo.toml).
var toolVersions = map[string]string{
	"witBindgen":     "0.63.0",
	"componentizeJS": "0.23.0",
	"jco":            "1.24.6",
	"preview2Shim":   "0.17.9",
	"typescript":     "6.0.3",
	"componentizePy": "0.25.1",
	"wasmTools":      "1.263.0",
	"witBindgenCLI":  "0.63.0",
	"goCM":           "v0.3.0",
}
