// Package watch follows growing telemetry files — Zeek's live log
// directory and its rotation, Suricata EVE files, JSON lines — and matches
// every new record as it is written: alerts as JSON lines, sightings in
// the store (with the keys a scan of the same file gives), optionally on
// NATS, and behaviour detections over a rolling window. Its position is
// checkpointed per file (device, inode and a hash of the first bytes), so
// that a restart, even after a kill, neither misses nor repeats a record;
// new intelligence in the store is picked up without a restart.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
	"github.com/whodunit-project/whodunit/internal/telemetry/jsonl"
)

// Store is what the watcher needs of a store: the indicators, a cheap
// sign that they changed (the list of imported sources), and a place for
// findings.
type Store interface {
	hunt.MatchSource
	hunt.FindingWriter
	Sources(ctx context.Context) ([]intel.Source, error)
}

// Options say what to follow and where alerts go.
type Options struct {
	// Paths are directories (their live logs are followed; see liveName)
	// or single files.
	Paths []string
	// State is the checkpoint file (required).
	State string
	// Format forces a telemetry format ("" = sniff each file).
	Format  string
	Mapping jsonl.Mapping
	// SourceName names the logical source, as scan's --source-name.
	SourceName string

	// Alerts receives every unsuppressed sighting as a JSON line (nil:
	// none). Alerts raised after the last checkpoint are raised again
	// after a kill; AlertsFile avoids that.
	Alerts io.Writer
	// AlertsFile is a file alerts are appended to exactly once: at
	// start it is cut back to its size at the last checkpoint.
	AlertsFile string
	// Publish, when set, is given every unsuppressed sighting with its
	// key and JSON (NATS JetStream: see NATSPublisher).
	Publish func(ctx context.Context, key string, data []byte) error
	// Observer sees every event after it was matched; the event is valid
	// only during the call.
	Observer func(*telemetry.Event)
	// NoIndex does not keep the observable index (kept by default when
	// the store has one, as scan keeps it; see obsindex).
	NoIndex bool
	// OnSnapshot sees every matcher snapshot the watcher builds: at start
	// and after each change of the store's intelligence.
	OnSnapshot func(*match.Snapshot)
	// OnDetection sees every behaviour detection when it is raised.
	OnDetection func(behavior.Detection)

	// NoBehavior skips the analytics; Window is their span of event time
	// and Every how often (wall time) they are evaluated.
	NoBehavior    bool
	Window, Every time.Duration
	// MaxWindowEvents bounds the events the window keeps, the oldest
	// dropped first (0: DefaultWindowEvents).
	MaxWindowEvents int
	Allowlist       *behavior.Allowlist
	Locator         geo.Locator

	Poll       time.Duration // how often files are checked (default 200ms)
	Settle     time.Duration // longest wait for a new file's fingerprinted prefix (default 2s)
	IntelEvery time.Duration // how often the store's intelligence is checked (default 5s)
	// MaxBatchBytes bounds the text read from one file per cycle.
	MaxBatchBytes int
	Log           *slog.Logger
}

// DefaultWindowEvents bounds the events the behaviour window keeps when
// Options.MaxWindowEvents is 0: each is a copy of the event, a few hundred
// bytes, so the default holds about 100 MB; at a high rate the window is
// then shorter than Options.Window.
const DefaultWindowEvents = 250_000

// Stats are the watcher's counts since it started.
type Stats struct {
	Events     int64 `json:"events"`
	Sightings  int64 `json:"sightings"`
	Alerts     int64 `json:"alerts"`
	BadRecords int64 `json:"bad_records"`
	Detections int   `json:"detections"`
	Snapshots  int   `json:"snapshots"` // snapshots built (1 + swaps)
}

func (o *Options) defaults() error {
	if len(o.Paths) == 0 {
		return errors.New("watch: nothing to watch")
	}
	if o.State == "" {
		return errors.New("watch: a checkpoint file is required")
	}
	setDur(&o.Poll, 200*time.Millisecond)
	setDur(&o.Settle, 2*time.Second)
	setDur(&o.IntelEvery, 5*time.Second)
	setDur(&o.Window, time.Hour)
	setDur(&o.Every, time.Minute)
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 4 << 20
	}
	if o.MaxWindowEvents <= 0 {
		o.MaxWindowEvents = DefaultWindowEvents
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

func setDur(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// watcher is one run of Run.
type watcher struct {
	opt      Options
	db       Store
	log      *slog.Logger
	registry *telemetry.Registry
	forced   telemetry.Format
	maxLine  int
	started  bool

	files  map[inode]*follower
	resume map[inode]Mark // checkpointed files not yet seen
	lost   []Mark         // checkpointed files whose inode now holds another
	cp     *Checkpoint

	snap      atomic.Pointer[match.Snapshot]
	intelVer  string
	intelNext time.Time
	matcher   *match.Matcher

	out     *alertOut
	pending []match.Sighting
	window  *window
	index   *watchIndex
	ev      telemetry.Event
	stats   Stats
}

// Run follows opt.Paths until ctx is cancelled; then it finishes the
// current cycle, writes the checkpoint and returns nil. It returns early
// on an error that stops it from storing what it finds.
func Run(ctx context.Context, db Store, opt Options) (Stats, error) {
	if err := opt.defaults(); err != nil {
		return Stats{}, err
	}
	w, err := newWatcher(ctx, db, opt)
	if err != nil {
		return Stats{}, err
	}
	defer w.close()
	tick := time.NewTicker(w.opt.Poll)
	defer tick.Stop()
	for {
		// the cycle runs on a context that is not cancelled, so that a
		// stop finishes it and checkpoints what it stored
		if err := w.cycle(context.WithoutCancel(ctx), time.Now()); err != nil {
			return w.stats, err
		}
		select {
		case <-ctx.Done():
			return w.stats, nil
		case <-tick.C:
		}
	}
}

func newWatcher(ctx context.Context, db Store, opt Options) (*watcher, error) {
	w := &watcher{opt: opt, db: db, log: opt.Log, files: map[inode]*follower{}, resume: map[inode]Mark{},
		registry: formats.Default(formats.Options{Mapping: opt.Mapping}), maxLine: telemetry.DefaultMaxLineBytes}
	if opt.Format != "" {
		f, ok := w.registry.ByName(opt.Format)
		if !ok {
			return nil, fmt.Errorf("watch: unknown format %q", opt.Format)
		}
		w.forced = f
	}
	cp, err := ReadCheckpoint(opt.State)
	if err != nil {
		return nil, err
	}
	w.cp = cp
	for _, m := range cp.Files {
		w.resume[inode{m.Dev, m.Ino}] = m
	}
	if w.out, err = openAlerts(opt, cp); err != nil {
		return nil, err
	}
	if cp.fresh {
		// from now on the alerts file is cut back to this size at start
		if err := w.checkpoint(); err != nil {
			w.out.close()
			return nil, err
		}
	}
	if err := w.refreshIntel(ctx, time.Now(), true); err != nil {
		w.out.close()
		return nil, err
	}
	if !opt.NoBehavior {
		w.window = newWindow(opt, w.snap.Load(), cp.Detections)
	}
	w.index = newWatchIndex(context.WithoutCancel(ctx), db, opt)
	if err := w.discover(time.Now()); err != nil {
		w.out.close()
		return nil, err
	}
	w.started = true
	w.resumeRotated(time.Now())
	return w, nil
}

func (w *watcher) close() {
	for _, fl := range w.files {
		fl.f.Close()
	}
	w.out.close()
}
