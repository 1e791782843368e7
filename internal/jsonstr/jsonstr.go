// Package jsonstr quotes strings as JSON without reflection, for the
// writers that build JSON by hand on hot paths.
package jsonstr

import "unicode/utf8"

// Mode chooses the escapes beyond those JSON requires.
type Mode uint8

// HTML escapes <, > and & as \u003c, \u003e, \u0026 and writes \b and \f
// in their short forms: encoding/json's default, byte for byte. Without
// it those three are written as they are and \b, \f as \u0008, \u000c.
const HTML Mode = 1

const hex = "0123456789abcdef"

// Append appends s quoted. Control characters are escaped, invalid UTF-8
// becomes \ufffd, and U+2028 and U+2029 are escaped (for JavaScript).
func Append(b []byte, s string, m Mode) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !escaped(c, m) {
				i++
				continue
			}
			b = escapeByte(append(b, s[start:i]...), c, m)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

func escaped(c byte, m Mode) bool {
	switch {
	case c < 0x20 || c == '"' || c == '\\':
		return true
	case c == '<' || c == '>' || c == '&':
		return m&HTML != 0
	}
	return false
}

func escapeByte(b []byte, c byte, m Mode) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\b':
		if m&HTML != 0 {
			return append(b, '\\', 'b')
		}
	case '\f':
		if m&HTML != 0 {
			return append(b, '\\', 'f')
		}
	}
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
}
