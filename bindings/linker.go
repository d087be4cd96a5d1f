package bindings

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// HostFunc implements an imported function in Go. params holds the
// arguments; the function must set every element of results (a component
// function has zero or one result). ctx is the context of the call that
// reached the host function, and StoreFromContext(ctx) is its store.
//
// A returned error, or a panic, traps the guest; the call that entered the
// guest then fails with a *Trap of kind TrapHost whose Cause is that error
// (or a *HostPanicError).
type HostFunc func(ctx context.Context, params []Val, results []Val) error

// ResourceDestructor runs when a guest drops the last owned handle of a
// host-defined resource; rep is the representation the host chose.
type ResourceDestructor func(ctx context.Context, rep uint32) error

// Linker resolves a component's imports: Go host functions and resource
// types in named (possibly nested) instances, and WASI p2.
//
// Definitions are recorded in Go, in any order, and turned into a wasmtime
// linker at the first instantiation; after that the linker is sealed and
// further definitions fail. A Linker is safe for concurrent use; typically
// one is shared by all instantiations of a plugin.
type Linker struct {
	engine *Engine

	mu     sync.Mutex
	root   *linkerNode
	wasi   bool
	built  *C.wasmtime_component_linker_t
	closed bool
}

type linkerNode struct {
	funcs     map[string]*hostFunc
	resources map[string]*hostResource
	instances map[string]*linkerNode
}

type hostFunc struct {
	name   string // "instance#func", for messages
	fn     HostFunc
	direct HostFuncDirect // instead of fn
}

type hostResource struct {
	name string
	ty   *ResourceType
	drop ResourceDestructor
}

// NewLinker returns an empty linker for e. Close it when done; a linker
// that is garbage collected without Close is closed then.
func (e *Engine) NewLinker() *Linker {
	l := &Linker{engine: e, root: newNode()}
	runtime.SetFinalizer(l, (*Linker).Close)
	return l
}

func newNode() *linkerNode {
	return &linkerNode{
		funcs:     map[string]*hostFunc{},
		resources: map[string]*hostResource{},
		instances: map[string]*linkerNode{},
	}
}

// LinkerInstance names an instance in a linker, e.g.
// "driftless:plugin/host@0.1.0", in which functions and resources are
// defined.
type LinkerInstance struct {
	l    *Linker
	path []string
}

// Root returns the linker's root namespace.
func (l *Linker) Root() LinkerInstance { return LinkerInstance{l: l} }

// Instance returns the instance of that name at the root, e.g.
// l.Instance("driftless:plugin/host@0.1.0").
func (l *Linker) Instance(name string) LinkerInstance { return l.Root().Instance(name) }

// Instance returns the instance of that name nested in li.
func (li LinkerInstance) Instance(name string) LinkerInstance {
	p := append(append([]string(nil), li.path...), name)
	return LinkerInstance{l: li.l, path: p}
}

func (li LinkerInstance) node() *linkerNode {
	n := li.l.root
	for _, name := range li.path {
		c, ok := n.instances[name]
		if !ok {
			c = newNode()
			n.instances[name] = c
		}
		n = c
	}
	return n
}

func (li LinkerInstance) qualified(name string) string {
	if len(li.path) == 0 {
		return name
	}
	return strings.Join(li.path, "/") + "#" + name
}

// DefineFunc defines a host function named name in li.
func (li LinkerInstance) DefineFunc(name string, fn HostFunc) error {
	if fn == nil {
		return fmt.Errorf("bindings: DefineFunc %s: nil function", li.qualified(name))
	}
	return li.define(name, &hostFunc{name: li.qualified(name), fn: fn})
}

func (li LinkerInstance) define(name string, f *hostFunc) error {
	li.l.mu.Lock()
	defer li.l.mu.Unlock()
	n := li.node()
	if _, dup := n.funcs[name]; dup {
		return fmt.Errorf("bindings: %s is already defined", li.qualified(name))
	}
	if li.l.built != nil {
		return errSealed(li.qualified(name))
	}
	n.funcs[name] = f
	return nil
}

// DefineResource defines a host resource type named name in li. drop, if
// not nil, runs when the guest drops an owned handle.
func (li LinkerInstance) DefineResource(name string, ty *ResourceType, drop ResourceDestructor) error {
	if ty == nil {
		return fmt.Errorf("bindings: DefineResource %s: nil type", li.qualified(name))
	}
	li.l.mu.Lock()
	defer li.l.mu.Unlock()
	n := li.node()
	if _, dup := n.resources[name]; dup {
		return fmt.Errorf("bindings: resource %s is already defined", li.qualified(name))
	}
	if li.l.built != nil {
		return errSealed(li.qualified(name))
	}
	n.resources[name] = &hostResource{name: li.qualified(name), ty: ty, drop: drop}
	return nil
}

// AddWASIP2 makes the linker provide WASI p2 (wasi:cli, wasi:clocks,
// wasi:filesystem, wasi:io, wasi:random, wasi:sockets) from each store's
// WASI context. What a guest can reach is decided by that context: a store
// without a WASIConfig gets a sealed one.
func (l *Linker) AddWASIP2() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.built != nil {
		return errSealed("WASI p2")
	}
	l.wasi = true
	return nil
}

func errSealed(what string) error {
	return fmt.Errorf("bindings: cannot define %s: the linker was already used to instantiate and is sealed", what)
}

// HasWASI reports whether AddWASIP2 was called.
func (l *Linker) HasWASI() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wasi
}

// Close frees the wasmtime linker. Instances created through it stay valid;
// the linker must not be used again, nor closed while another goroutine is
// instantiating with it.
func (l *Linker) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	runtime.SetFinalizer(l, nil)
	if l.built != nil {
		C.wasmtime_component_linker_delete(l.built)
		l.built = nil
	}
	l.closed = true
}

// Defines reports whether the linker defines an item with this import name
// at the root: an instance of host definitions, a root function, or (with
// WASI) a wasi: interface.
func (l *Linker) Defines(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.root.instances[name]; ok {
		return true
	}
	if _, ok := l.root.funcs[name]; ok {
		return true
	}
	return l.wasi && strings.HasPrefix(name, "wasi:")
}

// linker returns the wasmtime linker, building it if needed. l.mu is held.
func (l *Linker) linker() (*C.wasmtime_component_linker_t, error) {
	if l.built != nil {
		return l.built, nil
	}
	if l.closed {
		return nil, fmt.Errorf("bindings: linker is closed")
	}
	cl := C.wasmtime_component_linker_new(l.engine.ptr)
	if l.wasi {
		if err := takeError("link", C.wasmtime_component_linker_add_wasip2(cl)); err != nil {
			C.wasmtime_component_linker_delete(cl)
			return nil, err
		}
	}
	root := C.wasmtime_component_linker_root(cl)
	err := buildNode(root, l.root)
	C.wasmtime_component_linker_instance_delete(root)
	if err != nil {
		C.wasmtime_component_linker_delete(cl)
		return nil, err
	}
	l.built = cl
	return cl, nil
}

func buildNode(li *C.wasmtime_component_linker_instance_t, n *linkerNode) error {
	// Resources before functions: functions' types may refer to them.
	for _, name := range sortedKeys(n.resources) {
		r := n.resources[name]
		h := newHandle(r)
		cn := cName(name)
		err := takeError("link", C.dl_add_resource(li, cn.p, cn.n, C.uint32_t(r.ty.id), C.uintptr_t(h)))
		cn.free()
		if err != nil {
			return fmt.Errorf("defining resource %s: %w", r.name, err)
		}
	}
	for _, name := range sortedKeys(n.funcs) {
		f := n.funcs[name]
		h := newHandle(f)
		cn := cName(name)
		err := takeError("link", C.dl_add_func(li, cn.p, cn.n, C.uintptr_t(h)))
		cn.free()
		if err != nil {
			return fmt.Errorf("defining function %s: %w", f.name, err)
		}
	}
	for _, name := range sortedKeys(n.instances) {
		cn := cName(name)
		var child *C.wasmtime_component_linker_instance_t
		err := takeError("link", C.wasmtime_component_linker_instance_add_instance(li, cn.p, cn.n, &child))
		cn.free()
		if err != nil {
			return fmt.Errorf("defining instance %s: %w", name, err)
		}
		err = buildNode(child, n.instances[name])
		C.wasmtime_component_linker_instance_delete(child)
		if err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type cname struct {
	p *C.char
	n C.size_t
}

func cName(s string) cname { return cname{p: C.CString(s), n: C.size_t(len(s))} }
func (c cname) free()      { C.free(unsafe.Pointer(c.p)) }

// ImportError lists the imports of a component that a linker cannot
// satisfy, or whose types this package refuses.
type ImportError struct {
	Missing []string // import names the linker does not define
	Refused []string // imports with types the C API cannot carry, with why
}

func (e *ImportError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "unknown imports: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Refused) > 0 {
		parts = append(parts, "refused imports: "+strings.Join(e.Refused, "; "))
	}
	return strings.Join(parts, "; ")
}

// CheckImports reports every import of c that the linker does not define,
// and every host-function import whose type carries future, stream or
// error-context values (which wasmtime's C API cannot convert and would
// abort on). It returns nil when c can be instantiated with l.
func (l *Linker) CheckImports(c *Component) error {
	ct := c.Type()
	var ie ImportError
	l.mu.Lock()
	defer l.mu.Unlock()
	defined := map[int]bool{}
	for _, imp := range ct.Imports {
		l.root.definedResources(imp, defined)
	}
	for _, imp := range ct.Imports {
		switch {
		case l.wasi && strings.HasPrefix(imp.Name, "wasi:"):
			// wasmtime provides these; instantiation reports versions it lacks.
		default:
			if why := l.root.missing(imp, defined); len(why) > 0 {
				ie.Missing = append(ie.Missing, why...)
			}
		}
		if why := asyncInItem(imp.Name, imp.Item); why != "" {
			ie.Refused = append(ie.Refused, why)
		}
	}
	if len(ie.Missing) == 0 && len(ie.Refused) == 0 {
		return nil
	}
	return &ie
}

// definedResources adds to set the resources of imp that n defines.
func (n *linkerNode) definedResources(imp ItemDef, set map[int]bool) {
	switch imp.Item.Kind {
	case ItemResource:
		if _, ok := n.resources[imp.Name]; ok {
			set[imp.Item.resource] = true
		}
	case ItemInstance:
		if child, ok := n.instances[imp.Name]; ok {
			for _, e := range imp.Item.Exports {
				child.definedResources(e, set)
			}
		}
	}
}

// missing returns the names within item that node n does not define.
// A resource that an interface uses from another one (`use a.{r}`) is
// imported twice as one type; defining it once (in set) satisfies both.
func (n *linkerNode) missing(imp ItemDef, defined map[int]bool) []string {
	switch imp.Item.Kind {
	case ItemFunc:
		if _, ok := n.funcs[imp.Name]; ok {
			return nil
		}
		return []string{imp.Name}
	case ItemResource:
		if _, ok := n.resources[imp.Name]; ok || defined[imp.Item.resource] {
			return nil
		}
		return []string{imp.Name}
	case ItemInstance:
		child, ok := n.instances[imp.Name]
		if !ok {
			// An interface of types only (records, enums, ... that other
			// interfaces use) needs nothing from the host: wasmtime
			// instantiates the component without the instance defined.
			child = &linkerNode{}
			for _, e := range imp.Item.Exports {
				if len(child.missing(e, defined)) > 0 {
					return []string{imp.Name}
				}
			}
			return nil
		}
		var out []string
		for _, e := range imp.Item.Exports {
			for _, m := range child.missing(e, defined) {
				out = append(out, imp.Name+"#"+m)
			}
		}
		return out
	case ItemType:
		return nil
	}
	return []string{imp.Name + " (" + imp.Item.Kind.String() + ")"}
}

// recordTypes tells s the types under which c's imports use the host
// functions of n, so that host results can be checked against them in Go
// (see Store.hostCall). A host function imported under two different types
// in one store is checked by wasmtime only.
func (n *linkerNode) recordTypes(s *Store, imports []ItemDef) {
	for _, imp := range imports {
		switch imp.Item.Kind {
		case ItemFunc:
			f, ok := n.funcs[imp.Name]
			if !ok {
				continue
			}
			if s.hostTypes == nil {
				s.hostTypes = map[*hostFunc]*FuncType{}
			}
			prev, seen := s.hostTypes[f]
			switch {
			case !seen:
				s.hostTypes[f] = imp.Item.Func
			case prev != nil && prev != imp.Item.Func && prev.String() != imp.Item.Func.String():
				s.hostTypes[f] = nil
			}
		case ItemInstance:
			if child, ok := n.instances[imp.Name]; ok {
				child.recordTypes(s, imp.Item.Exports)
			}
		}
	}
}

func asyncInItem(name string, it *Item) string {
	switch it.Kind {
	case ItemFunc:
		for _, p := range it.Func.Params {
			if k := asyncKind(p.Type); k != 0 {
				return fmt.Sprintf("%s: parameter %s has a %s type", name, p.Name, k)
			}
		}
		if it.Func.Result != nil {
			if k := asyncKind(it.Func.Result); k != 0 {
				return fmt.Sprintf("%s: result has a %s type", name, k)
			}
		}
	case ItemInstance:
		for _, e := range it.Exports {
			if why := asyncInItem(name+"#"+e.Name, e.Item); why != "" {
				return why
			}
		}
	}
	return ""
}

// asyncKind returns the first future, stream or error-context kind in t.
func asyncKind(t *Type) Kind {
	if t == nil {
		return 0
	}
	switch t.Kind {
	case KindFuture, KindStream, KindErrorContext:
		return t.Kind
	}
	for _, c := range t.children() {
		if k := asyncKind(c); k != 0 {
			return k
		}
	}
	return 0
}

// Instantiate instantiates c in s with the linker's definitions. Imports the
// linker does not satisfy are reported by name before wasmtime is asked.
func (l *Linker) Instantiate(s *Store, c *Component) (*Instance, error) {
	return l.InstantiateContext(context.Background(), s, c)
}

// InstantiateContext is Instantiate with a context: the component's start
// functions (and any host function they call) run under ctx and the
// store's CallLimits, like a call, and ctx's cancellation interrupts them.
func (l *Linker) InstantiateContext(ctx context.Context, s *Store, c *Component) (*Instance, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &Trap{Kind: TrapInterrupted, Cause: err}
	}
	if s.trapped != nil {
		return nil, &InstanceTrappedError{Trap: s.trapped, store: true}
	}
	if err := l.CheckImports(c); err != nil {
		return nil, err
	}
	l.mu.Lock()
	cl, err := l.linker()
	wasi := l.wasi
	if err == nil {
		l.root.recordTypes(s, c.Type().Imports)
	}
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if wasi && !s.hasWASI {
		if err := s.setWASI(&WASIConfig{}); err != nil {
			return nil, err
		}
	}
	var inst C.dl_instance_t
	// Instantiation runs guest start functions: it is a call like any other.
	prev := s.beginCall(ctx)
	if s.engine.config.ConsumeFuel {
		if err := takeError("fuel", C.wasmtime_context_set_fuel(s.cx, C.uint64_t(s.fuel()))); err != nil {
			s.endCall(prev)
			return nil, err
		}
	}
	if s.engine.config.EpochInterruption {
		C.wasmtime_context_set_epoch_deadline(s.cx, 1)
	}
	cerr := C.wasmtime_component_linker_instantiate(cl, s.cx, c.ptr, &inst)
	err = s.callError("instantiate", cerr)
	s.endCall(prev)
	if err != nil {
		s.poisonedBy(err)
		return nil, err
	}
	return &Instance{store: s, comp: c, inst: inst, funcs: map[string]*Func{}}, nil
}

func (s *storeState) fuel() uint64 {
	if s.call.Fuel == 0 {
		return ^uint64(0)
	}
	return s.call.Fuel
}

// callError converts the error of a call into the guest, preferring the Go
// cause recorded by a callback over wasmtime's message about it.
func (s *storeState) callError(op string, p *C.wasmtime_error_t) error {
	if p == nil {
		return nil
	}
	err := takeError(op, p)
	if s.hostErr == nil {
		return err
	}
	t, ok := err.(*Trap)
	if !ok {
		t = &Trap{Message: err.Error()}
	}
	t.Cause = s.hostErr
	if _, interrupted := isInterruption(s.hostErr); interrupted {
		t.Kind = TrapInterrupted
	} else {
		t.Kind = TrapHost
	}
	return t
}

func isInterruption(err error) (error, bool) {
	switch err.(type) {
	case *TimeoutError:
		return err, true
	}
	if err == context.Canceled || err == context.DeadlineExceeded {
		return err, true
	}
	return nil, false
}

// The error comes back as an integer: cgo checks every pointer an exported
// function returns, and this one runs on every host call.
//
//export dlGoHostCall
func dlGoHostCall(fh, sh C.uintptr_t, args *C.dl_val_t, nargs C.size_t, nrets C.size_t, out **C.dl_val_t) C.uintptr_t {
	f, ok1 := handle(fh).value().(*hostFunc)
	s, ok2 := handle(sh).value().(*storeState)
	if !ok1 || !ok2 {
		return errInt(newCError("bindings: host call with an unknown function or store"))
	}
	cargs := unsafe.Slice((*cVal)(unsafe.Pointer(args)), int(nargs))
	var err error
	if f.direct != nil {
		err = s.hostCallDirect(f, cargs, int(nrets), out)
	} else {
		err = s.hostCall(f, cargs, int(nrets), out)
	}
	if err != nil {
		if s.hostErr == nil {
			s.hostErr = err
		}
		return errInt(newCError("driftless: host function " + f.name + " failed: " + bound(err.Error(), maxMessage)))
	}
	return 0
}

// hostPanic is the error of a host function (or destructor) named name
// that panicked with p, with its stack kept but bounded.
func hostPanic(name string, p any) *HostPanicError {
	return &HostPanicError{Func: name, Value: p, Stack: bound(string(debug.Stack()), 8192)}
}

func errInt(e *C.wasmtime_error_t) C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(e))) }

func (s *storeState) hostCall(f *hostFunc, cargs []cVal, nrets int, out **C.dl_val_t) (err error) {
	// One allocation for both; params and results must not alias.
	buf := make([]Val, len(cargs)+nrets)
	params, results := buf[:len(cargs):len(cargs)], buf[len(cargs):]
	// Borrowed handles among the parameters are valid only during this
	// call: wasmtime removes them from its table when the call returns,
	// and may reuse their slots, so a handle kept past the call could reach
	// another resource (or make wasmtime abort). End them on return.
	borrowMark := len(s.borrows)
	defer func() {
		if berr := s.endBorrows(borrowMark); err == nil {
			err = berr
		}
	}()
	ft := s.hostTypes[f]
	if ft != nil && len(ft.Params) != len(cargs) {
		ft = nil
	}
	for i := range cargs {
		var pt *Type
		if ft != nil {
			pt = ft.Params[i].Type
		}
		v, err := s.getT(&cargs[i], pt)
		if err != nil {
			return err
		}
		params[i] = v
	}
	ctx := s.callbackContext()
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = hostPanic(f.name, p)
			}
		}()
		err = f.fn(ctx, params, results)
	}()
	if err != nil {
		return err
	}
	for i, r := range results {
		if !r.IsValid() {
			return fmt.Errorf("host function %s did not set result %d", f.name, i)
		}
		// Check in Go what wasmtime would otherwise find while lowering the
		// result (invalid UTF-8 and chars it would even abort on).
		var err error
		if ft != nil && ft.Result != nil {
			err = r.checkType(ft.Result, s)
		} else {
			err = r.check(s)
		}
		if err != nil {
			return fmt.Errorf("host function %s result: %w", f.name, err)
		}
	}
	// Results go above the running call's data; the previous callback's
	// results were already copied by wasmtime.
	s.arena.release(s.cbBase)
	cs := s.arena.vals(nrets)
	if nrets > 0 {
		if err := s.putResults(f, cs, results); err != nil {
			return err
		}
	}
	*out = (*C.dl_val_t)(unsafe.Pointer(cs))
	return nil
}

// putResults writes a host function's results into cs. What a Lowerer
// refuses, or its panic, becomes the host function's error: a panic must
// not unwind through wasmtime's frames.
func (s *storeState) putResults(f *hostFunc, cs *cVal, results []Val) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.arena.err = nil
			err = hostPanic(f.name, p)
		}
	}()
	for i, r := range results {
		s.arena.put(&unsafe.Slice(cs, len(results))[i], r)
	}
	if err := s.arena.takeErr(); err != nil {
		return fmt.Errorf("host function %s result: %w", f.name, err)
	}
	return nil
}

//export dlGoResourceDrop
func dlGoResourceDrop(rh, sh C.uintptr_t, rep C.uint32_t) *C.wasmtime_error_t {
	r, ok1 := handle(rh).value().(*hostResource)
	s, ok2 := handle(sh).value().(*storeState)
	if !ok1 || !ok2 {
		return newCError("bindings: resource drop with an unknown type or store")
	}
	if r.drop == nil {
		return nil
	}
	ctx := s.callbackContext()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = hostPanic(r.name+" destructor", p)
			}
		}()
		err = r.drop(ctx, uint32(rep))
	}()
	if err != nil {
		if s.hostErr == nil {
			s.hostErr = err
		}
		return newCError("driftless: destructor of " + r.name + " failed: " + bound(err.Error(), maxMessage))
	}
	return nil
}
