package sqlite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// A list of a million indicators is a million objects that differ only in
// their value: same source, confidence, labels, markings, creator, times
// and (with --actor) the same "indicates" relationship. Storing each as a
// full object costs three rows, a JSON document and a relationship object,
// and made a million-line list take a minute. Such an indicator is stored
// instead as one narrow row of list_indicators (id, value, warninglists,
// raw when it is not derivable) that points at a shape: the fields it
// shares with the rest of its import, stored once. The object read back is
// the one that was put, field for field; shape_test.go holds every field of
// intel.Object to that. An indicator that does not fit a shape takes the
// full path and loses nothing.

// Pattern modes: how an indicator's pattern follows from its value.
const (
	patternSTIX  = "s" // the observable's STIX pattern
	patternValue = "v" // the value itself (a plain list's own pattern type)
)

// Raw modes: how an indicator's Raw follows from its row.
const (
	rawNone  = "n" // no Raw
	rawValue = "c" // {"value":"<value>"}, what a plain list records
	rawRow   = "r" // the row's raw column
)

// epoch stands in for a missing Modified, in objects and shapes alike.
var epoch = time.Unix(0, 0)

// shape is what the indicators of one shape share.
type shape struct {
	id        int64
	sourceID  int64
	modified  string // fmtTime of the template's Modified, as objects.modified
	pattern   string
	raw       string
	indicates string // actor id, or ""
	tmpl      intel.Object
	// added and lastAdded bound the added times of the shape's rows: all
	// are written by the import that made the shape (server_implied.go).
	added, lastAdded string
}

// shapeDraft is a shape being gathered by a writer: the template without
// the "indicates" target, which arrives with the next object.
type shapeDraft struct {
	tmpl    intel.Object
	pattern string
	raw     string
}

// shapeKey appends to buf the key of the shape o fits, and reports whether
// it fits one: an indicator with one observable (no x509 issuer) named by
// its value, whose pattern and Raw follow from the value, without aliases,
// external references or kill-chain phases. A description is part of the
// shape (a Zeek intel file's meta.desc is usually one of a few); the
// writer stops making shapes when an import has too many.
func shapeKey(buf []byte, o *intel.Object) ([]byte, string, string, bool) {
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
		pm = patternValue
	case ob.STIXPattern():
		pm = patternSTIX
	default:
		return buf, "", "", false
	}
	rm := rawRow
	switch {
	case len(o.Raw) == 0:
		rm = rawNone
	case isValueRaw(o.Raw, ob.Value):
		rm = rawValue
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

// newDraft makes the template of o's shape: o without what its row holds.
func newDraft(o *intel.Object, pm, rm string) *shapeDraft {
	t := *o
	t.ID, t.Name, t.Raw = "", "", nil
	spec := *o.Indicator
	spec.Pattern, spec.Observables, spec.Warninglists = "", nil, nil
	t.Indicator = &spec
	return &shapeDraft{tmpl: t, pattern: pm, raw: rm}
}

// object rebuilds an indicator of the shape.
func (sh *shape) object(id string, ob intel.Observable, lists string, raw []byte) *intel.Object {
	o := sh.tmpl
	o.ID, o.Name = id, ob.Value
	spec := *sh.tmpl.Indicator
	spec.Observables = []intel.Observable{ob}
	if sh.pattern == patternSTIX {
		spec.Pattern = ob.STIXPattern()
	} else {
		spec.Pattern = ob.Value
	}
	if lists != "" {
		spec.Warninglists = strings.Split(lists, "\n")
	}
	o.Indicator = &spec
	// the template's slices are shared by every object rebuilt from it
	o.Labels = cloneStrings(o.Labels)
	o.Markings = cloneStrings(o.Markings)
	switch sh.raw {
	case rawValue:
		o.Raw = valueRaw(ob.Value)
	case rawRow:
		if len(raw) > 0 {
			o.Raw = json.RawMessage(bytes.Clone(raw))
		}
	}
	return &o
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append(make([]string, 0, len(s)), s...)
}

// impliedRelationship is the "indicates" relationship an indicator of a
// shape with an actor stands for, as the list reader made it.
func impliedRelationship(ind *intel.Object, actorID string) *intel.Object {
	return &intel.Object{
		ID: intel.DeriveID(intel.TypeRelationship, "indicates", ind.ID, actorID), Type: intel.TypeRelationship,
		SpecVersion: ind.SpecVersion, Created: ind.Created, Modified: ind.Modified, Confidence: ind.Confidence,
		Markings: cloneStrings(ind.Markings), CreatedBy: ind.CreatedBy,
		Relationship: &intel.RelationshipSpec{Type: "indicates", SourceRef: ind.ID, TargetRef: actorID},
	}
}

// foldable reports whether rel is exactly the relationship that
// impliedRelationship rebuilds for an indicator of template t with id
// indID, so that storing the target in the shape loses nothing.
func foldable(rel *intel.Object, t *intel.Object, indID string) bool {
	r := rel.Relationship
	if rel.Type != intel.TypeRelationship || r == nil || r.Type != "indicates" || r.SourceRef != indID || r.TargetRef == "" ||
		!r.StartTime.IsZero() || !r.StopTime.IsZero() ||
		rel.Name != "" || rel.Description != "" || len(rel.Aliases) > 0 || rel.Revoked || len(rel.Labels) > 0 ||
		len(rel.ExternalRefs) > 0 || len(rel.KillChain) > 0 || len(rel.Raw) > 0 ||
		rel.Indicator != nil || rel.Actor != nil || rel.Marking != nil || rel.Sighting != nil ||
		rel.SpecVersion != t.SpecVersion || rel.Confidence != t.Confidence || rel.CreatedBy != t.CreatedBy ||
		!sameTime(rel.Created, t.Created) || !sameTime(rel.Modified, t.Modified) || !sameStrings(rel.Markings, t.Markings) {
		return false
	}
	return rel.ID == intel.DeriveID(intel.TypeRelationship, "indicates", indID, r.TargetRef)
}

// sameTime is equality that survives the JSON round trip: the instant and
// the offset.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

func sameStrings(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shapeCols are the columns scanShape reads, id first.
const shapeCols = "id, source_id, modified, pattern, raw, indicates, template, added, last_added"

// scanShape reads a stored shape from a row of shapeCols.
func scanShape(row interface{ Scan(...any) error }) (*shape, error) {
	sh := &shape{}
	var template []byte
	if err := row.Scan(&sh.id, &sh.sourceID, &sh.modified, &sh.pattern, &sh.raw, &sh.indicates, &template, &sh.added, &sh.lastAdded); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(template, &sh.tmpl); err != nil {
		return nil, fmt.Errorf("stored indicator shape %d: %w", sh.id, err)
	}
	if sh.tmpl.Indicator == nil {
		sh.tmpl.Indicator = &intel.IndicatorSpec{}
	}
	return sh, nil
}
