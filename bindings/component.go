package bindings

// #include "shim.h"
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/driftless-dev/driftless/bindings/internal/typenames"
	"github.com/driftless-dev/driftless/internal/safefile"
)

// Component is a compiled component. It is immutable and safe for
// concurrent use; instantiate it any number of times, in any stores of its
// engine.
type Component struct {
	engine *Engine
	ptr    *C.wasmtime_component_t

	typ *ComponentType // reflected at construction

	mu      sync.Mutex
	exports map[string]*C.wasmtime_component_export_index_t
	closed  bool
}

// NewComponent compiles a component from its binary. Compiling is slow
// (seconds for large components): cache the result with Serialize.
func NewComponent(e *Engine, wasm []byte) (*Component, error) {
	if len(wasm) == 0 {
		return nil, &Error{Op: "compile", Message: "empty input: not a WebAssembly component"}
	}
	var p *C.wasmtime_component_t
	cerr := C.wasmtime_component_new(e.ptr, (*C.uint8_t)(unsafe.Pointer(&wasm[0])), C.size_t(len(wasm)), &p)
	runtime.KeepAlive(wasm)
	if err := takeError("compile", cerr); err != nil {
		return nil, err
	}
	return newComponent(e, p, wasm)
}

// maxComponentFile bounds what NewComponentFromFile reads.
const maxComponentFile = 1 << 30

// NewComponentFromFile compiles the component in the named file.
func NewComponentFromFile(e *Engine, path string) (*Component, error) {
	// Not os.ReadFile: a FIFO would block, a device never end.
	wasm, err := safefile.ReadFile(path, maxComponentFile)
	if err != nil {
		return nil, err
	}
	return NewComponent(e, wasm)
}

// DeserializeComponent loads a component that Serialize produced, with an
// engine configured the same way. wasmtime checks the format, its version
// and the engine settings, and refuses mismatches; it cannot detect a
// tampered artifact, so only pass bytes this process or a trusted cache
// wrote (the host's compile cache verifies a checksum first).
//
// The compiled form does not keep the names of the component's types:
// Type renders records, variants, aliases, ... as their structure. Use
// DeserializeComponentWithSource to keep them.
func DeserializeComponent(e *Engine, data []byte) (*Component, error) {
	return DeserializeComponentWithSource(e, data, nil)
}

// DeserializeComponentWithSource is DeserializeComponent for a caller that
// also has the component binary data was compiled from: Type then names
// types as that binary does, like a component from NewComponent. source is
// read, not kept. Names are laid only over types whose structure the binary
// agrees with, so a wrong binary mostly costs names; it can lend its own
// names to types of the same shape, so pass the right one.
func DeserializeComponentWithSource(e *Engine, data, source []byte) (*Component, error) {
	if len(data) == 0 {
		return nil, &Error{Op: "deserialize", Message: "empty input"}
	}
	var p *C.wasmtime_component_t
	cerr := C.wasmtime_component_deserialize(e.ptr, (*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)), &p)
	runtime.KeepAlive(data)
	if err := takeError("deserialize", cerr); err != nil {
		return nil, err
	}
	return newComponent(e, p, source)
}

// DeserializeComponentFile is DeserializeComponent reading from a file,
// which wasmtime maps into memory instead of copying. The same trust rules
// apply.
func DeserializeComponentFile(e *Engine, path string) (*Component, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return nil, &Error{Op: "deserialize", Message: "path contains a NUL byte"}
	}
	// wasmtime opens the file itself: check first that it is a regular
	// file (a FIFO would block the open in C, out of Go's reach).
	if err := safefile.Check(path); err != nil {
		return nil, &Error{Op: "deserialize", Message: err.Error()}
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var p *C.wasmtime_component_t
	if err := takeError("deserialize", C.wasmtime_component_deserialize_file(e.ptr, cp, &p)); err != nil {
		return nil, err
	}
	return newComponent(e, p, nil)
}

// newComponent wraps p and reflects its type, naming types after source
// (the component's binary) when given. Reflection can refuse a component
// whose types are too large (*TypeLimitError).
func newComponent(e *Engine, p *C.wasmtime_component_t, source []byte) (*Component, error) {
	c := &Component{engine: e, ptr: p, exports: map[string]*C.wasmtime_component_export_index_t{}}
	runtime.SetFinalizer(c, (*Component).Close)
	var names *typenames.Names
	if len(source) > 0 {
		// An error leaves the types unnamed: wasmtime has accepted the
		// binary, so it is one this decoder cannot follow.
		names, _ = typenames.Decode(source)
	}
	typ, err := c.reflect(names)
	runtime.KeepAlive(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.typ = typ
	return c, nil
}

// Serialize returns the compiled form of c, for DeserializeComponent.
func (c *Component) Serialize() ([]byte, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	var b C.dl_bytes_t
	if err := takeError("serialize", C.wasmtime_component_serialize(c.ptr, &b)); err != nil {
		return nil, err
	}
	defer C.wasm_byte_vec_delete(&b)
	runtime.KeepAlive(c)
	return C.GoBytes(unsafe.Pointer(b.data), C.int(b.size)), nil
}

// Engine returns the engine c was compiled for.
func (c *Component) Engine() *Engine { return c.engine }

// Type returns what c imports and exports, reflected when c was made.
// Types are named as the component's binary names them (a record by its
// name, an alias by the type it aliases); a component deserialized without
// its binary shows records, variants, enums, flags and aliases as their
// structure.
func (c *Component) Type() *ComponentType { return c.typ }

func (c *Component) usable() error {
	if c.closed {
		return fmt.Errorf("bindings: component is closed")
	}
	return nil
}

// exportIndex returns the index of the export at path, cached.
func (c *Component) exportIndex(path []string) (*C.wasmtime_component_export_index_t, error) {
	key := strings.Join(path, "#")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("bindings: component is closed")
	}
	if idx, ok := c.exports[key]; ok {
		return idx, nil
	}
	var parent *C.wasmtime_component_export_index_t
	for i, name := range path {
		cn := cName(name)
		idx := C.wasmtime_component_get_export_index(c.ptr, parent, cn.p, cn.n)
		cn.free()
		if parent != nil {
			C.wasmtime_component_export_index_delete(parent)
		}
		if idx == nil {
			return nil, fmt.Errorf("component has no export %s", strings.Join(path[:i+1], "#"))
		}
		parent = idx
	}
	c.exports[key] = parent
	return parent, nil
}

// Close frees the compiled code once no instance needs it anymore (wasmtime
// reference-counts it). c must not be used afterwards.
func (c *Component) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	runtime.SetFinalizer(c, nil)
	for _, idx := range c.exports {
		C.wasmtime_component_export_index_delete(idx)
	}
	c.exports = nil
	C.wasmtime_component_delete(c.ptr)
	c.ptr = nil
}

// IsComponent reports whether wasm starts with the header of a component
// binary (layer 1), as opposed to a core module (layer 0).
func IsComponent(wasm []byte) bool {
	return len(wasm) >= 8 && string(wasm[:4]) == "\x00asm" && wasm[6] == 1 && wasm[7] == 0
}
