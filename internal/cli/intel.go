package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

func newIntelCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "intel",
		Short: "Import, inspect and search threat intelligence",
	}
	c.AddCommand(newIntelImportCmd(app), newIntelStatsCmd(app), newIntelShowCmd(app), newIntelListCmd(app),
		newIntelMergeCmd(app), newIntelUnmergeCmd(app), newIntelCheckCmd(app), newIntelSourcesCmd(app), newIntelDeleteCmd(app), newIntelPullCmd(app))
	return c
}

type importFlags struct {
	format, typ, source, actor, tlp, reliability string
	confidence                                   int
	noRetro                                      bool
}

func (f *importFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.format, "format", "", "force the format instead of sniffing it (stix, zeek-intel, csv, list, openioc, misp, misp-galaxy, warninglist)")
	fl.StringVar(&f.typ, "type", "", "value type of every entry of a plain list or CSV (ipv4, ipv6, cidr, domain, url, md5, sha1, sha256, email, ja3, …)")
	fl.StringVar(&f.source, "source", "", "source label (default: the file name)")
	fl.StringVar(&f.actor, "actor", "", "attribute every indicator of the files to this actor")
	fl.IntVar(&f.confidence, "confidence", -1, "confidence 0-100 for indicators that state none")
	fl.StringVar(&f.tlp, "tlp", "", "TLP marking for what the files hold (clear, green, amber, amber+strict, red; 1.0: white)")
	fl.StringVar(&f.reliability, "reliability", "", "Admiralty reliability grade of the source, A-F")
	fl.BoolVar(&f.noRetro, "no-retro", false, "do not match the new indicators against the observable index of past scans")
}

func (f *importFlags) options() (intel.Options, error) {
	opt := intel.DefaultOptions()
	if f.typ != "" {
		t, err := intel.ParseValueType(f.typ)
		if err != nil {
			return opt, usagef("--type: %v", err)
		}
		opt.Type = t
	}
	if f.confidence < -1 || f.confidence > 100 {
		return opt, usagef("--confidence must be 0-100")
	}
	opt.Confidence = f.confidence
	if f.reliability != "" {
		r, err := intel.ParseReliability(f.reliability)
		if err != nil {
			return opt, usagef("--reliability: %v", err)
		}
		opt.Reliability = r
	}
	if f.tlp != "" {
		switch strings.ToLower(strings.TrimPrefix(strings.ToLower(f.tlp), "tlp:")) {
		case "clear", "white", "green", "amber", "amber+strict", "red":
			opt.TLP = strings.ToLower(strings.TrimPrefix(strings.ToLower(f.tlp), "tlp:"))
		default:
			return opt, usagef("--tlp: unknown level %q", f.tlp)
		}
	}
	opt.Source, opt.Actor = f.source, f.actor
	return opt, nil
}

func newIntelImportCmd(app *App) *cobra.Command {
	var f importFlags
	c := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import intelligence files, directories (recursive), .gz, or - for stdin, into the database",
		Long: `Import intelligence into the database (created when it does not exist), one
transaction per file. The format is sniffed from the content; telemetry
(Zeek and EVE logs, pcap) and READMEs or licences are refused with what they
look like, and --format forces a format. In a directory, files of no known
format are ignored.`,
		Example: `  whodunit intel import enterprise-attack.json.gz apt1.json
  whodunit intel import --type domain --actor APT1 --tlp green --reliability B c2-domains.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt, err := f.options()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := app.createStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			before := time.Now()
			results, err := app.importPaths(ctx, db, args, f.format, opt)
			if err != nil {
				return err
			}
			err = app.reportImport(results)
			app.suggestActors(ctx, db, results, opt)
			if !f.noRetro {
				app.retroAfterImport(ctx, db, results, before)
			}
			return err
		},
	}
	f.register(c)
	return c
}

// importPaths imports into db, one transaction per file.
func (app *App) importPaths(ctx context.Context, db hunt.ImportTarget, paths []string, format string, opt intel.Options) ([]intel.FileResult, error) {
	results, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: paths, Format: format, Labels: opt, Log: app.Log})
	if errors.Is(err, intel.ErrUnknownFormat) {
		return nil, usagef("--format: %v", err)
	}
	return results, err
}

type importJSON struct {
	Path     string         `json:"path"`
	Format   string         `json:"format,omitempty"`
	Objects  map[string]int `json:"objects,omitempty"`
	Network  int            `json:"network_evaluable"`
	HostOnly int            `json:"host_only"`
	Skipped  int            `json:"skipped"`
	Errors   []string       `json:"errors,omitempty"`
	Already  bool           `json:"already_imported,omitempty"`
	Ignored  bool           `json:"ignored,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// reportImport prints one line per file and fails when any file failed.
func (app *App) reportImport(results []intel.FileResult) error {
	failed := 0
	var js []importJSON
	for _, r := range results {
		j := importJSON{Path: r.Path, Format: r.Format, Objects: r.Stats.Objects, Network: r.Stats.Network,
			HostOnly: r.Stats.HostOnly, Skipped: r.Stats.Skipped, Already: r.Already, Ignored: r.Ignored}
		for _, e := range r.Stats.Errors {
			j.Errors = append(j.Errors, e.Error())
		}
		if r.Err != nil {
			failed++
			j.Error = r.Err.Error()
		}
		js = append(js, j)
		if app.JSON {
			continue
		}
		switch {
		case r.Err != nil:
			app.errorf("%v (nothing imported from this file)", r.Err)
			app.diskHint(r.Err)
		case r.Ignored && r.LooksLike != "":
			app.infof("%s: looks like %s, not intelligence; ignored", r.Path, r.LooksLike)
		case r.Ignored:
			app.infof("%s: not intelligence in a known format, ignored", r.Path)
		case r.Already:
			fmt.Fprintf(app.Stdout, "%s: already imported, unchanged\n", r.Path)
		default:
			line := fmt.Sprintf("%s: %s: %s", r.Path, r.Format, r.Stats.String())
			if r.Stats.HostOnly > 0 {
				line += fmt.Sprintf("; %d network-evaluable, %d host-only indicators", r.Stats.Network, r.Stats.HostOnly)
			}
			fmt.Fprintln(app.Stdout, line)
			for _, e := range r.Stats.Errors {
				fmt.Fprintf(app.Stderr, "  skipped: %v\n", e)
			}
			if n := r.Stats.Skipped - len(r.Stats.Errors); n > 0 {
				fmt.Fprintf(app.Stderr, "  … and %d more skipped records\n", n)
			}
		}
	}
	if app.JSON {
		if err := app.printJSON(js); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d of %d files failed to import", failed, len(results))}
	}
	return nil
}

func newIntelStatsCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Count what the store holds: by object type, indicator type, source, actor, marking",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := db.IntelStats(cmd.Context())
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(st)
			}
			app.printStats(st)
			return nil
		},
	}
}

func (app *App) printStats(st store.IntelStats) {
	w := app.Stdout
	total := 0
	for _, n := range st.Objects {
		total += n
	}
	fmt.Fprintf(w, "%d objects from %d sources (%d superseded versions kept)\n", total, st.Sources, st.Versions)
	printCounts(w, "Objects by type", st.Objects, 0)
	printCounts(w, "Indicators by value type", st.IndicatorTypes, 0)
	fmt.Fprintf(w, "Indicators: %d network-evaluable, %d host-only, %d context-only, %d revoked, %d on a warninglist\n",
		st.Network, st.HostOnly, st.Context, st.Revoked, st.Warninglisted)
	if st.Warninglists > 0 {
		fmt.Fprintf(w, "Warninglists: %d\n", st.Warninglists)
	}
	printCounts(w, "Objects by source", st.BySource, 0)
	printCounts(w, "Indicators by actor", st.ByActor, 15)
	printCounts(w, "Objects by marking", st.ByMarking, 0)
}

func printCounts(w interface{ Write([]byte) (int, error) }, title string, m map[string]int, max int) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(w, "%s:\n", title)
	for i, k := range keys {
		if max > 0 && i == max {
			fmt.Fprintf(w, "  … %d more\n", len(keys)-max)
			break
		}
		fmt.Fprintf(w, "  %8d  %s\n", m[k], k)
	}
}
