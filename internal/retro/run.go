package retro

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
)

// Result is what Run found.
type Result struct {
	Sightings []match.Sighting // ordered by time, then key: the same whatever the workers
	Probed    int64
	Uncited   int
}

// runBatch is how many observations a worker takes at a time.
const runBatch = 512

// Run probes every observation stream yields on workers goroutines (0:
// one per CPU). stream calls its function once per observation, from one
// goroutine; the observation must not change after the call.
func Run(ctx context.Context, h *Hunter, workers int, stream func(func(*obsindex.Observation) error) error) (Result, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batches := make(chan []*obsindex.Observation, workers)
	var res Result
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p obsindex.Prober
			for b := range batches {
				var found []match.Sighting
				uncited := 0
				for _, o := range b {
					out := h.ProbeWith(&p, o)
					found = append(found, out.Sightings...)
					uncited += out.Uncited
				}
				mu.Lock()
				res.Sightings = append(res.Sightings, found...)
				res.Uncited += uncited
				mu.Unlock()
			}
		}()
	}
	batch := make([]*obsindex.Observation, 0, runBatch)
	err := stream(func(o *obsindex.Observation) error {
		res.Probed++
		batch = append(batch, o)
		if len(batch) == runBatch {
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]*obsindex.Observation, 0, runBatch)
		}
		return nil
	})
	if len(batch) > 0 && err == nil {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	if err != nil {
		return Result{}, err
	}
	slices.SortFunc(res.Sightings, func(a, b match.Sighting) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
	return res, nil
}
