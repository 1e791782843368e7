package flat

import (
	"encoding/json"
	"unicode/utf8"
)

// rawJSON builds the JSON rendering kept in Object.Raw: an object whose
// keys keep the column order of the file, or an array for rows without a
// header. It is cheaper than encoding/json on a map and keeps the order.
type rawJSON struct {
	b     []byte
	first bool
}

func (w *rawJSON) beginObject() { w.b = append(w.b[:0], '{'); w.first = true }
func (w *rawJSON) beginArray()  { w.b = append(w.b[:0], '['); w.first = true }

func (w *rawJSON) sep() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
}

// field adds "k":"v" to an object.
func (w *rawJSON) field(k, v string) {
	w.sep()
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
	w.b = appendJSONString(w.b, v)
}

// elem adds "v" to an array.
func (w *rawJSON) elem(v string) {
	w.sep()
	w.b = appendJSONString(w.b, v)
}

// endObject and endArray return a copy the caller may keep.
func (w *rawJSON) endObject() json.RawMessage { return w.end('}') }
func (w *rawJSON) endArray() json.RawMessage  { return w.end(']') }

func (w *rawJSON) end(c byte) json.RawMessage {
	w.b = append(w.b, c)
	out := make(json.RawMessage, len(w.b))
	copy(out, w.b)
	return out
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c < 0x80 {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
