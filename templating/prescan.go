package templating

import (
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/tokens"
)

// blockOpeners are the tags that take a body up to their end tag ({% set
// %} only without "=").
var blockOpeners = map[string]bool{
	"if": true, "for": true, "macro": true, "call": true, "filter": true, "with": true, "block": true,
	"autoescape": true, "trans": true, "raw": true, "set": true,
}

// expressionOperators are the tokens gonja's parser and evaluator descend
// one level for: 1+1+...+1 is a tree as deep as it is long.
var expressionOperators = map[tokens.Type]bool{
	tokens.Addition: true, tokens.Subtraction: true, tokens.Multiply: true, tokens.Division: true,
	tokens.FloorDivision: true, tokens.Modulo: true, tokens.Power: true, tokens.Tilde: true,
	tokens.Dot: true, tokens.Equals: true, tokens.Ne: true, tokens.LowerThan: true,
	tokens.LowerThanOrEqual: true, tokens.GreaterThan: true, tokens.GreaterThanOrEqual: true,
	tokens.And: true, tokens.Or: true, tokens.Not: true, tokens.Is: true, tokens.In: true,
}

// prescan checks, before gonja parses src, that its blocks and its
// expressions nest at most MaxDepth deep: gonja's parser descends one Go
// call level (several frames) per level of nesting, and 100,000 nested
// parentheses overflowed the stack, which kills the process. An
// expression counts its open brackets plus every operator in its tag
// (conservative: gonja builds a tree as deep as a chain of operators is
// long, and evaluates it recursively). It uses gonja's own lexer, so
// strings and comments are skipped as the parser skips them.
func (c *call) prescan(file, src string) error {
	max := c.lim.MaxDepth
	s := tokens.LexAll(src, newConfig())
	blocks, brackets, ops := 0, 0, 0
	inBlock, first, assign := false, false, false
	name := ""
	fail := func(line int, what string) error {
		return c.hit(&limitError{limit: LimitDepth, file: file, line: line, msg: fmt.Sprintf(
			"template limit max_depth (%d) reached: %s nested more than %d deep", max, what, max)})
	}
	for !s.End() {
		t := s.Current()
		s.Next()
		if t == nil {
			break
		}
		switch t.Type {
		case tokens.Error, tokens.EOF:
			return nil // the parser reports it
		case tokens.BlockBegin, tokens.VariableBegin:
			inBlock, first, assign, name = t.Type == tokens.BlockBegin, true, false, ""
			brackets, ops = 0, 0
		case tokens.BlockEnd:
			switch {
			case strings.HasPrefix(name, "end"):
				blocks--
			case blockOpeners[name] && !(name == "set" && assign):
				if blocks++; blocks > max {
					return fail(t.Line, "blocks")
				}
			}
			inBlock = false
		case tokens.Name:
			if inBlock && first {
				name = t.Val
			} else if t.Val == "if" || t.Val == "else" { // a if b else c
				ops++
			}
		case tokens.Assign:
			assign = true
		case tokens.LeftParenthesis, tokens.LeftBracket, tokens.LeftBrace:
			brackets++
		case tokens.RightParenthesis, tokens.RightBracket, tokens.RightBrace:
			brackets--
		default:
			if expressionOperators[t.Type] {
				ops++
			}
		}
		if t.Type != tokens.BlockBegin && t.Type != tokens.VariableBegin {
			first = false
		}
		if brackets+ops > max {
			return fail(t.Line, "an expression (brackets and operators)")
		}
	}
	return nil
}
