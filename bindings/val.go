package bindings

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of a component-model value or type.
type Kind uint8

// The value kinds of the component model. KindOwn and KindBorrow appear only
// in types: a resource value has KindResource whatever its handle type.
const (
	KindBool Kind = iota + 1
	KindS8
	KindU8
	KindS16
	KindU16
	KindS32
	KindU32
	KindS64
	KindU64
	KindF32
	KindF64
	KindChar
	KindString
	KindList
	KindRecord
	KindTuple
	KindVariant
	KindEnum
	KindOption
	KindResult
	KindFlags
	KindResource
	KindOwn
	KindBorrow
	KindFuture
	KindStream
	KindErrorContext
)

var kindNames = [...]string{
	KindBool: "bool", KindS8: "s8", KindU8: "u8", KindS16: "s16", KindU16: "u16",
	KindS32: "s32", KindU32: "u32", KindS64: "s64", KindU64: "u64", KindF32: "f32",
	KindF64: "f64", KindChar: "char", KindString: "string", KindList: "list",
	KindRecord: "record", KindTuple: "tuple", KindVariant: "variant", KindEnum: "enum",
	KindOption: "option", KindResult: "result", KindFlags: "flags",
	KindResource: "resource", KindOwn: "own", KindBorrow: "borrow", KindFuture: "future",
	KindStream: "stream", KindErrorContext: "error-context",
}

// String returns the WIT name of the kind, e.g. "u32" or "record".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Val is one component-model value. The zero Val is invalid; build values
// with the constructors (Bool, U32, String, Record, ...) and read them with
// the accessor of their kind. Like reflect.Value, an accessor called on a
// value of another kind panics: the kinds of call results always match the
// function's type, which wasmtime checks, so a mismatch is a bug in the
// caller, not bad guest input.
//
// Vals are immutable values; copying a Val is cheap and shares its payload.
type Val struct {
	kind  Kind
	bits  uint64   // scalars; option: 1 = some; result: 1 = ok
	str   string   // string; enum and variant case names
	elems []Val    // list, tuple, record values; option, result, variant payload (0 or 1)
	names []string // record field names; flags that are set
	res   *Resource
	low   *lowering // a value written when it crosses (Lowered)
}

// Bool returns a bool value.
func Bool(v bool) Val {
	var b uint64
	if v {
		b = 1
	}
	return Val{kind: KindBool, bits: b}
}

// S8 returns an s8 value.
func S8(v int8) Val { return Val{kind: KindS8, bits: uint64(v)} }

// U8 returns a u8 value.
func U8(v uint8) Val { return Val{kind: KindU8, bits: uint64(v)} }

// S16 returns an s16 value.
func S16(v int16) Val { return Val{kind: KindS16, bits: uint64(v)} }

// U16 returns a u16 value.
func U16(v uint16) Val { return Val{kind: KindU16, bits: uint64(v)} }

// S32 returns an s32 value.
func S32(v int32) Val { return Val{kind: KindS32, bits: uint64(v)} }

// U32 returns a u32 value.
func U32(v uint32) Val { return Val{kind: KindU32, bits: uint64(v)} }

// S64 returns an s64 value.
func S64(v int64) Val { return Val{kind: KindS64, bits: uint64(v)} }

// U64 returns a u64 value.
func U64(v uint64) Val { return Val{kind: KindU64, bits: v} }

// F32 returns an f32 value.
func F32(v float32) Val { return Val{kind: KindF32, bits: uint64(math.Float32bits(v))} }

// F64 returns an f64 value.
func F64(v float64) Val { return Val{kind: KindF64, bits: math.Float64bits(v)} }

// Char returns a char value. Surrogates and values above U+10FFFF are not
// chars; a call carrying one fails with an error before it reaches wasmtime.
func Char(r rune) Val { return Val{kind: KindChar, bits: uint64(uint32(r))} }

// String returns a string value. Strings must be valid UTF-8; a call
// carrying one that is not fails before it reaches wasmtime.
func String(s string) Val { return Val{kind: KindString, str: s} }

// List returns a list value. The elements must all have the list's element
// type; wasmtime checks this when the value crosses into a component.
func List(elems ...Val) Val { return Val{kind: KindList, elems: elems} }

// Record returns a record value with the given field names and values, in
// the record type's field order. The names slice is not copied and may be
// shared between values (generated code passes one per record type).
func Record(names []string, values []Val) Val {
	if len(names) != len(values) {
		panic(fmt.Sprintf("bindings.Record: %d names but %d values", len(names), len(values)))
	}
	return Val{kind: KindRecord, names: names, elems: values}
}

// Tuple returns a tuple value.
func Tuple(elems ...Val) Val { return Val{kind: KindTuple, elems: elems} }

// Variant returns a variant value of the named case without a payload.
func Variant(caseName string) Val { return Val{kind: KindVariant, str: caseName} }

// VariantWith returns a variant value of the named case carrying payload.
func VariantWith(caseName string, payload Val) Val {
	return Val{kind: KindVariant, str: caseName, elems: []Val{payload}}
}

// Enum returns an enum value of the named case.
func Enum(caseName string) Val { return Val{kind: KindEnum, str: caseName} }

// Some returns option::some(v).
func Some(v Val) Val { return Val{kind: KindOption, bits: 1, elems: []Val{v}} }

// None returns option::none.
func None() Val { return Val{kind: KindOption} }

// Ok returns result::ok(v).
func Ok(v Val) Val { return Val{kind: KindResult, bits: 1, elems: []Val{v}} }

// OkEmpty returns result::ok for a result without an ok payload.
func OkEmpty() Val { return Val{kind: KindResult, bits: 1} }

// Err returns result::err(v).
func Err(v Val) Val { return Val{kind: KindResult, elems: []Val{v}} }

// ErrEmpty returns result::err for a result without an error payload.
func ErrEmpty() Val { return Val{kind: KindResult} }

// Flags returns a flags value with the named flags set. The slice is not
// copied.
func Flags(set ...string) Val { return Val{kind: KindFlags, names: set} }

// ResourceVal returns a value carrying a resource handle.
func ResourceVal(r *Resource) Val { return Val{kind: KindResource, res: r} }

// Kind returns the value's kind; 0 for the zero Val.
func (v Val) Kind() Kind { return v.kind }

// IsValid reports whether v was built by a constructor.
func (v Val) IsValid() bool { return v.kind != 0 }

func (v Val) must(k Kind) {
	if v.low != nil {
		panic(fmt.Sprintf("bindings: %s accessor called on a Lowered value, which has no Go content", k))
	}
	if v.kind != k {
		panic(fmt.Sprintf("bindings: %s accessor called on a %s value", k, v.kind))
	}
}

// Bool returns the value of a bool.
func (v Val) Bool() bool { v.must(KindBool); return v.bits != 0 }

// S8 returns the value of an s8.
func (v Val) S8() int8 { v.must(KindS8); return int8(v.bits) }

// U8 returns the value of a u8.
func (v Val) U8() uint8 { v.must(KindU8); return uint8(v.bits) }

// S16 returns the value of an s16.
func (v Val) S16() int16 { v.must(KindS16); return int16(v.bits) }

// U16 returns the value of a u16.
func (v Val) U16() uint16 { v.must(KindU16); return uint16(v.bits) }

// S32 returns the value of an s32.
func (v Val) S32() int32 { v.must(KindS32); return int32(v.bits) }

// U32 returns the value of a u32.
func (v Val) U32() uint32 { v.must(KindU32); return uint32(v.bits) }

// S64 returns the value of an s64.
func (v Val) S64() int64 { v.must(KindS64); return int64(v.bits) }

// U64 returns the value of a u64.
func (v Val) U64() uint64 { v.must(KindU64); return v.bits }

// F32 returns the value of an f32.
func (v Val) F32() float32 { v.must(KindF32); return math.Float32frombits(uint32(v.bits)) }

// F64 returns the value of an f64.
func (v Val) F64() float64 { v.must(KindF64); return math.Float64frombits(v.bits) }

// Char returns the value of a char.
func (v Val) Char() rune { v.must(KindChar); return rune(uint32(v.bits)) }

// Str returns the contents of a string. (String formats any value.)
func (v Val) Str() string { v.must(KindString); return v.str }

// Elems returns the elements of a list or tuple. The slice must not be
// modified.
func (v Val) Elems() []Val {
	if v.kind != KindList && v.kind != KindTuple || v.low != nil {
		v.must(KindList)
	}
	return v.elems
}

// Fields returns the field names and values of a record. The slices must not
// be modified.
func (v Val) Fields() (names []string, values []Val) {
	v.must(KindRecord)
	return v.names, v.elems
}

// Field returns the value of the named record field.
func (v Val) Field(name string) (Val, bool) {
	v.must(KindRecord)
	for i, n := range v.names {
		if n == name {
			return v.elems[i], true
		}
	}
	return Val{}, false
}

// Case returns the case name of a variant or enum.
func (v Val) Case() string {
	if v.kind != KindEnum || v.low != nil {
		v.must(KindVariant)
	}
	return v.str
}

// Payload returns the payload of a variant case, an option or a result, and
// whether there is one.
func (v Val) Payload() (Val, bool) {
	switch v.kind {
	case KindVariant, KindOption, KindResult:
		if v.low != nil {
			v.must(v.kind)
		}
	default:
		v.must(KindVariant)
	}
	if len(v.elems) == 0 {
		return Val{}, false
	}
	return v.elems[0], true
}

// IsSome reports whether an option is some.
func (v Val) IsSome() bool { v.must(KindOption); return v.bits != 0 }

// IsOk reports whether a result is ok.
func (v Val) IsOk() bool { v.must(KindResult); return v.bits != 0 }

// FlagsSet returns the names of the set flags. The slice must not be
// modified.
func (v Val) FlagsSet() []string { v.must(KindFlags); return v.names }

// Resource returns the handle carried by a resource value.
func (v Val) Resource() *Resource { v.must(KindResource); return v.res }

// Equal reports whether a and b are the same value: same kind and same
// contents, recursively. Floats compare by bits, so NaN equals the same NaN.
// Flags compare as sets. Resources compare by handle identity.
func Equal(a, b Val) bool {
	if a.low != nil || b.low != nil {
		return a.low == b.low && a.kind == b.kind // no content to compare
	}
	if a.kind != b.kind || a.bits != b.bits || a.str != b.str || len(a.elems) != len(b.elems) {
		return false
	}
	switch a.kind {
	case KindRecord:
		if len(a.names) != len(b.names) {
			return false
		}
		for i := range a.names {
			if a.names[i] != b.names[i] {
				return false
			}
		}
	case KindFlags:
		if len(a.names) != len(b.names) {
			return false
		}
		set := make(map[string]bool, len(a.names))
		for _, n := range a.names {
			set[n] = true
		}
		for _, n := range b.names {
			if !set[n] {
				return false
			}
		}
	case KindResource:
		return a.res == b.res
	}
	for i := range a.elems {
		if !Equal(a.elems[i], b.elems[i]) {
			return false
		}
	}
	return true
}

// String formats the value in a WIT-like notation, e.g. `some("x")` or
// `{name: "a", n: 1}`; for debugging and error messages.
func (v Val) String() string {
	var b strings.Builder
	v.format(&b)
	return b.String()
}

func (v Val) format(b *strings.Builder) {
	if v.low != nil {
		b.WriteString("<lowered " + v.kind.String() + ">")
		return
	}
	switch v.kind {
	case KindBool:
		b.WriteString(strconv.FormatBool(v.bits != 0))
	case KindS8, KindS16, KindS32, KindS64:
		b.WriteString(strconv.FormatInt(signExtend(v), 10))
	case KindU8, KindU16, KindU32, KindU64:
		b.WriteString(strconv.FormatUint(v.bits, 10))
	case KindF32:
		b.WriteString(strconv.FormatFloat(float64(v.F32()), 'g', -1, 32))
	case KindF64:
		b.WriteString(strconv.FormatFloat(v.F64(), 'g', -1, 64))
	case KindChar:
		b.WriteString(strconv.QuoteRune(v.Char()))
	case KindString:
		b.WriteString(strconv.Quote(v.str))
	case KindList, KindTuple:
		open, close := "[", "]"
		if v.kind == KindTuple {
			open, close = "(", ")"
		}
		b.WriteString(open)
		for i, e := range v.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.format(b)
		}
		b.WriteString(close)
	case KindRecord:
		b.WriteString("{")
		for i, e := range v.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.names[i])
			b.WriteString(": ")
			e.format(b)
		}
		b.WriteString("}")
	case KindVariant, KindEnum:
		b.WriteString(v.str)
		if len(v.elems) == 1 {
			b.WriteString("(")
			v.elems[0].format(b)
			b.WriteString(")")
		}
	case KindOption:
		if v.bits == 0 {
			b.WriteString("none")
			return
		}
		b.WriteString("some(")
		v.elems[0].format(b)
		b.WriteString(")")
	case KindResult:
		if v.bits != 0 {
			b.WriteString("ok")
		} else {
			b.WriteString("err")
		}
		if len(v.elems) == 1 {
			b.WriteString("(")
			v.elems[0].format(b)
			b.WriteString(")")
		}
	case KindFlags:
		b.WriteString("{")
		b.WriteString(strings.Join(v.names, ", "))
		b.WriteString("}")
	case KindResource:
		b.WriteString(v.res.String())
	default:
		b.WriteString("<invalid>")
	}
}

func signExtend(v Val) int64 {
	switch v.kind {
	case KindS8:
		return int64(int8(v.bits))
	case KindS16:
		return int64(int16(v.bits))
	case KindS32:
		return int64(int32(v.bits))
	}
	return int64(v.bits)
}

// check reports why v cannot cross into wasmtime, whose C API aborts the
// process on strings that are not UTF-8 and on invalid chars. It runs on
// every argument and host-callback result before conversion, with the
// store they go to.
func (v Val) check(s *storeState) error {
	if v.low != nil {
		return nil // the Writer checks what it writes
	}
	switch v.kind {
	case 0:
		return fmt.Errorf("invalid zero Val")
	case KindChar:
		r := rune(uint32(v.bits))
		if !utf8.ValidRune(r) {
			return fmt.Errorf("char U+%04X is not a Unicode scalar value", uint32(v.bits))
		}
	case KindString, KindEnum, KindVariant:
		if !utf8.ValidString(v.str) {
			return fmt.Errorf("%s contains invalid UTF-8 at byte %d", v.kind, invalidAt(v.str))
		}
	case KindRecord, KindFlags:
		for _, n := range v.names {
			if !utf8.ValidString(n) {
				return fmt.Errorf("%s name contains invalid UTF-8", v.kind)
			}
		}
	case KindResource:
		switch {
		case v.res == nil:
			return fmt.Errorf("resource value with a nil handle")
		case v.res.ptr == nil:
			return fmt.Errorf("%s cannot be used anymore", v.res)
		case v.res.store.storeState != s:
			return fmt.Errorf("resource handle belongs to another store")
		}
	case KindOption, KindResult:
		if v.kind == KindOption && v.bits != 0 && len(v.elems) != 1 {
			return fmt.Errorf("option::some without a payload")
		}
	}
	for i := range v.elems {
		if err := v.elems[i].check(s); err != nil {
			return err
		}
	}
	return nil
}

func invalidAt(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// checkType reports why v cannot be passed where a value of type t is
// expected, before wasmtime sees it: wasmtime checks types too, but only
// while it lowers the arguments, after it has marked the instance as
// entered, so a mismatch found there leaves the instance unusable. It
// includes check's validations.
func (v Val) checkType(t *Type, s *storeState) error {
	if t == nil {
		return fmt.Errorf("value %s where the type has no payload", v.kind)
	}
	want := t.Kind
	if want == KindOwn || want == KindBorrow {
		want = KindResource
	}
	if v.kind != want {
		if v.kind == 0 {
			return fmt.Errorf("invalid zero Val where %s is expected", t)
		}
		return fmt.Errorf("%s value where %s is expected", v.kind, t)
	}
	if v.low != nil {
		return nil // the Writer checks what it writes; wasmtime the kinds
	}
	switch t.Kind {
	case KindChar, KindString, KindOwn, KindBorrow:
		return v.check(s)
	case KindList:
		for i := range v.elems {
			if err := v.elems[i].checkType(t.Elem, s); err != nil {
				return fmt.Errorf("list element %d: %w", i, err)
			}
		}
	case KindRecord:
		if len(v.elems) != len(t.Fields) {
			return fmt.Errorf("record with %d fields where %s is expected", len(v.elems), t)
		}
		for i, f := range t.Fields {
			if v.names[i] != f.Name {
				return fmt.Errorf("record field %d is %q, want %q (fields go in the type's order)", i, v.names[i], f.Name)
			}
			if err := v.elems[i].checkType(f.Type, s); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
	case KindTuple:
		if len(v.elems) != len(t.Elems) {
			return fmt.Errorf("tuple of %d where %s is expected", len(v.elems), t)
		}
		for i, et := range t.Elems {
			if err := v.elems[i].checkType(et, s); err != nil {
				return fmt.Errorf("tuple element %d: %w", i, err)
			}
		}
	case KindVariant:
		for _, c := range t.Cases {
			if c.Name != v.str {
				continue
			}
			switch {
			case c.Type == nil && len(v.elems) > 0:
				return fmt.Errorf("variant case %s has no payload, got one", c.Name)
			case c.Type != nil && len(v.elems) == 0:
				return fmt.Errorf("variant case %s needs a payload of type %s", c.Name, c.Type)
			case c.Type != nil:
				if err := v.elems[0].checkType(c.Type, s); err != nil {
					return fmt.Errorf("case %s: %w", c.Name, err)
				}
			}
			return nil
		}
		return fmt.Errorf("%q is not a case of %s", v.str, t)
	case KindEnum:
		for _, n := range t.Names {
			if n == v.str {
				return nil
			}
		}
		return fmt.Errorf("%q is not a case of %s", v.str, t)
	case KindFlags:
		for _, n := range v.names {
			if !contains(t.Names, n) {
				return fmt.Errorf("%q is not a flag of %s", n, t)
			}
		}
	case KindOption:
		if v.bits != 0 {
			if len(v.elems) != 1 {
				return fmt.Errorf("option::some without a payload")
			}
			if err := v.elems[0].checkType(t.Elem, s); err != nil {
				return fmt.Errorf("some: %w", err)
			}
		}
	case KindResult:
		pt, name := t.Err, "err"
		if v.bits != 0 {
			pt, name = t.Ok, "ok"
		}
		switch {
		case pt == nil && len(v.elems) > 0:
			return fmt.Errorf("result::%s of %s has no payload, got one", name, t)
		case pt != nil && len(v.elems) == 0:
			return fmt.Errorf("result::%s of %s needs a payload of type %s", name, t, pt)
		case pt != nil:
			if err := v.elems[0].checkType(pt, s); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
