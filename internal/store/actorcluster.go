package store

import (
	"context"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// actorLookup is what resolving an actor name needs of a store.
type actorLookup interface {
	Object(ctx context.Context, id string) (*intel.Object, error)
	FindByName(ctx context.Context, name string, types ...string) ([]*intel.Object, error)
	ActorLinks(ctx context.Context) ([]ActorLink, error)
}

// ActorCluster resolves a name or id to the ids of every actor record
// joined with it (nil when none matches). Stores use it for the Actor
// filter of ObjectQuery, so that every store reads the filter alike.
func ActorCluster(ctx context.Context, s actorLookup, nameOrID string) ([]string, error) {
	var seeds []string
	if o, err := s.Object(ctx, nameOrID); err == nil && intel.IsActorType(o.Type) {
		seeds = append(seeds, o.ID)
	} else {
		objs, err := s.FindByName(ctx, nameOrID, intel.TypeIntrusionSet, intel.TypeThreatActor)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			seeds = append(seeds, o.ID)
		}
	}
	if len(seeds) == 0 {
		return nil, nil
	}
	links, err := s.ActorLinks(ctx)
	if err != nil {
		return nil, err
	}
	return Cluster(seeds, links), nil
}

// actorLister is what naming the canonical actor of a record needs.
type actorLister interface {
	Objects(ctx context.Context, q ObjectQuery, fn func(*intel.Object) error) error
	ActorLinks(ctx context.Context) ([]ActorLink, error)
}

// CanonicalActorNames returns a function naming the actor group a record
// id belongs to (the canonical record's name), ok false for an id that
// is no actor. IntelStats' indicators-by-actor counts use it in every
// store.
func CanonicalActorNames(ctx context.Context, s actorLister) (func(id string) (string, bool), error) {
	links, err := s.ActorLinks(ctx)
	if err != nil {
		return nil, err
	}
	actors := map[string]*intel.Object{}
	if err := s.Objects(ctx, ObjectQuery{Types: []string{intel.TypeIntrusionSet, intel.TypeThreatActor}}, func(o *intel.Object) error {
		actors[o.ID] = o
		return nil
	}); err != nil {
		return nil, err
	}
	canon := Canonical(actors, links)
	return func(id string) (string, bool) {
		c, ok := canon[id]
		if !ok {
			return "", false
		}
		return actors[c].Name, true
	}, nil
}
