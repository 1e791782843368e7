package cli

import (
	"fmt"
	"net/netip"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/geo"
)

func newGeoCmd(app *App) *cobra.Command {
	var mmdbs []string
	cmd := &cobra.Command{
		Use:   "geo IP...",
		Short: "Print the country, autonomous system and organisation of IP addresses",
		Long: `geo prints what whodunit knows about each address: the country (ISO code
and name), the autonomous system number and its organisation, or the
special-purpose range it belongs to (private, loopback, CGNAT, ...).

The embedded database (built from openly licensed ip-location-db data; see
internal/geo/data/NOTICE) is used unless --geoip names MaxMind-format
databases, such as GeoLite2 or DB-IP City and ASN; repeat --geoip to combine
them, the first file that knows a field wins.`,
		Example: `  whodunit geo 8.8.8.8 2001:4860:4860::8888 10.1.2.3
  whodunit geo --geoip GeoLite2-City.mmdb --geoip GeoLite2-ASN.mmdb 1.1.1.1
  whodunit --json geo 223.166.0.1`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, closeLoc, err := geoLocator(mmdbs)
			if err != nil {
				return err
			}
			defer closeLoc()
			results, bad := lookupAll(loc, args)
			if app.JSON {
				if err := app.printJSON(results); err != nil {
					return err
				}
			} else if err := printGeoTable(app, results); err != nil {
				return err
			}
			if len(mmdbs) == 0 {
				app.infof("geo: embedded data %s (NRO, RouteViews, DB-IP; CC BY 4.0)", geoDataLabel())
			}
			if m, ok := geoMMDB(loc); ok && m.Err() != nil {
				return m.Err()
			}
			if bad > 0 {
				return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("geo: %d of %d arguments are not IP addresses", bad, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&mmdbs, "geoip", nil, "MaxMind-format database `FILE.mmdb` to use instead of the embedded data (repeatable: City + ASN)")
	return cmd
}

// geoResult is one line of output; Info's fields are inlined in JSON.
type geoResult struct {
	IP    string `json:"ip"`
	Found bool   `json:"found"`
	Error string `json:"error,omitempty"` // the argument is not an address
	geo.Info
}

// lookupAll looks every argument up; one that is not an address gets an
// error line of its own, and the rest go on.
func lookupAll(loc geo.Locator, args []string) ([]geoResult, int) {
	results := make([]geoResult, len(args))
	bad := 0
	for i, s := range args {
		a, err := parseGeoAddr(s)
		if err != nil {
			results[i] = geoResult{IP: s, Error: "not an IP address"}
			bad++
			continue
		}
		info, ok := loc.Lookup(a)
		results[i] = geoResult{IP: a.String(), Found: ok, Info: info}
	}
	return results, bad
}

// parseGeoAddr accepts an address as logs write it, bracketed IPv6 included.
func parseGeoAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	return netip.ParseAddr(s)
}

func printGeoTable(app *App, results []geoResult) error {
	tw := tabwriter.NewWriter(app.Stdout, 0, 0, 2, ' ', 0)
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range results {
		switch {
		case r.Error != "":
			app.errorf("geo: %q is not an IP address", r.IP)
		case r.Reserved != "":
			fmt.Fprintf(tw, "%s\t--\t%s\t-\t-\n", r.IP, r.Reserved)
		case !r.Found:
			fmt.Fprintf(tw, "%s\t--\tunknown\t-\t-\n", r.IP)
		default:
			asn := "-"
			if r.ASN != 0 {
				asn = fmt.Sprintf("AS%d", r.ASN)
			}
			code := r.Country
			if code == "" {
				code = "--"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.IP, code, dash(r.CountryName), asn, dash(r.ASOrg))
		}
	}
	return tw.Flush()
}

// geoLocator returns the locator a run uses: the MaxMind files when paths
// are given, else the embedded database, behind a per-run cache. The
// returned function releases the files. Commands that enrich findings with
// geolocation share it and the --geoip flag.
func geoLocator(paths []string) (geo.Locator, func() error, error) {
	if len(paths) > 0 {
		m, err := geo.OpenMMDB(paths...)
		if err != nil {
			return nil, nil, err
		}
		return geoCache{geo.Cached(m), m}, m.Close, nil
	}
	db, err := geo.Default()
	if err != nil {
		return nil, nil, err
	}
	return geo.Cached(db), func() error { return nil }, nil
}

// geoCache keeps the MMDB reachable behind its cache, for Err.
type geoCache struct {
	geo.Locator
	m *geo.MMDB
}

func geoMMDB(l geo.Locator) (*geo.MMDB, bool) {
	if c, ok := l.(geoCache); ok {
		return c.m, true
	}
	return nil, false
}

func geoDataLabel() string {
	db, err := geo.Default()
	if err != nil {
		return "(unavailable)"
	}
	return db.Source()
}
