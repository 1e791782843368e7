package cli

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// probeEvent puts a bare value where telemetry would carry it, so that the
// matcher's own semantics (subdomains, CIDR ranges, URL forms) answer.
func probeEvent(t intel.ValueType, v string) (*telemetry.Event, bool) {
	ev := &telemetry.Event{Time: time.Now().UTC(), File: "intel check", Line: 1}
	switch t {
	case intel.IPv4, intel.IPv6:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, false
		}
		ev.Kind, ev.DstIP = telemetry.KindConn, a
	case intel.Domain:
		ev.Kind, ev.Query = telemetry.KindDNS, v
	case intel.URL:
		ev.Kind, ev.Method = telemetry.KindHTTP, "GET"
		ev.Host = intel.URLHost(v)
		rest := v[strings.Index(v, "://")+3:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			ev.URI = rest[i:]
		} else {
			ev.URI = "/"
		}
	case intel.MD5:
		ev.Kind, ev.MD5 = telemetry.KindFile, v
	case intel.SHA1:
		ev.Kind, ev.SHA1 = telemetry.KindFile, v
	case intel.SHA256:
		ev.Kind, ev.SHA256 = telemetry.KindFile, v
	case intel.Email:
		ev.Kind, ev.MailFrom = telemetry.KindSMTP, v
	case intel.JA3:
		ev.Kind, ev.JA3 = telemetry.KindTLS, v
	default:
		return nil, false
	}
	return ev, true
}

func newIntelCheckCmd(app *App) *cobra.Command {
	var typ string
	c := &cobra.Command{
		Use:   "check VALUE...",
		Short: "Say which indicators and which warninglists a value hits",
		Example: `  whodunit intel check 8.8.8.8
  whodunit intel check www.hugesoft.org
  whodunit intel check --type ja3 e7d705a3286e19ea42f587b344ee6865`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			wl, err := app.warninglists(ctx, db)
			if err != nil {
				return err
			}
			snap, err := app.compileSnapshot(ctx, db, wl)
			if err != nil {
				return err
			}
			type hit struct {
				Indicator string `json:"indicator_id"`
				Type      string `json:"type"`
				Value     string `json:"indicator_value"`
				Field     string `json:"field"`
			}
			type result struct {
				Value        string   `json:"value"`
				Type         string   `json:"type"`
				Indicators   []hit    `json:"indicators"`
				Warninglists []string `json:"warninglists"`
			}
			var out []result
			for _, raw := range args {
				t := intel.Detect(raw)
				if typ != "" {
					if t, err = intel.ParseValueType(typ); err != nil {
						return usagef("--type: %v", err)
					}
				}
				if t == intel.UnknownType {
					return usagef("%q: cannot tell what kind of value this is (use --type)", raw)
				}
				v, err := intel.Normalize(t, raw)
				if err != nil {
					return usagef("%v", err)
				}
				r := result{Value: v, Type: string(t), Indicators: []hit{}, Warninglists: wl.Check(t, v)}
				if r.Warninglists == nil {
					r.Warninglists = []string{}
				}
				if ev, ok := probeEvent(t, v); ok {
					seen := map[string]bool{}
					snap.Match(ev, func(s *match.Sighting) {
						if !seen[s.IndicatorID] {
							seen[s.IndicatorID] = true
							r.Indicators = append(r.Indicators, hit{Indicator: s.IndicatorID, Type: string(s.Type), Value: s.Indicator, Field: s.Field})
						}
					})
				}
				out = append(out, r)
			}
			if app.JSON {
				return app.printJSON(out)
			}
			for _, r := range out {
				fmt.Fprintf(app.Stdout, "%s (%s)\n", r.Value, r.Type)
				if len(r.Indicators) == 0 {
					fmt.Fprintln(app.Stdout, "  indicators: none")
				}
				for _, h := range r.Indicators {
					name := h.Indicator
					if o, err := db.Object(ctx, h.Indicator); err == nil && o.Name != "" {
						name += " " + o.Name
					}
					fmt.Fprintf(app.Stdout, "  indicator %s %s  (%s)\n", h.Type, h.Value, name)
				}
				if len(r.Warninglists) == 0 {
					fmt.Fprintln(app.Stdout, "  warninglists: none")
				}
				for _, l := range r.Warninglists {
					fmt.Fprintf(app.Stdout, "  warninglist: %s\n", l)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&typ, "type", "", "value type when it cannot be guessed (ja3, ja3s, …)")
	return c
}
