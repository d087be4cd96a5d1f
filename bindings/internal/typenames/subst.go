package typenames

import "errors"

// subst makes the types of an instance of a component defined in the
// binary: the component's type parameters (its type imports) replaced by
// the arguments of the instantiation. wit-component's shims re-export the
// types of other interfaces, which they import ("import-type-t1"), so
// that only the arguments say what a re-exported type is (`use a.{t1 as
// u1}`: u1 is a's t1). Nodes that reach no parameter are shared, not
// copied; every node is visited once per instantiation, and every visit
// counts against the budget of the whole binary, so that a binary that
// instantiates a large component many times fails instead of taking
// time quadratic in its size.
type subst struct {
	types  map[*Type]*Type
	itemsM map[*Item]*Item
	funcs  map[*Func]*Func
	budget *int // visits the whole binary may still make
}

var errCopies = errors.New("instantiations visit too many types")

// visit counts a node visited or copied.
func (sb *subst) visit() error {
	if *sb.budget--; *sb.budget < 0 {
		return errCopies
	}
	return nil
}

func (sb *subst) typ(t *Type) (*Type, error) {
	if t == nil {
		return nil, nil
	}
	if r, ok := sb.types[t]; ok {
		return r, nil
	}
	if err := sb.visit(); err != nil {
		return nil, err
	}
	eq, err := sb.typ(t.eq)
	if err != nil {
		return nil, err
	}
	changed := eq != t.eq
	var elems []*Type
	for i, e := range t.Elems {
		n, err := sb.typ(e)
		if err != nil {
			return nil, err
		}
		if n != e && elems == nil {
			elems = append([]*Type(nil), t.Elems...)
		}
		if elems != nil {
			elems[i] = n
		}
	}
	fn, err := sb.fn(t.Func)
	if err != nil {
		return nil, err
	}
	exports, err := sb.items(t.Exports)
	if err != nil {
		return nil, err
	}
	if !changed && elems == nil && fn == t.Func && sameItems(exports, t.Exports) {
		sb.types[t] = t
		return t, nil
	}
	if err := sb.visit(); err != nil {
		return nil, err
	}
	c := *t
	c.eq, c.Func, c.Exports = eq, fn, exports
	if elems != nil {
		c.Elems = elems
	}
	if c.ref {
		if eq == nil {
			c.def = &Type{Kind: KindResource}
		} else {
			c.def = eq.Def()
		}
	}
	sb.types[t] = &c
	return &c, nil
}

func sameItems(a, b map[string]*Item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (sb *subst) fn(f *Func) (*Func, error) {
	if f == nil {
		return nil, nil
	}
	if sb.funcs == nil {
		sb.funcs = map[*Func]*Func{}
	}
	if r, ok := sb.funcs[f]; ok {
		return r, nil
	}
	if err := sb.visit(); err != nil {
		return nil, err
	}
	params := f.Params
	copiedParams := false
	for i, p := range f.Params {
		n, err := sb.typ(p.Type)
		if err != nil {
			return nil, err
		}
		if n != p.Type {
			if !copiedParams {
				params = append([]Param(nil), f.Params...)
				copiedParams = true
			}
			params[i].Type = n
		}
	}
	res, err := sb.typ(f.Result)
	if err != nil {
		return nil, err
	}
	out := f
	if copiedParams || res != f.Result {
		if err := sb.visit(); err != nil {
			return nil, err
		}
		out = &Func{Async: f.Async, Params: params, Result: res}
	}
	sb.funcs[f] = out
	return out, nil
}

func (sb *subst) item(it *Item) (*Item, error) {
	if it == nil {
		return nil, nil
	}
	if sb.itemsM == nil {
		sb.itemsM = map[*Item]*Item{}
	}
	if r, ok := sb.itemsM[it]; ok {
		return r, nil
	}
	if err := sb.visit(); err != nil {
		return nil, err
	}
	fn, err := sb.fn(it.Func)
	if err != nil {
		return nil, err
	}
	t, err := sb.typ(it.Type)
	if err != nil {
		return nil, err
	}
	exports, err := sb.items(it.Exports)
	if err != nil {
		return nil, err
	}
	out := it
	if fn != it.Func || t != it.Type || !sameItems(exports, it.Exports) {
		if err := sb.visit(); err != nil {
			return nil, err
		}
		out = &Item{Kind: it.Kind, Func: fn, Type: t, Exports: exports}
	}
	sb.itemsM[it] = out
	return out, nil
}

// items substitutes the items of a map; a map none of whose items change
// is returned as is.
func (sb *subst) items(m map[string]*Item) (map[string]*Item, error) {
	var out map[string]*Item
	for k, it := range m {
		n, err := sb.item(it)
		if err != nil {
			return nil, err
		}
		if n != it && out == nil {
			out = make(map[string]*Item, len(m))
			for k2, v2 := range m {
				out[k2] = v2
			}
		}
		if out != nil {
			out[k] = n
		}
	}
	if out == nil {
		return m, nil
	}
	return out, nil
}
