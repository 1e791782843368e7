package attribute

import (
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Assess weighs the hypotheses for one campaign. cfg must have passed
// Validate; callers check it once, not per campaign.
func Assess(c *correlate.Campaign, sightings []match.Sighting, detections []behavior.Detection, g Graph, cfg Config) *Assessment {
	s := &assessor{c: c, sightings: sightings, detections: detections, g: g, cfg: cfg, hyps: map[string]*Hypothesis{},
		a: &Assessment{CampaignID: c.ID, InfraCountries: map[string]int{}}}
	s.hyp(UnknownActor)
	s.hyp(Coincidence)
	// The order of the kinds matters only for ties in the final ranking of
	// evidence, and is kept as the methodology lists them.
	for _, f := range s.seenFacts() {
		s.add(s.factEvidence(f)...)
	}
	s.add(s.techniqueEvidence()...)
	s.a.InfraCountries = s.infraCountries()
	s.add(s.geographyEvidence()...)
	s.fitTimeZone(s.humanTimes())
	s.add(s.timeZoneEvidence()...)
	s.add(s.unexplainedEvidence()...)
	s.finish()
	return s.a
}

// fitTimeZone infers the operators' time zone from the human-driven
// events and keeps them, so that a report can carry them.
func (s *assessor) fitTimeZone(human []time.Time) {
	s.a.HumanTimes = human
	s.a.TimeZone = InferTimeZoneWith(human, s.cfg.TimeZone.Model)
	s.season = medianTime(human)
}

// finish scores the evidence, judges it and finds what it rests on.
func (s *assessor) finish() {
	s.score()
	s.a.judge(s.cfg)
	w := s.withouts()
	s.a.Sensitivity, s.a.Diagnosticity, s.a.WouldChange = s.sensitivity(w), s.diagnosticity(w), s.wouldChange()
}

// assessor is one campaign's assessment while it is built.
type assessor struct {
	c          *correlate.Campaign
	sightings  []match.Sighting
	detections []behavior.Detection
	g          Graph
	cfg        Config
	hyps       map[string]*Hypothesis
	ev         []Evidence
	a          *Assessment
	season     time.Time // the middle of the human-driven activity, for daylight saving
}

// hyp returns the hypothesis id, creating it on first mention.
func (s *assessor) hyp(id string) *Hypothesis {
	if h, ok := s.hyps[id]; ok {
		return h
	}
	h := &Hypothesis{ID: id}
	switch id {
	case UnknownActor:
		h.Name = "an actor not in the intelligence"
	case Coincidence:
		h.Name = "coincidence on shared infrastructure"
	default:
		if act := s.g.Actor(id); act != nil {
			h.Name, h.AttackID, h.Aliases, h.Country = act.Name, act.AttackID, act.Aliases, act.Country
		} else {
			h.Name = id
		}
	}
	s.hyps[id] = h
	return h
}

// add records evidence; without a group of its own, evidence of one kind
// of analysis is one group, its own origin.
func (s *assessor) add(es ...Evidence) {
	for _, e := range es {
		if e.Group == "" {
			e.Group = e.Kind + "|" + e.Source
		}
		if e.Origin == "" {
			e.Origin = e.Source
		}
		s.ev = append(s.ev, e)
	}
}

// actorHypotheses are the known actors among the hypotheses so far, by id.
func (s *assessor) actorHypotheses() []*Hypothesis {
	var out []*Hypothesis
	for id, h := range s.hyps {
		if id != UnknownActor && id != Coincidence {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
