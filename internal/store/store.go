// Package store defines the Store interface that keeps intelligence,
// sightings and detections. Implementations live in sub-packages
// (store/sqlite is the embedded default) and all pass the contract suite in
// store/storetest, so callers never depend on one of them.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/actorjoin"
	"github.com/whodunit-project/whodunit/internal/match"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("not found")

// Store keeps everything whodunit knows and finds: every role below.
// Callers take the smallest role they use, so that another store (or a
// server in front of one) can serve just that role.
type Store interface {
	Importer
	IntelReader
	MatchSource
	ActorLinker
	FindingWriter
	FindingReader
	SourceKeeper
	ObjectDeleter
	ObservationStore
	Close() error
}

// Importer is the write path for intelligence: one transaction per file.
type Importer interface {
	// Import runs fn inside one transaction recorded under src. When fn
	// returns an error nothing it wrote is kept. When a source with the
	// same name and digest was imported before, fn is not called and
	// Already is set.
	Import(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (ImportResult, error)
}

// IntelReader reads the intelligence: objects, their history, names,
// relationships and sources.
type IntelReader interface {
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
	// Relationships returns relationships whose source or target is id.
	Relationships(ctx context.Context, id string) ([]*intel.Object, error)
	// ObjectSources lists the sources that asserted id.
	ObjectSources(ctx context.Context, id string) ([]intel.Source, error)
	// Names lists every name, alias and external id of id with its source.
	Names(ctx context.Context, id string) ([]NameRecord, error)
	Sources(ctx context.Context) ([]intel.Source, error)
	IntelStats(ctx context.Context) (IntelStats, error)
	Warninglists(ctx context.Context) ([]*intel.Warninglist, error)
}

// MatchSource is what building the matcher needs.
type MatchSource interface {
	// MatchIndicators streams every current indicator with only what the
	// matcher needs (id, modified, revoked, validity, flags, pattern,
	// warninglists, observables): fast enough for millions. The pattern
	// may be left out of an indicator whose observables say it all.
	MatchIndicators(ctx context.Context, fn func(*intel.Object) error) error
	// Count is the number of current objects of a type.
	Count(ctx context.Context, objType string) (int, error)
	Warninglists(ctx context.Context) ([]*intel.Warninglist, error)
}

// ActorLinker keeps the joins between actor records.
type ActorLinker interface {
	// ActorLinks lists the joins between actor records, undone ones too.
	ActorLinks(ctx context.Context) ([]ActorLink, error)
	// LinkActors joins two actors by hand (rule "manual").
	LinkActors(ctx context.Context, a, b, detail string) error
	// UnlinkActors undoes every join between a and b; it stays undone
	// across later imports.
	UnlinkActors(ctx context.Context, a, b string) (int, error)
}

// ActorReader is what resolving an actor and building its profile read.
type ActorReader interface {
	IntelReader
	ActorLinks(ctx context.Context) ([]ActorLink, error)
}

// FindingWriter stores what scans and analyses find.
type FindingWriter interface {
	// PutSightings stores sightings; ones already stored (same
	// match.Sighting.Key: indicator, record and field) are ignored. It
	// returns how many were new. Safe for concurrent use. Every sighting
	// a call stores gets one added time, strictly later than that of
	// every sighting stored before, so that paging by added time (see
	// SightingsPage) never misses one stored meanwhile.
	PutSightings(ctx context.Context, s []match.Sighting) (int, error)
	// PutDetections stores detections, replacing earlier versions of the same ID.
	PutDetections(ctx context.Context, d []behavior.Detection) error
	// PutAnalysis stores one analysis run and returns it as stored: with
	// its Seq, its ID (the caller's, or the decimal Seq when empty) and
	// its Created time (the caller's, or now). Document and every
	// campaign's Data must be JSON; they are kept byte for byte. Campaign
	// ids must be unique within the run, ignoring case.
	PutAnalysis(ctx context.Context, a Analysis) (Analysis, error)
	// PutScan stores the summary of one scan and returns it as stored,
	// with its Seq and At (the caller's, or now).
	PutScan(ctx context.Context, r ScanRecord) (ScanRecord, error)
}

// FindingReader reads what FindingWriter stored.
type FindingReader interface {
	// Sightings streams the sightings matching q in record-time order
	// (time, then key).
	Sightings(ctx context.Context, q SightingQuery, fn func(*match.Sighting) error) error
	// SightingsPage returns up to limit (DefaultPageLimit when <= 0)
	// sightings matching q that were added after the position after
	// ("" = from the start), in the order they were added (added time,
	// then key). q.Limit is ignored. A cursor that this store did not
	// write is an error wrapping ErrBadCursor.
	SightingsPage(ctx context.Context, q SightingQuery, after Cursor, limit int) (SightingPage, error)
	Detections(ctx context.Context, fn func(*behavior.Detection) error) error
	// DetectionsPage answers one page of a triage list: the detections
	// matching q's filters in q's order, and how many match in all.
	DetectionsPage(ctx context.Context, q DetectionQuery) (DetectionPage, error)
	// Analyses lists the stored analysis runs, newest first.
	Analyses(ctx context.Context) ([]AnalysisInfo, error)
	// Analysis returns run id with its campaigns in the order they were
	// put; id "" or "latest" is the newest run. ErrNotFound when there is
	// no such run.
	Analysis(ctx context.Context, id string) (*Analysis, error)
	// CampaignVersions returns the campaign of every run that has it
	// (ids compare ignoring case), oldest run first; ErrNotFound when no
	// run has it.
	CampaignVersions(ctx context.Context, campaignID string) ([]CampaignVersion, error)
	// Scans lists the stored scan summaries, oldest first.
	Scans(ctx context.Context) ([]ScanRecord, error)
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
type ActorLink = actorjoin.Link

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

// SightingQuery filters Sightings and SightingsPage; zero fields do not
// filter.
type SightingQuery struct {
	IndicatorID string
	Value       string    // the value seen, exactly
	Host        string    // the record's source or destination address, as netip.Addr.String writes it
	Since       time.Time // record time at or after
	Until       time.Time // record time before
	AddedAfter  time.Time // stored strictly after
	Limit       int       // at most this many (Sightings only)
}

// NormName folds a name for alias comparison: lower case, letters and
// digits only ("Comment Crew" and "comment-crew" are the same name).
func NormName(s string) string { return actorjoin.NormName(s) }
