package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry/jsonl"
)

// scanFlags are the flags of scan (and the few hunt shares).
type scanFlags struct {
	format      string
	workers     int
	noBehavior  bool
	noIndex     bool
	allowlist   string
	mapping     string
	summaryJSON string // the run's figures, for make bench
	sourceName  string
	// snapshotCache overrides where the compiled snapshot is kept;
	// noSnapshotCache compiles every time
	snapshotCache   string
	noSnapshotCache bool
	// nats, when set, runs the scan through workers (see worker.go)
	nats          natsFlags
	sharedStorage bool
}

// scanOptions turns the flags into the library's options: the mapping
// and the allowlist are read here, so that a bad one is a usage error
// before anything is scanned.
func (app *App) scanOptions(paths []string, f *scanFlags) (hunt.ScanOptions, error) {
	opt := hunt.ScanOptions{Paths: paths, Format: f.format, Workers: f.workers, NoBehavior: f.noBehavior, NoIndex: f.noIndex, SourceName: f.sourceName, Log: app.Log}
	opt.SnapshotCache = app.snapshotCacheDir(f)
	if f.mapping != "" {
		m, err := loadMapping(f.mapping)
		if err != nil {
			return opt, usagef("--mapping: %v", err)
		}
		opt.Mapping = m
	}
	if f.allowlist != "" {
		al, err := behavior.LoadAllowlist(f.allowlist)
		if err != nil {
			return opt, err
		}
		opt.Allowlist = al
	}
	if !app.Quiet && !app.JSON {
		if fd, ok := app.Stderr.(*os.File); ok && term.IsTerminal(int(fd.Fd())) {
			opt.ProgressBar = app.Stderr
		}
	}
	return opt, nil
}

func newScanCmd(app *App) *cobra.Command {
	var f scanFlags
	c := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Match telemetry (Zeek, Suricata EVE, pcap, JSON lines, CSV) against every indicator, run the behaviour analytics and store the findings",
		Long: `Match telemetry against every indicator in the database and run the
behaviour analytics; store the sightings (a rescan adds no duplicates), the
detections and the scan's summary (events, bytes, files) in the database,
which is created when it does not exist. 'whodunit attribute' and 'report'
analyse what is stored.

Output: a summary on stdout; with --json the sightings as JSON lines on
stdout and the summary on stderr.`,
		Example: `  whodunit scan /var/log/zeek/2024-03-24/
  whodunit scan --json capture.pcap > sightings.jsonl
  whodunit scan --format jsonl --mapping 'ts=timestamp,src_ip=client,query=qname' proxy.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.scan(cmd.Context(), args, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.format, "format", "", "force the telemetry format (zeek, zeek-json, eve, pcap, jsonl, csv) instead of sniffing")
	fl.IntVar(&f.workers, "workers", 0, "parallel workers (default: one per CPU)")
	fl.BoolVar(&f.noBehavior, "no-behavior", false, "skip the behavioural C2 analytics")
	fl.BoolVar(&f.noIndex, "no-index", false, "do not keep the observable index that retro-hunts match later intelligence against")
	fl.StringVar(&f.allowlist, "allowlist", "", "file of known-good addresses and names that the analytics must not flag")
	fl.StringVar(&f.summaryJSON, "summary-json", "", "write the run's figures (events, bytes, CPU, peak RSS) as JSON to this file")
	fl.StringVar(&f.mapping, "mapping", "", "field mapping for jsonl/csv input: inline 'field=key,…' or a file")
	f.nats.add(c, "run the scan through 'whodunit worker' processes on this NATS JetStream server (see docs/workers.md)")
	fl.BoolVar(&f.sharedStorage, "shared-storage", false, "with --nats: the workers read the files at the same paths (shared storage) instead of through the object store")
	fl.StringVar(&f.snapshotCache, "snapshot-cache", "", "directory of the compiled matcher cache (default: <db>.snapshot beside a SQLite file, the user cache directory for PostgreSQL)")
	fl.BoolVar(&f.noSnapshotCache, "no-snapshot-cache", false, "compile the matcher from the store every time; neither read nor write the cache")
	fl.StringVar(&f.sourceName, "source-name", "", "name of the logical source (sensor, case) the files come from; sightings are keyed by it and each file's path under its root")
	return c
}

func (app *App) scan(ctx context.Context, paths []string, f *scanFlags) error {
	opt, err := app.scanOptions(paths, f)
	if err != nil {
		return err
	}
	db, err := app.createStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if app.JSON {
		enc := json.NewEncoder(app.Stdout)
		enc.SetEscapeHTML(false)
		opt.OnSighting = func(s match.Sighting) { _ = enc.Encode(s) }
	}
	var res *hunt.ScanResult
	if f.nats.url != "" {
		res, err = app.scanNATS(ctx, db, opt, f)
	} else {
		res, err = hunt.Scan(ctx, db, opt)
	}
	if err != nil {
		return err
	}
	if f.summaryJSON != "" {
		if err := fileio.WriteAtomic(f.summaryJSON, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(res.Report)
		}); err != nil {
			return err
		}
	}
	app.printScanSummary(res)
	if res.Summary.FailedFiles > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d file(s) could not be read to the end", res.Summary.FailedFiles)}
	}
	return nil
}

// snapshotCacheDir is where the compiled snapshot is kept for this run
// ("" = nowhere).
func (app *App) snapshotCacheDir(f *scanFlags) string {
	switch {
	case f.noSnapshotCache:
		return ""
	case f.snapshotCache != "":
		return f.snapshotCache
	case isPostgresDSN(app.DBPath):
		return hunt.DefaultSnapshotCacheDir("", app.DBPath)
	}
	return hunt.DefaultSnapshotCacheDir(app.DBPath, "")
}

// loadMapping reads a field mapping for JSON lines and CSV telemetry: inline
// ("ts=time,src_ip=client") or the path of a file of such lines.
func loadMapping(s string) (jsonl.Mapping, error) {
	if _, err := os.Stat(s); err == nil {
		return jsonl.LoadMapping(s)
	}
	return jsonl.ParseMapping(s)
}

// printScanSummary writes the end-of-scan summary on stderr (stdout carries
// sightings with --json).
func (app *App) printScanSummary(res *hunt.ScanResult) {
	s := res.Summary
	if app.Quiet {
		return
	}
	w := app.Stderr
	if !app.JSON {
		w = app.Stdout
	}
	secs := s.Duration.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(s.DataBytes) / secs / 1e6
	}
	fmt.Fprintf(w, "scanned %d files: %d events, %s (%.0f MB/s), matcher %s with %d indicators\n",
		len(s.Files), s.Events, humanBytes(s.DataBytes), rate, s.Snapshot, res.Snapshot.Len())
	fmt.Fprintf(w, "sightings: %d (%d new in the store), suppressed by warninglists: %d\n", s.Sightings+s.Suppressed, res.NewSightings, s.Suppressed)
	if len(s.SuppressedBy) > 0 {
		keys := make([]string, 0, len(s.SuppressedBy))
		for k := range s.SuppressedBy {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %6d  %s\n", s.SuppressedBy[k], k)
		}
	}
	if res.Indexed > 0 {
		fmt.Fprintf(w, "observable index: %d distinct values kept for retro-hunts (whodunit retro)\n", res.Indexed)
	}
	if res.Detections != nil {
		fmt.Fprintf(w, "behaviour: %d findings, %d above the threshold (whodunit detections)\n", len(res.Detections), hunt.Above(res.Detections))
	}
	for _, f := range s.Files {
		switch {
		case f.Err != "":
			app.errorf("%s", f.Err)
		case f.Skipped != "":
			app.infof("%s: skipped (%s)", f.Path, f.Skipped)
		}
		if f.BadRecords > 0 {
			fmt.Fprintf(app.Stderr, "%s: %d bad records\n", f.Path, f.BadRecords)
			for _, e := range f.Errors {
				fmt.Fprintf(app.Stderr, "  %s\n", e)
			}
		}
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
