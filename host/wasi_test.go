package host

// What a plugin reaches through WASI: a sealed context by default; with
// allow_wasi, the environment and directories plugins.toml grants it.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// envFixture's "evil" task returns its WASI environment as a JSON array of
// "NAME=value" strings (values must not need JSON escapes).
func envFixture(name string) fixture {
	return fixture{
		name: name,
		imports: `
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))))`,
		lowers: `
  (core func $get-env (canon lower (func $env "get-environment") (memory $libc "memory") (realloc (func $libc "realloc"))))`,
		coreImports: `(import "ext" "get-env" (func $get-env (param i32)))`,
		extExports:  `(export "get-env" (func $get-env))`,
		funcs:       funcsOutput,
		evil: `(local $list i32) (local $n i32) (local $i i32) (local $e i32)
	  (call $get-env (i32.const 512))
	  (local.set $list (i32.load (i32.const 512)))
	  (local.set $n (i32.load (i32.const 516)))
	  (call $out-start)
	  (call $putc (i32.const 91))
	  (block $done (loop $next
	    (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
	    (if (local.get $i) (then (call $putc (i32.const 44))))
	    (local.set $e (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 16))))
	    (call $putc (i32.const 34))
	    (call $put (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)))
	    (call $putc (i32.const 61))
	    (call $put (i32.load offset=8 (local.get $e)) (i32.load offset=12 (local.get $e)))
	    (call $putc (i32.const 34))
	    (local.set $i (i32.add (local.get $i) (i32.const 1)))
	    (br $next)))
	  (call $putc (i32.const 93))
	  (call $ok (global.get $out) (global.get $outlen))`,
	}
}

// funcsOutput builds an answer in an 8 KiB buffer from the heap.
const funcsOutput = `
    (global $out (mut i32) (i32.const 0))
    (global $outlen (mut i32) (i32.const 0))
    (func $out-start
      (global.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8192)))
      (global.set $outlen (i32.const 0)))
    (func $put (param $p i32) (param $n i32)
      (memory.copy (i32.add (global.get $out) (global.get $outlen)) (local.get $p) (local.get $n))
      (global.set $outlen (i32.add (global.get $outlen) (local.get $n))))
    (func $putc (param $c i32)
      (i32.store8 (i32.add (global.get $out) (global.get $outlen)) (local.get $c))
      (global.set $outlen (i32.add (global.get $outlen) (i32.const 1))))`

// fileFixture's "evil" task reads secret.json from its first preopened
// directory with wasi:filesystem and returns its content; it fails with
// "no preopened directory" or the WASI error code of open-at or read.
func fileFixture(name string) fixture {
	return fixture{
		name: name,
		imports: `
  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (export "descriptor" (type $d (sub resource)))
    (type $ec' (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock" "quota" "exist"
      "file-too-large" "illegal-byte-sequence" "in-progress" "interrupted" "invalid" "io" "is-directory" "loop"
      "too-many-links" "message-size" "name-too-long" "no-device" "no-entry" "no-lock" "insufficient-memory"
      "insufficient-space" "not-directory" "not-empty" "not-recoverable" "unsupported" "no-tty" "no-such-device"
      "overflow" "not-permitted" "pipe" "read-only" "invalid-seek" "text-file-busy" "cross-device"))
    (export "error-code" (type $ec (eq $ec')))
    (type $pf' (flags "symlink-follow"))
    (export "path-flags" (type $pf (eq $pf')))
    (type $of' (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of (eq $of')))
    (type $df' (flags "read" "write" "file-integrity-sync" "data-integrity-sync" "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $df (eq $df')))
    (type $fsz' u64)
    (export "filesize" (type $fsz (eq $fsz')))
    (export "[method]descriptor.open-at" (func (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string)
      (param "open-flags" $of) (param "flags" $df) (result (result (own $d) (error $ec)))))
    (export "[method]descriptor.read" (func (param "self" (borrow $d)) (param "length" $fsz) (param "offset" $fsz)
      (result (result (tuple (list u8) bool) (error $ec)))))))
  (alias export $fs "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.0" (instance $preopens
    (alias outer 1 $descriptor (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))`,
		lowers: `
  (core func $get-dirs (canon lower (func $preopens "get-directories") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $open-at (canon lower (func $fs "[method]descriptor.open-at") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $read (canon lower (func $fs "[method]descriptor.read") (memory $libc "memory") (realloc (func $libc "realloc"))))`,
		coreImports: `
    (import "ext" "get-dirs" (func $get-dirs (param i32)))
    (import "ext" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "ext" "read" (func $read (param i32 i64 i64 i32)))`,
		extExports: `(export "get-dirs" (func $get-dirs)) (export "open-at" (func $open-at)) (export "read" (func $read))`,
		// 2048 "no preopened directory", 2070 "secret.json",
		// 2081 "open-at failed: " + code, 2110 "read failed: " + code.
		data: `"no preopened directorysecret.jsonopen-at failed: \00\00\00\00\00\00\00\00\00\00\00\00\00read failed: "`,
		evil: `(local $file i32)
	  (call $get-dirs (i32.const 512))
	  (if (i32.eqz (i32.load (i32.const 516)))
	    (then (return (call $fail (i32.const 4) (i32.const 2048) (i32.const 22)))))
	  ;; open-at(first preopen, no path flags, "secret.json", no open flags, read)
	  (call $open-at (i32.load (i32.load (i32.const 512))) (i32.const 0) (i32.const 2070) (i32.const 11)
	    (i32.const 0) (i32.const 1) (i32.const 528))
	  (if (i32.load8_u (i32.const 528))
	    (then (return (call $fail (i32.const 4) (i32.const 2081)
	      (i32.add (i32.const 16) (call $itoa (i32.load8_u (i32.const 532)) (i32.const 2097)))))))
	  (local.set $file (i32.load (i32.const 532)))
	  (call $read (local.get $file) (i64.const 4096) (i64.const 0) (i32.const 576))
	  (if (i32.load8_u (i32.const 576))
	    (then (return (call $fail (i32.const 4) (i32.const 2110)
	      (i32.add (i32.const 13) (call $itoa (i32.load8_u (i32.const 580)) (i32.const 2123)))))))
	  (call $ok (i32.load (i32.const 580)) (i32.load (i32.const 584)))`,
	}
}

func TestWASIEnvironment(t *testing.T) {
	h, _ := testHost(t, `
[security]
allow_wasi = false

[plugins.granted]
allow_wasi = true
env = { LANG = "C", MODE = "test" }

[plugins.allowed]
allow_wasi = true
`, false)
	t.Setenv("SECRET_OF_THE_HOST", "do not leak")
	ctx := context.Background()
	for name, want := range map[string]string{
		"sealed":  `[]`,
		"allowed": `[]`,
		"granted": `["LANG=C","MODE=test"]`,
	} {
		p, err := h.LoadBytes(ctx, name, envFixture(name).wasm(t))
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.ExecuteTask(ctx, "evil", "{}", false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Output != want {
			t.Errorf("%s sees the environment %s, want %s", name, res.Output, want)
		}
	}
}

func TestWASIFilesystem(t *testing.T) {
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "secret.json"), []byte(`{"secret":42}`), 0o644); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	h, _ := testHost(t, fmt.Sprintf(`
[plugins.reader]
allow_wasi = true
dirs = [{ host = %q, guest = "/data", readonly = true }]

[plugins.elsewhere]
allow_wasi = true
dirs = [{ host = %q, guest = "/data" }]

[plugins.allowed]
allow_wasi = true
`, data, other), false)
	ctx := context.Background()
	for _, c := range []struct{ name, output, err string }{
		{"reader", `{"secret":42}`, ""},
		{"elsewhere", "", "plugin elsewhere: tasks.execute: open-at failed: 20"}, // no-entry
		{"allowed", "", "plugin allowed: tasks.execute: no preopened directory"},
		{"sealed", "", "plugin sealed: tasks.execute: no preopened directory"},
	} {
		p, err := h.LoadBytes(ctx, c.name, fileFixture(c.name).wasm(t))
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.ExecuteTask(ctx, "evil", "{}", false)
		if c.err != "" {
			wantError(t, err, KindFailed, c.err)
			continue
		}
		if err != nil || res.Output != c.output {
			t.Errorf("%s: read %q, %v; want %q", c.name, res.Output, err, c.output)
		}
	}
}

// A plugin's WASI stdout and stderr go to the host log, at debug level: shown
// only with debug_enabled.
func TestWASIStdoutToLog(t *testing.T) {
	printer := func(name string) fixture {
		return fixture{
			name: name,
			imports: `
  (import "wasi:io/error@0.2.0" (instance $ioerr
    (export "error" (type (sub resource)))))
  (alias export $ioerr "error" (type $error))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error (type $e))
    (export "error" (type $e2 (eq $e)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e2)) (case "closed")))
    (export "stream-error" (type $se2 (eq $se)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $se2)))))))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $output-stream (type $os))
    (export "output-stream" (type $os2 (eq $os)))
    (export "get-stdout" (func (result (own $os2))))))
  (import "wasi:cli/stderr@0.2.0" (instance $stderr
    (alias outer 1 $output-stream (type $os))
    (export "output-stream" (type $os2 (eq $os)))
    (export "get-stderr" (func (result (own $os2))))))`,
			lowers: `
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $get-stderr (canon lower (func $stderr "get-stderr")))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $libc "memory")))
  (core func $drop-os (canon resource.drop $output-stream))`,
			coreImports: `
    (import "ext" "get-stdout" (func $get-stdout (result i32)))
    (import "ext" "get-stderr" (func $get-stderr (result i32)))
    (import "ext" "write" (func $write (param i32 i32 i32 i32)))
    (import "ext" "drop-os" (func $drop-os (param i32)))`,
			extExports: `(export "get-stdout" (func $get-stdout)) (export "get-stderr" (func $get-stderr))
      (export "write" (func $write)) (export "drop-os" (func $drop-os))`,
			data: `"hello on stdout\0a\1b[31mforged\0apartial"`,
			evil: `(local $h i32)
	  (local.set $h (call $get-stdout))
	  (call $write (local.get $h) (i32.const 2048) (i32.const 16) (i32.const 512))
	  (call $drop-os (local.get $h))
	  (local.set $h (call $get-stderr))
	  (call $write (local.get $h) (i32.const 2064) (i32.const 20) (i32.const 512))
	  (call $drop-os (local.get $h))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`,
		}
	}
	h, rec := testHost(t, "[plugins.loud]\ndebug_enabled = true\n", false)
	ctx := context.Background()
	for _, name := range []string{"loud", "quiet"} {
		p, err := h.LoadBytes(ctx, name, printer(name).wasm(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ExecuteTask(ctx, "evil", "{}", false); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, l := range rec.lines() {
		got = append(got, fmt.Sprintf("%s %s %s", l.Attrs["plugin"], l.Level, l.Msg))
	}
	// The escape sequence is neutralised; "partial" waits for its newline.
	want := []string{"loud DEBUG stdout: hello on stdout", `loud DEBUG stderr: \x1b[31mforged`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log:\n got  %q\n want %q", got, want)
	}
}

// writeFixture's "evil" task creates out.txt in its first preopened
// directory with wasi:filesystem and writes a line to it, whatever check
// mode says; it fails with "no preopened directory" or the WASI error code
// of open-at or write.
func writeFixture(name string) fixture {
	return fixture{
		name: name,
		imports: `
  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (export "descriptor" (type $d (sub resource)))
    (type $ec' (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock" "quota" "exist"
      "file-too-large" "illegal-byte-sequence" "in-progress" "interrupted" "invalid" "io" "is-directory" "loop"
      "too-many-links" "message-size" "name-too-long" "no-device" "no-entry" "no-lock" "insufficient-memory"
      "insufficient-space" "not-directory" "not-empty" "not-recoverable" "unsupported" "no-tty" "no-such-device"
      "overflow" "not-permitted" "pipe" "read-only" "invalid-seek" "text-file-busy" "cross-device"))
    (export "error-code" (type $ec (eq $ec')))
    (type $pf' (flags "symlink-follow"))
    (export "path-flags" (type $pf (eq $pf')))
    (type $of' (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of (eq $of')))
    (type $df' (flags "read" "write" "file-integrity-sync" "data-integrity-sync" "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $df (eq $df')))
    (type $fsz' u64)
    (export "filesize" (type $fsz (eq $fsz')))
    (export "[method]descriptor.open-at" (func (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string)
      (param "open-flags" $of) (param "flags" $df) (result (result (own $d) (error $ec)))))
    (export "[method]descriptor.write" (func (param "self" (borrow $d)) (param "buffer" (list u8)) (param "offset" $fsz)
      (result (result $fsz (error $ec)))))))
  (alias export $fs "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.0" (instance $preopens
    (alias outer 1 $descriptor (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))`,
		lowers: `
  (core func $get-dirs (canon lower (func $preopens "get-directories") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $open-at (canon lower (func $fs "[method]descriptor.open-at") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $write (canon lower (func $fs "[method]descriptor.write") (memory $libc "memory") (realloc (func $libc "realloc"))))`,
		coreImports: `
    (import "ext" "get-dirs" (func $get-dirs (param i32)))
    (import "ext" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "ext" "write" (func $write (param i32 i32 i32 i64 i32)))`,
		extExports: `(export "get-dirs" (func $get-dirs)) (export "open-at" (func $open-at)) (export "write" (func $write))`,
		// 2048 "no preopened directory", 2070 "out.txt", 2077 "open-at
		// failed: " + code at 2093, 2097 "write failed: " + code at 2111,
		// 2115 the line written (33 bytes).
		data: `"no preopened directoryout.txtopen-at failed: \00\00\00\00write failed: \00\00\00\00written by a plugin in check mode"`,
		evil: `(local $file i32)
	  (call $get-dirs (i32.const 512))
	  (if (i32.eqz (i32.load (i32.const 516)))
	    (then (return (call $fail (i32.const 4) (i32.const 2048) (i32.const 22)))))
	  ;; open-at(first preopen, no path flags, "out.txt", create|truncate, write)
	  (call $open-at (i32.load (i32.load (i32.const 512))) (i32.const 0) (i32.const 2070) (i32.const 7)
	    (i32.const 9) (i32.const 2) (i32.const 528))
	  (if (i32.load8_u (i32.const 528))
	    (then (return (call $fail (i32.const 4) (i32.const 2077)
	      (i32.add (i32.const 16) (call $itoa (i32.load8_u (i32.const 532)) (i32.const 2093)))))))
	  (local.set $file (i32.load (i32.const 532)))
	  (call $write (local.get $file) (i32.const 2115) (i32.const 33) (i64.const 0) (i32.const 544))
	  (if (i32.load8_u (i32.const 544))
	    (then (return (call $fail (i32.const 4) (i32.const 2097)
	      (i32.add (i32.const 14) (call $itoa (i32.load8_u (i32.const 552)) (i32.const 2111)))))))
	  (call $ok (local.get $cfg) (local.get $cfg-len))`,
	}
}

// TestCheckModeIsReadOnly: a task in check mode sees every directory it
// was granted read-only, whatever readonly says, so a plugin that ignores
// check mode still changes nothing; outside check mode it writes as
// granted. The instances of both kinds share max_instances.
func TestCheckModeIsReadOnly(t *testing.T) {
	rw, ro := t.TempDir(), t.TempDir()
	h, _ := testHost(t, fmt.Sprintf(`
[plugins.writer]
allow_wasi = true
max_instances = 1
dirs = [{ host = %q, guest = "/data" }]

[plugins.reader]
allow_wasi = true
dirs = [{ host = %q, guest = "/data", readonly = true }]
`, rw, ro), false)
	ctx := context.Background()
	out := filepath.Join(rw, "out.txt")
	writer := load(t, h, writeFixture("writer"))
	reader := load(t, h, writeFixture("reader"))
	written := func() bool {
		t.Helper()
		data, err := os.ReadFile(out)
		if err != nil {
			return false
		}
		if err := os.Remove(out); err != nil {
			t.Fatal(err)
		}
		return string(data) == "written by a plugin in check mode"
	}
	for i, c := range []struct {
		check bool
		write bool
	}{{false, true}, {true, false}, {false, true}, {true, false}, {true, false}, {false, true}} {
		t.Run(fmt.Sprintf("%d/check=%t", i, c.check), func(t *testing.T) {
			_, err := writer.ExecuteTask(ctx, "evil", "{}", c.check)
			if c.write {
				if err != nil || !written() {
					t.Fatalf("outside check mode the task did not write: %v", err)
				}
			} else {
				wantError(t, err, KindFailed, "plugin writer: tasks.execute: open-at failed: 31") // not-permitted
				if written() {
					t.Fatal("the task wrote in check mode")
				}
			}
			if n := writer.rt.(*componentRuntime).pool.size(); n > 1 {
				t.Errorf("%d idle instances with max_instances = 1", n)
			}
		})
	}
	// A read-only grant stays read-only either way.
	for _, check := range []bool{false, true} {
		_, err := reader.ExecuteTask(ctx, "evil", "{}", check)
		wantError(t, err, KindFailed, "plugin reader: tasks.execute: open-at failed: 31")
		if _, err := os.Stat(filepath.Join(ro, "out.txt")); err == nil {
			t.Fatalf("check=%t: wrote into a read-only directory", check)
		}
	}
}
