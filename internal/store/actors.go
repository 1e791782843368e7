package store

import (
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/actorjoin"
)

// The join rules themselves live in package actorjoin; these wrappers keep
// the callers that reach them through store compiling.

// Cluster returns every actor id joined (transitively, through links not
// undone) with any of seeds, seeds included, sorted. See actorjoin.Cluster.
func Cluster(seeds []string, links []ActorLink) []string { return actorjoin.Cluster(seeds, links) }

// Canonical maps every actor id to the id that represents its cluster.
// See actorjoin.Canonical.
func Canonical(actors map[string]*intel.Object, links []ActorLink) map[string]string {
	return actorjoin.Canonical(actors, links)
}
