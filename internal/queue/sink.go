package queue

import (
	"context"
	"fmt"
	"sync"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
)

// sightingSink stores the coordinator's sightings on a goroutine of its
// own, batch after batch in arrival order, and then hands each stored
// batch to be shared. The consumer goes on applying results meanwhile: a
// store call used to hold it, and with it the job slots its results free,
// so the workers ran dry while sightings were written.
type sightingSink struct {
	in     chan []match.Sighting
	done   chan struct{}
	closed sync.Once
	added  int   // read after done
	err    error // the first store error; later batches are not stored
}

// startSightingSink stores batches into db until close; stored batches go
// to shared, and the first error to fail as well.
func startSightingSink(ctx context.Context, db hunt.FindingWriter, shared chan<- []match.Sighting, fail func(error)) *sightingSink {
	s := &sightingSink{in: make(chan []match.Sighting, 4), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for batch := range s.in {
			if s.err != nil {
				continue
			}
			n, err := db.PutSightings(ctx, batch)
			if err != nil {
				s.err = fmt.Errorf("storing sightings: %w", err)
				fail(s.err)
				continue
			}
			s.added += n
			shared <- batch // published beside the scan, not in its way
		}
	}()
	return s
}

// close waits for every batch sent to be stored and reports how many
// sightings were new, or the first error. Calls after the first only
// wait.
func (s *sightingSink) close() (int, error) {
	s.closed.Do(func() { close(s.in) })
	<-s.done
	return s.added, s.err
}
