// Command witgen generates Go host bindings for WIT (WebAssembly Interface
// Type) packages, over the component API of
// github.com/driftless-dev/driftless/bindings.
//
// Usage:
//
//	go run ./tools/witgen -wit DIR -out DIR [-world NAME]... [-package-prefix PATH]
//
// It reads the WIT package in -wit (with its deps/ directory) through
// go.bytecodealliance.org/wit, which runs an embedded wasm-tools under
// wazero: no external tool is needed. Without -world it generates every
// world of the package. It writes one Go package per WIT interface and one
// per world below -out, which import the runtime package
// github.com/driftless-dev/driftless/bindings/witrt and check its version
// when they compile, and removes files it generated earlier that a
// regeneration no longer produces (such as the copy of the runtime earlier
// versions wrote in -out/internal/witrt). -package-prefix is the import
// path of -out; by default it is derived from the enclosing go.mod.
//
// See docs/wit.md for the Go API the bindings have.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.bytecodealliance.org/wit"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var (
		witDir = flag.String("wit", "wit", "the WIT package directory (or file)")
		outDir = flag.String("out", "", "the output directory")
		prefix = flag.String("package-prefix", "", "the Go import path of the output directory (default: from go.mod)")
		guest  = flag.String("guest", "", "generate the guest side in this language (go) instead of host bindings; needs one -world")
		worlds stringList
	)
	flag.Var(&worlds, "world", "a world to generate (repeatable; default: every world of the package)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: witgen -wit DIR -out DIR [-world NAME]... [-package-prefix PATH]\n       witgen -guest go -wit DIR -world NAME -out DIR [-package-prefix PATH]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *outDir == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	generate := Generate
	switch *guest {
	case "":
	case "go":
		generate = GenerateGuest
	default:
		fmt.Fprintf(os.Stderr, "witgen: -guest %s: the only guest language is go\n", *guest)
		os.Exit(2)
	}
	if err := runGenerator(*witDir, *outDir, *prefix, worlds, generate); err != nil {
		fmt.Fprintln(os.Stderr, "witgen:", err)
		os.Exit(1)
	}
}

func run(witDir, outDir, prefix string, worlds []string) error {
	return runGenerator(witDir, outDir, prefix, worlds, Generate)
}

// runGenerator runs generate (Generate, or GenerateGuest for -guest go).
func runGenerator(witDir, outDir, prefix string, worlds []string, generate func(*wit.Resolve, Options) (map[string][]byte, error)) error {
	if prefix == "" {
		p, err := importPath(outDir)
		if err != nil {
			return fmt.Errorf("-package-prefix not given and %w", err)
		}
		prefix = p
	}
	res, err := wit.LoadWIT(witDir)
	if err != nil {
		return fmt.Errorf("loading WIT from %s: %w", witDir, err)
	}
	files, err := generate(res, Options{Worlds: worlds, PackagePrefix: prefix})
	if err != nil {
		return err
	}
	return writeFiles(outDir, files)
}

// writeFiles writes files below dir, leaving unchanged files untouched, and
// removes the Go files a previous run generated that are not in files.
func writeFiles(dir string, files map[string][]byte) error {
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, src) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, src, 0o644); err != nil {
			return err
		}
	}
	var stale []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if _, ok := files[filepath.ToSlash(rel)]; ok {
			return nil
		}
		if generatedByUs(p) {
			stale = append(stale, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(stale)
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return err
		}
		// Remove directories left empty.
		for d := filepath.Dir(p); d != filepath.Clean(dir); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
	}
	return nil
}

func generatedByUs(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimSpace(line) == generatedLine
}

// importPath derives the import path of dir from the enclosing go.mod.
func importPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod := modulePath(data)
			if mod == "" {
				return "", fmt.Errorf("%s has no module line", filepath.Join(d, "go.mod"))
			}
			rel, err := filepath.Rel(d, abs)
			if err != nil {
				return "", err
			}
			if rel == "." {
				return mod, nil
			}
			return mod + "/" + filepath.ToSlash(rel), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod encloses %s", abs)
		}
	}
}

func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
