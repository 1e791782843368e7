package hunt

import (
	"context"
	"slices"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// PartnerSighting sums what one source reported seeing of an indicator:
// the STIX sightings it sent (a partner pushing its findings back, or a
// feed's own sightings).
type PartnerSighting struct {
	Source      string    `json:"source"`
	Sightings   int       `json:"sightings"` // sighting objects
	Count       int       `json:"count"`     // the times they say it was seen
	FirstSeen   time.Time `json:"first_seen,omitzero"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
	LastChanged time.Time `json:"last_changed,omitzero"`
}

// SightedSource is what PartnerSightings reads.
type SightedSource interface {
	Sources(ctx context.Context) ([]intel.Source, error)
	Objects(ctx context.Context, q store.ObjectQuery, fn func(*intel.Object) error) error
}

// PartnerSightings returns, for each of the indicator ids, who reported
// sighting it and how often, by source name. It reads every stored
// sighting object once per source name.
func PartnerSightings(ctx context.Context, db SightedSource, ids []string) (map[string][]PartnerSighting, error) {
	srcs, err := db.Sources(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range srcs {
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	out := map[string][]PartnerSighting{}
	for _, name := range names {
		sums := map[string]*PartnerSighting{}
		err := db.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeSighting}, Source: name}, func(o *intel.Object) error {
			if o.Sighting != nil && slices.Contains(ids, o.Sighting.SightingOfRef) {
				addPartnerSighting(sums, name, o)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if p := sums[id]; p != nil {
				out[id] = append(out[id], *p)
			}
		}
	}
	return out, nil
}

func addPartnerSighting(sums map[string]*PartnerSighting, source string, o *intel.Object) {
	s := o.Sighting
	p := sums[s.SightingOfRef]
	if p == nil {
		p = &PartnerSighting{Source: source}
		sums[s.SightingOfRef] = p
	}
	p.Sightings++
	p.Count += max(s.Count, 1)
	if !s.FirstSeen.IsZero() && (p.FirstSeen.IsZero() || s.FirstSeen.Before(p.FirstSeen)) {
		p.FirstSeen = s.FirstSeen
	}
	if s.LastSeen.After(p.LastSeen) {
		p.LastSeen = s.LastSeen
	}
	if o.Modified.After(p.LastChanged) {
		p.LastChanged = o.Modified
	}
}
