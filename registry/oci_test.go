package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/driftless-dev/driftless/internal/testtool"
)

// noDockerConfig points the Docker config at an empty directory, so that
// the tests never read the user's credentials.
func noDockerConfig(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	return dir
}

func openOCITest(t *testing.T, host string, timeout time.Duration) Registry {
	t.Helper()
	r, err := Open("team", "oci://"+host+"/plugins", Options{Insecure: true, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOCIRoundTrip(t *testing.T) {
	noDockerConfig(t)
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{})
	ctx := context.Background()
	s, k := testSigner(t)
	r := openOCITest(t, reg.Host, 10*time.Second)

	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1"} {
		a, err := r.Publish(ctx, &Publication{Name: "hello", Version: v, Description: "says hello", Wasm: testWasm,
			Component: true, Imports: []string{"driftless:plugin/host@0.1.0"}, Exports: []string{"driftless:plugin/metadata@0.1.0"}, Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(a.Ref, "oci://"+reg.Host+"/plugins/hello@sha256:") || a.SHA256 != sum(testWasm) {
			t.Errorf("published %+v", a)
		}
	}
	// A plugin of another namespace is not listed.
	other, _ := Open("other", "oci://"+reg.Host+"/elsewhere", Options{Insecure: true})
	if _, err := other.Publish(ctx, &Publication{Name: "stranger", Version: "1.0.0", Wasm: testWasm}); err != nil {
		t.Fatal(err)
	}

	list, err := r.List(ctx, "")
	if err != nil || len(list) != 1 || list[0].Name != "hello" || list[0].Description != "says hello" ||
		strings.Join(list[0].Versions, ",") != "2.0.0-rc.1,1.1.0,1.0.0" {
		t.Fatalf("list %+v %v", list, err)
	}

	a, err := r.Resolve(ctx, "hello", "")
	if err != nil || a.Version != "1.1.0" {
		t.Fatalf("resolve: %+v %v", a, err)
	}
	var got bytes.Buffer
	if err := Fetch(ctx, r, a, &got, 1<<20, nil); err != nil || !bytes.Equal(got.Bytes(), testWasm) {
		t.Fatalf("fetch: %v", err)
	}
	sigs, err := r.Signatures(ctx, a)
	if err != nil || len(sigs.OCI) != 1 || CosignSignatureTag("sha256:ab") != "sha256-ab.sig" {
		t.Fatalf("signatures: %+v %v", sigs, err)
	}
	k.verifyOCI(t, a, sigs.OCI)

	// The manifest and config are the Wasm OCI artifact layout wkg reads.
	var m ocispec.Manifest
	json.Unmarshal(a.Manifest, &m)
	if m.MediaType != ManifestMediaType || m.Config.MediaType != ConfigMediaType || len(m.Layers) != 1 ||
		m.Layers[0].MediaType != LayerMediaType || m.Annotations["org.opencontainers.image.version"] != "1.1.0" {
		t.Errorf("manifest %s", a.Manifest)
	}
	repo := testRepo(t, reg.Host, "plugins/hello")
	cfgJSON, err := content.FetchAll(ctx, repo, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	json.Unmarshal(cfgJSON, &cfg)
	if cfg["architecture"] != "wasm" || cfg["os"] != "wasip2" || cfg["layerDigests"].([]any)[0] != "sha256:"+sum(testWasm) ||
		cfg["component"].(map[string]any)["imports"].([]any)[0] != "driftless:plugin/host@0.1.0" {
		t.Errorf("config %s", cfgJSON)
	}

	// By the exact reference a lock file records.
	b, err := r.ResolveRef(ctx, a.Ref, "hello", "1.1.0")
	if err != nil || b.SHA256 != a.SHA256 || b.Version != "1.1.0" {
		t.Errorf("ResolveRef: %+v %v", b, err)
	}
	// A direct reference by tag and by digest.
	for _, ref := range []string{"oci://" + reg.Host + "/plugins/hello:1.0.0", a.Ref} {
		_, da, err := ResolveReference(ctx, ref, Options{Insecure: true})
		if err != nil || da.SHA256 != sum(testWasm) || da.Name != "hello" {
			t.Errorf("%s: %+v %v", ref, da, err)
		}
		if hr, _ := ReferenceRepository(ref); hr != reg.Host+"/plugins/hello" {
			t.Errorf("ReferenceRepository(%s) = %s", ref, hr)
		}
	}
	_, _, err = ResolveReference(ctx, "oci://"+reg.Host+"/plugins/hello", Options{Insecure: true})
	wantKind(t, err, KindNotFound, "the reference names no tag or digest")
	_, _, err = ResolveReference(ctx, "oci://"+reg.Host+"/Plugins/X:1", Options{})
	wantKind(t, err, KindUnsupported, "not an OCI reference")

	_, err = r.Publish(ctx, &Publication{Name: "hello", Version: "1.0.0", Wasm: testWasm})
	wantKind(t, err, KindExists, "registry team: hello@1.0.0: this version is already published (--force replaces it)")
	_, err = r.Publish(ctx, &Publication{Name: "Hello", Version: "1.0.0", Wasm: testWasm})
	wantKind(t, err, KindUnsupported, "OCI repository names are lowercase")

	// A second signature of the same manifest is added beside the first
	// (as cosign appends).
	s2, k2 := testSigner(t)
	oci := r.(*ociRegistry)
	if err := oci.sign(ctx, oci.repository(oci.repoOf(a)), a, s2); err != nil {
		t.Fatal(err)
	}
	sigs, _ = r.Signatures(ctx, a)
	if len(sigs.OCI) != 2 {
		t.Errorf("%d signatures after a second signer", len(sigs.OCI))
	}
	k.verifyOCI(t, a, sigs.OCI)
	k2.verifyOCI(t, a, sigs.OCI)

	_, err = r.Resolve(ctx, "hello", "9.9.9")
	wantKind(t, err, KindNotFound, "registry team: hello@9.9.9: no version 9.9.9 (versions: 2.0.0-rc.1, 1.1.0, 1.0.0)")
	_, err = r.Resolve(ctx, "nope", "")
	wantKind(t, err, KindNotFound, "registry team: nope: no plugin nope (no repository plugins/nope)")
	err = Fetch(ctx, r, a, &bytes.Buffer{}, 1000, nil)
	wantKind(t, err, KindTooLarge, "plugin is 75008 bytes, over max_plugin_size of 1000 bytes")
}

func testRepo(t *testing.T, host, path string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(host + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

// pushManifest pushes blobs and a manifest under tag, bypassing Publish.
func pushManifest(t *testing.T, repo *remote.Repository, tag, mediaType string, manifest any, blobs [][]byte) {
	t.Helper()
	ctx := context.Background()
	for _, b := range blobs {
		d := content.NewDescriptorFromBytes("application/octet-stream", b)
		if ok, _ := repo.Exists(ctx, d); ok {
			continue
		}
		if err := repo.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := json.Marshal(manifest)
	if err := repo.PushReference(ctx, content.NewDescriptorFromBytes(mediaType, data), bytes.NewReader(data), tag); err != nil {
		t.Fatal(err)
	}
}

func TestOCIBadArtifacts(t *testing.T) {
	noDockerConfig(t)
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{})
	ctx := context.Background()
	r := openOCITest(t, reg.Host, 10*time.Second)
	repo := testRepo(t, reg.Host, "plugins/bad")

	layer := content.NewDescriptorFromBytes(LayerMediaType, testWasm)
	cfgJSON := []byte(`{"architecture":"wasm","os":"wasip2"}`)
	wasmCfg := content.NewDescriptorFromBytes(ConfigMediaType, cfgJSON)
	imageCfg := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfgJSON)
	other := content.NewDescriptorFromBytes(LayerMediaType, []byte("\x00asm\x01\x00\x00\x00"))
	tarLayer := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, []byte("not a tarball"))
	blobs := [][]byte{testWasm, cfgJSON, []byte("\x00asm\x01\x00\x00\x00"), []byte("not a tarball")}
	manifest := func(cfg ocispec.Descriptor, layers ...ocispec.Descriptor) ocispec.Manifest {
		return ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ManifestMediaType, Config: cfg, Layers: layers}
	}
	pushManifest(t, repo, "1.0.0", ManifestMediaType, manifest(imageCfg, layer), blobs)
	pushManifest(t, repo, "2.0.0", ManifestMediaType, manifest(wasmCfg, layer, other), blobs)
	pushManifest(t, repo, "3.0.0", ManifestMediaType, manifest(wasmCfg, tarLayer), blobs)
	good := manifest(wasmCfg, layer)
	goodJSON, _ := json.Marshal(good)
	goodDesc := content.NewDescriptorFromBytes(ManifestMediaType, goodJSON)
	pushManifest(t, repo, "good", ManifestMediaType, good, blobs)
	pushManifest(t, repo, "4.0.0", ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{goodDesc}}, blobs)
	huge := manifest(wasmCfg, layer)
	huge.Annotations = map[string]string{"padding": strings.Repeat("x", MaxManifestSize)}
	pushManifest(t, repo, "5.0.0", ManifestMediaType, huge, blobs)

	cases := []struct{ version, want string }{
		{"1.0.0", `registry team: bad@1.0.0: config media type is "application/vnd.oci.image.config.v1+json", not application/vnd.wasm.config.v0+json: not a Wasm OCI artifact`},
		{"2.0.0", "registry team: bad@2.0.0: manifest has 2 layers; a Wasm OCI artifact has exactly one (application/wasm)"},
		{"3.0.0", `registry team: bad@3.0.0: layer media type is "application/vnd.oci.image.layer.v1.tar+gzip", not application/wasm`},
		{"4.0.0", "registry team: bad@4.0.0: is an image index (application/vnd.oci.image.index.v1+json), not a Wasm OCI artifact"},
		{"5.0.0", "over the 262144 bytes a manifest may have"},
	}
	for _, c := range cases {
		t.Run(c.version, func(t *testing.T) {
			_, err := r.Resolve(ctx, "bad", c.version)
			wantKind(t, err, KindBadArtifact, c.want)
		})
	}
}

func TestOCIAuth(t *testing.T) {
	dockerDir := noDockerConfig(t)
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{User: "alice", Password: "wonderland-7"})
	ctx := context.Background()
	r := openOCITest(t, reg.Host, 10*time.Second)
	_, err := r.Resolve(ctx, "hello", "1.0.0")
	wantKind(t, err, KindUnauthorized, "registry team: hello@1.0.0: access refused (HTTP 401, no credentials for "+reg.Host+"): log in with `docker login "+reg.Host+"`")
	_, err = r.Publish(ctx, &Publication{Name: "hello", Version: "1.0.0", Wasm: testWasm})
	wantKind(t, err, KindUnauthorized, "access refused (HTTP 401, no credentials")

	// With the credentials in the Docker config (as `docker login` writes
	// them), everything works; the password appears in no error.
	auth := base64.StdEncoding.EncodeToString([]byte("alice:wonderland-7"))
	cfg := `{"auths":{"` + reg.Host + `":{"auth":"` + auth + `"}}}`
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r = openOCITest(t, reg.Host, 10*time.Second)
	if _, err := r.Publish(ctx, &Publication{Name: "hello", Version: "1.0.0", Wasm: testWasm}); err != nil {
		t.Fatal(err)
	}
	a, err := r.Resolve(ctx, "hello", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := Fetch(ctx, r, a, io.Discard, 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(ctx, "hello", "7.7.7")
	if err == nil || strings.Contains(err.Error(), "wonderland") || strings.Contains(err.Error(), auth) {
		t.Errorf("error %v", err)
	}

	// Wrong credentials: refused, nothing shown.
	bad := base64.StdEncoding.EncodeToString([]byte("alice:nope"))
	os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+bad+`"}}}`), 0o600)
	r = openOCITest(t, reg.Host, 10*time.Second)
	_, err = r.Resolve(ctx, "hello", "")
	wantKind(t, err, KindUnauthorized, "access refused")
	if strings.Contains(err.Error(), bad) {
		t.Errorf("credentials in %v", err)
	}
	// A Docker config that is not a regular file, or too big, is refused.
	os.Remove(filepath.Join(dockerDir, "config.json"))
	os.WriteFile(filepath.Join(dockerDir, "config.json"), bytes.Repeat([]byte(" "), maxDockerConfig+1), 0o600)
	r = openOCITest(t, reg.Host, 10*time.Second)
	_, err = r.Resolve(ctx, "hello", "")
	if err == nil || !strings.Contains(err.Error(), "is over 1048576 bytes") {
		t.Errorf("big docker config: %v", err)
	}
}

// proxyMode says how tamperProxy misbehaves.
type proxyMode int32

const (
	proxyHonest proxyMode = iota
	proxyCorrupt
	proxyCut
	proxyStallBlob
	proxyStallManifest
	proxyLongerBlob
)

// tamperProxy is an HTTP server in front of a real registry that alters
// the plugin blob or stalls as mode says.
func tamperProxy(t *testing.T, upstream string, mode *atomic.Int32) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		m := proxyMode(mode.Load())
		isBlob := strings.Contains(req.URL.Path, "/blobs/sha256:"+sum(testWasm))
		isManifest := strings.Contains(req.URL.Path, "/manifests/")
		if m == proxyStallManifest && isManifest {
			select {
			case <-req.Context().Done():
			case <-done:
			}
			return
		}
		out, _ := http.NewRequestWithContext(req.Context(), req.Method, "http://"+upstream+req.URL.RequestURI(), req.Body)
		out.Header = req.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		if !isBlob || req.Method != http.MethodGet || m == proxyHonest {
			w.WriteHeader(resp.StatusCode)
			w.Write(body)
			return
		}
		switch m {
		case proxyCorrupt:
			body[len(body)/2] ^= 0xff
			w.WriteHeader(resp.StatusCode)
			w.Write(body)
		case proxyCut, proxyStallBlob:
			w.WriteHeader(resp.StatusCode)
			w.Write(body[:len(body)/3])
			w.(http.Flusher).Flush()
			if m == proxyStallBlob {
				select {
				case <-req.Context().Done():
				case <-done:
				}
			}
		case proxyLongerBlob:
			w.Header().Del("Content-Length")
			w.WriteHeader(resp.StatusCode)
			w.Write(body)
			w.Write([]byte("trailing bytes"))
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	u, _ := url.Parse(srv.URL)
	return u.Host
}

func TestOCITransferFailures(t *testing.T) {
	noDockerConfig(t)
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{})
	ctx := context.Background()
	if _, err := openOCITest(t, reg.Host, 10*time.Second).Publish(ctx, &Publication{Name: "hello", Version: "1.0.0", Wasm: testWasm}); err != nil {
		t.Fatal(err)
	}
	var mode atomic.Int32
	host := tamperProxy(t, reg.Host, &mode)
	r := openOCITest(t, host, 700*time.Millisecond)
	a, err := r.Resolve(ctx, "hello", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mode proxyMode
		kind ErrorKind
		want string
	}{
		{"corrupt blob", proxyCorrupt, KindIntegrity, "registry team: hello@1.0.0: the bytes received have sha256 "},
		{"cut blob", proxyCut, KindIntegrity, "registry team: hello@1.0.0: the download was cut after 25002 of 75008 bytes"},
		{"stalled blob", proxyStallBlob, KindTimeout, "registry team: hello@1.0.0: the download stalled: nothing arrived for 700ms (timeout_secs) after 25002 of 75008 bytes"},
		{"longer blob", proxyLongerBlob, KindIntegrity, "the registry sent more than the 75008 bytes announced"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mode.Store(int32(c.mode))
			var got bytes.Buffer
			err := Fetch(ctx, r, a, &got, 1<<20, nil)
			wantKind(t, err, c.kind, c.want)
		})
	}
	t.Run("stalled manifest", func(t *testing.T) {
		mode.Store(int32(proxyStallManifest))
		start := time.Now()
		_, err := r.Resolve(ctx, "hello", "1.0.0")
		wantKind(t, err, KindTimeout, "registry team: hello@1.0.0: the registry sent nothing for 700ms (timeout_secs)")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("registry down", func(t *testing.T) {
		down := openOCITest(t, testtool.FreeAddr(t), time.Second)
		_, err := down.Resolve(ctx, "hello", "1.0.0")
		wantKind(t, err, KindUnreachable, "connection refused (is the registry running?)")
	})
	t.Run("cancelled", func(t *testing.T) {
		mode.Store(int32(proxyStallBlob))
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		err := Fetch(cctx, r, a, io.Discard, 1<<20, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	})
}
