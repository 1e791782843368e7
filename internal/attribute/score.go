package attribute

import (
	"fmt"
	"math"
	"sort"
)

// score turns the evidence into scores and likelihoods, ranks the
// hypotheses, picks the top actor, the leading hypothesis and the
// alternative, judges them, and orders the evidence by the hypothesis it
// bears on.
func (s *assessor) score() {
	r := s.conclude(s.ev)
	s.a.Hypotheses, s.a.Top, s.a.Leading, s.a.Alternative = r.Hypotheses, r.Top, r.Leading, r.Alternative
	s.a.Estimate, s.a.Confidence, s.a.Reasons = r.Estimate, r.Confidence, r.Reasons
	s.a.Evidence = orderEvidence(s.ev, r.Hypotheses)
}

// conclude is what evidence ev concludes: the ranked hypotheses, the top,
// leading and alternative hypotheses, the estimate and the confidence. It
// changes nothing in s, so that the conclusion without an item can be
// compared with the real one.
func (s *assessor) conclude(ev []Evidence) *Assessment {
	hyps := map[string]*Hypothesis{}
	for id, h := range s.hyps {
		c := *h
		c.Score, c.Likelihood, c.Independent = 0, 0, 0
		hyps[id] = &c
	}
	scoreHypotheses(hyps, ev, s.cfg)
	r := &Assessment{Hypotheses: likelihoods(hyps, s.cfg.Beta), Evidence: ev}
	r.Top = topActor(r.Hypotheses)
	r.judge(s.cfg)
	r.Leading, r.Alternative = leadingAndAlternative(r)
	return r
}

// likelihoods returns the hypotheses ranked by likelihood, a softmax of
// the scores with steepness beta.
func likelihoods(hyps map[string]*Hypothesis, beta float64) []Hypothesis {
	ids := sortedKeys(hyps)
	maxS := math.Inf(-1)
	for _, id := range ids {
		maxS = math.Max(maxS, hyps[id].Score)
	}
	total := 0.0
	for _, id := range ids {
		total += math.Exp(beta * (hyps[id].Score - maxS))
	}
	out := make([]Hypothesis, 0, len(ids))
	for _, id := range ids {
		h := hyps[id]
		h.Likelihood = round(math.Exp(beta*(h.Score-maxS)) / total)
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Likelihood != out[j].Likelihood {
			return out[i].Likelihood > out[j].Likelihood
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// topActor is the most likely known actor among ranked hypotheses.
func topActor(hs []Hypothesis) *Hypothesis {
	for i := range hs {
		if hs[i].ID != UnknownActor && hs[i].ID != Coincidence {
			return &hs[i]
		}
	}
	return nil
}

// leadingAndAlternative: the leading hypothesis is the named actor, or
// else the most likely hypothesis; the alternative is the most likely
// other one, so it never repeats the leader.
func leadingAndAlternative(a *Assessment) (lead, alt *Hypothesis) {
	if len(a.Hypotheses) == 0 {
		return nil, nil
	}
	lead = &a.Hypotheses[0]
	if a.Top != nil && a.Estimate != NotEnoughEvidence {
		lead = a.Top
	}
	for i := range a.Hypotheses {
		if a.Hypotheses[i].ID != lead.ID {
			return lead, &a.Hypotheses[i]
		}
	}
	return lead, nil
}

// orderEvidence sorts evidence by the rank of its hypothesis, then by
// weight; ties keep the order the kinds were weighed in.
func orderEvidence(ev []Evidence, ranked []Hypothesis) []Evidence {
	sort.SliceStable(ev, func(i, j int) bool {
		if ev[i].Supports != ev[j].Supports {
			return rankOf(ranked, ev[i].Supports) < rankOf(ranked, ev[j].Supports)
		}
		return ev[i].Weight > ev[j].Weight
	})
	return ev
}

// scoreHypotheses sets each hypothesis's score: its prior, plus for each
// independent group (an intelligence origin, or a kind of analysis)
// 1 − Π(1 − w), never more than the best credibility its origin vouches
// for, minus the counter-evidence.
func scoreHypotheses(hyps map[string]*Hypothesis, ev []Evidence, cfg Config) {
	groups := map[string]map[string][]float64{} // hypothesis -> group -> weights
	caps := map[string]float64{}                // hypothesis|group -> credibility cap
	against := map[string]float64{}
	for _, e := range ev {
		if e.Against {
			against[e.Supports] += e.Weight
			continue
		}
		if groups[e.Supports] == nil {
			groups[e.Supports] = map[string][]float64{}
		}
		groups[e.Supports][e.Group] = append(groups[e.Supports][e.Group], e.Weight)
		if k := e.Supports + "|" + e.Group; e.Credibility > 0 {
			caps[k] = math.Max(caps[k], e.Credibility)
		}
	}
	for id, h := range hyps {
		score := 0.0
		switch id {
		case UnknownActor:
			score = cfg.UnknownPrior
		case Coincidence:
			score = cfg.CoincidencePrior
		}
		for _, g := range sortedKeys(groups[id]) {
			prod := 1.0
			for _, w := range groups[id][g] {
				prod *= 1 - math.Min(w, cfg.MaxEvidenceWeight)
			}
			sum := 1 - prod
			if c, ok := caps[id+"|"+g]; ok {
				sum = math.Min(sum, c)
			}
			score += sum
			h.Independent++
		}
		h.Score = round(score - against[id])
	}
}

func rankOf(hs []Hypothesis, id string) int {
	for i, h := range hs {
		if h.ID == id {
			return i
		}
	}
	return len(hs)
}

// judge sets the estimate words and the analytic confidence, with reasons.
func (a *Assessment) judge(cfg Config) {
	if a.Top == nil {
		a.Estimate = NotEnoughEvidence
		a.Confidence = Low
		a.Reasons = append(a.Reasons, "no actor in the intelligence is linked to this activity")
		return
	}
	top := a.Top
	a.Estimate = cfg.Words(top.Likelihood)
	if top.Independent < cfg.MinIndependent || top.Score < cfg.MinScore {
		a.Estimate = NotEnoughEvidence
		a.Reasons = append(a.Reasons, fmt.Sprintf("%s has %d independent line(s) of evidence and score %.2f; naming an actor needs at least %d and %.2f",
			top.Name, top.Independent, top.Score, cfg.MinIndependent, cfg.MinScore))
	}
	sup := a.support(cfg.Indicators)
	a.Confidence = cfg.Confidence.level(top.Independent, len(sup.kinds), sup.meanReliability, sup.counter)
	a.Reasons = append(a.Reasons, fmt.Sprintf("confidence %s: %d independent line(s), %d kind(s) of evidence, mean source reliability %.2f, %d counter-indication(s)",
		a.Confidence, top.Independent, len(sup.kinds), sup.meanReliability, sup.counter))
	if len(sup.origins) == 1 {
		a.Reasons = append(a.Reasons, fmt.Sprintf("all supporting intelligence comes from one origin (%s): corroborate before acting", sortedKeys(sup.origins)[0]))
	}
}

// support summarises the evidence for the top actor: its kinds, origins,
// mean source reliability, and the counter-indications.
type support struct {
	kinds, origins  map[string]bool // origins of the intelligence among them
	meanReliability float64
	counter         int
}

func (a *Assessment) support(w IndicatorWeights) support {
	sup := support{kinds: map[string]bool{}, origins: map[string]bool{}}
	n := 0
	for _, e := range a.Evidence {
		if e.Supports == a.Top.ID && !e.Against {
			sup.kinds[e.Kind] = true
			if e.Credibility > 0 {
				sup.origins[e.Origin] = true
			}
			sup.meanReliability += w.reliability(e.Reliability)
			n++
		}
		if e.Supports == Coincidence || e.Against && e.Supports == a.Top.ID {
			sup.counter++
		}
	}
	if n > 0 {
		sup.meanReliability /= float64(n)
	}
	return sup
}

// level scores the amount, diversity and reliability of the evidence and
// subtracts for counter-evidence.
func (p ConfidencePoints) level(independent, kinds int, meanReliability float64, counter int) string {
	points := climb(p.Independent, float64(independent)) + climb(p.Kinds, float64(kinds)) + climb(p.Reliability, meanReliability)
	if counter > 0 {
		points -= p.CounterPenalty
	}
	switch {
	case points >= p.High:
		return High
	case points >= p.Moderate:
		return Moderate
	}
	return Low
}

// climb returns the points of the highest step x reaches.
func climb(steps []Step, x float64) int {
	points := 0
	for _, st := range steps {
		if x >= st.AtLeast {
			points = st.Points
		}
	}
	return points
}
