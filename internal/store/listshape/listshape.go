// Package listshape is how a store keeps the indicators of a list compactly.
//
// A list of a million indicators is a million objects that differ only in
// their value: same source, confidence, labels, markings, creator, times.
// A store may keep such an indicator as one narrow row (id, value,
// warninglists, raw when it does not follow from the value) pointing at a
// shape: the fields it shares with the rest of its import, stored once as
// a template. Key says whether an object fits a shape and which, Template
// makes the shape's template, and Rebuild gives back, field for field, the
// object that was put.
package listshape

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Pattern modes: how an indicator's pattern follows from its value.
const (
	PatternSTIX  = "s" // the observable's STIX pattern
	PatternValue = "v" // the value itself (a plain list's own pattern type)
)

// Raw modes: how an indicator's Raw follows from its row.
const (
	RawNone  = "n" // no Raw
	RawValue = "c" // {"value":"<value>"}, what a plain list records
	RawRow   = "r" // the row's raw column
)

// Key appends to buf the key of the shape o fits, and reports whether
// it fits one: an indicator with one observable (no x509 issuer) named by
// its value, whose pattern and Raw follow from the value, without aliases,
// external references or kill-chain phases. A description is part of the
// shape (a Zeek intel file's meta.desc is usually one of a few); the
// writer stops making shapes when an import has too many.
func Key(buf []byte, o *intel.Object) ([]byte, string, string, bool) {
	ind := o.Indicator
	if o.Type != intel.TypeIndicator || ind == nil || len(ind.Observables) != 1 ||
		len(o.Aliases) > 0 || len(o.ExternalRefs) > 0 || len(o.KillChain) > 0 ||
		o.Relationship != nil || o.Actor != nil || o.Marking != nil || o.Sighting != nil {
		return buf, "", "", false
	}
	ob := ind.Observables[0]
	if ob.Issuer != "" || o.Name != ob.Value || ob.Value == "" {
		return buf, "", "", false
	}
	var pm string
	switch ind.Pattern {
	case ob.Value:
		pm = PatternValue
	case ob.STIXPattern():
		pm = PatternSTIX
	default:
		return buf, "", "", false
	}
	rm := RawRow
	switch {
	case len(o.Raw) == 0:
		rm = RawNone
	case isValueRaw(o.Raw, ob.Value):
		rm = RawValue
	}
	buf = append(buf, o.SpecVersion...)
	buf = strconv.AppendInt(append(buf, 0), int64(len(o.Description)), 10)
	buf = append(append(buf, ':'), o.Description...)
	buf = appendTime(append(buf, 0), o.Created)
	buf = appendTime(append(buf, 0), o.Modified)
	buf = strconv.AppendBool(append(buf, 0), o.Revoked)
	buf = strconv.AppendInt(append(buf, 0), int64(o.Confidence), 10)
	buf = appendList(append(buf, 0), o.Labels)
	buf = appendList(append(buf, 0), o.Markings)
	buf = append(append(buf, 0), o.CreatedBy...)
	buf = append(append(buf, 0), ind.PatternType...)
	buf = append(append(buf, 0), pm...)
	buf = append(append(buf, 0), rm...)
	buf = appendTime(append(buf, 0), ind.ValidFrom)
	buf = appendTime(append(buf, 0), ind.ValidUntil)
	buf = strconv.AppendBool(append(buf, 0), ind.HostOnly)
	buf = strconv.AppendBool(append(buf, 0), ind.Context)
	return buf, pm, rm, true
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 'z')
	}
	// the location too: it survives the JSON of objects.data as an offset
	_, off := t.Zone()
	b = strconv.AppendInt(b, t.Unix(), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(t.Nanosecond()), 10)
	b = append(b, '@')
	return strconv.AppendInt(b, int64(off), 10)
}

// appendList writes the length of each string before it, so that
// ["a\x00b"] and ["a", "b"] differ.
func appendList(b []byte, l []string) []byte {
	if l == nil {
		return append(b, 'n')
	}
	b = strconv.AppendInt(b, int64(len(l)), 10)
	for _, s := range l {
		b = strconv.AppendInt(append(b, ':'), int64(len(s)), 10)
		b = append(append(b, ':'), s...)
	}
	return b
}

// isValueRaw reports whether raw is exactly {"value":"<v>"} with v written
// as is, which is what plain lists record for a value given in its
// normalised form.
func isValueRaw(raw []byte, v string) bool {
	const pre, post = `{"value":"`, `"}`
	return len(raw) == len(pre)+len(v)+len(post) && string(raw[:len(pre)]) == pre &&
		string(raw[len(pre):len(pre)+len(v)]) == v && string(raw[len(pre)+len(v):]) == post &&
		!strings.ContainsAny(v, "\"\\")
}

func valueRaw(v string) json.RawMessage {
	return json.RawMessage(`{"value":"` + v + `"}`)
}

// Template is the template of o's shape: o without what its row holds.
func Template(o *intel.Object) intel.Object {
	t := *o
	t.ID, t.Name, t.Raw = "", "", nil
	spec := *o.Indicator
	spec.Pattern, spec.Observables, spec.Warninglists = "", nil, nil
	t.Indicator = &spec
	return t
}

// Rebuild is the indicator of the shape of template tmpl (pattern mode
// pm, raw mode rm) that a row holds: its id, its observable, its
// warninglists (newline-separated) and, for RawRow, its raw.
func Rebuild(tmpl *intel.Object, pm, rm, id string, ob intel.Observable, lists string, raw []byte) *intel.Object {
	o := *tmpl
	o.ID, o.Name = id, ob.Value
	spec := *tmpl.Indicator
	spec.Observables = []intel.Observable{ob}
	if pm == PatternSTIX {
		spec.Pattern = ob.STIXPattern()
	} else {
		spec.Pattern = ob.Value
	}
	if lists != "" {
		spec.Warninglists = strings.Split(lists, "\n")
	}
	o.Indicator = &spec
	// the template's slices are shared by every object rebuilt from it
	o.Labels = CloneStrings(o.Labels)
	o.Markings = CloneStrings(o.Markings)
	switch rm {
	case RawValue:
		o.Raw = valueRaw(ob.Value)
	case RawRow:
		if len(raw) > 0 {
			o.Raw = json.RawMessage(bytes.Clone(raw))
		}
	}
	return &o
}

func CloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append(make([]string, 0, len(s)), s...)
}

// Lean is the indicator of the shape of template tmpl that the matcher
// needs, as a store's MatchIndicators gives it: without its pattern (its
// one observable stands for it), with the shape's modified time as the
// store keeps it.
func Lean(tmpl *intel.Object, modified time.Time, id string, ob intel.Observable, lists string) *intel.Object {
	t := tmpl.Indicator
	o := &intel.Object{ID: id, Type: intel.TypeIndicator, Modified: modified, Revoked: tmpl.Revoked, Confidence: -1,
		Indicator: &intel.IndicatorSpec{ValidFrom: t.ValidFrom, ValidUntil: t.ValidUntil, HostOnly: t.HostOnly, Context: t.Context,
			PatternType: t.PatternType, Observables: []intel.Observable{ob}}}
	if lists != "" {
		o.Indicator.Warninglists = strings.Split(lists, "\n")
	}
	return o
}
