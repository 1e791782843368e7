package attribute

import (
	"fmt"
	"math"
	"sort"
)

// score turns the evidence into scores and likelihoods, ranks the
// hypotheses, picks the top actor and the alternative, and orders the
// evidence by the hypothesis it bears on.
func (s *assessor) score() {
	s.scoreHypotheses()
	s.a.Hypotheses = s.likelihoods()
	s.a.Top, s.a.Alternative = topAndAlternative(s.a.Hypotheses)
	s.a.Evidence = orderEvidence(s.ev, s.a.Hypotheses)
}

// likelihoods returns the hypotheses ranked by likelihood, a softmax of
// the scores with steepness Beta.
func (s *assessor) likelihoods() []Hypothesis {
	ids := sortedKeys(s.hyps)
	maxS := math.Inf(-1)
	for _, id := range ids {
		maxS = math.Max(maxS, s.hyps[id].Score)
	}
	total := 0.0
	for _, id := range ids {
		total += math.Exp(s.cfg.Beta * (s.hyps[id].Score - maxS))
	}
	out := make([]Hypothesis, 0, len(ids))
	for _, id := range ids {
		h := s.hyps[id]
		h.Likelihood = round(math.Exp(s.cfg.Beta*(h.Score-maxS)) / total)
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

// topAndAlternative picks from ranked hypotheses the most likely known
// actor and the strongest other hypothesis.
func topAndAlternative(hs []Hypothesis) (top, alt *Hypothesis) {
	for i := range hs {
		if hs[i].ID != UnknownActor && hs[i].ID != Coincidence {
			top = &hs[i]
			break
		}
	}
	for i := range hs {
		if top == nil || hs[i].ID != top.ID {
			return top, &hs[i]
		}
	}
	return top, nil
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
// independent group 1 − Π(1 − w) (evidence sharing a source has
// diminishing returns), minus the counter-evidence.
func (s *assessor) scoreHypotheses() {
	groups := map[string]map[string][]float64{} // hypothesis -> group -> weights
	against := map[string]float64{}
	for _, e := range s.ev {
		if e.Against {
			against[e.Supports] += e.Weight
			continue
		}
		if groups[e.Supports] == nil {
			groups[e.Supports] = map[string][]float64{}
		}
		groups[e.Supports][e.group] = append(groups[e.Supports][e.group], e.Weight)
	}
	for id, h := range s.hyps {
		score := 0.0
		switch id {
		case UnknownActor:
			score = s.cfg.UnknownPrior
		case Coincidence:
			score = s.cfg.CoincidencePrior
		}
		for _, g := range sortedKeys(groups[id]) {
			prod := 1.0
			for _, w := range groups[id][g] {
				prod *= 1 - math.Min(w, s.cfg.MaxEvidenceWeight)
			}
			score += 1 - prod
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
	if len(sup.sources) == 1 {
		a.Reasons = append(a.Reasons, "all supporting evidence comes from one source: corroborate before acting")
	}
}

// support summarises the evidence for the top actor: its kinds, sources,
// mean source reliability, and the counter-indications.
type support struct {
	kinds, sources  map[string]bool
	meanReliability float64
	counter         int
}

func (a *Assessment) support(w IndicatorWeights) support {
	sup := support{kinds: map[string]bool{}, sources: map[string]bool{}}
	n := 0
	for _, e := range a.Evidence {
		if e.Supports == a.Top.ID && !e.Against {
			sup.kinds[e.Kind] = true
			sup.sources[e.Source] = true
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
