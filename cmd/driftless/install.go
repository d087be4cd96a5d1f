package main

// plugins install: a plugin comes from a file, standard input, a direct
// OCI reference or a registry (registries.go). It is streamed into a
// staging directory of the plugin directory (plugins/.install-NAME-XXXX,
// package pluginstore), bounded by max_plugin_size and stopped by ctrl-C
// or SIGTERM even while a read waits, its signature is checked when its
// registry requires one, and exactly those bytes are validated; only then,
// under the home's lock, is it recorded in plugins.lock and moved in as
// NAME.wasm, so a partial or invalid file is never visible under a
// plugin's name.
//
// Each staging directory is locked with flock(2) for the life of its
// install. A process killed outright (SIGKILL, a crash, a power cut)
// leaves it behind, unlocked: the next install removes such leftovers, and
// plugins list warns about them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/pluginlock"
	"github.com/driftless-dev/driftless/pluginsig"
	"github.com/driftless-dev/driftless/pluginstore"
	"github.com/driftless-dev/driftless/registry"
)

// source is where an install takes a plugin from.
type source struct {
	kind     pluginlock.Source
	file     string             // SourceFile: the path, or "-" for standard input
	reg      registry.Registry  // SourceRegistry, SourceOCI
	regConf  *host.Registry     // the [[registries]] entry that applies, if any
	artifact *registry.Artifact // resolved before the download
}

// parseRef tells what an install REF names: standard input ("-"), a file
// (when one exists at REF), a direct oci:// reference, or
// REGISTRY/NAME[@VERSION] of a configured registry. It returns the source,
// the plugin name the REF implies ("" for standard input), and the version
// asked ("" for the newest).
func parseRef(ctx context.Context, cfg *host.Config, ref string) (*source, string, string, error) {
	if ref == "-" {
		return &source{kind: pluginlock.SourceFile, file: "-"}, "", "", nil
	}
	if strings.HasPrefix(ref, "oci://") {
		hostRepo, err := registry.ReferenceRepository(ref)
		if err != nil {
			return nil, "", "", err
		}
		rc := ociRegistryFor(cfg, hostRepo)
		opts := registry.Options{Timeout: host.DefaultRegistryTimeout}
		if rc != nil {
			opts = registry.Options{Insecure: rc.Insecure, Timeout: rc.Timeout()}
		}
		reg, a, err := registry.ResolveReference(ctx, ref, opts)
		if err != nil {
			return nil, "", "", err
		}
		return &source{kind: pluginlock.SourceOCI, reg: reg, regConf: rc, artifact: a}, a.Name, a.Version, nil
	}
	if st, err := os.Stat(ref); err == nil || !errors.Is(err, fs.ErrNotExist) {
		if err == nil && st.IsDir() {
			return nil, "", "", usagef("%s is a directory, not a plugin file", ref)
		}
		return &source{kind: pluginlock.SourceFile, file: ref}, strings.TrimSuffix(filepath.Base(ref), ".wasm"), "", nil
	}
	regName, rest, ok := strings.Cut(ref, "/")
	if !ok || strings.Contains(rest, "/") {
		return nil, "", "", usagef("%s: no such file, and not REGISTRY/NAME[@VERSION] or oci://HOST/REPO:TAG", ref)
	}
	if _, known := cfg.Registry(regName); !known {
		return nil, "", "", usagef("%s: no such file, and %q is not a configured registry%s", ref, regName, registryNames(cfg))
	}
	name, version, _ := strings.Cut(rest, "@")
	reg, rc, err := registryOf(cfg, regName, true)
	if err != nil {
		return nil, "", "", err
	}
	return &source{kind: pluginlock.SourceRegistry, reg: reg, regConf: rc}, name, version, nil
}

// progressBar shows a download's progress on a terminal (stderr), at most
// ten times a second; nothing in JSON mode or when stderr is not one.
type progressBar struct {
	w     io.Writer
	label string
	total int64
	last  time.Time
	shown bool
}

func (a *app) progress(label string, total int64) *progressBar {
	if a.json || !isTerminal(a.stderr) {
		return nil
	}
	return &progressBar{w: a.stderr, label: label, total: total}
}

func (p *progressBar) update(n int64) {
	if p == nil || time.Since(p.last) < 100*time.Millisecond && n != p.total {
		return
	}
	p.last = time.Now()
	p.shown = true
	pct := ""
	if p.total > 0 {
		pct = fmt.Sprintf(" %3d%%", n*100/p.total)
	}
	fmt.Fprintf(p.w, "\r%s: %s of %s%s\x1b[K", p.label, shortBytes(n), shortBytes(p.total), pct)
}

func (p *progressBar) done() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func shortBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// installer installs plugins into a home. Staging, downloading and
// validating run without the home's lock (installs run side by side, each
// in its own flocked staging directory); the last step, recording in
// plugins.lock and moving into place, takes it (commit).
type installer struct {
	a    *app
	h    *host.Host
	home *pluginstore.Home
}

// newInstaller removes what installs killed earlier left (staging
// directories no running install holds), saying so.
func newInstaller(a *app) (*installer, error) {
	h, err := a.host()
	if err != nil {
		return nil, err
	}
	home := pluginstore.Open(a.homeDir())
	removed, err := home.CleanStale()
	for _, l := range removed {
		a.logger.Warn("removed the leftovers of an interrupted plugin install", "dir", l.Path, "bytes", l.Bytes)
	}
	if err != nil {
		a.logger.Warn("cannot remove the leftovers of an interrupted plugin install", "error", err)
	}
	return &installer{a: a, h: h, home: home}, nil
}

// readLock reads the home's plugins.lock afresh (another driftless may
// have changed it since the host read it).
func (in *installer) readLock() (*pluginlock.Lock, error) {
	return pluginlock.Read(filepath.Join(in.a.homeDir(), pluginlock.FileName))
}

// warnLeftovers warns about the staging directories of killed installs
// (plugins list; the next install removes them).
func warnLeftovers(a *app, h *host.Host) {
	left, _ := pluginstore.Open(a.homeDir()).Leftovers()
	for _, l := range left {
		a.logger.Warn("leftovers of an interrupted plugin install (the next plugins install removes them)", "dir", l.Path, "bytes", l.Bytes)
	}
}

// lockedHome runs fn holding the home's lock (saying so if it has to wait
// for another driftless), with plugins.lock read afresh under it.
func (in *installer) lockedHome(ctx context.Context, fn func(lock *pluginlock.Lock) error) error {
	l, err := in.home.Lock(ctx, func() {
		fmt.Fprintf(in.a.stderr, "waiting for another driftless that is changing %s...\n", in.a.homeDir())
	})
	if err != nil {
		return err
	}
	defer l.Unlock()
	lock, err := in.readLock()
	if err != nil {
		return err
	}
	return fn(lock)
}

// fetched is a plugin staged and checked, ready to commit.
type fetched struct {
	stage    *pluginstore.Staged
	plugin   *host.Plugin
	entry    pluginlock.Entry
	evidence *pluginsig.Evidence
}

// fetch stages the plugin name from src (the artifact already resolved
// for registries and OCI references), checks its signature when its
// registry requires one (or pinKey, a lock entry's key, is set), and
// validates exactly the staged bytes.
func (in *installer) fetch(ctx context.Context, src *source, name, pinKey string) (*fetched, error) {
	limits := in.h.Config().LimitsFor(name)
	stage, err := in.home.Stage(name)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			stage.Discard()
		}
	}()
	f := &fetched{stage: stage, entry: pluginlock.Entry{Name: name, Source: src.kind}}
	what := src.file
	switch src.kind {
	case pluginlock.SourceFile:
		if err := in.stageFile(ctx, stage, name, src.file, limits.MaxPluginSize); err != nil {
			return nil, err
		}
		if src.file == "-" {
			f.entry.Ref, what = "-", "standard input"
		} else {
			abs, _ := filepath.Abs(src.file)
			f.entry.Ref = "file://" + abs
		}
	default:
		a := src.artifact
		what = a.Ref
		bar := in.a.progress(fmt.Sprintf("downloading %s %s", name, a.Version), a.Size)
		rc, err := src.reg.Open(ctx, a, limits.MaxPluginSize)
		if err != nil {
			return nil, err
		}
		err = stage.Fill(ctx, rc, what, limits.MaxPluginSize, bar.update)
		rc.Close()
		bar.done()
		if err != nil {
			return nil, installError(name, what, err)
		}
		f.entry.Ref, f.entry.Version = a.Ref, a.Version
		if src.kind == pluginlock.SourceRegistry {
			f.entry.Registry = src.reg.Name()
			if a.Name != name {
				f.entry.Upstream = a.Name
			}
		}
		if f.evidence, err = in.checkSignature(ctx, src, name, stage, pinKey); err != nil {
			return nil, err
		}
		if f.evidence != nil {
			f.entry.Key = f.evidence.Key
		}
	}
	f.entry.SHA256, f.entry.Size = stage.SHA256(), stage.Size()
	// Prepare validates and keeps the compiled code, so the first load
	// does not compile again.
	f.plugin, err = in.h.Prepare(ctx, stage.Path())
	if err == nil {
		err = ctx.Err() // ctrl-C while validating: install nothing
	}
	if err != nil {
		return nil, installError(name, what, err)
	}
	if f.entry.Version == "" {
		f.entry.Version = f.plugin.Info().Version
	}
	ok = true
	return f, nil
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

// stageFile copies a local file (or standard input, "-") into stage,
// bounded by max and ctx; a file is checked without blocking to be a
// regular one, and refused before any copy when it is over max.
func (in *installer) stageFile(ctx context.Context, stage *pluginstore.Staged, name, path string, max int64) error {
	if path == "-" {
		return installError(name, "standard input", stage.Fill(ctx, os.Stdin, "standard input", max, nil))
	}
	if err := checkFile(path, "plugin file"); err != nil {
		return err
	}
	f, err := safefile.Open(path)
	if err != nil {
		return &cliError{kind: "usage", msg: fmt.Sprintf("cannot read %s: %s", path, safefile.Reason(err)), err: err}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		return installError(name, path, &safefile.TooLargeError{Path: path, Size: st.Size(), Max: max})
	}
	return installError(name, path, stage.Fill(ctx, f, path, max, nil))
}

// checkSignature verifies the staged plugin's signature when its registry
// has a public_key (or pinKey, the key a lock entry recorded, is set).
func (in *installer) checkSignature(ctx context.Context, src *source, name string, stage *pluginstore.Staged, pinKey string) (*pluginsig.Evidence, error) {
	key, err := keyOf(src.regConf)
	if err != nil {
		return nil, err
	}
	regName := src.reg.URL()
	if src.regConf != nil {
		regName = src.regConf.Name
	}
	if key == nil {
		if pinKey != "" {
			return nil, sigError("plugin %s from registry %s: plugins.lock says key %s verified it, but the registry has no public_key in %s now",
				name, regName, pinKey, configName(in.h.Config()))
		}
		return nil, nil
	}
	if pinKey != "" && pinKey != key.Fingerprint {
		return nil, sigError("plugin %s from registry %s: plugins.lock says key %s verified it, but the registry's public_key is %s",
			name, regName, pinKey, key)
	}
	sigs, err := src.reg.Signatures(ctx, src.artifact)
	if err != nil {
		return nil, err
	}
	if sigs.Empty() {
		return nil, sigError("plugin %s from registry %s is not signed, and the registry requires a signature by %s (public_key)", name, regName, key)
	}
	var ev *pluginsig.Evidence
	if len(sigs.OCI) > 0 {
		cands := make([]pluginsig.OCISignature, len(sigs.OCI))
		for i, s := range sigs.OCI {
			cands[i] = pluginsig.OCISignature{Payload: s.Payload, Base64: s.Base64}
		}
		ev, err = pluginsig.VerifyOCI(key, src.artifact.SHA256, src.artifact.Manifest, cands)
	} else {
		wasm, rerr := os.ReadFile(stage.Path())
		if rerr != nil {
			return nil, rerr
		}
		ev, err = pluginsig.VerifyBlob(key, wasm, sigs.Blob)
	}
	if err != nil {
		return nil, sigError("plugin %s from registry %s: refused: %v", name, regName, err)
	}
	return ev, nil
}

// commit installs a fetched plugin under the home's lock: its evidence
// and lock entry first, then the file (so a crash in between leaves a lock
// entry that `plugins install` repairs, never an unpinned plugin). An
// installed plugin of the same name is replaced only with replace.
func (in *installer) commit(ctx context.Context, f *fetched, replace bool) error {
	defer f.stage.Discard()
	return in.lockedHome(ctx, func(lock *pluginlock.Lock) error {
		dest := in.home.PluginPath(f.entry.Name)
		if _, err := os.Lstat(dest); err == nil && !replace {
			return usagef("plugin %s is already installed (%s); use --force to replace it", f.entry.Name, dest)
		}
		evPath := filepath.Join(in.home.SignatureDir(), f.entry.Name+".json")
		if f.evidence != nil {
			data, err := jsonBytes(f.evidence)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(in.home.SignatureDir(), 0o755); err != nil {
				return err
			}
			if err := pluginstore.WriteFileAtomic(evPath, data, 0o644); err != nil {
				return err
			}
		} else if err := os.Remove(evPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if replace {
			// The replaced plugin's compiled code is of no more use
			// (unless it is the same plugin again).
			if sum, err := fileSHA256Any(dest); err == nil && sum != f.entry.SHA256 {
				if _, err := in.h.ForgetCompiled(dest); err != nil {
					in.a.logger.Warn("cannot remove the replaced plugin's compiled code", "plugin", f.entry.Name, "error", err)
				}
			}
		}
		old, had := lock.Get(f.entry.Name)
		lock.Set(f.entry)
		if err := lock.Write(); err != nil {
			return err
		}
		if err := f.stage.Commit(replace); err != nil {
			if had {
				lock.Set(old)
			} else {
				lock.Remove(f.entry.Name)
			}
			_ = lock.Write()
			if errors.Is(err, fs.ErrExist) {
				return usagef("plugin %s is already installed (%s); use --force to replace it", f.entry.Name, dest)
			}
			return err
		}
		return nil
	})
}

type installJSON struct {
	Installed bool         `json:"installed"`
	Name      string       `json:"name"`
	Path      string       `json:"path"`
	Replaced  bool         `json:"replaced"`
	ABI       string       `json:"abi"`
	Version   string       `json:"version"`
	Source    sourceJSON   `json:"source"`
	Provides  providesJSON `json:"provides"`
}

// sourceJSON is where an installed plugin came from (its lock entry).
type sourceJSON struct {
	Kind     string `json:"kind"` // registry, oci, file, or "" when not in plugins.lock
	Registry string `json:"registry,omitempty"`
	Ref      string `json:"ref,omitempty"`
	Version  string `json:"version,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Key      string `json:"key,omitempty"`
}

func sourceOf(e pluginlock.Entry, ok bool) sourceJSON {
	if !ok {
		return sourceJSON{}
	}
	return sourceJSON{Kind: string(e.Source), Registry: e.Registry, Ref: e.Ref, Version: e.Version, SHA256: e.SHA256, Key: e.Key}
}

// sourceText is the short SOURCE column of plugins list.
func sourceText(e pluginlock.Entry, ok bool) string {
	switch {
	case !ok:
		return "unlocked"
	case e.Source == pluginlock.SourceRegistry:
		return e.Registry
	}
	return string(e.Source)
}

func pluginsInstall(c *cli.Context) error {
	if err := argCount(c, 0, 1); err != nil {
		return err
	}
	a := appOf(c)
	ctx := c.Context
	if c.Args().Len() == 0 {
		if c.String("name") != "" || c.Bool("force") {
			return usagef("--name and --force need a REF: without one, install installs exactly what plugins.lock names")
		}
		return installLocked(c)
	}
	h, err := a.host()
	if err != nil {
		return err
	}
	ref := c.Args().First()
	src, refName, version, err := parseRef(ctx, h.Config(), ref)
	if err != nil {
		return err
	}
	name := refName
	if n := c.String("name"); n != "" {
		name = n
	}
	if name == "" {
		return usagef("plugins install -: give the plugin's name with --name (standard input has no file name)")
	}
	if err := host.CheckName(name); err != nil {
		return usagef("%v (or give --name)", err)
	}
	in, err := newInstaller(a)
	if err != nil {
		return err
	}
	dest := in.home.PluginPath(name)
	_, statErr := os.Lstat(dest)
	exists := statErr == nil
	if exists && !c.Bool("force") {
		return usagef("plugin %s is already installed (%s); use --force to replace it", name, dest)
	}
	if src.kind == pluginlock.SourceRegistry {
		if src.artifact, err = src.reg.Resolve(ctx, refName, version); err != nil {
			return err
		}
	}
	f, err := in.fetch(ctx, src, name, "")
	if err != nil {
		return err
	}
	if err := in.commit(ctx, f, c.Bool("force")); err != nil {
		return err
	}
	p := f.plugin
	doc := installJSON{Installed: true, Name: name, Path: dest, Replaced: exists, ABI: string(p.ABI()), Version: f.entry.Version,
		Source: sourceOf(f.entry, true), Provides: provides(p)}
	return a.emit(doc, func(w io.Writer) {
		verb := "installed"
		if exists {
			verb = "replaced"
		}
		from := ""
		switch src.kind {
		case pluginlock.SourceRegistry:
			from = " from registry " + f.entry.Registry
		case pluginlock.SourceOCI:
			from = " from " + f.entry.Ref
		}
		fmt.Fprintf(w, "%s %s %s (%s)%s at %s\n", verb, name, orDash(f.entry.Version), p.ABI(), from, dest)
		if f.entry.Key != "" {
			fmt.Fprintf(w, "signature: verified with key %s\n", f.entry.Key)
		}
		fmt.Fprintf(w, "sha256: %s\n", f.entry.SHA256)
		fmt.Fprintf(w, "provides: %s\n", providesText(p))
	})
}

type lockInstallJSON struct {
	Plugins []lockInstallItem `json:"plugins"`
}

type lockInstallItem struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Status  string `json:"status"` // installed, up-to-date
	SHA256  string `json:"sha256"`
}

// installLocked installs exactly what plugins.lock names (as `npm ci`
// does): each plugin whose installed file does not have its pinned digest
// is fetched from its recorded source, and must have that digest.
func installLocked(c *cli.Context) error {
	a := appOf(c)
	ctx := c.Context
	in, err := newInstaller(a)
	if err != nil {
		return err
	}
	lock, err := in.readLock()
	if err != nil {
		return err
	}
	cfg := in.h.Config()
	doc := lockInstallJSON{Plugins: []lockInstallItem{}}
	for _, name := range lock.Names() {
		e, _ := lock.Get(name)
		item := lockInstallItem{Name: name, Version: e.Version, Status: "up-to-date", SHA256: e.SHA256}
		if sum, err := fileSHA256(in.home.PluginPath(name), e.Size); err == nil && sum == e.SHA256 {
			doc.Plugins = append(doc.Plugins, item)
			continue
		}
		src, err := lockedSource(ctx, cfg, e)
		if err != nil {
			return fmt.Errorf("plugins.lock: %s: %w", name, err)
		}
		f, err := in.fetch(ctx, src, name, e.Key)
		if err != nil {
			return err
		}
		if f.entry.SHA256 != e.SHA256 {
			f.stage.Discard()
			return &cliError{kind: "integrity", msg: fmt.Sprintf("plugin %s: the bytes fetched from %s have sha256 %s, but plugins.lock pins %s: the source changed; install the plugin again (plugins install REF --force) to accept the new bytes",
				name, e.Ref, f.entry.SHA256, e.SHA256)}
		}
		f.entry = e // the lock stays exactly as it was
		if err := in.commit(ctx, f, true); err != nil {
			return err
		}
		item.Status = "installed"
		doc.Plugins = append(doc.Plugins, item)
	}
	return a.emit(doc, func(w io.Writer) {
		if len(doc.Plugins) == 0 {
			fmt.Fprintf(w, "%s names no plugins: nothing to install\n", lock.Path)
			return
		}
		for _, p := range doc.Plugins {
			fmt.Fprintf(w, "%s %s: %s (sha256 %s)\n", p.Name, orDash(p.Version), strings.ReplaceAll(p.Status, "-", " "), p.SHA256)
		}
	})
}

// lockedSource returns where a lock entry's exact bytes are.
func lockedSource(ctx context.Context, cfg *host.Config, e pluginlock.Entry) (*source, error) {
	switch e.Source {
	case pluginlock.SourceFile:
		if e.Ref == "-" {
			return nil, fmt.Errorf("installed from standard input, which cannot be read again: install it with `driftless plugins install - --name %s`", e.Name)
		}
		path, ok := strings.CutPrefix(e.Ref, "file://")
		if !ok {
			return nil, fmt.Errorf("ref %q is not a file:// URL", e.Ref)
		}
		return &source{kind: pluginlock.SourceFile, file: path}, nil
	case pluginlock.SourceRegistry:
		reg, rc, err := registryOf(cfg, e.Registry, false)
		if err != nil {
			return nil, err
		}
		a, err := reg.ResolveRef(ctx, e.Ref, e.UpstreamName(), e.Version)
		if err != nil {
			return nil, err
		}
		return &source{kind: e.Source, reg: reg, regConf: rc, artifact: a}, nil
	default: // SourceOCI: the reference by digest
		src, _, _, err := parseRef(ctx, cfg, e.Ref)
		if err != nil {
			return nil, err
		}
		src.artifact.Version = e.Version
		return src, nil
	}
}

// fileSHA256Any returns the hex SHA-256 of a regular file, streamed.
func fileSHA256Any(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fileSHA256(path, st.Size())
}

// fileSHA256 returns the hex SHA-256 of a regular file of exactly size
// bytes (another size means it is not what was pinned).
func fileSHA256(path string, size int64) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() != size {
		return "", fmt.Errorf("%s is %d bytes, not %d", path, st.Size(), size)
	}
	h := newSHA256()
	if _, err := io.Copy(h, io.LimitReader(f, size)); err != nil {
		return "", err
	}
	return hexSum(h), nil
}
