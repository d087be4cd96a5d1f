package bindings

// #include "core.h"
import "C"

import (
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// wasmtime-go's Go API hands out no C pointers, and this package needs
// five: the wasm_config_t of a Config (to set what wasmtime-go has no
// setter for), the wasm_engine_t of an Engine (components compile and run
// in it), the wasmtime_store_t of a Store (CoreGuard's epoch callback), and
// the C values inside a Func and a Memory (CoreGuard's one-cgo-call paths).
// They are read from wasmtime-go's private fields, here and nowhere else.
// Each function below states the layout it relies on; wasmtimeGoLayouts
// lists them all, and TestWasmtimeGoLayouts checks every one (field name,
// offset, type and size) against the wasmtime-go of go.mod, so that an
// upgrade that changes them fails a test instead of corrupting memory.

// configPtr: wasmtime.Config's first field is its *C.wasm_config_t.
func configPtr(c *wasmtime.Config) *C.wasm_config_t {
	return *(**C.wasm_config_t)(unsafe.Pointer(c))
}

// enginePtr: wasmtime.Engine's first field is its *C.wasm_engine_t.
func enginePtr(e *wasmtime.Engine) *C.wasm_engine_t {
	return *(**C.wasm_engine_t)(unsafe.Pointer(e))
}

// storePtr: wasmtime.Store's first field is its *C.wasmtime_store_t (nil
// once closed).
func storePtr(s *wasmtime.Store) *C.wasmtime_store_t {
	return *(**C.wasmtime_store_t)(unsafe.Pointer(s))
}

// coreFunc: wasmtime.Func's first field is a wasmtime_func_t, whose layout
// dl_core_func_t mirrors (TestCoreHeaders).
func coreFunc(f *wasmtime.Func) C.dl_core_func_t {
	return *(*C.dl_core_func_t)(unsafe.Pointer(f))
}

// coreMemory: wasmtime.Memory's first field is a wasmtime_memory_t, whose
// layout dl_core_memory_t mirrors (TestCoreHeaders).
func coreMemory(m *wasmtime.Memory) C.dl_core_memory_t {
	return *(*C.dl_core_memory_t)(unsafe.Pointer(m))
}

// privateField is one layout assumption: a field of a wasmtime-go struct,
// by its path from the struct (nested fields joined with '.'), with the
// offset from the start of the struct, its type (named for pointers and
// named structs; by kind for scalars, whose cgo names vary by platform,
// and for anonymous structs, whose cgo names are numbered) and its size.
type privateField struct {
	path   string
	offset uintptr
	typ    string
	size   uintptr
}

// wasmtimeGoLayouts is what the five functions above assume of each
// wasmtime-go struct: the fields they read, in full (nested fields too),
// and how many bytes they read from the struct's start.
var wasmtimeGoLayouts = []struct {
	name   string // the struct, as reflect prints it
	read   uintptr
	fields []privateField
}{
	{"wasmtime.Config", unsafe.Sizeof(uintptr(0)), []privateField{
		{"_ptr", 0, "*wasmtime._Ctype_struct_wasm_config_t", 8},
	}},
	{"wasmtime.Engine", unsafe.Sizeof(uintptr(0)), []privateField{
		{"_ptr", 0, "*wasmtime._Ctype_struct_wasm_engine_t", 8},
	}},
	{"wasmtime.Store", unsafe.Sizeof(uintptr(0)), []privateField{
		{"_ptr", 0, "*wasmtime._Ctype_struct_wasmtime_store", 8},
	}},
	{"wasmtime.Func", C.sizeof_dl_core_func_t, []privateField{
		{"val", 0, "wasmtime._Ctype_struct_wasmtime_func", 16},
		{"val.store_id", 0, "uint64", 8},
		{"val.__private", 8, "unsafe.Pointer", 8},
	}},
	{"wasmtime.Memory", C.sizeof_dl_core_memory_t, []privateField{
		{"val", 0, "wasmtime._Ctype_struct_wasmtime_memory", 24},
		{"val.anon0", 0, "struct", 16},
		{"val.anon0.store_id", 0, "uint64", 8},
		{"val.anon0.__private1", 8, "uint32", 4},
		{"val.__private2", 16, "uint32", 4},
	}},
}
