package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Discovery: plugins/*.wasm of the plugin home, named after the file; a
// broken file is listed with a readable error and never stops the others.
func TestLoadAllBrokenFiles(t *testing.T) {
	h, _ := testHost(t, "[security]\nmax_plugin_size = 100000\n", false)
	ctx := context.Background()

	// No plugin directory: no plugins, no error.
	if ps, err := h.LoadAll(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("without a plugin directory: %v, %v", ps, err)
	}
	_, err := h.Plugin("good")
	wantError(t, err, KindNotFound, "plugin good: no such plugin (no plugins are loaded from "+h.PluginDir()+")")

	dir := h.PluginDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	good := fixture{name: "good"}.wasm(t)
	for name, data := range map[string][]byte{
		"good.wasm":      good,
		"also-good.wasm": good,
		"empty.wasm":     {},
		"truncated.wasm": []byte("\x00asm\x01"),
		"text.wasm":      []byte("#!/bin/sh\necho I am not WebAssembly\n"),
		"huge.wasm":      append(append([]byte(nil), good...), make([]byte, 100001-len(good))...),
		"half.wasm":      good[:len(good)/2],
		"garbage.wasm":   []byte("\x00asm\x0d\x00\x01\x00\xff\xff\xff"),
		"future.wasm":    []byte("\x00asm\x02\x00\x00\x00"),
		"bad.name.wasm":  good,
		"notes.txt":      []byte("not a plugin: ignored"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.wasm"), 0o755); err != nil {
		t.Fatal(err)
	}
	ps, err := h.LoadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"also-good": "",
		"bad.name": `plugin bad.name: load: invalid plugin name "bad.name": use letters, digits, '-' and '_', ` +
			"starting with a letter or digit, at most 128 characters",
		"empty":     "plugin empty: load: file is empty",
		"folder":    "plugin folder: load: " + filepath.Join(dir, "folder.wasm") + " is a directory, not a regular file",
		"future":    "plugin future: load: unsupported WebAssembly binary (version 2, layer 0): neither a core module nor a component",
		"garbage":   "plugin garbage: load: not a valid component: failed to parse WebAssembly module: malformed section id (at offset 0x8)",
		"good":      "",
		"half":      "plugin half: load: not a valid component: failed to parse WebAssembly module: wasm component contains an invalid module section: ",
		"huge":      "plugin huge: load: file is 100001 bytes, over max_plugin_size of 100000 bytes",
		"text":      `plugin text: load: not a WebAssembly file (no \0asm header)`,
		"truncated": "plugin truncated: load: file is truncated: 5 bytes, shorter than a WebAssembly header",
	}
	if len(ps) != len(want) || len(h.Plugins()) != len(want) {
		t.Errorf("LoadAll returned %d plugins and lists %d; want %d", len(ps), len(h.Plugins()), len(want))
	}
	for i, p := range h.Plugins() {
		if i > 0 && h.Plugins()[i-1].Name() >= p.Name() {
			t.Errorf("Plugins() is not in name order")
		}
		w, ok := want[p.Name()]
		switch {
		case !ok:
			t.Errorf("unexpected plugin %s", p.Name())
		case w == "" && p.Err() != nil:
			t.Errorf("%s: %v", p.Name(), p.Err())
		case w == "":
			echo(t, p, p.Name())
		case p.Err() == nil:
			t.Errorf("%s loaded", p.Name())
		case p.Name() == "half":
			wantErrorPrefix(t, p.Err(), KindLoad, w)
		default:
			wantError(t, p.Err(), KindLoad, w)
		}
		if w != "" {
			// Calls return the load error.
			if _, err := p.ExecuteTask(ctx, "echo", "{}", false); err != p.Err() {
				t.Errorf("%s: a call returned %v", p.Name(), err)
			}
			if q, err := h.Plugin(p.Name()); q != p || err != p.Err() {
				t.Errorf("%s: Plugin() = %v, %v", p.Name(), q, err)
			}
		}
	}
	if p, _ := h.Plugin("good"); p.ABI() != ABIComponent || p.Path() != filepath.Join(dir, "good.wasm") || p.Size() != len(good) ||
		len(p.SHA256()) != 64 || p.Info().Name != "good" || strings.Join(p.Provides(), ",") != "tasks" {
		t.Errorf("good: abi %q path %q size %d sha %q info %+v provides %v", p.ABI(), p.Path(), p.Size(), p.SHA256(), p.Info(), p.Provides())
	}
	_, err = h.Plugin("nope")
	wantErrorPrefix(t, err, KindNotFound, "plugin nope: no such plugin (loaded: also-good, bad.name, empty, ")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is(ErrNotFound) is false for %v", err)
	}
}

// A named pipe, a socket or a device named x.wasm in plugins/ is listed
// with an error saying what it is, without blocking: opening a FIFO for
// reading waits for a writer, and /dev/zero never ends.
func TestLoadAllSpecialFiles(t *testing.T) {
	h, _ := testHost(t, "", false)
	dir := h.PluginDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.wasm")); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "sock.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.WriteFile(filepath.Join(dir, "good.wasm"), fixture{name: "good"}.wasm(t), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.LoadAll(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("LoadAll blocked on a special file")
	}
	for name, what := range map[string]string{
		"fifo": "a named pipe (FIFO)", "zero": "a character device", "sock": "a socket",
	} {
		_, err := h.Plugin(name)
		wantError(t, err, KindLoad, fmt.Sprintf("plugin %s: load: %s is %s, not a regular file", name, filepath.Join(dir, name+".wasm"), what))
	}
	if _, err := h.Plugin("good"); err != nil {
		t.Errorf("good: %v", err)
	}
	// Validate (plugins validate, plugins install) refuses them too.
	_, err = h.Validate(context.Background(), filepath.Join(dir, "fifo.wasm"))
	wantError(t, err, KindLoad, "plugin fifo: load: "+filepath.Join(dir, "fifo.wasm")+" is a named pipe (FIFO), not a regular file")
}

// A core module goes to the legacy adapter; one that is not valid wasm
// fails to load there, listed like any broken plugin.
func TestLoadBrokenCoreModule(t *testing.T) {
	h, _ := testHost(t, "", false)
	p, err := h.LoadBytes(context.Background(), "badcore", []byte("\x00asm\x01\x00\x00\x00\xff\xff\xff"))
	wantErrorPrefix(t, err, KindLoad, "plugin badcore: load: ")
	if p == nil || p.ABI() != ABILegacy || p.Err() != err {
		t.Fatalf("plugin %+v", p)
	}
}

// Loading bytes, and the size cap, which a plugin may have of its own.
func TestLoadBytesAndSize(t *testing.T) {
	h, _ := testHost(t, "[security]\nmax_plugin_size = 1000\n[plugins.roomy]\nmax_plugin_size = 1000000\n", false)
	ctx := context.Background()
	wasm := fixture{name: "x"}.wasm(t)
	_, err := h.LoadBytes(ctx, "cramped", wasm)
	wantError(t, err, KindLoad, "plugin cramped: load: file is "+strconv.Itoa(len(wasm))+" bytes, over max_plugin_size of 1000 bytes")
	if _, err := h.LoadBytes(ctx, "roomy", wasm); err != nil {
		t.Fatal(err)
	}
	_, err = h.LoadBytes(ctx, "", wasm)
	wantError(t, err, KindLoad, `plugin : load: invalid plugin name "": use letters, digits, '-' and '_', starting with a letter or digit, at most 128 characters`)
	_, err = h.LoadBytes(ctx, "nothing", nil)
	wantError(t, err, KindLoad, "plugin nothing: load: file is empty")

	// The same name again replaces the plugin; Unload forgets it.
	p1, _ := h.Plugin("roomy")
	p2, err := h.LoadBytes(ctx, "roomy", fixture{name: "second"}.wasm(t))
	if err != nil || p2 == p1 {
		t.Fatal(err)
	}
	if p, _ := h.Plugin("roomy"); p.Info().Name != "second" {
		t.Errorf("roomy is %q after reloading", p.Info().Name)
	}
	if _, err := p1.ExecuteTask(ctx, "echo", "{}", false); err == nil || err.Error() != "plugin roomy: tasks.execute: plugin was unloaded" {
		t.Errorf("a call into the replaced plugin: %v", err)
	}
	h.Unload("roomy")
	if _, err := h.Plugin("roomy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Unload: %v", err)
	}
}

// Validate checks a file without registering it.
func TestValidate(t *testing.T) {
	h, _ := testHost(t, "", false)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.wasm"), filepath.Join(dir, "bad.wasm")
	if err := os.WriteFile(good, fixture{name: "good"}.wasm(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, fixture{name: "bad", noMetadata: true}.wasm(t), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := h.Validate(context.Background(), good)
	if err != nil || p.Tasks()[0].Name != "echo" {
		t.Fatalf("validate good: %v", err)
	}
	_, err = h.Validate(context.Background(), bad)
	wantError(t, err, KindLoad, "plugin bad: load: the component does not export driftless:plugin/metadata@0.1.0, which every plugin must")
	if len(h.Plugins()) != 0 {
		t.Errorf("Validate registered %d plugins", len(h.Plugins()))
	}
}
