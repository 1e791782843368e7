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
	group      string
	cred       float64 // the credibility its origin vouches for; 0 outside the intelligence
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

// SightingRef points at the record behind a piece of evidence.
type SightingRef struct {
	File  string    `json:"file"`
	Line  int64     `json:"line"`
	Field string    `json:"field"`
	Value string    `json:"value"`
	Time  time.Time `json:"time"`
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
