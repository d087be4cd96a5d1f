package bindings

import (
	"context"
	"fmt"
	"math"
	"unsafe"
)

// Reader reads a call's result where wasmtime left it, without building a
// Val tree: the counterpart of Writer, for code that knows the result's
// type (bindings generated from WIT). A Reader is valid only inside the
// function given to CallRead. Its accessors panic on a value of another
// kind, like Val's; CallRead turns such a panic into an error.
type Reader struct {
	s *storeState
	v *cVal
}

// Kind returns the kind of the value.
func (r Reader) Kind() Kind { return Kind(r.v.kind + 1) }

func (r Reader) must(k Kind) {
	if r.Kind() != k {
		panic(readKindError{want: k, got: r.Kind()})
	}
}

// readKindError is the panic of an accessor called on another kind.
type readKindError struct{ want, got Kind }

func (e readKindError) Error() string {
	return fmt.Sprintf("%s read from a %s value", e.want, e.got)
}

// Bool reads a bool.
func (r Reader) Bool() bool { r.must(KindBool); return *(*uint8)(unsafe.Pointer(&r.v.a)) != 0 }

// S8 reads an s8.
func (r Reader) S8() int8 { r.must(KindS8); return *(*int8)(unsafe.Pointer(&r.v.a)) }

// U8 reads a u8.
func (r Reader) U8() uint8 { r.must(KindU8); return *(*uint8)(unsafe.Pointer(&r.v.a)) }

// S16 reads an s16.
func (r Reader) S16() int16 { r.must(KindS16); return *(*int16)(unsafe.Pointer(&r.v.a)) }

// U16 reads a u16.
func (r Reader) U16() uint16 { r.must(KindU16); return *(*uint16)(unsafe.Pointer(&r.v.a)) }

// S32 reads an s32.
func (r Reader) S32() int32 { r.must(KindS32); return *(*int32)(unsafe.Pointer(&r.v.a)) }

// U32 reads a u32.
func (r Reader) U32() uint32 { r.must(KindU32); return *(*uint32)(unsafe.Pointer(&r.v.a)) }

// S64 reads an s64.
func (r Reader) S64() int64 { r.must(KindS64); return *(*int64)(unsafe.Pointer(&r.v.a)) }

// U64 reads a u64.
func (r Reader) U64() uint64 { r.must(KindU64); return *(*uint64)(unsafe.Pointer(&r.v.a)) }

// F32 reads an f32.
func (r Reader) F32() float32 {
	r.must(KindF32)
	return math.Float32frombits(*(*uint32)(unsafe.Pointer(&r.v.a)))
}

// F64 reads an f64.
func (r Reader) F64() float64 {
	r.must(KindF64)
	return math.Float64frombits(*(*uint64)(unsafe.Pointer(&r.v.a)))
}

// Char reads a char.
func (r Reader) Char() rune { r.must(KindChar); return rune(*(*uint32)(unsafe.Pointer(&r.v.a))) }

// String reads a string into Go memory.
func (r Reader) String() string { r.must(KindString); return cString(r.v.a, r.v.b) }

// Len returns the number of elements of a list or tuple, or of fields of a
// record.
func (r Reader) Len() int {
	switch r.Kind() {
	case KindList, KindTuple, KindRecord:
		return int(r.v.a)
	}
	panic(readKindError{want: KindList, got: r.Kind()})
}

// At returns the reader of element i of a list or tuple, or of the value
// of field i of a record (fields come in the type's order).
func (r Reader) At(i int) Reader {
	n := r.Len()
	if i < 0 || i >= n {
		panic(fmt.Sprintf("bindings: element %d of a %s of %d", i, r.Kind(), n))
	}
	if r.Kind() == KindRecord {
		return Reader{r.s, &unsafe.Slice((*cField)(cptr(r.v.b)), n)[i].val}
	}
	return Reader{r.s, &unsafe.Slice((*cVal)(cptr(r.v.b)), n)[i]}
}

// Case returns the index in names of the case of an enum or variant, or
// -1. Passing the type's case names (the generated bindings keep them in a
// package-level slice) finds the case without copying its name.
func (r Reader) Case(names []string) int {
	if k := r.Kind(); k != KindEnum && k != KindVariant {
		panic(readKindError{want: KindVariant, got: k})
	}
	for i, n := range names {
		if cEqual(r.v.a, r.v.b, n) {
			return i
		}
	}
	return -1
}

// IsSome reports whether an option is some.
func (r Reader) IsSome() bool { r.must(KindOption); return r.v.a != 0 }

// IsOk reports whether a result is ok.
func (r Reader) IsOk() bool { r.must(KindResult); return *(*uint8)(unsafe.Pointer(&r.v.a)) != 0 }

// Payload returns the reader of the payload of a variant case, an option
// or a result, and whether there is one.
func (r Reader) Payload() (Reader, bool) {
	var p uintptr
	switch r.Kind() {
	case KindVariant:
		p = r.v.c
	case KindOption:
		p = r.v.a
	case KindResult:
		p = r.v.b
	default:
		panic(readKindError{want: KindVariant, got: r.Kind()})
	}
	if p == 0 {
		return Reader{}, false
	}
	return Reader{r.s, (*cVal)(cptr(p))}, true
}

// Flags returns a bit set of the flags that are set: bit i for names[i].
// Flags not in names are ignored.
func (r Reader) Flags(names []string) uint64 {
	r.must(KindFlags)
	var set uint64
	n := int(r.v.a)
	if n == 0 {
		return 0
	}
	for _, b := range unsafe.Slice((*cBytes)(cptr(r.v.b)), n) {
		for i, name := range names {
			if i < 64 && cEqual(b.size, b.data, name) {
				set |= 1 << i
				break
			}
		}
	}
	return set
}

// Val reads the value as a Val: for the parts a typed reader does not
// handle, such as resources (whose handles the store then owns).
func (r Reader) Val() (Val, error) { return r.s.get(r.v) }

// CallRead is Call for a caller that reads the result in place: read runs
// on the result before it is freed, instead of Call building a Val. For a
// function without a result read is not called. A panic of a Reader
// accessor (a value of another kind than read expected) is returned as an
// error, and so is read's own error; the instance stays usable either way.
func (f *Func) CallRead(ctx context.Context, read func(Reader) error, args ...Val) error {
	if read == nil {
		return fmt.Errorf("function %s: CallRead without a read function", f.name)
	}
	_, err := f.call(ctx, read, args)
	return err
}

// readResult runs read on the result at res. A panic other than a
// Reader's is returned, for the call to raise again once the store is in
// order.
func (f *Func) readResult(read func(Reader) error, res *cVal) (err error, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			if ke, ok := p.(readKindError); ok {
				err = fmt.Errorf("reading the result of %s: %w", f.name, ke)
				return
			}
			panicked = p
		}
	}()
	return read(Reader{f.store.storeState, res}), nil
}
