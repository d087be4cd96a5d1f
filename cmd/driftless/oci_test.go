package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/driftless-dev/driftless/internal/testtool"
)

// ociHome is a home whose registry "team" is namespace "plugins" of reg,
// requiring signatures by pub when it is set.
func ociHome(t *testing.T, reg *testtool.Registry, pub string) string {
	t.Helper()
	home := newHome(t)
	key := ""
	if pub != "" {
		key = "public_key = '" + pub + "'\n"
	}
	writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = '"+reg.URL("plugins")+"'\nenabled = true\ninsecure = true\n"+key)
	return home
}

// TestRegistryOCI: publish, search, install (by name, by tag, by digest),
// pin, verify, update and reinstall from the lock against a real OCI
// registry, with cosign signatures required.
func TestRegistryOCI(t *testing.T) {
	dockerDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dockerDir)
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{})
	keys := t.TempDir()
	priv, pub := keyPair(t, keys, "team")
	home := ociHome(t, reg, pub)
	pw := []string{"COSIGN_PASSWORD=pw"}
	src := t.TempDir()
	for _, v := range []string{"1.0.0", "1.1.0"} {
		f := writeFile(t, src, "greeter-"+v+".wasm", string(greeter(t, v)))
		doc := envJSON(t, home, pw, 0, "plugins", "publish", f, "team/greeter@"+v, "--key", priv)
		if !strings.HasPrefix(doc["ref"].(string), "oci://"+reg.Host+"/plugins/greeter@sha256:") {
			t.Fatalf("publish: %v", doc)
		}
	}
	unsigned := writeFile(t, src, "unsigned.wasm", string(greeter(t, "0.1.0")))
	open := newHome(t)
	writeFile(t, open, "plugins.toml", "[[registries]]\nname = 'open'\nurl = '"+reg.URL("plugins")+"'\ninsecure = true\n")
	env(t, open, nil, 0, "plugins", "publish", unsigned, "open/unsigned@0.1.0")

	r := runCLI(t, home, 0, "plugins", "search", "greet")
	contains(t, "search", r.stdout, "team", "greeter", "1.1.0, 1.0.0", "Says hello (test plugin).")

	doc := runJSON(t, home, 0, "plugins", "install", "team/greeter")
	if doc["version"] != "1.1.0" {
		t.Fatalf("install: %v", doc)
	}
	entry, _ := readLock(t, home).Get("greeter")
	if !strings.HasPrefix(entry.Ref, "oci://"+reg.Host+"/plugins/greeter@sha256:") || entry.Key == "" || entry.SHA256 != sha(greeter(t, "1.1.0")) {
		t.Fatalf("lock entry %+v", entry)
	}
	r = runCLI(t, home, 0, "task", "run", "greeter.hello")
	contains(t, "run", r.stdout, "hello from 1.1.0")
	runCLI(t, home, 0, "plugins", "verify")

	// A direct reference into the registry still needs its signature.
	doc = runJSON(t, home, 0, "plugins", "install", "oci://"+reg.Host+"/plugins/greeter:1.0.0", "--name", "old")
	if doc["version"] != "1.0.0" || doc["source"].(map[string]any)["kind"] != "oci" || doc["source"].(map[string]any)["key"] == nil {
		t.Errorf("install by tag: %v", doc)
	}
	runCLI(t, home, 0, "plugins", "install", entry.Ref, "--name", "pinned")
	e := errorOf(t, runJSON(t, home, 2, "plugins", "install", "oci://"+reg.Host+"/plugins/unsigned:0.1.0"), "signature")
	contains(t, "unsigned direct", e["message"].(string), "plugin unsigned from registry team is not signed, and the registry requires a signature by "+pub)

	// Everything comes back from the lock alone, by digest.
	for _, n := range []string{"greeter", "old", "pinned"} {
		os.Remove(filepath.Join(home, "plugins", n+".wasm"))
	}
	r = runCLI(t, home, 0, "plugins", "install")
	contains(t, "install from lock", r.stdout, "greeter 1.1.0: installed", "old 1.0.0: installed", "pinned")
	runCLI(t, home, 0, "plugins", "verify")

	f := writeFile(t, src, "greeter-2.0.0.wasm", string(greeter(t, "2.0.0")))
	env(t, home, pw, 0, "plugins", "publish", f, "team/greeter@2.0.0", "--key", priv)
	r = runCLI(t, home, 0, "plugins", "update", "greeter")
	contains(t, "update", r.stdout, "updated greeter 1.1.0 → 2.0.0 (registry team)")
	r = runCLI(t, home, 0, "task", "run", "greeter.hello")
	contains(t, "run updated", r.stdout, "hello from 2.0.0")

	// Bad input.
	e = errorOf(t, runJSON(t, home, 2, "plugins", "install", "team/nosuch"), "not-found")
	contains(t, "404", e["message"].(string), "registry team: nosuch: no plugin nosuch (no repository plugins/nosuch)")
	e = errorOf(t, runJSON(t, home, 2, "plugins", "install", "team/greeter@9.0.0", "--name", "x"), "not-found")
	contains(t, "no version", e["message"].(string), "no version 9.0.0 (versions: 2.0.0, 1.1.0, 1.0.0)")
	down := newHome(t)
	writeFile(t, down, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'oci://"+testtool.FreeAddr(t)+"/plugins'\nenabled = true\ninsecure = true\n")
	e = errorOf(t, runJSON(t, down, 1, "plugins", "install", "team/greeter"), "unreachable")
	contains(t, "down", e["message"].(string), "connection refused (is the registry running?)")
	tls := newHome(t)
	writeFile(t, tls, "plugins.toml", "[[registries]]\nname = 'team'\nurl = '"+reg.URL("plugins")+"'\nenabled = true\n")
	e = errorOf(t, runJSON(t, tls, 1, "plugins", "install", "team/greeter"), "unreachable")
	contains(t, "plain HTTP registry without insecure", e["message"].(string), "speaks plain HTTP: set insecure = true")
}

// TestRegistryOCIAuth: a registry that requires a login answers 401 until
// the Docker config has credentials for it; they are never printed.
func TestRegistryOCIAuth(t *testing.T) {
	dockerDir := t.TempDir()
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{User: "bob", Password: "s3cret-pass"})
	home := ociHome(t, reg, "")
	vars := []string{"DOCKER_CONFIG=" + dockerDir}
	f := writeFile(t, t.TempDir(), "g.wasm", string(greeter(t, "1.0.0")))
	e := errorOf(t, envJSON(t, home, vars, 1, "plugins", "publish", f, "team/greeter@1.0.0"), "unauthorized")
	contains(t, "publish without login", e["message"].(string), "access refused (HTTP 401, no credentials for "+reg.Host+"): log in with `docker login "+reg.Host+"`")
	auth := base64.StdEncoding.EncodeToString([]byte("bob:s3cret-pass"))
	writeFile(t, dockerDir, "config.json", `{"auths":{"`+reg.Host+`":{"auth":"`+auth+`"}}}`)
	env(t, home, vars, 0, "plugins", "publish", f, "team/greeter@1.0.0")
	r := env(t, home, vars, 0, "--log-level", "debug", "plugins", "install", "team/greeter")
	for _, secret := range []string{"s3cret-pass", auth} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("credentials printed:\n%s", r)
		}
	}
	e = errorOf(t, envJSON(t, newHomeWith(t, home), []string{"DOCKER_CONFIG=" + t.TempDir()}, 1, "plugins", "install", "team/greeter", "--name", "again"), "unauthorized")
	contains(t, "install without login", e["message"].(string), "access refused")
}

// newHomeWith is a new home with the plugins.toml of another.
func newHomeWith(t *testing.T, other string) string {
	home := newHome(t)
	data, _ := os.ReadFile(filepath.Join(other, "plugins.toml"))
	writeFile(t, home, "plugins.toml", string(data))
	return home
}

// cuttingProxy is a loopback HTTP server in front of a real registry that
// passes everything through, except GETs of the blob with digest blob:
// those it cuts after a third (stall false) or stalls after a third until
// the client gives up (stall true).
func cuttingProxy(t *testing.T, upstream, blob string, stall bool) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		out, _ := http.NewRequestWithContext(req.Context(), req.Method, "http://"+upstream+req.URL.RequestURI(), req.Body)
		out.Header = req.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/blobs/"+blob) {
			w.Write(body)
			return
		}
		w.Write(body[:len(body)/3])
		w.(http.Flusher).Flush()
		if stall {
			select {
			case <-req.Context().Done():
			case <-done:
			}
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestRegistryOCIBadInput: each bad answer of an OCI registry (a real
// one, or a proxy in front of it that misbehaves) is a clear error naming
// the plugin and the registry, with the right exit code, and leaves
// nothing installed, nothing in the lock and nothing staged.
func TestRegistryOCIBadInput(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{})
	authReg := testtool.StartRegistry(t, testtool.RegistryOptions{User: "bob", Password: "s3cret-pass"})
	src := t.TempDir()
	open := newHome(t)
	writeFile(t, open, "plugins.toml", "[[registries]]\nname = 'open'\nurl = '"+reg.URL("plugins")+"'\ninsecure = true\n")
	wasm := greeter(t, "1.0.0")
	env(t, open, nil, 0, "plugins", "publish", writeFile(t, src, "g.wasm", string(wasm)), "open/greeter@1.0.0")
	blob := "sha256:" + sha(wasm)

	// A plugin whose layer, in the registry's storage, no longer matches
	// its digest.
	tamperedWasm := greeter(t, "6.6.6")
	env(t, open, nil, 0, "plugins", "publish", writeFile(t, src, "t.wasm", string(tamperedWasm)), "open/tampered@1.0.0")
	data := filepath.Join(reg.Dir, "docker/registry/v2/blobs/sha256", sha(tamperedWasm)[:2], sha(tamperedWasm), "data")
	corrupt := append([]byte{}, tamperedWasm...)
	corrupt[len(corrupt)/2] ^= 0xff
	if err := os.WriteFile(data, corrupt, 0o644); err != nil {
		t.Fatalf("tampering with the registry's storage: %v", err)
	}

	// Manifests that are not a Wasm OCI artifact, pushed past driftless.
	ctx := context.Background()
	repo, err := remote.NewRepository(reg.Host + "/plugins/bad")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	push := func(b []byte, mediaType string) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(mediaType, b)
		if ok, _ := repo.Exists(ctx, d); !ok {
			if err := repo.Push(ctx, d, bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	cfg := []byte(`{"architecture":"wasm","os":"wasip2"}`)
	layer := push(wasm, "application/wasm")
	wasmCfg := push(cfg, "application/vnd.wasm.config.v0+json")
	imageCfg := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfg)
	second := push([]byte("\x00asm\x01\x00\x00\x00"), "application/wasm")
	tag := func(tag string, config ocispec.Descriptor, layers ...ocispec.Descriptor) {
		m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
			Config: config, Layers: layers})
		if err := repo.PushReference(ctx, content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, m), bytes.NewReader(m), tag); err != nil {
			t.Fatal(err)
		}
	}
	tag("1.0.0", imageCfg, layer)
	tag("2.0.0", wasmCfg, layer, second)

	down := testtool.FreeAddr(t)
	toml := func(host, extra string) string {
		return "[[registries]]\nname = 'team'\nurl = 'oci://" + host + "/plugins'\nenabled = true\ninsecure = true\n" + extra
	}
	cases := []struct {
		name, toml, ref string
		code            int
		kind, want      string
	}{
		{"registry down", toml(down, ""), "team/greeter", 1, "unreachable",
			"registry team: greeter: cannot reach " + down + ": connection refused (is the registry running?)"},
		{"404 plugin", toml(reg.Host, ""), "team/nosuch", 2, "not-found", "registry team: nosuch: no plugin nosuch (no repository plugins/nosuch)"},
		{"404 version", toml(reg.Host, ""), "team/greeter@9.0.0", 2, "not-found", "registry team: greeter@9.0.0: no version 9.0.0 (versions: 1.0.0)"},
		{"401", toml(authReg.Host, ""), "team/greeter", 1, "unauthorized",
			"registry team: greeter: access refused (HTTP 401, no credentials for " + authReg.Host + "): log in with `docker login " + authReg.Host + "`"},
		{"plain HTTP without insecure", "[[registries]]\nname = 'team'\nurl = '" + reg.URL("plugins") + "'\nenabled = true\n", "team/greeter", 1, "unreachable",
			"speaks plain HTTP: set insecure = true"},
		{"wrong config media type", toml(reg.Host, ""), "team/bad@1.0.0", 2, "bad-artifact",
			`registry team: bad@1.0.0: config media type is "application/vnd.oci.image.config.v1+json", not application/vnd.wasm.config.v0+json: not a Wasm OCI artifact`},
		{"several layers", toml(reg.Host, ""), "team/bad@2.0.0", 2, "bad-artifact",
			"registry team: bad@2.0.0: manifest has 2 layers; a Wasm OCI artifact has exactly one (application/wasm)"},
		{"layer digest mismatch", toml(reg.Host, ""), "team/tampered", 2, "integrity",
			"registry team: tampered@1.0.0: the bytes received have sha256 " + sha(corrupt) + ", not the " + sha(tamperedWasm)},
		{"over max_plugin_size", "[security]\nmax_plugin_size = 1000\n" + toml(reg.Host, ""), "team/greeter", 2, "too-large",
			fmt.Sprintf("plugin is %d bytes, over max_plugin_size of 1000 bytes", len(wasm))},
		{"download cut", toml(cuttingProxy(t, reg.Host, blob, false), ""), "team/greeter", 2, "integrity",
			fmt.Sprintf("registry team: greeter@1.0.0: the download was cut after %d of %d bytes", len(wasm)/3, len(wasm))},
		{"download stalls", toml(cuttingProxy(t, reg.Host, blob, true), "timeout_secs = 0.5\n"), "team/greeter", 1, "timeout",
			fmt.Sprintf("registry team: greeter@1.0.0: the download stalled: nothing arrived for 500ms (timeout_secs) after %d of %d bytes", len(wasm)/3, len(wasm))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := newHome(t)
			writeFile(t, home, "plugins.toml", c.toml)
			start := time.Now()
			e := errorOf(t, runJSON(t, home, c.code, "plugins", "install", c.ref), c.kind)
			contains(t, c.name, e["message"].(string), c.want)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %s", d)
			}
			if entries, _ := os.ReadDir(filepath.Join(home, "plugins")); len(entries) != 0 {
				t.Errorf("plugins/ holds %v", entries)
			}
			if l := readLock(t, home); len(l.Plugins) != 0 {
				t.Errorf("the lock names %v", l.Names())
			}
		})
	}
}
