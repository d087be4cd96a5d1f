package testhome

import (
	"os"
	"path/filepath"
	"testing"
)

// run passes the tests' status through when the home stays empty, and
// fails the run when a test wrote there, through HOME or an XDG variable.
func TestRun(t *testing.T) {
	for _, v := range vars {
		t.Setenv(v, os.Getenv(v)) // restored after the test
	}
	if code := run(func() int { return 3 }); code != 3 {
		t.Errorf("status %d, want the tests' 3", code)
	}
	var home string
	code := run(func() int {
		home = os.Getenv("HOME")
		if os.Getenv("DRIFTLESS_HOME") == "" || filepath.Dir(os.Getenv("XDG_CACHE_HOME")) != home {
			t.Errorf("environment not pointed at the sealed home: %q", os.Environ())
		}
		if err := os.WriteFile(filepath.Join(home, ".config"), nil, 0o600); err == nil {
			return 0 // root: the mode does not stop it, the check must
		}
		if err := os.Chmod(home, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(os.Getenv("XDG_CACHE_HOME"), 0o700); err != nil {
			t.Fatal(err)
		}
		return 0
	})
	if code != 1 {
		t.Errorf("a write into the home: status %d, want 1", code)
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("the sealed home %s was not removed: %v", home, err)
	}
}
