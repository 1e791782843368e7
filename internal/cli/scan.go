package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/match"
)

func newScanCmd(app *App) *cobra.Command {
	var opt scanOptions
	c := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Match telemetry (Zeek, Suricata EVE, pcap, JSON lines, CSV) against every indicator and run the behaviour analytics",
		Example: `  whodunit scan /var/log/zeek/2024-03-24/
  whodunit scan --json capture.pcap > sightings.jsonl
  whodunit scan --format jsonl --mapping 'ts=timestamp,src_ip=client,query=qname' proxy.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			if app.JSON {
				enc := json.NewEncoder(app.Stdout)
				enc.SetEscapeHTML(false)
				opt.onSighting = func(s match.Sighting) { _ = enc.Encode(s) }
			}
			res, err := app.runScan(ctx, db, args, opt)
			if err != nil {
				return err
			}
			if opt.summaryJSON != "" {
				if err := writeFileAtomic(opt.summaryJSON, func(w io.Writer) error {
					enc := json.NewEncoder(w)
					enc.SetIndent("", "  ")
					return enc.Encode(res.report)
				}); err != nil {
					return err
				}
			}
			app.printScanSummary(res)
			if res.summary.FailedFiles > 0 {
				return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d file(s) could not be read to the end", res.summary.FailedFiles)}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&opt.format, "format", "", "force the telemetry format (zeek, zeek-json, eve, pcap, jsonl, csv) instead of sniffing")
	fl.IntVar(&opt.workers, "workers", 0, "parallel workers (default: one per CPU)")
	fl.BoolVar(&opt.noBehavior, "no-behavior", false, "skip the behavioural C2 analytics")
	fl.StringVar(&opt.allowlist, "allowlist", "", "file of known-good addresses and names that the analytics must not flag")
	fl.StringVar(&opt.summaryJSON, "summary-json", "", "write the run's figures (events, bytes, CPU, peak RSS) as JSON to this file")
	fl.StringVar(&opt.mapping, "mapping", "", "field mapping for jsonl/csv input: inline 'field=key,…' or a file")
	return c
}

// printScanSummary writes the end-of-scan summary on stderr (stdout carries
// sightings with --json).
func (app *App) printScanSummary(res *scanResult) {
	s := res.summary
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
		len(s.Files), s.Events, humanBytes(s.DataBytes), rate, s.Snapshot, res.snapshot.Len())
	fmt.Fprintf(w, "sightings: %d (%d new in the store), suppressed by warninglists: %d\n", s.Sightings+s.Suppressed, res.newSights, s.Suppressed)
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
	if res.detections != nil {
		above := 0
		for _, d := range res.detections {
			if !d.Suppressed && d.Score >= behaviorThreshold() {
				above++
			}
		}
		fmt.Fprintf(w, "behaviour: %d findings, %d above the threshold (whodunit detections)\n", len(res.detections), above)
	}
	for _, f := range s.Files {
		switch {
		case f.Err != "":
			fmt.Fprintf(app.Stderr, "error: %s\n", f.Err)
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
