// Package wasmscan reads what the host checks of a core WebAssembly module
// that wasmtime's API does not show: the memories and tables the module
// defines, exported or not. It reads the table and memory sections only,
// of a module wasmtime has already validated, and never reads past the
// input: any malformed or truncated module is an error (FuzzScan).
package wasmscan

import (
	"errors"
	"fmt"
)

// PageSize is the size of a WebAssembly memory page without the custom
// page sizes proposal.
const PageSize = 64 << 10

// Module is what Scan reads of a module.
type Module struct {
	Memories []Memory // the memories the module defines, in order
	Tables   int      // the number of tables the module defines
}

// Memory is one memory a module defines.
type Memory struct {
	// MinBytes is its initial size in bytes (its minimum pages times its
	// page size), saturated at the largest uint64.
	MinBytes uint64
}

// ErrTruncated is the error of a module that ends inside a section.
var ErrTruncated = errors.New("malformed module: truncated section")

// The section ids Scan reads.
const (
	sectionTable  = 4
	sectionMemory = 5
)

// Scan reads the memory and table sections of the module wasm.
func Scan(wasm []byte) (Module, error) {
	var m Module
	if len(wasm) < 8 {
		return m, ErrTruncated
	}
	r := &reader{b: wasm[8:]} // after the magic number and version
	for r.more() {
		id, err := r.byte()
		if err != nil {
			return m, err
		}
		size, err := r.u32()
		if err != nil {
			return m, err
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return m, err
		}
		switch id {
		case sectionTable:
			s := &reader{b: body}
			n, err := s.u32()
			if err != nil {
				return m, err
			}
			m.Tables += int(n)
		case sectionMemory:
			s := &reader{b: body}
			n, err := s.u32()
			if err != nil {
				return m, err
			}
			// Each memory type takes at least two bytes: a count beyond
			// what the section can hold is malformed, not a reason to
			// loop.
			if uint64(n) > uint64(len(body)) {
				return m, ErrTruncated
			}
			for range n {
				mem, err := s.memoryType()
				if err != nil {
					return m, err
				}
				m.Memories = append(m.Memories, mem)
			}
		}
	}
	return m, nil
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) more() bool { return r.off < len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, ErrTruncated
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, ErrTruncated
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits { // ceil(bits/7) bytes at most
			return 0, errors.New("malformed module: integer too long")
		}
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// memoryType reads a memtype: flags (bit 0 max, bit 1 shared, bit 2
// 64-bit, bit 3 custom page size), min, [max], [page size log2].
func (r *reader) memoryType() (Memory, error) {
	flags, err := r.byte()
	if err != nil {
		return Memory{}, err
	}
	bits := uint(32)
	if flags&4 != 0 {
		bits = 64
	}
	min, err := r.uleb(bits)
	if err != nil {
		return Memory{}, err
	}
	if flags&1 != 0 {
		if _, err := r.uleb(bits); err != nil {
			return Memory{}, err
		}
	}
	page := uint64(PageSize)
	if flags&8 != 0 {
		log2, err := r.u32()
		if err != nil {
			return Memory{}, err
		}
		if log2 > 16 {
			return Memory{}, fmt.Errorf("malformed module: page size 2^%d", log2)
		}
		page = 1 << log2
	}
	bytes := min * page
	if page != 0 && bytes/page != min {
		bytes = ^uint64(0)
	}
	return Memory{MinBytes: bytes}, nil
}
