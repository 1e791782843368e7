package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

type sightingsFlags struct {
	value, host, campaign, indicator, since, until string
	limit                                          int
	csv                                            bool
}

func newSightingsCmd(app *App) *cobra.Command {
	var f sightingsFlags
	c := &cobra.Command{
		Use:   "sightings [--value V] [--host IP] [--campaign ID] [--indicator ID] [--since T] [--until T]",
		Short: "List the stored sightings of a value, a host, an indicator or a campaign, in time order",
		Long: `Pivot from a value, a host or an indicator to every stored sighting, in record
time order. --campaign takes a campaign of the latest stored analysis run
('whodunit attribute' or 'hunt' stores one; ids ignore case) and lists the
sightings of its indicators by its victims. --since and --until take
RFC 3339 times or dates (2013-02-18); --until is exclusive.

Output: a table; with --json one sighting per line (JSON lines, the same
objects as 'scan --json'); with --csv a CSV with a header row.`,
		Example: `  whodunit sightings --value msnhome.org
  whodunit sightings --host 10.10.12.2 --since 2018-03-23 --csv > host.csv
  whodunit sightings --campaign c-78d8b1b941 --json | jq .value`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.sightings(cmd.Context(), &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.value, "value", "", "the value seen, exactly (a name, an address, a hash)")
	fl.StringVar(&f.host, "host", "", "an IP address that was the source or the destination")
	fl.StringVar(&f.campaign, "campaign", "", "a campaign of the latest analysis run: its indicators seen by its victims")
	fl.StringVar(&f.indicator, "indicator", "", "the id of the indicator that matched")
	fl.StringVar(&f.since, "since", "", "only records at or after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.until, "until", "", "only records before this time (RFC 3339 or YYYY-MM-DD)")
	fl.IntVar(&f.limit, "limit", 0, "at most this many (0: all)")
	fl.BoolVar(&f.csv, "csv", false, "write CSV instead of a table")
	return c
}

// query turns the flags into the store's filter.
func (f *sightingsFlags) query() (store.SightingQuery, error) {
	q := store.SightingQuery{Value: f.value, IndicatorID: f.indicator}
	if f.host != "" {
		a, err := netip.ParseAddr(f.host)
		if err != nil {
			return q, usagef("--host: %q is not an IP address", f.host)
		}
		q.Host = a.String()
	}
	var err error
	if q.Since, err = parseWhen(f.since); err != nil {
		return q, usagef("--since: %v", err)
	}
	if q.Until, err = parseWhen(f.until); err != nil {
		return q, usagef("--until: %v", err)
	}
	if f.limit < 0 {
		return q, usagef("--limit must be 0 or more")
	}
	return q, nil
}

// parseWhen reads an RFC 3339 time or a date (midnight UTC); "" is none.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a date (YYYY-MM-DD)", s)
}

func (app *App) sightings(ctx context.Context, f *sightingsFlags) error {
	q, err := f.query()
	if err != nil {
		return err
	}
	if f.csv && app.JSON {
		return usagef("--csv and --json exclude each other")
	}
	db, err := app.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	keep := func(*match.Sighting) bool { return true }
	if f.campaign != "" {
		if keep, err = campaignFilter(ctx, db, f.campaign); err != nil {
			return err
		}
	} else {
		q.Limit = f.limit // a campaign filters after the store, so limits after it too
	}
	out := app.sightingPrinter(f.csv)
	n := 0
	errLimit := errors.New("limit reached")
	err = db.Sightings(ctx, q, func(sg *match.Sighting) error {
		if !keep(sg) {
			return nil
		}
		if err := out.put(sg); err != nil {
			return err
		}
		n++
		if f.limit > 0 && n == f.limit {
			return errLimit
		}
		return nil
	})
	if err != nil && !errors.Is(err, errLimit) {
		return err
	}
	if err := out.flush(); err != nil {
		return err
	}
	app.infof("%d sighting(s)", n)
	return nil
}

// campaignFilter keeps the sightings of a stored campaign (see
// hunt.CampaignSightings), with the command's messages.
func campaignFilter(ctx context.Context, db store.FindingReader, id string) (func(*match.Sighting) bool, error) {
	keep, err := hunt.CampaignSightings(ctx, db, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errors.New("--campaign: no analysis run is stored (run 'whodunit attribute' first)")
	case hunt.IsNoCampaign(err):
		return nil, usagef("--campaign: %v", err)
	}
	return keep, err
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// sightingPrinter writes sightings as a table, CSV or JSON lines.
type sightingPrinter struct {
	put   func(*match.Sighting) error
	flush func() error
}

func (app *App) sightingPrinter(asCSV bool) sightingPrinter {
	switch {
	case app.JSON:
		enc := json.NewEncoder(app.Stdout)
		enc.SetEscapeHTML(false)
		return sightingPrinter{put: func(sg *match.Sighting) error { return enc.Encode(sg) }, flush: func() error { return nil }}
	case asCSV:
		w := csv.NewWriter(app.Stdout)
		_ = w.Write(sightingCSVHeader)
		return sightingPrinter{put: func(sg *match.Sighting) error { return w.Write(sightingCSVRow(sg)) },
			flush: func() error { w.Flush(); return w.Error() }}
	}
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSRC\tDST\tFIELD\tVALUE\tINDICATOR\tWHERE")
	return sightingPrinter{put: func(sg *match.Sighting) error { return writeSightingRow(tw, sg) }, flush: tw.Flush}
}

var sightingCSVHeader = []string{"time", "indicator_id", "indicator", "type", "field", "value", "src_ip", "src_port",
	"dst_ip", "dst_port", "file", "line", "suppressed", "warninglist"}

func sightingCSVRow(sg *match.Sighting) []string {
	return []string{sg.Time.UTC().Format(time.RFC3339Nano), sg.IndicatorID, sg.Indicator, string(sg.Type), sg.Field, sg.Value,
		addrText(sg.SrcIP), strconv.Itoa(int(sg.SrcPort)), addrText(sg.DstIP), strconv.Itoa(int(sg.DstPort)),
		sg.File, strconv.FormatInt(sg.Line, 10), strconv.FormatBool(sg.Suppressed), sg.Warninglist}
}

func writeSightingRow(w io.Writer, sg *match.Sighting) error {
	state := ""
	if sg.Suppressed {
		state = " [suppressed: " + sg.Warninglist + "]"
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s%s\t%s\t%s:%d\n", sg.Time.UTC().Format("2006-01-02 15:04:05"), addrText(sg.SrcIP),
		addrText(sg.DstIP), sg.Field, sg.Value, state, sg.Indicator, sg.File, sg.Line)
	return err
}
