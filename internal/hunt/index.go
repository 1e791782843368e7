package hunt

import (
	"context"
	"log/slog"
	"sync"

	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/scan"
)

// ObservationWriter is what keeping the observable index needs of a store.
type ObservationWriter interface {
	PutObservations(ctx context.Context, list []obsindex.Observation) error
}

// IndexWriter is where a scan of db keeps the observable index: db
// itself, or nil with noIndex or when db keeps none (which is logged:
// retro-hunts will not see the scan).
func IndexWriter(db any, noIndex bool, log *slog.Logger) ObservationWriter {
	if noIndex {
		return nil
	}
	ow, ok := db.(ObservationWriter)
	if !ok {
		logger(log).Warn("this store keeps no observable index: retro-hunts will not see this scan")
	}
	return ow
}

// observationBatch is how many observations one store call merges.
const observationBatch = 20000

// indexer gives every scan worker a collector of its own (no lock on the
// hot path) and merges them into the store at the end; a collector that
// fills up spills into the store meanwhile. The store's merge is
// order-independent, so the index is the same whatever the worker count.
type indexer struct {
	ctx  context.Context
	db   ObservationWriter
	mu   sync.Mutex
	cols []*obsindex.Collector
}

func (x *indexer) newObserver() scan.Observer {
	c := obsindex.NewCollector()
	c.Spill = x.put
	x.mu.Lock()
	x.cols = append(x.cols, c)
	x.mu.Unlock()
	return c
}

func (x *indexer) put(list []obsindex.Observation) error {
	for start := 0; start < len(list); start += observationBatch {
		if err := x.db.PutObservations(x.ctx, list[start:min(start+observationBatch, len(list))]); err != nil {
			return err
		}
	}
	return nil
}

// finish merges what the collectors hold into the store and returns how
// many distinct values the scan saw (after its last spill).
func (x *indexer) finish() (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	lists := make([][]obsindex.Observation, 0, len(x.cols))
	for _, c := range x.cols {
		if err := c.Err(); err != nil {
			return 0, err
		}
		lists = append(lists, c.Flush())
	}
	all := obsindex.MergeSorted(lists...)
	return len(all), x.put(all)
}
