package pattern

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MaxObservationBytes bounds the JSON LoadObservations accepts.
const MaxObservationBytes = 256 << 20

// Observation is one observed-data object: what was seen, how many times,
// and when.
type Observation struct {
	ID     string // observed-data id ("" for 2.0 objects without one)
	First  time.Time
	Last   time.Time
	Count  int // number_observed
	byID   map[string]*jsonObject
	byType map[string][]Object // directly held objects, in input order
}

// Resolve implements Resolver: ids in object_refs (2.1) or keys of the
// objects dictionary (2.0).
func (o *Observation) Resolve(id string) (Object, bool) {
	obj, ok := o.byID[id]
	if !ok {
		return nil, false
	}
	return obj, true
}

// ObjectsOf implements scope.
func (o *Observation) ObjectsOf(typ string) []Object { return o.byType[typ] }

// jsonObject is a JSON dictionary.
type jsonObject struct {
	typ   string
	props map[string]Value
}

func (j *jsonObject) Type() string { return j.typ }

func (j *jsonObject) Get(key string) (Value, bool) {
	v, ok := j.props[key]
	return v, ok
}

// LoadObservations reads a JSON array of STIX bundles and/or observed-data
// objects (the shape of the reference matcher's input). A bundle's
// observed-data objects see the SCOs their object_refs name in the same
// bundle; observed-data at the top level see top-level SCOs. The 2.0 form
// with an embedded objects dictionary is read too. A single bundle or
// observed-data object (not in an array) is accepted as well.
func LoadObservations(data []byte) ([]Observation, error) {
	if len(data) > MaxObservationBytes {
		return nil, fmt.Errorf("observations: input is larger than %d bytes", MaxObservationBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("observations: %w", jsonErr(data, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("observations: unexpected data after the JSON value")
	}
	var items []any
	switch t := top.(type) {
	case []any:
		items = t
	case map[string]any:
		items = []any{t}
	default:
		return nil, fmt.Errorf("observations: want a JSON array of bundles or observed-data objects")
	}
	var out []Observation
	// Top-level items other than bundles form one implicit bundle.
	looseIndex := map[string]map[string]any{}
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("observations: item %d is not a JSON object", i)
		}
		if m["type"] != "bundle" {
			if id, ok := m["id"].(string); ok {
				looseIndex[id] = m
			}
		}
	}
	for i, it := range items {
		m := it.(map[string]any)
		if m["type"] == "bundle" {
			objs, _ := m["objects"].([]any)
			var members []map[string]any
			for j, o := range objs {
				om, ok := o.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("observations: item %d: bundle object %d is not a JSON object", i, j)
				}
				members = append(members, om)
			}
			obs, err := observationsOf(members, indexByID(members), fmt.Sprintf("item %d: ", i))
			if err != nil {
				return nil, err
			}
			out = append(out, obs...)
			continue
		}
		obs, err := observationsOf([]map[string]any{m}, looseIndex, fmt.Sprintf("item %d: ", i))
		if err != nil {
			return nil, err
		}
		out = append(out, obs...)
	}
	return out, nil
}

func jsonErr(data []byte, err error) error {
	if se, ok := err.(*json.SyntaxError); ok {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte{'\n'})
		return fmt.Errorf("line %d (byte %d): %v", line, se.Offset, err)
	}
	return err
}

// observationsOf builds the observations among one set of STIX objects.
func observationsOf(objs []map[string]any, index map[string]map[string]any, where string) ([]Observation, error) {
	var out []Observation
	for _, o := range objs {
		if o["type"] != "observed-data" {
			continue
		}
		id, _ := o["id"].(string)
		name := where + "observed-data"
		if id != "" {
			name = where + id
		}
		obs := Observation{ID: id, byID: map[string]*jsonObject{}, byType: map[string][]Object{}}
		n, ok := o["number_observed"].(json.Number)
		if !ok {
			return nil, fmt.Errorf("observations: %s: number_observed is missing or not a number", name)
		}
		cnt, err := n.Int64()
		if err != nil || cnt < 1 || cnt > 999999999 {
			return nil, fmt.Errorf("observations: %s: number_observed %s is not an integer from 1 to 999999999", name, n)
		}
		obs.Count = int(cnt)
		for _, f := range []struct {
			key string
			dst *time.Time
		}{{"first_observed", &obs.First}, {"last_observed", &obs.Last}} {
			s, ok := o[f.key].(string)
			if !ok {
				return nil, fmt.Errorf("observations: %s: %s is missing", name, f.key)
			}
			t, err := parseTimestamp(s)
			if err != nil {
				return nil, fmt.Errorf("observations: %s: %s: %v", name, f.key, err)
			}
			*f.dst = t
		}
		if obs.Last.Before(obs.First) {
			return nil, fmt.Errorf("observations: %s: last_observed is before first_observed", name)
		}
		add := func(key string, raw any) error {
			m, ok := raw.(map[string]any)
			if !ok {
				return fmt.Errorf("observations: %s: object %q is not a JSON object", name, key)
			}
			jo := toObject(m)
			obs.byID[key] = jo
			obs.byType[jo.typ] = append(obs.byType[jo.typ], jo)
			return nil
		}
		if emb, ok := o["objects"].(map[string]any); ok {
			for _, k := range sortedKeys(emb) {
				if err := add(k, emb[k]); err != nil {
					return nil, err
				}
			}
		}
		if refs, ok := o["object_refs"].([]any); ok {
			for _, r := range refs {
				rid, ok := r.(string)
				if !ok {
					return nil, fmt.Errorf("observations: %s: object_refs holds a non-string", name)
				}
				target, ok := index[rid]
				if !ok {
					continue // not in this bundle: nothing to match
				}
				if _, dup := obs.byID[rid]; dup {
					continue
				}
				if err := add(rid, target); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, obs)
	}
	return out, nil
}

func indexByID(objs []map[string]any) map[string]map[string]any {
	index := map[string]map[string]any{}
	for _, o := range objs {
		if id, ok := o["id"].(string); ok {
			index[id] = o
		}
	}
	return index
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// insertion sort is enough for the few objects of one observation
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func toObject(m map[string]any) *jsonObject {
	jo := &jsonObject{props: make(map[string]Value, len(m))}
	jo.typ, _ = m["type"].(string)
	for k, v := range m {
		jo.props[k] = toValue(v)
	}
	return jo
}

func toValue(v any) Value {
	switch t := v.(type) {
	case nil:
		return Value{Kind: KindNull}
	case bool:
		return Value{Kind: KindBool, Bool: t}
	case json.Number:
		s := t.String()
		if !strings.ContainsAny(s, ".eE") {
			if n, err := t.Int64(); err == nil {
				return Value{Kind: KindInt, Int: n}
			}
		}
		f, _ := t.Float64()
		return Value{Kind: KindFloat, Flt: f}
	case string:
		return Value{Kind: KindString, Str: t}
	case []any:
		l := make([]Value, len(t))
		for i, e := range t {
			l[i] = toValue(e)
		}
		return Value{Kind: KindList, List: l}
	case map[string]any:
		return Value{Kind: KindObject, Obj: toObject(t)}
	}
	return Value{Kind: KindNull}
}

// suffixValue converts the value of a property named *_hex or *_bin to
// binary, as the reference matcher does.
func suffixValue(key string, v Value) (Value, error) {
	if v.Kind != KindString {
		return v, nil
	}
	switch {
	case strings.HasSuffix(key, "_hex"):
		b, err := hex.DecodeString(v.Str)
		if err != nil {
			return v, fmt.Errorf("property %s is not valid hex: %q", key, clip(v.Str))
		}
		return Value{Kind: KindBinary, Str: string(b)}, nil
	case strings.HasSuffix(key, "_bin"):
		b, err := base64.StdEncoding.DecodeString(v.Str)
		if err != nil {
			return v, fmt.Errorf("property %s is not valid base64: %q", key, clip(v.Str))
		}
		return Value{Kind: KindBinary, Str: string(b)}, nil
	}
	return v, nil
}

// parseTimestamp reads a STIX timestamp from JSON data: RFC 3339 in UTC
// with upper-case T and Z, any number of fraction digits (kept to the
// microsecond, as the reference matcher keeps them).
func parseTimestamp(s string) (time.Time, error) {
	if msg := checkTimestampText(s); msg != "" {
		return time.Time{}, fmt.Errorf("invalid timestamp %q: %s", clip(s), msg)
	}
	t, msg := timestampValue(s)
	if msg != "" {
		return time.Time{}, fmt.Errorf("invalid timestamp %q: %s", clip(s), msg)
	}
	return t, nil
}
