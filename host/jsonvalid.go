package host

// validJSON reports whether s is exactly one JSON value (RFC 8259), with
// optional surrounding whitespace: what encoding/json.Valid reports, without
// its allocations (a scanner from a pool that a busy garbage collector keeps
// emptying), for the check the host makes on every plugin answer. Like
// encoding/json it does not check that strings are valid UTF-8 (strings from
// plugins always are), and it refuses nesting deeper than 10,000.
func validJSON(s string) bool { return scanJSON(s, nil) }

// splitJSON is validJSON that, when s is an object, also returns its
// members (keys decoded, values as substrings of s) from the same pass:
// a plugin's answer is checked and taken apart in one scan instead of two.
// obj is nil for anything but an object with members.
func splitJSON(s string) (obj jsonObject, ok bool) {
	ok = scanJSON(s, &obj)
	return obj, ok
}

// scanJSON is validJSON; with members set, it appends the members of a
// top-level object to it.
func scanJSON(s string, members *jsonObject) bool {
	const maxDepth = 10000
	// The member being read at depth 1 of a top-level object: its key
	// token and where its value starts.
	var keyStart, keyEnd, valStart int
	// stack holds the open containers, '[' or '{'; small documents keep it
	// on the stack.
	var buf [32]byte
	stack := buf[:0]
	i := vjSpace(s, 0)
	for {
		// A value.
		if i >= len(s) {
			return false
		}
		switch c := s[i]; {
		case c == '{' || c == '[':
			if len(stack) >= maxDepth {
				return false
			}
			stack = append(stack, c)
			i = vjSpace(s, i+1)
			if i < len(s) && (c == '{' && s[i] == '}' || c == '[' && s[i] == ']') {
				stack = stack[:len(stack)-1]
				i++
				break
			}
			if c == '{' {
				if members != nil && len(stack) == 1 {
					keyStart = i
					if keyEnd, i = vjMember(s, i); i < 0 {
						return false
					}
					valStart = i
				} else if i = vjKey(s, i); i < 0 {
					return false
				}
			}
			continue
		case c == '"':
			if i = vjString(s, i); i < 0 {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			if i = vjNumber(s, i); i < 0 {
				return false
			}
		case c == 't':
			if !vjLiteral(s, i, "true") {
				return false
			}
			i += 4
		case c == 'f':
			if !vjLiteral(s, i, "false") {
				return false
			}
			i += 5
		case c == 'n':
			if !vjLiteral(s, i, "null") {
				return false
			}
			i += 4
		default:
			return false
		}
		// After a value: close containers, or go on to the next element.
		for {
			if members != nil && len(stack) == 1 && stack[0] == '{' {
				key, err := jsonString(s[keyStart:keyEnd])
				if err != nil {
					return false
				}
				*members = append(*members, jsonMember{key: key, val: s[valStart:i]})
			}
			i = vjSpace(s, i)
			if len(stack) == 0 {
				return i == len(s)
			}
			if i >= len(s) {
				return false
			}
			top := stack[len(stack)-1]
			switch s[i] {
			case ',':
				i = vjSpace(s, i+1)
				if top == '{' {
					if members != nil && len(stack) == 1 {
						keyStart = i
						if keyEnd, i = vjMember(s, i); i < 0 {
							return false
						}
						valStart = i
					} else if i = vjKey(s, i); i < 0 {
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

func vjSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func vjLiteral(s string, i int, lit string) bool {
	return len(s)-i >= len(lit) && s[i:i+len(lit)] == lit
}

// vjKey scans `"key" :` and the space after it; -1 if it is not there.
func vjKey(s string, i int) int {
	_, i = vjMember(s, i)
	return i
}

// vjMember is vjKey that also returns the end of the key token.
func vjMember(s string, i int) (keyEnd, next int) {
	if i >= len(s) || s[i] != '"' {
		return 0, -1
	}
	if i = vjString(s, i); i < 0 {
		return 0, -1
	}
	keyEnd = i
	i = vjSpace(s, i)
	if i >= len(s) || s[i] != ':' {
		return 0, -1
	}
	return keyEnd, vjSpace(s, i+1)
}

// vjString scans the string starting at s[i] == '"'; it returns the
// index after it, or -1.
func vjString(s string, i int) int {
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

// vjNumber scans the number starting at s[i]; it returns the index after
// it, or -1.
func vjNumber(s string, i int) int {
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
