// Package store defines the Store interface that keeps intelligence,
// sightings and detections. Implementations live in sub-packages
// (store/sqlite is the embedded default) and all pass the contract suite in
// store/storetest, so callers never depend on one of them.
package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("not found")

// Store keeps everything whodunit knows and finds.
type Store interface {
	// Import runs fn inside one transaction recorded under src. When fn
	// returns an error nothing it wrote is kept. When a source with the
	// same name and digest was imported before, fn is not called and
	// Already is set.
	Import(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (ImportResult, error)

	Object(ctx context.Context, id string) (*intel.Object, error)
	// Versions returns every stored version of id, oldest first.
	Versions(ctx context.Context, id string) ([]*intel.Object, error)
	// FindByName finds objects whose name, alias or external id equals
	// name (case- and punctuation-insensitive), optionally of given types.
	FindByName(ctx context.Context, name string, types ...string) ([]*intel.Object, error)
	// Objects streams the current version of objects matching q.
	Objects(ctx context.Context, q ObjectQuery, fn func(*intel.Object) error) error
	// Count is the number of current objects of a type.
	Count(ctx context.Context, objType string) (int, error)
	// MatchIndicators streams every current indicator with only what the
	// matcher needs (id, modified, revoked, validity, flags, pattern,
	// warninglists, observables): fast enough for millions. The pattern
	// may be left out of an indicator whose observables say it all.
	MatchIndicators(ctx context.Context, fn func(*intel.Object) error) error
	// Relationships returns relationships whose source or target is id.
	Relationships(ctx context.Context, id string) ([]*intel.Object, error)
	// ObjectSources lists the sources that asserted id.
	ObjectSources(ctx context.Context, id string) ([]intel.Source, error)
	// Names lists every name, alias and external id of id with its source.
	Names(ctx context.Context, id string) ([]NameRecord, error)
	Sources(ctx context.Context) ([]intel.Source, error)
	IntelStats(ctx context.Context) (IntelStats, error)
	Warninglists(ctx context.Context) ([]*intel.Warninglist, error)

	// ActorLinks lists the joins between actor records, undone ones too.
	ActorLinks(ctx context.Context) ([]ActorLink, error)
	// LinkActors joins two actors by hand (rule "manual").
	LinkActors(ctx context.Context, a, b, detail string) error
	// UnlinkActors undoes every join between a and b; it stays undone
	// across later imports.
	UnlinkActors(ctx context.Context, a, b string) (int, error)

	// PutSightings stores sightings; ones already stored (same
	// match.Sighting.Key: indicator, record and field) are ignored. It returns how many were new.
	PutSightings(ctx context.Context, s []match.Sighting) (int, error)
	Sightings(ctx context.Context, q SightingQuery, fn func(*match.Sighting) error) error
	// PutDetections stores detections, replacing earlier versions of the same ID.
	PutDetections(ctx context.Context, d []behavior.Detection) error
	Detections(ctx context.Context, fn func(*behavior.Detection) error) error

	Close() error
}

// ImportResult reports what an import changed.
type ImportResult struct {
	Source  intel.Source
	Already bool // the same content was imported before; nothing changed
	New     int  // objects or versions not stored before
}

// ObjectQuery filters Objects.
type ObjectQuery struct {
	Types  []string
	Source string // source name
	Actor  string // only indicators that indicate this actor (any alias)
	// ValueType restricts indicators to those with an observable of this type.
	ValueType intel.ValueType
	Limit     int
}

// NameRecord is one name of an object and the source that gave it.
type NameRecord struct {
	Name   string
	Kind   string // "name", "alias" or "external-id"
	Source string
}

// ActorLink is one join between two actor records.
type ActorLink struct {
	ID      int64
	A, B    string // object ids
	Rule    string // "external-id", "name", "manual"
	Detail  string // what matched, e.g. `alias "APT1" of A is the name of B`
	Created time.Time
	Undone  bool
}

// IntelStats counts what the store holds.
type IntelStats struct {
	Objects        map[string]int `json:"objects"`         // by object type (current versions)
	IndicatorTypes map[string]int `json:"indicator_types"` // by observable type; "pattern" for evaluator-only
	BySource       map[string]int `json:"by_source"`
	ByActor        map[string]int `json:"by_actor"` // indicators per actor (resolved names)
	ByMarking      map[string]int `json:"by_marking"`
	Network        int            `json:"network_evaluable"`
	HostOnly       int            `json:"host_only"`
	Context        int            `json:"context_only"`
	Revoked        int            `json:"revoked"`
	Warninglisted  int            `json:"warninglisted"`
	Warninglists   int            `json:"warninglists"`
	Versions       int            `json:"superseded_versions"`
	Sources        int            `json:"sources"`
}

// SightingQuery filters Sightings.
type SightingQuery struct {
	IndicatorID string
	Since       time.Time
	Limit       int
}

// NormName folds a name for alias comparison: lower case, letters and
// digits only ("Comment Crew" and "comment-crew" are the same name).
func NormName(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r+32))
		case r >= 0x80:
			b = append(b, string(r)...)
		}
	}
	return string(b)
}
