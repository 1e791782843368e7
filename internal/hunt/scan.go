package hunt

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
	"github.com/whodunit-project/whodunit/internal/telemetry/jsonl"
)

// FindingWriter is what storing a scan's findings needs of a store.
type FindingWriter interface {
	PutSightings(ctx context.Context, s []match.Sighting) (int, error)
	PutDetections(ctx context.Context, d []behavior.Detection) error
}

// ScanTarget is a store a scan reads its indicators from and writes its
// findings to.
type ScanTarget interface {
	MatchSource
	FindingWriter
}

// ScanOptions say what to scan and how.
type ScanOptions struct {
	Paths   []string
	Format  string // force a telemetry format ("" = sniff)
	Workers int    // 0: one per CPU
	// SourceName names the logical source the files come from (a sensor,
	// a case); sighting keys then use it with each file's path under its
	// root instead of the file's content fingerprint.
	SourceName string
	// Mapping enables the generic JSON-lines and CSV readers.
	Mapping jsonl.Mapping
	// NoBehavior skips the behaviour analytics.
	NoBehavior bool
	// NoIndex does not keep the observable index (see obsindex), which
	// later retro-hunts match new intelligence against.
	NoIndex bool
	// SnapshotCache is the directory of the compiled snapshot cache
	// ("" = compile every time); see BuildSnapshotCached.
	SnapshotCache string
	// Allowlist adds known-good addresses and names to the warninglists
	// for the analytics (nil: none).
	Allowlist *behavior.Allowlist
	// Locator gives destinations' autonomous systems to the analytics'
	// vendor-network rules (nil: the embedded database).
	Locator geo.Locator
	// OnSighting sees every sighting as it is found, before it is stored.
	OnSighting func(match.Sighting)
	// ProgressBar, when set, receives the scan engine's in-place progress
	// line (for a terminal).
	ProgressBar io.Writer
	Progress    ProgressFunc
	Log         *slog.Logger
}

// ScanResult is what a scan found and stored.
type ScanResult struct {
	Report       scan.RunReport // figures of the run (for benchmarks)
	Summary      scan.Summary
	NewSightings int // sightings the store did not hold before
	// Indexed is the number of distinct observables the scan added to or
	// merged into the index (0 with NoIndex).
	Indexed    int
	Detections []behavior.Detection
	Snapshot   *match.Snapshot
}

// sightingBatch is how many sightings are written per store call.
const sightingBatch = 5000

// Scan matches opt.Paths against every indicator of db, runs the
// behaviour analytics, and stores sightings and detections.
func Scan(ctx context.Context, db ScanTarget, opt ScanOptions) (*ScanResult, error) {
	log := logger(opt.Log)
	t0, cpu0 := time.Now(), scan.ProcessCPU()
	snap, err := BuildSnapshotCached(ctx, db, opt.SnapshotCache, log)
	if err != nil {
		return nil, err
	}
	compileWall, compileCPU := time.Since(t0).Seconds(), scan.ProcessCPU()-cpu0
	opt.Progress.report(Progress{Stage: StageCompile, Detail: snap.Version(), Done: snap.Len(), Total: snap.Len(), Took: time.Since(t0)})
	log.Debug("matcher compiled", "indicators", snap.Len(), "took", time.Since(t0))

	cfg := scan.Config{Paths: opt.Paths, Registry: formats.Default(formats.Options{Mapping: opt.Mapping, Needs: readerNeeds(snap, opt.NoBehavior, opt.NoIndex)}), Format: opt.Format,
		Snapshot: snap, Workers: opt.Workers, SourceName: opt.SourceName, Progress: opt.ProgressBar, IsTerminal: opt.ProgressBar != nil}
	var analyzer *shardedAnalyzer
	if !opt.NoBehavior {
		analyzer = newShardedAnalyzer(behaviourConfig(opt.Locator, log), benignFor(snap.Warninglists(), opt.Allowlist))
		cfg.OnEvent = analyzer.Observe
	}
	var idx *indexer
	if ow := IndexWriter(db, opt.NoIndex, log); ow != nil {
		idx = &indexer{ctx: ctx, db: ow}
		cfg.NewObserver = idx.newObserver
	}
	w := &sightingWriter{ctx: ctx, db: db, tee: opt.OnSighting}
	cfg.OnSighting = w.add

	t1, cpu1 := time.Now(), scan.ProcessCPU()
	sum, err := scan.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res := &ScanResult{Summary: sum, Snapshot: snap, Report: scan.RunReport{Indicators: snap.Len(), CompileSeconds: compileWall,
		CompileCPU: compileCPU, Snapshot: snap.Version(), Workers: workers(opt.Workers), Summary: sum,
		ScanSeconds: time.Since(t1).Seconds(), ScanCPU: scan.ProcessCPU() - cpu1, PeakRSSBytes: scan.PeakRSS()}}
	opt.Progress.report(Progress{Stage: StageScan, Detail: fmt.Sprintf("%d events", sum.Events), Done: len(sum.Files), Total: len(sum.Files), Took: time.Since(t1)})
	if res.NewSightings, err = w.finish(); err != nil {
		return nil, fmt.Errorf("storing sightings: %w", err)
	}
	if idx != nil {
		if res.Indexed, err = idx.finish(); err != nil {
			return nil, fmt.Errorf("storing the observable index: %w", err)
		}
	}
	if analyzer != nil {
		res.Detections = analyzer.Finish()
		if err := db.PutDetections(ctx, res.Detections); err != nil {
			return nil, fmt.Errorf("storing detections: %w", err)
		}
		opt.Progress.report(Progress{Stage: StageBehavior, Done: len(res.Detections), Total: len(res.Detections)})
	}
	if err := recordScan(ctx, db, res); err != nil {
		return nil, fmt.Errorf("storing the scan's summary: %w", err)
	}
	return res, nil
}

func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// behaviourConfig is the analytics' default configuration with the
// destinations' autonomous systems, when a database gives them.
func behaviourConfig(loc geo.Locator, log *slog.Logger) behavior.Config {
	cfg := behavior.DefaultConfig()
	if loc == nil {
		db, err := geo.Default()
		if err != nil {
			log.Warn("behaviour analytics without autonomous systems", "err", err)
			return cfg
		}
		loc = geo.Cached(db)
	}
	cfg.Locator = loc
	return cfg
}

// benignFor chains the warninglists and the allowlist for the analytics.
func benignFor(wl *warninglist.Set, al *behavior.Allowlist) behavior.Benign {
	var benign behavior.Benign = warninglist.Benign{Set: wl}
	if al != nil {
		benign = behavior.Chain(benign, al)
	}
	return benign
}

// sightingWriter stores sightings in batches as the scan hands them out
// (one goroutine at a time, as scan.Config.OnSighting promises); after the
// first store error it keeps counting nothing and reports that error.
type sightingWriter struct {
	ctx   context.Context
	db    FindingWriter
	tee   func(match.Sighting)
	batch []match.Sighting
	added int
	err   error
}

func (w *sightingWriter) add(s match.Sighting) {
	if w.tee != nil {
		w.tee(s)
	}
	w.batch = append(w.batch, s)
	if len(w.batch) >= sightingBatch {
		w.flush()
	}
}

func (w *sightingWriter) flush() {
	if len(w.batch) == 0 || w.err != nil {
		return
	}
	n, err := w.db.PutSightings(w.ctx, w.batch)
	w.added += n
	w.err = err
	w.batch = w.batch[:0]
}

func (w *sightingWriter) finish() (int, error) {
	w.flush()
	return w.added, w.err
}
