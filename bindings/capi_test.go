package bindings

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// wasmtimeModule is the module path of the wasmtime-go in go.mod.
const wasmtimeModule = "github.com/bytecodealliance/wasmtime-go/v44"

// wasmtimeInclude returns the include directory of wasmtime-go's bundled C
// headers in the module cache.
func wasmtimeInclude(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", wasmtimeModule).Output()
	if err != nil {
		t.Skipf("cannot locate wasmtime-go in the module cache: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "build", "include")
	if _, err := os.Stat(filepath.Join(dir, "wasmtime.h")); err != nil {
		t.Skipf("no wasmtime headers: %v", err)
	}
	return dir
}

func cc(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CC"), "cc", "gcc", "clang"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no C compiler")
	return ""
}

// The dl_* names stand for wasmtime's own types when capi.h is compiled
// against wasmtime's headers.
const capiCheckPrelude = `#include <wasmtime.h>
#include <wasi.h>
typedef wasm_byte_vec_t dl_bytes_t;
typedef wasm_frame_vec_t dl_frames_t;
typedef wasmtime_component_val_t dl_val_t;
typedef wasmtime_component_valrecord_entry_t dl_field_t;
typedef wasmtime_component_instance_t dl_instance_t;
typedef wasmtime_component_func_t dl_func_t;
typedef wasmtime_component_func_callback_t dl_host_callback_t;
typedef wasmtime_component_resource_destructor_t dl_resource_dtor_t;
typedef wasmtime_component_valtype_t dl_valtype_t;
typedef wasmtime_component_item_t dl_item_t;
#define DL_CAPI_CHECK 1
#include "capi.h"
`

// layoutProgram prints the layouts and constants both sides must agree on;
// the macros name our side's types and fields.
const layoutProgram = `#include <stdio.h>
#include <stddef.h>
#define P(name, v) printf("%s %lld\n", name, (long long)(v))
int main(void) {
  P("sizeof(bytes)", sizeof(T_BYTES));
  P("sizeof(frames)", sizeof(T_FRAMES));
  P("sizeof(val)", sizeof(T_VAL));
  P("offsetof(val.of)", offsetof(T_VAL, of));
  P("sizeof(val.of)", sizeof(((T_VAL *)0)->of));
  P("offsetof(val.of.variant.val)", offsetof(T_VAL, of.F_VARIANT.val));
  P("offsetof(val.of.result.val)", offsetof(T_VAL, of.result.val));
  P("sizeof(field)", sizeof(T_FIELD));
  P("offsetof(field.val)", offsetof(T_FIELD, val));
  P("sizeof(instance)", sizeof(T_INSTANCE));
  P("sizeof(func)", sizeof(T_FUNC));
  P("offsetof(func.private2)", offsetof(T_FUNC, F_PRIVATE2));
  P("sizeof(valtype)", sizeof(T_VALTYPE));
  P("offsetof(valtype.of)", offsetof(T_VALTYPE, of));
  P("sizeof(item)", sizeof(T_ITEM));
  P("offsetof(item.of)", offsetof(T_ITEM, of));
  P("offsetof(item.of.type)", offsetof(T_ITEM, of.type));
  CONSTANTS
  return 0;
}
`

var capiConstants = [][2]string{
	{"DL_VAL_BOOL", "WASMTIME_COMPONENT_BOOL"}, {"DL_VAL_S8", "WASMTIME_COMPONENT_S8"},
	{"DL_VAL_U8", "WASMTIME_COMPONENT_U8"}, {"DL_VAL_S16", "WASMTIME_COMPONENT_S16"},
	{"DL_VAL_U16", "WASMTIME_COMPONENT_U16"}, {"DL_VAL_S32", "WASMTIME_COMPONENT_S32"},
	{"DL_VAL_U32", "WASMTIME_COMPONENT_U32"}, {"DL_VAL_S64", "WASMTIME_COMPONENT_S64"},
	{"DL_VAL_U64", "WASMTIME_COMPONENT_U64"}, {"DL_VAL_F32", "WASMTIME_COMPONENT_F32"},
	{"DL_VAL_F64", "WASMTIME_COMPONENT_F64"}, {"DL_VAL_CHAR", "WASMTIME_COMPONENT_CHAR"},
	{"DL_VAL_STRING", "WASMTIME_COMPONENT_STRING"}, {"DL_VAL_LIST", "WASMTIME_COMPONENT_LIST"},
	{"DL_VAL_RECORD", "WASMTIME_COMPONENT_RECORD"}, {"DL_VAL_TUPLE", "WASMTIME_COMPONENT_TUPLE"},
	{"DL_VAL_VARIANT", "WASMTIME_COMPONENT_VARIANT"}, {"DL_VAL_ENUM", "WASMTIME_COMPONENT_ENUM"},
	{"DL_VAL_OPTION", "WASMTIME_COMPONENT_OPTION"}, {"DL_VAL_RESULT", "WASMTIME_COMPONENT_RESULT"},
	{"DL_VAL_FLAGS", "WASMTIME_COMPONENT_FLAGS"}, {"DL_VAL_RESOURCE", "WASMTIME_COMPONENT_RESOURCE"},
	{"DL_TYPE_BOOL", "WASMTIME_COMPONENT_VALTYPE_BOOL"}, {"DL_TYPE_S8", "WASMTIME_COMPONENT_VALTYPE_S8"},
	{"DL_TYPE_S16", "WASMTIME_COMPONENT_VALTYPE_S16"}, {"DL_TYPE_S32", "WASMTIME_COMPONENT_VALTYPE_S32"},
	{"DL_TYPE_S64", "WASMTIME_COMPONENT_VALTYPE_S64"}, {"DL_TYPE_U8", "WASMTIME_COMPONENT_VALTYPE_U8"},
	{"DL_TYPE_U16", "WASMTIME_COMPONENT_VALTYPE_U16"}, {"DL_TYPE_U32", "WASMTIME_COMPONENT_VALTYPE_U32"},
	{"DL_TYPE_U64", "WASMTIME_COMPONENT_VALTYPE_U64"}, {"DL_TYPE_F32", "WASMTIME_COMPONENT_VALTYPE_F32"},
	{"DL_TYPE_F64", "WASMTIME_COMPONENT_VALTYPE_F64"}, {"DL_TYPE_CHAR", "WASMTIME_COMPONENT_VALTYPE_CHAR"},
	{"DL_TYPE_STRING", "WASMTIME_COMPONENT_VALTYPE_STRING"}, {"DL_TYPE_LIST", "WASMTIME_COMPONENT_VALTYPE_LIST"},
	{"DL_TYPE_RECORD", "WASMTIME_COMPONENT_VALTYPE_RECORD"}, {"DL_TYPE_TUPLE", "WASMTIME_COMPONENT_VALTYPE_TUPLE"},
	{"DL_TYPE_VARIANT", "WASMTIME_COMPONENT_VALTYPE_VARIANT"}, {"DL_TYPE_ENUM", "WASMTIME_COMPONENT_VALTYPE_ENUM"},
	{"DL_TYPE_OPTION", "WASMTIME_COMPONENT_VALTYPE_OPTION"}, {"DL_TYPE_RESULT", "WASMTIME_COMPONENT_VALTYPE_RESULT"},
	{"DL_TYPE_FLAGS", "WASMTIME_COMPONENT_VALTYPE_FLAGS"}, {"DL_TYPE_OWN", "WASMTIME_COMPONENT_VALTYPE_OWN"},
	{"DL_TYPE_BORROW", "WASMTIME_COMPONENT_VALTYPE_BORROW"}, {"DL_TYPE_FUTURE", "WASMTIME_COMPONENT_VALTYPE_FUTURE"},
	{"DL_TYPE_STREAM", "WASMTIME_COMPONENT_VALTYPE_STREAM"}, {"DL_TYPE_ERROR_CONTEXT", "WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT"},
	{"DL_ITEM_COMPONENT", "WASMTIME_COMPONENT_ITEM_COMPONENT"}, {"DL_ITEM_INSTANCE", "WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE"},
	{"DL_ITEM_MODULE", "WASMTIME_COMPONENT_ITEM_MODULE"}, {"DL_ITEM_FUNC", "WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC"},
	{"DL_ITEM_RESOURCE", "WASMTIME_COMPONENT_ITEM_RESOURCE"}, {"DL_ITEM_CORE_FUNC", "WASMTIME_COMPONENT_ITEM_CORE_FUNC"},
	{"DL_ITEM_TYPE", "WASMTIME_COMPONENT_ITEM_TYPE"},
}

// TestCAPIHeaders checks capi.h, this package's own declarations of
// wasmtime's C API, against the headers wasmtime-go ships: every declared
// function must be compatible with wasmtime's declaration, and every layout
// and constant the Go side relies on must be the same.
func TestCAPIHeaders(t *testing.T) {
	inc := wasmtimeInclude(t)
	compiler := cc(t)
	dir := t.TempDir()
	here, err := os.Getwd()
	must(t, err)

	// 1. Declarations: capi.h redeclares each function over wasmtime's.
	check := filepath.Join(dir, "check.c")
	must(t, os.WriteFile(check, []byte(capiCheckPrelude), 0o644))
	if out, err := exec.Command(compiler, "-std=c11", "-Wall", "-Werror", "-fsyntax-only",
		"-I", inc, "-I", here, check).CombinedOutput(); err != nil {
		t.Fatalf("capi.h disagrees with wasmtime's headers:\n%s", out)
	}

	// 2. Layouts and constants, printed by a program built against each.
	var ours, theirs strings.Builder
	for _, c := range capiConstants {
		ours.WriteString(`P("` + c[1] + `", ` + c[0] + `); `)
		theirs.WriteString(`P("` + c[1] + `", ` + c[1] + `); `)
	}
	run := func(name, header string, defs map[string]string, constants string) string {
		src := filepath.Join(dir, name+".c")
		prog := header + strings.Replace(layoutProgram, "CONSTANTS", constants, 1)
		must(t, os.WriteFile(src, []byte(prog), 0o644))
		bin := filepath.Join(dir, name)
		args := []string{"-std=c11", "-o", bin, "-I", inc, "-I", here}
		for k, v := range defs {
			args = append(args, "-D"+k+"="+v)
		}
		if out, err := exec.Command(compiler, append(args, src)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		out, err := exec.Command(bin).Output()
		must(t, err)
		return string(out)
	}
	got := run("ours", "#include \"capi.h\"\n", map[string]string{
		"T_BYTES": "dl_bytes_t", "T_FRAMES": "dl_frames_t", "T_VAL": "dl_val_t", "T_FIELD": "dl_field_t",
		"T_INSTANCE": "dl_instance_t", "T_FUNC": "dl_func_t", "T_VALTYPE": "dl_valtype_t", "T_ITEM": "dl_item_t",
		"F_VARIANT": "variant", "F_PRIVATE2": "private2",
	}, ours.String())
	want := run("theirs", "#include <wasmtime.h>\n", map[string]string{
		"T_BYTES": "wasm_byte_vec_t", "T_FRAMES": "wasm_frame_vec_t", "T_VAL": "wasmtime_component_val_t",
		"T_FIELD": "wasmtime_component_valrecord_entry_t", "T_INSTANCE": "wasmtime_component_instance_t",
		"T_FUNC": "wasmtime_component_func_t", "T_VALTYPE": "wasmtime_component_valtype_t",
		"T_ITEM": "wasmtime_component_item_t", "F_VARIANT": "variant", "F_PRIVATE2": "__private2",
	}, theirs.String())
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Errorf("ours %q, wasmtime's %q", gl[i], wl[i])
			}
		}
		if len(gl) != len(wl) {
			t.Errorf("%d lines against %d", len(gl), len(wl))
		}
	}
	// The Go mirrors of the C values (convert.go) have the C sizes.
	if !strings.Contains(want, "sizeof(val) 32\n") || sizeofVal != 32 || sizeofField != 48 || sizeofBytes != 16 {
		t.Errorf("Go mirrors: val %d field %d bytes %d; wasmtime:\n%s", sizeofVal, sizeofField, sizeofBytes, want)
	}
}

// TestWasmtimeVersion: WasmtimeVersion is the version of the wasmtime-go
// module the build uses (wasmtime-go's versions follow wasmtime's).
func TestWasmtimeVersion(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", wasmtimeModule).Output()
	if err != nil {
		t.Skipf("cannot ask go for the wasmtime-go version: %v", err)
	}
	if got := strings.TrimPrefix(strings.TrimSpace(string(out)), "v"); got != WasmtimeVersion {
		t.Fatalf("go.mod has wasmtime-go %s, WasmtimeVersion is %s", got, WasmtimeVersion)
	}
}
