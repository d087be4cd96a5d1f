package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The CLI, not the host, resolves the plugin home: --home, else
// $DRIFTLESS_HOME, else ~/.driftless (an empty DRIFTLESS_HOME is unset).
func TestHomeResolution(t *testing.T) {
	user := t.TempDir()
	envHome := filepath.Join(t.TempDir(), "env-home")
	flagHome := filepath.Join(t.TempDir(), "flag-home")
	for _, c := range []struct {
		name      string
		env, args []string
		want      string
	}{
		{"user-home", []string{"HOME=" + user}, nil, filepath.Join(user, ".driftless")},
		{"empty-env", []string{"HOME=" + user, "DRIFTLESS_HOME="}, nil, filepath.Join(user, ".driftless")},
		{"env", []string{"HOME=" + user, "DRIFTLESS_HOME=" + envHome}, nil, envHome},
		{"flag", []string{"HOME=" + user, "DRIFTLESS_HOME=" + envHome}, []string{"--home", flagHome}, flagHome},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, append(c.args, "plugins", "list")...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "NO_COLOR=1"}, c.env...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
			}
			if want := "no plugins installed in " + filepath.Join(c.want, "plugins"); !strings.Contains(out.String(), want) {
				t.Errorf("stdout %q does not say %q", out.String(), want)
			}
		})
	}
	// Listing an empty home creates nothing in it.
	if entries, err := os.ReadDir(user); err != nil || len(entries) != 0 {
		t.Errorf("the user's home: %v, %v", entries, err)
	}
}
