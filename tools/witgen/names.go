package main

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"
)

// initialisms are the words written in capitals in Go names, after
// golint's list: "config-id" becomes ConfigID, "json" becomes JSON.
var initialisms = map[string]bool{
	"acl": true, "api": true, "ascii": true, "cpu": true, "css": true, "dns": true,
	"eof": true, "guid": true, "html": true, "http": true, "https": true, "id": true,
	"io": true, "ip": true, "json": true, "lhs": true, "qps": true, "ram": true,
	"rhs": true, "rpc": true, "sla": true, "smtp": true, "sql": true, "ssh": true,
	"tcp": true, "tls": true, "ttl": true, "udp": true, "ui": true, "uid": true,
	"uuid": true, "uri": true, "url": true, "utf8": true, "vm": true, "xml": true,
	"xmpp": true, "xsrf": true, "xss": true, "wasi": true, "wasm": true, "cli": true,
}

// words splits a WIT identifier (kebab-case; words may be all-caps
// acronyms) into its words. Anything but an ASCII letter or digit
// separates words, so that a name with other characters (the brackets of
// "[get]prop", an accessor) still makes a Go identifier.
func words(kebab string) []string {
	return strings.FieldsFunc(kebab, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	})
}

// exportedName converts a WIT identifier into an exported Go name:
// "config-schema" → ConfigSchema, "task-id" → TaskID.
func exportedName(kebab string) string {
	var b strings.Builder
	for _, w := range words(kebab) {
		writeWord(&b, w)
	}
	s := b.String()
	if s == "" {
		return "X"
	}
	if r := rune(s[0]); !unicode.IsLetter(r) {
		s = "X" + s
	}
	return s
}

func writeWord(b *strings.Builder, w string) {
	lw := strings.ToLower(w)
	switch {
	case initialisms[lw]:
		b.WriteString(strings.ToUpper(lw))
	case w == strings.ToUpper(w) && len(w) > 1 && hasLetter(w):
		// An all-caps word in WIT (e.g. "HTTP") is an acronym already.
		b.WriteString(w)
	default:
		b.WriteString(strings.ToUpper(lw[:1]))
		b.WriteString(lw[1:])
	}
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// localName converts a WIT identifier into an unexported Go name:
// "check-mode" → checkMode, "id" → id, "url-path" → urlPath.
func localName(kebab string) string {
	ws := words(kebab)
	if len(ws) == 0 {
		return "x"
	}
	var b strings.Builder
	first := strings.ToLower(ws[0])
	b.WriteString(first)
	for _, w := range ws[1:] {
		writeWord(&b, w)
	}
	s := b.String()
	if r := rune(s[0]); !unicode.IsLetter(r) {
		s = "x" + s
	}
	return s
}

// packageName converts a WIT identifier into a Go package name: lower case,
// dashes dropped ("task-plugin" → taskplugin). Keywords get a trailing
// underscore.
func packageName(kebab string) string {
	s := strings.ToLower(strings.Join(words(kebab), ""))
	if s == "" {
		s = "x"
	}
	if r := rune(s[0]); !unicode.IsLetter(r) {
		s = "x" + s
	}
	if token.IsKeyword(s) {
		s += "_"
	}
	return s
}

// predeclared are Go's predeclared identifiers, which local names must not
// shadow where the generated code uses them.
var predeclared = map[string]bool{
	"any": true, "append": true, "bool": true, "byte": true, "cap": true, "clear": true,
	"close": true, "comparable": true, "complex": true, "complex128": true, "complex64": true,
	"copy": true, "delete": true, "error": true, "false": true, "float32": true,
	"float64": true, "imag": true, "int": true, "int16": true, "int32": true, "int64": true,
	"int8": true, "iota": true, "len": true, "make": true, "max": true, "min": true,
	"new": true, "nil": true, "panic": true, "print": true, "println": true, "real": true,
	"recover": true, "rune": true, "string": true, "true": true, "uint": true,
	"uint16": true, "uint32": true, "uint64": true, "uint8": true, "uintptr": true,
}

// scope hands out unique identifiers: a name already taken gets
// underscores appended until it is free.
type scope struct {
	taken map[string]bool
}

func newScope(reserved ...string) *scope {
	s := &scope{taken: map[string]bool{}}
	for _, r := range reserved {
		s.taken[r] = true
	}
	return s
}

func (s *scope) claim(name string) string {
	for s.taken[name] {
		name += "_"
	}
	s.taken[name] = true
	return name
}

// has reports whether name is taken.
func (s *scope) has(name string) bool { return s.taken[name] }

// goString quotes s as a Go string literal.
func goString(s string) string { return strconv.Quote(s) }
