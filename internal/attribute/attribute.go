// Package attribute weighs which actor is most likely behind a campaign. It
// collects evidence for and against every hypothesis (each actor reachable
// through the intelligence, an actor not in the intelligence, and
// coincidence on shared infrastructure), discounts evidence that shares a
// source, infers the operators' working time zone, and states the result in
// ICD 203 estimative words with a separate analytic confidence. Every rule
// and weight is in Methodology, so a reader can check the arithmetic.
package attribute

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Hypothesis ids besides actor ids.
const (
	UnknownActor = "unknown-actor"
	Coincidence  = "coincidence"
)

// Graph is the intelligence attribution reads.
type Graph interface {
	Indicator(id string) *intel.Object
	IndicatorSources(id string) []intel.Source
	// Attributions lists the actors an indicator points to, and how.
	Attributions(indicatorID string) []Path
	Actor(id string) *Actor
	// Origin names the independent origin of an indicator: sources
	// derived from one report share one.
	Origin(indicatorID string) string
}

// Path is one way an indicator leads to an actor.
type Path struct {
	ActorID string
	Via     string // e.g. "indicates APT1", "indicates malware BISCUIT, used by APT1"
	Malware string // set when the path goes through a malware family
}

// Actor is what attribution needs to know about an actor.
type Actor struct {
	ID       string
	Name     string // the ATT&CK name where ATT&CK knows the actor
	AttackID string
	Aliases  []string
	Country  string
	// CountryClaims are the records that state a country, each with its
	// source's grade and confidence: a claim weighs what they give it.
	CountryClaims []CountryClaim
	Techniques    map[string]bool // ATT&CK technique ids the actor uses
	// KnownInfra are the actor's IP and CIDR indicators, with their countries.
	KnownInfra []KnownInfra
}

// KnownInfra is one network an actor is known to use.
type KnownInfra struct {
	IndicatorID string
	Prefix      netip.Prefix
	Country     string
	Origin      string // Graph.Origin of the indicator
}

// CountryClaim is one record's statement of an actor's country.
type CountryClaim struct {
	Country     string
	Source      string
	Reliability string // Admiralty grade, "" when ungraded
	Confidence  int    // 0–100, -1 when unstated
}

// Evidence is one fact bearing on one hypothesis.
type Evidence struct {
	Kind     string  `json:"kind"`
	Supports string  `json:"supports"` // hypothesis id
	Against  bool    `json:"against,omitempty"`
	Weight   float64 `json:"weight"`
	Detail   string  `json:"detail"`
	Source   string  `json:"source"`
	// Reliability is the Admiralty grade of the source, "" when unknown.
	Reliability string `json:"reliability,omitempty"`
	// Sightings is a cited sample of the records behind the item; Count
	// is all of them (More = Count − len(Sightings) are not cited).
	Sightings []SightingRef `json:"sightings,omitempty"`
	Count     int           `json:"count"`
	More      int           `json:"more_sightings"`
	Hosts     int           `json:"hosts"` // distinct internal hosts among all Count records
	FirstSeen time.Time     `json:"first_seen,omitzero"`
	LastSeen  time.Time     `json:"last_seen,omitzero"`
	Values    []string      `json:"values,omitempty"`  // the observables seen, sorted
	Sources   []string      `json:"sources,omitempty"` // every source asserting the fact, sorted
	// Origin is the independent origin the item counts under: sources
	// derived from one report are one origin.
	Origin string `json:"origin,omitempty"`
	// Indicators are the ids of every indicator behind the item.
	Indicators []string `json:"indicators,omitempty"`
	// Group is the independence group the item scores in (an origin, or
	// a kind of analysis); Credibility is what its origin vouches for (0
	// outside the intelligence). Both are carried so that a reader can
	// redo the scoring from the report alone.
	Group       string  `json:"group"`
	Credibility float64 `json:"credibility,omitempty"`
	// Factors are the numbers Weight is computed from (see Factors).
	Factors *Factors `json:"factors,omitempty"`
}

// Factors are what an item's weight is computed from, by kind:
// indicator items and warninglisted ones weigh specificity × confidence ×
// age × reliability × share / actors; stale ones the weight lost to age ×
// Config's share; multi-claimed ones (actors − 1)/actors of the best
// assertion; operator-timezone gain × fit × events × Credibility of the
// country claim; technique min(cap, bonus × Techniques).
type Factors struct {
	Specificity float64 `json:"specificity,omitempty"`
	Confidence  float64 `json:"confidence,omitempty"`
	Age         float64 `json:"age,omitempty"`
	Reliability float64 `json:"reliability,omitempty"`
	// Share is the warninglist share the actors keep (1 when not listed).
	Share float64 `json:"share,omitempty"`
	// Actors is how many actors the fact leads to.
	Actors int `json:"actors,omitempty"`
	// CountryCredibility is the credibility of the actor's country claim.
	CountryCredibility float64 `json:"country_credibility,omitempty"`
	Techniques         int     `json:"techniques,omitempty"`
}

// Sensitivity says what one evidence item does to the conclusion: would
// dropping it change the top hypothesis or its estimative word?
type Sensitivity struct {
	Evidence     int    `json:"evidence"` // index into Assessment.Evidence
	Detail       string `json:"detail"`
	ChangesTop   bool   `json:"changes_top"`
	ChangesWords bool   `json:"changes_words"`
	// Without is the top hypothesis and its words without this item.
	WithoutTop   string `json:"without_top"`
	WithoutWords string `json:"without_words"`
}

// Diagnosticity is how far one evidence item separates the hypotheses:
// the total variation distance between the likelihoods with and without
// it, from 0 (every hypothesis explains it alike) to 1.
type Diagnosticity struct {
	Evidence int     `json:"evidence"` // index into Assessment.Evidence
	Detail   string  `json:"detail"`
	Value    float64 `json:"value"`
	// Favours is the hypothesis that loses most likelihood without it.
	Favours string `json:"favours,omitempty"`
}

// SightingRef points at the record behind a piece of evidence.
type SightingRef struct {
	File string `json:"file"`
	Line int64  `json:"line"`
	// Offset is the record's byte offset in the file's (decompressed)
	// content; FileSHA256 hashes the file as it is on disk, and Record
	// is the record's raw bytes (one line, without its end), so that a
	// reader can check the citation against the original logs.
	Offset     int64  `json:"offset"`
	FileSHA256 string `json:"file_sha256,omitempty"`
	Record     string `json:"record,omitempty"`
	// RecordNote says why Record is missing (binary capture, file gone).
	RecordNote string    `json:"record_note,omitempty"`
	Field      string    `json:"field"`
	Value      string    `json:"value"`
	Time       time.Time `json:"time"`
}

// Hypothesis is one candidate explanation, scored.
type Hypothesis struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	AttackID   string   `json:"attack_id,omitempty"`
	Aliases    []string `json:"aliases,omitempty"`
	Country    string   `json:"country,omitempty"`
	Score      float64  `json:"score"`
	Likelihood float64  `json:"likelihood"`
	// Independent counts the independent lines supporting it: distinct
	// intelligence origins plus distinct kinds of analysis.
	Independent int `json:"independent"`
}

// Assessment is the attribution of one campaign.
type Assessment struct {
	CampaignID string
	Hypotheses []Hypothesis // ranked, most likely first
	// Top is the most likely known actor (nil when no actor is reachable).
	Top        *Hypothesis
	Estimate   string // ICD 203 words, or NotEnoughEvidence
	Confidence string // low, moderate, high
	// Leading is the hypothesis the assessment puts first: Top when it is
	// named, else the most likely hypothesis; Alternative is the strongest
	// other one, never Leading.
	Leading     *Hypothesis
	Alternative *Hypothesis
	Evidence    []Evidence
	TimeZone    TimeZone
	// OperatorCountries are countries whose standard offset is close to the
	// inferred one (Config.TimeZone.OperatorCountryHours); InfraCountries
	// where the infrastructure is.
	OperatorCountries []string
	InfraCountries    map[string]int
	Reasons           []string // why the estimate and confidence are what they are
	// Sensitivity lists the items the conclusion rests on; WouldChange
	// says what evidence would change the assessment.
	Sensitivity []Sensitivity
	WouldChange []string
	// Diagnosticity says, for every item, how far it separates the
	// hypotheses.
	Diagnosticity []Diagnosticity
	// HumanTimes are the human-driven events the time zone is fitted to.
	HumanTimes []time.Time
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }

func fmtYears(d time.Duration) string {
	return fmt.Sprintf("%.0f years", d.Hours()/24/365)
}

func fmtOffset(h float64) string {
	sign := "+"
	if h < 0 {
		sign = "-"
		h = -h
	}
	whole := int(h)
	min := int(math.Round((h - float64(whole)) * 60))
	if min == 0 {
		return fmt.Sprintf("%s%d", sign, whole)
	}
	return fmt.Sprintf("%s%d:%02d", sign, whole, min)
}

// FormatOffset renders an offset as "+8" or "+5:30".
func FormatOffset(h float64) string { return fmtOffset(h) }
