package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

func newRetroCmd(app *App) *cobra.Command {
	var since string
	c := &cobra.Command{
		Use:   "retro [--since T]",
		Short: "Retro-hunt: match indicators against the observable index of past scans, without reading the logs again",
		Long: `Match indicators against the observable index that scans keep (every
distinct domain, address, URL, hash, certificate, JA3 and e-mail address
they saw, with first and last seen and cited records) and store what they
hit as sightings marked retrospective, with the records' own times. With
--since, only the indicators the database added after T (RFC 3339 or
YYYY-MM-DD); without, every current indicator. 'intel import' runs this
for its new indicators by itself. A rerun stores nothing twice.

Output: the indicators that were seen, with first and last seen; with
--json the result as JSON.`,
		Example: `  whodunit retro
  whodunit retro --since 2026-12-01 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseWhen(since)
			if err != nil {
				return usagef("--since: %v", err)
			}
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := app.retro(ctx, db, t)
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(res)
			}
			fmt.Fprintln(app.Stdout, retroSentence(res, "indicators were seen before"))
			fmt.Fprintf(app.Stdout, "%d observations probed, %d retrospective sightings (%d new)\n", res.Probed, res.Sightings, res.NewSightings)
			return nil
		},
	}
	c.Flags().StringVar(&since, "since", "", "only indicators added after this time (RFC 3339 or YYYY-MM-DD)")
	return c
}

// retro runs a retro-hunt on a store that keeps the index.
func (app *App) retro(ctx context.Context, db store.Store, since time.Time) (*hunt.RetroResult, error) {
	rt, ok := db.(hunt.RetroTarget)
	if !ok {
		return nil, fmt.Errorf("this database cannot page its indicators: no retro-hunt")
	}
	return hunt.Retro(ctx, rt, hunt.RetroOptions{Since: since, Log: app.Log, SnapshotCache: app.snapshotCacheDir(&scanFlags{})})
}

// maxRetroNamed bounds the indicators one sentence names.
const maxRetroNamed = 5

// retroSentence says how many indicators were seen and names the first:
// "2 new indicators were seen before: evil.com (first 2018-03-24 00:01 UTC,
// 12 sightings), …". Warninglisted ones are counted apart.
func retroSentence(res *hunt.RetroResult, what string) string {
	var named []string
	n, quiet := 0, 0
	for _, h := range res.Hits {
		if h.Suppressed {
			quiet++
			continue
		}
		n++
		if len(named) < maxRetroNamed {
			named = append(named, fmt.Sprintf("%s (first %s, last %s, %d sightings)", h.Indicator, retroTime(h.First), retroTime(h.Last), h.Sightings))
		}
	}
	s := fmt.Sprintf("%d %s", n, what)
	if len(named) > 0 {
		s += ": " + strings.Join(named, ", ")
		if n > len(named) {
			s += fmt.Sprintf(", … and %d more", n-len(named))
		}
	}
	if quiet > 0 {
		s += fmt.Sprintf(" (and %d on warninglists)", quiet)
	}
	return s
}

func retroTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// retroAfterImport retro-hunts the indicators an import added, when it
// added any, and says which were seen before (on stderr with --json, whose
// stdout holds the import's JSON only). A failure is reported, not fatal:
// the import itself succeeded.
func (app *App) retroAfterImport(ctx context.Context, db store.Store, results []intel.FileResult, before time.Time) {
	added := false
	for _, r := range results {
		added = added || r.Err == nil && !r.Already && !r.Ignored
	}
	if !added {
		return
	}
	res, err := app.retro(ctx, db, before)
	if err != nil {
		app.errorf("retro-hunt of the new indicators: %v", err)
		return
	}
	line := retroSentence(res, "new indicators were seen before")
	if app.JSON {
		app.infof("%s", line)
		return
	}
	fmt.Fprintln(app.Stdout, line)
}
