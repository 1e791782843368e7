package attribute

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Rule is one line of the methodology: what is weighed and how.
type Rule struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// Methodology states every weight and threshold of cfg, so that a reader
// can redo the arithmetic. Each text is built from cfg's values and tables,
// never restated by hand, so it cannot drift from what Assess does.
func Methodology(cfg Config) []Rule {
	in := cfg.Indicators
	return []Rule{
		{"Hypotheses", "Every actor that a seen indicator leads to through the intelligence (indicator indicates the actor or a persona attributed to it; indicates malware the actor uses; indicates a campaign attributed to it), plus \"an actor not in the intelligence\" and \"coincidence on shared infrastructure\"."},
		{"Indicator match", indicatorRule(in)},
		{"Age", ageRule(in)},
		{"Malware family", "An indicator that indicates a malware family counts for every actor that uses the family, weighted like an indicator match and divided among those actors."},
		{"Shared indicators", "An indicator that leads to n actors gives each 1/n of its weight, and (n−1)/n of it to \"coincidence\"."},
		{"Warninglisted indicators", fmt.Sprintf("An indicator whose value is on a warninglist keeps %s%% of its weight for the actors, and its full weight goes to \"coincidence\".", pct(in.WarninglistShare))},
		{"Stale or revoked", fmt.Sprintf("%s%% of the weight an indicator lost to age or revocation goes to \"coincidence\".", pct(in.StaleToCoincidence))},
		{"Techniques", techniqueRule(cfg.Techniques)},
		{"Infrastructure geography", fmt.Sprintf("Infrastructure in a country where the actor's other known infrastructure is (known from indicators not seen in this campaign, from another origin than every match naming the actor here, so that one report does not corroborate itself) adds %s to that origin: weak, because servers are rented anywhere. Where the servers are is reported apart from where the operators are.", num(cfg.GeographyBonus))},
		{"Human-driven activity", humanRule(cfg.TimeZone)},
		{"Working week", workWeekRule(cfg.TimeZone.Model)},
		{"Operator time zone", timeZoneRule(cfg.TimeZone)},
		{"Unknown actor", fmt.Sprintf("Base score %s, plus %s when the campaign has behavioural detections and no indicator from any intelligence.", num(cfg.UnknownPrior), num(cfg.UnexplainedBonus))},
		{"Coincidence", fmt.Sprintf("Base score %s, plus the counter-evidence above.", num(cfg.CoincidencePrior))},
		{"Origins", "Sources derived from one report are one origin, decided from what the intelligence carries: the identity that created the indicator, when its name names one actor and says \"report\" (a Zeek feed's meta.source \"Mandiant APT1 Report\"), is the report on that actor, else that identity is (an author: all FireEye's indicators are one origin); else a report object citing it whose title names one actor (\"APT1: Exposing One of China's Cyber Espionage Units\") is the report on that actor, else that report is; else an external reference URL on it; else the label it was imported under (--source, or the file's name), so files imported under one label are one origin."},
		{"Independence", fmt.Sprintf("Evidence from one origin (or one kind of analysis: techniques, activity times) is not independent: within a group weights combine as 1 − Π(1 − min(w, %s)), and an origin's group never exceeds the best confidence × age of its items, so many matches from one low-confidence origin stay weak however many there are; groups add; counter-evidence subtracts.", num(cfg.MaxEvidenceWeight))},
		{"Likelihood", fmt.Sprintf("likelihood(h) = exp(%s·score(h)) / Σ exp(%s·score(h′)) over all hypotheses.", num(cfg.Beta), num(cfg.Beta))},
		{"Naming an actor", fmt.Sprintf("An actor is named only with at least %d independent lines of supporting evidence (distinct origins plus distinct kinds of analysis) and a score of at least %s; otherwise the estimate is \"%s\", whatever the likelihood.", cfg.MinIndependent, num(cfg.MinScore), NotEnoughEvidence)},
		{"Estimative words (ICD 203)", wordsRule(cfg)},
		{"Analytic confidence", confidenceRule(cfg.Confidence)},
		{"Leading hypothesis and alternative", "The leading hypothesis is the named actor, or, when none is named, the most likely hypothesis; the alternative is the most likely other hypothesis, never the leading one."},
		{"Sensitivity", "Each item is dropped in turn and the assessment redone; the items whose absence would change the most likely actor or its estimative words are listed. What would change the assessment is found the same way: the weakest indicator (value class × default confidence × grade A–E) from a new independent origin that would change the top actor's words, or make the strongest other actor the most likely. " +
			"Diagnosticity: each item's total variation distance between the likelihoods with and without it (½ Σ |Δ likelihood| over the hypotheses), from 0 (every hypothesis explains it alike) to 1, with the hypothesis that loses most without it."},
	}
}

func indicatorRule(in IndicatorWeights) string {
	var spec []string
	for _, cl := range in.Specificity {
		name := cl.Name
		if types := joinTypes(cl.Types); !strings.EqualFold(types, name) {
			name += " (" + types + ")"
		}
		spec = append(spec, name+" "+num(cl.Weight))
	}
	var rel []string
	for _, g := range sortedKeys(in.Reliability) {
		rel = append(rel, g+" "+num(in.Reliability[g]))
	}
	return fmt.Sprintf("One item per fact — the observable an indicator names (value type and value) — and hypothesis, however many indicators and feeds carry it: it counts every sighting behind it, its internal hosts, first and last time and the values seen, lists every source and indicator, and cites up to %d records. "+
		"The fact weighs what its best assertion weighs: weight = specificity × confidence × age × source reliability. "+
		"Specificity: %s; CIDR max(%s, %s·(bits−%d)/%d), IPv6 by its last 32 bits; any other type %s; "+
		"a STIX pattern weighs %s × the specificity of the value it matched, or %s when that value has no known type. "+
		"Confidence: the indicator's own (0–100)/100, at least %s, or %s when it states none. "+
		"Reliability (Admiralty) of the most reliable source: %s, ungraded %s.",
		in.MaxSightings, strings.Join(spec, ", "), num(in.CIDRFloor), num(in.CIDRFull), in.CIDRZeroBits, 32-in.CIDRZeroBits,
		num(in.OtherSpecificity), num(in.PatternFactor), num(in.PatternUnknown),
		num(in.MinConfidence), num(in.DefaultConfidence), strings.Join(rel, ", "), num(in.UnknownReliability))
}

func ageRule(in IndicatorWeights) string {
	return fmt.Sprintf("Age factor: 1; %s for an indicator of specificity below %s (infrastructure, not hashes or URLs) first valid more than %d days (%s) before it was seen; %s when seen after its valid_until; %s when revoked.",
		num(in.StaleAge), num(in.StaleBelowSpecificity), in.StaleAfterDays, fmtYears(in.staleAfter()), num(in.ExpiredAge), num(in.RevokedAge))
}

func techniqueRule(t TechniqueWeights) string {
	var shows []string
	for _, an := range sortedKeys(t.ByAnalytic) {
		shows = append(shows, an+": "+strings.Join(t.ByAnalytic[an], ", "))
	}
	return fmt.Sprintf("Each ATT&CK technique shown by behavioural detections (%s) that the actor is known to use (a sub-technique it uses counts for its parent too) adds %s, at most %s: weak, because many actors share them.",
		strings.Join(shows, "; "), num(t.Bonus), num(t.Cap))
}

func humanRule(tz TimeZoneWeights) string {
	return fmt.Sprintf("Only human-driven activity shows the operators' hours: records of one series (host, value) less than %d s after the first of a burst are one event (a check-in's query, connection and handshake); sightings of warninglisted values, of series any beacon detection names (also one whose score a vendor or top-site list lowered) and of series of at least %d events whose intervals' coefficient of variation is below %s are left out.",
		tz.BurstSeconds, tz.RegularMinEvents, num(tz.RegularMaxCV))
}

func workWeekRule(m TimeZoneModel) string {
	shape := make([]string, len(m.HourShape))
	for h, x := range m.HourShape {
		shape[h] = num(x)
	}
	return fmt.Sprintf("A working week is fitted at every UTC offset in use (%s to %s) by likelihood: relative activity by local hour 00–23 of a working day %s; Saturday and Sunday × %s; mixed with %s%% uniform activity so that no hour is impossible. "+
		"Fit is the share of events Mon–Fri %02d:00–%02d:00 local. The best offset and the best more than %s hour(s) from it are reported; an inference needs at least %d events, "+
		"and a best fit less than %s above the %s that round-the-clock activity gives is reported as no fit.",
		fmtOffset(slices.Min(candidateOffsets)), fmtOffset(slices.Max(candidateOffsets)), strings.Join(shape, " "), num(m.WeekendFactor), pct(m.UniformMix),
		m.OfficeStart, m.OfficeEnd, hours(m.RunnerUpApart), m.MinEvents, num(m.MinFitMargin), num(round(m.uniformFit())))
}

func timeZoneRule(tz TimeZoneWeights) string {
	return fmt.Sprintf("A country's offset is its capital's in the time zone database at the middle of the human-driven activity, daylight saving included. "+
		"An actor whose country's offset is within %s hour(s) of the best offset gains %s × fit × min(1, events/%d) × the credibility of the country claim (the best source stating it: reliability × confidence, as for indicators); one %s hours or more away loses as much. "+
		"Countries whose offset then is less than %s hours from the best are listed as where the operators may be.",
		hours(tz.ConsistentHours), num(tz.Gain), tz.FullAtEvents, hours(tz.InconsistentHours), hours(tz.OperatorCountryHours))
}

func wordsRule(cfg Config) string {
	var b strings.Builder
	for i, band := range cfg.Bands() {
		if i > 0 {
			fmt.Fprintf(&b, " ≤ ")
		}
		b.WriteString(band.Words)
		if i < len(estimativeWords)-1 {
			fmt.Fprintf(&b, " < %s", num(band.High))
		}
	}
	return b.String() + "."
}

func confidenceRule(p ConfidencePoints) string {
	return fmt.Sprintf("Separate from likelihood. Points: independent groups (%s), kinds of evidence (%s), mean source reliability (%s), any counter-evidence −%d. High ≥ %d, moderate ≥ %d, else low.",
		ladder(p.Independent), ladder(p.Kinds), ladder(p.Reliability), p.CounterPenalty, p.High, p.Moderate)
}

func ladder(steps []Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, fmt.Sprintf("≥ %s: +%d", hours(s.AtLeast), s.Points))
	}
	return strings.Join(out, ", ")
}

func joinTypes(ts []intel.ValueType) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return strings.Join(out, ", ")
}

// num prints a weight exactly, with at least two decimals (0.90, 0.125).
func num(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	switch i := strings.IndexByte(s, '.'); {
	case i < 0:
		return s + ".00"
	case len(s)-i == 2:
		return s + "0"
	}
	return s
}

// hours prints a count or an hour value exactly, without padding (1, 0.76).
func hours(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// pct prints a share as a percentage (0.1 → 10), free of binary noise.
func pct(x float64) string { return strconv.FormatFloat(x*100, 'g', 12, 64) }
