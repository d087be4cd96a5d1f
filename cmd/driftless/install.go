package main

// plugins install: the plugin is streamed into a temporary directory of
// the plugin directory (bounded by max_plugin_size, stopped by ctrl-C or
// SIGTERM), validated there, and only then linked in as NAME.wasm, so a
// partial or invalid file is never visible under a plugin's name.
//
// The temporary directory (plugins/.install-XXXX) is locked with flock(2)
// for the life of the install. A process killed outright (SIGKILL, a
// crash, a power cut) leaves it behind, unlocked: the next install removes
// such leftovers, and plugins list warns about them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
)

type installJSON struct {
	Installed bool         `json:"installed"`
	Name      string       `json:"name"`
	Path      string       `json:"path"`
	Replaced  bool         `json:"replaced"`
	ABI       string       `json:"abi"`
	Version   string       `json:"version"`
	Provides  providesJSON `json:"provides"`
}

func pluginsInstall(c *cli.Context) error {
	if err := argCount(c, 1, 1); err != nil {
		return err
	}
	a := appOf(c)
	h, err := a.host()
	if err != nil {
		return err
	}
	file := c.Args().First()
	name := c.String("name")
	if name == "" {
		if file == "-" {
			return usagef("plugins install -: give the plugin's name with --name (standard input has no file name)")
		}
		name = strings.TrimSuffix(filepath.Base(file), ".wasm")
	}
	if err := host.CheckName(name); err != nil {
		return usagef("%v (or give --name)", err)
	}
	var src io.Reader = os.Stdin
	what := "standard input"
	if file != "-" {
		if err := checkFile(file, "plugin file"); err != nil {
			return err
		}
		f, err := safefile.Open(file)
		if err != nil {
			return &cliError{kind: "usage", msg: fmt.Sprintf("cannot read %s: %s", file, safefile.Reason(err)), err: err}
		}
		defer f.Close()
		src, what = f, file
	}
	res, err := installFrom(c.Context, a, h, name, src, what, c.Bool("force"))
	if err != nil {
		return err
	}
	p := res.plugin
	doc := installJSON{Installed: true, Name: name, Path: res.path, Replaced: res.replaced, ABI: string(p.ABI()), Version: p.Info().Version, Provides: provides(p)}
	return a.emit(doc, func(w io.Writer) {
		verb := "installed"
		if res.replaced {
			verb = "replaced"
		}
		fmt.Fprintf(w, "%s %s %s (%s) at %s\n", verb, name, orDash(p.Info().Version), p.ABI(), res.path)
		fmt.Fprintf(w, "provides: %s\n", providesText(p))
	})
}

// installed is what installFrom did.
type installed struct {
	plugin   *host.Plugin
	path     string // plugins/NAME.wasm
	replaced bool   // an installed plugin of that name was replaced
}

// installFrom installs the plugin read from src (what names it in
// messages: a file, "standard input", a registry reference) as name: it
// copies at most the plugin's max_plugin_size bytes into a locked
// temporary directory of the plugin directory, stopping when ctx ends,
// validates the copy, then links it in as NAME.wasm (replacing an
// installed one only with force). Whatever happens, the temporary
// directory is removed; leftovers of killed installs are removed first.
// Installs from other sources (e.g. a registry) reuse it.
func installFrom(ctx context.Context, a *app, h *host.Host, name string, src io.Reader, what string, force bool) (*installed, error) {
	dest := filepath.Join(h.PluginDir(), name+".wasm")
	_, statErr := os.Lstat(dest)
	exists := statErr == nil
	if exists && !force {
		return nil, usagef("plugin %s is already installed (%s); use --force to replace it", name, dest)
	}
	max := h.Config().LimitsFor(name).MaxPluginSize
	if f, ok := src.(*os.File); ok {
		// A regular file says its size: refuse it before copying.
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > max {
			return nil, installError(name, what, &safefile.TooLargeError{Path: what, Size: st.Size(), Max: max})
		}
	}
	if err := os.MkdirAll(h.PluginDir(), 0o755); err != nil {
		return nil, err
	}
	cleanInstallLeftovers(h.PluginDir(), a.logger, true)
	tmp, err := newInstallDir(h.PluginDir())
	if err != nil {
		return nil, err
	}
	defer tmp.remove()
	tmpFile := filepath.Join(tmp.path, name+".wasm")
	out, err := os.OpenFile(tmpFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	_, err = safefile.Copy(ctx, out, src, what, max)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, installError(name, what, err)
	}
	// Prepare validates and keeps the compiled code in the cache, so the
	// first load does not compile.
	p, err := h.Prepare(ctx, tmpFile)
	if err == nil {
		err = ctx.Err() // ctrl-C while validating: install nothing
	}
	if err != nil {
		return nil, installError(name, what, err)
	}
	if exists && force {
		// The replaced plugin's compiled code is of no more use.
		if _, err := h.ForgetCompiled(dest); err != nil {
			a.logger.Warn("cannot remove the replaced plugin's compiled code", "plugin", name, "error", err)
		}
	}
	if force {
		err = os.Rename(tmpFile, dest)
	} else if err = os.Link(tmpFile, dest); errors.Is(err, fs.ErrExist) {
		return nil, usagef("plugin %s is already installed (%s); use --force to replace it", name, dest)
	} else if err != nil {
		err = os.Rename(tmpFile, dest) // no hard links here
	}
	if err != nil {
		return nil, err
	}
	return &installed{plugin: p, path: dest, replaced: exists}, nil
}

// installError words a failed copy or validation of an install.
func installError(name, what string, err error) error {
	var tl *safefile.TooLargeError
	switch {
	case errors.As(err, &tl) && tl.Size >= 0:
		return &host.Error{Plugin: name, Func: "install", Kind: host.KindLoad,
			Msg: fmt.Sprintf("%s is %d bytes, more than max_plugin_size (%d bytes): nothing was installed", what, tl.Size, tl.Max), Err: err}
	case errors.As(err, &tl):
		return &host.Error{Plugin: name, Func: "install", Kind: host.KindLoad,
			Msg: fmt.Sprintf("%s is more than max_plugin_size (%d bytes): nothing was installed", what, tl.Max), Err: err}
	case errors.Is(err, context.Canceled):
		return &host.Error{Plugin: name, Func: "install", Kind: host.KindCancelled,
			Msg: "interrupted: nothing was installed", Err: err}
	}
	return err
}

// installDir is the locked temporary directory of one install.
type installDir struct {
	path string
	lock *os.File // holds the flock while the install runs
}

const installDirPrefix = ".install-"

// newInstallDir makes and locks plugins/.install-XXXX.
func newInstallDir(pluginDir string) (*installDir, error) {
	for attempt := 0; ; attempt++ {
		dir, err := os.MkdirTemp(pluginDir, installDirPrefix)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(dir)
		if err == nil {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		}
		if err == nil {
			// A cleanup by another install may have taken it for a
			// leftover between MkdirTemp and Flock: then it is gone.
			if _, serr := os.Stat(dir); serr == nil {
				return &installDir{path: dir, lock: f}, nil
			}
		}
		if f != nil {
			f.Close()
		}
		if err != nil || attempt == 2 {
			if err == nil {
				err = fmt.Errorf("%s vanished while it was being locked", dir)
			}
			return nil, err
		}
	}
}

func (d *installDir) remove() {
	os.RemoveAll(d.path)
	d.lock.Close()
}

// cleanInstallLeftovers finds the temporary directories of installs that
// were killed (present and not locked) and removes them (remove) or warns
// about them, saying how much space they take.
func cleanInstallLeftovers(pluginDir string, logger *slog.Logger, remove bool) {
	entries, err := os.ReadDir(pluginDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), installDirPrefix) {
			continue
		}
		path := filepath.Join(pluginDir, e.Name())
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // an install is running
			continue
		}
		size := dirSize(path)
		if remove {
			if err := os.RemoveAll(path); err != nil {
				logger.Warn("cannot remove the leftovers of an interrupted plugin install", "dir", path, "bytes", size, "error", err)
			} else {
				logger.Warn("removed the leftovers of an interrupted plugin install", "dir", path, "bytes", size)
			}
		} else {
			logger.Warn("leftovers of an interrupted plugin install (the next plugins install removes them)", "dir", path, "bytes", size)
		}
		f.Close()
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
