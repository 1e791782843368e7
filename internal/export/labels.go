package export

import (
	"context"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// loadLabels reads the markings, the actors with the names of the actors
// they are joined into, the "indicates" relationships from indicators to
// actors, and which source asserted which indicator. The store streams
// one query at a time, so all of it is read before the indicators are.
func loadLabels(ctx context.Context, db store.ActorReader) (*labels, error) {
	lb := &labels{marks: tlp.Definitions{}, ix: newLabelIndex()}
	err := db.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeMarkingDef}}, func(o *intel.Object) error {
		lb.marks.Add(o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	actorNum, err := lb.loadActors(ctx, db)
	if err != nil {
		return nil, err
	}
	err = db.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeRelationship}}, func(o *intel.Object) error {
		r := o.Relationship
		if r == nil || r.Type != "indicates" || o.Revoked {
			return nil
		}
		if n, ok := actorNum[r.TargetRef]; ok {
			lb.ix.add(r.SourceRef, 'a', n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lb, lb.loadSources(ctx, db)
}

// loadActors numbers every actor record and names it after the record
// that represents its cluster of joined records.
func (lb *labels) loadActors(ctx context.Context, db store.ActorReader) (map[string]int32, error) {
	records := map[string]*intel.Object{}
	var order []*intel.Object
	err := db.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeIntrusionSet, intel.TypeThreatActor}}, func(o *intel.Object) error {
		records[o.ID] = o
		order = append(order, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	links, err := db.ActorLinks(ctx)
	if err != nil {
		return nil, err
	}
	canon := store.Canonical(records, links)
	num := make(map[string]int32, len(order))
	for _, o := range order {
		name := o.Name
		if c, ok := records[canon[o.ID]]; ok {
			name = c.Name
		}
		num[o.ID] = int32(len(lb.actors))
		lb.actors = append(lb.actors, Actor{ID: o.ID, Type: o.Type, Name: name, Created: o.Created, Modified: o.Modified})
	}
	return num, nil
}

// loadSources records the sources of every indicator, one query per
// source name.
func (lb *labels) loadSources(ctx context.Context, db store.ActorReader) error {
	srcs, err := db.Sources(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, s := range srcs {
		if seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		n := int32(len(lb.sources))
		lb.sources = append(lb.sources, s.Name)
		err := db.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeIndicator}, Source: s.Name}, func(o *intel.Object) error {
			lb.ix.add(o.ID, 's', n)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ActorNames lists the distinct names of the actors ind points to.
func (ind *Indicator) ActorNames() []string {
	var out []string
	for _, a := range ind.Actors {
		if len(out) == 0 || out[len(out)-1] != a.Name {
			out = append(out, a.Name)
		}
	}
	return out
}
