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
	for ; i+8 <= len(s); i += 8 {
		v := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// For each test the lowest flagged byte is exact (borrows only
		// run upwards), so the lowest bit of their union is the answer.
		q := v ^ (swarOnes * '"')
		b := v ^ (swarOnes * '\\')
		m := (v - swarOnes*0x20) &^ v
		m |= (q - swarOnes) &^ q
		m |= (b - swarOnes) &^ b
		if m &= swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}
