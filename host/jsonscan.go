package host

import "math/bits"

// jsonBytes is what the JSON scanners of this package read.
type jsonBytes interface{ ~string | ~[]byte }

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// stringRun returns the index of the first byte at or after i that ends
// the plain run of a JSON string: '"', '\\' or a control character (below
// 0x20), or len(s). It tests eight bytes at a time: plugin answers are
// mostly long plain strings, and a byte loop made these checks the largest
// host-side cost of a call.
func stringRun[T jsonBytes](s T, i int) int {
	// Sixteen bytes per round while there are: one branch for two words.
	for ; i+16 <= len(s); i += 16 {
		w := s[i : i+16] // one bounds check; the compiler makes each word one load
		m0 := stops(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56)
		m1 := stops(uint64(w[8]) | uint64(w[9])<<8 | uint64(w[10])<<16 | uint64(w[11])<<24 |
			uint64(w[12])<<32 | uint64(w[13])<<40 | uint64(w[14])<<48 | uint64(w[15])<<56)
		if m0|m1 != 0 {
			if m0 != 0 {
				return i + bits.TrailingZeros64(m0)/8
			}
			return i + 8 + bits.TrailingZeros64(m1)/8
		}
	}
	if i+8 <= len(s) {
		w := s[i : i+8]
		m := stops(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56)
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// stops flags (with its high bit) each byte of the little-endian word v
// that is '"', '\\' or below 0x20. Only the lowest flag is exact (a borrow
// may flag a byte above a true one), which is the one stringRun uses.
func stops(v uint64) uint64 {
	q := v ^ (swarOnes * '"')
	b := v ^ (swarOnes * '\\')
	m := (v - swarOnes*0x20) &^ v
	m |= (q - swarOnes) &^ q
	m |= (b - swarOnes) &^ b
	return m & swarHigh
}
