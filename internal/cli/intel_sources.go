package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/store"
)

// sourceJSON is one line of intel sources --json.
type sourceJSON struct {
	Name        string    `json:"name"`
	Format      string    `json:"format"`
	Path        string    `json:"path"`
	ImportedAt  time.Time `json:"imported_at"`
	Objects     int       `json:"objects"`
	Reliability string    `json:"reliability"`
}

func newIntelSourcesCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "sources",
		Short: "List the imported sources: name, format, path, when, how many objects, reliability",
		Long: `List every imported source, oldest first: its name (--source, or the file's
name), format, path, when it was imported, how many objects it asserts (a
list's indicators with their implied relationships, and warninglists) and
its Admiralty reliability grade. A file imported again after it changed is
listed once per import.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			sums, err := db.SourceSummaries(ctx)
			if err != nil {
				return err
			}
			out := make([]sourceJSON, 0, len(sums))
			for _, s := range sums {
				out = append(out, sourceJSON{Name: s.Source.Name, Format: s.Source.Format, Path: s.Source.Path,
					ImportedAt: s.Source.ImportedAt.UTC(), Objects: s.Objects, Reliability: s.Source.Reliability.String()})
			}
			if app.JSON {
				return app.printJSON(out)
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFORMAT\tIMPORTED\tOBJECTS\tRELIABILITY\tPATH")
			for _, s := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.Name, s.Format, s.ImportedAt.Format("2006-01-02 15:04:05"), s.Objects, s.Reliability, s.Path)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			app.infof("%d source(s)", len(out))
			return app.printSubscriptions(ctx, db)
		},
	}
}

func newIntelDeleteCmd(app *App) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "delete --source NAME",
		Short: "Delete an imported source: what only it asserted goes, what others assert too stays",
		Long: `Delete every import of the source NAME (see 'whodunit intel sources') in one
transaction. Objects that only it asserted go, with their versions, names,
relationships and match rows; objects another source asserts too stay,
with their other sources. Stored sightings and analysis runs are kept.`,
		Example: `  whodunit intel delete --source apt1-fqdn.dat`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usagef("--source is required (see 'whodunit intel sources')")
			}
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := db.DeleteSource(ctx, name)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no source named %q (see 'whodunit intel sources')", name)
			}
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(res)
			}
			fmt.Fprintf(app.Stdout, "deleted source %s (%d import(s)): %d objects removed, %d kept for their other sources, %d warninglists removed\n",
				res.Name, res.Sources, res.Deleted, res.Kept, res.Warninglists)
			return nil
		},
	}
	c.Flags().StringVar(&name, "source", "", "name of the source to delete, as 'intel sources' lists it")
	return c
}

// printSubscriptions lists the TAXII collections 'intel pull' follows and
// where each stopped.
func (app *App) printSubscriptions(ctx context.Context, db store.Store) error {
	ss, ok := db.(store.SubscriptionStore)
	if !ok {
		return nil
	}
	subs, err := ss.Subscriptions(ctx)
	if err != nil || len(subs) == 0 {
		return err
	}
	fmt.Fprintln(app.Stdout)
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBSCRIPTION\tPULLED\tADDED AFTER\tCOLLECTION\tURL")
	for _, s := range subs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Updated.UTC().Format("2006-01-02 15:04:05"), s.AddedAfter, s.Collection, s.URL)
	}
	return tw.Flush()
}
