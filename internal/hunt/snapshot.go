package hunt

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/patternmatch"
)

// MatchSource is what building the matcher needs of a store.
type MatchSource interface {
	WarninglistSource
	Count(ctx context.Context, objType string) (int, error)
	MatchIndicators(ctx context.Context, fn func(*intel.Object) error) error
}

// BuildSnapshot compiles every indicator of db into a matcher snapshot
// whose sightings on the store's warninglists are suppressed. The matcher
// compiles the lists itself, so that its version covers their content;
// snap.Warninglists() is the compiled set, for the behaviour analytics.
// STIX patterns the lookup tables cannot hold go to the streaming
// evaluator.
func BuildSnapshot(ctx context.Context, db MatchSource, log *slog.Logger) (*match.Snapshot, error) {
	lists, err := db.Warninglists(ctx)
	if err != nil {
		return nil, err
	}
	opt := match.Options{Patterns: patternmatch.Compiler{}, Warninglists: lists}
	b := match.NewBuilder(opt)
	if n, err := db.Count(ctx, intel.TypeIndicator); err == nil {
		b.Grow(n) // size the tables once
	}
	if err := addAll(ctx, db, b); err != nil {
		return nil, err
	}
	snap, err := b.Build()
	if err != nil {
		return nil, err
	}
	if skips := snap.WarninglistSkips(); len(skips) > 0 {
		logger(log).Debug("warninglist entries skipped", "count", len(skips), "first", skips[0].Error())
	}
	if snap.Len() >= 100_000 {
		// Compiling a large snapshot leaves hundreds of MB of garbage:
		// collect it once now (and give it back) rather than have the
		// collector mark it beside the scan workers.
		debug.FreeOSMemory()
	}
	return snap, nil
}

// readAhead is how many batches of indicators the store may read ahead of
// the builder, and indicatorBatch how many a batch holds.
const (
	readAhead      = 4
	indicatorBatch = 4096
)

// addAll adds every indicator db streams to b. The store reads on a
// goroutine of its own while b compiles what came before: reading a
// million rows and compiling them take about as long, and each one core.
func addAll(ctx context.Context, db MatchSource, b *match.Builder) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []*intel.Object, readAhead)
	read := make(chan error, 1)
	go func() {
		defer close(batches)
		batch := make([]*intel.Object, 0, indicatorBatch)
		read <- db.MatchIndicators(ctx, func(o *intel.Object) error {
			if batch = append(batch, o); len(batch) < indicatorBatch {
				return nil
			}
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]*intel.Object, 0, indicatorBatch)
			return nil
		})
		if len(batch) > 0 {
			batches <- batch // buffered or read below: the builder drains all
		}
	}()
	for batch := range batches {
		for _, o := range batch {
			b.Add(o)
		}
	}
	return <-read
}
