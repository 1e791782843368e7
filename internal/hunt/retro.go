package hunt

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/patternmatch"
	"github.com/whodunit-project/whodunit/internal/retro"
	"github.com/whodunit-project/whodunit/internal/store"
)

// RetroTarget is what a retro-hunt needs of a store: the indicators (all,
// or those added since a time), the observable index, and somewhere to
// put the sightings.
type RetroTarget interface {
	MatchSource
	store.ObjectPager
	ObservationKeys(ctx context.Context, q store.ObservationQuery, fn func(obsindex.KeyPorts) error) error
	LookupObservations(ctx context.Context, keys []store.ObservationKey, fn func(*obsindex.Observation) error) error
	ObservationTypes(ctx context.Context) ([]intel.ValueType, error)
	PutSightings(ctx context.Context, s []match.Sighting) (int, error)
}

// RetroOptions say which indicators to hunt for.
type RetroOptions struct {
	// Since hunts only for the indicators the store added after it (an
	// import's new ones); zero hunts for every current indicator.
	Since   time.Time
	Workers int // probing goroutines; 0: one per CPU
	// SnapshotCache is the compiled snapshot cache (ScanOptions'), used
	// when every current indicator is hunted for: the snapshot is then
	// the one a scan loads, so a retro-hunt loads it too, or compiles it
	// and leaves it for the next scan.
	SnapshotCache string
	Log           *slog.Logger
}

// RetroHit is one indicator the index had seen, before it was known.
type RetroHit struct {
	IndicatorID string    `json:"indicator_id"`
	Type        string    `json:"type"`
	Indicator   string    `json:"indicator"` // its value, or pattern excerpt
	Values      []string  `json:"values"`    // values seen, up to maxHitValues
	First       time.Time `json:"first_seen"`
	Last        time.Time `json:"last_seen"`
	Sightings   int       `json:"sightings"`
	Suppressed  bool      `json:"suppressed"` // every sighting of it is on a warninglist
}

// RetroResult is what a retro-hunt found.
type RetroResult struct {
	Indicators   int        `json:"indicators"`          // hunted for (those that can match)
	Probed       int64      `json:"observations_probed"` // index entries matched against them
	Sightings    int        `json:"sightings"`
	NewSightings int        `json:"new_sightings"` // not stored before
	Uncited      int        `json:"uncited"`       // matched values with no cited record in the validity window
	Hits         []RetroHit `json:"hits"`          // by first seen
}

const maxHitValues = 3

// Retro matches indicators against the observable index and stores what
// it finds as retrospective sightings with their original times and
// records. The logs are not read.
func Retro(ctx context.Context, db RetroTarget, opt RetroOptions) (*RetroResult, error) {
	types, err := db.ObservationTypes(ctx)
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		// nothing was indexed: spare compiling (a large import's) indicators
		return &RetroResult{Hits: []RetroHit{}}, nil
	}
	snap, err := retroSnapshot(ctx, db, opt)
	if err != nil {
		return nil, err
	}
	n := snap.Len()
	res := &RetroResult{Indicators: n, Hits: []RetroHit{}}
	if n == 0 {
		return res, nil
	}
	run, err := retro.RunKeys(ctx, &retro.Hunter{Snap: snap}, opt.Workers, keyParts(ctx, db, types), func(keys []obsindex.Key, fn func(*obsindex.Observation) error) error {
		pairs := make([]store.ObservationKey, len(keys))
		for i, k := range keys {
			pairs[i] = store.ObservationKey{Type: k.Type, Value: k.Value}
		}
		return db.LookupObservations(ctx, pairs, fn)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the observable index: %w", err)
	}
	found := run.Sightings
	res.Probed, res.Uncited = run.Probed, run.Uncited
	res.Sightings = len(found)
	for start := 0; start < len(found); start += sightingBatch {
		k, err := db.PutSightings(ctx, found[start:min(start+sightingBatch, len(found))])
		if err != nil {
			return nil, fmt.Errorf("storing retrospective sightings: %w", err)
		}
		res.NewSightings += k
	}
	res.Hits = retroHits(found)
	logger(opt.Log).Debug("retro-hunt", "indicators", n, "probed", res.Probed, "sightings", res.Sightings)
	return res, nil
}

// keyParts reads the index's keys one value type a part, so that the
// parts are read side by side.
func keyParts(ctx context.Context, db RetroTarget, types []intel.ValueType) []func(func(obsindex.KeyPorts) error) error {
	parts := make([]func(func(obsindex.KeyPorts) error) error, len(types))
	for i, t := range types {
		parts[i] = func(fn func(obsindex.KeyPorts) error) error {
			return db.ObservationKeys(ctx, store.ObservationQuery{Types: []intel.ValueType{t}}, fn)
		}
	}
	return parts
}

// retroSnapshot compiles the indicators to hunt for: every current one,
// through the snapshot cache, when Since is zero or every stored
// indicator is newer than it; else those added since.
func retroSnapshot(ctx context.Context, db RetroTarget, opt RetroOptions) (*match.Snapshot, error) {
	all := opt.Since.IsZero()
	if !all {
		var err error
		if all, err = allAddedSince(ctx, db, opt.Since); err != nil {
			return nil, err
		}
	}
	if all {
		return BuildSnapshotCached(ctx, db, opt.SnapshotCache, opt.Log)
	}
	lists, err := db.Warninglists(ctx)
	if err != nil {
		return nil, err
	}
	b := match.NewBuilder(match.Options{Patterns: patternmatch.Compiler{}, Warninglists: lists})
	err = addedSince(ctx, db, opt.Since, func(o *intel.Object) error {
		if o.Type == intel.TypeIndicator && o.Indicator != nil {
			b.Add(o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.Build()
}

// allAddedSince reports whether every current indicator was added after
// since (an import into a store that held none): they then come faster
// from MatchIndicators, which reads the matcher's narrow rows, than
// paged as whole objects.
func allAddedSince(ctx context.Context, db store.ObjectPager, since time.Time) (bool, error) {
	page, err := db.ObjectsPage(ctx, store.PageQuery{Types: []string{intel.TypeIndicator}}, "", 1)
	if err != nil || len(page.Items) == 0 {
		return false, err
	}
	return page.Items[0].Added.After(since), nil // pages run by added time
}

// addedSince pages the indicators added after since.
func addedSince(ctx context.Context, db store.ObjectPager, since time.Time, fn func(*intel.Object) error) error {
	q := store.PageQuery{Types: []string{intel.TypeIndicator}, AddedAfter: since}
	var after store.Cursor
	for {
		page, err := db.ObjectsPage(ctx, q, after, 10000)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := fn(it.Object); err != nil {
				return err
			}
		}
		if !page.More {
			return nil
		}
		after = page.Next
	}
}

// retroHits sums the sightings per indicator.
func retroHits(found []match.Sighting) []RetroHit {
	byID := map[string]*RetroHit{}
	for i := range found {
		sg := &found[i]
		h := byID[sg.IndicatorID]
		if h == nil {
			h = &RetroHit{IndicatorID: sg.IndicatorID, Type: string(sg.Type), Indicator: sg.Indicator, First: sg.Time, Last: sg.Time, Suppressed: true}
			byID[sg.IndicatorID] = h
		}
		h.Sightings++
		h.Suppressed = h.Suppressed && sg.Suppressed
		if sg.Time.Before(h.First) {
			h.First = sg.Time
		}
		if sg.Time.After(h.Last) {
			h.Last = sg.Time
		}
		if !slices.Contains(h.Values, sg.Value) && len(h.Values) < maxHitValues {
			h.Values = append(h.Values, sg.Value)
		}
	}
	hits := make([]RetroHit, 0, len(byID))
	for _, h := range byID {
		slices.Sort(h.Values)
		hits = append(hits, *h)
	}
	slices.SortFunc(hits, func(a, b RetroHit) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.IndicatorID, b.IndicatorID))
	})
	return hits
}
