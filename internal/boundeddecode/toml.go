package boundeddecode

// tomlScanner finds how deeply a TOML document nests, without decoding it.
// It recognises what changes the depth (table headers, dotted keys, arrays,
// inline tables) and skips what could hide brackets (strings, comments).
// On malformed input it may stop early or count oddly, but never reads out
// of bounds: the decoder reports the syntax error afterwards.
type tomlScanner struct {
	file       string
	data       []byte
	i          int
	line, bol  int // current line (1-based) and the offset it begins at
	err        *Error
	tableDepth int // depth of the values of the current [table]
}

// CheckTOML fails with an *Error when data is over MaxSize, is not UTF-8
// or nests deeper than MaxDepth. It does not validate the TOML: decoding
// does.
func CheckTOML(file string, data []byte) error {
	if len(data) > MaxSize {
		return sizeError(file, len(data))
	}
	if err := checkUTF8(file, data); err != nil {
		return err
	}
	sc := &tomlScanner{file: file, data: data, line: 1}
	sc.document()
	if sc.err != nil {
		return sc.err
	}
	return nil
}

func (sc *tomlScanner) eof() bool { return sc.i >= len(sc.data) || sc.err != nil }

func (sc *tomlScanner) peek() byte { return sc.data[sc.i] }

// check records a depth error at the current position.
func (sc *tomlScanner) check(depth int) bool {
	if depth > MaxDepth && sc.err == nil {
		sc.err = &Error{File: sc.file, Line: sc.line, Column: sc.i - sc.bol + 1, Msg: depthMsg()}
	}
	return sc.err == nil
}

func (sc *tomlScanner) newline() {
	sc.i++
	sc.line++
	sc.bol = sc.i
}

// space skips spaces and tabs; with lines, also line breaks and comments.
func (sc *tomlScanner) space(lines bool) {
	for !sc.eof() {
		switch sc.peek() {
		case ' ', '\t', '\r':
			sc.i++
		case '\n':
			if !lines {
				return
			}
			sc.newline()
		case '#':
			if !lines {
				return
			}
			sc.comment()
		default:
			return
		}
	}
}

func (sc *tomlScanner) comment() {
	for !sc.eof() && sc.peek() != '\n' {
		sc.i++
	}
}

func (sc *tomlScanner) document() {
	for {
		sc.space(true)
		if sc.eof() {
			return
		}
		if sc.peek() == '[' {
			sc.header()
			continue
		}
		d := sc.tableDepth + sc.key('=')
		if !sc.check(d) {
			return
		}
		if sc.eof() || sc.peek() != '=' {
			return // a syntax error: the decoder says which
		}
		sc.i++
		sc.value(d)
		// The rest of the line: a comment, or garbage for the decoder.
		for !sc.eof() && sc.peek() != '\n' {
			if sc.peek() == '#' {
				sc.comment()
				break
			}
			sc.i++
		}
	}
}

// header scans [a.b] or [[a.b]] and sets the depth of its values: one per
// key segment, one more for an array of tables (its element).
func (sc *tomlScanner) header() {
	sc.i++
	array := !sc.eof() && sc.peek() == '['
	if array {
		sc.i++
	}
	segs := sc.key(']')
	if array {
		segs++
	}
	sc.tableDepth = segs
	if !sc.check(segs + 1) { // its keys are one deeper
		return
	}
	for !sc.eof() && sc.peek() != '\n' {
		if sc.peek() == '#' {
			sc.comment()
			break
		}
		sc.i++
	}
}

// key scans a key up to (not past) end ('=' or ']') and returns its number
// of dotted segments.
func (sc *tomlScanner) key(end byte) int {
	segs := 1
	for !sc.eof() {
		switch c := sc.peek(); c {
		case end:
			return segs
		case '.':
			segs++
			sc.i++
		case '"', '\'':
			sc.str()
		case '\n':
			return segs
		default:
			sc.i++
		}
	}
	return segs
}

// str skips a string of any of the four kinds, starting at its quote.
func (sc *tomlScanner) str() {
	q := sc.peek()
	multi := sc.i+2 < len(sc.data) && sc.data[sc.i+1] == q && sc.data[sc.i+2] == q
	if multi {
		sc.i += 3
	} else {
		sc.i++
	}
	for !sc.eof() {
		c := sc.peek()
		switch {
		case c == '\\' && q == '"':
			sc.i++
			if !sc.eof() && sc.peek() == '\n' {
				sc.newline()
				continue
			}
			if !sc.eof() {
				sc.i++
			}
		case c == '\n':
			if !multi {
				return // unterminated: the decoder says so
			}
			sc.newline()
		case c == q && !multi:
			sc.i++
			return
		case c == q && sc.i+2 < len(sc.data) && sc.data[sc.i+1] == q && sc.data[sc.i+2] == q:
			sc.i += 3
			// Up to two more quotes belong to the string ("""a"""").
			for n := 0; n < 2 && !sc.eof() && sc.peek() == q; n++ {
				sc.i++
			}
			return
		default:
			sc.i++
		}
	}
}

// value scans the value of a key whose value is depth levels deep.
func (sc *tomlScanner) value(depth int) {
	type frame struct {
		inline bool // an inline table, else an array
		base   int  // depth of the container itself
	}
	var stack []frame
	cur := depth // depth of what comes next
	// inlineKey scans a key in an inline table and sets cur to its value's.
	inlineKey := func() bool {
		sc.space(true)
		if sc.eof() || sc.peek() == '}' {
			return true
		}
		cur = stack[len(stack)-1].base + sc.key('=')
		if !sc.check(cur) {
			return false
		}
		if !sc.eof() && sc.peek() == '=' {
			sc.i++
		}
		return true
	}
	for {
		sc.space(len(stack) > 0)
		if sc.eof() {
			return
		}
		switch c := sc.peek(); c {
		case '[':
			stack = append(stack, frame{base: cur})
			cur++
			if !sc.check(cur) {
				return
			}
			sc.i++
		case '{':
			stack = append(stack, frame{inline: true, base: cur})
			if !sc.check(cur + 1) { // the table itself, as in JSON
				return
			}
			sc.i++
			if !inlineKey() {
				return
			}
		case ']', '}':
			if len(stack) == 0 {
				return
			}
			sc.i++
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return
			}
		case ',':
			sc.i++
			if len(stack) == 0 {
				return
			}
			if top := stack[len(stack)-1]; top.inline {
				if !inlineKey() {
					return
				}
			} else {
				cur = top.base + 1
			}
		case '"', '\'':
			sc.str()
			if len(stack) == 0 {
				return
			}
		case '\n', '#':
			return // only at the top: space skips them in containers
		default:
			// A scalar: numbers, booleans, dates.
			for !sc.eof() {
				c := sc.peek()
				if c == ',' || c == ']' || c == '}' || c == '\n' || c == '#' || c == ' ' || c == '\t' || c == '\r' {
					break
				}
				sc.i++
			}
			if len(stack) == 0 {
				return
			}
		}
	}
}
