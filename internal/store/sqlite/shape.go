package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store/listshape"
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
// intel.Object to that (listshape keeps the rules both stores share). An indicator that does not fit a shape takes the
// full path and loses nothing.

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

// newDraft makes the draft of o's shape.
func newDraft(o *intel.Object, pm, rm string) *shapeDraft {
	return &shapeDraft{tmpl: listshape.Template(o), pattern: pm, raw: rm}
}

// object rebuilds an indicator of the shape.
func (sh *shape) object(id string, ob intel.Observable, lists string, raw []byte) *intel.Object {
	return listshape.Rebuild(&sh.tmpl, sh.pattern, sh.raw, id, ob, lists, raw)
}

// impliedRelationship is the "indicates" relationship an indicator of a
// shape with an actor stands for, as the list reader made it.
func impliedRelationship(ind *intel.Object, actorID string) *intel.Object {
	return &intel.Object{
		ID: intel.DeriveID(intel.TypeRelationship, "indicates", ind.ID, actorID), Type: intel.TypeRelationship,
		SpecVersion: ind.SpecVersion, Created: ind.Created, Modified: ind.Modified, Confidence: ind.Confidence,
		Markings: listshape.CloneStrings(ind.Markings), CreatedBy: ind.CreatedBy,
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
