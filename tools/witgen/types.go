package main

import (
	"fmt"
	"strings"

	"go.bytecodealliance.org/wit"
)

// goType returns the Go type expression for t as used in file f.
//
// The mapping: records → structs; enums → named integer types with
// constants; flags → named unsigned bit sets; variants → sealed interfaces
// with one struct type per case; option<T> → *T; list<T> → []T; tuple<...>
// → struct{ F0 T0; F1 T1 ... }; result<T, E> outside a function result →
// struct{ OK T; Err E; IsErr bool }; own<r> and borrow<r> → *R, the
// resource's handle type; named aliases → Go type aliases.
func (f *file) goType(t wit.Type) string {
	if g, ok := primitiveGoType(t); ok {
		return g
	}
	switch t := t.(type) {
	case wit.ErrorContext:
		return f.std("bindings") + ".Val"
	case *wit.TypeDef:
		if isNamed(t) {
			t = useTarget(t)
			q := f.pkg.g.pkgOf(t)
			name := q.typeNames[t]
			if _, ok := namedRoot(t).Kind.(*wit.Resource); ok {
				return "*" + f.pkgRef(q) + name
			}
			return f.pkgRef(q) + name
		}
		return f.goKind(t.Kind)
	}
	panic(fmt.Sprintf("witgen: unknown type %T", t))
}

// useTarget follows `use` chains: a TypeDef that only imports a type from
// another interface or world stands for that type. Aliases declared in the
// same owner (type a = b) are kept: they are Go aliases with their own name.
func useTarget(t *wit.TypeDef) *wit.TypeDef {
	for {
		k, ok := t.Kind.(*wit.TypeDef)
		if !ok || !isNamed(k) || k.Owner == t.Owner {
			return t
		}
		t = k
	}
}

// goKind renders an anonymous type.
func (f *file) goKind(k wit.TypeDefKind) string {
	switch k := k.(type) {
	case wit.Type:
		return f.goType(k)
	case *wit.List:
		return "[]" + f.goType(k.Type)
	case *wit.Option:
		return "*" + f.goType(k.Type)
	case *wit.Tuple:
		var b strings.Builder
		b.WriteString("struct{ ")
		for i, e := range k.Types {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "F%d %s", i, f.goType(e))
		}
		b.WriteString(" }")
		return b.String()
	case *wit.Result:
		var parts []string
		if k.OK != nil {
			parts = append(parts, "OK "+f.goType(k.OK))
		}
		if k.Err != nil {
			parts = append(parts, "Err "+f.goType(k.Err))
		}
		parts = append(parts, "IsErr bool")
		return "struct{ " + strings.Join(parts, "; ") + " }"
	case *wit.Own:
		return f.goType(k.Type)
	case *wit.Borrow:
		return f.goType(k.Type)
	case *wit.Future, *wit.Stream:
		return f.std("bindings") + ".Val"
	case nil:
		panic("witgen: a type uses a WIT feature this generator does not know (e.g. a fixed-size list)")
	}
	panic(fmt.Sprintf("witgen: unexpected anonymous type %T", k))
}

// zero returns the zero value expression of a Go type expression of t.
func (f *file) zero(t wit.Type) string {
	switch k := resolveAlias(t).(type) {
	case wit.Bool:
		return "false"
	case wit.String:
		return `""`
	case wit.ErrorContext:
		return f.std("bindings") + ".Val{}"
	case wit.Primitive:
		return "0"
	case *wit.TypeDef:
		switch kk := k.Kind.(type) {
		case *wit.Record, *wit.Tuple, *wit.Result:
			return f.goType(t) + "{}"
		case *wit.Enum, *wit.Flags:
			return "0"
		case *wit.Future, *wit.Stream:
			return f.std("bindings") + ".Val{}"
		default:
			_ = kk
			return "nil"
		}
	}
	return "nil"
}

// witTypeString renders t in WIT syntax, for documentation.
func witTypeString(t wit.Type) string {
	switch t := t.(type) {
	case *wit.TypeDef:
		if isNamed(t) {
			return t.TypeName()
		}
		return witKindString(t.Kind)
	case nil:
		return "_"
	}
	return witPrimitive(t)
}

func witPrimitive(t wit.Type) string {
	if p, ok := t.(interface{ WITKind() string }); ok {
		return p.WITKind() // the wit package's own name of every primitive
	}
	return fmt.Sprintf("%T", t)
}

func witKindString(k wit.TypeDefKind) string {
	switch k := k.(type) {
	case wit.Type:
		return witTypeString(k)
	case *wit.List:
		return "list<" + witTypeString(k.Type) + ">"
	case *wit.Option:
		return "option<" + witTypeString(k.Type) + ">"
	case *wit.Tuple:
		var parts []string
		for _, e := range k.Types {
			parts = append(parts, witTypeString(e))
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case *wit.Result:
		switch {
		case k.OK == nil && k.Err == nil:
			return "result"
		case k.Err == nil:
			return "result<" + witTypeString(k.OK) + ">"
		}
		return "result<" + witTypeString(k.OK) + ", " + witTypeString(k.Err) + ">"
	case *wit.Own:
		return witTypeString(k.Type)
	case *wit.Borrow:
		return "borrow<" + witTypeString(k.Type) + ">"
	case *wit.Future:
		if k.Type == nil {
			return "future"
		}
		return "future<" + witTypeString(k.Type) + ">"
	case *wit.Stream:
		return "stream<" + witTypeString(k.Type) + ">"
	case *wit.Record:
		return "record"
	case *wit.Variant:
		return "variant"
	case *wit.Enum:
		return "enum"
	case *wit.Flags:
		return "flags"
	case *wit.Resource:
		return "resource"
	}
	return "?"
}

// sig renders t like witrt.Sig renders the reflected type of a component.
func sig(t wit.Type) string {
	var b strings.Builder
	sigType(&b, t)
	return b.String()
}

func funcSig(fn *wit.Function) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, p := range fn.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		sigType(&b, p.Type)
	}
	b.WriteByte(')')
	if len(fn.Results) == 1 {
		b.WriteString("->")
		sigType(&b, fn.Results[0].Type)
	}
	return b.String()
}

func sigType(b *strings.Builder, t wit.Type) {
	if t == nil {
		b.WriteByte('_')
		return
	}
	td, ok := t.(*wit.TypeDef)
	if !ok {
		b.WriteString(witPrimitive(t))
		return
	}
	switch k := td.Kind.(type) {
	case wit.Type:
		sigType(b, k)
	case *wit.List:
		b.WriteString("list<")
		sigType(b, k.Type)
		b.WriteByte('>')
	case *wit.Option:
		b.WriteString("option<")
		sigType(b, k.Type)
		b.WriteByte('>')
	case *wit.Tuple:
		b.WriteString("tuple<")
		for i, e := range k.Types {
			if i > 0 {
				b.WriteByte(',')
			}
			sigType(b, e)
		}
		b.WriteByte('>')
	case *wit.Result:
		b.WriteString("result")
		switch {
		case k.OK == nil && k.Err == nil:
		case k.Err == nil:
			b.WriteByte('<')
			sigType(b, k.OK)
			b.WriteByte('>')
		default:
			b.WriteByte('<')
			sigType(b, k.OK)
			b.WriteByte(',')
			sigType(b, k.Err)
			b.WriteByte('>')
		}
	case *wit.Record:
		b.WriteString("record{")
		for i, f := range k.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Name)
			b.WriteByte(':')
			sigType(b, f.Type)
		}
		b.WriteByte('}')
	case *wit.Variant:
		b.WriteString("variant{")
		for i, c := range k.Cases {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.Name)
			if c.Type != nil {
				b.WriteByte('(')
				sigType(b, c.Type)
				b.WriteByte(')')
			}
		}
		b.WriteByte('}')
	case *wit.Enum:
		b.WriteString("enum{")
		for i, c := range k.Cases {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.Name)
		}
		b.WriteByte('}')
	case *wit.Flags:
		b.WriteString("flags{")
		for i, c := range k.Flags {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.Name)
		}
		b.WriteByte('}')
	case *wit.Own:
		b.WriteString("own")
	case *wit.Borrow:
		b.WriteString("borrow")
	case *wit.Resource:
		// A resource named directly (a function parameter `x: r`) is an own.
		b.WriteString("own")
	case *wit.Future:
		b.WriteString("future")
		if k.Type != nil {
			b.WriteByte('<')
			sigType(b, k.Type)
			b.WriteByte('>')
		}
	case *wit.Stream:
		b.WriteString("stream")
		if k.Type != nil {
			b.WriteByte('<')
			sigType(b, k.Type)
			b.WriteByte('>')
		}
	default:
		b.WriteString("?")
	}
}

// hasAsync reports whether t contains a future, stream or error-context,
// which wasmtime's C API cannot convert: functions using them are skipped.
func hasAsync(t wit.TypeDefKind) bool {
	found := false
	var check func(k wit.TypeDefKind)
	check = func(k wit.TypeDefKind) {
		switch k.(type) {
		case *wit.Future, *wit.Stream, wit.ErrorContext:
			found = true
		}
	}
	check(t)
	walkType(t, func(td *wit.TypeDef) { check(td.Kind) })
	return found
}

// hasResource reports whether t contains a resource handle.
func hasResource(t wit.TypeDefKind) bool {
	found := false
	walkType(t, func(td *wit.TypeDef) {
		switch td.Kind.(type) {
		case *wit.Own, *wit.Borrow, *wit.Resource:
			found = true
		}
	})
	return found
}

// canFault reports whether converting a Go value of t can fail: enums and
// flags out of range, nil variants, and resource handles.
func canFault(t wit.TypeDefKind) bool {
	found := false
	walkType(t, func(td *wit.TypeDef) {
		switch td.Kind.(type) {
		case *wit.Own, *wit.Borrow, *wit.Resource, *wit.Enum, *wit.Flags, *wit.Variant:
			found = true
		}
	})
	return found
}

func funcHasAsync(fn *wit.Function) bool {
	for _, p := range fn.Params {
		if hasAsync(p.Type) {
			return true
		}
	}
	for _, r := range fn.Results {
		if hasAsync(r.Type) {
			return true
		}
	}
	return false
}
