package attribute

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// MethodologyVersion names the arithmetic Assess does with a Config. It
// changes whenever the same Config and evidence would give another
// result, so that a report states which arithmetic made it and a verifier
// knows whether it can redo it.
const MethodologyVersion = "whodunit-attribution/1"

// SupportedMethodologies are the versions Recompute can redo.
var SupportedMethodologies = []string{MethodologyVersion}

// ErrUnsupportedMethodology is returned (wrapped) by Recompute for a
// version it cannot redo.
var ErrUnsupportedMethodology = errors.New("unsupported methodology version")

// Record is what a report carries of one assessment: enough to redo it
// without the intelligence or the logs.
type Record struct {
	CampaignID     string
	Hypotheses     []Hypothesis // the hypotheses considered, with their names and countries
	Evidence       []Evidence   // in the report's order, with groups, credibility and factors
	HumanTimes     []time.Time
	InfraCountries map[string]int
}

// Recompute redoes an assessment from a Record under the methodology
// version and cfg: each item's weight from its factors, the operators'
// time zone from the events, then scores, likelihoods, estimative words,
// confidence, the leading hypothesis, sensitivity and what would change
// the answer. Only what the record cannot recompute (how many sightings,
// which sources) is taken as stated.
func Recompute(version string, r Record, cfg Config) (*Assessment, error) {
	if version != MethodologyVersion {
		return nil, fmt.Errorf("%w %q (this whodunit redoes %s)", ErrUnsupportedMethodology, version, MethodologyVersion)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &assessor{cfg: cfg, hyps: map[string]*Hypothesis{}, a: &Assessment{CampaignID: r.CampaignID, InfraCountries: map[string]int{}}}
	for _, h := range r.Hypotheses {
		c := h
		c.Score, c.Likelihood, c.Independent = 0, 0, 0
		s.hyps[h.ID] = &c
	}
	for cc, n := range r.InfraCountries {
		s.a.InfraCountries[cc] = n
	}
	times := append([]time.Time(nil), r.HumanTimes...)
	sort.SliceStable(times, func(i, j int) bool { return times[i].Before(times[j]) })
	s.fitTimeZone(times)
	if tz := s.a.TimeZone; tz.Enough && tz.Fitted {
		s.a.OperatorCountries = countriesNear(tz.Best.Hours, cfg.TimeZone.OperatorCountryHours, s.season)
	}
	for i, e := range r.Evidence {
		if err := s.reweigh(&e); err != nil {
			return nil, fmt.Errorf("evidence %d (%s for %s): %w", i, e.Kind, e.Supports, err)
		}
		s.add(e)
	}
	s.finish()
	return s.a, nil
}

// ErrNoFactors is returned (wrapped) when an item's weight cannot be
// recomputed because its factors are missing.
var ErrNoFactors = errors.New("no factors to recompute the weight from")

// reweigh sets e's weight (and for time-zone items, whether it counts
// against) from its factors, as the code that made the item does.
func (s *assessor) reweigh(e *Evidence) error {
	cfg, f := s.cfg, e.Factors
	switch e.Kind {
	case "infrastructure-geography":
		e.Weight = cfg.GeographyBonus
		return nil
	case "unexplained-behaviour":
		e.Weight = cfg.UnexplainedBonus
		return nil
	}
	if f == nil {
		return ErrNoFactors
	}
	base := f.Specificity * f.Confidence * f.Age * f.Reliability
	switch e.Kind {
	case "indicator-match", "malware-family":
		if f.Actors < 1 {
			return fmt.Errorf("factors name %d actors", f.Actors)
		}
		e.Weight = round(base * f.Share / float64(f.Actors))
	case "warninglisted-indicator":
		e.Weight = round(base)
	case "stale-indicator":
		e.Weight = round(f.Specificity * f.Confidence * f.Reliability * (1 - f.Age) * cfg.Indicators.StaleToCoincidence)
	case "multi-claimed-indicator":
		n := float64(f.Actors)
		e.Weight = round(base * f.Share * (n - 1) / n)
	case "technique":
		e.Weight = round(math.Min(cfg.Techniques.Cap, cfg.Techniques.Bonus*float64(f.Techniques)))
	case "operator-timezone":
		return s.reweighTimeZone(e)
	default:
		return fmt.Errorf("unknown kind of evidence")
	}
	return nil
}

// reweighTimeZone weighs a time-zone item from the recomputed fit, and
// decides again whether the actor's country is consistent with it.
func (s *assessor) reweighTimeZone(e *Evidence) error {
	tz, cfg := s.a.TimeZone, s.cfg.TimeZone
	if !tz.Enough || !tz.Fitted {
		return fmt.Errorf("the events give no time-zone fit")
	}
	h, ok := s.hyps[e.Supports]
	if !ok {
		return fmt.Errorf("no hypothesis %q", e.Supports)
	}
	off, ok := countryOffsetAt(h.Country, s.season)
	if !ok {
		return fmt.Errorf("no time zone for country %q", h.Country)
	}
	strength := cfg.Gain * tz.Best.Fit * math.Min(1, float64(tz.Events)/float64(cfg.FullAtEvents))
	e.Weight = round(strength * e.Factors.CountryCredibility)
	switch dist := math.Abs(off - tz.Best.Hours); {
	case dist <= cfg.ConsistentHours:
		e.Against = false
	case dist >= cfg.InconsistentHours:
		e.Against = true
	default:
		return fmt.Errorf("%s is %s hours from the fitted offset: neither consistent nor inconsistent", h.Country, hours(dist))
	}
	return nil
}
