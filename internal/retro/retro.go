// Package retro matches indicators against the observable index (see
// obsindex): a retro-hunt. Every observation is turned back into the
// events of its cited records and put to a matcher snapshot of the new
// indicators, so that a value matches exactly as it would have matched
// when the record was read: subdomains, CIDR ranges, URL forms, ports and
// validity windows against the record's own time, not the time of the
// hunt. Sightings carry the original record and time and are marked
// Retrospective; their keys are the ones a scan of that record makes, so
// a rerun, or a later scan of the same logs, adds nothing twice.
package retro

import (
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
)

// Hunter probes observations against one snapshot. It is safe for
// concurrent use, as the snapshot is.
type Hunter struct {
	Snap *match.Snapshot
}

// Outcome is what one observation gave.
type Outcome struct {
	// Sightings is one per matching indicator and cited record whose
	// time lies in the indicator's validity window.
	Sightings []match.Sighting
	// Uncited counts the indicators the value matches while none of the
	// cited records lies in their validity window: the value may have
	// been seen inside it by a record the index does not cite.
	Uncited int
}

// Probe matches o. A first probe without time or record says whether any
// indicator matches the value at all (the common answer, no, costs one
// lookup); only then is every cited record probed.
func (h *Hunter) Probe(o *obsindex.Observation) Outcome {
	return h.ProbeWith(new(obsindex.Prober), o)
}

// ProbeWith is Probe making its events in p (see obsindex.Prober).
func (h *Hunter) ProbeWith(p *obsindex.Prober, o *obsindex.Observation) Outcome {
	var out Outcome
	var first *obsindex.Record
	if len(o.Records) > 0 {
		// ports bind some IP indicators: take them from a real record
		first = &obsindex.Record{SrcPort: o.Records[0].SrcPort, DstPort: o.Records[0].DstPort}
	}
	hit := h.firstHits(p, o, first)
	if len(hit) == 0 {
		return out
	}
	cited := map[string]bool{}
	for i := range o.Records {
		r := &o.Records[i]
		ev, _ := p.Event(o, r)
		h.Snap.Match(ev, func(s *match.Sighting) {
			if s.Field != o.Field {
				return
			}
			sg := s.Clone()
			sg.Source, sg.Retrospective = r.Source, true
			out.Sightings = append(out.Sightings, sg)
			cited[s.IndicatorID] = true
		})
	}
	for id := range hit {
		if !cited[id] {
			out.Uncited++
		}
	}
	return out
}

// Matches reports whether the first probe of ProbeWith finds any
// indicator for k's value, with the ports of its first record.
func (h *Hunter) Matches(p *obsindex.Prober, k obsindex.KeyPorts) bool {
	o := obsindex.Observation{Type: k.Type, Value: k.Value, Field: k.Field}
	return len(h.firstHits(p, &o, &obsindex.Record{SrcPort: k.SrcPort, DstPort: k.DstPort})) > 0
}

// firstHits are the indicators matching o's value in its field, with no
// time and the ports of first; nil, without allocating, for none.
func (h *Hunter) firstHits(p *obsindex.Prober, o *obsindex.Observation, first *obsindex.Record) map[string]bool {
	ev, ok := p.Event(o, first)
	if !ok {
		return nil
	}
	var hit map[string]bool
	field := o.Field // the closure escapes: o must not, it is the caller's
	h.Snap.Match(ev, func(s *match.Sighting) {
		if s.Field == field {
			if hit == nil {
				hit = map[string]bool{}
			}
			hit[s.IndicatorID] = true
		}
	})
	return hit
}
