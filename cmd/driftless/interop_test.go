package main

// Interoperability with the ecosystem's own tools, both ways, against a
// real OCI registry: what `wkg oci push` publishes, driftless installs, and
// what driftless publishes, `wkg oci pull` fetches byte for byte; what
// `cosign sign` / `sign-blob` sign with a key verifies in driftless, and
// what `driftless plugins publish --key` signs passes `cosign verify` /
// `verify-blob`. The tools are built by `make tools-registries`.

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/internal/testtool"
)

// tool runs an external tool in dir with extra environment variables and
// fails the test unless it exits 0 (or fails when wantFail).
func tool(t *testing.T, dir string, vars []string, wantFail bool, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), vars...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if wantFail && err == nil {
		t.Fatalf("%s %s succeeded; want a failure:\n%s", filepath.Base(bin), strings.Join(args, " "), out.String())
	}
	if !wantFail && err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// isolated returns environment variables that keep the tools away from
// the user's Docker credentials and Sigstore caches.
func isolated(t *testing.T) []string {
	home := t.TempDir()
	return []string{"DOCKER_CONFIG=" + t.TempDir(), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"), "TUF_ROOT=" + filepath.Join(home, ".sigstore"), "COSIGN_PASSWORD=pw"}
}

func TestInteropWkg(t *testing.T) {
	wkg := testtool.Path(t, "wkg")
	wasm := builtexample.Wasm(t, "c-plugin")
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{})
	vars := isolated(t)
	work := t.TempDir()
	file := writeFile(t, work, "c-plugin.wasm", string(wasm))
	home := ociHome(t, reg, "")

	// wkg publishes, driftless installs.
	tool(t, work, vars, false, wkg, "oci", "push", "--insecure", reg.Host, reg.Host+"/plugins/c-plugin:1.0.0", file)
	doc := envJSON(t, home, vars, 0, "plugins", "install", "team/c-plugin")
	if doc["version"] != "1.0.0" || doc["source"].(map[string]any)["sha256"] != sha(wasm) {
		t.Fatalf("install of wkg's push: %v", doc)
	}
	installed, _ := os.ReadFile(filepath.Join(home, "plugins", "c-plugin.wasm"))
	if !bytes.Equal(installed, wasm) {
		t.Fatal("installed bytes differ from what wkg pushed")
	}
	r := env(t, home, vars, 0, "task", "run", "c-plugin.checksum", "--config", `{"text":"hello"}`)
	contains(t, "run", r.stdout, "4f9f2cab")

	// driftless publishes, wkg pulls the same bytes.
	env(t, home, vars, 0, "plugins", "publish", file, "team/c-plugin@2.0.0")
	out := filepath.Join(work, "pulled.wasm")
	tool(t, work, vars, false, wkg, "oci", "pull", "--insecure", reg.Host, reg.Host+"/plugins/c-plugin:2.0.0", "-o", out)
	pulled, _ := os.ReadFile(out)
	if !bytes.Equal(pulled, wasm) {
		t.Fatalf("wkg pulled %d bytes, not the %d published", len(pulled), len(wasm))
	}
}

func TestInteropCosignOCI(t *testing.T) {
	cosign := testtool.Path(t, "cosign")
	reg := testtool.StartRegistry(t, testtool.RegistryOptions{})
	vars := isolated(t)
	keys := t.TempDir()
	tool(t, keys, vars, false, cosign, "generate-key-pair", "--output-key-prefix", "team")
	tool(t, keys, vars, false, cosign, "generate-key-pair", "--output-key-prefix", "other")
	teamKey, teamPub := filepath.Join(keys, "team.key"), filepath.Join(keys, "team.pub")
	src := t.TempDir()

	// Published without a signature through an entry without a key.
	open := newHome(t)
	writeFile(t, open, "plugins.toml", "[[registries]]\nname = 'open'\nurl = '"+reg.URL("plugins")+"'\ninsecure = true\n")
	digests := map[string]string{}
	for _, n := range []string{"bycosign", "byother", "unsigned"} {
		f := writeFile(t, src, n+".wasm", string(greeter(t, "1.0.0")))
		doc := envJSON(t, open, vars, 0, "plugins", "publish", f, "open/"+n+"@1.0.0")
		digests[n] = strings.SplitN(doc["ref"].(string), "@", 2)[1]
	}
	// cosign signs two of them, with keys, without a transparency log.
	sign := func(key, name string) {
		tool(t, keys, vars, false, cosign, "sign", "--key", key, "--tlog-upload=false", "--allow-http-registry", "--yes",
			reg.Host+"/plugins/"+name+"@"+digests[name])
	}
	sign(teamKey, "bycosign")
	sign(filepath.Join(keys, "other.key"), "byother")

	home := ociHome(t, reg, teamPub)
	doc := runJSON(t, home, 0, "plugins", "install", "team/bycosign")
	if k, _ := doc["source"].(map[string]any)["key"].(string); !strings.HasPrefix(k, "sha256:") {
		t.Errorf("install of a cosign-signed plugin: %v", doc)
	}
	runCLI(t, home, 0, "plugins", "verify")
	e := errorOf(t, runJSON(t, home, 2, "plugins", "install", "team/byother"), "signature")
	contains(t, "other key", e["message"].(string), "plugin byother from registry team: refused: no valid signature by "+teamPub)
	e = errorOf(t, runJSON(t, home, 2, "plugins", "install", "team/unsigned"), "signature")
	contains(t, "unsigned", e["message"].(string), "plugin unsigned from registry team is not signed")

	// driftless signs with cosign's key; cosign verifies it.
	f := writeFile(t, src, "ours.wasm", string(greeter(t, "2.0.0")))
	env(t, home, vars, 0, "plugins", "publish", f, "team/ours@2.0.0", "--key", teamKey)
	out := tool(t, keys, vars, false, cosign, "verify", "--key", teamPub, "--insecure-ignore-tlog", "--allow-http-registry",
		reg.Host+"/plugins/ours:2.0.0")
	contains(t, "cosign verify", out, "The signatures were verified against the specified public key")
	tool(t, keys, vars, true, cosign, "verify", "--key", filepath.Join(keys, "other.pub"), "--insecure-ignore-tlog", "--allow-http-registry",
		reg.Host+"/plugins/ours:2.0.0")
	runCLI(t, home, 0, "plugins", "install", "team/ours")
}

func TestInteropCosignBlob(t *testing.T) {
	cosign := testtool.Path(t, "cosign")
	vars := isolated(t)
	keys := t.TempDir()
	tool(t, keys, vars, false, cosign, "generate-key-pair", "--output-key-prefix", "team")
	teamKey, teamPub := filepath.Join(keys, "team.key"), filepath.Join(keys, "team.pub")
	dir := t.TempDir()
	src := t.TempDir()

	// driftless signs a static index's file; cosign verify-blob accepts it.
	home := newHome(t)
	writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+dir+"'\nenabled = true\npublic_key = '"+teamPub+"'\n")
	env(t, home, vars, 0, "plugins", "publish", writeFile(t, src, "g.wasm", string(greeter(t, "1.0.0"))), "team/greeter@1.0.0", "--key", teamKey)
	wasm := filepath.Join(dir, "greeter/1.0.0/greeter.wasm")
	out := tool(t, dir, vars, false, cosign, "verify-blob", "--key", teamPub, "--signature", wasm+".sig", "--insecure-ignore-tlog", wasm)
	contains(t, "cosign verify-blob", out, "Verified OK")
	runCLI(t, home, 0, "plugins", "install", "team/greeter")

	// cosign signs index files (a base64 signature, and a Sigstore
	// bundle); driftless verifies them.
	open := newHome(t)
	writeFile(t, open, "plugins.toml", "[[registries]]\nname = 'open'\nurl = 'file://"+dir+"'\n")
	env(t, open, vars, 0, "plugins", "publish", writeFile(t, src, "b.wasm", string(greeter(t, "2.0.0"))), "open/greeter@2.0.0")
	env(t, open, vars, 0, "plugins", "publish", writeFile(t, src, "c.wasm", string(greeter(t, "3.0.0"))), "open/greeter@3.0.0")
	b := filepath.Join(dir, "greeter/2.0.0/greeter.wasm")
	c := filepath.Join(dir, "greeter/3.0.0/greeter.wasm")
	tool(t, dir, vars, false, cosign, "sign-blob", "--key", teamKey, "--tlog-upload=false", "--yes", "--output-signature", b+".sig", b)
	tool(t, dir, vars, false, cosign, "sign-blob", "--key", teamKey, "--tlog-upload=false", "--yes", "--new-bundle-format", "--bundle", c+".bundle", c)
	setSignature(t, dir, "2.0.0", "greeter/2.0.0/greeter.wasm.sig")
	setSignature(t, dir, "3.0.0", "greeter/3.0.0/greeter.wasm.bundle")
	runCLI(t, home, 0, "plugins", "install", "team/greeter@2.0.0", "--name", "two")
	runCLI(t, home, 0, "plugins", "install", "team/greeter@3.0.0", "--name", "three")
	r := runCLI(t, home, 0, "plugins", "verify")
	contains(t, "verify", r.stdout, "two: ok", "three: ok")

	// A cosign signature of other bytes is refused.
	setSignature(t, dir, "3.0.0", "greeter/2.0.0/greeter.wasm.sig")
	e := errorOf(t, runJSON(t, home, 2, "plugins", "install", "team/greeter@3.0.0", "--name", "swapped"), "signature")
	contains(t, "swapped", e["message"].(string), "plugin swapped from registry team: refused: signature is not by "+teamPub)
}

// setSignature points the index entry of greeter at version to sig.
func setSignature(t *testing.T, dir, version, sig string) {
	t.Helper()
	path := filepath.Join(dir, "index.json")
	data, _ := os.ReadFile(path)
	var idx map[string]any
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	idx["plugins"].(map[string]any)["greeter"].(map[string]any)["versions"].(map[string]any)[version].(map[string]any)["signature"] = sig
	data, _ = json.Marshal(idx)
	os.WriteFile(path, data, 0o644)
}

// shBlock returns the ```sh block of doc that contains marker.
func shBlock(t *testing.T, doc, marker string) string {
	t.Helper()
	for _, part := range strings.Split(doc, "```sh\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		if strings.Contains(body, marker) {
			return body
		}
	}
	t.Fatalf("docs/registries.md has no sh block with %q", marker)
	return ""
}

// TestDocsRegistryWalkthrough runs, as docs/registries.md writes them, its
// registry to try out and its wkg round trip: on a free loopback port
// instead of 5000, with temporary directories instead of /tmp and
// ~/.driftless.
func TestDocsRegistryWalkthrough(t *testing.T) {
	regBin := testtool.Path(t, "registry")
	testtool.Path(t, "wkg")
	data, err := os.ReadFile(repoPath(t, "docs/registries.md"))
	if err != nil {
		t.Fatal(err)
	}
	setup := shBlock(t, string(data), "build/tools/registry serve")
	roundTrip := shBlock(t, string(data), "wkg oci pull")
	addr, tmp, home, work := testtool.FreeAddr(t), t.TempDir(), newHome(t), t.TempDir()
	subst := strings.NewReplacer("127.0.0.1:5000", addr, "/tmp/", tmp+"/", "~/.driftless", home)
	vars := append(isolated(t), "DRIFTLESS_HOME="+home, "NO_COLOR=1",
		"PATH="+filepath.Dir(testtool.Path(t, "wkg"))+":"+filepath.Dir(binary)+":"+os.Getenv("PATH"))

	// The setup block, but the test starts the registry itself, to stop it.
	serve := "build/tools/registry serve /tmp/registry.yml &\n"
	if !strings.Contains(setup, serve) {
		t.Fatalf("the setup block no longer has %q", serve)
	}
	tool(t, work, vars, false, "bash", "-euc", subst.Replace(strings.Replace(setup, serve, "", 1)))
	cmd := exec.Command(regBin, "serve", filepath.Join(tmp, "registry.yml"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the docs' registry did not start on %s", addr)
		}
	}

	wasm := builtexample.Wasm(t, "c-plugin")
	writeFile(t, work, "hello.wasm", string(wasm))
	out := tool(t, work, vars, false, "bash", "-euxc", subst.Replace(roundTrip))
	contains(t, "round trip", out, "installed hello 1.0.0 (component) from registry local", "published hello 2.0.0 to registry local")
	pulled, _ := os.ReadFile(filepath.Join(work, "pulled.wasm"))
	if !bytes.Equal(pulled, wasm) {
		t.Fatalf("wkg pulled %d bytes, not the %d published", len(pulled), len(wasm))
	}
	installed, _ := os.ReadFile(filepath.Join(home, "plugins", "hello.wasm"))
	if !bytes.Equal(installed, wasm) {
		t.Fatal("installed bytes differ from what wkg pushed")
	}
}
