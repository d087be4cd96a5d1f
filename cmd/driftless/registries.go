package main

// The commands that work with registries: search, publish, update and
// verify (install is in install.go). The mechanics live in packages
// registry (the registries), pluginstore (staging and committing files,
// the lock on the home), pluginlock (plugins.lock) and pluginsig
// (signatures); these files put them together for people.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/host"
	"github.com/driftless-dev/driftless/internal/safefile"
	"github.com/driftless-dev/driftless/pluginlock"
	"github.com/driftless-dev/driftless/pluginsig"
	"github.com/driftless-dev/driftless/pluginstore"
	"github.com/driftless-dev/driftless/registry"
)

// sigError is a signature that is missing or does not verify (kind
// "signature", exit 2).
func sigError(format string, args ...any) error {
	return &cliError{kind: "signature", msg: fmt.Sprintf(format, args...)}
}

// registryOf opens the configured registry name.
func registryOf(cfg *host.Config, name string, requireEnabled bool) (registry.Registry, *host.Registry, error) {
	rc, ok := cfg.Registry(name)
	if !ok {
		return nil, nil, usagef("no registry %q in %s%s", name, configName(cfg), registryNames(cfg))
	}
	if requireEnabled && !rc.Enabled {
		return nil, nil, usagef("registry %s is disabled: set enabled = true in its [[registries]] entry of %s", name, configName(cfg))
	}
	r, err := registry.Open(rc.Name, rc.URL, registry.Options{Insecure: rc.Insecure, Timeout: rc.Timeout()})
	if err != nil {
		return nil, nil, err
	}
	return r, &rc, nil
}

func configName(cfg *host.Config) string {
	if cfg.Path == "" {
		return "plugins.toml"
	}
	return cfg.Path
}

func registryNames(cfg *host.Config) string {
	if len(cfg.Registries) == 0 {
		return " (no [[registries]] are configured)"
	}
	var names []string
	for _, r := range cfg.Registries {
		names = append(names, r.Name)
	}
	return " (registries: " + strings.Join(names, ", ") + ")"
}

// ociRegistryFor returns the configured oci:// registry a direct
// reference HOST/REPO falls in (same host, REPO under its namespace), so
// that its insecure and public_key settings apply: a direct reference
// must not bypass a registry's signature requirement.
func ociRegistryFor(cfg *host.Config, hostRepo string) *host.Registry {
	var best *host.Registry
	for i := range cfg.Registries {
		r := &cfg.Registries[i]
		rest, ok := strings.CutPrefix(r.URL, "oci://")
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(rest, "/")
		if hostRepo == rest || strings.HasPrefix(hostRepo, rest+"/") {
			if best == nil || len(r.URL) > len(best.URL) {
				best = r
			}
		}
	}
	return best
}

// keyOf loads the public key a registry requires, or nil.
func keyOf(rc *host.Registry) (*pluginsig.PublicKey, error) {
	if rc == nil || rc.PublicKey == "" {
		return nil, nil
	}
	k, err := pluginsig.LoadPublicKey(rc.PublicKey)
	if err != nil {
		return nil, &cliError{kind: "config", msg: fmt.Sprintf("registry %s: public_key: %v", rc.Name, err), err: err}
	}
	return k, nil
}

type searchJSON struct {
	Registry    string   `json:"registry"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Versions    []string `json:"versions"`
}

func pluginsSearch(c *cli.Context) error {
	if err := argCount(c, 0, 1); err != nil {
		return err
	}
	a := appOf(c)
	h, err := a.host()
	if err != nil {
		return err
	}
	cfg := h.Config()
	var enabled []host.Registry
	for _, r := range cfg.Registries {
		if r.Enabled {
			enabled = append(enabled, r)
		}
	}
	if len(enabled) == 0 {
		return usagef("no registry is enabled in %s: add a [[registries]] entry with enabled = true (docs/registries.md)", configName(cfg))
	}
	// Registries are asked at once: one slow registry does not delay the
	// others' answers.
	results := make([][]registry.Listing, len(enabled))
	errs := make([]error, len(enabled))
	var wg sync.WaitGroup
	for i, rc := range enabled {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := registry.Open(rc.Name, rc.URL, registry.Options{Insecure: rc.Insecure, Timeout: rc.Timeout()})
			if err == nil {
				results[i], err = r.List(c.Context, c.Args().First())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	docs := []searchJSON{}
	var failed []error
	for i, rc := range enabled {
		if errs[i] != nil {
			failed = append(failed, errs[i])
			a.logger.Warn("registry search failed", "registry", rc.Name, "error", errs[i])
			continue
		}
		for _, l := range results[i] {
			docs = append(docs, searchJSON{Registry: rc.Name, Name: l.Name, Description: l.Description, Versions: l.Versions})
		}
	}
	if len(failed) == len(enabled) {
		return failed[0]
	}
	return a.emit(docs, func(w io.Writer) {
		if len(docs) == 0 {
			fmt.Fprintln(w, "no plugins found")
			return
		}
		t := table(w)
		fmt.Fprintln(t, "REGISTRY\tNAME\tVERSIONS\tDESCRIPTION")
		for _, d := range docs {
			vs := d.Versions
			more := ""
			if len(vs) > 4 {
				vs, more = vs[:4], fmt.Sprintf(", ... (%d)", len(d.Versions))
			}
			fmt.Fprintf(t, "%s\t%s\t%s%s\t%s\n", d.Registry, d.Name, strings.Join(vs, ", "), more, orDash(oneLine(d.Description)))
		}
		t.Flush()
	})
}

type publishJSON struct {
	Published bool   `json:"published"`
	Registry  string `json:"registry"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ref       string `json:"ref"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	Key       string `json:"key,omitempty"`
}

func pluginsPublish(c *cli.Context) error {
	if err := argCount(c, 2, 2); err != nil {
		return err
	}
	a := appOf(c)
	ctx := c.Context
	h, err := a.host()
	if err != nil {
		return err
	}
	file, target := c.Args().Get(0), c.Args().Get(1)
	regName, rest, ok := strings.Cut(target, "/")
	name, version, hasVersion := strings.Cut(rest, "@")
	if !ok || !hasVersion || version == "" || strings.Contains(rest, "/") {
		return usagef("%q is not REGISTRY/NAME@VERSION", target)
	}
	if err := host.CheckName(name); err != nil {
		return usagef("%v", err)
	}
	reg, rc, err := registryOf(h.Config(), regName, false)
	if err != nil {
		return err
	}
	key, err := keyOf(rc)
	if err != nil {
		return err
	}
	var signer *pluginsig.Signer
	if kp := c.String("key"); kp != "" {
		if signer, err = pluginsig.LoadSigner(kp, keyPassword); err != nil {
			return usagef("--key: %v", err)
		}
		if key != nil && signer.Public.Fingerprint != key.Fingerprint {
			return sigError("--key %s (%s) is not the key registry %s requires (%s): installs would refuse the plugin",
				kp, signer.Public.Fingerprint, regName, key)
		}
	} else if key != nil {
		return sigError("registry %s requires plugins signed by %s (public_key): give --key", regName, key)
	}
	// Validate first: only a plugin that loads is published, and what is
	// published is exactly the bytes validated (read once, into a private
	// copy, so a file rewritten meanwhile cannot slip other bytes through).
	if err := checkFile(file, "plugin file"); err != nil {
		return err
	}
	wasm, err := readBounded(file, h.Config().LimitsFor(name).MaxPluginSize)
	if err != nil {
		return err
	}
	p, err := validateBytes(ctx, h, wasm, name)
	if err != nil {
		return err
	}
	pub := &registry.Publication{Name: name, Version: version, Description: p.Info().Description, Wasm: wasm,
		Component: p.ABI() == host.ABIComponent, Imports: p.Imports(), Exports: p.Exports(), Force: c.Bool("force")}
	if signer != nil { // a nil *Signer in the interface would not be nil
		pub.Signer = signer
	}
	art, err := reg.Publish(ctx, pub)
	if err != nil {
		return err
	}
	doc := publishJSON{Published: true, Registry: regName, Name: name, Version: version, Ref: art.Ref, SHA256: art.SHA256, Size: art.Size}
	if signer != nil {
		doc.Key = signer.Public.Fingerprint
	}
	return a.emit(doc, func(w io.Writer) {
		fmt.Fprintf(w, "published %s %s to registry %s (%s)\n", name, version, regName, art.Ref)
		if signer != nil {
			fmt.Fprintf(w, "signed with %s\n", signer.Public)
		}
		fmt.Fprintf(w, "sha256: %s\n", art.SHA256)
	})
}

// validateBytes validates wasm as plugin name, from a private copy.
func validateBytes(ctx context.Context, h *host.Host, wasm []byte, name string) (*host.Plugin, error) {
	dir, err := os.MkdirTemp("", "driftless-publish-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(path, wasm, 0o600); err != nil {
		return nil, err
	}
	return h.Validate(ctx, path)
}

// keyPassword is the password of an encrypted private key: $COSIGN_PASSWORD,
// as for cosign.
func keyPassword() ([]byte, error) {
	if p, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(p), nil
	}
	return nil, errors.New("the key is encrypted: set COSIGN_PASSWORD to its password (as for cosign)")
}

// readBounded reads a regular file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, usagef("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &safefile.TooLargeError{Path: path, Size: st.Size(), Max: max}
	}
	return data, nil
}

type updateJSON struct {
	Check   bool         `json:"check"`
	Plugins []updateItem `json:"plugins"`
}

type updateItem struct {
	Name     string `json:"name"`
	Registry string `json:"registry"`
	From     string `json:"from"`
	To       string `json:"to"`
	Status   string `json:"status"` // updated, available, up-to-date, newer-installed, failed
	// Error says why a plugin of several could not be updated (status
	// failed); the others are still tried.
	Error *errorJSON `json:"error,omitempty"`
}

func pluginsUpdate(c *cli.Context) error {
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
	type want struct{ name, version string }
	var wants []want
	if c.Args().Len() == 0 {
		for _, n := range lock.Names() {
			if e, _ := lock.Get(n); e.Source == pluginlock.SourceRegistry {
				wants = append(wants, want{name: n})
			}
		}
	}
	for _, arg := range c.Args().Slice() {
		n, v, _ := strings.Cut(arg, "@")
		e, ok := lock.Get(n)
		if !ok {
			return &host.Error{Plugin: n, Func: "update", Kind: host.KindNotFound, Msg: "not in plugins.lock: install it with `driftless plugins install REGISTRY/NAME`"}
		}
		if e.Source != pluginlock.SourceRegistry {
			return usagef("plugin %s was installed from %s, not from a registry: install it again with `driftless plugins install REF --force`", n, e.Ref)
		}
		wants = append(wants, want{n, v})
	}
	doc := updateJSON{Check: c.Bool("check"), Plugins: []updateItem{}}
	failed := 0
	for _, w := range wants {
		e, _ := lock.Get(w.name)
		item := updateItem{Name: w.name, Registry: e.Registry, From: e.Version}
		err := updateOne(ctx, in, cfg, e, w.version, doc.Check, &item)
		switch {
		case err == nil:
		case len(wants) == 1 || ctx.Err() != nil:
			// One plugin: its error is the command's. Cancelled: stop.
			return err
		default:
			// Several: say why this one failed and go on with the others.
			item.Status, item.Error = "failed", errorDoc(err)
			failed++
		}
		doc.Plugins = append(doc.Plugins, item)
	}
	err = a.emit(doc, func(wr io.Writer) {
		if len(doc.Plugins) == 0 {
			fmt.Fprintln(wr, "no plugin installed from a registry")
			return
		}
		for _, p := range doc.Plugins {
			switch p.Status {
			case "up-to-date":
				fmt.Fprintf(wr, "%s %s: up to date (registry %s)\n", p.Name, p.From, p.Registry)
			case "newer-installed":
				fmt.Fprintf(wr, "%s %s: kept: newer than %s, the newest in registry %s (`plugins update %s@%s` installs that)\n",
					p.Name, p.From, p.To, p.Registry, p.Name, p.To)
			case "available":
				fmt.Fprintf(wr, "%s %s → %s available (registry %s)\n", p.Name, p.From, p.To, p.Registry)
			case "failed":
				fmt.Fprintf(wr, "%s %s: not updated: %s\n", p.Name, p.From, p.Error.Message)
			default:
				fmt.Fprintf(wr, "updated %s %s → %s (registry %s)\n", p.Name, p.From, p.To, p.Registry)
			}
		}
	})
	if err != nil || failed == 0 {
		return err
	}
	// The report is printed, each failure in it: a summary on stderr (text
	// mode) and the exit code (1) remain.
	cerr := &cliError{kind: "update", msg: fmt.Sprintf("%d of %d plugins could not be updated", failed, len(wants))}
	if !a.json {
		fmt.Fprintf(a.stderr, "error: %s\n", cerr.msg)
	}
	return &reported{err: cerr}
}

// updateOne updates the plugin of lock entry e to version (the newest
// when ""), or with check only finds out, filling in item.
func updateOne(ctx context.Context, in *installer, cfg *host.Config, e pluginlock.Entry, version string, check bool, item *updateItem) error {
	reg, rc, err := registryOf(cfg, e.Registry, true)
	if err != nil {
		return err
	}
	art, err := reg.Resolve(ctx, e.UpstreamName(), version)
	if err != nil {
		return err
	}
	item.To, item.Status = art.Version, "up-to-date"
	if cmp, ok := registry.CompareVersions(art.Version, e.Version); ok && cmp < 0 && version == "" {
		// Never a silent downgrade: the registry's newest is older
		// than what is installed (a version withdrawn, or installed
		// by name). Asking for the version does it.
		item.Status = "newer-installed"
		return nil
	}
	if art.SHA256 == e.SHA256 && art.Ref == e.Ref {
		return nil
	}
	item.Status = "available"
	if check {
		return nil
	}
	f, err := in.fetch(ctx, &source{kind: pluginlock.SourceRegistry, reg: reg, regConf: rc, artifact: art}, e.Name, "")
	if err != nil {
		return err
	}
	if err := in.commit(ctx, f, true); err != nil {
		return err
	}
	item.Status = "updated"
	return nil
}

type verifyJSON struct {
	OK      bool         `json:"ok"`
	Plugins []verifyItem `json:"plugins"`
}

type verifyItem struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Key     string `json:"key,omitempty"`
}

func pluginsVerify(c *cli.Context) error {
	if err := argCount(c, 0, 0); err != nil {
		return err
	}
	a := appOf(c)
	h, err := a.host()
	if err != nil {
		return err
	}
	home := pluginstore.Open(a.homeDir())
	lock := h.Lock()
	cfg := h.Config()
	doc := verifyJSON{OK: true, Plugins: []verifyItem{}}
	names := map[string]bool{}
	for _, n := range lock.Names() {
		names[n] = true
	}
	for _, n := range a.installedNames() {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		item := verifyItem{Name: n, OK: true}
		e, locked := lock.Get(n)
		path := home.PluginPath(n)
		switch {
		case !locked:
			item.Problem = fmt.Sprintf("%s is not in plugins.lock (copied in by hand?): install it with `driftless plugins install`, or remove it", path)
		default:
			item.SHA256, item.Key = e.SHA256, e.Key
			item.Problem = verifyEntry(cfg, home, e, path)
		}
		if item.Problem != "" {
			item.OK, doc.OK = false, false
		}
		doc.Plugins = append(doc.Plugins, item)
	}
	err = a.emit(doc, func(w io.Writer) {
		if len(doc.Plugins) == 0 {
			fmt.Fprintln(w, "no plugins installed, and plugins.lock names none")
			return
		}
		for _, p := range doc.Plugins {
			if p.OK {
				sig := ""
				if p.Key != "" {
					sig = ", signature by " + p.Key
				}
				fmt.Fprintf(w, "%s: ok (sha256 %s%s)\n", p.Name, p.SHA256, sig)
			} else {
				fmt.Fprintf(w, "%s: MISMATCH: %s\n", p.Name, p.Problem)
			}
		}
	})
	if err != nil {
		return err
	}
	if !doc.OK {
		bad := 0
		for _, p := range doc.Plugins {
			if !p.OK {
				bad++
			}
		}
		// The report is printed: only the exit code (1) remains.
		return &reported{err: &cliError{kind: "verify", msg: fmt.Sprintf("%d plugins do not match plugins.lock", bad)}}
	}
	return nil
}

// verifyEntry checks an installed plugin against its lock entry, and its
// kept signature against its registry's key; "" when all is well.
func verifyEntry(cfg *host.Config, home *pluginstore.Home, e pluginlock.Entry, path string) string {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("%s is missing (plugins.lock names it: `driftless plugins install` installs it)", path)
	}
	if err == nil && st.Mode().IsRegular() && st.Size() != e.Size {
		return fmt.Sprintf("%s is %d bytes, plugins.lock pins %d bytes with sha256 %s", path, st.Size(), e.Size, e.SHA256)
	}
	wasm, err := readBounded(path, e.Size)
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	if sum := sha256Hex(wasm); sum != e.SHA256 {
		return fmt.Sprintf("%s has sha256 %s, plugins.lock pins %s", path, sum, e.SHA256)
	}
	var rc *host.Registry
	if e.Source == pluginlock.SourceRegistry {
		r, ok := cfg.Registry(e.Registry)
		if !ok {
			return fmt.Sprintf("installed from registry %s, which %s no longer configures", e.Registry, configName(cfg))
		}
		rc = &r
	} else if e.Source == pluginlock.SourceOCI {
		rest := strings.TrimPrefix(e.Ref, "oci://")
		rc = ociRegistryFor(cfg, strings.SplitN(rest, "@", 2)[0])
	}
	key, err := keyOf(rc)
	if err != nil {
		return err.Error()
	}
	switch {
	case key == nil && e.Key == "":
		return ""
	case key == nil:
		return fmt.Sprintf("plugins.lock says key %s verified it, but its registry has no public_key now", e.Key)
	case e.Key == "":
		return fmt.Sprintf("installed without a signature, but registry %s requires one by %s now: install it again", rc.Name, key)
	}
	data, err := readBounded(filepath.Join(home.SignatureDir(), e.Name+".json"), pluginsig.MaxSignatureSize*4)
	if err != nil {
		return fmt.Sprintf("the signature that verified it is not kept (%v): install it again", err)
	}
	var ev pluginsig.Evidence
	if err := jsonUnmarshal(data, &ev); err != nil {
		return fmt.Sprintf("the kept signature is unreadable: %v", err)
	}
	if err := ev.Check(key, wasm); err != nil {
		return fmt.Sprintf("signature check with %s failed: %v", key, err)
	}
	return ""
}

func newSHA256() hash.Hash { return sha256.New() }

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func jsonBytes(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
