package registry

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/driftless-dev/driftless/pluginstore"
)

// IndexFile is the name of a static index's index file.
const IndexFile = "index.json"

// IndexSchema is the version of the index format this package reads and
// writes.
const IndexSchema = 1

// Index is the content of a static index's index.json.
type Index struct {
	// Schema is the format's version (IndexSchema).
	Schema int `json:"schema"`
	// Plugins are the plugins offered, by name.
	Plugins map[string]IndexPlugin `json:"plugins"`
}

// IndexPlugin is one plugin of an index.
type IndexPlugin struct {
	Description string `json:"description,omitempty"`
	// Versions are the published versions, by semantic version.
	Versions map[string]IndexVersion `json:"versions"`
}

// IndexVersion is one version of a plugin in an index.
type IndexVersion struct {
	// URL is the wasm file, relative to the index (or absolute, on the
	// index's scheme).
	URL string `json:"url"`
	// SHA256 is the hex SHA-256 of the file.
	SHA256 string `json:"sha256"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Signature, if set, is the URL of its signature file (cosign
	// sign-blob's base64 signature, cosign's bundle or a Sigstore bundle).
	Signature string `json:"signature,omitempty"`
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseIndex parses and checks index.json; name is used in errors.
func ParseIndex(name string, data []byte) (*Index, error) {
	if len(data) > MaxIndexSize {
		return nil, fmt.Errorf("%s is over %d bytes", name, MaxIndexSize)
	}
	if err := checkJSONDepth(data, maxJSONDepth); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var idx Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s is not a valid index: %v", name, err)
	}
	if idx.Schema != IndexSchema {
		return nil, fmt.Errorf("%s: schema %d is not one this driftless reads (%d)", name, idx.Schema, IndexSchema)
	}
	for _, pname := range sortedKeys(idx.Plugins) {
		p := idx.Plugins[pname]
		if !nameOK(pname) {
			return nil, fmt.Errorf("%s: plugins[%q]: not a valid plugin name (letters, digits, '-' and '_')", name, pname)
		}
		for _, v := range sortedKeys(p.Versions) {
			e := p.Versions[v]
			at := fmt.Sprintf("%s: plugins[%q].versions[%q]", name, pname, v)
			switch {
			case versionKey(v) == "":
				return nil, fmt.Errorf("%s: not a semantic version (MAJOR.MINOR.PATCH)", at)
			case e.URL == "":
				return nil, fmt.Errorf("%s.url: missing", at)
			case !hexSHA256.MatchString(e.SHA256):
				return nil, fmt.Errorf("%s.sha256: %q is not a SHA-256 digest (64 lowercase hex digits)", at, e.SHA256)
			case e.Size <= 0:
				return nil, fmt.Errorf("%s.size: %d is not a file size", at, e.Size)
			}
		}
	}
	return &idx, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type indexRegistry struct {
	name, label string
	base        *url.URL // the directory of index.json, ending in '/'
	opts        Options
	client      *http.Client
}

func openIndex(name, label string, u *url.URL, opts Options) (*indexRegistry, error) {
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &Error{Kind: KindUnsupported, Registry: label, Msg: fmt.Sprintf("%q: a static index URL has no user, query or fragment", u.String())}
	}
	if u.Scheme == "file" && (u.Host != "" && u.Host != "localhost" || !path.IsAbs(u.Path)) {
		return nil, &Error{Kind: KindUnsupported, Registry: label, Msg: fmt.Sprintf("%q is not file:///ABSOLUTE/DIR", u.String())}
	}
	base := *u
	base.Path = strings.TrimSuffix(strings.TrimSuffix(base.Path, "/"+IndexFile), "/") + "/"
	base.RawPath = ""
	return &indexRegistry{name: name, label: label, base: &base, opts: opts, client: httpClient(opts)}, nil
}

func (r *indexRegistry) Name() string { return r.name }
func (r *indexRegistry) URL() string  { return strings.TrimSuffix(r.base.String(), "/") }

// resolveURL resolves a URL of the index against it, on the index's own
// scheme only (a file:// index names files, an https:// index https URLs).
func (r *indexRegistry) resolveURL(ref string) (*url.URL, error) {
	u, err := r.base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", ref, err)
	}
	if u.Scheme != r.base.Scheme {
		return nil, fmt.Errorf("%q is on %s:, not on the index's %s:", ref, u.Scheme, r.base.Scheme)
	}
	return u, nil
}

// open opens the resource at u for reading, with at most max bytes
// allowed; size is its length when known (else -1). The caller closes it.
func (r *indexRegistry) open(ctx context.Context, u *url.URL, what string, max int64) (io.ReadCloser, int64, error) {
	if u.Scheme == "file" {
		f, err := openRegular(u.Path)
		if err != nil {
			kind := KindUnreachable
			if errors.Is(err, fs.ErrNotExist) {
				kind = KindNotFound
			}
			return nil, 0, &Error{Kind: kind, Registry: r.label, What: what, Msg: err.Error(), Err: err}
		}
		st, _ := f.Stat()
		return f, st.Size(), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", "driftless")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, r.fail(ctx, what, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		e := &Error{Kind: KindUnreachable, Registry: r.label, What: what, Msg: fmt.Sprintf("GET %s: HTTP %s", u.Redacted(), resp.Status)}
		switch resp.StatusCode {
		case 404, 410:
			e.Kind = KindNotFound
		case 401, 403:
			e.Kind = KindUnauthorized
		}
		return nil, 0, e
	}
	return resp.Body, resp.ContentLength, nil
}

// openRegular opens a regular file for reading without blocking on a FIFO
// or device named like one.
func openRegular(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	return f, nil
}

func (r *indexRegistry) fail(ctx context.Context, what string, err error) *Error {
	if errors.Is(context.Cause(ctx), errStalled) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Registry: r.label, What: what, Msg: fmt.Sprintf("the server sent nothing for %s (timeout_secs)", r.opts.Timeout), Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Kind: KindCancelled, Registry: r.label, What: what, Msg: "cancelled", Err: context.Canceled}
	}
	msg := err.Error()
	if errors.Is(err, syscall.ECONNREFUSED) {
		msg = fmt.Sprintf("cannot reach %s: connection refused", r.base.Host)
	}
	return &Error{Kind: KindUnreachable, Registry: r.label, What: what, Msg: msg, Err: err}
}

// readSmall reads the resource at u whole, refusing more than max bytes.
func (r *indexRegistry) readSmall(ctx context.Context, u *url.URL, what string, max int64) ([]byte, error) {
	g := newStallGuard(ctx, r.opts.Timeout)
	defer g.stop()
	rc, size, err := r.open(g.ctx, u, what, max)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: fmt.Sprintf("is %d bytes, over the %d bytes allowed", size, max)}
	}
	data, err := io.ReadAll(io.LimitReader(g.reader(rc), max+1))
	if err != nil {
		return nil, r.fail(g.ctx, what, err)
	}
	if int64(len(data)) > max {
		return nil, &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: fmt.Sprintf("is over the %d bytes allowed", max)}
	}
	return data, nil
}

// index reads and checks index.json.
func (r *indexRegistry) index(ctx context.Context) (*Index, error) {
	u, _ := r.base.Parse(IndexFile)
	data, err := r.readSmall(ctx, u, IndexFile, MaxIndexSize)
	if err != nil {
		return nil, err
	}
	idx, err := ParseIndex(IndexFile, data)
	if err != nil {
		return nil, &Error{Kind: KindBadArtifact, Registry: r.label, Msg: err.Error()}
	}
	return idx, nil
}

func (r *indexRegistry) List(ctx context.Context, term string) ([]Listing, error) {
	idx, err := r.index(ctx)
	if err != nil {
		return nil, err
	}
	var out []Listing
	for _, name := range sortedKeys(idx.Plugins) {
		p := idx.Plugins[name]
		l := Listing{Name: name, Description: p.Description, Versions: sortVersions(sortedKeys(p.Versions))}
		if len(l.Versions) > 0 && matches(l, term) {
			out = append(out, l)
		}
	}
	return out, nil
}

func (r *indexRegistry) Resolve(ctx context.Context, name, version string) (*Artifact, error) {
	idx, err := r.index(ctx)
	if err != nil {
		return nil, err
	}
	p, ok := idx.Plugins[name]
	if !ok {
		return nil, &Error{Kind: KindNotFound, Registry: r.label, What: name, Msg: fmt.Sprintf("no plugin %s in %s", name, IndexFile)}
	}
	versions := sortVersions(sortedKeys(p.Versions))
	key := version
	if version == "" {
		key = highest(versions)
	} else {
		for _, v := range versions {
			if versionKey(v) == versionKey(version) && versionKey(v) != "" {
				key = v
			}
		}
	}
	e, ok := p.Versions[key]
	if !ok {
		return nil, &Error{Kind: KindNotFound, Registry: r.label, What: name + "@" + version,
			Msg: fmt.Sprintf("no version %s (versions: %s)", version, strings.Join(versions, ", "))}
	}
	what := name + "@" + key
	u, err := r.resolveURL(e.URL)
	if err != nil {
		return nil, &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: "url: " + err.Error()}
	}
	a := &Artifact{Registry: r.name, Name: name, Version: key, Description: p.Description, Ref: u.String(), SHA256: e.SHA256, Size: e.Size}
	if e.Signature != "" {
		su, err := r.resolveURL(e.Signature)
		if err != nil {
			return nil, &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: "signature: " + err.Error()}
		}
		a.SignatureURL = su.String()
	}
	return a, nil
}

func (r *indexRegistry) Open(ctx context.Context, a *Artifact, max int64) (io.ReadCloser, error) {
	what := a.Name + "@" + a.Version
	if a.Size > max {
		return nil, tooLarge(r.label, what, a, max)
	}
	u, err := r.resolveURL(a.Ref)
	if err != nil {
		return nil, &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: err.Error()}
	}
	g := newStallGuard(ctx, r.opts.Timeout)
	rc, size, err := r.open(g.ctx, u, what, a.Size)
	if err != nil {
		defer g.stop()
		if g.stalled() {
			return nil, r.fail(g.ctx, what, err)
		}
		return nil, err
	}
	if size >= 0 && size != a.Size {
		g.stop()
		rc.Close()
		return nil, &Error{Kind: KindIntegrity, Registry: r.label, What: what,
			Msg: fmt.Sprintf("%s is %d bytes, but %s says %d", u.Redacted(), size, IndexFile, a.Size)}
	}
	return newDownload(g, rc, a, r.label, what, IndexFile+" gives"), nil
}

// ResolveRef finds the version in the index and checks that it is still
// the file ref names: an index that now serves other bytes for a version
// is not what was locked.
func (r *indexRegistry) ResolveRef(ctx context.Context, ref, name, version string) (*Artifact, error) {
	a, err := r.Resolve(ctx, name, version)
	if err != nil {
		return nil, err
	}
	if a.Ref != ref {
		return nil, &Error{Kind: KindIntegrity, Registry: r.label, What: name + "@" + version,
			Msg: fmt.Sprintf("%s now serves this version from %s, not %s", IndexFile, a.Ref, ref)}
	}
	return a, nil
}

func (r *indexRegistry) Signatures(ctx context.Context, a *Artifact) (*Signatures, error) {
	if a.SignatureURL == "" {
		return &Signatures{}, nil
	}
	u, err := url.Parse(a.SignatureURL)
	if err != nil {
		return nil, err
	}
	data, err := r.readSmall(ctx, u, a.Name+"@"+a.Version+" signature", MaxSignatureSize)
	if err != nil {
		return nil, err
	}
	return &Signatures{Blob: data}, nil
}

// Publish adds a plugin to a file:// index: the wasm (and its signature)
// under NAME/VERSION/ beside index.json, then index.json, each written
// atomically, under a lock on the directory so concurrent publishers do
// not lose each other's entries.
func (r *indexRegistry) Publish(ctx context.Context, p *Publication) (*Artifact, error) {
	what := p.Name + "@" + p.Version
	if r.base.Scheme != "file" {
		return nil, &Error{Kind: KindUnsupported, Registry: r.label, What: what,
			Msg: "a static index on a web server is read-only: publish to the directory it serves (a file:// registry) and upload that"}
	}
	if !nameOK(p.Name) {
		return nil, &Error{Kind: KindUnsupported, Registry: r.label, What: what, Msg: "not a valid plugin name"}
	}
	if versionKey(p.Version) == "" {
		return nil, &Error{Kind: KindUnsupported, Registry: r.label, What: what, Msg: fmt.Sprintf("%q is not a semantic version (MAJOR.MINOR.PATCH)", p.Version)}
	}
	dir := filepath.FromSlash(r.base.Path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, &Error{Kind: KindNotFound, Registry: r.label, What: what, Msg: fmt.Sprintf("%s is not a directory", dir)}
	}
	lock, err := pluginstore.LockFile(ctx, filepath.Join(dir, ".index.lock"), nil)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()

	idx := &Index{Schema: IndexSchema, Plugins: map[string]IndexPlugin{}}
	if _, err := os.Stat(filepath.Join(dir, IndexFile)); err == nil {
		if idx, err = r.index(ctx); err != nil {
			return nil, err
		}
		if idx.Plugins == nil {
			idx.Plugins = map[string]IndexPlugin{}
		}
	}
	entry := idx.Plugins[p.Name]
	if entry.Versions == nil {
		entry.Versions = map[string]IndexVersion{}
	}
	if _, ok := entry.Versions[p.Version]; ok && !p.Force {
		return nil, &Error{Kind: KindExists, Registry: r.label, What: what, Msg: "this version is already published (--force replaces it)"}
	}
	rel := p.Name + "/" + p.Version + "/" + p.Name + ".wasm"
	if err := os.MkdirAll(filepath.Join(dir, p.Name, p.Version), 0o755); err != nil {
		return nil, err
	}
	if err := pluginstore.WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(rel)), p.Wasm, 0o644); err != nil {
		return nil, err
	}
	sum := sha256Hex(p.Wasm)
	v := IndexVersion{URL: rel, SHA256: sum, Size: int64(len(p.Wasm))}
	sigPath := filepath.Join(dir, filepath.FromSlash(rel)+".sig")
	if p.Signer != nil {
		raw, err := p.Signer.Sign(p.Wasm)
		if err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
		// cosign sign-blob's format: the base64 signature.
		sig := []byte(base64.StdEncoding.EncodeToString(raw))
		if err := pluginstore.WriteFileAtomic(sigPath, sig, 0o644); err != nil {
			return nil, err
		}
		v.Signature = rel + ".sig"
	} else if err := os.Remove(sigPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	entry.Versions[p.Version] = v
	if p.Description != "" {
		entry.Description = p.Description
	}
	idx.Plugins[p.Name] = entry
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := pluginstore.WriteFileAtomic(filepath.Join(dir, IndexFile), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	u, _ := r.resolveURL(rel)
	a := &Artifact{Registry: r.name, Name: p.Name, Version: p.Version, Description: entry.Description, Ref: u.String(), SHA256: sum, Size: v.Size}
	if v.Signature != "" {
		su, _ := r.resolveURL(v.Signature)
		a.SignatureURL = su.String()
	}
	return a, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
