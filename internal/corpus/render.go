package corpus

import (
	"fmt"
	"strings"

	"go.bytecodealliance.org/wit"
)

// FuncSig renders a function of a decoded WIT world as bindings'
// FuncType.String renders a reflected one: "func(a: list<foo>) -> bar",
// types by the name the WIT gives them, anonymous ones by their structure.
func FuncSig(f *wit.Function) string {
	parts := make([]string, len(f.Params))
	for i, p := range f.Params {
		parts[i] = p.Name + ": " + TypeRef(p.Type)
	}
	s := "func(" + strings.Join(parts, ", ") + ")"
	if len(f.Results) == 1 {
		s += " -> " + TypeRef(f.Results[0].Type)
	}
	return s
}

// TypeRef renders a reference to t, as bindings' Type.String does.
func TypeRef(t wit.Type) string {
	td, ok := t.(*wit.TypeDef)
	if !ok {
		return primitive(t)
	}
	if td.Name != nil {
		return *td.Name
	}
	return structure(td.Kind)
}

func structure(k wit.TypeDefKind) string {
	switch k := k.(type) {
	case *wit.List:
		return "list<" + TypeRef(k.Type) + ">"
	case *wit.Option:
		return "option<" + TypeRef(k.Type) + ">"
	case *wit.Tuple:
		parts := make([]string, len(k.Types))
		for i, e := range k.Types {
			parts[i] = TypeRef(e)
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case *wit.Result:
		switch {
		case k.OK == nil && k.Err == nil:
			return "result"
		case k.Err == nil:
			return "result<" + TypeRef(k.OK) + ">"
		case k.OK == nil:
			return "result<_, " + TypeRef(k.Err) + ">"
		}
		return "result<" + TypeRef(k.OK) + ", " + TypeRef(k.Err) + ">"
	case *wit.Own:
		return TypeRef(k.Type)
	case *wit.Borrow:
		return "borrow<" + TypeRef(k.Type) + ">"
	case *wit.Future:
		if k.Type == nil {
			return "future"
		}
		return "future<" + TypeRef(k.Type) + ">"
	case *wit.Stream:
		if k.Type == nil {
			return "stream"
		}
		return "stream<" + TypeRef(k.Type) + ">"
	case wit.Type:
		return TypeRef(k)
	}
	return fmt.Sprintf("%T", k)
}

// TypeDefinition renders a named type of a decoded interface as bindings'
// ComponentType.WIT renders a reflected one: "record foo { a: u32 }", "type
// bar = foo" for an alias of a named type, "resource r".
func TypeDefinition(td *wit.TypeDef) string {
	name := td.TypeName()
	switch k := td.Kind.(type) {
	case *wit.Record:
		var parts []string
		for _, f := range k.Fields {
			parts = append(parts, f.Name+": "+TypeRef(f.Type))
		}
		return "record " + name + " { " + strings.Join(parts, ", ") + " }"
	case *wit.Variant:
		var parts []string
		for _, c := range k.Cases {
			if c.Type == nil {
				parts = append(parts, c.Name)
			} else {
				parts = append(parts, c.Name+"("+TypeRef(c.Type)+")")
			}
		}
		return "variant " + name + " { " + strings.Join(parts, ", ") + " }"
	case *wit.Enum:
		var parts []string
		for _, c := range k.Cases {
			parts = append(parts, c.Name)
		}
		return "enum " + name + " { " + strings.Join(parts, ", ") + " }"
	case *wit.Flags:
		var parts []string
		for _, f := range k.Flags {
			parts = append(parts, f.Name)
		}
		return "flags " + name + " { " + strings.Join(parts, ", ") + " }"
	case *wit.Resource:
		return "resource " + name
	case *wit.TypeDef:
		// `use` (same name) shows the definition; an alias names its target.
		if k.Name != nil && *k.Name != name {
			return "type " + name + " = " + *k.Name
		}
		if k.Name != nil {
			renamed := *k
			return TypeDefinition(&renamed)
		}
		return "type " + name + " = " + structure(k.Kind)
	}
	return "type " + name + " = " + structure(td.Kind)
}

func primitive(t wit.Type) string {
	if t == nil {
		return "_"
	}
	if p, ok := t.(interface{ WITKind() string }); ok {
		return p.WITKind() // the wit package's own name of every primitive
	}
	return fmt.Sprintf("%T", t)
}
