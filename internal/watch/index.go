package watch

import (
	"context"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/obsindex"
)

// observationWriter is the store role the observable index is kept in
// (hunt.ObservationWriter).
type observationWriter interface {
	PutObservations(ctx context.Context, list []obsindex.Observation) error
}

// watchIndex keeps the observable index of what the watcher reads, as a
// scan does, so that intelligence imported later is retro-hunted against
// it. What a cycle observed is merged into the store before the
// checkpoint that covers it; a kill between the two observes those
// records again, which adds to their counts (first and last seen, hosts
// and cited records are unchanged by it).
type watchIndex struct {
	db  observationWriter
	col *obsindex.Collector
}

// newWatchIndex is nil when opt.NoIndex or when the store keeps no index.
func newWatchIndex(ctx context.Context, db Store, opt Options) *watchIndex {
	ow, ok := db.(observationWriter)
	if !ok || opt.NoIndex {
		if !opt.NoIndex && opt.Log != nil {
			opt.Log.Warn("this store keeps no observable index: retro-hunts will not see what the watcher reads")
		}
		return nil
	}
	x := &watchIndex{db: ow, col: obsindex.NewCollector()}
	x.col.Spill = func(list []obsindex.Observation) error { return ow.PutObservations(ctx, list) }
	return x
}

// store merges what was observed since the last call into the store.
func (x *watchIndex) store(ctx context.Context) error {
	if x == nil {
		return nil
	}
	if err := x.col.Err(); err != nil {
		return fmt.Errorf("observable index: %w", err)
	}
	list := x.col.Flush()
	if len(list) == 0 {
		return nil
	}
	if err := x.db.PutObservations(ctx, list); err != nil {
		return fmt.Errorf("storing the observable index: %w", err)
	}
	return nil
}
