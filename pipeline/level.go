package pipeline

// The levels the built-in stages know, least severe first. The rules are
// those of the example plugins' min-level filters: names in any case, the
// aliases warning (warn), err, fatal and critical (error); anything else is
// an unknown level.
var levelNames = [...]string{"trace", "debug", "info", "warn", "error"}

// levelLevels holds one string per level, so that entries can point at
// them instead of allocating a level per entry.
var levelStrings = func() (out [len(levelNames)]*string) {
	for i := range levelNames {
		s := levelNames[i]
		out[i] = &s
	}
	return out
}()

// levelRank returns the rank of a level name (trace 0 .. error 4), or -1.
// It does not allocate.
func levelRank(s string) int {
	switch len(s) {
	case 3:
		if foldEq(s, "err") {
			return 4
		}
	case 4:
		if foldEq(s, "info") {
			return 2
		}
		if foldEq(s, "warn") {
			return 3
		}
	case 5:
		switch {
		case foldEq(s, "trace"):
			return 0
		case foldEq(s, "debug"):
			return 1
		case foldEq(s, "error"):
			return 4
		case foldEq(s, "fatal"):
			return 4
		}
	case 7:
		if foldEq(s, "warning") {
			return 3
		}
	case 8:
		if foldEq(s, "critical") {
			return 4
		}
	}
	return -1
}

// foldEq reports whether s equals lower, a lower-case ASCII word, in any
// case.
func foldEq(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// normLevel returns the canonical string of a known level name, or nil.
func normLevel(s string) *string {
	if r := levelRank(s); r >= 0 {
		return levelStrings[r]
	}
	return nil
}
