package typenames

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// reader reads the primitives of the WebAssembly binary format. Every read
// checks the bounds: a malformed binary is an error, never a panic.
type reader struct {
	b   []byte
	off int
}

var errEOF = errors.New("unexpected end of data")

func (r *reader) fail(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", r.off, fmt.Sprintf(format, args...))
}

func (r *reader) done() bool { return r.off >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errEOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) peek() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errEOF
	}
	return r.b[r.off], nil
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift == 28 && c > 0x0f {
			return 0, r.fail("u32 out of range")
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// s33 reads a signed LEB128 of at most 33 bits, as type indices are
// encoded in value types.
func (r *reader) s33() (int64, error) {
	var v int64
	var shift uint
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift >= 35 {
			return 0, r.fail("s33 out of range")
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
}

// count reads a vector length, refusing one that the rest of the data
// cannot hold (every element takes at least one byte): a hostile length
// never makes the decoder allocate.
func (r *reader) count() (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if int64(n) > int64(len(r.b)-r.off) {
		return 0, r.fail("vector of %d elements in %d bytes", n, len(r.b)-r.off)
	}
	return int(n), nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, errEOF
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

func (r *reader) str() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	s, err := r.bytes(int(n))
	if err != nil {
		return "", err
	}
	if !utf8.Valid(s) {
		return "", r.fail("name is not UTF-8")
	}
	return string(s), nil
}

func (r *reader) skip(n int) error {
	_, err := r.bytes(n)
	return err
}
