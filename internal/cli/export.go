package cli

import (
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/export"
)

func newExportCmd(app *App) *cobra.Command {
	var format, out string
	var opt export.Options
	c := &cobra.Command{
		Use:   "export --format FORMAT [-o PATH]",
		Short: "Write the store's indicators for Zeek, Suricata, MISP, STIX or CSV, within a TLP limit",
		Long: `export writes the current indicators in a form a sensor or platform reads:
zeek-intel (a Zeek intel file), suricata (a directory of datasets, hash
lists, IP reputation and whodunit.rules), misp (one event), stix (a 2.1
bundle with the actors and markings) or csv.

--tlp is the most restrictive marking that may leave (default amber): an
indicator marked above it is withheld and counted. Revoked, expired and
warninglisted indicators stay behind too (--include-warninglisted sends the
last). What a format cannot express is counted on stderr, never dropped
silently.`,
		Example: `  whodunit export --format zeek-intel -o apt1.intel --actor APT1
  whodunit export --format suricata -o suricata-rules/ --tlp green
  whodunit export --format stix --source apt1.json > apt1-bundle.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(export.Formats, format) {
				return usagef("--format must be one of %s", strings.Join(export.Formats, ", "))
			}
			if _, err := export.ParseTLP(opt.MaxTLP); err != nil {
				return usagef("--tlp: %v", err)
			}
			if app.JSON && (out == "" || out == "-") && format != "suricata" {
				return usagef("--json prints the summary on stdout: name the output with -o")
			}
			db, err := app.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			sum, err := export.ToPath(cmd.Context(), db, format, out, app.Stdout, opt)
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(sum)
			}
			printExportSummary(app, sum)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&format, "format", "", "output format: "+strings.Join(export.Formats, ", "))
	f.StringVarP(&out, "output", "o", "", "file to write (default stdout), or the directory for suricata")
	f.StringVar(&opt.Actor, "actor", "", "only indicators of this actor (any name, alias or ATT&CK id)")
	f.StringVar(&opt.Source, "source", "", "only indicators asserted by this source")
	f.StringVar(&opt.MaxTLP, "tlp", "amber", "most restrictive TLP marking that may leave: clear, green, amber, amber+strict, red")
	f.BoolVar(&opt.IncludeWarninglisted, "include-warninglisted", false, "export indicators on a warninglist too")
	return c
}

// printExportSummary tells on stderr what left and what stayed behind.
func printExportSummary(app *App, s *export.Summary) {
	mark := "unmarked"
	if s.Marking != "" {
		mark = "TLP:" + strings.ToUpper(s.Marking)
	}
	app.infof("export: %d indicators as %s (most restrictive marking: %s)", s.Exported, s.Format, mark)
	for _, l := range sortedKeys(s.Withheld) {
		app.errorf("%d indicators withheld: marked TLP:%s", s.Withheld[l], strings.ToUpper(l))
	}
	for _, why := range sortedKeys(s.Unexpressible) {
		app.errorf("%d indicators not exported: %s cannot express them (%s)", s.Unexpressible[why], s.Format, why)
	}
	for _, r := range []struct {
		n    int
		what string
	}{{s.Warninglisted, "on a warninglist (--include-warninglisted sends them)"}, {s.Revoked, "revoked"}, {s.Expired, "expired"}} {
		if r.n > 0 {
			app.infof("export: %d indicators not exported: %s", r.n, r.what)
		}
	}
	if len(s.Files) > 1 {
		app.infof("export: wrote %s", strings.Join(s.Files, ", "))
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
