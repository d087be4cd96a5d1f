package bindings

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// TestWasmtimeGoLayouts pins every assumption the unsafe reads of
// wasmtimego.go make about wasmtime-go's private fields, against the
// wasmtime-go this package is built with: each listed field exists at its
// offset with its type and size, nothing else lies in the bytes read, and
// the struct is large enough. An upgrade of wasmtime-go that moves, retypes
// or renames one fails here.
func TestWasmtimeGoLayouts(t *testing.T) {
	types := map[string]reflect.Type{}
	for _, ty := range []reflect.Type{
		reflect.TypeFor[wasmtime.Config](), reflect.TypeFor[wasmtime.Engine](),
		reflect.TypeFor[wasmtime.Store](), reflect.TypeFor[wasmtime.Func](),
		reflect.TypeFor[wasmtime.Memory](),
	} {
		types[ty.String()] = ty
	}
	if len(wasmtimeGoLayouts) != len(types) {
		t.Fatalf("%d layouts for %d types", len(wasmtimeGoLayouts), len(types))
	}
	for _, l := range wasmtimeGoLayouts {
		t.Run(l.name, func(t *testing.T) {
			ty := types[l.name]
			if ty == nil {
				t.Fatalf("no such wasmtime-go type")
			}
			if ty.Size() < l.read {
				t.Errorf("size %d, but %d bytes are read", ty.Size(), l.read)
			}
			have := map[string]privateField{}
			var walk func(t reflect.Type, prefix string, base uintptr)
			walk = func(t reflect.Type, prefix string, base uintptr) {
				for i := range t.NumField() {
					f := t.Field(i)
					path := prefix + f.Name
					have[path] = privateField{path, base + f.Offset, layoutType(f.Type), f.Type.Size()}
					if f.Type.Kind() == reflect.Struct {
						walk(f.Type, path+".", base+f.Offset)
					}
				}
			}
			walk(ty, "", 0)
			for _, want := range l.fields {
				if got, ok := have[want.path]; !ok {
					t.Errorf("field %s is gone", want.path)
				} else if got != want {
					t.Errorf("field %s: got offset %d, type %s, size %d; want offset %d, type %s, size %d",
						want.path, got.offset, got.typ, got.size, want.offset, want.typ, want.size)
				}
			}
			// Every top-level field in the bytes read is one of the listed.
			for i := range ty.NumField() {
				f := ty.Field(i)
				if f.Offset >= l.read {
					continue
				}
				listed := false
				for _, want := range l.fields {
					listed = listed || want.path == f.Name
				}
				if !listed {
					t.Errorf("field %s (offset %d) lies in the %d bytes read", f.Name, f.Offset, l.read)
				}
			}
		})
	}
}

// layoutType names t as privateField.typ does.
func layoutType(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.Pointer:
		return t.String()
	case t.Kind() == reflect.Struct && !anonymousCgo.MatchString(t.Name()):
		return t.String()
	}
	return t.Kind().String()
}

var anonymousCgo = regexp.MustCompile(`^_Ctype_struct___\d+$`)

// The accessors read what wasmtime-go itself uses: a live engine, config
// and store give non-nil pointers, a closed store nil.
func TestWasmtimeGoAccessors(t *testing.T) {
	cfg := wasmtime.NewConfig()
	if configPtr(cfg) == nil {
		t.Fatal("config pointer is nil")
	}
	e := wasmtime.NewEngineWithConfig(cfg)
	if enginePtr(e) == nil {
		t.Fatal("engine pointer is nil")
	}
	s := wasmtime.NewStore(e)
	if storePtr(s) == nil {
		t.Fatal("store pointer is nil")
	}
	s.Close()
	if storePtr(s) != nil {
		t.Fatal("closed store pointer is not nil")
	}
}
