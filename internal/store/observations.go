package store

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
)

// ObservationStore keeps the observable index (see obsindex): every
// distinct value scans and the watcher saw, for retro-hunts.
type ObservationStore interface {
	// PutObservations merges list into the index: an observation with
	// the key of a stored one adds its count, widens its first and last
	// seen and merges its hosts and records as obsindex.Observation.Merge
	// does, so the index does not depend on the order of the calls. One
	// transaction: on error nothing of list is kept.
	PutObservations(ctx context.Context, list []obsindex.Observation) error
	// Observations streams the observations matching q in key order
	// (type, value, field).
	Observations(ctx context.Context, q ObservationQuery, fn func(*obsindex.Observation) error) error
	// LookupObservations streams the observations of the given (type,
	// value) pairs, every field, in key order; pairs not stored are
	// skipped.
	LookupObservations(ctx context.Context, keys []ObservationKey, fn func(*obsindex.Observation) error) error
	// ObservationKeys streams the key of every observation matching q
	// with, for an address, the ports of its first cited record
	// (obsindex.KeyPorts; ports bind only address indicators), in no set
	// order, reading nothing else: the fast first pass of a retro-hunt.
	ObservationKeys(ctx context.Context, q ObservationQuery, fn func(obsindex.KeyPorts) error) error
	// ObservationTypes lists the value types the index holds, in order,
	// without reading the index through (a retro-hunt reads one type per
	// goroutine).
	ObservationTypes(ctx context.Context) ([]intel.ValueType, error)
	ObservationStats(ctx context.Context) (ObservationStats, error)
}

// ObservationKey is a value to look up in the index.
type ObservationKey struct {
	Type  intel.ValueType
	Value string
}

// ObservationQuery filters Observations; zero fields do not filter.
type ObservationQuery struct {
	Types     []intel.ValueType
	SeenSince time.Time // last seen at or after
}

// ObservationStats sums the index.
type ObservationStats struct {
	Values  int64                     `json:"values"`  // distinct (type, value, field)
	Records int64                     `json:"records"` // sum of counts: how many times they were seen
	ByType  map[intel.ValueType]int64 `json:"by_type"`
	First   time.Time                 `json:"first"`
	Last    time.Time                 `json:"last"`
}

// Add counts one group of stats (a store's per-type sums).
func (st *ObservationStats) Add(t intel.ValueType, values, records int64, first, last time.Time) {
	if st.ByType == nil {
		st.ByType = map[intel.ValueType]int64{}
	}
	st.Values += values
	st.Records += records
	st.ByType[t] += values
	if !first.IsZero() && (st.First.IsZero() || first.Before(st.First)) {
		st.First = first
	}
	if last.After(st.Last) {
		st.Last = last
	}
}

// SortObservationKeys sorts keys and drops repeats, in place.
func SortObservationKeys(keys []ObservationKey) []ObservationKey {
	slices.SortFunc(keys, func(a, b ObservationKey) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value))
	})
	return slices.Compact(keys)
}
