// Package witrt is the runtime of the Go bindings witgen generates: checking
// a component's function types against the WIT the bindings were generated
// from, the error plumbing of generated conversions, and the tables that map
// host-defined resource handles to Go values. Generated packages import it
// (one copy for every generated tree, this repository's gen/ and an
// embedder's own alike) and check its version when they compile (Version,
// EnforceVersion). Programs use it for its error types, which the generated
// functions return: TypeError, MissingExportError, ConversionError.
package witrt

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/driftless-dev/driftless/bindings"
)

// Version is the version of the API between generated code and this
// package. witgen writes code for the version of the witrt it is built
// with; code generated for version v compiles only with a witrt whose
// MinVersion <= v <= MaxVersion (see EnforceVersion), so bindings and
// runtime that do not fit fail to build instead of misbehaving.
const Version = 1

// MinVersion and MaxVersion bound the versions of generated code this
// package supports.
const (
	MinVersion = 1
	MaxVersion = Version
)

// EnforceVersion is used by generated code to check the runtime's version
// at compile time, as protobuf-go's protoimpl.EnforceVersion does: code
// generated for version v declares
//
//	const _ = witrt.EnforceVersion(v - witrt.MinVersion)
//	const _ = witrt.EnforceVersion(witrt.MaxVersion - v)
//
// and a negative constant does not convert to this unsigned type.
type EnforceVersion uint

// Sig renders a function type the way witgen renders the WIT function it
// generated bindings for: structure only (record fields and cases by name,
// no type names), so that two types compare equal exactly when values of
// one can be converted as values of the other.
func Sig(ft *bindings.FuncType) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, p := range ft.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		typeSig(&b, p.Type)
	}
	b.WriteByte(')')
	if ft.Result != nil {
		b.WriteString("->")
		typeSig(&b, ft.Result)
	}
	return b.String()
}

func typeSig(b *strings.Builder, t *bindings.Type) {
	if t == nil {
		b.WriteByte('_')
		return
	}
	switch t.Kind {
	case bindings.KindList:
		b.WriteString("list<")
		typeSig(b, t.Elem)
		b.WriteByte('>')
	case bindings.KindOption:
		b.WriteString("option<")
		typeSig(b, t.Elem)
		b.WriteByte('>')
	case bindings.KindTuple:
		b.WriteString("tuple<")
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			typeSig(b, e)
		}
		b.WriteByte('>')
	case bindings.KindResult:
		b.WriteString("result")
		switch {
		case t.Ok == nil && t.Err == nil:
		case t.Err == nil:
			b.WriteByte('<')
			typeSig(b, t.Ok)
			b.WriteByte('>')
		default:
			b.WriteByte('<')
			typeSig(b, t.Ok)
			b.WriteByte(',')
			typeSig(b, t.Err)
			b.WriteByte('>')
		}
	case bindings.KindRecord:
		b.WriteString("record{")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Name)
			b.WriteByte(':')
			typeSig(b, f.Type)
		}
		b.WriteByte('}')
	case bindings.KindVariant:
		b.WriteString("variant{")
		for i, c := range t.Cases {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.Name)
			if c.Type != nil {
				b.WriteByte('(')
				typeSig(b, c.Type)
				b.WriteByte(')')
			}
		}
		b.WriteByte('}')
	case bindings.KindEnum, bindings.KindFlags:
		b.WriteString(t.Kind.String())
		b.WriteByte('{')
		b.WriteString(strings.Join(t.Names, ","))
		b.WriteByte('}')
	case bindings.KindFuture, bindings.KindStream:
		b.WriteString(t.Kind.String())
		if t.Elem != nil {
			b.WriteByte('<')
			typeSig(b, t.Elem)
			b.WriteByte('>')
		}
	default:
		// Primitives, own, borrow, error-context.
		b.WriteString(t.Kind.String())
	}
}

// sigs caches the rendering of reflected function types, which components
// compute once and keep: binding an instance then costs a map lookup per
// function. Entries go when their FuncType is garbage collected.
var sigs sync.Map // weak.Pointer[bindings.FuncType] -> string

func cachedSig(ft *bindings.FuncType) string {
	key := weak.Make(ft)
	if s, ok := sigs.Load(key); ok {
		return s.(string)
	}
	s := Sig(ft)
	if _, loaded := sigs.LoadOrStore(key, s); !loaded {
		runtime.AddCleanup(ft, func(k weak.Pointer[bindings.FuncType]) { sigs.Delete(k) }, key)
	}
	return s
}

// TypeError says that a component's function does not have the type of the
// WIT function the bindings were generated from.
type TypeError struct {
	Func string // "interface#name", or "name" for a world-level function
	Got  string // the component's type, rendered like Want
	Want string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("function %s has type %s, but the bindings expect %s", e.Func, e.Got, e.Want)
}

// MissingExportError says that a component lacks an export the bindings need.
type MissingExportError struct {
	Name string // "interface", "interface#function" or "function"
}

func (e *MissingExportError) Error() string {
	return "component does not export " + e.Name
}

func qualified(iface, name string) string {
	if iface == "" {
		return name
	}
	return iface + "#" + name
}

// ExportFunc returns the function name of the exported interface iface (or
// of the component itself when iface is empty), after checking that its
// type renders as want.
func ExportFunc(inst *bindings.Instance, iface, name, want string) (*bindings.Func, error) {
	ct := inst.Component().Type()
	var ft *bindings.FuncType
	if iface == "" {
		if it := ct.Export(name); it != nil && it.Kind == bindings.ItemFunc {
			ft = it.Func
		}
	} else {
		if ct.Export(iface) == nil {
			return nil, &MissingExportError{Name: iface}
		}
		ft = ct.Func(iface, name)
	}
	if ft == nil {
		return nil, &MissingExportError{Name: qualified(iface, name)}
	}
	if got := cachedSig(ft); got != want {
		return nil, &TypeError{Func: qualified(iface, name), Got: got, Want: want}
	}
	var f *bindings.Func
	var err error
	if iface == "" {
		f, err = inst.Func(name)
	} else {
		f, err = inst.Func(iface, name)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ImportSig is the name and expected type of one imported function.
type ImportSig struct {
	Name string
	Sig  string
}

// CheckImports checks the types of the functions c imports from iface (or
// at its root when iface is empty) against sigs. Functions c does not
// import are fine: a component may use part of an interface.
func CheckImports(c *bindings.Component, iface string, sigs []ImportSig) error {
	ct := c.Type()
	defs := ct.Imports
	if iface != "" {
		it := ct.Import(iface)
		if it == nil || it.Kind != bindings.ItemInstance {
			return nil
		}
		defs = it.Exports
	}
	var errs []error
	for _, s := range sigs {
		for _, d := range defs {
			if d.Name != s.Name || d.Item.Kind != bindings.ItemFunc {
				continue
			}
			if got := cachedSig(d.Item.Func); got != s.Sig {
				errs = append(errs, &TypeError{Func: qualified(iface, s.Name), Got: got, Want: s.Sig})
			}
		}
	}
	return errors.Join(errs...)
}

// ConversionError is the error of a generated function whose conversion of
// a value failed: a Go value the WIT type cannot hold (an invalid enum or
// variant value, a nil handle), a resource handle of the wrong type or no
// longer live, a value a component returned that the Go type cannot hold.
type ConversionError struct {
	Err error
}

func (e *ConversionError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *ConversionError) Unwrap() error { return e.Err }

// fault carries a conversion error out of nested conversion code.
type fault struct{ err error }

// Faultf returns the value generated code panics with to stop a conversion
// that cannot be done: the generated function running it then returns a
// *ConversionError (Catch recovers it).
func Faultf(format string, args ...any) any {
	return fault{fmt.Errorf(format, args...)}
}

// Fault is Faultf for an existing error.
func Fault(err error) any { return fault{err} }

// Catch is deferred by generated functions whose conversions can fail: it
// turns a Faultf into the function's error, a *ConversionError. Other
// panics go on.
func Catch(errp *error) {
	if r := recover(); r != nil {
		f, ok := r.(fault)
		if !ok {
			panic(r)
		}
		*errp = &ConversionError{Err: f.err}
	}
}

// HostTable maps the handles of one host-defined resource type to the Go
// values behind them. The values live in the table of the store the handles
// belong to (bindings.Store.ResourceTable), as in wasmtime, so they go with
// the store; each handle given to a guest gets its own representation
// (rep), and a value is live while the guest owns a handle to it.
type HostTable[T comparable] struct {
	Type *bindings.ResourceType
}

// NewHostTable returns a table for a new resource type named name.
func NewHostTable[T comparable](name string) *HostTable[T] {
	return &HostTable[T]{Type: bindings.NewResourceType(name)}
}

// DropBorrow ends a temporary handle that New made (with borrow) to lend a
// host value to a call: the host drops its handle, which runs no
// destructor, and the store's table forgets it.
func DropBorrow(ctx context.Context, s *bindings.Store, r *bindings.Resource) {
	if rep, typ, err := r.HostRep(); err == nil {
		s.ResourceTable().Delete(typ, rep)
	}
	_ = r.Drop(ctx)
}

// New creates a handle to v in s. borrow marks a handle made only to pass v
// as a borrow argument; the caller drops it after the call.
func (t *HostTable[T]) New(s *bindings.Store, v T, borrow bool) (*bindings.Resource, error) {
	if s == nil {
		return nil, errors.New("witrt: a host resource needs a store")
	}
	tab := s.ResourceTable()
	rep := tab.Push(t.Type, v, borrow)
	r, err := s.NewResource(t.Type, rep)
	if err != nil {
		tab.Delete(t.Type, rep)
		return nil, err
	}
	return r, nil
}

func (t *HostTable[T]) rep(r *bindings.Resource) (uint32, error) {
	rep, typ, err := r.HostRep()
	if err != nil {
		return 0, err
	}
	if typ != t.Type {
		return 0, fmt.Errorf("resource handle is a %s, not a %s", typeName(typ), t.Type.Name())
	}
	return rep, nil
}

func typeName(t *bindings.ResourceType) string {
	if t == nil {
		return "foreign resource"
	}
	return t.Name()
}

func (t *HostTable[T]) notLive(rep uint32) error {
	return fmt.Errorf("%s handle %d is not live", t.Type.Name(), rep)
}

// Lookup returns the value behind a host handle the guest passed (as a
// borrow, or to a method) without changing ownership.
func (t *HostTable[T]) Lookup(s *bindings.Store, r *bindings.Resource) (T, error) {
	var zero T
	rep, err := t.rep(r)
	if err != nil {
		return zero, err
	}
	if v, ok := s.ResourceTable().Get(t.Type, rep); ok {
		return v.(T), nil
	}
	return zero, t.notLive(rep)
}

// Take returns the value behind an owned host handle the guest gave back to
// the host, and forgets the handle: the value is the host's again.
func (t *HostTable[T]) Take(s *bindings.Store, r *bindings.Resource) (T, error) {
	var zero T
	rep, err := t.rep(r)
	if err != nil {
		return zero, err
	}
	if v, _, ok := s.ResourceTable().Delete(t.Type, rep); ok {
		return v.(T), nil
	}
	return zero, t.notLive(rep)
}

// Dropped forgets rep after the guest (or the host, for a borrow handle)
// dropped it, and reports whether it was the last owned handle of its value.
func (t *HostTable[T]) Dropped(s *bindings.Store, rep uint32) (v T, last bool) {
	if x, l, ok := s.ResourceTable().Delete(t.Type, rep); ok {
		return x.(T), l
	}
	return v, false
}

// Live returns the number of handles of this type in s, for tests.
func (t *HostTable[T]) Live(s *bindings.Store) int { return s.ResourceTable().Len(t.Type) }
