package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// TestAgainstStdlib: every document encoding/json accepts as an object is
// accepted, and every one it rejects is rejected, on a table of edge cases.
func TestAgainstStdlib(t *testing.T) {
	docs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":-0.5e+3,"b":[1,"x",{"c":null}],"d":true,"e":false}`,
		`{"a":"\u00e9\ud83d\ude00\n\"\\\/"}`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`,
		`{"a":[1,]}`, `{"a":tru}`, `{"a":"x"} x`, `{"a":"x"}{}`, `[1]`, `"x"`, `{"a":"unterminated}`,
		`{"a":[[[[[[]]]]]]}`, `{"a":{"b":{"c":{}}}}`, `{1:2}`, `{"a":-}`, `{"a":1e}`, `{"a":"\x"}`,
	}
	for _, d := range docs {
		var v map[string]any
		stdOK := json.Unmarshal([]byte(d), &v) == nil
		ok := walk([]byte(d)) == nil
		if ok != stdOK {
			t.Errorf("%s: ours %v, encoding/json %v", d, ok, stdOK)
		}
	}
}

// walk visits every value of an object document, decoding every string
// and every key with escapes.
func walk(data []byte) error {
	o, err := NewObject(data)
	if err != nil {
		return err
	}
	var a textval.Arena
	var visit func(v Value) error
	visit = func(v Value) error {
		switch v.Kind {
		case Object:
			o := v.Object()
			for {
				k, esc, mv, ok := o.Next()
				if !ok {
					return o.Err()
				}
				if err := visitKey(k, esc); err != nil {
					return err
				}
				if err := visit(mv); err != nil {
					return err
				}
			}
		case Array:
			ar := v.Array()
			for {
				ev, ok := ar.Next()
				if !ok {
					return ar.Err()
				}
				if err := visit(ev); err != nil {
					return err
				}
			}
		}
		_, err := Text(&a, v)
		return err
	}
	for {
		k, esc, v, ok := o.Next()
		if !ok {
			return o.Err()
		}
		if err := visitKey(k, esc); err != nil {
			return err
		}
		if err := visit(v); err != nil {
			return err
		}
	}
}

// visitKey decodes a key with escapes, as the readers do.
func visitKey(k []byte, escaped bool) error {
	if !escaped {
		return nil
	}
	_, err := AppendUnescaped(nil, k)
	return err
}

func TestUnescape(t *testing.T) {
	var a textval.Arena
	o, _ := NewObject([]byte(`{"k":"caf\u00e9 \ud83d\ude00 \"q\" a\/b\tend","bad":"\ud800x"}`))
	_, _, v, _ := o.Next()
	if s, err := Text(&a, v); err != nil || s != "café 😀 \"q\" a/b\tend" {
		t.Errorf("Text = %q %v", s, err)
	}
	_, _, v, _ = o.Next()
	if s, err := Text(&a, v); err != nil || s != "\ufffdx" {
		t.Errorf("lone surrogate = %q %v", s, err)
	}
}

func TestDepthLimit(t *testing.T) {
	deep := make([]byte, 0, 2*MaxDepth+20)
	deep = append(deep, `{"a":`...)
	for i := 0; i < MaxDepth+5; i++ {
		deep = append(deep, '[')
	}
	for i := 0; i < MaxDepth+5; i++ {
		deep = append(deep, ']')
	}
	deep = append(deep, '}')
	if walk(deep) == nil {
		t.Error("nesting beyond MaxDepth accepted")
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"\u0041"}],"c":-1.5e3,"d":null}`))
	f.Add([]byte(`{"a":"\ud83d\ude00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := walk(data)
		var v map[string]any
		stdErr := json.Unmarshal(data, &v)
		// every document we accept must be valid JSON, except that raw
		// control characters inside strings are let through on purpose
		lenient := bytes.ContainsFunc(data, func(r rune) bool { return r < 0x20 })
		if err == nil && stdErr != nil && !lenient {
			t.Fatalf("accepted invalid JSON %q: %v", data, stdErr)
		}
	})
}

// refSkip is a plain recursive-descent reading of the container at p, to
// check skipContainer's one loop against: the index after it, or false.
func refSkip(d []byte, p, depth int) (int, bool) {
	if depth > MaxDepth {
		return 0, false
	}
	closer, isObj := byte(']'), d[p] == '{'
	if isObj {
		closer = '}'
	}
	p = skipSpace(d, p+1)
	if p < len(d) && d[p] == closer {
		return p + 1, true
	}
	for {
		var ok bool
		if isObj {
			if p >= len(d) || d[p] != '"' {
				return 0, false
			}
			if p, ok = refString(d, p+1); !ok {
				return 0, false
			}
			if p = skipSpace(d, p); p >= len(d) || d[p] != ':' {
				return 0, false
			}
			p = skipSpace(d, p+1)
		}
		if p, ok = refValue(d, p, depth+1); !ok {
			return 0, false
		}
		if p = skipSpace(d, p); p >= len(d) {
			return 0, false
		}
		switch d[p] {
		case ',':
			p = skipSpace(d, p+1)
		case closer:
			return p + 1, true
		default:
			return 0, false
		}
	}
}

func refValue(d []byte, p, depth int) (int, bool) {
	if p >= len(d) {
		return 0, false
	}
	switch c := d[p]; {
	case c == '{' || c == '[':
		return refSkip(d, p, depth)
	case c == '"':
		return refString(d, p+1)
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(d, p)
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(d[p:], []byte(lit)) {
			return p + len(lit), true
		}
	}
	return 0, false
}

// refString is the index after the closing quote, byte by byte.
func refString(d []byte, p int) (int, bool) {
	for ; p < len(d); p++ {
		switch d[p] {
		case '\\':
			p++
		case '"':
			return p + 1, true
		}
	}
	return 0, false
}

func TestSkipContainerEdges(t *testing.T) {
	for _, d := range []string{`{}`, `[]`, `[[],{}]`, `{"a":[]}`, `{"a":{},"b":[1,{}]}`, `[1,]`, `{"a":1,}`, `{,}`, `[,1]`,
		`{"a"}`, `{"a":}`, `[1 2]`, `{"a":1 "b":2}`, `[`, `{`, `{"a":[1,2`, `["\\"]`, `["\\\"]`, `[tru]`, `[nul]`, `{"a":1}}`} {
		checkSkip(t, []byte(d))
	}
}

func FuzzSkipContainer(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"\u0041"}],"c":-1.5e3,"d":null}`))
	f.Add([]byte(`[[[],{"x":[true,false,null]}],"\\\"",-0.1e-2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 && (data[0] == '{' || data[0] == '[') {
			checkSkip(t, data)
		}
	})
}

// checkSkip: skipContainer and refSkip agree on data's leading container.
func checkSkip(t *testing.T, data []byte) {
	t.Helper()
	end, err := skipContainer(data, 0, 1)
	want, ok := refSkip(data, 0, 1)
	if (err == nil) != ok || ok && end != want {
		t.Fatalf("%q: skipContainer %d %v, the plain reading %d %v", data, end, err, want, ok)
	}
	// escapes are checked when a string is decoded, not when skipped, and
	// raw control characters are let through
	lenient := bytes.ContainsFunc(data, func(r rune) bool { return r < 0x20 || r == '\\' })
	if ok && !lenient && !json.Valid(data[:end]) {
		t.Fatalf("%q: accepted %q, which encoding/json refuses", data, data[:end])
	}
}

// FuzzScanString: scanString and its eight-bytes-at-a-time path agree with
// a byte-by-byte reading on where a string ends and whether it has escapes.
func FuzzScanString(f *testing.F) {
	for _, s := range []string{`abc"`, `a\"b"`, `0123456789abcdef"x`, `01234567\\"`, `0123456\"89"`, `\\\\\\\\"`, `"`, `x`,
		`0123456789abcdef0123456789abcdef01"`, `ab"c\d`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		end, esc, err := scanString(d, 0)
		want, ok := refString(d, 0)
		if (err == nil) != ok || ok && end != want-1 {
			t.Fatalf("%q: scanString %d %v, byte by byte %d %v", d, end, err, want-1, ok)
		}
		if ok && esc != (bytes.IndexByte(d[:want-1], '\\') >= 0) {
			t.Fatalf("%q: escaped %v", d, esc)
		}
	})
}

// trace walks data's object, through doc when it is not nil (else as
// NewObject and Value.Object walk it), in one of three ways: every
// container walked to its end (all), none (none: their holders pass over
// them), or each left after its first member (half). It returns what it
// saw — keys, scalars, bracket marks — and whether the document was
// accepted. Every way, with a Doc or without, must accept the same
// documents, and the whole walks must see the same.
func trace(doc *Doc, data []byte, how string) (string, bool) {
	var o Obj
	var err error
	if doc != nil {
		o, err = doc.Object(data)
	} else {
		o, err = NewObject(data)
	}
	if err != nil {
		return "", false
	}
	var seen []byte
	enter := func(v Value) (Obj, Arr) {
		if doc != nil {
			return doc.Enter(v), doc.EnterArray(v)
		}
		return v.Object(), v.Array()
	}
	var in func(v Value) bool
	in = func(v Value) bool {
		if v.Kind != Object && v.Kind != Array {
			seen = append(append(seen, v.Raw...), 0)
			return true
		}
		if how == "none" {
			return true
		}
		seen = append(seen, '<')
		defer func() { seen = append(seen, '>') }()
		co, ca := enter(v)
		for {
			var mv Value
			var ok bool
			if v.Kind == Object {
				var k []byte
				if k, _, mv, ok = co.Next(); ok {
					seen = append(append(seen, k...), ':')
				}
			} else {
				mv, ok = ca.Next()
			}
			if !ok {
				return co.Err() == nil && ca.Err() == nil
			}
			if !in(mv) {
				return false
			}
			if how == "half" {
				return true
			}
		}
	}
	for {
		k, _, v, ok := o.Next()
		if !ok {
			return string(seen), o.Err() == nil
		}
		seen = append(append(seen, k...), ':')
		if !in(v) {
			// an error inside a container is the document's too
			return string(seen), false
		}
	}
}

func FuzzWalkOrders(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"\u0041"},[[],{}]],"c":{"d":{"e":[true]}},"f":null}`), []byte(`{"x":{"y":[1,2]}}`))
	f.Add([]byte(`{"a":{"b":[1,}},"c":2}`), []byte(`{"a":{"b":[1]},"c":2}`))
	f.Add([]byte(`{"a":[{"b":1},{"b":2}] , "c":[]}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, data, before []byte) {
		want, wantOK := trace(nil, data, "all")
		for _, how := range []string{"none", "half", "all"} {
			if _, ok := trace(nil, data, how); ok != wantOK {
				t.Fatalf("%q walked %s without a Doc: %v, whole %v", data, how, ok, wantOK)
			}
			doc := new(Doc)
			trace(doc, before, "all")
			seen, ok := trace(doc, data, how)
			if ok != wantOK || how == "all" && ok && seen != want {
				t.Fatalf("%q walked %s through a Doc after %q: %q %v; without %q %v", data, how, before, seen, ok, want, wantOK)
			}
		}
	})
}
