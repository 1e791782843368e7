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

// walk visits every value of an object document, decoding every string.
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
				_, _, mv, ok := o.Next()
				if !ok {
					return o.Err()
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
		_, _, v, ok := o.Next()
		if !ok {
			return o.Err()
		}
		if err := visit(v); err != nil {
			return err
		}
	}
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
