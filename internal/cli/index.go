package cli

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
)

func newIndexCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "index",
		Short: "Show what the observable index holds: distinct values, how often they were seen, from when to when, by type",
		Long: `Sum the observable index that scans and the watcher keep (see 'retro'):
how many distinct values it holds, how many times they were seen in all,
the first and last time any was seen, and the values per type.

Output: one line of totals, then a line per value type; with --json the
sums as JSON.`,
		Example: `  whodunit index
  whodunit index --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := db.ObservationStats(ctx)
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(st)
			}
			if st.Values == 0 {
				fmt.Fprintln(app.Stdout, "the observable index is empty: no scan has kept it yet")
				return nil
			}
			fmt.Fprintf(app.Stdout, "%d distinct values seen %d times, first %s, last %s\n",
				st.Values, st.Records, retroTime(st.First), retroTime(st.Last))
			for _, t := range slices.Sorted(maps.Keys(st.ByType)) {
				fmt.Fprintf(app.Stdout, "  %-12s %d\n", t, st.ByType[t])
			}
			return nil
		},
	}
}
