// Package testhome makes a test binary prove that what it tests leaves the
// user's home alone: Main points HOME, the XDG base directories and
// DRIFTLESS_HOME into an empty directory that nobody may write, runs the
// tests, and fails the run when anything appeared there (which catches
// writes even when running as root, whom the mode does not stop). Packages
// whose examples document embedding (host, templating, pipeline) use it,
// because an embedding must not need a home.
package testhome

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// vars are the environment variables that lead to a home directory.
var vars = []string{"HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "DRIFTLESS_HOME"}

// Main runs m with the home sealed and exits with its status, or with 1
// when something was written into the home.
func Main(m *testing.M) {
	os.Exit(run(m.Run))
}

// run runs tests (m.Run) with the home sealed.
func run(tests func() int) int {
	dir, err := os.MkdirTemp("", "driftless-sealed-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testhome:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, v := range vars {
		sub := dir
		if v != "HOME" {
			sub = filepath.Join(dir, v) // never created: anything there is a write
		}
		if err := os.Setenv(v, sub); err != nil {
			fmt.Fprintln(os.Stderr, "testhome:", err)
			return 1
		}
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		fmt.Fprintln(os.Stderr, "testhome:", err)
		return 1
	}
	code := tests()
	os.Chmod(dir, 0o700)
	if written := contents(dir); len(written) > 0 {
		fmt.Fprintf(os.Stderr, "testhome: the tests wrote into the home directory %s (HOME and the XDG directories point there): %v\n", dir, written)
		return 1
	}
	return code
}

// contents lists what is below dir.
func contents(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if p != dir {
			out = append(out, p)
		}
		return nil
	})
	return out
}
