package typenames

// Core types appear in component and instance type declarations (a core
// module's type). They name no component type, but must be read to reach
// the declarations after them. The decoder reads the WebAssembly 1.0
// forms and reference types; GC types (rec groups, structs, arrays) are an
// error, which callers take as "no names".

// coreType reads a core:type: a module type or a function type.
func coreType(r *reader) error {
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x50:
		return vec(r, func() error { return moduleDecl(r) })
	case 0x60:
		return coreFuncType(r)
	}
	return r.fail("core type 0x%02x", b)
}

func coreFuncType(r *reader) error {
	for range 2 {
		if err := vec(r, func() error { return coreValtype(r) }); err != nil {
			return err
		}
	}
	return nil
}

func moduleDecl(r *reader) error {
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x00:
		for range 2 {
			if _, err := r.str(); err != nil {
				return err
			}
		}
		return importDesc(r)
	case 0x01:
		t, err := r.byte()
		if err != nil {
			return err
		}
		if t != 0x60 {
			return r.fail("core type 0x%02x in a module type", t)
		}
		return coreFuncType(r)
	case 0x02:
		// An outer alias of a core type: 0x10 0x01 count index.
		if err := r.skip(2); err != nil {
			return err
		}
		for range 2 {
			if _, err := r.u32(); err != nil {
				return err
			}
		}
		return nil
	case 0x03:
		if _, err := r.str(); err != nil {
			return err
		}
		return importDesc(r)
	}
	return r.fail("module type declaration 0x%02x", b)
}

func importDesc(r *reader) error {
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x00:
		_, err := r.u32()
		return err
	case 0x01:
		if err := refType(r); err != nil {
			return err
		}
		return limits(r)
	case 0x02:
		return limits(r)
	case 0x03:
		if err := coreValtype(r); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	case 0x04:
		if err := r.skip(1); err != nil {
			return err
		}
		_, err := r.u32()
		return err
	}
	return r.fail("import description 0x%02x", b)
}

func limits(r *reader) error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags&^0x0f != 0 {
		return r.fail("limits flags 0x%02x", flags)
	}
	n := 1
	if flags&0x01 != 0 {
		n = 2
	}
	for range n {
		if err := u64(r); err != nil {
			return err
		}
	}
	if flags&0x08 != 0 {
		_, err := r.u32()
		return err
	}
	return nil
}

func u64(r *reader) error {
	for i := 0; ; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if i == 9 && c > 0x01 {
			return r.fail("u64 out of range")
		}
		if c&0x80 == 0 {
			return nil
		}
	}
}

func coreValtype(r *reader) error {
	b, err := r.peek()
	if err != nil {
		return err
	}
	switch b {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b:
		r.off++
		return nil
	}
	return refType(r)
}

func refType(r *reader) error {
	b, err := r.byte()
	if err != nil {
		return err
	}
	switch b {
	case 0x70, 0x6f, 0x6e, 0x71, 0x72, 0x73, 0x6c, 0x6b, 0x6a, 0x69, 0x74, 0x75:
		// funcref, externref and the other abbreviated reference types.
		return nil
	case 0x63, 0x64:
		_, err := r.s33()
		return err
	}
	return r.fail("reference type 0x%02x", b)
}
