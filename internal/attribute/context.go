package attribute

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// techniqueEvidence: behaviour consistent with each actor's techniques.
// Weak, because many actors share them.
func (s *assessor) techniqueEvidence() []Evidence {
	shown := map[string]string{} // technique -> the analytic that showed it last
	for _, di := range s.c.Detections {
		d := &s.detections[di]
		for _, t := range s.cfg.Techniques.ByAnalytic[d.Analytic] {
			shown[t] = d.Analytic
		}
	}
	var out []Evidence
	for _, h := range s.actorHypotheses() {
		act := s.g.Actor(h.ID)
		if act == nil {
			continue
		}
		var match []string
		for t, an := range shown {
			if act.Techniques[t] {
				match = append(match, t+" ("+an+")")
			}
		}
		if len(match) == 0 {
			continue
		}
		sort.Strings(match)
		w := math.Min(s.cfg.Techniques.Cap, s.cfg.Techniques.Bonus*float64(len(match)))
		out = append(out, Evidence{Kind: "technique", Supports: h.ID, Weight: round(w), Source: "behaviour analytics",
			Detail: fmt.Sprintf("observed behaviour matches techniques %s uses: %s (weak: common to many actors)", h.Name, strings.Join(match, ", "))})
	}
	return out
}

// infraCountries counts the campaign's unsuppressed infrastructure by country.
func (s *assessor) infraCountries() map[string]int {
	out := map[string]int{}
	for _, inf := range s.c.Infrastructure {
		if inf.Country != "" && !inf.Suppressed {
			out[inf.Country]++
		}
	}
	return out
}

// geographyEvidence: infrastructure where the actor's other known
// infrastructure is — which is not where the operators are. Only
// infrastructure known from other indicators than the ones seen here
// counts, so that one match is not counted twice.
func (s *assessor) geographyEvidence() []Evidence {
	seenHere := map[string]bool{}
	for _, id := range s.c.Indicators {
		seenHere[id] = true
	}
	var out []Evidence
	for _, h := range s.actorHypotheses() {
		act := s.g.Actor(h.ID)
		if act == nil {
			continue
		}
		known := map[string]bool{}
		for _, k := range act.KnownInfra {
			if k.Country != "" && !seenHere[k.IndicatorID] {
				known[k.Country] = true
			}
		}
		var common []string
		for cc := range s.a.InfraCountries {
			if known[cc] {
				common = append(common, cc)
			}
		}
		if len(common) == 0 {
			continue
		}
		sort.Strings(common)
		out = append(out, Evidence{Kind: "infrastructure-geography", Supports: h.ID, Weight: s.cfg.GeographyBonus, Source: "geolocation",
			Detail: fmt.Sprintf("infrastructure in %s, where %s's other known infrastructure is (weak: servers can be rented anywhere)", strings.Join(common, ", "), h.Name)})
	}
	return out
}

// timeZoneEvidence compares the operators' working hours with each actor's
// country, and lists the countries the operators may work in.
func (s *assessor) timeZoneEvidence() []Evidence {
	tz, cfg := s.a.TimeZone, s.cfg.TimeZone
	if !tz.Enough {
		return nil
	}
	best := tz.Best
	s.a.OperatorCountries = countriesNear(best.Hours, cfg.OperatorCountryHours)
	strength := round(cfg.Gain * best.Fit * math.Min(1, float64(tz.Events)/float64(cfg.FullAtEvents)))
	tzText := fmt.Sprintf("UTC%s (%.0f%% of %d human-driven events in a Mon–Fri %02d–%02d working week)",
		fmtOffset(best.Hours), 100*best.Fit, tz.Events, cfg.Model.OfficeStart, cfg.Model.OfficeEnd)
	var out []Evidence
	for _, h := range s.actorHypotheses() {
		offs := countryOffsets[h.Country]
		if h.Country == "" || len(offs) == 0 {
			continue
		}
		dist := 24.0
		for _, o := range offs {
			dist = math.Min(dist, math.Abs(o-best.Hours))
		}
		switch {
		case dist <= cfg.ConsistentHours:
			out = append(out, Evidence{Kind: "operator-timezone", Supports: h.ID, Weight: strength, Source: "activity times",
				Detail: fmt.Sprintf("operators work at %s, consistent with %s in %s", tzText, h.Name, h.Country)})
		case dist >= cfg.InconsistentHours:
			out = append(out, Evidence{Kind: "operator-timezone", Supports: h.ID, Against: true, Weight: strength, Source: "activity times",
				Detail: fmt.Sprintf("operators work at %s, %.0f hours from %s's country %s", tzText, dist, h.Name, h.Country)})
		}
	}
	return out
}

// countriesNear lists the countries with a standard offset closer than
// within hours to offset.
func countriesNear(offset, within float64) []string {
	var out []string
	for cc, offs := range countryOffsets {
		for _, o := range offs {
			if math.Abs(o-offset) < within {
				out = append(out, cc)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// unexplainedEvidence: activity that no intelligence explains argues for
// an actor not in the intelligence.
func (s *assessor) unexplainedEvidence() []Evidence {
	unexplained := 0
	for _, di := range s.c.Detections {
		if !s.detections[di].Suppressed {
			unexplained++
		}
	}
	if unexplained == 0 || len(s.c.Indicators) > 0 {
		return nil
	}
	return []Evidence{{Kind: "unexplained-behaviour", Supports: UnknownActor, Weight: s.cfg.UnexplainedBonus, Source: "behaviour analytics",
		Detail: fmt.Sprintf("%d behavioural detection(s) and no indicator from any intelligence", unexplained)}}
}
