package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// maxReportedErrors bounds the bad-record messages logged per file.
const maxReportedErrors = 10

// cycle is one pass: new intelligence, new and rotated files, every
// file's new complete lines, then the findings stored and the checkpoint
// written — in that order, so that a checkpoint never covers a record
// whose findings are not stored.
func (w *watcher) cycle(ctx context.Context, now time.Time) error {
	if err := w.refreshIntel(ctx, now, false); err != nil {
		w.log.Warn("intelligence not refreshed", "err", err)
	}
	if err := w.discover(now); err != nil {
		return err
	}
	snap := w.snap.Load()
	if w.matcher == nil || w.matcher.Snapshot() != snap {
		w.matcher = snap.NewMatcher() // in-flight work finished on the old one
	}
	for _, fl := range w.ordered() {
		if err := w.follow(fl, now); err != nil {
			w.log.Warn("file not read", "file", fl.path, "err", err)
			fl.ignored = true
		}
	}
	if w.window != nil {
		w.window.due(now)
	}
	return w.commit(ctx, now)
}

// cycleBatches bounds the batches read from one file per pass, so that a
// large backlog is checkpointed as it goes rather than once at its end.
const cycleBatches = 16

// follow reads a file's new complete lines, batch after batch.
func (w *watcher) follow(fl *follower, now time.Time) error {
	if fl.ignored {
		return nil
	}
	for range cycleBatches {
		fi, err := fl.f.Stat()
		if err != nil {
			return err
		}
		same, err := fl.sameContent(fi.Size())
		if err != nil {
			return err
		}
		if !same {
			w.log.Info("file truncated or rewritten: reading it from the start", "file", fl.path)
			fl.restart()
		}
		if ok, err := w.ready(fl, now); !ok || err != nil {
			return err
		}
		b, err := w.next(fl, fi.Size(), w.opt.MaxBatchBytes)
		fl.caughtUp = b == nil && err == nil
		if err != nil || b == nil {
			return err
		}
		if err := w.process(fl, b); err != nil {
			return err
		}
		if err := fl.advance(b); err != nil {
			return err
		}
		if len(b.data) < w.opt.MaxBatchBytes/2 {
			return nil // caught up
		}
	}
	return nil
}

// process reads one batch through the file's format reader, with the
// file's header block in front, and matches every event.
func (w *watcher) process(fl *follower, b *batch) error {
	rd, err := fl.format.Open(fileio.NewSlices(b.header, b.data), fl.path)
	if err != nil {
		return err
	}
	lineDelta := b.startLine - b.hdrLines
	offDelta := b.startOff - int64(len(b.header))
	emit := func(sg *match.Sighting) {
		c := sg.Clone()
		c.Source = fl.pos.Source
		w.pending = append(w.pending, c)
	}
	ev, bad := &w.ev, 0
	for {
		err := rd.Next(ev)
		if err == io.EOF {
			return nil
		}
		var re *telemetry.RecordError
		if errors.As(err, &re) {
			if bad++; bad <= maxReportedErrors {
				w.log.Warn("bad record", "err", fmt.Sprintf("%s (line %d, offset %d)", re.Error(), re.Line+lineDelta, re.Offset+offDelta))
			}
			w.stats.BadRecords++
			if bad > 1_000_000 {
				return fmt.Errorf("%s: reader does not advance", fl.path)
			}
			continue
		}
		if err != nil {
			return err
		}
		if ev.Line > 0 {
			ev.Line += lineDelta
		}
		ev.Offset += offDelta
		w.matcher.Match(ev, emit)
		if w.opt.Observer != nil {
			w.opt.Observer(ev)
		}
		if w.index != nil {
			w.index.col.ObserveFrom(ev, fl.pos.Source)
		}
		if w.window != nil {
			w.window.observe(ev)
		}
		w.stats.Events++
	}
}

// commit stores the cycle's sightings, raises their alerts, then writes
// the checkpoint; files rotated away and read to their end are dropped.
func (w *watcher) commit(ctx context.Context, now time.Time) error {
	if len(w.pending) > 0 {
		if _, err := w.db.PutSightings(ctx, w.pending); err != nil {
			return fmt.Errorf("storing sightings: %w", err)
		}
		w.stats.Sightings += int64(len(w.pending))
		if err := w.alert(ctx, w.pending); err != nil {
			return err
		}
		w.pending = w.pending[:0]
	}
	if w.window != nil {
		if err := w.window.store(ctx, w); err != nil {
			return err
		}
	}
	if err := w.index.store(ctx); err != nil {
		return err
	}
	changed := w.retire(now)
	for _, fl := range w.files {
		if fl.mark.Offset != fl.pos.Offset || fl.mark.Source != fl.pos.Source || fl.mark.HeadSHA != fl.pos.HeadSHA {
			changed = true
		}
		fl.mark = fl.pos
	}
	if !changed && !w.out.moved() {
		return nil
	}
	return w.checkpoint()
}

// retire drops files that left their live name and were read to their
// end a settle period ago (a writer may finish a line after the rename).
func (w *watcher) retire(now time.Time) bool {
	dropped := false
	for id, fl := range w.files {
		if fl.live || now.Sub(fl.retiredAt) < w.opt.Settle || !(fl.caughtUp || fl.ignored) {
			continue
		}
		if fi, err := fl.f.Stat(); err == nil && fi.Size() > fl.pos.Offset && !fl.ignored {
			w.log.Warn("rotated file ends in an unterminated line, left unread", "file", fl.path, "bytes", fi.Size()-fl.pos.Offset)
		}
		fl.f.Close()
		delete(w.files, id)
		dropped = true
	}
	return dropped
}

// checkpoint writes every followed file's mark and the alerts position.
func (w *watcher) checkpoint() error {
	cp := &Checkpoint{AlertsOffset: w.out.offset()}
	for _, fl := range w.ordered() {
		cp.Files = append(cp.Files, fl.mark)
	}
	if w.window != nil {
		cp.Detections = w.window.raisedIDs()
	}
	if err := cp.Write(w.opt.State); err != nil {
		return fmt.Errorf("writing the checkpoint %s: %w", w.opt.State, err)
	}
	w.out.checkpointed()
	return nil
}
