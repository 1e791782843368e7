package pattern

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxPatternBytes bounds the text Parse accepts.
const MaxPatternBytes = 1 << 20

// maxDepth bounds nesting of parentheses and brackets, so that hostile
// input cannot exhaust the stack.
const maxDepth = 200

// ParseOptions relax the parser for inputs written for the reference
// matcher rather than the validator.
type ParseOptions struct {
	// AllowDuplicateQualifiers accepts [x] WITHIN 5 SECONDS WITHIN 6 SECONDS
	// (the reference matcher evaluates it; the validator rejects it).
	AllowDuplicateQualifiers bool
	// AllowStringStartStop accepts START '…' STOP '…' with plain strings
	// holding timestamps, the STIX 2.0 form.
	AllowStringStartStop bool
}

// Lenient is what the matcher (Match, the pattern match command) accepts.
var Lenient = ParseOptions{AllowDuplicateQualifiers: true, AllowStringStartStop: true}

// Parse parses and validates a STIX 2.1 pattern. It accepts exactly what
// the grammar and the reference validator accept (plus the positive-count
// rule for WITHIN and REPEATS). Errors are *Error.
func Parse(src string) (*Pattern, error) {
	return ParseWith(src, ParseOptions{})
}

// ParseWith parses with options.
func ParseWith(src string, opts ParseOptions) (*Pattern, error) {
	if len(src) > MaxPatternBytes {
		return nil, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("pattern is longer than %d bytes", MaxPatternBytes)}
	}
	p := &parser{lx: newLexer(src), opts: opts}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tLBrack && p.tok.kind != tLParen {
		if p.tok.kind == tEOF {
			return nil, p.errHere("pattern is empty: an observation expression in [ ] is required")
		}
		return nil, p.errHere("pattern must start with [ or ( (an observation expression in square brackets), found %s", p.desc())
	}
	root, err := p.obsExprs()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		if p.tok.kind == tIdent && strings.ToUpper(p.tok.text) != p.tok.text && keywords[strings.ToUpper(p.tok.text)] {
			return nil, p.errHere("unexpected %s after the pattern (keywords are upper case: %s)", p.desc(), strings.ToUpper(p.tok.text))
		}
		if p.tok.kind == tRBrack {
			return nil, p.errHere("unexpected ']' after the pattern (unbalanced brackets)")
		}
		return nil, p.errHere("unexpected %s after the pattern", p.desc())
	}
	pat := &Pattern{Root: root, src: src}
	if err := validate(pat, opts); err != nil {
		return nil, err
	}
	return pat, nil
}

// MustParse is Parse for patterns known to be valid (tests, constants).
func MustParse(src string) *Pattern {
	p, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return p
}

type parser struct {
	lx    *lexer
	tok   token
	depth int
	opts  ParseOptions
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) pos() Pos { return Pos{p.tok.line, p.tok.col} }

func (p *parser) errHere(format string, args ...any) *Error {
	return &Error{Line: p.tok.line, Column: p.tok.col, Msg: fmt.Sprintf(format, args...)}
}

// desc describes the current token for messages.
func (p *parser) desc() string {
	switch p.tok.kind {
	case tEOF:
		return "end of pattern"
	case tString:
		return "string " + clip(p.tok.text)
	}
	return "'" + clip(p.tok.text) + "'"
}

func (p *parser) isKeyword(k string) bool { return p.tok.kind == tKeyword && p.tok.text == k }

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errHere("nesting deeper than %d levels", maxDepth)
	}
	return nil
}

// obsExprs := obsOr (FOLLOWEDBY obsOr)*
func (p *parser) obsExprs() (ObsExpr, error) {
	left, err := p.obsOr()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("FOLLOWEDBY") {
		at := p.pos()
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.obsOr()
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: ObsFollowedBy, Left: left, Right: right, Pos: at}
	}
	return left, nil
}

func (p *parser) obsOr() (ObsExpr, error) {
	left, err := p.obsAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		at := p.pos()
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.obsAnd()
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: ObsOr, Left: left, Right: right, Pos: at}
	}
	return left, nil
}

func (p *parser) obsAnd() (ObsExpr, error) {
	left, err := p.obsQualified()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		at := p.pos()
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.obsQualified()
		if err != nil {
			return nil, err
		}
		left = &ObsBinary{Op: ObsAnd, Left: left, Right: right, Pos: at}
	}
	return left, nil
}

func (p *parser) obsQualified() (ObsExpr, error) {
	e, err := p.obsPrimary()
	if err != nil {
		return nil, err
	}
	for {
		var q Qualifier
		var err error
		switch {
		case p.isKeyword("WITHIN"):
			q, err = p.within()
		case p.isKeyword("REPEATS"):
			q, err = p.repeats()
		case p.isKeyword("START"):
			q, err = p.startStop()
		case p.isKeyword("STOP"):
			return nil, p.errHere("STOP without START")
		default:
			return e, nil
		}
		if err != nil {
			return nil, err
		}
		e = &ObsQualified{Expr: e, Qual: q}
	}
}

func (p *parser) obsPrimary() (ObsExpr, error) {
	switch p.tok.kind {
	case tLBrack:
		at := p.pos()
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tRBrack {
			return nil, p.errHere("empty observation expression: a comparison is required inside [ ]")
		}
		c, err := p.compOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRBrack {
			return nil, p.errHere("expected ']' to close the observation expression opened at line %d, column %d, found %s", at.Line, at.Column, p.desc())
		}
		p.depth--
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &ObsSimple{Comp: c, Pos: at}, nil
	case tLParen:
		at := p.pos()
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		inner, err := p.obsExprs()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.errHere("expected ')' to close the group opened at line %d, column %d, found %s", at.Line, at.Column, p.desc())
		}
		p.depth--
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &ObsGroup{Inner: inner, Pos: at}, nil
	case tEOF:
		return nil, p.errHere("expected an observation expression ([ … ] or ( … )), found end of pattern")
	}
	if p.tok.kind == tIdent || p.tok.kind == tIdentHyphen {
		return nil, p.errHere("expected '[' before %s: comparisons must be enclosed in square brackets", p.desc())
	}
	return nil, p.errHere("expected an observation expression ([ … ] or ( … )), found %s", p.desc())
}

func (p *parser) within() (Qualifier, error) {
	q := Qualifier{Kind: QualWithin, Pos: p.pos()}
	if err := p.advance(); err != nil {
		return q, err
	}
	switch p.tok.kind {
	case tInt, tFloat:
		lit, err := p.numberLiteral()
		if err != nil {
			return q, err
		}
		if lit.Text[0] == '-' {
			return q, &Error{Line: lit.Pos.Line, Column: lit.Pos.Column, Msg: fmt.Sprintf("WITHIN needs a positive number of seconds, found %s", lit.Text)}
		}
		q.Seconds = lit
	default:
		return q, p.errHere("expected a number of seconds after WITHIN, found %s", p.desc())
	}
	if !p.isKeyword("SECONDS") {
		return q, p.errHere("expected SECONDS after WITHIN %s (SECONDS is the only unit), found %s", q.Seconds.Text, p.desc())
	}
	return q, p.advance()
}

func (p *parser) repeats() (Qualifier, error) {
	q := Qualifier{Kind: QualRepeats, Pos: p.pos()}
	if err := p.advance(); err != nil {
		return q, err
	}
	switch p.tok.kind {
	case tInt:
		lit, err := p.numberLiteral()
		if err != nil {
			return q, err
		}
		if lit.Text[0] == '-' {
			return q, &Error{Line: lit.Pos.Line, Column: lit.Pos.Column, Msg: fmt.Sprintf("REPEATS needs a positive count, found %s", lit.Text)}
		}
		q.Times = lit
	case tFloat:
		return q, p.errHere("REPEATS needs a whole number of times, found %s", p.desc())
	default:
		return q, p.errHere("expected a count after REPEATS, found %s", p.desc())
	}
	if !p.isKeyword("TIMES") {
		return q, p.errHere("expected TIMES after REPEATS %s, found %s", q.Times.Text, p.desc())
	}
	return q, p.advance()
}

func (p *parser) startStop() (Qualifier, error) {
	q := Qualifier{Kind: QualStartStop, Pos: p.pos()}
	if err := p.advance(); err != nil {
		return q, err
	}
	var err error
	if q.Start, err = p.qualTimestamp("START"); err != nil {
		return q, err
	}
	if !p.isKeyword("STOP") {
		return q, p.errHere("expected STOP after START %s, found %s", q.Start.Text, p.desc())
	}
	if err := p.advance(); err != nil {
		return q, err
	}
	if q.Stop, err = p.qualTimestamp("STOP"); err != nil {
		return q, err
	}
	return q, nil
}

func (p *parser) qualTimestamp(kw string) (Literal, error) {
	switch {
	case p.tok.kind == tTimestamp:
		lit := p.timestampLiteral()
		return lit, p.advance()
	case p.tok.kind == tString && p.opts.AllowStringStartStop:
		body := p.tok.str
		if msg := checkTimestampText(body); msg != "" {
			return Literal{}, p.errHere("%s needs a timestamp: %s", kw, msg)
		}
		lit := Literal{Kind: LitTimestamp, Text: "t'" + body + "'", Str: body, Pos: p.pos()}
		lit.Time, lit.TimeErr = timestampValue(body)
		return lit, p.advance()
	}
	return Literal{}, p.errHere("expected a timestamp literal t'…' after %s, found %s", kw, p.desc())
}

func (p *parser) timestampLiteral() Literal {
	lit := Literal{Kind: LitTimestamp, Text: p.tok.text, Str: p.tok.str, Pos: p.pos()}
	lit.Time, lit.TimeErr = timestampValue(p.tok.str)
	return lit
}

// timestampValue converts grammar-valid timestamp text to an instant,
// truncated to microseconds as the reference matcher does. Dates that do
// not exist (31 April) are reported, not silently moved.
func timestampValue(s string) (time.Time, string) {
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, mo, d := num(0, 4), num(5, 7), num(8, 10)
	h, mi, sec := num(11, 13), num(14, 16), num(17, 19)
	ns := 0
	if len(s) > 20 && s[19] == '.' {
		frac := s[20 : len(s)-1]
		for i := 0; i < 9; i++ {
			ns *= 10
			if i < len(frac) && i < 6 {
				ns += int(frac[i] - '0')
			}
		}
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
	if t.Day() != d && sec != 60 || sec == 60 && t.Add(-time.Second).Day() != d {
		return time.Time{}, fmt.Sprintf("%04d-%02d-%02d is not a date in the calendar", y, mo, d)
	}
	return t, ""
}

func (p *parser) numberLiteral() (Literal, error) {
	lit := Literal{Text: p.tok.text, Pos: p.pos()}
	text := strings.TrimPrefix(p.tok.text, "+")
	if p.tok.kind == tInt {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return lit, p.errHere("integer %s is out of range", p.tok.text)
		}
		lit.Kind, lit.Int = LitInt, n
	} else {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return lit, p.errHere("number %s is out of range", p.tok.text)
		}
		lit.Kind, lit.Float = LitFloat, f
	}
	if err := p.advance(); err != nil {
		return lit, err
	}
	return lit, nil
}

// compOr := compAnd (OR compAnd)*
func (p *parser) compOr() (CompExpr, error) {
	left, err := p.compAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		at := p.pos()
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.compAnd()
		if err != nil {
			return nil, err
		}
		left = &CompBinary{Op: CompOr, Left: left, Right: right, Pos: at}
	}
	return left, nil
}

func (p *parser) compAnd() (CompExpr, error) {
	left, err := p.propTest()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		at := p.pos()
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.propTest()
		if err != nil {
			return nil, err
		}
		left = &CompBinary{Op: CompAnd, Left: left, Right: right, Pos: at}
	}
	return left, nil
}

func (p *parser) propTest() (CompExpr, error) {
	start := p.pos()
	switch {
	case p.tok.kind == tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.compOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.errHere("expected ')' to close the comparison group opened at line %d, column %d, found %s", start.Line, start.Column, p.desc())
		}
		p.depth--
		return c, p.advance()
	case p.isKeyword("NOT") || p.isKeyword("EXISTS"):
		not := p.isKeyword("NOT")
		if not {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !p.isKeyword("EXISTS") {
				return nil, p.errHere("expected EXISTS after NOT here (NOT goes after the object path for other operators), found %s", p.desc())
			}
		}
		opAt := p.pos()
		if err := p.advance(); err != nil {
			return nil, err
		}
		path, err := p.objectPath()
		if err != nil {
			return nil, err
		}
		return &Comparison{Path: path, Not: not, Op: OpExists, Pos: start, OpAt: opAt}, nil
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c := &Comparison{Path: path, Pos: start}
	if p.isKeyword("NOT") {
		c.Not = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	c.OpAt = p.pos()
	switch {
	case p.tok.kind == tEQ:
		c.Op = OpEQ
	case p.tok.kind == tNEQ:
		c.Op = OpNEQ
	case p.tok.kind == tGT:
		c.Op = OpGT
	case p.tok.kind == tLT:
		c.Op = OpLT
	case p.tok.kind == tGE:
		c.Op = OpGE
	case p.tok.kind == tLE:
		c.Op = OpLE
	case p.isKeyword("IN"):
		c.Op = OpIn
	case p.isKeyword("LIKE"):
		c.Op = OpLike
	case p.isKeyword("MATCHES"):
		c.Op = OpMatches
	case p.isKeyword("ISSUBSET"):
		c.Op = OpIsSubset
	case p.isKeyword("ISSUPERSET"):
		c.Op = OpIsSuperset
	default:
		if p.tok.kind == tIdent && keywords[strings.ToUpper(p.tok.text)] {
			return nil, p.errHere("expected a comparison operator after %s, found %s (operators are upper case)", path, p.desc())
		}
		return nil, p.errHere("expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET) after %s, found %s", path, p.desc())
	}
	opText := p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch c.Op {
	case OpIn:
		set, err := p.setLiteral()
		if err != nil {
			return nil, err
		}
		c.Set = set
	case OpLike, OpMatches, OpIsSubset, OpIsSuperset:
		if p.tok.kind != tString {
			return nil, p.errHere("%s needs a string literal, found %s", opText, p.desc())
		}
		c.Lit = Literal{Kind: LitString, Text: p.tok.text, Str: p.tok.str, Pos: p.pos()}
		if err := p.advance(); err != nil {
			return nil, err
		}
	default:
		lit, err := p.literal(c.Op == OpEQ || c.Op == OpNEQ, opText)
		if err != nil {
			return nil, err
		}
		c.Lit = lit
	}
	return c, nil
}

// literal reads a primitive literal (booleans only for = and !=).
func (p *parser) literal(allowBool bool, after string) (Literal, error) {
	at := p.pos()
	switch p.tok.kind {
	case tString:
		lit := Literal{Kind: LitString, Text: p.tok.text, Str: p.tok.str, Pos: at}
		return lit, p.advance()
	case tInt, tFloat:
		return p.numberLiteral()
	case tBool:
		if !allowBool {
			return Literal{}, p.errHere("%s cannot compare with a boolean (only = and != can)", after)
		}
		lit := Literal{Kind: LitBool, Text: p.tok.text, Bool: p.tok.text == "true", Pos: at}
		return lit, p.advance()
	case tBinary:
		lit := Literal{Kind: LitBinary, Text: p.tok.text, Str: p.tok.str, Pos: at}
		return lit, p.advance()
	case tHex:
		lit := Literal{Kind: LitHex, Text: p.tok.text, Str: p.tok.str, Pos: at}
		return lit, p.advance()
	case tTimestamp:
		lit := p.timestampLiteral()
		return lit, p.advance()
	case tIdent:
		if p.tok.text == "null" {
			return Literal{}, p.errHere("null is not a STIX pattern literal")
		}
		return Literal{}, p.errHere("expected a literal after %s, found %s (strings are quoted with ')", after, p.desc())
	}
	return Literal{}, p.errHere("expected a literal after %s, found %s", after, p.desc())
}

// setLiteral := ( ) | ( literal (, literal)* )
func (p *parser) setLiteral() ([]Literal, error) {
	if p.tok.kind != tLParen {
		return nil, p.errHere("expected '(' to start the IN set, found %s", p.desc())
	}
	open := p.pos()
	if err := p.advance(); err != nil {
		return nil, err
	}
	set := []Literal{}
	if p.tok.kind == tRParen {
		return set, p.advance()
	}
	for {
		lit, err := p.literal(true, "IN (")
		if err != nil {
			return nil, err
		}
		set = append(set, lit)
		if p.tok.kind == tComma {
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		if p.tok.kind == tRParen {
			return set, p.advance()
		}
		return nil, p.errHere("expected ',' or ')' in the IN set opened at line %d, column %d, found %s", open.Line, open.Column, p.desc())
	}
}

// objectPath := type ':' first (step)*
func (p *parser) objectPath() (ObjectPath, error) {
	path := ObjectPath{Pos: p.pos()}
	switch p.tok.kind {
	case tIdent, tIdentHyphen:
		path.Type = p.tok.text
	case tKeyword, tBool:
		return path, p.errHere("%s is a reserved word and cannot be an object type", p.desc())
	case tRBrack:
		return path, p.errHere("expected a comparison (type:property op value), found ']'")
	default:
		return path, p.errHere("expected an object path (type:property), found %s", p.desc())
	}
	if err := p.advance(); err != nil {
		return path, err
	}
	if p.tok.kind != tColon {
		if p.tok.kind == tDot {
			return path, p.errHere("expected ':' between the object type %q and its property, found '.'", path.Type)
		}
		return path, p.errHere("expected ':' after the object type %q, found %s", path.Type, p.desc())
	}
	if err := p.advance(); err != nil {
		return path, err
	}
	switch p.tok.kind {
	case tIdent:
		path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: p.tok.text})
	case tString:
		path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: p.tok.str})
	case tIdentHyphen:
		return path, p.errHere("property name %s contains '-': quote it as '%s'", p.desc(), p.tok.text)
	default:
		return path, p.errHere("expected a property name after %q:, found %s", path.Type, p.desc())
	}
	if err := p.advance(); err != nil {
		return path, err
	}
	for {
		switch p.tok.kind {
		case tDot:
			if err := p.advance(); err != nil {
				return path, err
			}
			switch p.tok.kind {
			case tIdent:
				path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: p.tok.text})
			case tString:
				path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: p.tok.str})
			case tIdentHyphen:
				return path, p.errHere("property name %s contains '-': quote it as '%s'", p.desc(), p.tok.text)
			default:
				return path, p.errHere("expected a property name after '.', found %s", p.desc())
			}
			if err := p.advance(); err != nil {
				return path, err
			}
		case tLBrack:
			if err := p.advance(); err != nil {
				return path, err
			}
			switch p.tok.kind {
			case tStar:
				path.Steps = append(path.Steps, PathStep{Kind: StepStar})
			case tInt:
				n, err := strconv.ParseInt(strings.TrimPrefix(p.tok.text, "+"), 10, 32)
				if err != nil {
					return path, p.errHere("list index %s is out of range", p.tok.text)
				}
				path.Steps = append(path.Steps, PathStep{Kind: StepIndex, Index: int(n)})
			default:
				return path, p.errHere("expected a list index (an integer or *) after '[', found %s", p.desc())
			}
			if err := p.advance(); err != nil {
				return path, err
			}
			if p.tok.kind != tRBrack {
				return path, p.errHere("expected ']' after the list index, found %s", p.desc())
			}
			if err := p.advance(); err != nil {
				return path, err
			}
		default:
			return path, nil
		}
	}
}
