package flat

import (
	"encoding/json"

	"github.com/whodunit-project/whodunit/internal/jsonstr"
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

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s, 0) }
