package attribute

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
)

// Validate reports every violated invariant of c, each named by its JSON
// path, so that a hand-edited or embedded configuration fails before it is
// used rather than producing quietly wrong likelihoods.
func (c Config) Validate() error {
	v := &violations{}
	v.check(c.Beta > 0 && !math.IsInf(c.Beta, 0), "beta", "must be > 0, is %v", c.Beta)
	v.check(c.MaxEvidenceWeight > 0 && c.MaxEvidenceWeight < 1, "max_evidence_weight", "must be in (0,1), is %v", c.MaxEvidenceWeight)
	c.Indicators.validate(v)
	c.Techniques.validate(v)
	v.factor("geography_bonus", c.GeographyBonus)
	c.TimeZone.validate(v)
	v.check(c.UnknownPrior >= 0 && !math.IsInf(c.UnknownPrior, 0), "unknown_prior", "must be ≥ 0, is %v", c.UnknownPrior)
	v.factor("unexplained_bonus", c.UnexplainedBonus)
	v.check(c.CoincidencePrior >= 0 && !math.IsInf(c.CoincidencePrior, 0), "coincidence_prior", "must be ≥ 0, is %v", c.CoincidencePrior)
	v.check(c.MinIndependent >= 1, "min_independent", "must be ≥ 1, is %d", c.MinIndependent)
	v.check(c.MinScore >= 0 && !math.IsInf(c.MinScore, 0), "min_score", "must be ≥ 0, is %v", c.MinScore)
	validateWordBounds(v, c.WordBounds)
	c.Confidence.validate(v)
	return v.err()
}

func (w IndicatorWeights) validate(v *violations) {
	known := map[intel.ValueType]bool{}
	for _, t := range intel.ValueTypes {
		known[t] = true
	}
	classOf := map[intel.ValueType]string{}
	for i, cl := range w.Specificity {
		path := fmt.Sprintf("indicators.specificity[%d]", i)
		v.check(cl.Name != "", path+".name", "must not be empty")
		v.check(len(cl.Types) > 0, path+".types", "must name at least one value type")
		v.factor(path+".weight", cl.Weight)
		for _, t := range cl.Types {
			v.check(known[t], path+".types", "unknown value type %q", t)
			if prev, dup := classOf[t]; dup {
				v.add(path+".types", "%q is already in class %q", t, prev)
			}
			classOf[t] = cl.Name
		}
	}
	_, cidrClassed := classOf[intel.CIDR]
	v.check(!cidrClassed, "indicators.specificity", "cidr is weighed by prefix length (cidr_full, cidr_zero_bits, cidr_floor), not by a class")
	v.factor("indicators.other_specificity", w.OtherSpecificity)
	v.factor("indicators.cidr_full", w.CIDRFull)
	v.check(w.CIDRZeroBits >= 0 && w.CIDRZeroBits < 32, "indicators.cidr_zero_bits", "must be in [0,32), is %d", w.CIDRZeroBits)
	v.factor("indicators.cidr_floor", w.CIDRFloor)
	v.factor("indicators.pattern_factor", w.PatternFactor)
	v.factor("indicators.pattern_unknown", w.PatternUnknown)
	v.factor("indicators.default_confidence", w.DefaultConfidence)
	v.factor("indicators.min_confidence", w.MinConfidence)
	validateGrades(v, w.Reliability)
	v.factor("indicators.unknown_reliability", w.UnknownReliability)
	v.factor("indicators.revoked_age", w.RevokedAge)
	v.factor("indicators.expired_age", w.ExpiredAge)
	v.factor("indicators.stale_age", w.StaleAge)
	v.check(w.StaleAfterDays >= 1, "indicators.stale_after_days", "must be ≥ 1, is %d", w.StaleAfterDays)
	v.factor("indicators.stale_below_specificity", w.StaleBelowSpecificity)
	v.factor("indicators.stale_to_coincidence", w.StaleToCoincidence)
	v.factor("indicators.warninglist_share", w.WarninglistShare)
	v.check(w.MaxSightings >= 1, "indicators.max_sightings", "must be ≥ 1 (evidence cites its sightings), is %d", w.MaxSightings)
}

// validateGrades wants a factor for each Admiralty grade A–F and nothing else.
func validateGrades(v *violations, grades map[string]float64) {
	for _, g := range []string{"A", "B", "C", "D", "E", "F"} {
		if x, ok := grades[g]; !ok {
			v.add("indicators.reliability", "grade %s is missing", g)
		} else {
			v.factor("indicators.reliability."+g, x)
		}
	}
	for _, g := range sortedKeys(grades) {
		if len(g) != 1 || g[0] < 'A' || g[0] > 'F' {
			v.add("indicators.reliability", "%q is not an Admiralty grade A–F", g)
		}
	}
}

var (
	techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	analytics   = map[string]bool{behavior.Beacon: true, behavior.LongConn: true, behavior.DNSTunnel: true,
		behavior.Strobe: true, behavior.RareDest: true, behavior.DGA: true}
)

func (w TechniqueWeights) validate(v *violations) {
	v.factor("techniques.bonus", w.Bonus)
	v.factor("techniques.cap", w.Cap)
	for _, an := range sortedKeys(w.ByAnalytic) {
		path := "techniques.by_analytic." + an
		v.check(analytics[an], path, "no behavioural analytic is called %q", an)
		v.check(len(w.ByAnalytic[an]) > 0, path, "lists no technique")
		for _, t := range w.ByAnalytic[an] {
			v.check(techniqueID.MatchString(t), path, "%q is not an ATT&CK technique id (T1234 or T1234.001)", t)
		}
	}
}

func (w TimeZoneWeights) validate(v *violations) {
	w.Model.validate(v)
	v.factor("time_zone.gain", w.Gain)
	v.check(w.FullAtEvents >= 1, "time_zone.full_at_events", "must be ≥ 1, is %d", w.FullAtEvents)
	v.check(w.ConsistentHours >= 0 && w.ConsistentHours < w.InconsistentHours, "time_zone.consistent_hours",
		"must be ≥ 0 and below inconsistent_hours (%v), is %v", w.InconsistentHours, w.ConsistentHours)
	v.check(w.InconsistentHours <= 24, "time_zone.inconsistent_hours", "must be ≤ 24, is %v", w.InconsistentHours)
	v.check(w.OperatorCountryHours >= 0 && w.OperatorCountryHours <= 24, "time_zone.operator_country_hours", "must be in [0,24], is %v", w.OperatorCountryHours)
	v.check(w.RegularMinEvents >= 3, "time_zone.regular_min_events", "must be ≥ 3 (two intervals at least), is %d", w.RegularMinEvents)
	v.check(w.RegularMaxCV > 0 && !math.IsInf(w.RegularMaxCV, 0), "time_zone.regular_max_cv", "must be > 0, is %v", w.RegularMaxCV)
	v.check(w.BurstSeconds >= 0 && w.BurstSeconds <= 3600, "time_zone.burst_seconds", "must be in [0,3600], is %d", w.BurstSeconds)
}

func (m TimeZoneModel) validate(v *violations) {
	v.check(m.MinEvents >= 1, "time_zone.model.min_events", "must be ≥ 1, is %d", m.MinEvents)
	sum := 0.0
	for h, x := range m.HourShape {
		v.factor(fmt.Sprintf("time_zone.model.hour_shape[%d]", h), x)
		sum += x
	}
	v.check(sum > 0, "time_zone.model.hour_shape", "must have some activity")
	v.factor("time_zone.model.weekend_factor", m.WeekendFactor)
	v.check(m.UniformMix > 0 && m.UniformMix <= 1, "time_zone.model.uniform_mix", "must be in (0,1] so that no hour is impossible, is %v", m.UniformMix)
	v.check(m.OfficeStart >= 0 && m.OfficeStart < 24, "time_zone.model.office_start", "must be an hour 0–23, is %d", m.OfficeStart)
	v.check(m.OfficeEnd > m.OfficeStart && m.OfficeEnd <= 24, "time_zone.model.office_end", "must be after office_start (%d) and ≤ 24, is %d", m.OfficeStart, m.OfficeEnd)
	v.check(m.RunnerUpApart >= 0 && m.RunnerUpApart < 12, "time_zone.model.runner_up_apart", "must be in [0,12), is %v", m.RunnerUpApart)
	v.factor("time_zone.model.min_fit_margin", m.MinFitMargin)
}

func validateWordBounds(v *violations, b []float64) {
	if len(b) != len(estimativeWords)-1 {
		v.add("word_bounds", "want %d bounds between the %d ICD 203 bands, have %d", len(estimativeWords)-1, len(estimativeWords), len(b))
	}
	for i, x := range b {
		v.check(x > 0 && x < 1, fmt.Sprintf("word_bounds[%d]", i), "must be in (0,1), is %v", x)
		if i > 0 {
			v.check(x > b[i-1], fmt.Sprintf("word_bounds[%d]", i), "must be above word_bounds[%d] (%v), is %v", i-1, b[i-1], x)
		}
	}
}

func (p ConfidencePoints) validate(v *violations) {
	validateLadder(v, "confidence.independent", p.Independent, math.Inf(1))
	validateLadder(v, "confidence.kinds", p.Kinds, math.Inf(1))
	validateLadder(v, "confidence.reliability", p.Reliability, 1)
	v.check(p.CounterPenalty >= 0, "confidence.counter_penalty", "must be ≥ 0, is %d", p.CounterPenalty)
	v.check(p.Moderate >= 1, "confidence.moderate", "must be ≥ 1, is %d", p.Moderate)
	v.check(p.High > p.Moderate, "confidence.high", "must be above moderate (%d), is %d", p.Moderate, p.High)
}

// validateLadder wants steps rising in both threshold and points.
func validateLadder(v *violations, path string, steps []Step, max float64) {
	for i, s := range steps {
		at := fmt.Sprintf("%s[%d]", path, i)
		v.check(s.AtLeast >= 0 && s.AtLeast <= max, at+".at_least", "must be in [0,%v], is %v", max, s.AtLeast)
		v.check(s.Points >= 1, at+".points", "must be ≥ 1, is %d", s.Points)
		if i > 0 {
			v.check(s.AtLeast > steps[i-1].AtLeast, at+".at_least", "must be above the step before (%v), is %v", steps[i-1].AtLeast, s.AtLeast)
			v.check(s.Points > steps[i-1].Points, at+".points", "must be above the step before (%d), is %d", steps[i-1].Points, s.Points)
		}
	}
}

// violations collects every broken invariant, so one run names them all.
type violations struct{ errs []error }

func (v *violations) add(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("attribution config: %s: %s", path, fmt.Sprintf(format, args...)))
}

func (v *violations) check(ok bool, path, format string, args ...any) {
	if !ok {
		v.add(path, format, args...)
	}
}

// factor wants a multiplier in [0,1] (NaN fails too).
func (v *violations) factor(path string, x float64) {
	v.check(x >= 0 && x <= 1, path, "must be in [0,1], is %v", x)
}

func (v *violations) err() error { return errors.Join(v.errs...) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
