package bindings

// #include "shim.h"
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/driftless-dev/driftless/bindings/internal/typenames"
)

// Type is a component-model value type, as reflected from a compiled
// component. Name is the WIT name of records, variants, enums, flags and
// resources when the component exports or imports the type under a name.
type Type struct {
	Kind   Kind
	Name   string
	Elem   *Type       // list, option; own and borrow: nil
	Fields []FieldType // record
	Cases  []CaseType  // variant
	Names  []string    // enum cases, flags
	Elems  []*Type     // tuple
	Ok     *Type       // result; nil when the ok case has no payload
	Err    *Type       // result; nil when the error case has no payload

	// fieldNames are the names of Fields, made once by reflection, which
	// record values read from wasmtime share.
	fieldNames []string
	// handleName says that the Name of an own or borrow type names the
	// handle type (`type handle = borrow<r>`), not its resource.
	handleName bool
}

// recordNames returns the field names of a record type.
func (t *Type) recordNames() []string {
	if t.fieldNames != nil {
		return t.fieldNames
	}
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	return names
}

// FieldType is one field of a record type.
type FieldType struct {
	Name string
	Type *Type
}

// CaseType is one case of a variant type; Type is nil without a payload.
type CaseType struct {
	Name string
	Type *Type
}

// FuncType is the type of a component function. Component functions have
// at most one result; Result is nil when there is none.
type FuncType struct {
	Params []Param
	Result *Type
}

// Param is one named function parameter.
type Param struct {
	Name string
	Type *Type
}

// ItemKind is the kind of an import or export.
type ItemKind uint8

// The kinds of component imports and exports.
const (
	ItemComponent ItemKind = iota
	ItemInstance
	ItemModule
	ItemFunc
	ItemResource
	ItemCoreFunc
	ItemType
)

func (k ItemKind) String() string {
	switch k {
	case ItemComponent:
		return "component"
	case ItemInstance:
		return "instance"
	case ItemModule:
		return "core module"
	case ItemFunc:
		return "func"
	case ItemResource:
		return "resource"
	case ItemCoreFunc:
		return "core func"
	case ItemType:
		return "type"
	}
	return fmt.Sprintf("ItemKind(%d)", uint8(k))
}

// Item is the type of one import or export.
type Item struct {
	Kind    ItemKind
	Func    *FuncType // ItemFunc
	Exports []ItemDef // ItemInstance: the instance's items, in order
	Type    *Type     // ItemType

	// resource numbers the distinct resource types of one component's
	// imports and exports from 1 (ItemResource): an interface that uses
	// another's resource exports it again under the same number.
	resource int
	// aliasOf is, for a resource the binary declares as an alias of
	// another (`type headers = fields`), the other's name.
	aliasOf string
}

// ItemDef is a named item.
type ItemDef struct {
	Name string
	Item *Item
}

// ComponentType lists what a component imports and exports.
type ComponentType struct {
	Imports []ItemDef
	Exports []ItemDef
}

// Import returns the import of that name, or nil.
func (ct *ComponentType) Import(name string) *Item { return findItem(ct.Imports, name) }

// Export returns the export of that name, or nil.
func (ct *ComponentType) Export(name string) *Item { return findItem(ct.Exports, name) }

func findItem(defs []ItemDef, name string) *Item {
	for _, d := range defs {
		if d.Name == name {
			return d.Item
		}
	}
	return nil
}

// Func returns the exported function at path, e.g.
// ct.Func("driftless:plugin/tasks@0.1.0", "execute"), or nil.
func (ct *ComponentType) Func(path ...string) *FuncType {
	defs := ct.Exports
	for i, name := range path {
		it := findItem(defs, name)
		if it == nil {
			return nil
		}
		if i == len(path)-1 {
			if it.Kind == ItemFunc {
				return it.Func
			}
			return nil
		}
		if it.Kind != ItemInstance {
			return nil
		}
		defs = it.Exports
	}
	return nil
}

// children returns the types directly inside t.
func (t *Type) children() []*Type {
	var out []*Type
	if t.Elem != nil {
		out = append(out, t.Elem)
	}
	for _, f := range t.Fields {
		out = append(out, f.Type)
	}
	for _, c := range t.Cases {
		if c.Type != nil {
			out = append(out, c.Type)
		}
	}
	out = append(out, t.Elems...)
	if t.Ok != nil {
		out = append(out, t.Ok)
	}
	if t.Err != nil {
		out = append(out, t.Err)
	}
	return out
}

// String renders t as a WIT type reference: the name of a named type,
// otherwise its structure, e.g. `list<tuple<string, string>>`.
func (t *Type) String() string {
	if t == nil {
		return "_"
	}
	if t.Name != "" {
		if t.Kind == KindBorrow && !t.handleName {
			return "borrow<" + t.Name + ">"
		}
		return t.Name
	}
	return t.structure()
}

// Definition renders a named type's definition, e.g.
// "record plugin-error { kind: error-kind, message: string }".
func (t *Type) Definition() string {
	name := t.Name
	if name == "" {
		name = "_"
	}
	switch t.Kind {
	case KindRecord, KindVariant, KindEnum, KindFlags:
		return t.Kind.String() + " " + name + " " + t.body()
	case KindOwn, KindBorrow:
		return "resource " + name
	}
	return "type " + name + " = " + t.structure()
}

func (t *Type) structure() string {
	switch t.Kind {
	case KindList:
		return "list<" + t.Elem.String() + ">"
	case KindOption:
		return "option<" + t.Elem.String() + ">"
	case KindTuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = e.String()
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case KindResult:
		switch {
		case t.Ok == nil && t.Err == nil:
			return "result"
		case t.Err == nil:
			return "result<" + t.Ok.String() + ">"
		case t.Ok == nil:
			return "result<_, " + t.Err.String() + ">"
		}
		return "result<" + t.Ok.String() + ", " + t.Err.String() + ">"
	case KindRecord, KindVariant, KindEnum, KindFlags:
		return t.Kind.String() + " " + t.body()
	case KindOwn:
		return "own<resource>"
	case KindBorrow:
		return "borrow<resource>"
	case KindFuture, KindStream:
		if t.Elem == nil {
			return t.Kind.String()
		}
		return t.Kind.String() + "<" + t.Elem.String() + ">"
	}
	return t.Kind.String()
}

func (t *Type) body() string {
	var parts []string
	switch t.Kind {
	case KindRecord:
		for _, f := range t.Fields {
			parts = append(parts, f.Name+": "+f.Type.String())
		}
	case KindVariant:
		for _, c := range t.Cases {
			if c.Type == nil {
				parts = append(parts, c.Name)
			} else {
				parts = append(parts, c.Name+"("+c.Type.String()+")")
			}
		}
	case KindEnum, KindFlags:
		parts = t.Names
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// String renders a function type in WIT syntax.
func (f *FuncType) String() string {
	parts := make([]string, len(f.Params))
	for i, p := range f.Params {
		parts[i] = p.Name + ": " + p.Type.String()
	}
	s := "func(" + strings.Join(parts, ", ") + ")"
	if f.Result != nil {
		s += " -> " + f.Result.String()
	}
	return s
}

// WIT renders the component's imports and exports as WIT-like text, one
// item per line and the contents of instances indented, for people to read
// (`driftless plugins inspect`).
func (ct *ComponentType) WIT() string {
	var b strings.Builder
	for _, d := range ct.Imports {
		writeItem(&b, "import ", d, "")
	}
	for _, d := range ct.Exports {
		writeItem(&b, "export ", d, "")
	}
	return b.String()
}

func writeItem(b *strings.Builder, verb string, d ItemDef, indent string) {
	switch d.Item.Kind {
	case ItemInstance:
		fmt.Fprintf(b, "%s%s%s: interface {\n", indent, verb, d.Name)
		for _, e := range d.Item.Exports {
			writeItem(b, "", e, indent+"  ")
		}
		fmt.Fprintf(b, "%s}\n", indent)
	case ItemFunc:
		fmt.Fprintf(b, "%s%s%s: %s;\n", indent, verb, d.Name, d.Item.Func)
	case ItemType:
		t := *d.Item.Type
		if t.Kind == KindOwn || t.Kind == KindBorrow {
			// A handle type: `type handle = own<r>`, in WIT `= r`.
			t.handleName = false
			fmt.Fprintf(b, "%s%stype %s = %s;\n", indent, verb, d.Name, t.String())
			break
		}
		if t.Name != "" && t.Name != d.Name {
			// An alias: `type list-in-alias = list-in-record4`.
			fmt.Fprintf(b, "%s%stype %s = %s;\n", indent, verb, d.Name, t.String())
			break
		}
		t.Name = d.Name
		fmt.Fprintf(b, "%s%s%s;\n", indent, verb, t.Definition())
	case ItemResource:
		if d.Item.aliasOf != "" && d.Item.aliasOf != d.Name {
			fmt.Fprintf(b, "%s%stype %s = %s;\n", indent, verb, d.Name, d.Item.aliasOf)
			break
		}
		fmt.Fprintf(b, "%s%sresource %s;\n", indent, verb, d.Name)
	default:
		fmt.Fprintf(b, "%s%s%s: %s;\n", indent, verb, d.Name, d.Item.Kind)
	}
}

// maxTypeNodes bounds the types reflection builds for one component. Types
// are trees in Go but DAGs in wasmtime, so a small component can describe
// exponentially large types (a tuple of two of the previous tuple, thirty
// times over); wasmtime's own limit on a type's size applies to each type,
// not to their sum. A component past the bound is refused at compile time.
const maxTypeNodes = 1 << 18

// reflector converts wasmtime's type objects into Types, and names the
// types after the component's binary (see applyNames).
//
// It never asks wasmtime whether two value types are equal:
// wasmtime_component_valtype_equal (and the per-kind _equal functions)
// compares structurally, and for a resource handle inside a record,
// variant, list, ... of an uninstantiated component it indexes an empty
// table of resources and panics, which aborts the process. Resource types
// themselves compare by identity, safely.
type reflector struct {
	engine    *C.wasm_engine_t
	resources []namedResource
	nodes     int
}

type namedResource struct {
	name string
	ty   *C.wasmtime_component_resource_type_t // owned clone
	id   int                                   // Item.resource
}

// TypeLimitError says that a component's types are too large to reflect.
type TypeLimitError struct {
	Nodes int // the bound, in type nodes
}

func (e *TypeLimitError) Error() string {
	return fmt.Sprintf("component types too large: its imports and exports expand to more than %d type nodes", e.Nodes)
}

func (r *reflector) close() {
	for _, n := range r.resources {
		C.wasmtime_component_resource_type_delete(n.ty)
	}
}

// reflect reads c's imports and exports; names, when not nil, are the
// type names read from c's binary.
func (c *Component) reflect(names *typenames.Names) (*ComponentType, error) {
	ct := C.wasmtime_component_type(c.ptr)
	defer C.wasmtime_component_type_delete(ct)
	r := &reflector{engine: c.engine.ptr}
	defer r.close()
	var imports, exports itemEntries
	n := int(C.wasmtime_component_type_import_count(ct, r.engine))
	for i := range n {
		var name *C.char
		var nlen C.size_t
		var item C.dl_item_t
		if C.wasmtime_component_type_import_nth(ct, r.engine, C.size_t(i), &name, &nlen, &item) {
			imports.add(C.GoStringN(name, C.int(nlen)), item)
		}
	}
	n = int(C.wasmtime_component_type_export_count(ct, r.engine))
	for i := range n {
		var name *C.char
		var nlen C.size_t
		var item C.dl_item_t
		if C.wasmtime_component_type_export_nth(ct, r.engine, C.size_t(i), &name, &nlen, &item) {
			exports.add(C.GoStringN(name, C.int(nlen)), item)
		}
	}
	out := &ComponentType{Imports: r.items(imports), Exports: r.items(exports)}
	if r.nodes > maxTypeNodes {
		return nil, &TypeLimitError{Nodes: maxTypeNodes}
	}
	if names != nil {
		applyNames(out.Imports, names.Imports)
		applyNames(out.Exports, names.Exports)
	}
	return out, nil
}

// itemEntries are named items as wasmtime returns them, owned until items
// deletes them. Names and items are kept apart so that the items' backing
// array, whose elements are passed to C, holds no Go pointers.
type itemEntries struct {
	names []string
	items []C.dl_item_t
}

func (e *itemEntries) add(name string, item C.dl_item_t) {
	e.names = append(e.names, name)
	e.items = append(e.items, item)
}

// items converts (and deletes) a list of named items: resources first, so
// that handles to them can be named after them.
func (r *reflector) items(e itemEntries) []ItemDef {
	out := make([]ItemDef, len(e.items))
	for i := range e.items {
		it := &e.items[i]
		if it.kind == C.DL_ITEM_RESOURCE {
			rt := (*C.wasmtime_component_resource_type_t)(itemPtr(it))
			id := len(r.resources) + 1
			for _, n := range r.resources {
				if C.wasmtime_component_resource_type_equal(n.ty, rt) {
					id = n.id
					break
				}
			}
			r.resources = append(r.resources, namedResource{e.names[i], C.wasmtime_component_resource_type_clone(rt), id})
			out[i] = ItemDef{e.names[i], &Item{Kind: ItemResource, resource: id}}
		}
	}
	for i := range e.items {
		it := &e.items[i]
		if out[i].Item == nil {
			out[i] = ItemDef{e.names[i], r.item(it)}
		}
		C.wasmtime_component_item_delete(it)
	}
	return out
}

func itemPtr(item *C.dl_item_t) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&item.of))
}

func itemValtype(item *C.dl_item_t) *C.dl_valtype_t {
	return (*C.dl_valtype_t)(unsafe.Pointer(&item.of))
}

func (r *reflector) item(item *C.dl_item_t) *Item {
	switch item.kind {
	case C.DL_ITEM_INSTANCE:
		it := (*C.wasmtime_component_instance_type_t)(itemPtr(item))
		n := int(C.wasmtime_component_instance_type_export_count(it, r.engine))
		var entries itemEntries
		for i := range n {
			if r.over() {
				break
			}
			var name *C.char
			var nlen C.size_t
			var sub C.dl_item_t
			if C.wasmtime_component_instance_type_export_nth(it, r.engine, C.size_t(i), &name, &nlen, &sub) {
				entries.add(C.GoStringN(name, C.int(nlen)), sub)
			}
		}
		return &Item{Kind: ItemInstance, Exports: r.items(entries)}
	case C.DL_ITEM_FUNC:
		return &Item{Kind: ItemFunc, Func: r.funcType((*C.wasmtime_component_func_type_t)(itemPtr(item)))}
	case C.DL_ITEM_TYPE:
		return &Item{Kind: ItemType, Type: r.valtype(itemValtype(item))}
	}
	return &Item{Kind: ItemKind(item.kind)}
}

func (r *reflector) funcType(ft *C.wasmtime_component_func_type_t) *FuncType {
	out := &FuncType{}
	n := int(C.wasmtime_component_func_type_param_count(ft))
	for i := range n {
		if r.over() {
			break
		}
		var name *C.char
		var nlen C.size_t
		var vt C.dl_valtype_t
		if C.wasmtime_component_func_type_param_nth(ft, C.size_t(i), &name, &nlen, &vt) {
			out.Params = append(out.Params, Param{Name: C.GoStringN(name, C.int(nlen)), Type: r.valtype(&vt)})
			C.wasmtime_component_valtype_delete(&vt)
		}
	}
	var vt C.dl_valtype_t
	if C.wasmtime_component_func_type_result(ft, &vt) {
		out.Result = r.valtype(&vt)
		C.wasmtime_component_valtype_delete(&vt)
	}
	return out
}

// valtype converts vt, which stays owned by the caller.
func (r *reflector) valtype(vt *C.dl_valtype_t) *Type {
	t := &Type{}
	if r.nodes++; r.nodes > maxTypeNodes {
		// Past the bound: reflect refuses the component; stop expanding.
		return t
	}
	switch vt.kind {
	case C.DL_TYPE_BOOL:
		t.Kind = KindBool
	case C.DL_TYPE_S8:
		t.Kind = KindS8
	case C.DL_TYPE_S16:
		t.Kind = KindS16
	case C.DL_TYPE_S32:
		t.Kind = KindS32
	case C.DL_TYPE_S64:
		t.Kind = KindS64
	case C.DL_TYPE_U8:
		t.Kind = KindU8
	case C.DL_TYPE_U16:
		t.Kind = KindU16
	case C.DL_TYPE_U32:
		t.Kind = KindU32
	case C.DL_TYPE_U64:
		t.Kind = KindU64
	case C.DL_TYPE_F32:
		t.Kind = KindF32
	case C.DL_TYPE_F64:
		t.Kind = KindF64
	case C.DL_TYPE_CHAR:
		t.Kind = KindChar
	case C.DL_TYPE_STRING:
		t.Kind = KindString
	case C.DL_TYPE_LIST:
		t.Kind = KindList
		t.Elem = r.sub(func(out *C.dl_valtype_t) bool {
			C.wasmtime_component_list_type_element((*C.wasmtime_component_list_type_t)(vt.of), out)
			return true
		})
	case C.DL_TYPE_RECORD:
		t.Kind = KindRecord
		n := int(C.wasmtime_component_record_type_field_count((*C.wasmtime_component_record_type_t)(vt.of)))
		for i := range n {
			if r.over() {
				break
			}
			var name *C.char
			var nlen C.size_t
			ft := r.sub(func(out *C.dl_valtype_t) bool {
				return bool(C.wasmtime_component_record_type_field_nth((*C.wasmtime_component_record_type_t)(vt.of), C.size_t(i), &name, &nlen, out))
			})
			if ft != nil {
				t.Fields = append(t.Fields, FieldType{Name: C.GoStringN(name, C.int(nlen)), Type: ft})
			}
		}
		t.fieldNames = t.recordNames()
	case C.DL_TYPE_TUPLE:
		t.Kind = KindTuple
		n := int(C.wasmtime_component_tuple_type_types_count((*C.wasmtime_component_tuple_type_t)(vt.of)))
		for i := range n {
			if r.over() {
				break
			}
			if et := r.sub(func(out *C.dl_valtype_t) bool {
				return bool(C.wasmtime_component_tuple_type_types_nth((*C.wasmtime_component_tuple_type_t)(vt.of), C.size_t(i), out))
			}); et != nil {
				t.Elems = append(t.Elems, et)
			}
		}
	case C.DL_TYPE_VARIANT:
		t.Kind = KindVariant
		n := int(C.wasmtime_component_variant_type_case_count((*C.wasmtime_component_variant_type_t)(vt.of)))
		for i := range n {
			if r.over() {
				break
			}
			var name *C.char
			var nlen C.size_t
			var has C.bool
			var payload C.dl_valtype_t
			if !C.wasmtime_component_variant_type_case_nth((*C.wasmtime_component_variant_type_t)(vt.of), C.size_t(i), &name, &nlen, &has, &payload) {
				continue
			}
			c := CaseType{Name: C.GoStringN(name, C.int(nlen))}
			if has {
				c.Type = r.valtype(&payload)
				C.wasmtime_component_valtype_delete(&payload)
			}
			t.Cases = append(t.Cases, c)
		}
	case C.DL_TYPE_ENUM, C.DL_TYPE_FLAGS:
		flags := vt.kind == C.DL_TYPE_FLAGS
		t.Kind = KindEnum
		var n int
		if flags {
			t.Kind = KindFlags
			n = int(C.wasmtime_component_flags_type_names_count((*C.wasmtime_component_flags_type_t)(vt.of)))
		} else {
			n = int(C.wasmtime_component_enum_type_names_count((*C.wasmtime_component_enum_type_t)(vt.of)))
		}
		for i := range n {
			if r.over() {
				break
			}
			var name *C.char
			var nlen C.size_t
			var ok C.bool
			if flags {
				ok = C.wasmtime_component_flags_type_names_nth((*C.wasmtime_component_flags_type_t)(vt.of), C.size_t(i), &name, &nlen)
			} else {
				ok = C.wasmtime_component_enum_type_names_nth((*C.wasmtime_component_enum_type_t)(vt.of), C.size_t(i), &name, &nlen)
			}
			if ok {
				t.Names = append(t.Names, C.GoStringN(name, C.int(nlen)))
			}
		}
	case C.DL_TYPE_OPTION:
		t.Kind = KindOption
		t.Elem = r.sub(func(out *C.dl_valtype_t) bool {
			C.wasmtime_component_option_type_ty((*C.wasmtime_component_option_type_t)(vt.of), out)
			return true
		})
	case C.DL_TYPE_RESULT:
		t.Kind = KindResult
		t.Ok = r.sub(func(out *C.dl_valtype_t) bool {
			return bool(C.wasmtime_component_result_type_ok((*C.wasmtime_component_result_type_t)(vt.of), out))
		})
		t.Err = r.sub(func(out *C.dl_valtype_t) bool {
			return bool(C.wasmtime_component_result_type_err((*C.wasmtime_component_result_type_t)(vt.of), out))
		})
	case C.DL_TYPE_OWN, C.DL_TYPE_BORROW:
		t.Kind = KindOwn
		if vt.kind == C.DL_TYPE_BORROW {
			t.Kind = KindBorrow
		}
		rt := (*C.wasmtime_component_resource_type_t)(vt.of)
		for _, n := range r.resources {
			if C.wasmtime_component_resource_type_equal(n.ty, rt) {
				t.Name = n.name
				break
			}
		}
	case C.DL_TYPE_FUTURE:
		t.Kind = KindFuture
		t.Elem = r.sub(func(out *C.dl_valtype_t) bool {
			return bool(C.wasmtime_component_future_type_ty((*C.wasmtime_component_future_type_t)(vt.of), out))
		})
	case C.DL_TYPE_STREAM:
		t.Kind = KindStream
		t.Elem = r.sub(func(out *C.dl_valtype_t) bool {
			return bool(C.wasmtime_component_stream_type_ty((*C.wasmtime_component_stream_type_t)(vt.of), out))
		})
	case C.DL_TYPE_ERROR_CONTEXT:
		t.Kind = KindErrorContext
	default:
		t.Kind = 0
	}
	return t
}

// over reports whether reflection has passed maxTypeNodes: from then on it
// reads nothing more from wasmtime.
func (r *reflector) over() bool { return r.nodes > maxTypeNodes }

// sub converts the type that fill writes, if it writes one.
func (r *reflector) sub(fill func(out *C.dl_valtype_t) bool) *Type {
	if r.over() {
		return &Type{}
	}
	var vt C.dl_valtype_t
	if !fill(&vt) {
		return nil
	}
	t := r.valtype(&vt)
	C.wasmtime_component_valtype_delete(&vt)
	return t
}
