package attribute

import (
	"fmt"
	"math"
	"sort"
)

// sensitivity drops each item in turn and concludes again: the items
// whose absence would change the top actor or its estimative words are
// the ones the assessment rests on. Only those are listed.
func (s *assessor) sensitivity(withouts []*Assessment) []Sensitivity {
	base := s.a
	var out []Sensitivity
	for i, e := range base.Evidence {
		r := withouts[i]
		st := Sensitivity{Evidence: i, Detail: e.Detail, ChangesTop: topID(r) != topID(base), ChangesWords: r.Estimate != base.Estimate,
			WithoutTop: topName(r), WithoutWords: r.Estimate}
		if st.ChangesTop || st.ChangesWords {
			out = append(out, st)
		}
	}
	return out
}

// withouts concludes once without each item in turn.
func (s *assessor) withouts() []*Assessment {
	ev := s.a.Evidence
	out := make([]*Assessment, len(ev))
	for i := range ev {
		without := make([]Evidence, 0, len(ev)-1)
		without = append(without, ev[:i]...)
		without = append(without, ev[i+1:]...)
		out[i] = s.conclude(without)
	}
	return out
}

// diagnosticity says for every item how far it separates the hypotheses:
// the total variation distance between the likelihoods with and without
// it (½ Σ |Δ likelihood|). An item every hypothesis explains equally
// moves nothing, however strong it looks; Favours is the hypothesis that
// loses most without it.
func (s *assessor) diagnosticity(withouts []*Assessment) []Diagnosticity {
	out := make([]Diagnosticity, 0, len(s.a.Evidence))
	for i, e := range s.a.Evidence {
		without := map[string]float64{}
		for _, h := range withouts[i].Hypotheses {
			without[h.ID] = h.Likelihood
		}
		d := Diagnosticity{Evidence: i, Detail: e.Detail}
		total, most := 0.0, 0.0
		for _, h := range s.a.Hypotheses {
			delta := h.Likelihood - without[h.ID]
			total += math.Abs(delta)
			if delta > most {
				most, d.Favours = delta, h.ID
			}
		}
		d.Value = round(total / 2)
		out = append(out, d)
	}
	return out
}

func topID(a *Assessment) string {
	if a.Top == nil {
		return ""
	}
	return a.Top.ID
}

func topName(a *Assessment) string {
	if a.Top == nil {
		return "no actor"
	}
	return a.Top.Name
}

// candidate is a hypothetical new indicator: a value class from a source
// of one grade, at the default confidence.
type candidate struct {
	class, grade string
	weight, cred float64
}

// candidates are every value class from every graded source, weakest first.
func (s *assessor) candidates() []candidate {
	in := s.cfg.Indicators
	var out []candidate
	for _, cl := range in.Specificity {
		for _, g := range []string{"A", "B", "C", "D", "E"} {
			rel := in.reliability(g)
			out = append(out, candidate{class: cl.Name, grade: g, weight: round(cl.Weight * in.DefaultConfidence * rel), cred: in.DefaultConfidence * rel})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].weight < out[j].weight })
	return out
}

// withNew concludes with one more item for actor from an origin not yet seen.
func (s *assessor) withNew(actor string, c candidate) *Assessment {
	ev := append(append([]Evidence(nil), s.a.Evidence...), Evidence{Kind: "indicator-match", Supports: actor, Weight: c.weight,
		Origin: "a new origin", Group: "origin|\x00hypothetical", Credibility: c.cred})
	return s.conclude(ev)
}

// wouldChange says, from the numbers, what new evidence would change the
// assessment: the weakest indicator from a new independent origin that
// would name the top actor or raise its words, and the weakest that would
// make the strongest other actor the top.
func (s *assessor) wouldChange() []string {
	var out []string
	if top := s.a.Top; top != nil {
		if line := s.strengthenTop(top); line != "" {
			out = append(out, line)
		}
	}
	for _, h := range s.a.Hypotheses {
		if h.ID == UnknownActor || h.ID == Coincidence || (s.a.Top != nil && h.ID == s.a.Top.ID) {
			continue
		}
		out = append(out, s.overtake(h))
		break
	}
	return out
}

func (s *assessor) strengthenTop(top *Hypothesis) string {
	for _, c := range s.candidates() {
		r := s.withNew(top.ID, c)
		if topID(r) == top.ID && r.Estimate != s.a.Estimate {
			return fmt.Sprintf("a %s from an independent origin graded %s naming %s (weight %s) would change the estimate from %q to %q (%.0f%%)",
				c.class, c.grade, top.Name, num(c.weight), s.a.Estimate, r.Estimate, 100*r.Top.Likelihood)
		}
	}
	return fmt.Sprintf("no single indicator from a new origin would change the estimate %q for %s", s.a.Estimate, top.Name)
}

func (s *assessor) overtake(h Hypothesis) string {
	for _, c := range s.candidates() {
		r := s.withNew(h.ID, c)
		if topID(r) == h.ID {
			return fmt.Sprintf("a %s from an independent origin graded %s naming %s (weight %s) would make %s the most likely actor: %q (%.0f%%)",
				c.class, c.grade, h.Name, num(c.weight), h.Name, r.Estimate, 100*r.Top.Likelihood)
		}
	}
	return fmt.Sprintf("no single indicator from a new origin would make %s (score %.2f) the most likely actor", h.Name, h.Score)
}
