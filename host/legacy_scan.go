package host

import (
	"errors"
	"fmt"
)

// moduleInfo is what the load checks need of a core module that wasmtime's
// API does not show: the memories and tables it defines (exported or not).
type moduleInfo struct {
	memories []memoryInfo
	tables   int
}

type memoryInfo struct {
	minBytes uint64
}

var errTruncated = errors.New("malformed module: truncated section")

// scanModule reads the table and memory sections of a core module that
// wasmtime has already validated. It reads nothing else.
func scanModule(wasm []byte) (moduleInfo, error) {
	var info moduleInfo
	if len(wasm) < 8 {
		return info, errTruncated
	}
	r := &wasmReader{b: wasm[8:]}
	for r.more() {
		id, err := r.byte()
		if err != nil {
			return info, err
		}
		size, err := r.u32()
		if err != nil {
			return info, err
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return info, err
		}
		switch id {
		case 4: // tables
			s := &wasmReader{b: body}
			n, err := s.u32()
			if err != nil {
				return info, err
			}
			info.tables += int(n)
		case 5: // memories
			s := &wasmReader{b: body}
			n, err := s.u32()
			if err != nil {
				return info, err
			}
			for range n {
				m, err := s.memoryType()
				if err != nil {
					return info, err
				}
				info.memories = append(info.memories, m)
			}
		}
	}
	return info, nil
}

type wasmReader struct {
	b   []byte
	off int
}

func (r *wasmReader) more() bool { return r.off < len(r.b) }

func (r *wasmReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *wasmReader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, errTruncated
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *wasmReader) uleb(bits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits+7 {
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

func (r *wasmReader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// memoryType reads a memtype: flags (bit 0 max, bit 1 shared, bit 2
// 64-bit, bit 3 custom page size), min, [max], [page size log2].
func (r *wasmReader) memoryType() (memoryInfo, error) {
	flags, err := r.byte()
	if err != nil {
		return memoryInfo{}, err
	}
	bits := uint(32)
	if flags&4 != 0 {
		bits = 64
	}
	min, err := r.uleb(bits)
	if err != nil {
		return memoryInfo{}, err
	}
	if flags&1 != 0 {
		if _, err := r.uleb(bits); err != nil {
			return memoryInfo{}, err
		}
	}
	page := uint64(wasmPage)
	if flags&8 != 0 {
		log2, err := r.u32()
		if err != nil {
			return memoryInfo{}, err
		}
		if log2 > 16 {
			return memoryInfo{}, fmt.Errorf("malformed module: page size 2^%d", log2)
		}
		page = 1 << log2
	}
	bytes := min * page
	if page != 0 && bytes/page != min {
		bytes = ^uint64(0)
	}
	return memoryInfo{minBytes: bytes}, nil
}
