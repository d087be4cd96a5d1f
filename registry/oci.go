package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	orasreg "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Annotations of the manifests Publish writes (OCI's standard keys).
const (
	annotationVersion     = "org.opencontainers.image.version"
	annotationDescription = "org.opencontainers.image.description"
	annotationTitle       = "org.opencontainers.image.title"
	annotationCreated     = "org.opencontainers.image.created"
)

// maxSignatureLayers bounds the signatures read for one plugin.
const maxSignatureLayers = 16

// maxDockerConfig bounds the Docker config file read for credentials.
const maxDockerConfig = 1 << 20

type ociRegistry struct {
	name, label, rawURL string
	host                string // HOST[:PORT]
	namespace           string // "" or a path without leading or trailing '/'
	opts                Options
	client              *auth.Client
}

func openOCI(name, label string, u *url.URL, opts Options) (*ociRegistry, error) {
	bad := func(format string, args ...any) error {
		return &Error{Kind: KindUnsupported, Registry: label, Msg: fmt.Sprintf(format, args...)}
	}
	if u.User != nil {
		return nil, bad("credentials do not belong in the URL: log in with `docker login %s` (driftless reads the Docker config)", u.Host)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("%q is not oci://HOST[:PORT]/NAMESPACE", u.String())
	}
	ns := strings.Trim(u.Path, "/")
	ref := orasreg.Reference{Registry: u.Host, Repository: strings.TrimPrefix(ns+"/plugin", "/")}
	if err := ref.Validate(); err != nil {
		return nil, bad("%q is not oci://HOST[:PORT]/NAMESPACE (lowercase letters, digits, '.', '_', '-' and '/'): %v", u.String(), err)
	}
	r := &ociRegistry{name: name, label: label, rawURL: u.String(), host: u.Host, namespace: ns, opts: opts}
	r.client = &auth.Client{
		Client:     httpClient(opts),
		Cache:      auth.NewCache(),
		Credential: dockerCredentials(),
		Header:     map[string][]string{"User-Agent": {"driftless"}},
	}
	return r, nil
}

// parseReference parses a direct reference
// oci://HOST[:PORT]/REPO[:TAG|@sha256:…].
func parseReference(ref string) (orasreg.Reference, error) {
	rest, ok := strings.CutPrefix(ref, "oci://")
	if !ok {
		return orasreg.Reference{}, &Error{Kind: KindUnsupported, Registry: ref, Msg: "not an oci:// reference"}
	}
	parsed, err := orasreg.ParseReference(rest)
	if err != nil {
		return orasreg.Reference{}, &Error{Kind: KindUnsupported, Registry: ref,
			Msg: fmt.Sprintf("not an OCI reference (oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]): %v", err)}
	}
	return parsed, nil
}

// ReferenceRepository returns the HOST[:PORT]/REPO of a direct reference,
// to find the configured registry it falls in.
func ReferenceRepository(ref string) (string, error) {
	parsed, err := parseReference(ref)
	if err != nil {
		return "", err
	}
	return parsed.Registry + "/" + parsed.Repository, nil
}

// ResolveReference opens the registry of a direct reference
// oci://HOST[:PORT]/REPO:TAG or oci://HOST[:PORT]/REPO@sha256:DIGEST and
// resolves it. The artifact is named after REPO's last component; its
// version is the tag ("" for a digest).
func ResolveReference(ctx context.Context, ref string, opts Options) (Registry, *Artifact, error) {
	parsed, err := parseReference(ref)
	if err != nil {
		return nil, nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	r, err := openOCI("", "oci://"+parsed.Registry, &url.URL{Scheme: "oci", Host: parsed.Registry}, opts)
	if err != nil {
		return nil, nil, err
	}
	name := parsed.Repository[strings.LastIndex(parsed.Repository, "/")+1:]
	a, err := r.resolveReference(ctx, parsed.Repository, parsed.Reference, name)
	if err != nil {
		return nil, nil, err
	}
	return r, a, nil
}

// dockerCredentials reads credentials from the Docker config, as oras and
// wkg do. The file is size-checked before the credentials library reads it.
func dockerCredentials() auth.CredentialFunc {
	fail := func(err error) auth.CredentialFunc {
		return func(context.Context, string) (auth.Credential, error) {
			return auth.EmptyCredential, fmt.Errorf("reading credentials from the Docker config: %w", err)
		}
	}
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return func(context.Context, string) (auth.Credential, error) { return auth.EmptyCredential, nil }
		}
		dir = filepath.Join(home, ".docker")
	}
	path := filepath.Join(dir, "config.json")
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return fail(fmt.Errorf("%s is not a regular file", path))
		}
		if st.Size() > maxDockerConfig {
			return fail(fmt.Errorf("%s is over %d bytes", path, maxDockerConfig))
		}
	}
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return fail(err)
	}
	return credentials.Credential(store)
}

func (r *ociRegistry) Name() string { return r.name }
func (r *ociRegistry) URL() string  { return r.rawURL }

// repoPath returns the repository of plugin name.
func (r *ociRegistry) repoPath(name string) string {
	if r.namespace == "" {
		return name
	}
	return r.namespace + "/" + name
}

func (r *ociRegistry) repository(path string) *remote.Repository {
	return &remote.Repository{
		Client:           r.client,
		Reference:        orasreg.Reference{Registry: r.host, Repository: path},
		PlainHTTP:        r.opts.Insecure,
		MaxMetadataBytes: MaxManifestSize,
		TagListMaxPages:  maxListed / 100,
		TagListPageSize:  100,
	}
}

// metadataContext bounds one metadata request (manifests, tags, catalog).
func (r *ociRegistry) metadataContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.opts.Timeout)
}

func (r *ociRegistry) List(ctx context.Context, term string) ([]Listing, error) {
	reg := &remote.Registry{RepositoryOptions: remote.RepositoryOptions{
		Client: r.client, Reference: orasreg.Reference{Registry: r.host}, PlainHTTP: r.opts.Insecure, MaxMetadataBytes: MaxManifestSize,
	}, RepositoryListPageSize: 100}
	prefix := ""
	if r.namespace != "" {
		prefix = r.namespace + "/"
	}
	var names []string
	seen := 0
	mctx, cancel := r.metadataContext(ctx)
	defer cancel()
	err := reg.Repositories(mctx, "", func(repos []string) error {
		for _, repo := range repos {
			if seen++; seen > maxListed {
				return fmt.Errorf("over %d repositories", maxListed)
			}
			if name, ok := strings.CutPrefix(repo, prefix); ok && !strings.Contains(name, "/") && nameOK(name) {
				names = append(names, name)
			}
		}
		return nil
	})
	if err != nil {
		e := r.fail(mctx, "list", err)
		if e.Kind == KindNotFound || e.Kind == KindUnauthorized {
			e.Msg = "the registry does not list its repositories (catalog API): " + e.Msg + "; install plugins by name"
		}
		return nil, e
	}
	var out []Listing
	for _, name := range names {
		versions, err := r.versions(ctx, name)
		if err != nil {
			return nil, err
		}
		if len(versions) == 0 {
			continue
		}
		l := Listing{Name: name, Versions: versions}
		if a, err := r.resolve(ctx, r.repoPath(name), highest(versions), name, highest(versions)); err == nil {
			l.Description = a.Description
		}
		if matches(l, term) {
			out = append(out, l)
		}
	}
	return out, nil
}

func matches(l Listing, term string) bool {
	t := strings.ToLower(term)
	return t == "" || strings.Contains(strings.ToLower(l.Name), t) || strings.Contains(strings.ToLower(l.Description), t)
}

// versions returns the semantic-version tags of plugin name, newest first.
func (r *ociRegistry) versions(ctx context.Context, name string) ([]string, error) {
	mctx, cancel := r.metadataContext(ctx)
	defer cancel()
	var tags []string
	err := r.repository(r.repoPath(name)).Tags(mctx, "", func(page []string) error {
		tags = append(tags, page...)
		if len(tags) > maxListed {
			return fmt.Errorf("over %d tags", maxListed)
		}
		return nil
	})
	if err != nil {
		e := r.fail(mctx, name, err)
		if e.Kind == KindNotFound {
			e.Msg = fmt.Sprintf("no plugin %s (no repository %s)", name, r.repoPath(name))
		}
		return nil, e
	}
	return sortVersions(tags), nil
}

func (r *ociRegistry) Resolve(ctx context.Context, name, version string) (*Artifact, error) {
	if !nameOK(name) {
		return nil, &Error{Kind: KindNotFound, Registry: r.label, What: name, Msg: "not a valid plugin name"}
	}
	if version == "" {
		versions, err := r.versions(ctx, name)
		if err != nil {
			return nil, err
		}
		if version = highest(versions); version == "" {
			return nil, &Error{Kind: KindNotFound, Registry: r.label, What: name,
				Msg: fmt.Sprintf("no versions: repository %s has no tag that is a semantic version", r.repoPath(name))}
		}
	}
	a, err := r.resolve(ctx, r.repoPath(name), version, name, version)
	if KindOf(err) == KindNotFound {
		if versions, verr := r.versions(ctx, name); verr != nil {
			return nil, verr
		} else if len(versions) > 0 {
			err.(*Error).Msg = fmt.Sprintf("no version %s (versions: %s)", version, strings.Join(versions, ", "))
		}
	}
	return a, err
}

// resolveReference resolves a tag or digest of a repository of this
// registry.
func (r *ociRegistry) resolveReference(ctx context.Context, repository, reference, name string) (*Artifact, error) {
	version := reference
	if strings.HasPrefix(reference, "sha256:") {
		version = ""
	}
	if reference == "" {
		return nil, &Error{Kind: KindNotFound, Registry: r.label, What: name, Msg: "the reference names no tag or digest (oci://HOST/REPO:TAG or @sha256:…)"}
	}
	return r.resolve(ctx, repository, reference, name, version)
}

// resolve fetches and checks the manifest of repository:reference.
func (r *ociRegistry) resolve(ctx context.Context, repository, reference, name, version string) (*Artifact, error) {
	what := name
	if version != "" {
		what += "@" + version
	} else if reference != "" {
		what += "@" + reference
	}
	mctx, cancel := r.metadataContext(ctx)
	defer cancel()
	repo := r.repository(repository)
	desc, rc, err := repo.FetchReference(mctx, reference)
	if err != nil {
		e := r.fail(mctx, what, err)
		if e.Kind == KindNotFound {
			e.Msg = fmt.Sprintf("not found (no manifest %s:%s)", repository, reference)
		}
		return nil, e
	}
	defer rc.Close()
	bad := func(format string, args ...any) error {
		return &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: fmt.Sprintf(format, args...)}
	}
	if desc.Size > MaxManifestSize {
		return nil, bad("manifest is %d bytes, over the %d bytes a manifest may have", desc.Size, MaxManifestSize)
	}
	data, err := content.ReadAll(io.LimitReader(rc, MaxManifestSize+1), desc)
	if err != nil {
		if mctx.Err() != nil {
			return nil, r.fail(mctx, what, err)
		}
		return nil, &Error{Kind: KindIntegrity, Registry: r.label, What: what, Msg: fmt.Sprintf("manifest does not match its digest %s: %v", desc.Digest, err), Err: err}
	}
	if strings.HasPrefix(reference, "sha256:") && desc.Digest.String() != reference {
		return nil, &Error{Kind: KindIntegrity, Registry: r.label, What: what, Msg: fmt.Sprintf("asked for manifest %s, got %s", reference, desc.Digest)}
	}
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		return nil, bad("is an image index (%s), not a Wasm OCI artifact", desc.MediaType)
	}
	if err := checkJSONDepth(data, maxJSONDepth); err != nil {
		return nil, bad("manifest: %v", err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, bad("manifest is not valid JSON: %v", err)
	}
	if m.MediaType != "" && m.MediaType != ManifestMediaType {
		return nil, bad("manifest media type is %s, not %s: not a Wasm OCI artifact", m.MediaType, ManifestMediaType)
	}
	if m.Config.MediaType != ConfigMediaType {
		return nil, bad("config media type is %q, not %s: not a Wasm OCI artifact (publish with `driftless plugins publish` or `wkg oci push`)",
			m.Config.MediaType, ConfigMediaType)
	}
	if len(m.Layers) != 1 {
		return nil, bad("manifest has %d layers; a Wasm OCI artifact has exactly one (%s)", len(m.Layers), LayerMediaType)
	}
	layer := m.Layers[0]
	if layer.MediaType != LayerMediaType {
		return nil, bad("layer media type is %q, not %s", layer.MediaType, LayerMediaType)
	}
	if layer.Digest.Algorithm() != digest.SHA256 || layer.Digest.Validate() != nil {
		return nil, bad("layer digest %q is not a sha256 digest", layer.Digest)
	}
	if layer.Size <= 0 {
		return nil, bad("layer size %d is not a file size", layer.Size)
	}
	return &Artifact{
		Registry: r.name, Name: name, Version: version, Description: m.Annotations[annotationDescription],
		Ref:    "oci://" + r.host + "/" + repository + "@" + desc.Digest.String(),
		SHA256: layer.Digest.Encoded(), Size: layer.Size,
		Repository: r.host + "/" + repository, Manifest: data, ManifestDigest: desc.Digest.String(),
	}, nil
}

// repoOf returns the repository path (without the host) of an artifact.
func (r *ociRegistry) repoOf(a *Artifact) string {
	return strings.TrimPrefix(a.Repository, r.host+"/")
}

func (r *ociRegistry) Open(ctx context.Context, a *Artifact, max int64) (io.ReadCloser, error) {
	what := a.Name + "@" + a.Version
	if a.Version == "" {
		what = a.Ref
	}
	if a.Size > max {
		return nil, tooLarge(r.label, what, a, max)
	}
	g := newStallGuard(ctx, r.opts.Timeout)
	desc := ocispec.Descriptor{MediaType: LayerMediaType, Digest: digest.NewDigestFromEncoded(digest.SHA256, a.SHA256), Size: a.Size}
	rc, err := r.repository(r.repoOf(a)).Blobs().Fetch(g.ctx, desc)
	if err != nil {
		defer g.stop()
		if g.stalled() {
			return nil, r.timeout(what)
		}
		e := r.fail(g.ctx, what, err)
		if e.Kind == KindUnreachable && strings.Contains(err.Error(), "mismatch Content-Length") {
			e.Kind, e.Msg = KindIntegrity, fmt.Sprintf("the registry announces another size than the manifest's %d bytes", a.Size)
		}
		return nil, e
	}
	return newDownload(g, rc, a, r.label, what, "the manifest gives"), nil
}

func (r *ociRegistry) ResolveRef(ctx context.Context, ref, name, version string) (*Artifact, error) {
	rest, ok := strings.CutPrefix(ref, "oci://"+r.host+"/")
	repo, dgst, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 || !strings.HasPrefix(dgst, "sha256:") {
		return nil, &Error{Kind: KindNotFound, Registry: r.label, What: name,
			Msg: fmt.Sprintf("%q is not a reference by digest in this registry (oci://%s/REPO@sha256:…)", ref, r.host)}
	}
	a, err := r.resolve(ctx, repo, dgst, name, version)
	if err != nil {
		return nil, err
	}
	a.Version = version
	return a, nil
}

func (r *ociRegistry) timeout(what string) *Error {
	return &Error{Kind: KindTimeout, Registry: r.label, What: what,
		Msg: fmt.Sprintf("the registry sent nothing for %s (timeout_secs)", r.opts.Timeout)}
}

func (r *ociRegistry) Signatures(ctx context.Context, a *Artifact) (*Signatures, error) {
	what := a.Name + "@" + a.Version + " signatures"
	mctx, cancel := r.metadataContext(ctx)
	defer cancel()
	repo := r.repository(r.repoOf(a))
	tag := CosignSignatureTag(a.ManifestDigest)
	desc, rc, err := repo.FetchReference(mctx, tag)
	if err != nil {
		e := r.fail(mctx, what, err)
		if e.Kind == KindNotFound {
			return &Signatures{}, nil
		}
		return nil, e
	}
	defer rc.Close()
	if desc.Size > MaxManifestSize {
		return nil, &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: fmt.Sprintf("signature manifest is over %d bytes", MaxManifestSize)}
	}
	data, err := content.ReadAll(io.LimitReader(rc, MaxManifestSize+1), desc)
	if err == nil {
		err = checkJSONDepth(data, maxJSONDepth)
	}
	var m ocispec.Manifest
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil {
		return nil, &Error{Kind: KindBadArtifact, Registry: r.label, What: what, Msg: fmt.Sprintf("signature manifest %s: %v", tag, err)}
	}
	out := &Signatures{}
	for i, l := range m.Layers {
		if i >= maxSignatureLayers {
			break
		}
		b64, ok := l.Annotations[CosignSignatureAnnotation]
		if l.MediaType != CosignPayloadMediaType || !ok {
			continue
		}
		if l.Size > MaxSignatureSize {
			continue
		}
		brc, err := repo.Blobs().Fetch(mctx, l)
		if err != nil {
			return nil, r.fail(mctx, what, err)
		}
		payload, err := content.ReadAll(io.LimitReader(brc, MaxSignatureSize+1), l)
		brc.Close()
		if err != nil {
			return nil, &Error{Kind: KindIntegrity, Registry: r.label, What: what, Msg: fmt.Sprintf("signature payload %s: %v", l.Digest, err)}
		}
		out.OCI = append(out.OCI, OCISignature{Payload: payload, Base64: b64})
	}
	return out, nil
}

// wasmConfig is the config of the Wasm OCI artifact layout, as wkg (the
// oci-wasm crate) writes and reads it.
type wasmConfig struct {
	Created      string         `json:"created"`
	Author       *string        `json:"author"`
	Architecture string         `json:"architecture"`
	OS           string         `json:"os"`
	LayerDigests []string       `json:"layerDigests"`
	Component    *wasmComponent `json:"component,omitempty"`
}

type wasmComponent struct {
	Exports []string `json:"exports"`
	Imports []string `json:"imports"`
	Target  *string  `json:"target"`
}

func (r *ociRegistry) Publish(ctx context.Context, p *Publication) (*Artifact, error) {
	what := p.Name + "@" + p.Version
	if !nameOK(p.Name) || strings.ToLower(p.Name) != p.Name {
		return nil, &Error{Kind: KindUnsupported, Registry: r.label, What: what,
			Msg: "OCI repository names are lowercase letters, digits, '-' and '_': publish under a lowercase name"}
	}
	ref := orasreg.Reference{Registry: r.host, Repository: r.repoPath(p.Name), Reference: p.Version}
	if err := ref.ValidateReferenceAsTag(); err != nil {
		return nil, &Error{Kind: KindUnsupported, Registry: r.label, What: what, Msg: fmt.Sprintf("%q cannot be an OCI tag: %v", p.Version, err)}
	}
	repo := r.repository(r.repoPath(p.Name))
	mctx, cancel := r.metadataContext(ctx)
	_, err := repo.Resolve(mctx, p.Version)
	if err == nil && !p.Force {
		cancel()
		return nil, &Error{Kind: KindExists, Registry: r.label, What: what, Msg: "this version is already published (--force replaces it)"}
	}
	if err != nil && !errors.Is(err, errdef.ErrNotFound) {
		e := r.fail(mctx, what, err)
		cancel()
		if e.Kind != KindNotFound {
			return nil, e
		}
	}
	cancel()

	created := time.Now().UTC().Format(time.RFC3339)
	layer := content.NewDescriptorFromBytes(LayerMediaType, p.Wasm)
	cfg := wasmConfig{Created: created, Architecture: "wasm", OS: "wasip1", LayerDigests: []string{layer.Digest.String()}}
	if p.Component {
		cfg.OS = "wasip2"
		cfg.Component = &wasmComponent{Exports: nonNil(p.Exports), Imports: nonNil(p.Imports)}
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	config := content.NewDescriptorFromBytes(ConfigMediaType, cfgJSON)
	annotations := map[string]string{annotationVersion: p.Version, annotationTitle: p.Name, annotationCreated: created}
	if p.Description != "" {
		annotations[annotationDescription] = p.Description
	}
	manifest := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ManifestMediaType,
		Config: config, Layers: []ocispec.Descriptor{layer}, Annotations: annotations}
	manifestJSON, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	mdesc := content.NewDescriptorFromBytes(ManifestMediaType, manifestJSON)
	if err := r.pushBlob(ctx, repo, layer, p.Wasm, what); err != nil {
		return nil, err
	}
	if err := r.pushBlob(ctx, repo, config, cfgJSON, what); err != nil {
		return nil, err
	}
	if err := repo.PushReference(ctx, mdesc, bytes.NewReader(manifestJSON), p.Version); err != nil {
		return nil, r.fail(ctx, what, err)
	}
	a := &Artifact{Registry: r.name, Name: p.Name, Version: p.Version, Description: p.Description,
		Ref: "oci://" + r.host + "/" + ref.Repository + "@" + mdesc.Digest.String(), SHA256: layer.Digest.Encoded(), Size: layer.Size,
		Repository: r.host + "/" + ref.Repository, Manifest: manifestJSON, ManifestDigest: mdesc.Digest.String()}
	if p.Signer != nil {
		if err := r.sign(ctx, repo, a, p.Signer); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (r *ociRegistry) pushBlob(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, data []byte, what string) error {
	if ok, err := repo.Exists(ctx, desc); err == nil && ok {
		return nil
	}
	if err := repo.Push(ctx, desc, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return r.fail(ctx, what, err)
	}
	return nil
}

// cosignConfig is the image config cosign writes for a signature manifest.
type cosignConfig struct {
	Architecture string           `json:"architecture"`
	Created      string           `json:"created"`
	History      []map[string]any `json:"history"`
	OS           string           `json:"os"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	Config struct{} `json:"config"`
}

// sign stores a cosign signature of a's manifest in its repository, as
// `cosign sign --key` does: a layer added to the manifest tagged
// sha256-<digest>.sig (created if missing), keeping the signatures there.
func (r *ociRegistry) sign(ctx context.Context, repo *remote.Repository, a *Artifact, s Signer) error {
	what := a.Name + "@" + a.Version + " signature"
	payload, err := cosignPayload(a.Repository, a.ManifestDigest)
	if err != nil {
		return err
	}
	sig, err := s.Sign(payload)
	if err != nil {
		return fmt.Errorf("signing: %w", err)
	}
	layer := content.NewDescriptorFromBytes(CosignPayloadMediaType, payload)
	layer.Annotations = map[string]string{CosignSignatureAnnotation: base64.StdEncoding.EncodeToString(sig)}
	tag := CosignSignatureTag(a.ManifestDigest)

	var layers []ocispec.Descriptor
	if old, err := r.Signatures(ctx, a); err != nil {
		return err
	} else if len(old.OCI) > 0 {
		// Keep the signatures already there (other signers'), as cosign does.
		mctx, cancel := r.metadataContext(ctx)
		_, rc, err := repo.FetchReference(mctx, tag)
		if err == nil {
			data, rerr := io.ReadAll(io.LimitReader(rc, MaxManifestSize))
			rc.Close()
			var m ocispec.Manifest
			if rerr == nil && json.Unmarshal(data, &m) == nil {
				for _, l := range m.Layers {
					// Two signers sign the same payload: layers differ by
					// their signature annotation only.
					if l.Digest != layer.Digest || l.Annotations[CosignSignatureAnnotation] != layer.Annotations[CosignSignatureAnnotation] {
						layers = append(layers, l)
					}
				}
			}
		}
		cancel()
	}
	layers = append(layers, layer)
	var cfg cosignConfig
	cfg.Created = "0001-01-01T00:00:00Z"
	cfg.History = []map[string]any{}
	cfg.RootFS.Type = "layers"
	for _, l := range layers {
		cfg.History = append(cfg.History, map[string]any{"created": "0001-01-01T00:00:00Z"})
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.Digest.String())
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	config := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfgJSON)
	manifest := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: config, Layers: layers}
	manifestJSON, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	if err := r.pushBlob(ctx, repo, layer, payload, what); err != nil {
		return err
	}
	if err := r.pushBlob(ctx, repo, config, cfgJSON, what); err != nil {
		return err
	}
	mdesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, manifestJSON)
	if err := repo.PushReference(ctx, mdesc, bytes.NewReader(manifestJSON), tag); err != nil {
		return r.fail(ctx, what, err)
	}
	return nil
}

// fail turns an error of the OCI client into an *Error of the right kind.
// ctx is the context of the failed request: its deadline means the
// registry stayed silent.
func (r *ociRegistry) fail(ctx context.Context, what string, err error) *Error {
	e := &Error{Kind: KindUnreachable, Registry: r.label, What: what, Err: err}
	var resp *errcode.ErrorResponse
	var nerr net.Error
	var opErr *net.OpError
	switch {
	case errors.Is(context.Cause(ctx), errStalled) || errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
		return r.timeout(what)
	case errors.Is(err, context.Canceled):
		e.Kind, e.Msg = KindCancelled, "cancelled"
		e.Err = context.Canceled
		return e
	case errors.Is(err, errdef.ErrNotFound):
		e.Kind, e.Msg = KindNotFound, "not found"
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		e.Kind = KindUnauthorized
		e.Msg = fmt.Sprintf("access refused (HTTP 401, no credentials for %s): log in with `docker login %s`; driftless reads the Docker config (~/.docker/config.json or $DOCKER_CONFIG)", r.host, r.host)
	case errors.As(err, &resp):
		switch resp.StatusCode {
		case 401, 403:
			e.Kind = KindUnauthorized
			e.Msg = fmt.Sprintf("access refused (HTTP %d): log in with `docker login %s`; driftless reads the Docker config (~/.docker/config.json or $DOCKER_CONFIG)", resp.StatusCode, r.host)
		case 404:
			e.Kind, e.Msg = KindNotFound, "not found"
		default:
			e.Msg = fmt.Sprintf("the registry answered HTTP %d: %s", resp.StatusCode, resp.Errors.Error())
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Msg = fmt.Sprintf("cannot reach %s: connection refused (is the registry running?)", r.host)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		e.Msg = fmt.Sprintf("cannot reach %s: %v", r.host, opErr.Err)
	case errors.As(err, &nerr) && nerr.Timeout():
		return r.timeout(what)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		e.Msg = fmt.Sprintf("%s speaks plain HTTP: set insecure = true on the registry if you trust the network", r.host)
	default:
		e.Msg = err.Error()
	}
	return e
}
