package storecopy

import (
	"context"

	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

// observationBatch is how many observations go in one PutObservations.
const observationBatch = 5000

// copyObservations copies the observable index in key order. The target
// is empty, so its merge only inserts: every observation arrives as it
// was, its records naming their sources and files by the target's ids.
func copyObservations(ctx context.Context, from, to store.Store, c *Counts, progress Progress) error {
	st, err := from.ObservationStats(ctx)
	if err != nil {
		return err
	}
	var pending []obsindex.Observation
	flush := func() error {
		if err := to.PutObservations(ctx, pending); err != nil {
			return err
		}
		c.Observations += len(pending)
		progress("observable index", c.Observations, int(st.Values))
		pending = pending[:0]
		return nil
	}
	err = from.Observations(ctx, store.ObservationQuery{}, func(o *obsindex.Observation) error {
		pending = append(pending, *o)
		if len(pending) < observationBatch {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	return flush()
}
