package attribute

import (
	"fmt"
	"sort"
	"strings"
)

// assertion is one indicator of a fact, weighed, with the actors it leads to.
type assertion struct {
	iw     indicatorWeight
	w      float64 // its weight for the actors, after a warninglist's share
	actors map[string]Path
}

// credibility is what an assertion's origin vouches for, whatever the
// value's specificity or the source's grade: confidence × age.
func (a assertion) credibility() float64 { return a.iw.conf * a.iw.age }

// factEvidence is everything one fact says: for the actors its indicators
// lead to, and for coincidence when it is warninglisted, stale, revoked or
// claimed by several actors. Each (fact, hypothesis) is one item.
func (s *assessor) factEvidence(f *fact) []Evidence {
	all := s.tallyOf(f, nil)
	var as []assertion
	for _, id := range f.inds {
		ind := s.g.Indicator(id)
		if ind == nil || ind.Indicator == nil {
			continue
		}
		a := assertion{iw: s.weigh(id, ind, s.sampleValue(f, id), f.first), actors: map[string]Path{}}
		a.w = a.iw.weight()
		if all.suppressed {
			a.w *= s.cfg.Indicators.WarninglistShare
		}
		for _, p := range s.g.Attributions(id) {
			if _, dup := a.actors[p.ActorID]; !dup {
				a.actors[p.ActorID] = p
				s.hyp(p.ActorID)
			}
		}
		as = append(as, a)
	}
	if len(as) == 0 {
		return nil
	}
	// The best assertion speaks for the fact; the others are listed.
	sort.SliceStable(as, func(i, j int) bool { return as[i].w > as[j].w })
	best := as[0]
	var out []Evidence
	if all.suppressed {
		out = append(out, s.coincidenceItem(f, as, all, "warninglisted-indicator", best.iw.weight(),
			fmt.Sprintf("%s is on the warninglist %q: shared or benign infrastructure, not a marker of any actor", best.iw.what, all.list)))
	}
	if best.iw.ageNote != "" {
		lost := best.iw.spec * best.iw.conf * best.iw.rel * (1 - best.iw.age) * s.cfg.Indicators.StaleToCoincidence
		out = append(out, s.coincidenceItem(f, as, all, "stale-indicator", lost, best.iw.what+" is "+best.iw.ageNote))
	}
	actors := unionActors(as)
	if n := float64(len(actors)); n > 1 {
		var names []string
		for _, id := range actors {
			names = append(names, s.hyp(id).Name)
		}
		out = append(out, s.coincidenceItem(f, as, all, "multi-claimed-indicator", best.w*(n-1)/n,
			fmt.Sprintf("%s is claimed by %d actors (%s): it proves none of them alone", best.iw.what, len(actors), joinSorted(names))))
	}
	for _, actorID := range actors {
		out = append(out, s.actorItem(f, as, actorID, float64(len(actors)), all.suppressed))
	}
	return out
}

// sampleValue is the first value the indicator id matched in f.
func (s *assessor) sampleValue(f *fact, id string) string {
	for _, si := range f.sightings {
		if s.sightings[si].IndicatorID == id {
			return s.sightings[si].Value
		}
	}
	return ""
}

// unionActors are the actors any assertion leads to, sorted.
func unionActors(as []assertion) []string {
	set := map[string]bool{}
	for _, a := range as {
		for id := range a.actors {
			set[id] = true
		}
	}
	return sortedKeys(set)
}

// actorItem is the fact's one item for an actor: the best assertion that
// leads to it, 1/n of its weight when the fact leads to n actors, with
// every source and indicator behind it.
func (s *assessor) actorItem(f *fact, as []assertion, actorID string, n float64, suppressed bool) Evidence {
	var mine []assertion
	for _, a := range as {
		if _, ok := a.actors[actorID]; ok {
			mine = append(mine, a)
		}
	}
	best, path := mine[0], mine[0].actors[actorID]
	t := s.tallyOf(f, indicatorSet(mine))
	kind := "indicator-match"
	if path.Malware != "" {
		kind = "malware-family"
	}
	iw := best.iw
	e := Evidence{Kind: kind, Supports: actorID, Weight: round(best.w / n), Source: iw.source, Reliability: iw.grade,
		Origin: iw.origin, Sources: sourcesOf(mine), Indicators: idsOf(mine), Group: "origin|" + iw.origin, Credibility: best.credibility(),
		Factors: s.factorsOf(iw, suppressed, int(n))}
	e.Detail = fmt.Sprintf("%s %s (specificity %.2f, confidence %.2f, age %.2f, reliability %.2f); %s; asserted by %s (origin: %s)",
		iw.what, t.seenText(), iw.spec, iw.conf, iw.age, iw.rel, path.Via, strings.Join(e.Sources, ", "), iw.origin)
	t.fill(&e)
	return e
}

// coincidenceItem is one item for coincidence about the whole fact.
func (s *assessor) coincidenceItem(f *fact, as []assertion, all tally, kind string, w float64, detail string) Evidence {
	iw := as[0].iw
	e := Evidence{Kind: kind, Supports: Coincidence, Weight: round(w), Source: iw.source, Reliability: iw.grade,
		Origin: iw.origin, Sources: sourcesOf(as), Indicators: idsOf(as), Detail: detail + " (" + all.seenText() + ")",
		Group: kind + "|" + iw.origin, Factors: s.factorsOf(iw, all.suppressed, len(unionActors(as)))}
	all.fill(&e)
	return e
}

// factorsOf are the numbers an indicator item's weight comes from.
func (s *assessor) factorsOf(iw indicatorWeight, suppressed bool, actors int) *Factors {
	f := &Factors{Specificity: iw.spec, Confidence: iw.conf, Age: iw.age, Reliability: iw.rel, Share: 1, Actors: actors}
	if suppressed {
		f.Share = s.cfg.Indicators.WarninglistShare
	}
	return f
}

func indicatorSet(as []assertion) map[string]bool {
	out := map[string]bool{}
	for _, a := range as {
		out[a.iw.id] = true
	}
	return out
}

func idsOf(as []assertion) []string { return sortedKeys(indicatorSet(as)) }

func sourcesOf(as []assertion) []string {
	set := map[string]bool{}
	for _, a := range as {
		for _, src := range a.iw.sources {
			set[src] = true
		}
	}
	return sortedKeys(set)
}
