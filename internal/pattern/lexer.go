package pattern

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token of the STIX pattern grammar.
type tokKind uint8

const (
	tEOF         tokKind = iota
	tIdent               // identifier without hyphen
	tIdentHyphen         // identifier with at least one hyphen (object types only)
	tString
	tInt   // signed or unsigned integer
	tFloat // signed or unsigned float
	tBool
	tBinary
	tHex
	tTimestamp
	tKeyword
	tEQ
	tNEQ
	tLT
	tLE
	tGT
	tGE
	tLBrack
	tRBrack
	tLParen
	tRParen
	tColon
	tDot
	tComma
	tStar
	tOther // a character no rule of the grammar uses here (+, -, /, ^, …)
)

// keywords of the grammar, upper case only.
var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "FOLLOWEDBY": true, "LIKE": true, "MATCHES": true,
	"ISSUPERSET": true, "ISSUBSET": true, "EXISTS": true, "LAST": true, "IN": true,
	"START": true, "STOP": true, "SECONDS": true, "WITHIN": true, "REPEATS": true, "TIMES": true,
}

// token is one lexical token with its position (1-based line and column,
// counted in characters) and its source text.
type token struct {
	kind tokKind
	text string // source text (keywords: the keyword)
	line int
	col  int
	// decoded payload for literals
	str string // string literal content, binary/hex bytes as a string
}

// lexer turns pattern text into tokens, reporting the first error.
type lexer struct {
	src  string
	pos  int // byte offset
	line int
	col  int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) errf(line, col int, format string, args ...any) *Error {
	return &Error{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// advance moves over n bytes that contain no newline except as tracked.
func (l *lexer) advance(n int) {
	end := l.pos + n
	for l.pos < end {
		r, size := utf8.DecodeRuneInString(l.src[l.pos:])
		l.pos += size
		if r == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
}

func isSpaceRune(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() *Error {
	for l.pos < len(l.src) {
		r, size := utf8.DecodeRuneInString(l.src[l.pos:])
		if isSpaceRune(r) {
			l.advance(size)
			continue
		}
		if strings.HasPrefix(l.src[l.pos:], "/*") {
			line, col := l.line, l.col
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.errf(line, col, "comment is not closed with */")
			}
			l.advance(end + 4)
			continue
		}
		if strings.HasPrefix(l.src[l.pos:], "//") {
			end := strings.IndexAny(l.src[l.pos:], "\r\n")
			if end < 0 {
				end = len(l.src) - l.pos
			}
			l.advance(end)
			continue
		}
		return nil
	}
	return nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// next returns the next token.
func (l *lexer) next() (token, *Error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	line, col := l.line, l.col
	if l.pos >= len(l.src) {
		return token{kind: tEOF, line: line, col: col}, nil
	}
	s := l.src[l.pos:]
	c := s[0]
	tok := token{line: line, col: col}
	emit := func(k tokKind, n int) (token, *Error) {
		tok.kind = k
		tok.text = s[:n]
		l.advance(n)
		return tok, nil
	}
	switch {
	case (c == 't' || c == 'h' || c == 'b') && len(s) > 1 && s[1] == '\'':
		return l.prefixedLiteral(c, line, col)
	case isIdentStart(c):
		n := 1
		for n < len(s) && isIdentChar(s[n]) {
			n++
		}
		m := n
		for m < len(s) && (isIdentChar(s[m]) || s[m] == '-') {
			m++
		}
		if m > n {
			return emit(tIdentHyphen, m)
		}
		word := s[:n]
		if keywords[word] {
			return emit(tKeyword, n)
		}
		if word == "true" || word == "false" {
			return emit(tBool, n)
		}
		return emit(tIdent, n)
	case c == '\'':
		return l.stringLiteral(line, col)
	case isDigit(c) || c == '.' && len(s) > 1 && isDigit(s[1]) ||
		(c == '+' || c == '-') && len(s) > 1 && (isDigit(s[1]) || s[1] == '.' && len(s) > 2 && isDigit(s[2])):
		return l.number(line, col)
	}
	switch c {
	case '=':
		if strings.HasPrefix(s, "==") {
			return emit(tEQ, 2)
		}
		return emit(tEQ, 1)
	case '!':
		if strings.HasPrefix(s, "!=") {
			return emit(tNEQ, 2)
		}
	case '<':
		if strings.HasPrefix(s, "<>") {
			return emit(tNEQ, 2)
		}
		if strings.HasPrefix(s, "<=") {
			return emit(tLE, 2)
		}
		return emit(tLT, 1)
	case '>':
		if strings.HasPrefix(s, ">=") {
			return emit(tGE, 2)
		}
		return emit(tGT, 1)
	case '[':
		return emit(tLBrack, 1)
	case ']':
		return emit(tRBrack, 1)
	case '(':
		return emit(tLParen, 1)
	case ')':
		return emit(tRParen, 1)
	case ':':
		return emit(tColon, 1)
	case '.':
		return emit(tDot, 1)
	case ',':
		return emit(tComma, 1)
	case '*':
		return emit(tStar, 1)
	}
	_, size := utf8.DecodeRuneInString(s)
	return emit(tOther, size)
}

// number lexes IntPosLiteral, IntNegLiteral, FloatPosLiteral, FloatNegLiteral.
func (l *lexer) number(line, col int) (token, *Error) {
	s := l.src[l.pos:]
	n := 0
	if s[0] == '+' || s[0] == '-' {
		n++
	}
	digits := n
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	intDigits := s[digits:n]
	if n+1 < len(s) && s[n] == '.' && isDigit(s[n+1]) {
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		tok := token{kind: tFloat, text: s[:n], line: line, col: col}
		l.advance(n)
		return tok, nil
	}
	// Integers have no leading zeros ('0' | [1-9][0-9]*): "012" is the two
	// tokens 0 and 12 to the grammar, which no rule accepts.
	if len(intDigits) > 1 && intDigits[0] == '0' {
		return token{}, l.errf(line, col, "integer %q has a leading zero", s[:n])
	}
	tok := token{kind: tInt, text: s[:n], line: line, col: col}
	l.advance(n)
	return tok, nil
}

// stringLiteral lexes a quoted string: only \' and \\ are escapes.
func (l *lexer) stringLiteral(line, col int) (token, *Error) {
	s := l.src[l.pos:]
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		switch c {
		case '\'':
			tok := token{kind: tString, text: s[:i+1], str: b.String(), line: line, col: col}
			l.advance(i + 1)
			return tok, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			// position of the bad escape
			el, ec := l.posAfter(i)
			if i+1 >= len(s) {
				return token{}, l.errf(el, ec, "string literal ends inside an escape")
			}
			r, _ := utf8.DecodeRuneInString(s[i+1:])
			return token{}, l.errf(el, ec, "invalid escape \\%c in string literal: only \\' and \\\\ are allowed", r)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return token{}, l.errf(line, col, "string literal is not closed with '")
}

// posAfter returns the line and column of byte offset off from the current position.
func (l *lexer) posAfter(off int) (int, int) {
	line, col := l.line, l.col
	for _, r := range l.src[l.pos : l.pos+off] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// prefixedLiteral lexes t'…', h'…' and b'…'.
func (l *lexer) prefixedLiteral(prefix byte, line, col int) (token, *Error) {
	s := l.src[l.pos:]
	end := strings.IndexByte(s[2:], '\'')
	if end < 0 {
		return token{}, l.errf(line, col, "%s literal is not closed with '", prefixName(prefix))
	}
	body := s[2 : 2+end]
	n := end + 3
	tok := token{text: s[:n], line: line, col: col}
	switch prefix {
	case 't':
		if err := checkTimestampText(body); err != "" {
			return token{}, l.errf(line, col, "invalid timestamp literal t'%s': %s", clip(body), err)
		}
		tok.kind = tTimestamp
		tok.str = body
	case 'h':
		if len(body)%2 != 0 {
			return token{}, l.errf(line, col, "invalid hex literal h'%s': odd number of digits", clip(body))
		}
		out := make([]byte, len(body)/2)
		for i := 0; i < len(body); i += 2 {
			hi, ok1 := hexVal(body[i])
			lo, ok2 := hexVal(body[i+1])
			if !ok1 || !ok2 {
				return token{}, l.errf(line, col, "invalid hex literal h'%s': %q is not a hex digit pair", clip(body), body[i:i+2])
			}
			out[i/2] = hi<<4 | lo
		}
		tok.kind = tHex
		tok.str = string(out)
	case 'b':
		if msg := checkBase64Text(body); msg != "" {
			return token{}, l.errf(line, col, "invalid binary literal b'%s': %s", clip(body), msg)
		}
		out, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return token{}, l.errf(line, col, "invalid binary literal b'%s': %v", clip(body), err)
		}
		tok.kind = tBinary
		tok.str = string(out)
	}
	l.advance(n)
	return tok, nil
}

func prefixName(p byte) string {
	switch p {
	case 't':
		return "timestamp"
	case 'h':
		return "hex"
	}
	return "binary"
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// checkBase64Text applies the grammar's BinaryLiteral rule: groups of four
// base64 characters, the last one possibly padded, at least one group.
func checkBase64Text(s string) string {
	if s == "" {
		return "empty (at least one group of 4 base64 characters is required)"
	}
	if len(s)%4 != 0 {
		return "length is not a multiple of 4"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
		if c == '=' {
			// padding only in the last group, at most two, at the end
			if i < len(s)-2 || i == len(s)-2 && s[len(s)-1] != '=' {
				return "padding '=' in the middle"
			}
			continue
		}
		if !ok {
			return fmt.Sprintf("%q is not a base64 character", c)
		}
	}
	return ""
}

// checkTimestampText applies the grammar's TimestampLiteral rule:
// YYYY-MM-DDTHH:MM:SS[.fraction]Z with upper-case T and Z.
func checkTimestampText(s string) string {
	const want = "YYYY-MM-DDTHH:MM:SS[.s+]Z"
	if len(s) < 20 {
		return "want " + want
	}
	d := func(i int) bool { return isDigit(s[i]) }
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !d(i) {
			return "want " + want
		}
	}
	if s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return "want " + want
	}
	if s[10] != 'T' {
		return "the date and time must be separated by upper-case T"
	}
	rest := s[19:]
	if rest[len(rest)-1] != 'Z' {
		return "must end in upper-case Z (UTC)"
	}
	rest = rest[:len(rest)-1]
	if rest != "" {
		if rest[0] != '.' || len(rest) < 2 {
			return "want " + want
		}
		for i := 1; i < len(rest); i++ {
			if !isDigit(rest[i]) {
				return "want " + want
			}
		}
	}
	num := func(a, b int) int { return int(s[a]-'0')*10 + int(s[b]-'0') }
	if m := num(5, 6); m < 1 || m > 12 {
		return fmt.Sprintf("month %02d is out of range", m)
	}
	if dd := num(8, 9); dd < 1 || dd > 31 {
		return fmt.Sprintf("day %02d is out of range", dd)
	}
	if h := num(11, 12); h > 23 {
		return fmt.Sprintf("hour %02d is out of range", h)
	}
	if m := num(14, 15); m > 59 {
		return fmt.Sprintf("minute %02d is out of range", m)
	}
	if sec := num(17, 18); sec > 60 {
		return fmt.Sprintf("second %02d is out of range", sec)
	}
	return ""
}
