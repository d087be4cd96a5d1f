package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
