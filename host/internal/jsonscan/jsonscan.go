// Package jsonscan validates JSON text and takes objects apart without
// decoding their values, in one allocation-free pass: what the host does to
// every answer of a plugin (one JSON value, checked, and for the legacy
// ABI its members read by key). Values stay substrings of the text.
//
// It refuses what encoding/json.Valid refuses (FuzzValid compares them)
// and, like it, does not check that strings are valid UTF-8 (strings from
// plugins always are); nesting deeper than MaxDepth is refused.
package jsonscan

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
)

// MaxDepth is the deepest nesting of arrays and objects Valid accepts.
const MaxDepth = 10000

// text is what the scanners read.
type text interface{ ~string | ~[]byte }

// Member is one member of a JSON object, in document order: its key
// decoded, its value the JSON text (a substring of the scanned text, not a
// copy).
type Member struct {
	Key   string
	Value string
}

// Object is the members of a JSON object, in document order (a key given
// twice appears twice).
type Object []Member

// Valid reports whether s is exactly one JSON value (RFC 8259), with
// optional surrounding whitespace.
func Valid(s string) bool { return scan(s, nil) }

// Split is Valid that, when s is an object, also returns its members from
// the same pass: an answer is checked and taken apart in one scan instead
// of two. obj is nil for anything but an object with members (Kind tells
// an empty object from other values).
func Split(s string) (obj Object, ok bool) {
	ok = scan(s, &obj)
	return obj, ok
}

// Get returns the value of key (the last one when the key repeats) and
// whether it is present and not null.
func (o Object) Get(key string) (string, bool) {
	v, ok := o.Lookup(key)
	if !ok || v == "null" {
		return "", false
	}
	return v, true
}

// Lookup returns the value of key (the last one when the key repeats),
// null included, and whether it is present.
func (o Object) Lookup(key string) (string, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return "", false
}

// Str returns the string value of key: ok is false when it is absent or
// null; err is set when the value is not a string.
func (o Object) Str(key string) (s string, ok bool, err error) {
	raw, ok := o.Get(key)
	if !ok {
		return "", false, nil
	}
	if Kind(raw) != "a string" {
		return "", false, fmt.Errorf("%q is %s, not a string", key, Kind(raw))
	}
	if s, err = Unquote(raw); err != nil {
		return "", false, fmt.Errorf("%q: %v", key, err)
	}
	return s, true, nil
}

// Bool returns the boolean value of key, def when it is absent or null.
func (o Object) Bool(key string, def bool) (bool, error) {
	raw, ok := o.Get(key)
	if !ok {
		return def, nil
	}
	switch raw {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is %s, not a boolean", key, Kind(raw))
}

// Kind names the kind of a JSON value for messages: "an object", "an
// array", "a string", "a boolean", "null", "a number", or "empty". It reads
// only the value's first byte: raw must be valid JSON.
func Kind[T text](raw T) string {
	i := space(raw, 0)
	if i == len(raw) {
		return "empty"
	}
	switch raw[i] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// Unquote decodes a JSON string token; a token without escapes is taken
// as it is, without a copy.
func Unquote(raw string) (string, error) {
	if len(raw) >= 2 && strings.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var s string
	err := json.Unmarshal([]byte(raw), &s)
	return s, err
}

// scan is Valid; with members set, it appends the members of a top-level
// object to it.
func scan(s string, members *Object) bool {
	// The member being read at depth 1 of a top-level object: its key
	// token and where its value starts.
	var keyStart, keyEnd, valStart int
	// stack holds the open containers, '[' or '{'; small documents keep it
	// on the stack.
	var buf [32]byte
	stack := buf[:0]
	i := space(s, 0)
	for {
		// A value.
		if i >= len(s) {
			return false
		}
		switch c := s[i]; {
		case c == '{' || c == '[':
			if len(stack) >= MaxDepth {
				return false
			}
			stack = append(stack, c)
			i = space(s, i+1)
			if i < len(s) && (c == '{' && s[i] == '}' || c == '[' && s[i] == ']') {
				stack = stack[:len(stack)-1]
				i++
				break
			}
			if c == '{' {
				if members != nil && len(stack) == 1 {
					keyStart = i
					if keyEnd, i = member(s, i); i < 0 {
						return false
					}
					valStart = i
				} else if i = key(s, i); i < 0 {
					return false
				}
			}
			continue
		case c == '"':
			if i = stringEnd(s, i); i < 0 {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			if i = numberEnd(s, i); i < 0 {
				return false
			}
		case c == 't':
			if !literal(s, i, "true") {
				return false
			}
			i += 4
		case c == 'f':
			if !literal(s, i, "false") {
				return false
			}
			i += 5
		case c == 'n':
			if !literal(s, i, "null") {
				return false
			}
			i += 4
		default:
			return false
		}
		// After a value: close containers, or go on to the next element.
		for {
			if members != nil && len(stack) == 1 && stack[0] == '{' {
				k, err := Unquote(s[keyStart:keyEnd])
				if err != nil {
					return false
				}
				*members = append(*members, Member{Key: k, Value: s[valStart:i]})
			}
			i = space(s, i)
			if len(stack) == 0 {
				return i == len(s)
			}
			if i >= len(s) {
				return false
			}
			top := stack[len(stack)-1]
			switch s[i] {
			case ',':
				i = space(s, i+1)
				if top == '{' {
					if members != nil && len(stack) == 1 {
						keyStart = i
						if keyEnd, i = member(s, i); i < 0 {
							return false
						}
						valStart = i
					} else if i = key(s, i); i < 0 {
						return false
					}
				}
			case ']', '}':
				if s[i] == ']' && top != '[' || s[i] == '}' && top != '{' {
					return false
				}
				stack = stack[:len(stack)-1]
				i++
				continue
			default:
				return false
			}
			break
		}
	}
}

// space returns the index of the first byte at or after i that is not
// JSON whitespace.
func space[T text](s T, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func literal(s string, i int, lit string) bool {
	return len(s)-i >= len(lit) && s[i:i+len(lit)] == lit
}

// key scans `"key" :` and the space after it; -1 if it is not there.
func key(s string, i int) int {
	_, i = member(s, i)
	return i
}

// member is key that also returns the end of the key token.
func member(s string, i int) (keyEnd, next int) {
	if i >= len(s) || s[i] != '"' {
		return 0, -1
	}
	if i = stringEnd(s, i); i < 0 {
		return 0, -1
	}
	keyEnd = i
	i = space(s, i)
	if i >= len(s) || s[i] != ':' {
		return 0, -1
	}
	return keyEnd, space(s, i+1)
}

// stringEnd scans the string starting at s[i] == '"'; it returns the
// index after it, or -1.
func stringEnd(s string, i int) int {
	for i++; ; i++ {
		if i = stringRun(s, i); i >= len(s) {
			return -1
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(s) {
				return -1
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-i < 5 {
					return -1
				}
				for _, h := range []byte(s[i+1 : i+5]) {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
}

// numberEnd scans the number starting at s[i]; it returns the index after
// it, or -1.
func numberEnd(s string, i int) int {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return -1
		}
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return -1
		}
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
	}
	return i
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// stringRun returns the index of the first byte at or after i that ends
// the plain run of a JSON string: '"', '\\' or a control character (below
// 0x20), or len(s). It tests eight bytes at a time: plugin answers are
// mostly long plain strings, and a byte loop made these checks the largest
// host-side cost of a call.
func stringRun[T text](s T, i int) int {
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
