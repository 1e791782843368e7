package watch

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// maxRaised bounds the detection ids kept (and checkpointed) as raised.
const maxRaised = 100_000

// window runs the behaviour analytics over the last span of event time:
// the events are kept (at most max of them, the oldest dropped first) and
// analysed afresh at every evaluation, since an analyzer's result covers
// everything it observed. A detection is raised once, when it first
// scores at or above the threshold.
type window struct {
	span, every time.Duration
	max         int
	cfg         behavior.Config
	benign      behavior.Benign
	events      []*telemetry.Event
	latest      time.Time
	next        time.Time
	raised      map[string]bool
	order       []string
	fresh       []behavior.Detection
	onRaise     func(behavior.Detection)
	dirty       bool // events arrived since the last evaluation
}

// maxEvalShare bounds the share of the watcher's time the evaluations
// take: each analyses the whole window, so a short interval over a large
// window would otherwise leave little time for reading and matching.
const maxEvalShare = 5 // at most a fifth

func newWindow(opt Options, snap *match.Snapshot, raised []string) *window {
	cfg := behavior.DefaultConfig()
	if opt.Locator != nil {
		cfg.Locator = opt.Locator
	} else if db, err := geo.Default(); err == nil {
		cfg.Locator = geo.Cached(db)
	} else {
		opt.Log.Warn("behaviour analytics without autonomous systems", "err", err)
	}
	var benign behavior.Benign = warninglist.Benign{Set: snap.Warninglists()}
	if opt.Allowlist != nil {
		benign = behavior.Chain(benign, opt.Allowlist)
	}
	w := &window{span: opt.Window, every: opt.Every, max: opt.MaxWindowEvents, cfg: cfg, benign: benign,
		raised: map[string]bool{}, onRaise: opt.OnDetection}
	for _, id := range raised {
		w.remember(id)
	}
	return w
}

func (w *window) observe(ev *telemetry.Event) {
	w.events = append(w.events, ev.Clone())
	w.dirty = true
	if ev.Time.After(w.latest) {
		w.latest = ev.Time
	}
	if len(w.events) > w.max {
		n := len(w.events) - w.max
		clear(w.events[:n])
		w.events = w.events[n:]
	}
}

// due evaluates the window when its time has come.
func (w *window) due(now time.Time) {
	if now.Before(w.next) || !w.dirty {
		return
	}
	start := time.Now()
	w.dirty = false
	w.evaluate()
	w.next = now.Add(max(w.every, maxEvalShare*time.Since(start)))
}

// evaluate drops events older than the span and analyses the rest.
func (w *window) evaluate() {
	from := w.latest.Add(-w.span)
	keep := w.events[:0]
	for _, ev := range w.events {
		if !ev.Time.Before(from) {
			keep = append(keep, ev)
		}
	}
	clear(w.events[len(keep):])
	w.events = keep
	if len(keep) == 0 {
		return
	}
	a := behavior.New(w.cfg, w.benign)
	for _, ev := range keep {
		a.Observe(ev)
	}
	dets := a.Finish()
	sort.Slice(dets, func(i, j int) bool { return dets[i].ID < dets[j].ID })
	for _, d := range dets {
		if d.Suppressed || d.Score < w.cfg.Threshold || w.raised[d.ID] {
			continue
		}
		w.remember(d.ID)
		w.fresh = append(w.fresh, d)
	}
}

func (w *window) remember(id string) {
	w.raised[id] = true
	w.order = append(w.order, id)
	if len(w.order) > maxRaised {
		delete(w.raised, w.order[0])
		w.order = w.order[1:]
	}
}

func (w *window) raisedIDs() []string { return append([]string(nil), w.order...) }

// store writes the detections raised since the last call, then tells
// the caller about them.
func (w *window) store(ctx context.Context, wt *watcher) error {
	if len(w.fresh) == 0 {
		return nil
	}
	if err := wt.db.PutDetections(ctx, w.fresh); err != nil {
		return fmt.Errorf("storing detections: %w", err)
	}
	for _, d := range w.fresh {
		wt.log.Info("detection", slog.String("analytic", d.Analytic), slog.String("id", d.ID), slog.Float64("score", d.Score))
		if w.onRaise != nil {
			w.onRaise(d)
		}
	}
	wt.stats.Detections += len(w.fresh)
	w.fresh = nil
	return nil
}
