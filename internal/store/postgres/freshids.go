package postgres

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// freshIDs is what a first import knows while the primary keys are away
// (bulk.go): the ids it wrote, and the objects it met again, put aside
// until the keys are back. Ids are kept as hashes, a few bytes each for
// a million-line list; a collision only puts an object aside for nothing,
// as the statement path then finds it is not stored.
type freshIDs struct {
	seed    maphash.Seed
	written map[uint64]struct{}
	later   []*intel.Object
}

// maxLater bounds the objects put aside: past it, the keys come back
// and the rest of the import takes the ordinary path.
var maxLater = 5 * writeBatch

func newFreshIDs() *freshIDs {
	return &freshIDs{seed: maphash.MakeSeed(), written: map[uint64]struct{}{}}
}

// take returns, in place, the objects of batch whose id it meets first,
// and puts the others aside.
func (f *freshIDs) take(batch []*intel.Object) []*intel.Object {
	out := batch[:0]
	for _, o := range batch {
		h := maphash.String(f.seed, o.ID)
		if _, seen := f.written[h]; seen {
			f.later = append(f.later, o)
			continue
		}
		f.written[h] = struct{}{}
		out = append(out, o)
	}
	return out
}

// endFresh restores the primary keys and writes the objects put aside,
// in their order, through the ordinary path; after it the writer is
// ordinary. Without a first import it does nothing.
func (w *writer) endFresh(ctx context.Context) error {
	if w.fresh == nil {
		return nil
	}
	if err := w.send.wait(); err != nil {
		return err
	}
	later := w.fresh.later
	w.fresh = nil
	if err := w.dropped.restoreKeys(ctx, w.tx); err != nil {
		return err
	}
	for _, o := range later {
		w.pending = append(w.pending, o)
		if len(w.pending) >= writeBatch {
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
	}
	return w.flush(ctx)
}

// flushFresh writes a batch of a first import: every object it has not
// met is new to the store, so there is nothing to read back, and the
// writes go to the sender while the next batch is read and encoded.
func (w *writer) flushFresh(ctx context.Context, pending []*intel.Object) error {
	fresh := splitFresh(w.fresh.take(pending), nil)
	tables, _, err := w.freshRows(fresh)
	if err != nil {
		return err
	}
	job := copyJob{tables: tables, names: &pgx.Batch{}}
	for _, f := range fresh {
		w.queueNames(job.names, f.o)
	}
	if len(fresh) > 0 {
		job.what = fresh[0].o.ID + " … " + fresh[len(fresh)-1].o.ID
	}
	w.added += len(fresh)
	if err := w.send.run(ctx, w.tx, job); err != nil {
		return err
	}
	if len(w.fresh.later) > maxLater {
		return w.endFresh(ctx)
	}
	return nil
}

// copyJob is the writes of one batch of a first import.
type copyJob struct {
	tables []*copyTable
	names  *pgx.Batch
	what   string // the batch's first and last id, for errors
}

// copySender writes the jobs of a first import on a goroutine of its
// own, one at a time, so that the server stores one batch while the
// client encodes the next. Nothing else may use the transaction until
// wait has returned.
type copySender struct {
	jobs chan copyJob
	done chan error
	mu   sync.Mutex
	err  error // the first job that failed; later ones are dropped
}

// run queues job, starting the goroutine at the first; it returns the
// error of an earlier job, if one failed.
func (s *copySender) run(ctx context.Context, tx pgx.Tx, job copyJob) error {
	if err := s.failed(); err != nil {
		return err
	}
	if s.jobs == nil {
		s.jobs, s.done = make(chan copyJob, 1), make(chan error, 1)
		go s.loop(ctx, tx)
	}
	s.jobs <- job
	return nil
}

func (s *copySender) loop(ctx context.Context, tx pgx.Tx) {
	for job := range s.jobs {
		if s.failed() != nil {
			continue
		}
		if err := job.write(ctx, tx); err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
	}
	s.done <- s.failed()
}

func (s *copySender) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// wait returns when every job queued is written (or dropped after a
// failure), with the first failure; the sender can then start again.
func (s *copySender) wait() error {
	if s.jobs == nil {
		return s.failed()
	}
	close(s.jobs)
	err := <-s.done
	s.jobs, s.done = nil, nil
	return err
}

func (j copyJob) write(ctx context.Context, tx pgx.Tx) error {
	for _, t := range j.tables {
		if err := t.send(ctx, tx); err != nil {
			return fmt.Errorf("copying objects %s: %w", j.what, err)
		}
	}
	if err := tx.SendBatch(ctx, j.names).Close(); err != nil {
		return fmt.Errorf("storing the names of objects %s: %w", j.what, err)
	}
	return nil
}
