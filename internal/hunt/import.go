package hunt

import (
	"context"
	"log/slog"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/formats"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
	"github.com/whodunit-project/whodunit/internal/store"
)

// ImportTarget is what importing needs of a store: the one-transaction
// import and the warninglists to flag indicators with.
type ImportTarget interface {
	Import(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (store.ImportResult, error)
	Warninglists(ctx context.Context) ([]*intel.Warninglist, error)
}

// ImportOptions say what to import and how to label it.
type ImportOptions struct {
	Paths []string
	// Format forces one format by name instead of sniffing ("" = sniff);
	// an unknown name is an error wrapping intel.ErrUnknownFormat.
	Format string
	// Labels are what the files do not say (source, actor, TLP, …).
	Labels   intel.Options
	Progress ProgressFunc
	Log      *slog.Logger
}

// Import reads opt.Paths into db, one transaction per file: a bad file
// fails alone (its FileResult.Err says why) and leaves the store as it was.
// Indicators are flagged with the warninglists they are on as they are
// stored; warninglists in the same call are imported first.
func Import(ctx context.Context, db ImportTarget, opt ImportOptions) ([]intel.FileResult, error) {
	tx := &flaggingTx{db: db, log: logger(opt.Log), dirty: true}
	results, err := formats.Service(tx.run).ImportPaths(ctx, opt.Paths, opt.Format, opt.Labels)
	for i, r := range results {
		opt.Progress.report(Progress{Stage: StageImport, Detail: r.Path, Done: i + 1, Total: len(results)})
	}
	return results, err
}

// flaggingTx runs each file's import in a store transaction, wrapping the
// sink so that indicators on a warninglist are flagged. The compiled set
// is rebuilt lazily after a warninglist import changed the lists.
type flaggingTx struct {
	db    ImportTarget
	log   *slog.Logger
	set   *warninglist.Set
	dirty bool
}

func (t *flaggingTx) run(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (bool, error) {
	if src.Format == (warninglist.Importer{}).Name() {
		res, err := t.db.Import(ctx, src, fn)
		t.dirty = t.dirty || err == nil && !res.Already
		return res.Already, err
	}
	if t.dirty {
		set, err := CompileWarninglists(ctx, t.db, t.log)
		if err != nil {
			return false, err
		}
		t.set, t.dirty = set, false
	}
	res, err := t.db.Import(ctx, src, func(sink intel.Sink) error {
		if t.set != nil && len(t.set.Lists()) > 0 {
			sink = &warninglist.FlaggingSink{Set: t.set, Next: sink}
		}
		return fn(sink)
	})
	return res.Already, err
}

// WarninglistSource is a store that holds warninglists.
type WarninglistSource interface {
	Warninglists(ctx context.Context) ([]*intel.Warninglist, error)
}

// CompileWarninglists compiles the store's warninglists; entries that
// cannot be used (regexes RE2 cannot run) are logged and left out.
func CompileWarninglists(ctx context.Context, db WarninglistSource, log *slog.Logger) (*warninglist.Set, error) {
	lists, err := db.Warninglists(ctx)
	if err != nil {
		return nil, err
	}
	set, skips, err := warninglist.NewSet(lists)
	if err != nil {
		return nil, err
	}
	if len(skips) > 0 {
		logger(log).Debug("warninglist entries skipped", "count", len(skips), "first", skips[0].Error())
	}
	return set, nil
}
