package bindings

import "github.com/driftless-dev/driftless/bindings/internal/typenames"

// Type names come from the component's binary, not from wasmtime: wasmtime
// interns types by structure, so its C API cannot tell record a { x: u32 }
// from record b { x: u32 }, nor an alias from what it aliases. The binary
// says which named type every parameter, result, field and case refers to
// (package typenames reads it). Those names are laid over the types
// wasmtime reflects, item by item; an item whose decoded types do not
// match wasmtime's exactly (kinds, field and case names, arity) keeps no
// decoded name, so a decoder mistake shows a structure, never a wrong
// name. Without the binary (a component deserialized without its source),
// types print as their structure, and handles by their resource's name.

// applyNames names the types of defs after the decoded items of the same
// names.
func applyNames(defs []ItemDef, decoded map[string]*typenames.Item) {
	for _, d := range defs {
		applyItem(d.Item, decoded[d.Name])
	}
}

func applyItem(it *Item, d *typenames.Item) {
	if d == nil {
		return
	}
	switch it.Kind {
	case ItemInstance:
		if d.Kind == typenames.ItemInstance && d.Exports != nil {
			applyNames(it.Exports, d.Exports)
		}
	case ItemFunc:
		if d.Kind != typenames.ItemFunc || d.Func == nil {
			return
		}
		f, df := it.Func, d.Func
		if len(f.Params) != len(df.Params) || (f.Result == nil) != (df.Result == nil) {
			return
		}
		var m namer
		for i, p := range f.Params {
			if p.Name != df.Params[i].Name || !m.match(p.Type, df.Params[i].Type) {
				return
			}
		}
		if f.Result != nil && !m.match(f.Result, df.Result) {
			return
		}
		m.commit()
	case ItemResource:
		// `type headers = fields` for a resource: the C API sees one
		// resource under two names, the binary says which is the alias.
		if d.Kind == typenames.ItemType && d.Type != nil && d.Type.Def().Kind == typenames.KindResource {
			it.aliasOf = d.Type.AliasOf()
		}
	case ItemType:
		if d.Kind != typenames.ItemType || d.Type == nil {
			return
		}
		var m namer
		if !m.match(it.Type, d.Type.Def()) {
			return
		}
		m.commit()
		switch alias := d.Type.AliasOf(); {
		case it.Type.Kind == KindOwn || it.Type.Kind == KindBorrow:
			// `type handle = own<r>`: named after its resource.
		case alias != "":
			// An alias names the type it equals; a definition, itself.
			it.Type.Name = alias
		default:
			it.Type.Name = d.Type.Name()
		}
	}
}

// namer collects the names of one item's types while checking that the
// decoded types have wasmtime's structure, to set them all or none.
type namer struct {
	types   []*Type
	names   []string
	handles []bool
}

func (m *namer) commit() {
	for i, t := range m.types {
		t.Name, t.handleName = m.names[i], m.handles[i]
	}
}

func (m *namer) set(t *Type, name string, handle bool) {
	if name != "" {
		m.types = append(m.types, t)
		m.names = append(m.names, name)
		m.handles = append(m.handles, handle)
	}
}

var primitiveKinds = map[byte]Kind{
	typenames.PrimBool: KindBool, typenames.PrimS8: KindS8, typenames.PrimU8: KindU8,
	typenames.PrimS16: KindS16, typenames.PrimU16: KindU16, typenames.PrimS32: KindS32,
	typenames.PrimU32: KindU32, typenames.PrimS64: KindS64, typenames.PrimU64: KindU64,
	typenames.PrimF32: KindF32, typenames.PrimF64: KindF64, typenames.PrimChar: KindChar,
	typenames.PrimString: KindString, typenames.PrimErrorContext: KindErrorContext,
}

// match reports whether ref, a reference to a decoded type, has t's
// structure, and records the names along the way.
func (m *namer) match(t *Type, ref *typenames.Type) bool {
	if t == nil || ref == nil {
		return t == nil && ref == nil
	}
	d := ref.Def()
	name := ref.Name()
	switch t.Kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindS64, KindU64,
		KindF32, KindF64, KindChar, KindString, KindErrorContext:
		if d.Kind != typenames.KindPrimitive || primitiveKinds[d.Prim] != t.Kind {
			return false
		}
	case KindList, KindOption:
		want := typenames.KindList
		if t.Kind == KindOption {
			want = typenames.KindOption
		}
		if d.Kind != want || len(d.Elems) != 1 || !m.match(t.Elem, d.Elems[0]) {
			return false
		}
	case KindFuture, KindStream:
		want := typenames.KindFuture
		if t.Kind == KindStream {
			want = typenames.KindStream
		}
		if d.Kind != want || len(d.Elems) != 1 || !m.match(t.Elem, d.Elems[0]) {
			return false
		}
	case KindTuple:
		if d.Kind != typenames.KindTuple || len(d.Elems) != len(t.Elems) {
			return false
		}
		for i, e := range t.Elems {
			if !m.match(e, d.Elems[i]) {
				return false
			}
		}
	case KindResult:
		if d.Kind != typenames.KindResult || len(d.Elems) != 2 ||
			!m.match(t.Ok, d.Elems[0]) || !m.match(t.Err, d.Elems[1]) {
			return false
		}
	case KindRecord:
		if d.Kind != typenames.KindRecord || len(d.Labels) != len(t.Fields) || len(d.Elems) != len(t.Fields) {
			return false
		}
		for i, f := range t.Fields {
			if f.Name != d.Labels[i] || !m.match(f.Type, d.Elems[i]) {
				return false
			}
		}
	case KindVariant:
		if d.Kind != typenames.KindVariant || len(d.Labels) != len(t.Cases) || len(d.Elems) != len(t.Cases) {
			return false
		}
		for i, c := range t.Cases {
			if c.Name != d.Labels[i] || !m.match(c.Type, d.Elems[i]) {
				return false
			}
		}
	case KindEnum, KindFlags:
		want := typenames.KindEnum
		if t.Kind == KindFlags {
			want = typenames.KindFlags
		}
		if d.Kind != want || len(d.Labels) != len(t.Names) {
			return false
		}
		for i, n := range t.Names {
			if n != d.Labels[i] {
				return false
			}
		}
	case KindOwn, KindBorrow:
		want := typenames.KindOwn
		if t.Kind == KindBorrow {
			want = typenames.KindBorrow
		}
		if d.Kind != want || len(d.Elems) != 1 || d.Elems[0] == nil || d.Elems[0].Def().Kind != typenames.KindResource {
			return false
		}
		// A handle is named after its resource, unless the reference is
		// to a named handle type (`type handle = own<r>`).
		if name != "" {
			m.set(t, name, true)
		} else {
			m.set(t, d.Elems[0].Name(), false)
		}
		return true
	default:
		return false
	}
	m.set(t, name, false)
	return true
}
