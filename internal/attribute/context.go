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
		out = append(out, Evidence{Kind: "technique", Supports: h.ID, Weight: round(w), Source: "behaviour analytics", Factors: &Factors{Techniques: len(match)},
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
// infrastructure known from other indicators than the ones seen here, and
// from another origin than the matches that name the actor here, counts:
// one report cannot corroborate itself.
func (s *assessor) geographyEvidence() []Evidence {
	seenHere := map[string]bool{}
	for _, id := range s.c.Indicators {
		seenHere[id] = true
	}
	matchOrigins := map[string]map[string]bool{} // actor -> origins of its matches here
	for _, e := range s.ev {
		if e.Credibility > 0 && !e.Against {
			if matchOrigins[e.Supports] == nil {
				matchOrigins[e.Supports] = map[string]bool{}
			}
			matchOrigins[e.Supports][e.Origin] = true
		}
	}
	var out []Evidence
	for _, h := range s.actorHypotheses() {
		act := s.g.Actor(h.ID)
		if act == nil {
			continue
		}
		known := map[string]string{} // country -> the first other origin placing infrastructure there
		for _, k := range act.KnownInfra {
			if k.Country == "" || seenHere[k.IndicatorID] || matchOrigins[h.ID][k.Origin] {
				continue
			}
			if o, ok := known[k.Country]; !ok || k.Origin < o {
				known[k.Country] = k.Origin
			}
		}
		var common, origins []string
		for _, cc := range sortedKeys(s.a.InfraCountries) {
			if o, ok := known[cc]; ok {
				common, origins = append(common, cc), append(origins, o)
			}
		}
		if len(common) == 0 {
			continue
		}
		sort.Strings(origins)
		out = append(out, Evidence{Kind: "infrastructure-geography", Supports: h.ID, Weight: s.cfg.GeographyBonus, Source: "geolocation",
			Origin: origins[0], Group: "origin|" + origins[0],
			Detail: fmt.Sprintf("infrastructure in %s, where %s's other known infrastructure is according to %s (weak: servers can be rented anywhere)",
				strings.Join(common, ", "), h.Name, strings.Join(origins, ", "))})
	}
	return out
}

// timeZoneEvidence compares the operators' working hours with each actor's
// country at the season of the activity, weighed by how credible the
// country claim is, and lists the countries the operators may work in.
func (s *assessor) timeZoneEvidence() []Evidence {
	tz, cfg := s.a.TimeZone, s.cfg.TimeZone
	if !tz.Enough || !tz.Fitted {
		return nil
	}
	best := tz.Best
	s.a.OperatorCountries = countriesNear(best.Hours, cfg.OperatorCountryHours, s.season)
	strength := cfg.Gain * best.Fit * math.Min(1, float64(tz.Events)/float64(cfg.FullAtEvents))
	tzText := fmt.Sprintf("UTC%s (%.0f%% of %d human-driven events in a Mon–Fri %02d–%02d working week)",
		fmtOffset(best.Hours), 100*best.Fit, tz.Events, cfg.Model.OfficeStart, cfg.Model.OfficeEnd)
	var out []Evidence
	for _, h := range s.actorHypotheses() {
		off, ok := countryOffsetAt(h.Country, s.season)
		if !ok {
			continue
		}
		claim, credit := s.countryCredit(h.ID, h.Country)
		w := round(strength * credit)
		dist := math.Abs(off - best.Hours)
		where := fmt.Sprintf("%s in %s (UTC%s on %s; country from %s, credibility %.2f)", h.Name, h.Country, fmtOffset(off), s.season.Format("2006-01-02"), claim, credit)
		switch {
		case dist <= cfg.ConsistentHours:
			out = append(out, Evidence{Kind: "operator-timezone", Supports: h.ID, Weight: w, Source: "activity times", Factors: &Factors{CountryCredibility: credit},
				Detail: fmt.Sprintf("operators work at %s, consistent with %s", tzText, where)})
		case dist >= cfg.InconsistentHours:
			out = append(out, Evidence{Kind: "operator-timezone", Supports: h.ID, Against: true, Weight: w, Source: "activity times", Factors: &Factors{CountryCredibility: credit},
				Detail: fmt.Sprintf("operators work at %s, %s hours from %s", tzText, hours(dist), where)})
		}
	}
	return out
}

// countryCredit is how far the actor's country can be trusted: the best
// claim of that country, reliability × confidence (unstated: the default
// confidence), with the source that makes it.
func (s *assessor) countryCredit(actorID, cc string) (string, float64) {
	in := s.cfg.Indicators
	src, best := "an unnamed source", in.UnknownReliability*in.DefaultConfidence
	found := false
	if act := s.g.Actor(actorID); act != nil {
		for _, c := range act.CountryClaims {
			if c.Country != cc {
				continue
			}
			conf := in.DefaultConfidence
			if c.Confidence >= 0 {
				conf = math.Max(in.MinConfidence, float64(c.Confidence)/100)
			}
			if w := in.reliability(c.Reliability) * conf; !found || w > best {
				src, best, found = c.Source, w, true
			}
		}
	}
	return src, best
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
