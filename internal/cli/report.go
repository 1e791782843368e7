package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/report"
)

// reportTLPLevels are the levels --tlp takes ("white" is read as its TLP
// 2.0 name, clear); red is not one: what is marked red never leaves.
var reportTLPLevels = []string{"clear", "green", "amber", "amber+strict"}

// parseReportTLP normalises a --tlp value.
func parseReportTLP(s string) (string, error) {
	c, err := report.ParseTLP(s)
	if err != nil {
		return "", err
	}
	return c.Max.String(), nil
}

// parseReportFormat normalises a --format value.
func parseReportFormat(s string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(s))
	if f == "markdown" {
		f = "md"
	}
	for _, ok := range report.Formats {
		if f == ok {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, strings.Join(report.Formats, ", "))
}

// checkOutputFile says, before anything is analysed, why path cannot be
// written: a directory, or a directory that does not exist.
func checkOutputFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("-o %s: is a directory; name a file in it", path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("-o %s: directory %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("-o %s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("-o %s: %s is not a directory", path, dir)
	}
	return nil
}

func newReportCmd(app *App) *cobra.Command {
	var (
		af                                 attributeFlags
		format, campaign, tlp, org, output string
		signKey                            string
	)
	c := &cobra.Command{
		Use:   "report --format html|md|json|stix|csv [-o FILE]",
		Short: "Write the report of what the database holds: HTML, Markdown, report.json, a STIX 2.1 bundle or a CSV of sightings",
		Long: `Analyse the sightings and detections in the database (correlation and
attribution, as 'whodunit attribute' does) and write the report in one format:

  html   one self-contained file: summary, campaigns with timeline, map,
         heat map and evidence matrix, statistics, appendices; prints cleanly
  md     the same structure in Markdown, for tickets and wikis
  json   report.json
  stix   a STIX 2.1 bundle (identity, report, campaigns, actors with
         attributed-to confidence, indicators, sightings, observed data),
         marked with the --tlp level
  csv    every sighting, for spreadsheets

Without -o, or with -o -, the report goes to standard output; -o FILE is
written atomically (a failed run leaves no partial file). Nothing is stored:
'whodunit attribute' stores an analysis run.`,
		Example: `  whodunit report --format html -o report.html
  whodunit report --format stix --tlp green --org "Example SOC" -o case-42.stix.json
  whodunit report --format md --campaign c-7f3a9e`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := parseReportFormat(format)
			if err != nil {
				return usagef("--format: %v", err)
			}
			level, err := parseReportTLP(tlp)
			if err != nil {
				return usagef("--tlp: %v", err)
			}
			if output != "" && output != "-" {
				if err := checkOutputFile(output); err != nil {
					return err
				}
			}
			sg, err := loadSigner(signKey)
			if err != nil {
				return err
			}
			if sg != nil && (f != "json" && f != "stix" || output == "" || output == "-") {
				return usagef("--sign signs a json or stix report written with -o FILE")
			}
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			data, err := app.analyse(ctx, db, af, hunt.AnalyseOptions{Org: org, TLP: level})
			if err != nil {
				return err
			}
			data.Org, data.TLP = org, level
			data.Doc.Signature = sg.info()
			if campaign != "" {
				if data, err = data.OnlyCampaign(campaign); err != nil {
					return usagef("--campaign: %v", err)
				}
			}
			defs, err := report.MarkingDefinitions(ctx, db)
			if err != nil {
				return err
			}
			withheld, err := data.LimitToMarking(defs)
			if err != nil {
				return usagef("%v", err)
			}
			if n := withheld.Total(); n > 0 {
				app.infof("report: left out what TLP:%s does not cover: %d indicator(s), %d sighting(s), %d evidence item(s), %d actor profile(s), %d profile indicator(s)",
					strings.ToUpper(level), withheld.Indicators, withheld.Sightings, withheld.Evidence, withheld.ActorProfiles, withheld.ProfileIndicators)
			}
			render := func(w io.Writer) error { return report.Render(f, w, data) }
			if output == "" || output == "-" {
				return render(app.Stdout)
			}
			if err := fileio.WriteAtomic(output, render); err != nil {
				return err
			}
			if sg != nil {
				if _, err := sg.signFiles(output); err != nil {
					return err
				}
			}
			if !app.Quiet {
				fmt.Fprintf(app.Stderr, "wrote %s (%s, %d campaign(s), %s)\n", output, f, len(data.Doc.Campaigns), "TLP:"+strings.ToUpper(level))
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&format, "format", "html", "output format: "+strings.Join(report.Formats, ", "))
	fl.StringVar(&campaign, "campaign", "", "report only the campaign with this id")
	fl.StringVar(&tlp, "tlp", report.DefaultTLP, "TLP 2.0 level of the report; what it does not cover is left out: "+strings.Join(reportTLPLevels, ", "))
	fl.StringVar(&org, "org", "whodunit", "reporting organisation, named in the report and as the STIX identity")
	fl.StringVarP(&output, "output", "o", "", "file to write (default or -: standard output)")
	fl.StringVar(&signKey, "sign", "", "private key (whodunit keygen) to sign the json or stix report with (writes FILE.sig)")
	af.register(c)
	return c
}
