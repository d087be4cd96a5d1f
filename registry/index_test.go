package registry

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var testWasm = append([]byte("\x00asm\x0d\x00\x01\x00"), bytes.Repeat([]byte("component body "), 5000)...)

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// testKey signs as cosign does with an ECDSA P-256 key (SHA-256, ASN.1);
// verifying what the registry stores with it keeps these tests free of the
// Sigstore libraries (package pluginsig and the CLI tests verify with them).
type testKey struct{ priv *ecdsa.PrivateKey }

func testSigner(t *testing.T) (testKey, testKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv}, testKey{priv}
}

func (k testKey) Sign(data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return ecdsa.SignASN1(rand.Reader, k.priv, h[:])
}

// verifyBlob checks a cosign sign-blob signature file (base64).
func (k testKey) verifyBlob(t *testing.T, wasm, sigFile []byte) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(string(sigFile))
	h := sha256.Sum256(wasm)
	if err != nil || !ecdsa.VerifyASN1(&k.priv.PublicKey, h[:], sig) {
		t.Errorf("blob signature does not verify (%v)", err)
	}
}

// verifyOCI checks that one of sigs is a cosign signature of a's manifest.
func (k testKey) verifyOCI(t *testing.T, a *Artifact, sigs []OCISignature) {
	t.Helper()
	for _, s := range sigs {
		sig, err := base64.StdEncoding.DecodeString(s.Base64)
		h := sha256.Sum256(s.Payload)
		if err != nil || !ecdsa.VerifyASN1(&k.priv.PublicKey, h[:], sig) {
			continue
		}
		var p struct {
			Critical struct {
				Identity struct {
					DockerReference string `json:"docker-reference"`
				} `json:"identity"`
				Image struct {
					DockerManifestDigest string `json:"docker-manifest-digest"`
				} `json:"image"`
				Type string `json:"type"`
			} `json:"critical"`
		}
		if json.Unmarshal(s.Payload, &p) == nil && p.Critical.Image.DockerManifestDigest == a.ManifestDigest &&
			p.Critical.Identity.DockerReference == a.Repository && p.Critical.Type == "cosign container image signature" {
			return
		}
	}
	t.Errorf("no signature by the key names manifest %s: %d signatures", a.ManifestDigest, len(sigs))
}

func wantKind(t *testing.T, err error, kind ErrorKind, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s %q", kind, contains)
	}
	if KindOf(err) != kind || !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %s %q; want %s containing %q", KindOf(err), err, kind, contains)
	}
}

func publishFile(t *testing.T, dir string, s Signer, versions ...string) Registry {
	t.Helper()
	r, err := Open("team", "file://"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		_, err := r.Publish(context.Background(), &Publication{Name: "hello", Version: v, Description: "says hello", Wasm: testWasm, Signer: s})
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestStaticIndexFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, k := testSigner(t)
	r := publishFile(t, dir, s, "1.0.0", "1.2.0", "1.10.0-rc.1")

	data, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := ParseIndex(IndexFile, data)
	if err != nil {
		t.Fatal(err)
	}
	v := idx.Plugins["hello"].Versions["1.2.0"]
	if v.URL != "hello/1.2.0/hello.wasm" || v.SHA256 != sum(testWasm) || v.Size != int64(len(testWasm)) || v.Signature != "hello/1.2.0/hello.wasm.sig" {
		t.Errorf("index entry %+v", v)
	}

	list, err := r.List(ctx, "")
	if err != nil || len(list) != 1 || list[0].Name != "hello" || list[0].Description != "says hello" ||
		strings.Join(list[0].Versions, ",") != "1.10.0-rc.1,1.2.0,1.0.0" {
		t.Fatalf("list %+v %v", list, err)
	}
	if l, _ := r.List(ctx, "nothing"); len(l) != 0 {
		t.Errorf("term filter: %+v", l)
	}
	if l, _ := r.List(ctx, "HELLO"); len(l) != 1 {
		t.Errorf("term is case-insensitive: %+v", l)
	}

	// Highest release, not the pre-release.
	a, err := r.Resolve(ctx, "hello", "")
	if err != nil || a.Version != "1.2.0" || a.SHA256 != sum(testWasm) || a.Ref != "file://"+dir+"/hello/1.2.0/hello.wasm" {
		t.Fatalf("resolve: %+v %v", a, err)
	}
	var got bytes.Buffer
	var last int64
	if err := Fetch(ctx, r, a, &got, 1<<20, func(n int64) { last = n }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), testWasm) || last != int64(len(testWasm)) {
		t.Errorf("fetched %d bytes, progress %d", got.Len(), last)
	}
	sigs, err := r.Signatures(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	k.verifyBlob(t, got.Bytes(), sigs.Blob)
	if a, err := r.Resolve(ctx, "hello", "v1.0.0"); err != nil || a.Version != "1.0.0" {
		t.Errorf("resolve v1.0.0: %+v %v", a, err)
	}

	_, err = r.Resolve(ctx, "hello", "9.9.9")
	wantKind(t, err, KindNotFound, "registry team: hello@9.9.9: no version 9.9.9 (versions: 1.10.0-rc.1, 1.2.0, 1.0.0)")
	_, err = r.Resolve(ctx, "nope", "")
	wantKind(t, err, KindNotFound, "no plugin nope in index.json")
	_, err = r.Publish(ctx, &Publication{Name: "hello", Version: "1.0.0", Wasm: []byte("other")})
	wantKind(t, err, KindExists, "hello@1.0.0: this version is already published (--force replaces it)")
	if _, err := r.Publish(ctx, &Publication{Name: "hello", Version: "1.0.0", Wasm: testWasm, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hello/1.0.0/hello.wasm.sig")); !os.IsNotExist(err) {
		t.Errorf("an unsigned republish left the old signature: %v", err)
	}
	_, err = r.Publish(ctx, &Publication{Name: "hello", Version: "latest", Wasm: testWasm})
	wantKind(t, err, KindUnsupported, `"latest" is not a semantic version`)

	// Too large for the caller: refused before reading.
	err = Fetch(ctx, r, a, &bytes.Buffer{}, 100, nil)
	wantKind(t, err, KindTooLarge, "plugin is 75008 bytes, over max_plugin_size of 100 bytes")
}

// writeIndex writes an index.json of one plugin whose file is wasm.
func writeIndex(t *testing.T, dir string, wasm []byte, entry IndexVersion) {
	t.Helper()
	if entry.URL == "" {
		entry.URL = "hello.wasm"
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	idx := Index{Schema: 1, Plugins: map[string]IndexPlugin{"hello": {Versions: map[string]IndexVersion{"1.0.0": entry}}}}
	data, _ := json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, IndexFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStaticIndexBadInput(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T, dir string) Registry {
		r, err := Open("team", "file://"+dir, Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("bad sha256 in index", func(t *testing.T) {
		dir := t.TempDir()
		writeIndex(t, dir, testWasm, IndexVersion{SHA256: strings.Repeat("ab", 32), Size: int64(len(testWasm))})
		r := open(t, dir)
		a, err := r.Resolve(ctx, "hello", "")
		if err != nil {
			t.Fatal(err)
		}
		err = Fetch(ctx, r, a, &bytes.Buffer{}, 1<<20, nil)
		wantKind(t, err, KindIntegrity, "the bytes received have sha256 "+sum(testWasm)+", not the "+strings.Repeat("ab", 32)+" index.json gives")
	})
	t.Run("size differs from index", func(t *testing.T) {
		dir := t.TempDir()
		writeIndex(t, dir, testWasm, IndexVersion{SHA256: sum(testWasm), Size: 10})
		r := open(t, dir)
		a, _ := r.Resolve(ctx, "hello", "")
		err := Fetch(ctx, r, a, &bytes.Buffer{}, 1<<20, nil)
		wantKind(t, err, KindIntegrity, "is 75008 bytes, but index.json says 10")
	})
	malformed := []struct{ name, index, want string }{
		{"sha256 not hex", `{"schema":1,"plugins":{"hello":{"versions":{"1.0.0":{"url":"a","sha256":"xyz","size":1}}}}}`,
			`index.json: plugins["hello"].versions["1.0.0"].sha256: "xyz" is not a SHA-256 digest`},
		{"no url", `{"schema":1,"plugins":{"hello":{"versions":{"1.0.0":{"sha256":"` + strings.Repeat("a", 64) + `","size":1}}}}}`,
			`plugins["hello"].versions["1.0.0"].url: missing`},
		{"bad size", `{"schema":1,"plugins":{"hello":{"versions":{"1.0.0":{"url":"a","sha256":"` + strings.Repeat("a", 64) + `","size":0}}}}}`,
			`.size: 0 is not a file size`},
		{"bad version", `{"schema":1,"plugins":{"hello":{"versions":{"latest":{"url":"a","sha256":"` + strings.Repeat("a", 64) + `","size":1}}}}}`,
			`versions["latest"]: not a semantic version`},
		{"bad name", `{"schema":1,"plugins":{"../x":{"versions":{}}}}`, `plugins["../x"]: not a valid plugin name`},
		{"schema", `{"schema":2,"plugins":{}}`, "schema 2 is not one this driftless reads (1)"},
		{"not JSON", `{"schema":1,`, "index.json is not a valid index"},
		{"deep", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "JSON nested deeper than 32 levels"},
	}
	for _, c := range malformed {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, IndexFile), []byte(c.index), 0o644)
			_, err := open(t, dir).Resolve(ctx, "hello", "")
			wantKind(t, err, KindBadArtifact, c.want)
		})
	}
	t.Run("index too big", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, IndexFile), make([]byte, MaxIndexSize+1), 0o644)
		_, err := open(t, dir).List(ctx, "")
		wantKind(t, err, KindBadArtifact, "index.json: is 8388609 bytes, over the 8388608 bytes allowed")
	})
	t.Run("no index", func(t *testing.T) {
		_, err := open(t, t.TempDir()).List(ctx, "")
		wantKind(t, err, KindNotFound, "registry team: index.json: open ")
	})
	t.Run("FIFO as the plugin file", func(t *testing.T) {
		dir := t.TempDir()
		writeIndex(t, dir, testWasm, IndexVersion{SHA256: sum(testWasm), Size: int64(len(testWasm)), URL: "fifo.wasm"})
		if err := syscall.Mkfifo(filepath.Join(dir, "fifo.wasm"), 0o644); err != nil {
			t.Skip(err)
		}
		r := open(t, dir)
		a, _ := r.Resolve(ctx, "hello", "")
		done := make(chan error, 1)
		go func() { done <- Fetch(ctx, r, a, &bytes.Buffer{}, 1<<20, nil) }()
		select {
		case err := <-done:
			wantKind(t, err, KindUnreachable, "fifo.wasm is not a regular file")
		case <-time.After(5 * time.Second):
			t.Fatal("Fetch of a FIFO hangs")
		}
	})
	t.Run("URL on another scheme", func(t *testing.T) {
		dir := t.TempDir()
		writeIndex(t, dir, testWasm, IndexVersion{SHA256: sum(testWasm), Size: 1, URL: "https://elsewhere.example/x.wasm"})
		_, err := open(t, dir).Resolve(ctx, "hello", "")
		wantKind(t, err, KindBadArtifact, `url: "https://elsewhere.example/x.wasm" is on https:, not on the index's file:`)
	})
	t.Run("http needs insecure", func(t *testing.T) {
		_, err := Open("web", "http://127.0.0.1:1/x", Options{})
		wantKind(t, err, KindUnsupported, "registry web: http://127.0.0.1:1/x is plain HTTP: set insecure = true on the registry to allow it")
	})
	t.Run("publish to a web server", func(t *testing.T) {
		r, _ := Open("web", "https://plugins.example/x", Options{})
		_, err := r.Publish(ctx, &Publication{Name: "hello", Version: "1.0.0", Wasm: testWasm})
		wantKind(t, err, KindUnsupported, "a static index on a web server is read-only")
	})
}

// serverMode says how the test server misbehaves on plugin files.
type serverMode int

const (
	serveWell serverMode = iota
	serveStall
	serveCut
	serveNotFound
	serveUnauthorized
)

// indexServer serves dir over HTTPS; plugin files (*.wasm) per mode.
func indexServer(t *testing.T, dir string, mode *atomic.Int32) *httptest.Server {
	t.Helper()
	files := http.FileServer(http.Dir(dir))
	done := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasSuffix(req.URL.Path, ".wasm") {
			files.ServeHTTP(w, req)
			return
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(req.URL.Path)))
		if err != nil {
			http.NotFound(w, req)
			return
		}
		m := serverMode(mode.Load())
		switch m {
		case serveStall, serveCut:
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.WriteHeader(200)
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			if m == serveStall {
				select {
				case <-req.Context().Done():
				case <-done:
				}
			}
			// Returning early cuts the body short: the server closes the
			// connection.
		case serveNotFound:
			http.NotFound(w, req)
		case serveUnauthorized:
			http.Error(w, "no", http.StatusUnauthorized)
		default:
			w.Write(data)
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func TestStaticIndexHTTPS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, k := testSigner(t)
	publishFile(t, dir, s, "1.0.0")
	var mode atomic.Int32
	srv := indexServer(t, dir, &mode)
	r, err := Open("web", srv.URL+"/", Options{Transport: srv.Client().Transport, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.Resolve(ctx, "hello", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if a.Ref != srv.URL+"/hello/1.0.0/hello.wasm" || a.SignatureURL != a.Ref+".sig" {
		t.Errorf("artifact %+v", a)
	}
	var got bytes.Buffer
	if err := Fetch(ctx, r, a, &got, 1<<20, nil); err != nil || !bytes.Equal(got.Bytes(), testWasm) {
		t.Fatalf("fetch: %v", err)
	}
	sigs, _ := r.Signatures(ctx, a)
	k.verifyBlob(t, testWasm, sigs.Blob)

	cases := []struct {
		name string
		mode serverMode
		kind ErrorKind
		want string
	}{
		{"stalled", serveStall, KindTimeout, "registry web: hello@1.0.0: the download stalled: nothing arrived for 500ms (timeout_secs) after 37504 of 75008 bytes"},
		{"cut", serveCut, KindIntegrity, "registry web: hello@1.0.0: the download was cut after 37504 of 75008 bytes"},
		{"404", serveNotFound, KindNotFound, "404 Not Found"},
		{"401", serveUnauthorized, KindUnauthorized, "401 Unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mode.Store(int32(c.mode))
			defer mode.Store(int32(serveWell))
			start := time.Now()
			err := Fetch(ctx, r, a, &bytes.Buffer{}, 1<<20, nil)
			wantKind(t, err, c.kind, c.want)
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}

	// TLS is verified: a client that does not trust the test server's
	// certificate refuses it.
	plain, _ := Open("web", srv.URL+"/", Options{Timeout: time.Second})
	_, err = plain.Resolve(ctx, "hello", "")
	wantKind(t, err, KindUnreachable, "certificate")

	// Registry down.
	down, _ := Open("down", "https://127.0.0.1:1/", Options{Timeout: time.Second})
	_, err = down.List(ctx, "")
	wantKind(t, err, KindUnreachable, "connection refused")
}

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"1.2.0", "1.10.0", -1, true},
		{"v2.0.0", "2.0.0", 0, true},
		{"2.0.0-rc.1", "1.9.0", 1, true},
		{"2.0.0", "2.0.0-rc.1", 1, true},
		{"latest", "1.0.0", 0, false},
		{"1.2", "1.0.0", 0, false},
	}
	for _, c := range cases {
		t.Run(c.a+" vs "+c.b, func(t *testing.T) {
			got, ok := CompareVersions(c.a, c.b)
			if got != c.want || ok != c.ok {
				t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d, %v", c.a, c.b, got, ok, c.want, c.ok)
			}
		})
	}
}
