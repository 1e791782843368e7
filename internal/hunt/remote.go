package hunt

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/patternmatch"
)

// The pieces of Scan that a scan spread over several processes
// (internal/queue) needs: the snapshot with its inputs stream, the
// analytics configured as Scan configures them, and the stored summary.

// BuildSnapshotInputs builds the matcher snapshot of db as BuildSnapshot
// does and writes its inputs stream to w in the same pass, so that a
// process elsewhere builds the same snapshot (match.BuildFromInputs with
// PatternCompiler) with the same version.
func BuildSnapshotInputs(ctx context.Context, db MatchSource, w io.Writer, log *slog.Logger) (*match.Snapshot, error) {
	lists, err := db.Warninglists(ctx)
	if err != nil {
		return nil, err
	}
	opt := match.Options{Patterns: PatternCompiler(), Warninglists: lists}
	iw, err := match.NewInputWriter(w, opt)
	if err != nil {
		return nil, err
	}
	b := match.NewBuilder(opt)
	if n, err := db.Count(ctx, intel.TypeIndicator); err == nil {
		b.Grow(n)
		if err := iw.Grow(n); err != nil {
			return nil, err
		}
	}
	if err := db.MatchIndicators(ctx, func(o *intel.Object) error {
		b.Add(o)
		return iw.Add(o)
	}); err != nil {
		return nil, fmt.Errorf("writing the snapshot inputs: %w", err)
	}
	if err := iw.Close(); err != nil {
		return nil, fmt.Errorf("writing the snapshot inputs: %w", err)
	}
	snap, err := b.Build()
	if err != nil {
		return nil, err
	}
	logger(log).Debug("matcher compiled with its inputs", "indicators", snap.Len(), "version", snap.Version())
	return snap, nil
}

// PatternCompiler is the STIX pattern compiler snapshots are built with.
func PatternCompiler() match.PatternCompiler { return patternmatch.Compiler{} }

// NewAnalyzer is the behaviour analyzer Scan feeds, configured from opt
// (Locator, Allowlist) and snap's warninglists.
func NewAnalyzer(opt ScanOptions, snap *match.Snapshot) *behavior.Analyzer {
	return behavior.New(behaviourConfig(opt.Locator, logger(opt.Log)), benignFor(snap.Warninglists(), opt.Allowlist))
}

// RecordScan stores res's summary when db keeps scans, as Scan does.
func RecordScan(ctx context.Context, db any, res *ScanResult) error {
	return recordScan(ctx, db, res)
}
