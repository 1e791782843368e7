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

// runBatch is how many items a worker takes at a time.
const runBatch = 512

// Run probes every observation stream yields on workers goroutines (0:
// one per CPU). stream calls its function once per observation, from one
// goroutine; the observation must not change after the call.
func Run(ctx context.Context, h *Hunter, workers int, stream func(func(*obsindex.Observation) error) error) (Result, error) {
	var res Result
	var mu sync.Mutex
	probed, err := fanOut(ctx, workers, stream, func() func([]*obsindex.Observation) {
		var p obsindex.Prober
		return func(b []*obsindex.Observation) {
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
	})
	if err != nil {
		return Result{}, err
	}
	res.Probed = probed
	slices.SortFunc(res.Sightings, func(a, b match.Sighting) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
	return res, nil
}

// RunKeys is Run in two passes, for an index too large to decode whole:
// the workers read the parts of the stored keys (each part on one
// goroutine, up to workers at once) and keep those whose value any
// indicator matches (Hunter.Matches: few, as a rule); lookup then streams
// the whole observations of those values, which are probed as Run probes
// them. Probed counts the keys.
func RunKeys(ctx context.Context, h *Hunter, workers int, parts []func(func(obsindex.KeyPorts) error) error,
	lookup func([]obsindex.Key, func(*obsindex.Observation) error) error) (Result, error) {
	cands, probed, err := candidates(ctx, h, workers, parts)
	if err != nil {
		return Result{}, err
	}
	want := make(map[obsindex.Key]bool, len(cands))
	for _, k := range cands {
		want[k] = true
	}
	res, err := Run(ctx, h, workers, func(fn func(*obsindex.Observation) error) error {
		return lookup(cands, func(o *obsindex.Observation) error {
			if !want[o.Key()] {
				return nil // another field of a value that matched
			}
			return fn(o)
		})
	})
	res.Probed = probed
	return res, err
}

// candidates reads parts on workers goroutines and returns, in key
// order, the keys Matches keeps, and how many keys were read.
func candidates(ctx context.Context, h *Hunter, workers int, parts []func(func(obsindex.KeyPorts) error) error) ([]obsindex.Key, int64, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan func(func(obsindex.KeyPorts) error) error, len(parts))
	for _, p := range parts {
		next <- p
	}
	close(next)
	var mu sync.Mutex
	var cands []obsindex.Key
	var read int64
	var firstErr error
	var wg sync.WaitGroup
	for range min(workers, len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p obsindex.Prober
			var found []obsindex.Key
			var n int64
			var err error
			for part := range next {
				if err = ctx.Err(); err != nil {
					break
				}
				if err = part(func(k obsindex.KeyPorts) error {
					n++
					if h.Matches(&p, k) {
						found = append(found, k.Key)
					}
					return nil
				}); err != nil {
					cancel()
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			cands, read = append(cands, found...), read+n
			if firstErr == nil && err != nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, 0, firstErr
	}
	slices.SortFunc(cands, obsindex.CompareKeys)
	return cands, read, nil
}

// fanOut hands what stream yields, in batches, to workers goroutines (0:
// one per CPU), each running the function newWorker made for it, and
// returns how many items there were.
func fanOut[T any](ctx context.Context, workers int, stream func(func(T) error) error, newWorker func() func([]T)) (int64, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batches := make(chan []T, workers)
	var wg sync.WaitGroup
	for range workers {
		work := newWorker()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				work(b)
			}
		}()
	}
	var n int64
	batch := make([]T, 0, runBatch)
	err := stream(func(item T) error {
		n++
		batch = append(batch, item)
		if len(batch) == runBatch {
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]T, 0, runBatch)
		}
		return nil
	})
	if len(batch) > 0 && err == nil {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	return n, err
}
