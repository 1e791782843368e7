package hunt

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Options are a whole hunt: the intelligence to import (one ImportOptions
// per labelling, e.g. one per --actor-intel), the telemetry to scan, how to
// analyse, and where the reports go.
type Options struct {
	Intel   []ImportOptions
	Scan    ScanOptions
	Analyse AnalyseOptions
	// OutDir receives the reports ("" writes none).
	OutDir string
	// ScanWith, when set, runs the scan instead of Scan (the scan
	// workers' coordinator, queue.Scan, gives the same result).
	ScanWith func(ctx context.Context, db ScanTarget, opt ScanOptions) (*ScanResult, error)
}

// Result is what a hunt did.
type Result struct {
	Imports  []intel.FileResult
	Scan     *ScanResult
	Data     *report.Data
	Analysis store.Analysis // the run as stored
	Written  []string       // report files
}

// ErrImport is returned (wrapped) when some intelligence file failed to
// import; Result.Imports says which and why, and nothing after the import
// ran.
var ErrImport = errors.New("intelligence import failed")

// Run imports, scans, analyses (storing the run) and writes the reports,
// into db.
func Run(ctx context.Context, db store.Store, opt Options) (*Result, error) {
	res := &Result{}
	for _, imp := range opt.Intel {
		r, err := Import(ctx, db, imp)
		res.Imports = append(res.Imports, r...)
		if err != nil {
			return res, err
		}
	}
	if n := failed(res.Imports); n > 0 {
		return res, fmt.Errorf("%w: %d of %d files", ErrImport, n, len(res.Imports))
	}
	scan := opt.ScanWith
	if scan == nil {
		scan = Scan
	}
	var err error
	if res.Scan, err = scan(ctx, db, opt.Scan); err != nil {
		return res, err
	}
	an := opt.Analyse
	an.Summary.Events, an.Summary.Bytes = res.Scan.Summary.Events, res.Scan.Summary.DataBytes
	if res.Data, err = Analyse(ctx, db, an); err != nil {
		return res, err
	}
	if res.Analysis, err = SaveAnalysis(ctx, db, res.Data.Doc, res.Scan.Snapshot.Version()); err != nil {
		return res, fmt.Errorf("storing the analysis: %w", err)
	}
	if opt.OutDir == "" {
		return res, nil
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return res, err
	}
	defs, err := report.MarkingDefinitions(ctx, db)
	if err != nil {
		return res, err
	}
	if _, err := res.Data.LimitToMarking(defs); err != nil {
		return res, err
	}
	res.Written, err = WriteReports(opt.OutDir, res.Data)
	return res, err
}

func failed(results []intel.FileResult) int {
	n := 0
	for _, r := range results {
		if r.Err != nil {
			n++
		}
	}
	return n
}
