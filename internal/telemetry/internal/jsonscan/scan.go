// Package jsonscan walks one JSON document in place, without building maps
// or allocating: the telemetry readers use it to pull the few keys they need
// out of each line of a JSON-lines log.
//
// Values are views into the input. A string value is returned raw (without
// its quotes, escapes still in it); Unescape or Arena.String decode it.
// Everything that is walked is validated, and malformed input yields an
// error instead of a panic; the one leniency is that raw control
// characters inside strings are accepted. Nesting is bounded by MaxDepth.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// MaxDepth bounds the nesting of objects and arrays.
const MaxDepth = 256

// Kind is the JSON type of a value.
type Kind uint8

// Value kinds.
const (
	Invalid Kind = iota
	String
	Number
	True
	False
	Null
	Object
	Array
)

// Value is one JSON value seen in place. For a String, Raw is the text
// between the quotes with escapes still in it and Escaped says whether there
// are any; for Object and Array, Raw is the whole text including brackets
// (in a document walked through a Doc: the text from the opening bracket
// on, the container not read yet); otherwise Raw is the literal.
type Value struct {
	Kind    Kind
	Escaped bool
	Raw     []byte
}

// SyntaxError is malformed JSON at a byte offset of the document.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("JSON syntax error at byte %d: %s", e.Offset, e.Msg)
}

// ErrNotObject is returned by NewObject for a document that is not an object.
var ErrNotObject = errors.New("JSON value is not an object")

// Obj iterates over the members of one object.
type Obj struct {
	data  []byte
	pos   int
	depth int
	first bool
	done  bool
	err   error
	doc   *Doc
	pend  int // 1 + where the container last returned starts, until passed
}

// NewObject starts iterating the object that data holds (surrounding
// whitespace allowed). Trailing non-space bytes are reported by Err once the
// members are exhausted.
func NewObject(data []byte) (Obj, error) {
	p := skipSpace(data, 0)
	if p >= len(data) || data[p] != '{' {
		return Obj{done: true}, ErrNotObject
	}
	return Obj{data: data, pos: p + 1, first: true}, nil
}

// Object iterates over the members of an object value.
func (v Value) Object() Obj {
	if v.Kind != Object {
		return Obj{done: true}
	}
	return Obj{data: v.Raw, pos: 1, first: true, depth: 1}
}

// Array iterates over the elements of an array value.
func (v Value) Array() Arr {
	if v.Kind != Array {
		return Arr{done: true}
	}
	return Arr{data: v.Raw, pos: 1, first: true, depth: 1}
}

// Err returns the first syntax error met, if any.
func (o *Obj) Err() error { return o.err }

func (o *Obj) fail(msg string) bool {
	o.err = &SyntaxError{Offset: o.pos, Msg: msg}
	o.done = true
	return false
}

// Next returns the next member. key is the raw key text (escapes kept).
func (o *Obj) Next() (key []byte, keyEscaped bool, v Value, ok bool) {
	if o.done {
		return nil, false, Value{}, false
	}
	if o.pend != 0 {
		if o.pos, o.err = o.doc.pass(o.data, o.pend-1, o.depth+1); o.err != nil {
			o.done = true
			return nil, false, Value{}, false
		}
		o.pend = 0
	}
	d := o.data
	p := skipSpace(d, o.pos)
	if p >= len(d) {
		o.pos = p
		return nil, false, Value{}, o.fail("unexpected end of object")
	}
	if d[p] == '}' {
		o.pos = p + 1
		o.done = true
		o.doc.closed(o.data, o.pos, o.depth)
		if o.depth == 0 {
			// top level: only whitespace may follow
			if q := skipSpace(d, o.pos); q < len(d) {
				o.pos = q
				o.fail("unexpected data after object")
			}
		}
		return nil, false, Value{}, false
	}
	if !o.first {
		if d[p] != ',' {
			o.pos = p
			return nil, false, Value{}, o.fail("expected ',' or '}'")
		}
		p = skipSpace(d, p+1)
	}
	o.first = false
	if p >= len(d) || d[p] != '"' {
		o.pos = p
		return nil, false, Value{}, o.fail("expected a string key")
	}
	end, esc, err := scanString(d, p+1)
	if err != nil {
		o.pos = p
		return nil, false, Value{}, o.fail(err.Error())
	}
	key = d[p+1 : end]
	p = skipSpace(d, end+1)
	if p >= len(d) || d[p] != ':' {
		o.pos = p
		return nil, false, Value{}, o.fail("expected ':' after key")
	}
	p = skipSpace(d, p+1)
	if o.doc != nil && p < len(d) && (d[p] == '{' || d[p] == '[') {
		if v, o.err = o.doc.returned(d, p, o.depth+1); o.err != nil {
			o.done = true
			return nil, false, Value{}, false
		}
		o.pend = p + 1
		return key, esc, v, true
	}
	v, next, err := scanValue(d, p, o.depth+1)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			o.err = se
		} else {
			o.err = &SyntaxError{Offset: p, Msg: err.Error()}
		}
		o.done = true
		return nil, false, Value{}, false
	}
	o.pos = next
	return key, esc, v, true
}

// Arr iterates over the elements of an array.
type Arr struct {
	data  []byte
	pos   int
	depth int
	first bool
	done  bool
	err   error
	doc   *Doc
	pend  int
}

// Err returns the first syntax error met, if any.
func (a *Arr) Err() error { return a.err }

// Next returns the next element.
func (a *Arr) Next() (Value, bool) {
	if a.done {
		return Value{}, false
	}
	if a.pend != 0 {
		if a.pos, a.err = a.doc.pass(a.data, a.pend-1, a.depth+1); a.err != nil {
			a.done = true
			return Value{}, false
		}
		a.pend = 0
	}
	d := a.data
	p := skipSpace(d, a.pos)
	if p >= len(d) {
		a.err = &SyntaxError{Offset: p, Msg: "unexpected end of array"}
		a.done = true
		return Value{}, false
	}
	if d[p] == ']' {
		a.pos = p + 1
		a.done = true
		a.doc.closed(a.data, a.pos, a.depth)
		return Value{}, false
	}
	if !a.first {
		if d[p] != ',' {
			a.err = &SyntaxError{Offset: p, Msg: "expected ',' or ']'"}
			a.done = true
			return Value{}, false
		}
		p = skipSpace(d, p+1)
	}
	a.first = false
	if a.doc != nil && p < len(d) && (d[p] == '{' || d[p] == '[') {
		v, err := a.doc.returned(d, p, a.depth+1)
		if err != nil {
			a.err, a.done = err, true
			return Value{}, false
		}
		a.pend = p + 1
		return v, true
	}
	v, next, err := scanValue(d, p, a.depth+1)
	if err != nil {
		var se *SyntaxError
		if !errors.As(err, &se) {
			se = &SyntaxError{Offset: p, Msg: err.Error()}
		}
		a.err = se
		a.done = true
		return Value{}, false
	}
	a.pos = next
	return v, true
}

func skipSpace(d []byte, p int) int {
	for p < len(d) {
		switch d[p] {
		case ' ', '\t', '\n', '\r':
			p++
		default:
			return p
		}
	}
	return p
}

// scanString finds the closing quote of a string whose content starts at p.
// It returns the index of the closing quote and whether escapes occur.
// Escapes are checked when the string is decoded, not here.
func scanString(d []byte, p int) (end int, escaped bool, err error) {
	if q, ok := shortPlainString(d, p); ok {
		return q, false, nil
	}
	q, err := searchStringEnd(d, p)
	if err != nil {
		return 0, false, err
	}
	return q, bytes.IndexByte(d[p:q], '\\') >= 0, nil
}

// Eight bytes at a time (SWAR): ones has a one in every byte, and
// bytesEqual marks the bytes of x equal to b in their top bit. A mark can
// be false only above a true one, so the lowest mark is always true.
const ones, tops = 0x0101010101010101, 0x8080808080808080

func bytesEqual(x uint64, b byte) uint64 {
	y := x ^ ones*uint64(b)
	return (y - ones) &^ y & tops
}

// shortPlainString finds the closing quote of a string that starts at p
// and ends, without a backslash, within its first 32 bytes, eight bytes
// at a time: most keys and values are such strings, and two IndexByte
// calls cost more than this for them. False sends the caller to the
// general search.
func shortPlainString(d []byte, p int) (int, bool) {
	for i := p; i+8 <= len(d) && i < p+32; i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		q, b := bytesEqual(x, '"'), bytesEqual(x, '\\')
		if q != 0 {
			// a backslash below the first quote may escape it
			if b&(q&-q-1) != 0 {
				return 0, false
			}
			return i + bits.TrailingZeros64(q)/8, true
		}
		if b != 0 {
			return 0, false
		}
	}
	return 0, false
}

// stringEnd is the index of the closing quote of the string whose content
// starts at p.
func stringEnd(d []byte, p int) (int, error) {
	if q, ok := shortPlainString(d, p); ok {
		return q, nil
	}
	return searchStringEnd(d, p)
}

// searchStringEnd is stringEnd by IndexByte, for what shortPlainString
// does not decide.
func searchStringEnd(d []byte, p int) (int, error) {
	i := p
	for {
		q := bytes.IndexByte(d[i:], '"')
		if q < 0 {
			return 0, &SyntaxError{Offset: len(d), Msg: "unterminated string"}
		}
		q += i
		bs := 0
		for j := q - 1; j >= p && d[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			return q, nil
		}
		i = q + 1
	}
}

// scanValue reads the value starting at p and returns it with the index just
// after it.
func scanValue(d []byte, p int, depth int) (Value, int, error) {
	if p >= len(d) {
		return Value{}, p, &SyntaxError{Offset: p, Msg: "expected a value"}
	}
	switch c := d[p]; {
	case c == '"':
		end, esc, err := scanString(d, p+1)
		if err != nil {
			return Value{}, p, err
		}
		return Value{Kind: String, Escaped: esc, Raw: d[p+1 : end]}, end + 1, nil
	case c == '{' || c == '[':
		if depth > MaxDepth {
			return Value{}, p, &SyntaxError{Offset: p, Msg: "nesting too deep"}
		}
		end, err := skipContainer(d, p, depth)
		if err != nil {
			return Value{}, p, err
		}
		k := Object
		if c == '[' {
			k = Array
		}
		return Value{Kind: k, Raw: d[p:end]}, end, nil
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(d, p)
		if !ok {
			return Value{}, p, &SyntaxError{Offset: p, Msg: "malformed number"}
		}
		return Value{Kind: Number, Raw: d[p:end]}, end, nil
	case c == 't':
		return literal(d, p, "true", True)
	case c == 'f':
		return literal(d, p, "false", False)
	case c == 'n':
		return literal(d, p, "null", Null)
	default:
		return Value{}, p, &SyntaxError{Offset: p, Msg: fmt.Sprintf("unexpected character %q", c)}
	}
}

func literal(d []byte, p int, lit string, k Kind) (Value, int, error) {
	if len(d)-p >= len(lit) && string(d[p:p+len(lit)]) == lit {
		return Value{Kind: k, Raw: d[p : p+len(lit)]}, p + len(lit), nil
	}
	return Value{}, p, &SyntaxError{Offset: p, Msg: "invalid literal"}
}

// scanNumber validates the JSON number grammar.
func scanNumber(d []byte, p int) (int, bool) {
	i := p
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return i, false
	}
	if d[i] == '0' {
		i++
	} else if d[i] >= '1' && d[i] <= '9' {
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	} else {
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		s := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == s {
			return i, false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		s := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == s {
			return i, false
		}
	}
	return i, true
}

// skipContainer validates the object or array starting at p and returns the
// index after its closing bracket. It is one loop over the bytes with a
// bit per open level (object or array), not an Obj or Arr per level: a
// reader passes over most members it does not decode (and, without a
// Doc, over every nested value before walking it).
func skipContainer(d []byte, p int, depth int) (int, error) {
	var arrays [MaxDepth/64 + 1]uint64 // bit l: level l is an array
	lvl, i := -1, p
	var err error
	for {
		// i is at the start of a value
		if c := d[i]; c == '{' || c == '[' {
			if lvl++; depth+lvl > MaxDepth {
				return 0, &SyntaxError{Offset: i, Msg: "nesting too deep"}
			}
			arrays[lvl/64] &^= 1 << (lvl % 64)
			if c == '[' {
				arrays[lvl/64] |= 1 << (lvl % 64)
			}
			if i = skipSpace(d, i+1); i >= len(d) {
				return 0, endOf(i, c == '[')
			}
			if d[i] == '}' && c == '{' || d[i] == ']' && c == '[' {
				i, lvl = i+1, lvl-1 // empty: a value of the level below
			} else {
				if c == '{' {
					if i, err = skipKey(d, i); err != nil {
						return 0, err
					}
				}
				continue
			}
		} else if i, err = skipScalar(d, i); err != nil {
			return 0, err
		}
		// after a value: a comma and the next one, or closing brackets
		if i, lvl, err = afterValue(d, i, lvl, &arrays); err != nil || lvl < 0 {
			return i, err
		}
	}
}

// afterValue reads what follows a value at level lvl of skipContainer:
// closing brackets (lowering lvl, to -1 when the container is closed) up
// to a comma, and after the comma the next member's key. i is then the
// start of the next value.
func afterValue(d []byte, i, lvl int, arrays *[MaxDepth/64 + 1]uint64) (int, int, error) {
	for lvl >= 0 {
		isArray := arrays[lvl/64]&(1<<(lvl%64)) != 0
		if i = skipSpace(d, i); i >= len(d) {
			return 0, lvl, endOf(i, isArray)
		}
		switch c := d[i]; {
		case c == ',':
			if i = skipSpace(d, i+1); isArray {
				if i >= len(d) {
					return 0, lvl, &SyntaxError{Offset: i, Msg: "expected a value"}
				}
				return i, lvl, nil
			}
			i, err := skipKey(d, i)
			return i, lvl, err
		case c == ']' && isArray, c == '}' && !isArray:
			i++
			lvl--
		case isArray:
			return 0, lvl, &SyntaxError{Offset: i, Msg: "expected ',' or ']'"}
		default:
			return 0, lvl, &SyntaxError{Offset: i, Msg: "expected ',' or '}'"}
		}
	}
	return i, lvl, nil
}

// skipKey reads a member's key and its colon from i; the index returned
// is the start of the member's value.
func skipKey(d []byte, i int) (int, error) {
	if i >= len(d) || d[i] != '"' {
		return 0, &SyntaxError{Offset: i, Msg: "expected a string key"}
	}
	end, err := stringEnd(d, i+1)
	if err != nil {
		return 0, err
	}
	if i = skipSpace(d, end+1); i >= len(d) || d[i] != ':' {
		return 0, &SyntaxError{Offset: i, Msg: "expected ':' after key"}
	}
	if i = skipSpace(d, i+1); i >= len(d) {
		return 0, &SyntaxError{Offset: i, Msg: "expected a value"}
	}
	return i, nil
}

// skipScalar reads the string, number or literal starting at i.
func skipScalar(d []byte, i int) (int, error) {
	switch c := d[i]; {
	case c == '"':
		end, err := stringEnd(d, i+1)
		return end + 1, err
	case c == '-' || c >= '0' && c <= '9':
		end, ok := scanNumber(d, i)
		if !ok {
			return 0, &SyntaxError{Offset: i, Msg: "malformed number"}
		}
		return end, nil
	case c == 't', c == 'f', c == 'n':
		_, end, err := scanValue(d, i, 0)
		return end, err
	}
	return 0, &SyntaxError{Offset: i, Msg: fmt.Sprintf("unexpected character %q", d[i])}
}

func endOf(i int, array bool) error {
	if array {
		return &SyntaxError{Offset: i, Msg: "unexpected end of array"}
	}
	return &SyntaxError{Offset: i, Msg: "unexpected end of object"}
}

// AppendUnescaped appends the decoded form of a raw string (as in
// Value.Raw) to dst.
func AppendUnescaped(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(raw) {
			return dst, errors.New("dangling escape in string")
		}
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n, ok := hex4(raw[i+1:])
			if !ok {
				return dst, errors.New("malformed \\u escape in string")
			}
			i += n
			if utf16.IsSurrogate(r) {
				// a surrogate pair is two \u escapes in a row
				if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if r2, n2, ok := hex4(raw[i+3:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							i += 2 + n2
							dst = utf8.AppendRune(dst, dec)
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, fmt.Errorf("invalid escape \\%c in string", raw[i])
		}
	}
	return dst, nil
}

func hex4(b []byte) (rune, int, bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	var r rune
	for _, c := range b[:4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, 4, true
}

// Text returns the text of a scalar value: a string decoded (into the arena
// when it has escapes, else as a view of the input), a number or literal
// as written, "" for null, objects and arrays.
func Text(a *textval.Arena, v Value) (string, error) {
	switch v.Kind {
	case String:
		if !v.Escaped {
			return textval.View(v.Raw), nil
		}
		m := a.Mark()
		b, err := AppendUnescaped(a.Buf(), v.Raw)
		if err != nil {
			a.Set(b[:m])
			return "", err
		}
		a.Set(b)
		return a.Since(m), nil
	case Number, True, False:
		return textval.View(v.Raw), nil
	}
	return "", nil
}
