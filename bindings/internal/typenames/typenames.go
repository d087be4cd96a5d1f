// Package typenames reads, from a component's binary, which named type each
// parameter, result, field and case of its imports and exports refers to.
//
// wasmtime's C API reflects a component's types by structure only: it
// interns types, so two records with the same fields are one type to it,
// and an alias cannot be told from what it aliases. The binary still says
// it: a function's parameter refers to a type index, and the index was
// introduced by the export (or import) of a type under a name. This package
// follows those indices through the component's index spaces (types,
// functions, instances, components; imports, exports, aliases, canonical
// lifts, instantiations and nested components) and keeps, for every type
// reference, the name it was made under.
//
// It reads what the component model's binary format defines, but validates
// nothing and is not a general decoder: callers decode a binary that
// wasmtime has already compiled, and treat any error as "no names". Every
// read is bounded by the input: a hostile binary makes Decode return an
// error, never panic, loop or allocate beyond a small multiple of its size.
package typenames

import (
	"errors"
	"fmt"
)

// Kind is the kind of a type definition.
type Kind uint8

// The kinds of type definitions. KindUnknown stands for what the decoder
// does not follow (a type from a component type's import, a core type).
const (
	KindUnknown Kind = iota
	KindPrimitive
	KindRecord
	KindVariant
	KindList
	KindFixedList
	KindMap
	KindTuple
	KindFlags
	KindEnum
	KindOption
	KindResult
	KindOwn
	KindBorrow
	KindFuture
	KindStream
	KindResource
	KindFunc
	KindInstance
	KindComponent
)

// The primitive value types, by their binary opcodes.
const (
	PrimBool         = 0x7f
	PrimS8           = 0x7e
	PrimU8           = 0x7d
	PrimS16          = 0x7c
	PrimU16          = 0x7b
	PrimS32          = 0x7a
	PrimU32          = 0x79
	PrimS64          = 0x78
	PrimU64          = 0x77
	PrimF32          = 0x76
	PrimF64          = 0x75
	PrimChar         = 0x74
	PrimString       = 0x73
	PrimErrorContext = 0x64
)

func isPrimitive(b byte) bool { return (b >= 0x73 && b <= 0x7f) || b == PrimErrorContext }

// Type is a node of a component's types: a definition (Kind and its
// parts), or a reference made by an import or export of a type, which has
// a name and stands for the type it equals.
type Type struct {
	// A reference: made by the export or import of a type under name,
	// it equals eq (nil for a fresh resource, `(sub resource)`). A
	// param is the import of a nested component: its name is that of a
	// parameter of the nested component (wit-component's
	// "import-type-foo"), not a WIT name, and instantiation replaces it.
	ref   bool
	name  string
	param bool
	eq    *Type
	// What Name and Def return, resolved when the reference is made
	// (what it refers to is older, hence resolved), so that a long chain
	// of aliases costs its length once, not at every use. A param's name
	// is known only later: that of the export that re-exports it as it is
	// (wit-component's shims export "f1" as the import "import-type-f1",
	// and their other types refer to the import), which instantiation
	// makes one type.
	refName    string
	def        *Type
	reexport   string
	reexportBy *Type

	// A definition.
	Kind   Kind
	Prim   byte     // KindPrimitive
	Labels []string // record fields, variant cases, flags, enum cases
	// Elems are the types inside: record fields and variant case payloads
	// (nil: none) in the order of Labels; the element of a list, fixed
	// list, option, own and borrow (the resource); the payload of a
	// future or stream (nil: none); tuple elements; a result's ok and err
	// (nil: none); a map's key and value.
	Elems   []*Type
	Len     uint32           // KindFixedList
	Func    *Func            // KindFunc
	Exports map[string]*Item // KindInstance, KindComponent
}

var unknown = &Type{Kind: KindUnknown}

// newRef makes the reference that exporting or importing eq under name
// makes.
func newRef(name string, param bool, eq *Type) *Type {
	t := &Type{ref: true, name: name, param: param, eq: eq}
	if eq == nil {
		t.def = &Type{Kind: KindResource}
	} else {
		t.def = eq.Def()
	}
	if !param {
		t.refName = name
		if eq != nil && eq.param && eq.reexport == "" {
			eq.reexport, eq.reexportBy = name, t
		}
	}
	return t
}

// maxParams bounds the walk along a chain of params, whose names are not
// resolved when they are made. wit-component's are one or two long.
const maxParams = 64

// Name returns the WIT name a reference to t uses: the name of the first
// import or export along its chain of references, "" when it reaches a
// definition first (an anonymous type such as list<u8>).
func (t *Type) Name() string { return t.nameExcept(nil) }

// nameExcept is Name, ignoring the re-export of a param by export.
func (t *Type) nameExcept(export *Type) string {
	_, name := t.named(export)
	return name
}

// named returns the node that gives a reference to t its name, and the
// name; nil and "" when there is none.
func (t *Type) named(export *Type) (*Type, string) {
	for range maxParams {
		if t == nil || !t.ref {
			return nil, ""
		}
		if !t.param {
			return t, t.refName
		}
		if t.reexport != "" && t.reexportBy != export {
			return t, t.reexport
		}
		t = t.eq
	}
	return nil, ""
}

// Def returns the definition that t stands for.
func (t *Type) Def() *Type {
	if t == nil {
		return unknown
	}
	if !t.ref {
		return t
	}
	return t.def
}

// AliasOf returns, for the type made by exporting or importing a type
// under a name, the name of the named type it equals ("" when it equals a
// definition): "list-in-record4" for `type list-in-alias = list-in-record4`.
// A type of the same name is looked through (`use a.{t}` makes a t equal
// to a's t, which is what it aliases, if anything).
func (t *Type) AliasOf() string {
	if t == nil || !t.ref {
		return ""
	}
	own := t.Name()
	cur := t
	for range maxParams {
		n, name := cur.eq.named(cur)
		if n == nil || name != own {
			return name
		}
		cur = n
	}
	return ""
}

// Func is a function type.
type Func struct {
	Async  bool
	Params []Param
	Result *Type // nil: none
}

// Param is a named parameter.
type Param struct {
	Name string
	Type *Type
}

// ItemKind is the kind of an import or export.
type ItemKind uint8

// The kinds of items the decoder follows; the rest are ItemOther.
const (
	ItemOther ItemKind = iota
	ItemFunc
	ItemType
	ItemInstance
)

// Item is an import or export.
type Item struct {
	Kind    ItemKind
	Func    *Func            // ItemFunc
	Type    *Type            // ItemType: the reference the name made
	Exports map[string]*Item // ItemInstance
}

// Names are the imports and exports of a component, by name.
type Names struct {
	Imports map[string]*Item
	Exports map[string]*Item
}

// maxDepth bounds the nesting of components and types.
const maxDepth = 100

// scope is one index space: a component, or the declarations of a
// component or instance type.
type scope struct {
	parent     *scope
	params     bool // a nested component: its imports are parameters
	depth      int
	types      []*Type
	funcs      []*Func
	instances  []map[string]*Item
	components []*compInfo
	paramTypes map[string]*Type // a nested component's type imports, by name
	budget     *int             // visits and copies instantiations may still make
	imports    map[string]*Item
	exports    map[string]*Item
}

// compInfo is a component of an index space: its exports, and the types
// it imports as parameters (a component defined here), which
// instantiation replaces.
type compInfo struct {
	exports map[string]*Item
	params  map[string]*Type
}

// maxCopies bounds the nodes instantiations visit and copy for one binary
// (see subst).
const maxCopies = 1 << 20

func newScope(parent *scope, params bool) (*scope, error) {
	s := &scope{parent: parent, params: params, imports: map[string]*Item{}, exports: map[string]*Item{}, paramTypes: map[string]*Type{}}
	if parent != nil {
		s.depth = parent.depth + 1
		s.budget = parent.budget
	} else {
		b := maxCopies
		s.budget = &b
	}
	if s.depth > maxDepth {
		return nil, errors.New("components or types nested too deep")
	}
	return s, nil
}

func (s *scope) typ(i uint32) (*Type, error) {
	if int64(i) >= int64(len(s.types)) {
		return nil, fmt.Errorf("type index %d out of range", i)
	}
	return s.types[i], nil
}

func (s *scope) outer(count uint32) (*scope, error) {
	o := s
	for range count {
		if o.parent == nil {
			return nil, fmt.Errorf("outer alias count %d too large", count)
		}
		o = o.parent
	}
	return o, nil
}

var magic = []byte{0x00, 0x61, 0x73, 0x6d}

// Decode reads the names of the types of a component's imports and
// exports from its binary.
func Decode(wasm []byte) (*Names, error) {
	s, err := newScope(nil, false)
	if err != nil {
		return nil, err
	}
	if err := component(&reader{b: wasm}, s); err != nil {
		return nil, err
	}
	return &Names{Imports: s.imports, Exports: s.exports}, nil
}

// component reads a component binary: its preamble and sections.
func component(r *reader, s *scope) error {
	pre, err := r.bytes(8)
	if err != nil || string(pre[:4]) != string(magic) || pre[6] != 0x01 || pre[7] != 0x00 {
		return errors.New("not a component binary")
	}
	for !r.done() {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return err
		}
		sr := &reader{b: body}
		switch id {
		case 0, 1, 2, 3, 9, 12:
			// Custom sections, core modules, instances and types, start
			// and values: nothing that names a component type.
			continue
		case 4:
			child, err := newScope(s, true)
			if err != nil {
				return err
			}
			if err := component(sr, child); err != nil {
				return err
			}
			s.components = append(s.components, &compInfo{child.exports, child.paramTypes})
			continue
		case 5:
			err = vec(sr, func() error { return instance(sr, s) })
		case 6:
			err = vec(sr, func() error { return alias(sr, s) })
		case 7:
			err = vec(sr, func() error {
				t, err := deftype(sr, s)
				if err == nil {
					s.types = append(s.types, t)
				}
				return err
			})
		case 8:
			err = vec(sr, func() error { return canon(sr, s) })
		case 10:
			err = vec(sr, func() error {
				name, err := externName(sr)
				if err != nil {
					return err
				}
				return declare(sr, s, name, s.imports, s.params)
			})
		case 11:
			err = vec(sr, func() error { return export(sr, s) })
		default:
			return fmt.Errorf("unknown section %d", id)
		}
		if err != nil {
			return fmt.Errorf("section %d: %w", id, err)
		}
		if !sr.done() {
			return fmt.Errorf("section %d: %d bytes left over", id, len(sr.b)-sr.off)
		}
	}
	return nil
}

func vec(r *reader, f func() error) error {
	n, err := r.count()
	if err != nil {
		return err
	}
	for range n {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// externName reads an import or export name, with its version suffix.
func externName(r *reader) (string, error) {
	b, err := r.byte()
	if err != nil {
		return "", err
	}
	if b > 0x02 {
		return "", r.fail("name prefix 0x%02x", b)
	}
	name, err := r.str()
	if err != nil || b != 0x02 {
		return name, err
	}
	var implements, suffix bool
	var version string
	err = vec(r, func() error {
		opt, err := r.byte()
		if err != nil {
			return err
		}
		v, err := r.str()
		switch opt {
		case 0x00:
			implements = true
		case 0x01:
			suffix, version = true, v
		case 0x02:
		default:
			return r.fail("name option 0x%02x", opt)
		}
		return err
	})
	if !implements && suffix && containsByte(name, '@') {
		name += version
	}
	return name, err
}

func containsByte(s string, c byte) bool {
	for i := range len(s) {
		if s[i] == c {
			return true
		}
	}
	return false
}

// The sorts of the component model.
const (
	sortCore      = 0x00
	sortFunc      = 0x01
	sortValue     = 0x02
	sortType      = 0x03
	sortComponent = 0x04
	sortInstance  = 0x05
)

// readSort reads a sort; a core sort's byte follows 0x00.
func readSort(r *reader) (byte, error) {
	b, err := r.byte()
	if err != nil {
		return 0, err
	}
	if b == sortCore {
		_, err = r.byte()
		return sortCore, err
	}
	if b > sortInstance {
		return 0, r.fail("sort 0x%02x", b)
	}
	return b, nil
}

// externDesc is what an import, export ascription or declaration says.
type externDesc struct {
	sort  byte
	idx   uint32 // func, component and instance: a type index
	fresh bool   // type: (sub resource)
}

func readExternDesc(r *reader) (externDesc, error) {
	var d externDesc
	var err error
	if d.sort, err = readSort(r); err != nil {
		return d, err
	}
	switch d.sort {
	case sortCore, sortFunc, sortComponent, sortInstance:
		d.idx, err = r.u32()
	case sortValue:
		_, err = valtype(r, nil)
	case sortType:
		var b byte
		if b, err = r.byte(); err != nil {
			return d, err
		}
		switch b {
		case 0x00:
			d.idx, err = r.u32()
		case 0x01:
			d.fresh = true
		default:
			return d, r.fail("type bound 0x%02x", b)
		}
	}
	return d, err
}

// declare reads the extern description of an import (or of an export
// declared in a type) named name, adds what it makes to s's index spaces
// and records it in items.
func declare(r *reader, s *scope, name string, items map[string]*Item, param bool) error {
	d, err := readExternDesc(r)
	if err != nil {
		return err
	}
	switch d.sort {
	case sortFunc:
		t, err := s.typ(d.idx)
		if err != nil {
			return err
		}
		s.funcs = append(s.funcs, t.Func)
		items[name] = &Item{Kind: ItemFunc, Func: t.Func}
	case sortType:
		var eq *Type
		if !d.fresh {
			if eq, err = s.typ(d.idx); err != nil {
				return err
			}
		}
		t := newRef(name, param, eq)
		s.types = append(s.types, t)
		if param {
			s.paramTypes[name] = t
		}
		items[name] = &Item{Kind: ItemType, Type: t}
	case sortInstance:
		t, err := s.typ(d.idx)
		if err != nil {
			return err
		}
		s.instances = append(s.instances, t.Exports)
		items[name] = &Item{Kind: ItemInstance, Exports: t.Exports}
	case sortComponent:
		t, err := s.typ(d.idx)
		if err != nil {
			return err
		}
		s.components = append(s.components, &compInfo{exports: t.Exports})
		items[name] = &Item{}
	default:
		items[name] = &Item{}
	}
	return nil
}

// export reads an export of a component: it names an item of the
// component's index spaces, optionally ascribing it a type, and adds a new
// index for it.
func export(r *reader, s *scope) error {
	name, err := externName(r)
	if err != nil {
		return err
	}
	srt, err := readSort(r)
	if err != nil {
		return err
	}
	idx, err := r.u32()
	if err != nil {
		return err
	}
	var asc *externDesc
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x00:
	case 0x01:
		d, err := readExternDesc(r)
		if err != nil {
			return err
		}
		if d.sort != srt {
			return r.fail("export %s: type of another sort", name)
		}
		asc = &d
	default:
		return r.fail("export type prefix 0x%02x", b)
	}
	switch srt {
	case sortFunc:
		if int64(idx) >= int64(len(s.funcs)) {
			return r.fail("func index %d out of range", idx)
		}
		f := s.funcs[idx]
		if asc != nil {
			t, err := s.typ(asc.idx)
			if err != nil {
				return err
			}
			f = t.Func
		}
		s.funcs = append(s.funcs, f)
		s.exports[name] = &Item{Kind: ItemFunc, Func: f}
	case sortType:
		src, err := s.typ(idx)
		if err != nil {
			return err
		}
		t := newRef(name, false, src)
		s.types = append(s.types, t)
		s.exports[name] = &Item{Kind: ItemType, Type: t}
	case sortInstance:
		if int64(idx) >= int64(len(s.instances)) {
			return r.fail("instance index %d out of range", idx)
		}
		exports := s.instances[idx]
		if asc != nil {
			t, err := s.typ(asc.idx)
			if err != nil {
				return err
			}
			exports = t.Exports
		}
		s.instances = append(s.instances, exports)
		s.exports[name] = &Item{Kind: ItemInstance, Exports: exports}
	case sortComponent:
		if int64(idx) >= int64(len(s.components)) {
			return r.fail("component index %d out of range", idx)
		}
		s.components = append(s.components, s.components[idx])
		s.exports[name] = &Item{}
	default:
		s.exports[name] = &Item{}
	}
	return nil
}

// instance reads an instance definition: the instantiation of a component
// (whose exports it has) or a bag of exports.
func instance(r *reader, s *scope) error {
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x00:
		c, err := r.u32()
		if err != nil {
			return err
		}
		if int64(c) >= int64(len(s.components)) {
			return r.fail("component index %d out of range", c)
		}
		comp := s.components[c]
		args := map[*Type]*Type{}
		err = vec(r, func() error {
			name, err := r.str()
			if err != nil {
				return err
			}
			srt, err := readSort(r)
			if err != nil {
				return err
			}
			idx, err := r.u32()
			if err != nil {
				return err
			}
			if p := comp.params[name]; p != nil && srt == sortType {
				arg, err := s.typ(idx)
				if err != nil {
					return err
				}
				if arg.Name() == "" && p.reexport != "" {
					// An anonymous type, which the component exports
					// under a name: references to it use the name.
					arg = newRef(p.reexport, false, arg)
				}
				args[p] = arg
			}
			return nil
		})
		if err != nil {
			return err
		}
		exports := comp.exports
		if len(args) > 0 {
			sb := &subst{types: args, budget: s.budget}
			if exports, err = sb.items(exports); err != nil {
				return err
			}
		}
		s.instances = append(s.instances, exports)
	case 0x01:
		exports := map[string]*Item{}
		err := vec(r, func() error {
			name, err := externName(r)
			if err != nil {
				return err
			}
			srt, err := readSort(r)
			if err != nil {
				return err
			}
			idx, err := r.u32()
			if err != nil {
				return err
			}
			it := &Item{}
			switch srt {
			case sortFunc:
				if int64(idx) >= int64(len(s.funcs)) {
					return r.fail("func index %d out of range", idx)
				}
				it = &Item{Kind: ItemFunc, Func: s.funcs[idx]}
			case sortType:
				t, err := s.typ(idx)
				if err != nil {
					return err
				}
				it = &Item{Kind: ItemType, Type: newRef(name, false, t)}
			case sortInstance:
				if int64(idx) >= int64(len(s.instances)) {
					return r.fail("instance index %d out of range", idx)
				}
				it = &Item{Kind: ItemInstance, Exports: s.instances[idx]}
			}
			exports[name] = it
			return nil
		})
		if err != nil {
			return err
		}
		s.instances = append(s.instances, exports)
	default:
		return r.fail("instance 0x%02x", b)
	}
	return nil
}

// alias reads an alias: of an instance's export, of a core instance's
// export (ignored) or of an outer scope's item.
func alias(r *reader, s *scope) error {
	srt, err := readSort(r)
	if err != nil {
		return err
	}
	target, err := r.byte()
	if err != nil {
		return err
	}
	switch target {
	case 0x00:
		i, err := r.u32()
		if err != nil {
			return err
		}
		name, err := r.str()
		if err != nil {
			return err
		}
		if int64(i) >= int64(len(s.instances)) {
			return r.fail("instance index %d out of range", i)
		}
		it := s.instances[i][name] // nil when the instance is not followed
		if it == nil {
			it = &Item{}
		}
		switch srt {
		case sortFunc:
			s.funcs = append(s.funcs, it.Func)
		case sortType:
			t := it.Type
			if t == nil {
				t = unknown
			}
			s.types = append(s.types, t)
		case sortInstance:
			s.instances = append(s.instances, it.Exports)
		case sortComponent:
			s.components = append(s.components, &compInfo{})
		}
	case 0x01:
		if _, err := r.u32(); err != nil {
			return err
		}
		if _, err := r.str(); err != nil {
			return err
		}
	case 0x02:
		count, err := r.u32()
		if err != nil {
			return err
		}
		idx, err := r.u32()
		if err != nil {
			return err
		}
		o, err := s.outer(count)
		if err != nil {
			return err
		}
		switch srt {
		case sortType:
			t, err := o.typ(idx)
			if err != nil {
				return err
			}
			s.types = append(s.types, t)
		case sortComponent:
			if int64(idx) >= int64(len(o.components)) {
				return r.fail("component index %d out of range", idx)
			}
			s.components = append(s.components, o.components[idx])
		}
	default:
		return r.fail("alias target 0x%02x", target)
	}
	return nil
}

// canon reads a canonical definition: a lift makes a component function;
// everything else makes core functions, which no name refers to.
func canon(r *reader, s *scope) error {
	op, err := r.byte()
	if err != nil {
		return err
	}
	u32s := func(n int) error {
		for range n {
			if _, err := r.u32(); err != nil {
				return err
			}
		}
		return nil
	}
	zero := func() error {
		b, err := r.byte()
		if err == nil && b != 0 {
			err = r.fail("expected a zero byte")
		}
		return err
	}
	switch op {
	case 0x00, 0x01:
		if b, err := r.byte(); err != nil {
			return err
		} else if b != 0x00 {
			return r.fail("canon 0x%02x 0x%02x", op, b)
		}
		if _, err := r.u32(); err != nil {
			return err
		}
		if err := canonOpts(r); err != nil {
			return err
		}
		if op == 0x01 {
			return nil
		}
		ti, err := r.u32()
		if err != nil {
			return err
		}
		t, err := s.typ(ti)
		if err != nil {
			return err
		}
		s.funcs = append(s.funcs, t.Func)
		return nil
	case 0x02, 0x03, 0x04, 0x0e, 0x13, 0x14, 0x15, 0x1a, 0x1b, 0x2e, 0x2f, 0x40:
		return u32s(1)
	case 0x05, 0x0d, 0x1e, 0x1f, 0x22, 0x23, 0x24, 0x25, 0x26, 0x28, 0x42:
		return nil
	case 0x06:
		_, err := r.byte()
		return err
	case 0x09:
		if _, err := resultList(r, nil); err != nil {
			return err
		}
		return canonOpts(r)
	case 0x0a, 0x0b:
		if err := coreValtype(r); err != nil {
			return err
		}
		return u32s(1)
	case 0x0f, 0x10, 0x16, 0x17:
		if err := u32s(1); err != nil {
			return err
		}
		return canonOpts(r)
	case 0x11, 0x12, 0x18, 0x19:
		if err := u32s(1); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	case 0x1c, 0x1d:
		return canonOpts(r)
	case 0x20, 0x21:
		if err := zero(); err != nil {
			return err
		}
		return u32s(1)
	case 0x0c, 0x29, 0x2a, 0x2b, 0x2c, 0x2d:
		return zero()
	case 0x27, 0x41:
		return u32s(2)
	}
	return r.fail("canonical function 0x%02x", op)
}

func canonOpts(r *reader) error {
	return vec(r, func() error {
		b, err := r.byte()
		if err != nil {
			return err
		}
		switch b {
		case 0x00, 0x01, 0x02, 0x06, 0x09:
			return nil
		case 0x03, 0x04, 0x05, 0x07, 0x08:
			_, err := r.u32()
			return err
		}
		return r.fail("canonical option 0x%02x", b)
	})
}

// valtype reads a value type: a primitive, or a type index resolved in s
// (nil: only read).
func valtype(r *reader, s *scope) (*Type, error) {
	b, err := r.peek()
	if err != nil {
		return nil, err
	}
	if isPrimitive(b) {
		r.off++
		return primitives[b], nil
	}
	i, err := r.s33()
	if err != nil {
		return nil, err
	}
	if i < 0 || i > 0xffffffff {
		return nil, r.fail("value type 0x%x", i)
	}
	if s == nil {
		return unknown, nil
	}
	return s.typ(uint32(i))
}

var primitives = func() map[byte]*Type {
	m := map[byte]*Type{}
	for b := 0x73; b <= 0x7f; b++ {
		m[byte(b)] = &Type{Kind: KindPrimitive, Prim: byte(b)}
	}
	m[PrimErrorContext] = &Type{Kind: KindPrimitive, Prim: PrimErrorContext}
	return m
}()

// optValtype reads `<valtype>?`.
func optValtype(r *reader, s *scope) (*Type, error) {
	b, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch b {
	case 0x00:
		return nil, nil
	case 0x01:
		return valtype(r, s)
	}
	return nil, r.fail("optional value type 0x%02x", b)
}

func resultList(r *reader, s *scope) (*Type, error) {
	b, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch b {
	case 0x00:
		return valtype(r, s)
	case 0x01:
		if n, err := r.byte(); err != nil {
			return nil, err
		} else if n != 0 {
			return nil, r.fail("%d named results", n)
		}
		return nil, nil
	}
	return nil, r.fail("result list 0x%02x", b)
}

// deftype reads a type definition in scope s.
func deftype(r *reader, s *scope) (*Type, error) {
	b, err := r.byte()
	if err != nil {
		return nil, err
	}
	if isPrimitive(b) {
		return primitives[b], nil
	}
	t := &Type{}
	elem := func() error {
		e, err := valtype(r, s)
		t.Elems = append(t.Elems, e)
		return err
	}
	optElem := func() error {
		e, err := optValtype(r, s)
		t.Elems = append(t.Elems, e)
		return err
	}
	label := func() error {
		l, err := r.str()
		t.Labels = append(t.Labels, l)
		return err
	}
	switch b {
	case 0x3f:
		t.Kind = KindResource
		if err := coreValtype(r); err != nil {
			return nil, err
		}
		if _, err := optU32(r); err != nil {
			return nil, err
		}
	case 0x40, 0x43:
		t.Kind = KindFunc
		f := &Func{Async: b == 0x43}
		err := vec(r, func() error {
			name, err := r.str()
			if err != nil {
				return err
			}
			pt, err := valtype(r, s)
			f.Params = append(f.Params, Param{Name: name, Type: pt})
			return err
		})
		if err != nil {
			return nil, err
		}
		if f.Result, err = resultList(r, s); err != nil {
			return nil, err
		}
		t.Func = f
	case 0x41, 0x42:
		t.Kind = KindInstance
		if b == 0x41 {
			t.Kind = KindComponent
		}
		child, err := newScope(s, false)
		if err != nil {
			return nil, err
		}
		if err := vec(r, func() error { return decl(r, child, b == 0x41) }); err != nil {
			return nil, err
		}
		t.Exports = child.exports
	case 0x72:
		t.Kind = KindRecord
		err = vec(r, func() error {
			if err := label(); err != nil {
				return err
			}
			return elem()
		})
	case 0x71:
		t.Kind = KindVariant
		err = vec(r, func() error {
			if err := label(); err != nil {
				return err
			}
			if err := optElem(); err != nil {
				return err
			}
			z, err := r.byte()
			if err == nil && z != 0 {
				err = r.fail("variant case refinement")
			}
			return err
		})
	case 0x70, 0x6b:
		t.Kind = KindList
		if b == 0x6b {
			t.Kind = KindOption
		}
		err = elem()
	case 0x67:
		t.Kind = KindFixedList
		if err = elem(); err == nil {
			t.Len, err = r.u32()
		}
	case 0x63:
		t.Kind = KindMap
		if err = elem(); err == nil {
			err = elem()
		}
	case 0x6f:
		t.Kind = KindTuple
		err = vec(r, elem)
	case 0x6e, 0x6d:
		t.Kind = KindFlags
		if b == 0x6d {
			t.Kind = KindEnum
		}
		err = vec(r, label)
	case 0x6a:
		t.Kind = KindResult
		if err = optElem(); err == nil {
			err = optElem()
		}
	case 0x69, 0x68:
		t.Kind = KindOwn
		if b == 0x68 {
			t.Kind = KindBorrow
		}
		var i uint32
		if i, err = r.u32(); err == nil {
			var rt *Type
			rt, err = s.typ(i)
			t.Elems = append(t.Elems, rt)
		}
	case 0x66, 0x65:
		t.Kind = KindStream
		if b == 0x65 {
			t.Kind = KindFuture
		}
		err = optElem()
	default:
		return nil, r.fail("type definition 0x%02x", b)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func optU32(r *reader) (bool, error) {
	b, err := r.byte()
	if err != nil {
		return false, err
	}
	switch b {
	case 0x00:
		return false, nil
	case 0x01:
		_, err := r.u32()
		return true, err
	}
	return false, r.fail("optional index 0x%02x", b)
}

// decl reads one declaration of a component type (imports allowed) or an
// instance type, in the type's own scope.
func decl(r *reader, s *scope, component bool) error {
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x00:
		return coreType(r)
	case 0x01:
		t, err := deftype(r, s)
		if err != nil {
			return err
		}
		s.types = append(s.types, t)
		return nil
	case 0x02:
		return alias(r, s)
	case 0x03, 0x04:
		if b == 0x03 && !component {
			return r.fail("import in an instance type")
		}
		name, err := externName(r)
		if err != nil {
			return err
		}
		items := s.exports
		if b == 0x03 {
			items = s.imports
		}
		return declare(r, s, name, items, false)
	}
	return r.fail("type declaration 0x%02x", b)
}
