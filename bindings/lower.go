package bindings

import (
	"fmt"
	"math"
	"unicode/utf8"
	"unsafe"
)

// A Lowerer writes one value straight into the C representation wasmtime
// receives, through a Writer, instead of building a tree of Vals that the
// call then walks twice (to check it and to copy it). Bindings generated
// from WIT use it for large arguments, such as a batch of log entries,
// where the Val tree was most of a call's cost.
//
// Lower must write exactly one value of the type the function expects;
// wasmtime checks the kinds when it lowers the value into the guest, and
// a mismatch fails the call with an error. Strings, names and chars are
// checked by the Writer (wasmtime's C API would abort the process on
// invalid UTF-8): the first invalid one fails the call before it reaches
// wasmtime.
type Lowerer interface {
	Lower(w Writer)
}

// lowering holds the Lowerer of a Val built by Lowered.
type lowering struct{ l Lowerer }

// Lowered returns a value of kind k whose content l writes when the value
// crosses into wasmtime: as a call's argument or a host function's result.
// The value has no Go content: its accessors panic, and it cannot be
// inspected, only passed on. Resources cannot be written through a
// Writer; use Vals for values that hold them.
func Lowered(k Kind, l Lowerer) Val {
	return Val{kind: k, low: &lowering{l}}
}

// Writer writes one value into the C representation of a call's
// arguments. It is a small value, passed by copy; the methods that start
// a compound value (List, Record, Tuple) return the writers of its parts.
// A Writer is valid only inside the Lower call that received it.
type Writer struct {
	a *arena
	v *cVal
}

// set writes a value of kind k with the payload words a, b and c.
func (w Writer) set(k Kind, a, b, c uintptr) {
	w.v.kind = cKind(k)
	w.v.a, w.v.b, w.v.c = a, b, c
}

func (w Writer) scalar(k Kind, bits uintptr) { w.set(k, bits, 0, 0) }

// Bool writes a bool.
func (w Writer) Bool(x bool) {
	var b uintptr
	if x {
		b = 1
	}
	w.scalar(KindBool, b)
}

// S8 writes an s8.
func (w Writer) S8(x int8) { w.scalar(KindS8, uintptr(uint8(x))) }

// U8 writes a u8.
func (w Writer) U8(x uint8) { w.scalar(KindU8, uintptr(x)) }

// S16 writes an s16.
func (w Writer) S16(x int16) { w.scalar(KindS16, uintptr(uint16(x))) }

// U16 writes a u16.
func (w Writer) U16(x uint16) { w.scalar(KindU16, uintptr(x)) }

// S32 writes an s32.
func (w Writer) S32(x int32) { w.scalar(KindS32, uintptr(uint32(x))) }

// U32 writes a u32.
func (w Writer) U32(x uint32) { w.scalar(KindU32, uintptr(x)) }

// S64 writes an s64.
func (w Writer) S64(x int64) { w.scalar(KindS64, uintptr(x)) }

// U64 writes a u64.
func (w Writer) U64(x uint64) { w.scalar(KindU64, uintptr(x)) }

// F32 writes an f32.
func (w Writer) F32(x float32) { w.scalar(KindF32, uintptr(math.Float32bits(x))) }

// F64 writes an f64.
func (w Writer) F64(x float64) { w.scalar(KindF64, uintptr(math.Float64bits(x))) }

// Char writes a char. A surrogate or a value above U+10FFFF fails the call.
func (w Writer) Char(x rune) {
	if !utf8.ValidRune(x) {
		w.a.fail(fmt.Errorf("char U+%04X is not a Unicode scalar value", uint32(x)))
		x = 0
	}
	w.scalar(KindChar, uintptr(uint32(x)))
}

// String writes a string. Invalid UTF-8 fails the call.
func (w Writer) String(s string) {
	if !utf8.ValidString(s) {
		w.a.fail(fmt.Errorf("string contains invalid UTF-8 at byte %d", invalidAt(s)))
		s = ""
	}
	w.set(KindString, uintptr(len(s)), w.a.bytes(s), 0)
}

// Enum writes the enum case name, which must be one of the type's (the
// generated bindings pass constants; wasmtime refuses others).
func (w Writer) Enum(name string) {
	name = w.name("enum case", name)
	w.set(KindEnum, uintptr(len(name)), w.a.bytes(name), 0)
}

// Parts are the writers of the elements of a list or tuple, or of the
// fields of a record, in order.
type Parts struct {
	a    *arena
	vals *cVal   // list and tuple elements
	fs   *cField // record fields
}

// At returns the writer of part i, which the caller keeps in range.
func (p Parts) At(i int) Writer {
	if p.fs != nil {
		return Writer{p.a, &unsafe.Slice(p.fs, i+1)[i].val}
	}
	return Writer{p.a, &unsafe.Slice(p.vals, i+1)[i]}
}

// List starts a list of n elements; write each through the Parts.
func (w Writer) List(n int) Parts {
	return w.seq(KindList, n)
}

// Tuple starts a tuple of n elements; write each through the Parts.
func (w Writer) Tuple(n int) Parts {
	return w.seq(KindTuple, n)
}

func (w Writer) seq(k Kind, n int) Parts {
	vals := w.a.vals(n)
	for i := range unsafe.Slice(vals, n) {
		// Zeroed, so that a part left unwritten is a bool, not garbage
		// (wasmtime then reports the type mismatch).
		unsafe.Slice(vals, n)[i] = cVal{}
	}
	w.set(k, uintptr(n), uintptr(unsafe.Pointer(vals)), 0)
	return Parts{a: w.a, vals: vals}
}

// Record starts a record with the given field names, in the type's order
// (the generated bindings pass a package-level slice); write each field
// through the Parts.
func (w Writer) Record(names []string) Parts {
	var t []cBytes
	if len(names) > 0 {
		if t = w.a.table(names); t == nil {
			// Not a table the arena keeps: check the names here (they are
			// then copied into the arena).
			w.names("record field", names)
		}
	}
	fs := w.a.fieldsWith(names, t)
	w.set(KindRecord, uintptr(len(names)), uintptr(unsafe.Pointer(fs)), 0)
	return Parts{a: w.a, fs: fs}
}

// None writes option::none.
func (w Writer) None() { w.set(KindOption, 0, 0, 0) }

// Some writes option::some and returns the writer of its payload.
func (w Writer) Some() Writer {
	p := w.payload()
	w.set(KindOption, uintptr(unsafe.Pointer(p)), 0, 0)
	return Writer{w.a, p}
}

// Variant writes the case name of a variant without a payload.
func (w Writer) Variant(name string) {
	name = w.name("variant case", name)
	w.set(KindVariant, uintptr(len(name)), w.a.bytes(name), 0)
}

// VariantWith writes the case name of a variant and returns the writer of
// its payload.
func (w Writer) VariantWith(name string) Writer {
	name = w.name("variant case", name)
	p := w.payload()
	w.set(KindVariant, uintptr(len(name)), w.a.bytes(name), uintptr(unsafe.Pointer(p)))
	return Writer{w.a, p}
}

// Result writes result::ok (ok) or result::err without a payload.
func (w Writer) Result(ok bool) { w.result(ok, nil) }

// ResultWith writes result::ok (ok) or result::err and returns the writer
// of its payload.
func (w Writer) ResultWith(ok bool) Writer {
	p := w.payload()
	w.result(ok, p)
	return Writer{w.a, p}
}

func (w Writer) result(ok bool, payload *cVal) {
	var bit uintptr
	if ok {
		bit = 1
	}
	w.set(KindResult, bit, uintptr(unsafe.Pointer(payload)), 0)
}

// Flags writes a flags value with the named flags set.
func (w Writer) Flags(set []string) {
	w.names("flag", set)
	w.set(KindFlags, uintptr(len(set)), w.a.names(set), 0)
}

func (w Writer) payload() *cVal {
	p := w.a.vals(1)
	*p = cVal{}
	return p
}

// name checks a case, field or flag name (wasmtime's C API would abort
// on invalid UTF-8 there too) and returns it, or "" after recording why.
func (w Writer) name(what, n string) string {
	if !utf8.ValidString(n) {
		w.a.fail(fmt.Errorf("%s name contains invalid UTF-8 at byte %d", what, invalidAt(n)))
		return ""
	}
	return n
}

// names checks names like name. An invalid one is copied as it is: the
// call fails before the values reach wasmtime.
func (w Writer) names(what string, names []string) {
	for _, n := range names {
		w.name(what, n)
	}
}

// fail records the first error of the values being written; the call
// checks it before anything reaches wasmtime.
func (a *arena) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

// takeErr returns and clears the recorded error.
func (a *arena) takeErr() error {
	err := a.err
	a.err = nil
	return err
}
