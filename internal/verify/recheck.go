package verify

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/report"
)

// recheckCampaign redoes a campaign's assessment from what the report
// carries and compares every figure of it with the report's.
func recheckCampaign(doc *report.Document, c *report.Campaign) error {
	rec := recordOf(c)
	a, err := attribute.Recompute(doc.MethodologyVersion, rec, doc.MethodologyConfig)
	if err != nil {
		return err
	}
	got := report.AttributionOf(a)
	// The evidence first, then the hypotheses and the time zone, so that
	// the reason names the figure changed rather than what follows from it.
	if err := diff("attribution.evidence", c.Attribution.Evidence, got.Evidence); err != nil {
		return err
	}
	if err := diff("attribution.operator_utc_offset", c.Attribution.OperatorUTCOffset, got.OperatorUTCOffset); err != nil {
		return err
	}
	if err := diff("hour_of_week", c.HourOfWeek, a.TimeZone.HourOfWeek); err != nil {
		return err
	}
	if err := diff("attribution.hypotheses", c.Attribution.Hypotheses, got.Hypotheses); err != nil {
		return err
	}
	return diff("attribution", c.Attribution, got)
}

// recordOf is what the report carries of a campaign's assessment.
func recordOf(c *report.Campaign) attribute.Record {
	at := c.Attribution
	r := attribute.Record{CampaignID: c.ID, Hypotheses: at.Hypotheses, HumanTimes: c.HumanEvents, InfraCountries: map[string]int{}}
	for _, inf := range c.Infrastructure {
		if inf.Country != "" && !inf.Suppressed {
			r.InfraCountries[inf.Country]++
		}
	}
	for _, e := range at.Evidence {
		r.Evidence = append(r.Evidence, attribute.Evidence{Kind: e.Kind, Supports: e.SupportsID, Against: e.Against, Weight: e.Weight,
			Detail: e.Detail, Source: e.Source, Reliability: e.Reliability, Sightings: e.Sightings, Count: e.Count, More: e.More,
			Hosts: e.Hosts, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Values: e.Values, Sources: e.Sources, Origin: e.Origin,
			Indicators: e.Indicators, Group: e.Group, Credibility: e.Credibility, Factors: e.Factors})
	}
	return r
}

// diff compares what the report says with what was recomputed, through
// their JSON, and names the first figure that differs by its path.
func diff(name string, said, recomputed any) error {
	a, err := asJSON(said)
	if err != nil {
		return err
	}
	b, err := asJSON(recomputed)
	if err != nil {
		return err
	}
	if path, x, y, same := firstDiff(name, a, b); !same {
		return fmt.Errorf("%s: the report says %s, recomputed %s", path, show(x), show(y))
	}
	return nil
}

func asJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

// firstDiff walks two decoded JSON values in order and returns the path
// of the first difference.
func firstDiff(path string, a, b any) (string, any, any, bool) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path, a, b, false
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			if p, u, v, same := firstDiff(path+"."+k, x[k], y[k]); !same {
				return p, u, v, false
			}
		}
		return path, nil, nil, true
	case []any:
		y, ok := b.([]any)
		if !ok {
			return path, a, b, false
		}
		for i := 0; i < len(x) && i < len(y); i++ {
			if p, u, v, same := firstDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); !same {
				return p, u, v, false
			}
		}
		if len(x) != len(y) {
			return path + ".length", len(x), len(y), false
		}
		return path, nil, nil, true
	}
	if !reflect.DeepEqual(a, b) {
		return path, a, b, false
	}
	return path, nil, nil, true
}

// show prints a value of a difference briefly.
func show(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if v == nil {
		return "nothing"
	}
	return strings.TrimSpace(s)
}
