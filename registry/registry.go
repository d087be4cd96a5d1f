// Package registry finds, downloads and publishes Driftless plugins in
// registries of two kinds:
//
//   - OCI Distribution registries (oci://HOST[:PORT]/NAMESPACE): plugin
//     NAME at VERSION is the repository NAMESPACE/NAME, tag VERSION, in the
//     Wasm OCI artifact layout that wkg, Spin and wasmCloud use (config
//     media type application/vnd.wasm.config.v0+json, one application/wasm
//     layer). The OCI client is oras-go; credentials come from the Docker
//     config (~/.docker/config.json or $DOCKER_CONFIG), as oras and wkg
//     read them, and are never shown.
//   - Static indexes (file:///DIR, https://HOST/PATH): an index.json beside
//     the plugin files (docs/registries.md describes it), so that a
//     directory or any static web server is a registry.
//
// Everything a registry sends is hostile until bounded: manifests and
// indexes are size- and depth-limited before they are parsed, plugin
// downloads stop at the caller's limit, and a server that stops sending
// for longer than the registry's timeout fails the operation. Digests are
// checked on the bytes that arrive, never trusted from headers.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// DefaultTimeout is how long a registry may stay silent: to connect, to
// answer a request, or between two chunks of a download.
const DefaultTimeout = 30 * time.Second

// Bounds on what is read from a registry before parsing it.
const (
	MaxManifestSize = 256 << 10 // an OCI manifest: a few KB in practice
	MaxIndexSize    = 8 << 20   // index.json of a static index
	maxJSONDepth    = 32        // nesting of any JSON read
	maxListed       = 10_000    // repositories and tags listed per registry or plugin
)

// Media types of the Wasm OCI artifact layout.
const (
	ManifestMediaType = "application/vnd.oci.image.manifest.v1+json"
	ConfigMediaType   = "application/vnd.wasm.config.v0+json"
	LayerMediaType    = "application/wasm"
)

// Options configure a registry client.
type Options struct {
	// Insecure allows plain HTTP (an oci:// registry is then spoken to
	// over http, an http:// index is allowed). TLS is always verified.
	Insecure bool
	// Timeout is how long the registry may stay silent; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Transport, if set, replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// Registry is a client of one registry.
type Registry interface {
	// Name returns the registry's name in plugins.toml ("" for a registry
	// opened from a direct reference).
	Name() string
	// URL returns the registry's URL.
	URL() string
	// List returns what the registry offers, by plugin name; term, if
	// set, keeps the plugins whose name or description contains it.
	List(ctx context.Context, term string) ([]Listing, error)
	// Resolve finds the plugin name at version; version "" means the
	// highest semantic version (the highest release, or the highest
	// pre-release when there is no release).
	Resolve(ctx context.Context, name, version string) (*Artifact, error)
	// Open starts the download of the plugin's wasm. It fails at once
	// (KindTooLarge) when a.Size is over max. The reader checks the bytes
	// against a as they arrive: it fails when more than a.Size arrive, when
	// the download is cut (KindIntegrity), when the bytes do not have
	// a.SHA256 (at the end, KindIntegrity), and when the registry stays
	// silent for its timeout (KindTimeout). The caller must discard what it
	// read on any error, and close the reader.
	Open(ctx context.Context, a *Artifact, max int64) (io.ReadCloser, error)
	// ResolveRef resolves the exact location of a plugin as Artifact.Ref
	// gives it (what plugins.lock records), for the plugin name at version.
	ResolveRef(ctx context.Context, ref, name, version string) (*Artifact, error)
	// Signatures returns the signatures published for a (none is not an
	// error: an empty result).
	Signatures(ctx context.Context, a *Artifact) (*Signatures, error)
	// Publish uploads a plugin; it refuses to replace an existing version
	// unless p.Force (an *Error of kind KindExists).
	Publish(ctx context.Context, p *Publication) (*Artifact, error)
}

// Listing is one plugin a registry offers.
type Listing struct {
	Name        string
	Description string
	Versions    []string // newest first
}

// Artifact is one version of a plugin in a registry.
type Artifact struct {
	Registry    string // the registry's name, "" for a direct reference
	Name        string
	Version     string
	Description string
	// Ref is the exact location of the bytes: oci://HOST/REPO@sha256:…
	// (the manifest digest) or the URL of the file of a static index.
	Ref    string
	SHA256 string // hex SHA-256 of the wasm
	Size   int64

	// OCI only.
	Repository     string // HOST[:PORT]/REPO
	Manifest       []byte // the manifest, as the registry sent it
	ManifestDigest string // sha256:…
	// Static index only: the URL of the signature file, if any.
	SignatureURL string
}

// Signatures are the signatures published for an artifact.
type Signatures struct {
	OCI  []OCISignature // cosign signature layers (OCI)
	Blob []byte         // the signature file (static index)
}

// Empty reports whether there is no signature.
func (s *Signatures) Empty() bool { return s == nil || (len(s.OCI) == 0 && len(s.Blob) == 0) }

// Publication is what Publish uploads.
type Publication struct {
	Name        string
	Version     string
	Description string
	Wasm        []byte
	// Component says the wasm is a component (else a core module); its
	// Imports and Exports go into the OCI config as wkg writes them.
	Component        bool
	Imports, Exports []string
	// Force replaces an existing version.
	Force bool
	// Signer, if set, signs the plugin (cosign's formats).
	Signer Signer
}

// ErrorKind classifies registry errors.
type ErrorKind string

// Registry error kinds.
const (
	KindNotFound     ErrorKind = "not-found"    // no such plugin, version or file
	KindUnauthorized ErrorKind = "unauthorized" // 401/403
	KindUnreachable  ErrorKind = "unreachable"  // cannot connect, or an unexpected answer
	KindTimeout      ErrorKind = "timeout"      // the registry stayed silent too long
	KindBadArtifact  ErrorKind = "bad-artifact" // not a plugin in the expected layout
	KindIntegrity    ErrorKind = "integrity"    // bytes differ from their digest or size, or a cut download
	KindTooLarge     ErrorKind = "too-large"    // over the caller's size limit
	KindExists       ErrorKind = "exists"       // Publish of an existing version
	KindUnsupported  ErrorKind = "unsupported"  // e.g. publishing to a web server
	KindCancelled    ErrorKind = "cancelled"    // the caller's context ended
)

// Error is a registry failure. Its message names the registry and what was
// asked of it.
type Error struct {
	Kind     ErrorKind
	Registry string // the registry's name or URL
	What     string // what was asked: "hello@1.0.0", "index.json", ...
	Msg      string
	Err      error
}

func (e *Error) Error() string {
	s := "registry " + e.Registry
	if e.What != "" {
		s += ": " + e.What
	}
	return s + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a registry error in err's chain, or "".
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Open returns the client of the registry name at rawURL: oci://, file://,
// https:// or (with opts.Insecure) http://.
func Open(name, rawURL string, opts Options) (Registry, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	label := name
	if label == "" {
		label = rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Kind: KindUnsupported, Registry: label, Msg: fmt.Sprintf("invalid URL %q: %v", rawURL, err)}
	}
	switch u.Scheme {
	case "oci":
		return openOCI(name, label, u, opts)
	case "file", "https":
		return openIndex(name, label, u, opts)
	case "http":
		if !opts.Insecure {
			return nil, &Error{Kind: KindUnsupported, Registry: label,
				Msg: fmt.Sprintf("%s is plain HTTP: set insecure = true on the registry to allow it", rawURL)}
		}
		return openIndex(name, label, u, opts)
	}
	return nil, &Error{Kind: KindUnsupported, Registry: label,
		Msg: fmt.Sprintf("%q is not an oci://, file://, https:// or http:// URL", rawURL)}
}

// httpClient is the HTTP client of every registry: bounded waits, TLS
// always verified, proxies from the environment.
func httpClient(opts Options) *http.Client {
	if opts.Transport != nil {
		return &http.Client{Transport: opts.Transport}
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}}
}

// errStalled is the cancellation cause of a transfer that stopped.
var errStalled = errors.New("stalled")

// stallGuard cancels a transfer when no byte arrives for its timeout.
type stallGuard struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	d      time.Duration
}

func newStallGuard(ctx context.Context, d time.Duration) *stallGuard {
	g := &stallGuard{d: d}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	g.timer = time.AfterFunc(d, func() { g.cancel(errStalled) })
	return g
}

// reader resets the guard on every byte read from r.
func (g *stallGuard) reader(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		if n > 0 {
			g.timer.Reset(g.d)
		}
		return n, err
	})
}

func (g *stallGuard) stop() {
	g.timer.Stop()
	g.cancel(nil)
}

// stalled reports whether the guard fired.
func (g *stallGuard) stalled() bool { return errors.Is(context.Cause(g.ctx), errStalled) }

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// versionKey returns the semver form ("v1.2.3") of a version or tag, or ""
// when it is not a full MAJOR.MINOR.PATCH semantic version (tags such as
// "latest" or "1.2" are not versions).
func versionKey(v string) string {
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !semver.IsValid(v) {
		return ""
	}
	core := v
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	if strings.Count(core, ".") != 2 {
		return ""
	}
	return v
}

// CompareVersions compares two semantic versions (as plugins.lock and
// Artifact.Version hold them, with or without a leading "v"): -1, 0 or +1,
// and false when either is not a MAJOR.MINOR.PATCH version.
func CompareVersions(a, b string) (int, bool) {
	ka, kb := versionKey(a), versionKey(b)
	if ka == "" || kb == "" {
		return 0, false
	}
	return semver.Compare(ka, kb), true
}

// sortVersions sorts semantic versions newest first, dropping the others.
func sortVersions(vs []string) []string {
	var out []string
	for _, v := range vs {
		if versionKey(v) != "" {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return semver.Compare(versionKey(out[i]), versionKey(out[j])) > 0 })
	return out
}

// highest returns the version Resolve picks among vs: the highest release,
// or the highest pre-release when there is no release.
func highest(vs []string) string {
	sorted := sortVersions(vs)
	for _, v := range sorted {
		if semver.Prerelease(versionKey(v)) == "" {
			return v
		}
	}
	if len(sorted) > 0 {
		return sorted[0]
	}
	return ""
}

// checkJSONDepth refuses JSON nested deeper than max before it is decoded
// (encoding/json recurses once per level).
func checkJSONDepth(data []byte, max int) error {
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > max {
				return fmt.Errorf("JSON nested deeper than %d levels", max)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// nameOK reports whether name can be a plugin name (host.CheckName's rule).
func nameOK(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '-' || c == '_'))
		if !ok {
			return false
		}
	}
	return true
}

// Fetch downloads a into w (see Registry.Open); progress, if set, is
// called with the bytes received so far.
func Fetch(ctx context.Context, r Registry, a *Artifact, w io.Writer, max int64, progress func(int64)) error {
	rc, err := r.Open(ctx, a, max)
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, err := rc.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return werr
			}
			n += int64(k)
			if progress != nil {
				progress(n)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// tooLarge is the error of an artifact over the caller's limit.
func tooLarge(label, what string, a *Artifact, max int64) *Error {
	return &Error{Kind: KindTooLarge, Registry: label, What: what,
		Msg: fmt.Sprintf("plugin is %d bytes, over max_plugin_size of %d bytes", a.Size, max)}
}

// downloadReader checks a download as it arrives (see Registry.Open).
type downloadReader struct {
	g           *stallGuard
	body        io.ReadCloser
	src         io.Reader
	h           hash.Hash
	n           int64
	a           *Artifact
	label, what string
	sumFrom     string // who announced the digest, for messages
	err         error
}

func newDownload(g *stallGuard, body io.ReadCloser, a *Artifact, label, what, sumFrom string) *downloadReader {
	return &downloadReader{g: g, body: body, src: g.reader(body), h: sha256.New(), a: a, label: label, what: what, sumFrom: sumFrom}
}

func (d *downloadReader) fail(kind ErrorKind, err error, format string, args ...any) error {
	d.err = &Error{Kind: kind, Registry: d.label, What: d.what, Msg: fmt.Sprintf(format, args...), Err: err}
	return d.err
}

func (d *downloadReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	k, err := d.src.Read(p)
	if k > 0 {
		if d.n+int64(k) > d.a.Size {
			return 0, d.fail(KindIntegrity, nil, "the registry sent more than the %d bytes announced", d.a.Size)
		}
		d.h.Write(p[:k])
		d.n += int64(k)
	}
	switch {
	case err == io.EOF:
		if d.n != d.a.Size {
			return k, d.fail(KindIntegrity, nil, "the download was cut after %d of %d bytes", d.n, d.a.Size)
		}
		if got := hex.EncodeToString(d.h.Sum(nil)); got != d.a.SHA256 {
			return k, d.fail(KindIntegrity, nil, "the bytes received have sha256 %s, not the %s %s", got, d.a.SHA256, d.sumFrom)
		}
		return k, io.EOF
	case err != nil && d.g.stalled():
		return k, d.fail(KindTimeout, err, "the download stalled: nothing arrived for %s (timeout_secs) after %d of %d bytes", d.g.d, d.n, d.a.Size)
	case err != nil && d.g.ctx.Err() != nil:
		d.err = context.Cause(d.g.ctx)
		return k, d.err
	case err != nil:
		return k, d.fail(KindIntegrity, err, "the download was cut after %d of %d bytes: %v", d.n, d.a.Size, err)
	}
	return k, nil
}

func (d *downloadReader) Close() error {
	d.g.stop()
	return d.body.Close()
}
