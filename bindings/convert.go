package bindings

// #include "shim.h"
import "C"

import (
	"fmt"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// The mirrors of C structs below keep addresses as uintptr, never as Go
// pointer types, because they live in C memory: storing a pointer-typed
// field runs Go's write barrier, which reads the field's old contents as a
// pointer. The arena's memory is reused and not zeroed, so those contents
// can be anything (stale bytes of an earlier value or string, or of
// whatever malloc's earlier user left there), and a value that happens to
// fall inside the Go heap makes the garbage collector abort the process
// ("found bad pointer in Go heap"). Integers run no barrier; cptr turns
// one back into a pointer where C memory is read.

// cVal mirrors dl_val_t (wasmtime_component_val_t): a kind byte and a
// 24-byte payload whose meaning depends on the kind. Go reads and writes C
// values through it without a cgo call per value.
type cVal struct {
	kind uint8
	_    [7]byte
	a    uintptr // scalar bits, a length, or (option, resource) an address
	b    uintptr // address of the data of strings, lists, records, flags; result payload
	c    uintptr // address of a variant's payload
}

// cField mirrors dl_field_t, one record entry.
type cField struct {
	nameLen uintptr
	name    uintptr // address of the name's bytes
	val     cVal
}

// cBytes mirrors dl_bytes_t (wasm_name_t).
type cBytes struct {
	size uintptr
	data uintptr // address of the bytes
}

// cptr returns the C address u as a pointer. It exists because the
// mirrors above keep C addresses as integers (see there); u is never the
// address of Go memory, which is why this is not the conversion go vet
// warns about.
func cptr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }

const (
	sizeofVal   = unsafe.Sizeof(cVal{})
	sizeofField = unsafe.Sizeof(cField{})
	sizeofBytes = unsafe.Sizeof(cBytes{})
)

// The C value kinds (dl_val_t.kind); Kind differs by being 1-based.
func cKind(k Kind) uint8 { return uint8(k - 1) }

// arena hands out C memory for values that cross into wasmtime. Each call
// and host callback takes what it needs from the top and gives it back when
// done, so steady-state calls allocate no C memory at all. Everything in it
// is C memory holding only C pointers, which keeps cgo's pointer rules.
type arena struct {
	chunks []arenaChunk
	cur    int
	err    error // the first invalid value a Writer met (see Lowerer)

	// tables holds C copies of record field name tables that outlive
	// calls, keyed by the address of the table's first
	// element: generated bindings pass the same package-level slice for
	// every value of a type, and a batch of records would otherwise copy
	// and check the same names once per record.
	tables map[*string]*nameTable
}

// nameTable is a C copy of names, valid UTF-8.
type nameTable struct {
	names []string // the Go strings it was made from
	c     []cBytes // in C memory
}

// maxNameTables bounds the tables an arena keeps (Vals built with names
// slices of their own would otherwise add one each).
const maxNameTables = 256

type arenaChunk struct {
	base unsafe.Pointer
	size uintptr
	used uintptr
}

type arenaMark struct {
	chunk int
	used  uintptr
}

const arenaMinChunk = 4096

func (a *arena) mark() arenaMark {
	if len(a.chunks) == 0 {
		return arenaMark{}
	}
	return arenaMark{chunk: a.cur, used: a.chunks[a.cur].used}
}

func (a *arena) release(m arenaMark) {
	if len(a.chunks) == 0 {
		return
	}
	a.cur = m.chunk
	a.chunks[m.chunk].used = m.used
	for i := m.chunk + 1; i < len(a.chunks); i++ {
		a.chunks[i].used = 0
	}
}

// alloc returns n bytes aligned to 8. The memory is not zeroed.
func (a *arena) alloc(n uintptr) unsafe.Pointer {
	n = (n + 7) &^ 7
	for a.cur < len(a.chunks) {
		c := &a.chunks[a.cur]
		if c.size-c.used >= n {
			p := unsafe.Add(c.base, c.used)
			c.used += n
			return p
		}
		if a.cur+1 == len(a.chunks) {
			break
		}
		a.cur++
	}
	size := uintptr(arenaMinChunk)
	if len(a.chunks) > 0 {
		size = a.chunks[len(a.chunks)-1].size * 2
	}
	for size < n {
		size *= 2
	}
	base := C.malloc(C.size_t(size))
	if base == nil {
		panic(fmt.Sprintf("bindings: out of C memory allocating %d bytes", size))
	}
	a.chunks = append(a.chunks, arenaChunk{base: base, size: size, used: n})
	a.cur = len(a.chunks) - 1
	return base
}

func (a *arena) free() {
	for _, c := range a.chunks {
		C.free(c.base)
	}
	a.chunks = nil
	a.cur = 0
	for _, t := range a.tables {
		C.free(unsafe.Pointer(&t.c[0]))
	}
	a.tables = nil
}

// table returns the C copy of names, making it when names is a table not
// seen before (or changed since): nil when a name is not valid UTF-8 (the
// caller then checks and copies the names itself) or the arena keeps
// maxNameTables already.
func (a *arena) table(names []string) []cBytes {
	key := &names[0]
	if t := a.tables[key]; t != nil && len(t.names) == len(names) {
		same := true
		for i := range names {
			// Equal strings of the same table share their data: the
			// comparison is a length and a pointer.
			if names[i] != t.names[i] {
				same = false
				break
			}
		}
		if same {
			return t.c
		}
	}
	if len(a.tables) >= maxNameTables && a.tables[key] == nil {
		return nil
	}
	size := uintptr(len(names)) * sizeofBytes
	for _, n := range names {
		if !utf8.ValidString(n) {
			return nil
		}
		size += uintptr(len(n))
	}
	mem := C.malloc(C.size_t(size))
	if mem == nil {
		panic(fmt.Sprintf("bindings: out of C memory allocating %d bytes", size))
	}
	t := &nameTable{names: slices.Clone(names), c: unsafe.Slice((*cBytes)(mem), len(names))}
	data := unsafe.Add(mem, uintptr(len(names))*sizeofBytes)
	for i, n := range names {
		t.c[i] = cBytes{size: uintptr(len(n))}
		if len(n) > 0 {
			copy(unsafe.Slice((*byte)(data), len(n)), n)
			t.c[i].data = uintptr(data)
			data = unsafe.Add(data, len(n))
		}
	}
	if old := a.tables[key]; old != nil {
		C.free(unsafe.Pointer(&old.c[0]))
	}
	if a.tables == nil {
		a.tables = map[*string]*nameTable{}
	}
	a.tables[key] = t
	return t.c
}

// vals allocates n C values.
func (a *arena) vals(n int) *cVal {
	if n == 0 {
		return nil
	}
	return (*cVal)(a.alloc(uintptr(n) * sizeofVal))
}

// bytes copies s into the arena and returns its address.
func (a *arena) bytes(s string) uintptr {
	if len(s) == 0 {
		return 0
	}
	p := a.alloc(uintptr(len(s)))
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	return uintptr(p)
}

// put writes v into dst. v has passed check.
func (a *arena) put(dst *cVal, v Val) {
	if v.low != nil {
		*dst = cVal{}
		v.low.l.Lower(Writer{a, dst})
		return
	}
	dst.kind = cKind(v.kind)
	dst.a, dst.b, dst.c = 0, 0, 0
	switch v.kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindS64, KindU64,
		KindF32, KindF64, KindChar:
		dst.a = uintptr(v.bits)
		if v.kind == KindBool || v.kind == KindS8 || v.kind == KindU8 {
			dst.a &= 0xff
		} else if v.kind == KindS16 || v.kind == KindU16 {
			dst.a &= 0xffff
		} else if v.kind != KindS64 && v.kind != KindU64 && v.kind != KindF64 {
			dst.a &= 0xffffffff
		}
	case KindString, KindEnum:
		dst.a, dst.b = uintptr(len(v.str)), a.bytes(v.str)
	case KindList, KindTuple:
		dst.a = uintptr(len(v.elems))
		dst.b = uintptr(unsafe.Pointer(a.list(v.elems)))
	case KindRecord:
		dst.a = uintptr(len(v.elems))
		fs := a.fields(v.names)
		for i := range v.elems {
			a.put(&unsafe.Slice(fs, len(v.elems))[i].val, v.elems[i])
		}
		dst.b = uintptr(unsafe.Pointer(fs))
	case KindVariant:
		dst.a, dst.b = uintptr(len(v.str)), a.bytes(v.str)
		dst.c = a.payload(v.elems)
	case KindOption:
		if v.bits != 0 {
			dst.a = a.payload(v.elems)
		}
	case KindResult:
		dst.a = uintptr(v.bits & 1)
		dst.b = a.payload(v.elems)
	case KindFlags:
		dst.a, dst.b = uintptr(len(v.names)), a.names(v.names)
	case KindResource:
		dst.a = uintptr(unsafe.Pointer(v.res.ptr))
	}
}

// fields allocates the entries of a record with the given field names;
// their values are left to the caller.
// fields allocates the entries of a record with the given field names
// (from the name table of names when there is one), their values zeroed.
func (a *arena) fields(names []string) *cField {
	if len(names) == 0 {
		return nil
	}
	return a.fieldsWith(names, a.table(names))
}

// fieldsWith is fields with the name table of names already looked up.
func (a *arena) fieldsWith(names []string, t []cBytes) *cField {
	if len(names) == 0 {
		return nil
	}
	fs := unsafe.Slice((*cField)(a.alloc(uintptr(len(names))*sizeofField)), len(names))
	if t != nil {
		for i := range fs {
			fs[i] = cField{nameLen: t[i].size, name: t[i].data}
		}
		return &fs[0]
	}
	for i, name := range names {
		fs[i] = cField{nameLen: uintptr(len(name)), name: a.bytes(name)}
	}
	return &fs[0]
}

// names copies names into the arena as the entries of a flags value. The
// set flags of values vary, so they are not kept as a table.
func (a *arena) names(names []string) uintptr {
	if len(names) == 0 {
		return 0
	}
	bs := unsafe.Slice((*cBytes)(a.alloc(uintptr(len(names))*sizeofBytes)), len(names))
	for i, name := range names {
		bs[i] = cBytes{size: uintptr(len(name)), data: a.bytes(name)}
	}
	return uintptr(unsafe.Pointer(&bs[0]))
}

func (a *arena) list(elems []Val) *cVal {
	if len(elems) == 0 {
		return nil
	}
	p := a.vals(len(elems))
	cs := unsafe.Slice(p, len(elems))
	for i := range elems {
		a.put(&cs[i], elems[i])
	}
	return p
}

func (a *arena) payload(elems []Val) uintptr {
	if len(elems) == 0 {
		return 0
	}
	p := a.vals(1)
	a.put(p, elems[0])
	return uintptr(unsafe.Pointer(p))
}

// get reads a C value. Resources are cloned into new handles owned by s;
// everything else is copied into Go memory, so the C value can be deleted
// afterwards.
func (s *storeState) get(src *cVal) (Val, error) {
	switch src.kind {
	case cKind(KindBool):
		return Bool(*(*uint8)(unsafe.Pointer(&src.a)) != 0), nil
	case cKind(KindS8):
		return S8(*(*int8)(unsafe.Pointer(&src.a))), nil
	case cKind(KindU8):
		return U8(*(*uint8)(unsafe.Pointer(&src.a))), nil
	case cKind(KindS16):
		return S16(*(*int16)(unsafe.Pointer(&src.a))), nil
	case cKind(KindU16):
		return U16(*(*uint16)(unsafe.Pointer(&src.a))), nil
	case cKind(KindS32):
		return S32(*(*int32)(unsafe.Pointer(&src.a))), nil
	case cKind(KindU32):
		return U32(*(*uint32)(unsafe.Pointer(&src.a))), nil
	case cKind(KindS64):
		return S64(*(*int64)(unsafe.Pointer(&src.a))), nil
	case cKind(KindU64):
		return U64(*(*uint64)(unsafe.Pointer(&src.a))), nil
	case cKind(KindF32):
		return Val{kind: KindF32, bits: uint64(*(*uint32)(unsafe.Pointer(&src.a)))}, nil
	case cKind(KindF64):
		return Val{kind: KindF64, bits: *(*uint64)(unsafe.Pointer(&src.a))}, nil
	case cKind(KindChar):
		return Char(rune(*(*uint32)(unsafe.Pointer(&src.a)))), nil
	case cKind(KindString):
		return String(cString(src.a, src.b)), nil
	case cKind(KindEnum):
		return Enum(cString(src.a, src.b)), nil
	case cKind(KindList), cKind(KindTuple):
		elems, err := s.getList(src.a, src.b)
		if err != nil {
			return Val{}, err
		}
		if src.kind == cKind(KindTuple) {
			return Tuple(elems...), nil
		}
		return List(elems...), nil
	case cKind(KindRecord):
		n := int(src.a)
		names, vals := make([]string, n), make([]Val, n)
		if n > 0 {
			fs := unsafe.Slice((*cField)(cptr(src.b)), n)
			for i := range fs {
				names[i] = cString(fs[i].nameLen, fs[i].name)
				v, err := s.get(&fs[i].val)
				if err != nil {
					return Val{}, err
				}
				vals[i] = v
			}
		}
		return Record(names, vals), nil
	case cKind(KindVariant):
		name := cString(src.a, src.b)
		if src.c == 0 {
			return Variant(name), nil
		}
		p, err := s.get((*cVal)(cptr(src.c)))
		if err != nil {
			return Val{}, err
		}
		return VariantWith(name, p), nil
	case cKind(KindOption):
		if src.a == 0 {
			return None(), nil
		}
		p, err := s.get((*cVal)(cptr(src.a)))
		if err != nil {
			return Val{}, err
		}
		return Some(p), nil
	case cKind(KindResult):
		ok := *(*uint8)(unsafe.Pointer(&src.a)) != 0
		v := Val{kind: KindResult}
		if ok {
			v.bits = 1
		}
		if src.b != 0 {
			p, err := s.get((*cVal)(cptr(src.b)))
			if err != nil {
				return Val{}, err
			}
			v.elems = []Val{p}
		}
		return v, nil
	case cKind(KindFlags):
		n := int(src.a)
		names := make([]string, n)
		if n > 0 {
			bs := unsafe.Slice((*cBytes)(cptr(src.b)), n)
			for i := range bs {
				names[i] = cString(bs[i].size, bs[i].data)
			}
		}
		return Flags(names...), nil
	case cKind(KindResource):
		ptr := (*C.wasmtime_component_resource_any_t)(cptr(src.a))
		return ResourceVal(s.adoptResource(C.wasmtime_component_resource_any_clone(ptr))), nil
	}
	return Val{}, fmt.Errorf("bindings: unknown value kind %d from wasmtime", src.kind)
}

// getT reads a C value of type t, the type wasmtime produced it for: like
// get, but names of record fields, enum and variant cases and flags come
// from the type instead of being copied out of C memory (no allocation per
// name, and record values share the type's slice of field names). Where
// the value does not match t, it falls back to get.
func (s *storeState) getT(src *cVal, t *Type) (Val, error) {
	if t == nil || src.kind < cKind(KindString) {
		return s.get(src)
	}
	switch src.kind {
	case cKind(KindList):
		if t.Kind != KindList || src.a == 0 {
			break
		}
		cs := unsafe.Slice((*cVal)(cptr(src.b)), int(src.a))
		out := make([]Val, len(cs))
		for i := range cs {
			v, err := s.getT(&cs[i], t.Elem)
			if err != nil {
				return Val{}, err
			}
			out[i] = v
		}
		return Val{kind: KindList, elems: out}, nil
	case cKind(KindTuple):
		if t.Kind != KindTuple || int(src.a) != len(t.Elems) || src.a == 0 {
			break
		}
		cs := unsafe.Slice((*cVal)(cptr(src.b)), int(src.a))
		out := make([]Val, len(cs))
		for i := range cs {
			v, err := s.getT(&cs[i], t.Elems[i])
			if err != nil {
				return Val{}, err
			}
			out[i] = v
		}
		return Val{kind: KindTuple, elems: out}, nil
	case cKind(KindRecord):
		if t.Kind != KindRecord || int(src.a) != len(t.Fields) || src.a == 0 {
			break
		}
		fs := unsafe.Slice((*cField)(cptr(src.b)), int(src.a))
		for i := range fs {
			if !cEqual(fs[i].nameLen, fs[i].name, t.Fields[i].Name) {
				return s.get(src)
			}
		}
		vals := make([]Val, len(fs))
		for i := range fs {
			v, err := s.getT(&fs[i].val, t.Fields[i].Type)
			if err != nil {
				return Val{}, err
			}
			vals[i] = v
		}
		return Val{kind: KindRecord, names: t.recordNames(), elems: vals}, nil
	case cKind(KindVariant):
		if t.Kind != KindVariant {
			break
		}
		for _, c := range t.Cases {
			if !cEqual(src.a, src.b, c.Name) {
				continue
			}
			if src.c == 0 {
				return Val{kind: KindVariant, str: c.Name}, nil
			}
			p, err := s.getT((*cVal)(cptr(src.c)), c.Type)
			if err != nil {
				return Val{}, err
			}
			return Val{kind: KindVariant, str: c.Name, elems: []Val{p}}, nil
		}
	case cKind(KindEnum):
		if t.Kind != KindEnum {
			break
		}
		for _, n := range t.Names {
			if cEqual(src.a, src.b, n) {
				return Val{kind: KindEnum, str: n}, nil
			}
		}
	case cKind(KindOption):
		if t.Kind != KindOption {
			break
		}
		if src.a == 0 {
			return None(), nil
		}
		p, err := s.getT((*cVal)(cptr(src.a)), t.Elem)
		if err != nil {
			return Val{}, err
		}
		return Some(p), nil
	case cKind(KindResult):
		if t.Kind != KindResult {
			break
		}
		v := Val{kind: KindResult}
		pt := t.Err
		if *(*uint8)(unsafe.Pointer(&src.a)) != 0 {
			v.bits, pt = 1, t.Ok
		}
		if src.b != 0 {
			p, err := s.getT((*cVal)(cptr(src.b)), pt)
			if err != nil {
				return Val{}, err
			}
			v.elems = []Val{p}
		}
		return v, nil
	case cKind(KindFlags):
		if t.Kind != KindFlags {
			break
		}
		n := int(src.a)
		if n == 0 {
			return Val{kind: KindFlags}, nil
		}
		names := make([]string, 0, n)
		for _, b := range unsafe.Slice((*cBytes)(cptr(src.b)), n) {
			found := false
			for _, tn := range t.Names {
				if cEqual(b.size, b.data, tn) {
					names, found = append(names, tn), true
					break
				}
			}
			if !found {
				return s.get(src)
			}
		}
		return Val{kind: KindFlags, names: names}, nil
	}
	return s.get(src)
}

// cEqual reports whether the C bytes (n, data) are s. It compares byte by
// byte on purpose: Go's string comparison loads whole words, reading past
// the end of short C buffers (harmless, but it makes valgrind report the
// comparison as depending on undefined bytes).
func cEqual(n uintptr, data uintptr, s string) bool {
	if int(n) != len(s) {
		return false
	}
	if n == 0 {
		return true
	}
	b := unsafe.Slice((*byte)(cptr(data)), int(n))
	for i := range b {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

func (s *storeState) getList(n uintptr, data uintptr) ([]Val, error) {
	if n == 0 {
		return nil, nil
	}
	cs := unsafe.Slice((*cVal)(cptr(data)), int(n))
	out := make([]Val, len(cs))
	for i := range cs {
		v, err := s.get(&cs[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func cString(n uintptr, data uintptr) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(cptr(data)), int(n)))
}

// largeResult is the size from which a call's result is freed right after
// it was copied into Go, instead of by the next call at the same depth.
const largeResult = 64 << 10

// large reports whether a result holds a string or list big enough to be
// worth a cgo call to free it now.
func large(v *cVal) bool {
	switch v.kind {
	case cKind(KindString):
		return v.a >= largeResult
	case cKind(KindList):
		return v.a*sizeofVal >= largeResult
	}
	return false
}
