package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// STIX writes a STIX 2.1 bundle: the indicators, the actor records they
// indicate (as intrusion-set or threat-actor), one "indicates"
// relationship for each, and the TLP 2.0 marking definitions they carry.
// Indicators are written as they come; actors and markings, which are
// few, at the end.
type STIX struct {
	w       *bufio.Writer
	now     time.Time
	first   bool
	actors  map[string]Actor
	marking map[string]bool // TLP levels used
}

// NewSTIX writes the head of the bundle to w; now names and dates it.
func NewSTIX(w io.Writer, now time.Time) (*STIX, error) {
	s := &STIX{w: bufio.NewWriterSize(w, 64<<10), now: now.UTC(), first: true, actors: map[string]Actor{}, marking: map[string]bool{}}
	id := intel.DeriveID("bundle", "whodunit-export", s.now.Format(time.RFC3339Nano))
	_, err := fmt.Fprintf(s.w, `{"type":"bundle","id":%q,"objects":[`, id)
	return s, err
}

func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Write implements Writer.
func (s *STIX) Write(ind *Indicator) (string, error) {
	spec := ind.Indicator
	if spec == nil || spec.PatternType != "stix" || spec.Pattern == "" {
		return "no STIX pattern", nil
	}
	created, modified := ind.Created, ind.Modified
	if modified.IsZero() {
		modified = s.now
	}
	if created.IsZero() || created.After(modified) {
		created = modified
	}
	from := spec.ValidFrom
	if from.IsZero() {
		from = created
	}
	o := map[string]any{"type": "indicator", "spec_version": "2.1", "id": ind.ID, "created": stixTime(created),
		"modified": stixTime(modified), "pattern": spec.Pattern, "pattern_type": "stix", "valid_from": stixTime(from)}
	if ind.Name != "" {
		o["name"] = ind.Name
	}
	if ind.Description != "" {
		o["description"] = ind.Description
	}
	if !spec.ValidUntil.IsZero() && spec.ValidUntil.After(from) {
		o["valid_until"] = stixTime(spec.ValidUntil)
	}
	if ind.Confidence >= 0 && ind.Confidence <= 100 {
		o["confidence"] = ind.Confidence
	}
	if len(ind.Labels) > 0 {
		o["labels"] = ind.Labels
	}
	var marks []string
	if ind.TLP != "" {
		m, err := intel.TLPMarkingVersion(ind.TLP, "2.0")
		if err != nil {
			return "", err
		}
		marks = []string{m.ID}
		o["object_marking_refs"] = marks
		s.marking[ind.TLP] = true
	}
	if err := s.object(o); err != nil {
		return "", err
	}
	for _, a := range ind.Actors {
		s.actors[a.ID] = a
		r := map[string]any{"type": "relationship", "spec_version": "2.1",
			"id":      intel.DeriveID("relationship", "indicates", ind.ID, a.ID),
			"created": stixTime(created), "modified": stixTime(modified), "relationship_type": "indicates",
			"source_ref": ind.ID, "target_ref": a.ID}
		if marks != nil {
			r["object_marking_refs"] = marks
		}
		if err := s.object(r); err != nil {
			return "", err
		}
	}
	return "", nil
}

func (s *STIX) object(o any) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if !s.first {
		s.w.WriteByte(',')
	}
	s.first = false
	_, err = s.w.Write(b)
	return err
}

// Close implements Writer: the actors and marking definitions, then the
// end of the bundle.
func (s *STIX) Close(*Summary) error {
	ids := make([]string, 0, len(s.actors))
	for id := range s.actors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := s.actors[id]
		typ := a.Type
		if typ != intel.TypeThreatActor {
			typ = intel.TypeIntrusionSet
		}
		// a record without dates (galaxy clusters) is dated at the epoch:
		// re-imported beside its source, it must never win as the latest
		created, modified := a.Created, a.Modified
		if modified.IsZero() {
			modified = time.Unix(0, 0)
		}
		if created.IsZero() || created.After(modified) {
			created = modified
		}
		o := map[string]any{"type": typ, "spec_version": "2.1", "id": a.ID, "created": stixTime(created),
			"modified": stixTime(modified), "name": a.Name}
		if err := s.object(o); err != nil {
			return err
		}
	}
	for _, l := range []string{"clear", "green", "amber", "amber+strict", "red"} {
		if !s.marking[l] {
			continue
		}
		m, err := intel.TLPMarkingVersion(l, "2.0")
		if err != nil {
			return err
		}
		if err := s.object(json.RawMessage(m.Raw)); err != nil {
			return err
		}
	}
	if _, err := s.w.WriteString("]}\n"); err != nil {
		return err
	}
	return s.w.Flush()
}
