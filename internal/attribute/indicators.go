package attribute

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// seenIndicator is what a campaign's sightings show of one indicator.
type seenIndicator struct {
	id         string
	refs       []SightingRef // the first MaxSightings
	suppressed bool
	list       string // the warninglist that suppressed it
	victims    map[netip.Addr]bool
	first      time.Time
}

// seenIndicators groups the campaign's sightings by indicator, in id order:
// one piece of evidence per indicator, however often it was seen.
func (s *assessor) seenIndicators() []*seenIndicator {
	byInd := map[string]*seenIndicator{}
	var out []*seenIndicator
	for _, si := range s.c.Sightings {
		sg := &s.sightings[si]
		x, ok := byInd[sg.IndicatorID]
		if !ok {
			x = &seenIndicator{id: sg.IndicatorID, victims: map[netip.Addr]bool{}, first: sg.Time}
			byInd[sg.IndicatorID] = x
			out = append(out, x)
		}
		if len(x.refs) < s.cfg.Indicators.MaxSightings {
			x.refs = append(x.refs, SightingRef{File: sg.File, Line: sg.Line, Field: sg.Field, Value: sg.Value, Time: sg.Time})
		}
		if sg.Suppressed {
			x.suppressed, x.list = true, sg.Warninglist
		}
		x.victims[sg.SrcIP] = true
		if sg.Time.Before(x.first) {
			x.first = sg.Time
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// indicatorWeight is an indicator's weight for the actors it leads to, with
// its factors.
type indicatorWeight struct {
	what                 string // "domain example.com", or the pattern
	source, grade        string
	spec, conf, age, rel float64
	ageNote              string // why age is below 1
}

func (w indicatorWeight) weight() float64 { return w.spec * w.conf * w.age * w.rel }

// indicatorEvidence is everything one seen indicator says: for the actors
// it leads to, and for coincidence when it is warninglisted, stale,
// revoked or claimed by several actors.
func (s *assessor) indicatorEvidence(x *seenIndicator) []Evidence {
	ind := s.g.Indicator(x.id)
	if ind == nil || ind.Indicator == nil {
		return nil
	}
	paths := s.g.Attributions(x.id)
	iw := s.weigh(x, ind)
	w := iw.weight()
	var out []Evidence
	if x.suppressed {
		out = append(out, warninglistedEvidence(x, iw))
		w *= s.cfg.Indicators.WarninglistShare
	}
	if iw.ageNote != "" {
		out = append(out, s.staleEvidence(x, iw))
	}
	if len(paths) == 0 {
		return out
	}
	actors := map[string][]Path{}
	for _, p := range paths {
		actors[p.ActorID] = append(actors[p.ActorID], p)
		s.hyp(p.ActorID)
	}
	if len(actors) > 1 {
		out = append(out, s.multiClaimedEvidence(x, iw, w, actors))
	}
	return append(out, matchEvidence(x, iw, w, actors)...)
}

// weigh computes the factors of an indicator's weight.
func (s *assessor) weigh(x *seenIndicator, ind *intel.Object) indicatorWeight {
	cfg := s.cfg.Indicators
	iw := indicatorWeight{what: ind.Indicator.Pattern}
	iw.source, iw.grade, iw.rel = s.bestSource(x.id)
	iw.spec = cfg.PatternUnknown
	if t := intel.Detect(x.refs[0].Value); t != intel.UnknownType {
		iw.spec = cfg.PatternFactor * cfg.specificity(intel.Observable{Type: t, Value: x.refs[0].Value})
	}
	if obs := ind.Indicator.Observables; len(obs) > 0 {
		iw.spec = 0
		for _, ob := range obs {
			iw.spec = math.Max(iw.spec, cfg.specificity(ob))
		}
		iw.what = fmt.Sprintf("%s %s", obs[0].Type, obs[0].Value)
	}
	iw.conf = cfg.DefaultConfidence
	if ind.Confidence >= 0 {
		iw.conf = math.Max(cfg.MinConfidence, float64(ind.Confidence)/100)
	}
	iw.age, iw.ageNote = cfg.ageFactor(ind, x.first, iw.spec)
	return iw
}

// bestSource is the most reliable source of an indicator, with its grade
// and reliability factor.
func (s *assessor) bestSource(id string) (name, grade string, rel float64) {
	for _, src := range s.g.IndicatorSources(id) {
		if w := s.cfg.Indicators.reliability(src.Reliability.String()); w > rel || name == "" {
			name, grade, rel = src.Name, src.Reliability.String(), w
		}
	}
	if name == "" {
		return "unknown source", grade, s.cfg.Indicators.UnknownReliability
	}
	return name, grade, rel
}

// ageFactor discounts revoked and expired indicators, and infrastructure
// indicators first valid long before they were seen.
func (w IndicatorWeights) ageFactor(ind *intel.Object, first time.Time, spec float64) (float64, string) {
	is := ind.Indicator
	switch {
	case ind.Revoked:
		return w.RevokedAge, "revoked"
	case !is.ValidUntil.IsZero() && first.After(is.ValidUntil):
		return w.ExpiredAge, "seen after its valid_until " + is.ValidUntil.Format("2006-01-02")
	case !is.ValidFrom.IsZero() && first.Sub(is.ValidFrom) > w.staleAfter() && spec < w.StaleBelowSpecificity:
		return w.StaleAge, "infrastructure indicator older than " + fmtYears(w.staleAfter())
	}
	return 1, ""
}

func (w IndicatorWeights) staleAfter() time.Duration {
	return time.Duration(w.StaleAfterDays) * 24 * time.Hour
}

// specificity is how much a match of a value says about who is behind it:
// a file hash or full URL more than a domain, a domain more than an IP, an
// IP more than a network range.
func (w IndicatorWeights) specificity(o intel.Observable) float64 {
	if o.Type == intel.CIDR {
		p, err := netip.ParsePrefix(o.Value)
		if err != nil {
			return w.CIDRFloor
		}
		bits := p.Bits()
		if p.Addr().Is6() {
			bits -= 96 // compare like IPv4: the last 32 bits
		}
		return math.Max(w.CIDRFloor, w.CIDRFull*float64(bits-w.CIDRZeroBits)/float64(32-w.CIDRZeroBits))
	}
	for _, cl := range w.Specificity {
		for _, t := range cl.Types {
			if t == o.Type {
				return cl.Weight
			}
		}
	}
	return w.OtherSpecificity
}

// reliability maps an Admiralty grade ("" when unknown) to a factor.
func (w IndicatorWeights) reliability(grade string) float64 {
	if f, ok := w.Reliability[grade]; ok {
		return f
	}
	return w.UnknownReliability
}

func warninglistedEvidence(x *seenIndicator, iw indicatorWeight) Evidence {
	return Evidence{Kind: "warninglisted-indicator", Supports: Coincidence, Weight: round(iw.weight()), Source: iw.source, Reliability: iw.grade,
		Detail:    fmt.Sprintf("%s is on the warninglist %q: shared or benign infrastructure, not a marker of any actor", iw.what, x.list),
		Sightings: x.refs}
}

// staleEvidence gives coincidence part of the weight an indicator lost to age.
func (s *assessor) staleEvidence(x *seenIndicator, iw indicatorWeight) Evidence {
	lost := iw.spec * iw.conf * iw.rel * (1 - iw.age) * s.cfg.Indicators.StaleToCoincidence
	return Evidence{Kind: "stale-indicator", Supports: Coincidence, Weight: round(lost), Source: iw.source,
		Detail: iw.what + " is " + iw.ageNote, Sightings: x.refs}
}

// multiClaimedEvidence gives coincidence the (n−1)/n of an indicator's
// weight that n claiming actors cannot all deserve.
func (s *assessor) multiClaimedEvidence(x *seenIndicator, iw indicatorWeight, w float64, actors map[string][]Path) Evidence {
	n := float64(len(actors))
	var names []string
	for id := range actors {
		names = append(names, s.hyp(id).Name)
	}
	sort.Strings(names)
	return Evidence{Kind: "multi-claimed-indicator", Supports: Coincidence, Weight: round(w * (n - 1) / n), Source: iw.source,
		Detail:    fmt.Sprintf("%s is claimed by %d actors (%s): it proves none of them alone", iw.what, len(actors), strings.Join(names, ", ")),
		Sightings: x.refs}
}

// matchEvidence gives each actor an indicator leads to 1/n of its weight,
// as an indicator match or, through a malware family, a malware match.
// All intelligence from one source is one group.
func matchEvidence(x *seenIndicator, iw indicatorWeight, w float64, actors map[string][]Path) []Evidence {
	n := float64(len(actors))
	detail := fmt.Sprintf("%s seen %d× on %d host(s) (specificity %.2f, confidence %.2f, age %.2f, reliability %.2f)",
		iw.what, len(x.refs), len(x.victims), iw.spec, iw.conf, iw.age, iw.rel)
	var out []Evidence
	for _, actorID := range sortedKeys(actors) {
		ps := actors[actorID]
		kind := "indicator-match"
		if ps[0].Malware != "" {
			kind = "malware-family"
		}
		out = append(out, Evidence{Kind: kind, Supports: actorID, Weight: round(w / n), Source: iw.source, Reliability: iw.grade,
			Detail: detail + "; " + ps[0].Via, Sightings: x.refs, group: "intel|" + iw.source})
	}
	return out
}
