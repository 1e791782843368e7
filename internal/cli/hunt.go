package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
)

type attributeFlags struct {
	assets string
	geoip  []string
}

func (f *attributeFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.assets, "assets", "", "CSV of internal networks: cidr, organisation, sector, country")
	c.Flags().StringArrayVar(&f.geoip, "geoip", nil, "MaxMind-format database(s) to use instead of the embedded one (repeatable)")
}

func newAttributeCmd(app *App) *cobra.Command {
	var f attributeFlags
	c := &cobra.Command{
		Use:   "attribute",
		Short: "Group the stored sightings and detections into campaigns, weigh who is behind each, and store the run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			data, err := app.analyse(ctx, db, f, hunt.AnalyseOptions{})
			if err != nil {
				return err
			}
			run, err := hunt.SaveAnalysis(ctx, db, data.Doc, "")
			if err != nil {
				return fmt.Errorf("storing the analysis: %w", err)
			}
			app.infof("analysis run %s stored (%d campaign(s))", run.ID, len(run.Campaigns))
			if app.JSON {
				return app.printJSON(data.Doc)
			}
			printAssessmentSummary(app.Stdout, data.Doc)
			return nil
		},
	}
	f.register(c)
	return c
}

// attributionLine says who, how likely and how sure; for a campaign that
// names no actor it says which hypothesis is on top, and the strongest
// known actor apart.
func attributionLine(a *report.Attribution) string {
	if a.Named && strings.HasPrefix(a.Estimate, "roughly") {
		return fmt.Sprintf("a %s (%.0f%%) that %s is behind this campaign; analytic confidence %s", a.Estimate, 100*a.Likelihood, a.Actor, a.Confidence)
	}
	if a.Named {
		return fmt.Sprintf("%s is %s (%.0f%%) behind this campaign; analytic confidence %s", a.Actor, a.Estimate, 100*a.Likelihood, a.Confidence)
	}
	line := a.Estimate
	if len(a.Hypotheses) > 0 {
		top := a.Hypotheses[0]
		line += fmt.Sprintf(" — most likely %s (%.0f%%)", top.Name, 100*top.Likelihood)
	}
	switch {
	case a.Actor == "":
		line += "; no actor in the intelligence is linked to this activity"
	case len(a.Hypotheses) == 0 || a.Hypotheses[0].ID != a.ActorID:
		line += fmt.Sprintf("; the strongest known actor is %s at %.0f%%", a.Actor, 100*a.Likelihood)
	}
	return line
}

// printAssessmentSummary prints, per campaign, who, how likely, how sure,
// the alternative and the operators' time zone.
func printAssessmentSummary(w io.Writer, doc *report.Document) {
	fmt.Fprintf(w, "%d events, %d sightings (%d suppressed), %d detections → %d campaign(s)\n",
		doc.Summary.Events, doc.Summary.Sightings, doc.Summary.Suppressed, doc.Summary.Detections, doc.Summary.Campaigns)
	for _, c := range doc.Campaigns {
		a := c.Attribution
		fmt.Fprintf(w, "\n%s  %s – %s  %d victim(s), %d infrastructure, %d sightings, %d detections\n", c.ID,
			c.FirstSeen.Format("2006-01-02"), c.LastSeen.Format("2006-01-02"), len(c.Victims), len(c.Infrastructure), c.Sightings, c.Detections)
		fmt.Fprintf(w, "  Attribution: %s\n", attributionLine(&a))
		if len(a.Alternatives) > 0 {
			alt := a.Alternatives[0]
			fmt.Fprintf(w, "  Alternative: %s (%.0f%%, %s)\n", alt.Actor, 100*alt.Likelihood, alt.Estimate)
		}
		tz := a.OperatorUTCOffset
		if tz.Enough {
			fmt.Fprintf(w, "  Operators work at UTC%s (fit %.0f%%, %d human-driven events; runner-up UTC%s); consistent countries: %s\n",
				attribute.FormatOffset(tz.Hours), 100*tz.Fit, tz.Events, attribute.FormatOffset(tz.RunnerUp.Hours), strings.Join(a.OperatorCountries, " "))
		} else {
			fmt.Fprintf(w, "  Operator time zone: not enough human-driven activity (%d events, need %d)\n", tz.Events, attribute.MinTZEvents)
		}
		var infra []string
		for cc, n := range a.InfrastructureCountries {
			infra = append(infra, fmt.Sprintf("%s %d", cc, n))
		}
		if len(infra) > 0 {
			fmt.Fprintf(w, "  Infrastructure located in: %s (where servers are, not where operators sit)\n", strings.Join(sortedStrings(infra), ", "))
		}
		for i, e := range a.Evidence {
			if i == 6 {
				fmt.Fprintf(w, "  … %d more pieces of evidence (--json)\n", len(a.Evidence)-6)
				break
			}
			sign := "+"
			if e.Against || e.SupportsID == attribute.Coincidence {
				sign = "−"
			}
			fmt.Fprintf(w, "  %s %.2f %-24s %s: %s\n", sign, e.Weight, e.Kind, e.Supports, e.Detail)
		}
	}
	for _, s := range doc.Statistics.Statements {
		fmt.Fprintf(w, "\n%s", s)
	}
	if len(doc.Statistics.Statements) > 0 {
		fmt.Fprintln(w)
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

type huntFlags struct {
	intel      []string
	actorIntel []string
	logs       []string
	out        string
	attributeFlags
	scan scanFlags
	tlp  string
	org  string
	sign string // private key signing report.json and the STIX bundle
}

func newHuntCmd(app *App) *cobra.Command {
	var f huntFlags
	c := &cobra.Command{
		Use:   "hunt --intel PATH... --logs PATH... [--out DIR]",
		Short: "Import intelligence, scan telemetry, analyse, correlate and attribute in one go",
		Long: `Import intelligence, scan telemetry, run the behaviour analytics, group the
findings into campaigns and attribute each, into DIR/whodunit.db (emptied
first; with --db, into that database as it is), store the analysis run,
then write five reports to DIR (report.html, report.md, report.json,
report.stix.json, sightings.csv) and print a summary; with --json the
report document on stdout and the import lines on stderr.`,
		Example: `  whodunit hunt --intel ../shared/data/intel/attack/enterprise-attack.json.gz \
    --actor-intel APT1=../shared/data/intel/apt1 --logs /var/log/zeek --out case-42`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(f.logs) == 0 {
				return usagef("--logs is required")
			}
			if len(f.intel) == 0 && len(f.actorIntel) == 0 {
				return usagef("--intel or --actor-intel is required")
			}
			return app.hunt(cmd.Context(), &f, cmd.Flags().Changed("db"))
		},
	}
	fl := c.Flags()
	fl.StringArrayVar(&f.intel, "intel", nil, "intelligence file or directory (repeatable)")
	fl.StringArrayVar(&f.actorIntel, "actor-intel", nil, "ACTOR=PATH: intelligence whose indicators all belong to ACTOR (repeatable)")
	fl.StringArrayVar(&f.logs, "logs", nil, "telemetry file or directory (repeatable)")
	fl.StringVar(&f.out, "out", "whodunit-hunt", "directory for the database and the reports")
	fl.StringVar(&f.tlp, "tlp", "amber", "TLP level of the reports, which leave out what it does not cover: "+strings.Join(reportTLPLevels, ", "))
	fl.StringVar(&f.org, "org", "whodunit", "reporting organisation named in the STIX report")
	fl.StringVar(&f.sign, "sign", "", "private key (whodunit keygen) to sign report.json and report.stix.json with (writes FILE.sig)")
	fl.StringVar(&f.scan.allowlist, "allowlist", "", "file of known-good addresses and names for the analytics")
	fl.IntVar(&f.scan.workers, "workers", 0, "parallel scan workers (default: one per CPU)")
	f.scan.nats.add(c, "run the scan through 'whodunit worker' processes on this NATS JetStream server (see docs/workers.md)")
	fl.BoolVar(&f.scan.sharedStorage, "shared-storage", false, "with --nats: the workers read the files at the same paths (shared storage) instead of through the object store")
	fl.BoolVar(&f.scan.noIndex, "no-index", false, "do not keep the observable index that retro-hunts match later intelligence against")
	f.register(c)
	return c
}

// importPlan turns --intel and --actor-intel into one import per labelling.
func (f *huntFlags) importPlan(app *App) ([]hunt.ImportOptions, error) {
	var plan []hunt.ImportOptions
	if len(f.intel) > 0 {
		plan = append(plan, hunt.ImportOptions{Paths: f.intel, Labels: intel.DefaultOptions(), Log: app.Log})
	}
	for _, ai := range f.actorIntel {
		actor, path, ok := strings.Cut(ai, "=")
		if !ok || actor == "" || path == "" {
			return nil, usagef("--actor-intel wants ACTOR=PATH, got %q", ai)
		}
		labels := intel.DefaultOptions()
		labels.Actor = actor
		plan = append(plan, hunt.ImportOptions{Paths: []string{path}, Labels: labels, Log: app.Log})
	}
	return plan, nil
}

// freshStore points --db at DIR/whodunit.db (unless --db was given) and
// removes what an earlier hunt left there.
func (app *App) freshStore(dir string, dbGiven bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if dbGiven {
		return nil
	}
	app.DBPath = filepath.Join(dir, "whodunit.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(app.DBPath + suffix); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

func (app *App) hunt(ctx context.Context, f *huntFlags, dbGiven bool) error {
	if _, err := parseReportTLP(f.tlp); err != nil {
		return usagef("--tlp: %v", err)
	}
	plan, err := f.importPlan(app)
	if err != nil {
		return err
	}
	sg, err := loadSigner(f.sign)
	if err != nil {
		return err
	}
	scanOpt, err := app.scanOptions(f.logs, &f.scan)
	if err != nil {
		return err
	}
	if err := app.freshStore(f.out, dbGiven); err != nil {
		return err
	}
	// the cache goes beside the hunt's own database, known only now
	scanOpt.SnapshotCache = app.snapshotCacheDir(&f.scan)
	db, err := app.createStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	an, closeGeo, err := f.analyseOptions(hunt.AnalyseOptions{Org: f.org, TLP: f.tlp, Tool: "whodunit " + Version})
	if err != nil {
		return err
	}
	defer closeGeo()
	an.Signature = sg.info()
	run := hunt.Options{Intel: plan, Scan: scanOpt, Analyse: an, OutDir: f.out}
	if f.scan.nats.url != "" {
		run.ScanWith = func(ctx context.Context, db hunt.ScanTarget, opt hunt.ScanOptions) (*hunt.ScanResult, error) {
			return app.scanNATS(ctx, db, opt, &f.scan)
		}
	}
	res, err := hunt.Run(ctx, db, run)
	if res != nil && res.Imports != nil {
		if ierr := app.withoutJSON(func() error { return app.reportImport(res.Imports) }); ierr != nil && err == nil {
			err = ierr
		}
	}
	if errors.Is(err, hunt.ErrImport) {
		err = &ExitCodeError{Code: ExitError, Err: err}
	}
	if err != nil {
		return err
	}
	if sg != nil {
		sigs, err := sg.signFiles(filepath.Join(f.out, hunt.ReportName("json", res.Data)), filepath.Join(f.out, hunt.ReportName("stix", res.Data)))
		res.Written = append(res.Written, sigs...)
		if err != nil {
			return err
		}
	}
	return app.printHunt(ctx, db, res)
}

// withoutJSON runs fn as if --json were not given and --quiet were: the
// hunt's import lines are text, on stderr when stdout carries the JSON
// report document.
func (app *App) withoutJSON(fn func() error) error {
	jsonOut, quiet, stdout := app.JSON, app.Quiet, app.Stdout
	if jsonOut {
		app.Stdout = app.Stderr
	}
	app.JSON, app.Quiet = false, true
	defer func() { app.JSON, app.Quiet, app.Stdout = jsonOut, quiet, stdout }()
	return fn()
}

func (app *App) printHunt(ctx context.Context, db interface {
	IntelStats(context.Context) (store.IntelStats, error)
}, res *hunt.Result) error {
	if app.JSON {
		return app.printJSON(res.Data.Doc)
	}
	if !app.Quiet {
		st, _ := db.IntelStats(ctx)
		fmt.Fprintf(app.Stdout, "intelligence: %d indicators from %d sources\n", st.Objects[intel.TypeIndicator], st.Sources)
		app.printScanSummary(res.Scan)
		fmt.Fprintln(app.Stdout)
	}
	printAssessmentSummary(app.Stdout, res.Data.Doc)
	fmt.Fprintf(app.Stdout, "\nReports: %s\n", strings.Join(res.Written, ", "))
	return nil
}
