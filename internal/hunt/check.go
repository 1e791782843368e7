package hunt

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intelgraph"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// CheckHit is one indicator a checked value hits, with what the store
// knows of it: its name, the actors it points to, the sources that assert
// it and how often it was sighted.
type CheckHit struct {
	Indicator string   `json:"indicator_id"`
	Type      string   `json:"type"`
	Value     string   `json:"indicator_value"`
	Field     string   `json:"field"`
	Name      string   `json:"name,omitempty"`
	Actors    []string `json:"actors"`
	Sources   []string `json:"sources"`
	Sightings int      `json:"sightings"`
}

// CheckSource is what checking values needs of a store: the matcher's
// inputs, the intelligence graph and the stored sightings.
type CheckSource interface {
	MatchSource
	intelgraph.Reader
	Sightings(ctx context.Context, q store.SightingQuery, fn func(*match.Sighting) error) error
}

// CheckResult is what one value hits: indicators (with the matcher's own
// semantics: subdomains, CIDR ranges, URL forms) and warninglists.
type CheckResult struct {
	Value        string     `json:"value"`
	Type         string     `json:"type"`
	Indicators   []CheckHit `json:"indicators"`
	Warninglists []string   `json:"warninglists"`
}

// ErrUncheckable is returned (wrapped) for a value whose type cannot be
// told or that is not a valid value of its type.
var ErrUncheckable = errors.New("cannot check value")

// Check says which indicators and warninglists each raw value hits. typ
// forces the value type ("" = detect it from the value's shape).
func Check(ctx context.Context, db CheckSource, raws []string, typ intel.ValueType) ([]CheckResult, error) {
	snap, err := BuildSnapshot(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	out := make([]CheckResult, 0, len(raws))
	for _, raw := range raws {
		t := typ
		if t == "" {
			t = intel.Detect(raw)
		}
		if t == intel.UnknownType {
			return nil, fmt.Errorf("%w %q: cannot tell what kind of value this is (give its type)", ErrUncheckable, raw)
		}
		v, err := intel.Normalize(t, raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUncheckable, err)
		}
		r := CheckResult{Value: v, Type: string(t), Indicators: checkIndicators(snap, t, v), Warninglists: snap.Warninglists().Check(t, v)}
		if r.Warninglists == nil {
			r.Warninglists = []string{}
		}
		out = append(out, r)
	}
	if err := describeHits(ctx, db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// describeHits adds to every hit the indicator's name, actors, sources and
// stored sighting count.
func describeHits(ctx context.Context, db CheckSource, results []CheckResult) error {
	g, err := intelgraph.New(ctx, db, nil)
	if err != nil {
		return err
	}
	for i := range results {
		for j := range results[i].Indicators {
			h := &results[i].Indicators[j]
			if o := g.Indicator(h.Indicator); o != nil {
				h.Name = o.Name
			}
			h.Actors = actorNames(g, h.Indicator)
			h.Sources = []string{}
			for _, src := range g.IndicatorSources(h.Indicator) {
				h.Sources = append(h.Sources, src.Name)
			}
			if err := db.Sightings(ctx, store.SightingQuery{IndicatorID: h.Indicator}, func(*match.Sighting) error {
				h.Sightings++
				return nil
			}); err != nil {
				return err
			}
		}
	}
	return g.Err()
}

// actorNames names the actors an indicator points to, each once.
func actorNames(g *intelgraph.Graph, indicatorID string) []string {
	names := []string{}
	seen := map[string]bool{}
	for _, p := range g.Attributions(indicatorID) {
		name := p.ActorID
		if a := g.Actor(p.ActorID); a != nil && a.Name != "" {
			name = a.Name
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

func checkIndicators(snap *match.Snapshot, t intel.ValueType, v string) []CheckHit {
	hits := []CheckHit{}
	ev, ok := probeEvent(t, v)
	if !ok {
		return hits
	}
	seen := map[string]bool{}
	snap.Match(ev, func(s *match.Sighting) {
		if !seen[s.IndicatorID] {
			seen[s.IndicatorID] = true
			hits = append(hits, CheckHit{Indicator: s.IndicatorID, Type: string(s.Type), Value: s.Indicator, Field: s.Field})
		}
	})
	return hits
}

// probeEvent puts a bare value where telemetry would carry it, so that the
// matcher's own semantics answer.
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
		ev.Kind, ev.Method, ev.Host, ev.URI = telemetry.KindHTTP, "GET", intel.URLHost(v), urlPath(v)
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

// urlPath is the path and query of a normalised URL ("/" when it has none).
func urlPath(u string) string {
	rest := u
	if i := strings.Index(u, "://"); i >= 0 {
		rest = u[i+3:]
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}
