package main

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/driftless-dev/driftless/internal/builtexample"
	"github.com/driftless-dev/driftless/internal/testplugin"
	"github.com/driftless-dev/driftless/pluginlock"
	"github.com/driftless-dev/driftless/pluginstore"
)

// greeter returns the bytes of a small test plugin at version.
func greeter(t *testing.T, version string) []byte {
	t.Helper()
	wasm, err := testplugin.Plugin{
		Name: "greeter", Version: version, Description: "Says hello (test plugin).",
		Tasks: []testplugin.Task{{Name: "hello", Description: "Greets.", CheckMode: true, Do: testplugin.Result(false, "hello from "+version, "{}", "")}},
	}.Wasm()
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// keyPair writes a cosign-format key pair (private key encrypted with the
// password "pw") and returns the two paths.
func keyPair(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte("pw")))
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	os.WriteFile(priv, privPEM, 0o600)
	os.WriteFile(pub, pubPEM, 0o644)
	return priv, pub
}

// env runs the CLI with extra environment variables and checks the exit
// code.
func env(t *testing.T, home string, vars []string, code int, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(append(os.Environ(), "DRIFTLESS_HOME="+home, "NO_COLOR=1"), vars...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("driftless %s panicked:\n%s", strings.Join(args, " "), r)
	}
	expect(t, r, code, args...)
	return r
}

func envJSON(t *testing.T, home string, vars []string, code int, args ...string) map[string]any {
	t.Helper()
	var v map[string]any
	jsonDoc(t, env(t, home, vars, code, append([]string{"-o", "json"}, args...)...), &v)
	return v
}

// readLock reads a home's plugins.lock.
func readLock(t *testing.T, home string) *pluginlock.Lock {
	t.Helper()
	l, err := pluginlock.Read(filepath.Join(home, pluginlock.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// nothingStaged fails when a staging file is left in the home.
func nothingStaged(t *testing.T, home string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(home, "plugins"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left in plugins/: %s", e.Name())
		}
	}
}

// TestRegistryStaticIndex goes through the whole life of a plugin with a
// directory registry: publish (signed), search, install, list and
// inspect, a tampered file the host refuses, verify, install from the
// lock, update, remove.
func TestRegistryStaticIndex(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	keys := t.TempDir()
	priv, pub := keyPair(t, keys, "team")
	writeFile(t, home, "plugins.toml", `
[[registries]]
name = "team"
url = "file://`+dir+`"
enabled = true
public_key = "`+pub+`"
`)
	pw := []string{"COSIGN_PASSWORD=pw"}
	src := t.TempDir()
	for _, v := range []string{"1.0.0", "1.1.0"} {
		f := writeFile(t, src, "greeter-"+v+".wasm", string(greeter(t, v)))
		doc := envJSON(t, home, pw, 0, "plugins", "publish", f, "team/greeter@"+v, "--key", priv)
		if doc["published"] != true || doc["sha256"] != sha(greeter(t, v)) || !strings.HasPrefix(doc["key"].(string), "sha256:") {
			t.Fatalf("publish: %v", doc)
		}
	}
	e := errorOf(t, envJSON(t, home, pw, 2, "plugins", "publish", filepath.Join(src, "greeter-1.0.0.wasm"), "team/greeter@1.0.0", "--key", priv), "exists")
	contains(t, "republish", e["message"].(string), "registry team: greeter@1.0.0: this version is already published (--force replaces it)")
	e = errorOf(t, envJSON(t, home, nil, 2, "plugins", "publish", filepath.Join(src, "greeter-1.0.0.wasm"), "team/greeter@1.0.0"), "signature")
	contains(t, "publish unsigned", e["message"].(string), "registry team requires plugins signed by "+pub)
	other, _ := keyPair(t, keys, "other")
	e = errorOf(t, envJSON(t, home, pw, 2, "plugins", "publish", filepath.Join(src, "greeter-1.0.0.wasm"), "team/greeter@1.0.5", "--key", other), "signature")
	contains(t, "publish with another key", e["message"].(string), "is not the key registry team requires")
	e = errorOf(t, envJSON(t, home, nil, 2, "plugins", "publish", filepath.Join(src, "greeter-1.0.0.wasm"), "team/greeter@1.0.5", "--key", priv), "usage")
	contains(t, "publish without password", e["message"].(string), "set COSIGN_PASSWORD")

	r := runCLI(t, home, 0, "plugins", "search")
	contains(t, "search", r.stdout, "REGISTRY", "team", "greeter", "1.1.0, 1.0.0", "Says hello (test plugin).")
	r = runCLI(t, home, 0, "plugins", "search", "nothing-like-it")
	contains(t, "search nothing", r.stdout, "no plugins found")

	doc := runJSON(t, home, 0, "plugins", "install", "team/greeter")
	srcDoc := doc["source"].(map[string]any)
	if doc["version"] != "1.1.0" || srcDoc["kind"] != "registry" || srcDoc["registry"] != "team" ||
		srcDoc["sha256"] != sha(greeter(t, "1.1.0")) || !strings.HasPrefix(srcDoc["key"].(string), "sha256:") {
		t.Fatalf("install: %v", doc)
	}
	lock := readLock(t, home)
	entry, ok := lock.Get("greeter")
	if !ok || entry.Version != "1.1.0" || entry.Ref != "file://"+dir+"/greeter/1.1.0/greeter.wasm" || entry.SHA256 != sha(greeter(t, "1.1.0")) {
		t.Fatalf("lock entry %+v", entry)
	}
	r = runCLI(t, home, 0, "task", "run", "greeter.hello")
	contains(t, "run", r.stdout, "hello from 1.1.0")
	r = runCLI(t, home, 0, "plugins", "list")
	contains(t, "list", r.stdout, "SOURCE", "team", "sha256:"+entry.SHA256[:12])
	r = runCLI(t, home, 0, "plugins", "inspect", "greeter")
	contains(t, "inspect", r.stdout, "source", "registry team", entry.Ref, "locked version", "signed by key")
	r = runCLI(t, home, 0, "plugins", "verify")
	contains(t, "verify", r.stdout, "greeter: ok (sha256 "+entry.SHA256+", signature by sha256:")

	// A tampered file: the host refuses to load it, verify names it.
	path := filepath.Join(home, "plugins", "greeter.wasm")
	tampered := greeter(t, "6.6.6")
	os.WriteFile(path, tampered, 0o644)
	e = errorOf(t, runJSON(t, home, 2, "task", "run", "greeter.hello"), "load")
	contains(t, "tampered", e["message"].(string), path+" does not match its entry in "+filepath.Join(home, "plugins.lock"),
		"the file's sha256 is "+sha(tampered), "the lock pins "+entry.SHA256)
	r = runCLI(t, home, 0, "plugins", "list")
	contains(t, "list tampered", r.stdout, "ERROR", "does not match its entry")
	r = runCLI(t, home, 1, "plugins", "verify")
	contains(t, "verify tampered", r.stdout, "greeter: MISMATCH: "+path+" has sha256 "+sha(tampered)+", plugins.lock pins "+entry.SHA256)

	// Install without arguments puts back exactly what the lock names.
	r = runCLI(t, home, 0, "plugins", "install")
	contains(t, "install from lock", r.stdout, "greeter 1.1.0: installed (sha256 "+entry.SHA256+")")
	r = runCLI(t, home, 0, "plugins", "install")
	contains(t, "install from lock again", r.stdout, "greeter 1.1.0: up to date")
	runCLI(t, home, 0, "plugins", "verify")
	// A plugin copied in by hand loads, with a warning.
	put(t, home, "loose", greeter(t, "0.0.1"))
	r = runCLI(t, home, 0, "plugins", "list")
	contains(t, "list loose", r.stdout, "unlocked", "warning: loose is not in plugins.lock (copied in by hand?)")
	runCLI(t, home, 0, "task", "run", "loose.hello")
	r = runCLI(t, home, 1, "plugins", "verify")
	contains(t, "verify loose", r.stdout, "loose: MISMATCH: "+filepath.Join(home, "plugins", "loose.wasm")+" is not in plugins.lock")
	runCLI(t, home, 0, "plugins", "remove", "loose")

	// Update: --check only reports; update installs the newest.
	f := writeFile(t, src, "greeter-1.2.0.wasm", string(greeter(t, "1.2.0")))
	env(t, home, pw, 0, "plugins", "publish", f, "team/greeter@1.2.0", "--key", priv)
	r = runCLI(t, home, 0, "plugins", "update", "--check")
	contains(t, "update --check", r.stdout, "greeter 1.1.0 → 1.2.0 available (registry team)")
	if e, _ := readLock(t, home).Get("greeter"); e.Version != "1.1.0" {
		t.Errorf("update --check changed the lock: %+v", e)
	}
	r = runCLI(t, home, 0, "plugins", "update")
	contains(t, "update", r.stdout, "updated greeter 1.1.0 → 1.2.0 (registry team)")
	r = runCLI(t, home, 0, "task", "run", "greeter.hello")
	contains(t, "run updated", r.stdout, "hello from 1.2.0")
	r = runCLI(t, home, 0, "plugins", "update", "greeter@1.0.0")
	contains(t, "update to a version", r.stdout, "updated greeter 1.2.0 → 1.0.0")
	r = runCLI(t, home, 0, "plugins", "update", "greeter@1.0.0")
	contains(t, "update to the same", r.stdout, "greeter 1.0.0: up to date")

	// Installed under another name, it still updates and reinstalls from
	// the lock (the lock keeps its name in the registry).
	runCLI(t, home, 0, "plugins", "install", "team/greeter@1.1.0", "--name", "hi")
	if e, _ := readLock(t, home).Get("hi"); e.Upstream != "greeter" {
		t.Errorf("lock entry of hi: %+v", e)
	}
	os.Remove(filepath.Join(home, "plugins", "hi.wasm"))
	r = runCLI(t, home, 0, "plugins", "install")
	contains(t, "install renamed from lock", r.stdout, "hi 1.1.0: installed")
	r = runCLI(t, home, 0, "plugins", "update", "hi")
	contains(t, "update renamed", r.stdout, "updated hi 1.1.0 → 1.2.0")
	runCLI(t, home, 0, "plugins", "remove", "hi")

	doc = runJSON(t, home, 0, "plugins", "remove", "greeter")
	if doc["removed"] != true {
		t.Errorf("remove: %v", doc)
	}
	if _, ok := readLock(t, home).Get("greeter"); ok {
		t.Error("remove left the lock entry")
	}
	if _, err := os.Stat(filepath.Join(home, "signatures", "greeter.json")); !os.IsNotExist(err) {
		t.Errorf("remove left the kept signature: %v", err)
	}
	nothingStaged(t, home)
}

// TestRegistrySignatureRequired: a registry with a public_key refuses
// unsigned plugins, other keys' signatures and signatures over other bytes,
// naming the plugin, the registry and the key; nothing is installed.
func TestRegistrySignatureRequired(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	keys := t.TempDir()
	priv, pub := keyPair(t, keys, "team")
	otherPriv, _ := keyPair(t, keys, "other")
	src := t.TempDir()
	// Publish through an open registry of the same directory.
	writeFile(t, home, "plugins.toml", `
[[registries]]
name = "open"
url = "file://`+dir+`"
enabled = true
`)
	pw := []string{"COSIGN_PASSWORD=pw"}
	pub1 := writeFile(t, src, "g1.wasm", string(greeter(t, "1.0.0")))
	pub2 := writeFile(t, src, "g2.wasm", string(greeter(t, "2.0.0")))
	env(t, home, pw, 0, "plugins", "publish", pub1, "open/unsigned@1.0.0")
	env(t, home, pw, 0, "plugins", "publish", pub1, "open/othersigned@1.0.0", "--key", otherPriv)
	env(t, home, pw, 0, "plugins", "publish", pub1, "open/swapped@1.0.0", "--key", priv)
	env(t, home, pw, 0, "plugins", "publish", pub2, "open/swapped@2.0.0", "--key", priv)
	// swapped 1.0.0 now carries the signature of 2.0.0's bytes.
	sig2, _ := os.ReadFile(filepath.Join(dir, "swapped/2.0.0/swapped.wasm.sig"))
	os.WriteFile(filepath.Join(dir, "swapped/1.0.0/swapped.wasm.sig"), sig2, 0o644)

	writeFile(t, home, "plugins.toml", `
[[registries]]
name = "team"
url = "file://`+dir+`"
enabled = true
public_key = "`+pub+`"
`)
	cases := []struct{ ref, want string }{
		{"team/unsigned", "plugin unsigned from registry team is not signed, and the registry requires a signature by " + pub},
		{"team/othersigned", "plugin othersigned from registry team: refused: signature is not by " + pub},
		{"team/swapped@1.0.0", "plugin swapped from registry team: refused: signature is not by " + pub + " (sha256:"},
	}
	for _, c := range cases {
		t.Run(c.ref, func(t *testing.T) {
			e := errorOf(t, runJSON(t, home, 2, "plugins", "install", c.ref), "signature")
			contains(t, c.ref, e["message"].(string), c.want)
			if len(readLock(t, home).Plugins) != 0 {
				t.Error("a refused plugin got a lock entry")
			}
			if entries, _ := os.ReadDir(filepath.Join(home, "plugins")); len(entries) != 0 {
				t.Errorf("plugins/ holds %v", entries)
			}
		})
	}
	runCLI(t, home, 0, "plugins", "install", "team/swapped@2.0.0")
}

// indexHTTPS serves a directory over HTTPS; the returned file holds its
// certificate, for SSL_CERT_FILE. stall makes *.wasm downloads stop
// half-way until the client gives up.
func indexHTTPS(t *testing.T, dir string, stall *atomic.Bool) (*httptest.Server, string) {
	t.Helper()
	files := http.FileServer(http.Dir(dir))
	done := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !stall.Load() || !strings.HasSuffix(req.URL.Path, ".wasm") {
			files.ServeHTTP(w, req)
			return
		}
		data, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(req.URL.Path)))
		w.Header().Set("Content-Length", itoa(len(data)))
		w.WriteHeader(200)
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		select {
		case <-req.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	cert := filepath.Join(t.TempDir(), "cert.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	return srv, cert
}

func itoa(n int) string { return jsonNumber(n) }

func jsonNumber(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestRegistryBadInput: each bad input is a clear error with the right
// exit code, and leaves nothing installed and nothing staged.
func TestRegistryBadInput(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	wasm := greeter(t, "1.0.0")
	setup := newHome(t)
	writeFile(t, setup, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+dir+"'\nenabled = true\n")
	env(t, setup, nil, 0, "plugins", "publish", writeFile(t, src, "g.wasm", string(wasm)), "team/greeter@1.0.0")

	var stall atomic.Bool
	srv, cert := indexHTTPS(t, dir, &stall)
	tls := []string{"SSL_CERT_FILE=" + cert}

	type tc struct {
		name, toml string
		args       []string
		code       int
		kind, want string
		before     func(t *testing.T, home string)
	}
	badIndex := t.TempDir()
	os.MkdirAll(filepath.Join(badIndex, "greeter/1.0.0"), 0o755)
	os.WriteFile(filepath.Join(badIndex, "greeter/1.0.0/greeter.wasm"), wasm, 0o644)
	os.WriteFile(filepath.Join(badIndex, "index.json"), []byte(`{"schema":1,"plugins":{"greeter":{"versions":{"1.0.0":
		{"url":"greeter/1.0.0/greeter.wasm","sha256":"`+strings.Repeat("0", 64)+`","size":`+jsonNumber(len(wasm))+`}}}}}`), 0o644)
	reg := func(url, extra string) string {
		return "[[registries]]\nname = 'team'\nurl = '" + url + "'\nenabled = true\n" + extra
	}
	cases := []tc{
		{name: "bad sha256 in index", toml: reg("file://"+badIndex, ""), args: []string{"plugins", "install", "team/greeter"}, code: 2,
			kind: "integrity", want: "registry team: greeter@1.0.0: the bytes received have sha256 " + sha(wasm) + ", not the " + strings.Repeat("0", 64) + " index.json gives"},
		{name: "over max_plugin_size", toml: "[security]\nmax_plugin_size = 1000\n" + reg("file://"+dir, ""), args: []string{"plugins", "install", "team/greeter"},
			code: 2, kind: "too-large", want: "over max_plugin_size of 1000 bytes"},
		{name: "stalled server", toml: reg(srv.URL, "timeout_secs = 0.5\n"), args: []string{"plugins", "install", "team/greeter"}, code: 1,
			kind: "timeout", want: "the download stalled: nothing arrived for 500ms (timeout_secs)",
			before: func(*testing.T, string) { stall.Store(true) }},
		{name: "registry down", toml: reg("https://127.0.0.1:1/idx", ""), args: []string{"plugins", "install", "team/greeter"}, code: 1,
			kind: "unreachable", want: "connection refused"},
		{name: "not found", toml: reg("file://"+dir, ""), args: []string{"plugins", "install", "team/nosuch"}, code: 2,
			kind: "not-found", want: "registry team: nosuch: no plugin nosuch in index.json"},
		{name: "no such version", toml: reg("file://"+dir, ""), args: []string{"plugins", "install", "team/greeter@3.0.0"}, code: 2,
			kind: "not-found", want: "no version 3.0.0 (versions: 1.0.0)"},
		{name: "unknown registry", toml: reg("file://"+dir, ""), args: []string{"plugins", "install", "elsewhere/greeter"}, code: 2,
			kind: "usage", want: `elsewhere/greeter: no such file, and "elsewhere" is not a configured registry (registries: team)`},
		{name: "disabled registry", toml: "[[registries]]\nname = 'team'\nurl = 'file://" + dir + "'\n", args: []string{"plugins", "install", "team/greeter"}, code: 2,
			kind: "usage", want: "registry team is disabled: set enabled = true"},
		{name: "malformed lock", toml: reg("file://"+dir, ""), args: []string{"plugins", "list"}, code: 2, kind: "lock",
			want: "plugins.lock:3: plugins.x.sha256: \"zz\" is not a SHA-256 digest",
			before: func(t *testing.T, home string) {
				writeFile(t, home, "plugins.lock", "version = 1\n[plugins.x]\nsha256 = 'zz'\nsource = 'file'\nref = 'file:///x'\nsize = 1\n")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stall.Store(false)
			home := newHome(t)
			writeFile(t, home, "plugins.toml", c.toml)
			if c.before != nil {
				c.before(t, home)
			}
			start := time.Now()
			e := errorOf(t, envJSON(t, home, tls, c.code, c.args...), c.kind)
			contains(t, c.name, e["message"].(string), c.want)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %s", d)
			}
			if c.kind == "lock" && (e["line"] != float64(3) || e["file"] != filepath.Join(home, "plugins.lock")) {
				t.Errorf("lock error without file and line: %v", e)
			}
			if entries, _ := os.ReadDir(filepath.Join(home, "plugins")); len(entries) != 0 {
				t.Errorf("plugins/ holds %v", entries)
			}
		})
	}

	// Over HTTPS, with the server's certificate trusted, it installs.
	home := newHome(t)
	writeFile(t, home, "plugins.toml", reg(srv.URL, ""))
	env(t, home, tls, 0, "plugins", "install", "team/greeter")
	// Without it, TLS verification refuses the server.
	home = newHome(t)
	writeFile(t, home, "plugins.toml", reg(srv.URL, ""))
	e := errorOf(t, runJSON(t, home, 1, "plugins", "install", "team/greeter"), "unreachable")
	contains(t, "untrusted", e["message"].(string), "certificate")
}

// TestLockNamesMissingPlugin: verify reports a plugin the lock names but
// the home lacks; install (no argument) brings it back; a lock whose
// source changed its bytes is refused.
func TestLockNamesMissingPlugin(t *testing.T) {
	home := newHome(t)
	src := writeFile(t, t.TempDir(), "greeter.wasm", string(greeter(t, "1.0.0")))
	runCLI(t, home, 0, "plugins", "install", src)
	os.Remove(filepath.Join(home, "plugins", "greeter.wasm"))
	r := runCLI(t, home, 1, "plugins", "verify")
	contains(t, "verify", r.stdout, "greeter: MISMATCH: "+filepath.Join(home, "plugins", "greeter.wasm")+" is missing (plugins.lock names it")
	r = runCLI(t, home, 0, "plugins", "list")
	contains(t, "list", r.stdout, "warning: plugins.lock names greeter, which is not installed: `driftless plugins install` installs it")
	r = runCLI(t, home, 0, "plugins", "install")
	contains(t, "install", r.stdout, "greeter 1.0.0: installed")
	runCLI(t, home, 0, "plugins", "verify")
	// Bytes appended: another size.
	path := filepath.Join(home, "plugins", "greeter.wasm")
	good, _ := os.ReadFile(path)
	os.WriteFile(path, append(append([]byte{}, good...), "more"...), 0o644)
	r = runCLI(t, home, 1, "plugins", "verify")
	contains(t, "verify longer", r.stdout, fmt.Sprintf("greeter: MISMATCH: %s is %d bytes, plugins.lock pins %d bytes with sha256 %s", path, len(good)+4, len(good), sha(good)))
	runCLI(t, home, 0, "plugins", "install")
	runCLI(t, home, 0, "plugins", "verify")

	// The local source changed: the lock refuses the new bytes.
	os.Remove(filepath.Join(home, "plugins", "greeter.wasm"))
	os.WriteFile(src, greeter(t, "2.0.0"), 0o644)
	e := errorOf(t, runJSON(t, home, 2, "plugins", "install"), "integrity")
	contains(t, "changed source", e["message"].(string), "plugin greeter: the bytes fetched from file://"+src+" have sha256 "+sha(greeter(t, "2.0.0")),
		"but plugins.lock pins "+sha(greeter(t, "1.0.0")))
	nothingStaged(t, home)
	if _, err := os.Stat(filepath.Join(home, "plugins", "greeter.wasm")); !os.IsNotExist(err) {
		t.Error("the changed bytes were installed")
	}
}

// TestConcurrentInstalls: two installs at once both end up in the lock; an
// install waits (saying so) while another driftless holds the home.
func TestConcurrentInstalls(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, n := range []string{"one", "two", "three", "four"} {
		f := writeFile(t, dir, n+".wasm", string(greeter(t, "1.0.0")))
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, "plugins", "install", f)
			cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("install %s: %v\n%s", n, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if names := readLock(t, home).Names(); strings.Join(names, ",") != "four,one,three,two" {
		t.Fatalf("lock names %v", names)
	}

	l, err := pluginstore.Open(home).Lock(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "plugins", "install", writeFile(t, dir, "five.wasm", string(greeter(t, "1.0.0"))))
	cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home)
	var out bytes.Buffer
	errb := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &out, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errb.String(), "waiting for another driftless that is changing "+home) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(home, "plugins", "five.wasm")); err == nil {
		t.Error("installed while the home was locked")
	}
	l.Unlock()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errb.String())
	}
	contains(t, "waiting install", errb.String(), "waiting for another driftless")
	contains(t, "waiting install", out.String(), "installed five")
}

// TestKilledInstall: an install killed in the middle of a download leaves
// nothing installed; what it staged is removed by the next install. One
// interrupted with ctrl-C stops at once and removes its staging file itself.
func TestKilledInstall(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	setup := newHome(t)
	writeFile(t, setup, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+dir+"'\nenabled = true\n")
	env(t, setup, nil, 0, "plugins", "publish", writeFile(t, src, "g.wasm", string(greeter(t, "1.0.0"))), "team/greeter@1.0.0")
	var stall atomic.Bool
	stall.Store(true)
	srv, cert := indexHTTPS(t, dir, &stall)

	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			home := newHome(t)
			writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = '"+srv.URL+"'\nenabled = true\ntimeout_secs = 600\n")
			cmd := exec.Command(binary, "-o", "json", "plugins", "install", "team/greeter")
			cmd.Env = append(os.Environ(), "DRIFTLESS_HOME="+home, "SSL_CERT_FILE="+cert)
			var out bytes.Buffer
			cmd.Stdout = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			staged := func() []string {
				m, _ := filepath.Glob(filepath.Join(home, "plugins", ".install-*", "greeter.wasm"))
				return m
			}
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if m := staged(); len(m) == 1 {
					if st, err := os.Stat(m[0]); err == nil && st.Size() > 0 {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(staged()) != 1 {
				t.Fatal("the download never started")
			}
			cmd.Process.Signal(sig)
			start := time.Now()
			err := cmd.Wait()
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s to stop", d)
			}
			if _, err := os.Stat(filepath.Join(home, "plugins", "greeter.wasm")); err == nil {
				t.Fatal("a killed install installed the plugin")
			}
			if len(readLock(t, home).Plugins) != 0 {
				t.Error("a killed install wrote a lock entry")
			}
			if sig == syscall.SIGINT {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
					t.Errorf("exit %v", err)
				}
				contains(t, "interrupted", out.String(), `"kind": "cancelled"`)
				nothingStaged(t, home)
				return
			}
			if len(staged()) != 1 {
				t.Fatal("SIGKILL left no staging file: the test proves nothing")
			}
			// The next install removes it before doing anything else.
			stall.Store(false)
			defer stall.Store(true)
			env(t, home, []string{"SSL_CERT_FILE=" + cert}, 0, "plugins", "install", "team/greeter")
			nothingStaged(t, home)
		})
	}
}

// TestREADMEUsingIt runs the registry commands of README.md's "Using it"
// with the JavaScript example: publish to a directory registry, install
// from it, and use the plugin.
func TestREADMEUsingIt(t *testing.T) {
	wasm := builtexample.Path(t, "js-plugin")
	home := newHome(t)
	registryDir := t.TempDir()
	writeFile(t, home, "plugins.toml", "[[registries]]\nname = \"team\"\nurl = \"file://"+registryDir+"\"\nenabled = true\n")
	r := runCLI(t, home, 0, "plugins", "publish", wasm, "team/js-plugin@0.1.0")
	contains(t, "publish", r.stdout, "published js-plugin 0.1.0 to registry team (file://"+registryDir+"/js-plugin/0.1.0/js-plugin.wasm)")
	r = runCLI(t, home, 0, "plugins", "install", "team/js-plugin")
	contains(t, "install", r.stdout, "installed js-plugin 0.1.0 (component) from registry team")
	if e, ok := readLock(t, home).Get("js-plugin"); !ok || e.Registry != "team" {
		t.Errorf("lock entry %+v", e)
	}
	r = runCLI(t, home, 0, "plugins", "list")
	contains(t, "list", r.stdout, "js-plugin", "team", "sha256:")
	runCLI(t, home, 0, "plugins", "inspect", "js-plugin")
	r = runCLI(t, home, 0, "task", "run", "js-plugin.set-value", "--config", `{"key":"motd","value":"hi","current":"bye"}`, "--check")
	contains(t, "task run", r.stdout, "changed")
}

// The progress bar of a download, as a terminal shows it; none when
// stderr is not a terminal or the output is JSON.
func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := &progressBar{w: &b, label: "downloading greeter 1.0.0", total: 2 << 20}
	p.update(512 << 10)
	p.update(600 << 10) // within 100 ms: not redrawn
	p.update(2 << 20)   // the end is always drawn
	p.done()
	want := "\rdownloading greeter 1.0.0: 512.0 KiB of 2.0 MiB  25%\x1b[K" +
		"\rdownloading greeter 1.0.0: 2.0 MiB of 2.0 MiB 100%\x1b[K\r\x1b[K"
	if b.String() != want {
		t.Errorf("drew %q\nwant %q", b.String(), want)
	}
	a := &app{stderr: &b}
	if a.progress("x", 1) != nil {
		t.Error("a progress bar on a buffer")
	}
	var none *progressBar
	none.update(1) // a nil bar draws nothing
	none.done()
}

// TestInstallSpecialFiles: a FIFO or a device given to install is refused
// at once (never opened for a blocking read, never copied without bound).
func TestInstallSpecialFiles(t *testing.T) {
	home := newHome(t)
	fifo := filepath.Join(t.TempDir(), "fifo.wasm")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	for f, kind := range map[string]string{fifo: "a named pipe (FIFO)", "/dev/zero": "a character device"} {
		start := time.Now()
		e := errorOf(t, runJSON(t, home, 2, "plugins", "install", f, "--name", "x"), "usage")
		contains(t, f, e["message"].(string), f+" is "+kind+", not a regular file")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %s", f, d)
		}
	}
	nothingStaged(t, home)
}

// TestPublishChecks: publish validates first (an invalid plugin reaches no
// registry), refuses a bad target, and replaces a version only with
// --force.
func TestPublishChecks(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	src := t.TempDir()
	writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+dir+"'\nenabled = true\n")
	good := writeFile(t, src, "greeter.wasm", string(greeter(t, "1.0.0")))
	bad := writeFile(t, src, "bad.wasm", "not a plugin")
	cases := []struct {
		name string
		args []string
		kind string
		want string
	}{
		{"invalid plugin", []string{bad, "team/bad@1.0.0"}, "load", "plugin bad: load: not a WebAssembly file"},
		{"no version", []string{good, "team/greeter"}, "usage", `"team/greeter" is not REGISTRY/NAME@VERSION`},
		{"bad name", []string{good, "team/..evil@1.0.0"}, "usage", `invalid plugin name "..evil"`},
		{"unknown registry", []string{good, "elsewhere/greeter@1.0.0"}, "usage", `no registry "elsewhere" in ` + filepath.Join(home, "plugins.toml") + " (registries: team)"},
		{"missing file", []string{filepath.Join(src, "nosuch.wasm"), "team/greeter@1.0.0"}, "usage", "cannot read " + filepath.Join(src, "nosuch.wasm")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := errorOf(t, runJSON(t, home, 2, append([]string{"plugins", "publish"}, c.args...)...), c.kind)
			contains(t, c.name, e["message"].(string), c.want)
			if _, err := os.Stat(filepath.Join(dir, "index.json")); !os.IsNotExist(err) {
				t.Errorf("the registry has an index after a refused publish: %v", err)
			}
		})
	}

	runCLI(t, home, 0, "plugins", "publish", good, "team/greeter@1.0.0")
	newer := writeFile(t, src, "greeter2.wasm", string(greeter(t, "1.0.1")))
	e := errorOf(t, runJSON(t, home, 2, "plugins", "publish", newer, "team/greeter@1.0.0"), "exists")
	contains(t, "republish", e["message"].(string), "registry team: greeter@1.0.0: this version is already published (--force replaces it)")
	doc := runJSON(t, home, 0, "plugins", "publish", newer, "team/greeter@1.0.0", "--force")
	if doc["sha256"] != sha(greeter(t, "1.0.1")) {
		t.Fatalf("publish --force: %v", doc)
	}
	runCLI(t, home, 0, "plugins", "install", "team/greeter")
	r := runCLI(t, home, 0, "task", "run", "greeter.hello")
	contains(t, "run replaced", r.stdout, "hello from 1.0.1")
	// install refuses to replace an installed plugin without --force.
	e = errorOf(t, runJSON(t, home, 2, "plugins", "install", "team/greeter"), "usage")
	contains(t, "install again", e["message"].(string), "plugin greeter is already installed", "use --force to replace it")
	doc = runJSON(t, home, 0, "plugins", "install", "team/greeter", "--force")
	if doc["replaced"] != true {
		t.Errorf("install --force: %v", doc)
	}
}

// TestVerifySignatures: verify checks each plugin's kept signature
// against its registry's key as plugins.toml sets it now, and names what
// no longer holds.
func TestVerifySignatures(t *testing.T) {
	dir := t.TempDir()
	keys := t.TempDir()
	priv, pub := keyPair(t, keys, "team")
	_, otherPub := keyPair(t, keys, "other")
	src := writeFile(t, t.TempDir(), "g.wasm", string(greeter(t, "1.0.0")))
	signed := "[[registries]]\nname = 'team'\nurl = 'file://" + dir + "'\nenabled = true\npublic_key = '" + pub + "'\n"
	setup := newHome(t)
	writeFile(t, setup, "plugins.toml", signed)
	env(t, setup, []string{"COSIGN_PASSWORD=pw"}, 0, "plugins", "publish", src, "team/greeter@1.0.0", "--key", priv)
	open := "[[registries]]\nname = 'team'\nurl = 'file://" + dir + "'\nenabled = true\n"

	cases := []struct {
		name        string
		installWith string // plugins.toml at install time
		change      func(t *testing.T, home string)
		want        string
	}{
		{"kept signature removed", signed, func(t *testing.T, home string) {
			os.Remove(filepath.Join(home, "signatures", "greeter.json"))
		}, "greeter: MISMATCH: the signature that verified it is not kept"},
		{"kept signature altered", signed, func(t *testing.T, home string) {
			p := filepath.Join(home, "signatures", "greeter.json")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(data, []byte(`"`), []byte(`'`), 1), 0o644)
		}, "greeter: MISMATCH: the kept signature is unreadable"},
		{"registry key changed", signed, func(t *testing.T, home string) {
			writeFile(t, home, "plugins.toml", strings.Replace(signed, pub, otherPub, 1))
		}, "greeter: MISMATCH: signature check with " + otherPub},
		{"registry key added after install", open, func(t *testing.T, home string) {
			writeFile(t, home, "plugins.toml", signed)
		}, "greeter: MISMATCH: installed without a signature, but registry team requires one by " + pub},
		{"registry key dropped", signed, func(t *testing.T, home string) {
			writeFile(t, home, "plugins.toml", open)
		}, "greeter: MISMATCH: plugins.lock says key sha256:"},
		{"registry no longer configured", signed, func(t *testing.T, home string) {
			writeFile(t, home, "plugins.toml", "")
		}, "greeter: MISMATCH: installed from registry team, which"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := newHome(t)
			writeFile(t, home, "plugins.toml", c.installWith)
			runCLI(t, home, 0, "plugins", "install", "team/greeter")
			runCLI(t, home, 0, "plugins", "verify")
			c.change(t, home)
			r := runCLI(t, home, 1, "plugins", "verify")
			contains(t, c.name, r.stdout, c.want)
			doc := runJSON(t, home, 1, "plugins", "verify")
			if doc["ok"] != false {
				t.Errorf("verify JSON: %v", doc)
			}
		})
	}
}

// TestUpdateBadInput: update names what it cannot update.
func TestUpdateBadInput(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+dir+"'\nenabled = true\n")
	local := writeFile(t, t.TempDir(), "local.wasm", string(greeter(t, "1.0.0")))
	runCLI(t, home, 0, "plugins", "install", local)
	runCLI(t, home, 0, "plugins", "publish", local, "team/greeter@1.0.0")
	runCLI(t, home, 0, "plugins", "install", "team/greeter")
	cases := []struct {
		name string
		args []string
		code int
		kind string
		want string
	}{
		{"not installed", []string{"nosuch"}, 2, "not-found", "plugin nosuch: update: not in plugins.lock"},
		{"installed from a file", []string{"local"}, 2, "usage", "plugin local was installed from file://" + local + ", not from a registry"},
		{"no such version", []string{"greeter@9.0.0"}, 2, "not-found", "registry team: greeter@9.0.0: no version 9.0.0 (versions: 1.0.0)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := errorOf(t, runJSON(t, home, c.code, append([]string{"plugins", "update"}, c.args...)...), c.kind)
			contains(t, c.name, e["message"].(string), c.want)
			if en, _ := readLock(t, home).Get("greeter"); en.Version != "1.0.0" {
				t.Errorf("the lock changed: %+v", en)
			}
		})
	}
	// Several names at once, and no name: every plugin from a registry.
	runCLI(t, home, 0, "plugins", "publish", writeFile(t, t.TempDir(), "g.wasm", string(greeter(t, "1.1.0"))), "team/greeter@1.1.0")
	runCLI(t, home, 0, "plugins", "install", "team/greeter@1.0.0", "--name", "second")
	r := runCLI(t, home, 0, "plugins", "update", "--check")
	contains(t, "update --check", r.stdout, "greeter 1.0.0 → 1.1.0 available (registry team)", "second 1.0.0 → 1.1.0 available (registry team)")
	if strings.Contains(r.stdout, "local") {
		t.Errorf("update --check lists a plugin installed from a file:\n%s", r.stdout)
	}
	// Several names, one failing: the others are still updated; exit 1,
	// each failure named in the report.
	r = runCLI(t, home, 1, "plugins", "update", "second@9.0.0", "greeter")
	contains(t, "update two, one failing", r.stdout,
		"second 1.0.0: not updated: registry team: greeter@9.0.0: no version 9.0.0", "updated greeter 1.0.0 → 1.1.0")
	contains(t, "update two, one failing", r.stderr, "1 of 2 plugins could not be updated")
	if e, _ := readLock(t, home).Get("second"); e.Version != "1.0.0" {
		t.Errorf("the failed update changed the lock: %+v", e)
	}
	doc := runJSON(t, home, 1, "plugins", "update", "second@9.0.0", "greeter")
	items := doc["plugins"].([]any)
	if first := items[0].(map[string]any); first["status"] != "failed" || first["error"].(map[string]any)["kind"] != "not-found" {
		t.Errorf("update -o json, failing plugin: %v", first)
	}
	if second := items[1].(map[string]any); second["status"] != "up-to-date" {
		t.Errorf("update -o json, other plugin: %v", second)
	}
	r = runCLI(t, home, 0, "plugins", "update", "greeter", "second")
	contains(t, "update two", r.stdout, "greeter 1.1.0: up to date", "updated second 1.0.0 → 1.1.0")

	// 1.1.0 withdrawn from the index: update never downgrades on its own.
	path := filepath.Join(dir, "index.json")
	data, _ := os.ReadFile(path)
	var idx map[string]any
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	delete(idx["plugins"].(map[string]any)["greeter"].(map[string]any)["versions"].(map[string]any), "1.1.0")
	data, _ = json.Marshal(idx)
	os.WriteFile(path, data, 0o644)
	for _, args := range [][]string{{"--check"}, {}} {
		r = runCLI(t, home, 0, append([]string{"plugins", "update"}, args...)...)
		contains(t, "update after a withdrawal", r.stdout,
			"greeter 1.1.0: kept: newer than 1.0.0, the newest in registry team (`plugins update greeter@1.0.0` installs that)")
		if e, _ := readLock(t, home).Get("greeter"); e.Version != "1.1.0" {
			t.Fatalf("update downgraded: %+v", e)
		}
	}
	r = runCLI(t, home, 0, "plugins", "update", "greeter@1.0.0")
	contains(t, "asked downgrade", r.stdout, "updated greeter 1.1.0 → 1.0.0")
}

// TestRegistryStaticHTTP: a static index on a plain HTTP server (a real
// one, on loopback) is used only with insecure = true.
func TestRegistryStaticHTTP(t *testing.T) {
	dir := t.TempDir()
	setup := newHome(t)
	writeFile(t, setup, "plugins.toml", "[[registries]]\nname = 'team'\nurl = 'file://"+dir+"'\nenabled = true\n")
	env(t, setup, nil, 0, "plugins", "publish", writeFile(t, t.TempDir(), "g.wasm", string(greeter(t, "1.0.0"))), "team/greeter@1.0.0")
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	t.Run("without insecure", func(t *testing.T) {
		home := newHome(t)
		writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = '"+srv.URL+"/'\nenabled = true\n")
		e := errorOf(t, runJSON(t, home, 2, "plugins", "install", "team/greeter"), "config")
		contains(t, "plain http", e["message"].(string), filepath.Join(home, "plugins.toml")+`: registries[0].url: "`+srv.URL+`/" is plain HTTP: set insecure = true to allow it`)
		if entries, _ := os.ReadDir(filepath.Join(home, "plugins")); len(entries) != 0 {
			t.Errorf("plugins/ holds %v", entries)
		}
	})
	t.Run("with insecure", func(t *testing.T) {
		home := newHome(t)
		writeFile(t, home, "plugins.toml", "[[registries]]\nname = 'team'\nurl = '"+srv.URL+"/'\nenabled = true\ninsecure = true\n")
		r := runCLI(t, home, 0, "plugins", "search")
		contains(t, "search", r.stdout, "greeter", "1.0.0")
		doc := runJSON(t, home, 0, "plugins", "install", "team/greeter")
		if doc["source"].(map[string]any)["sha256"] != sha(greeter(t, "1.0.0")) {
			t.Fatalf("install: %v", doc)
		}
		runCLI(t, home, 0, "plugins", "verify")
		r = runCLI(t, home, 0, "task", "run", "greeter.hello")
		contains(t, "run", r.stdout, "hello from 1.0.0")
	})
}
