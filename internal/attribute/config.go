package attribute

import (
	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
)

// Config holds every weight and threshold attribution uses; Methodology
// renders each of them, so the report states exactly what produced it.
// It is plain data with JSON names, so that a report can carry it.
type Config struct {
	// Beta is the steepness that turns scores into likelihoods.
	Beta float64 `json:"beta"`
	// MaxEvidenceWeight caps one piece of evidence inside its group, so
	// that no single item makes its group certain.
	MaxEvidenceWeight float64          `json:"max_evidence_weight"`
	Indicators        IndicatorWeights `json:"indicators"`
	Techniques        TechniqueWeights `json:"techniques"`
	GeographyBonus    float64          `json:"geography_bonus"`
	TimeZone          TimeZoneWeights  `json:"time_zone"`
	UnknownPrior      float64          `json:"unknown_prior"`     // base score of "an actor not in the intelligence"
	UnexplainedBonus  float64          `json:"unexplained_bonus"` // behaviour with no indicator argues for an unknown actor
	CoincidencePrior  float64          `json:"coincidence_prior"` // base score of "coincidence on shared infrastructure"
	MinIndependent    int              `json:"min_independent"`   // independent evidence groups needed to name an actor
	MinScore          float64          `json:"min_score"`         // score needed to name an actor
	WordBounds        []float64        `json:"word_bounds"`       // ICD 203: the upper bound of each band but the last
	Confidence        ConfidencePoints `json:"confidence"`
}

// IndicatorWeights weigh one indicator match: specificity × confidence ×
// age × source reliability.
type IndicatorWeights struct {
	Specificity      []SpecificityClass `json:"specificity"`
	OtherSpecificity float64            `json:"other_specificity"` // a value type in no class
	// A CIDR weighs CIDRFull for a single address, falling linearly to 0 at
	// CIDRZeroBits, and never below CIDRFloor. IPv6 prefixes count their
	// last 32 bits.
	CIDRFull     float64 `json:"cidr_full"`
	CIDRZeroBits int     `json:"cidr_zero_bits"`
	CIDRFloor    float64 `json:"cidr_floor"`
	// A STIX pattern weighs PatternFactor × the specificity of the value
	// it matched, or PatternUnknown when that value has no known type.
	PatternFactor     float64 `json:"pattern_factor"`
	PatternUnknown    float64 `json:"pattern_unknown"`
	DefaultConfidence float64 `json:"default_confidence"` // for indicators that state none
	MinConfidence     float64 `json:"min_confidence"`     // floor of a stated confidence
	// Reliability is the factor of each Admiralty grade A–F;
	// UnknownReliability that of a source with no grade.
	Reliability        map[string]float64 `json:"reliability"`
	UnknownReliability float64            `json:"unknown_reliability"`
	RevokedAge         float64            `json:"revoked_age"` // age factor of a revoked indicator
	ExpiredAge         float64            `json:"expired_age"` // seen after its valid_until
	StaleAge           float64            `json:"stale_age"`   // infrastructure indicator older than StaleAfterDays
	StaleAfterDays     int                `json:"stale_after_days"`
	// StaleBelowSpecificity: only indicators less specific than this
	// (infrastructure, not file hashes or URLs) go stale.
	StaleBelowSpecificity float64 `json:"stale_below_specificity"`
	StaleToCoincidence    float64 `json:"stale_to_coincidence"` // share of the lost weight that goes to coincidence
	WarninglistShare      float64 `json:"warninglist_share"`    // share a warninglisted indicator keeps for the actors
	MaxSightings          int     `json:"max_sightings"`        // sightings cited per piece of evidence
}

// SpecificityClass gives one specificity to a group of value types.
type SpecificityClass struct {
	Name   string            `json:"name"`
	Types  []intel.ValueType `json:"types"`
	Weight float64           `json:"weight"`
}

// TechniqueWeights weigh behaviour that matches an actor's known techniques.
type TechniqueWeights struct {
	Bonus float64 `json:"bonus"` // per matching technique
	Cap   float64 `json:"cap"`   // at most, per actor
	// ByAnalytic lists the ATT&CK techniques each behavioural analytic shows.
	ByAnalytic map[string][]string `json:"by_analytic"`
}

// TimeZoneWeights turn the operators' inferred working hours into evidence.
type TimeZoneWeights struct {
	Model TimeZoneModel `json:"model"`
	// Gain × fit × min(1, events/FullAtEvents) is the evidence's weight.
	Gain         float64 `json:"gain"`
	FullAtEvents int     `json:"full_at_events"`
	// An actor whose country's offset is within ConsistentHours gains;
	// one at least InconsistentHours away loses as much.
	ConsistentHours   float64 `json:"consistent_hours"`
	InconsistentHours float64 `json:"inconsistent_hours"`
	// OperatorCountryHours: countries with an offset closer than this to
	// the inferred one are listed as the operators' possible countries.
	OperatorCountryHours float64 `json:"operator_country_hours"`
	// A series of at least RegularMinEvents whose intervals have a
	// coefficient of variation below RegularMaxCV is automated, not human.
	RegularMinEvents int     `json:"regular_min_events"`
	RegularMaxCV     float64 `json:"regular_max_cv"`
	// Records of one series less than BurstSeconds apart are one event (a
	// check-in's DNS query, connection and TLS handshake).
	BurstSeconds int `json:"burst_seconds"`
}

// TimeZoneModel is the working week fitted at every UTC offset.
type TimeZoneModel struct {
	MinEvents     int         `json:"min_events"`     // human-driven events an inference needs
	HourShape     [24]float64 `json:"hour_shape"`     // relative activity by local hour of a working day
	WeekendFactor float64     `json:"weekend_factor"` // Saturday and Sunday, relative to a working day
	UniformMix    float64     `json:"uniform_mix"`    // share of uniform activity, so that no hour is impossible
	OfficeStart   int         `json:"office_start"`   // first local hour counted as office time
	OfficeEnd     int         `json:"office_end"`     // first local hour after office time
	RunnerUpApart float64     `json:"runner_up_apart"`
	// MinFitMargin: a best fit less than this above the fit of
	// round-the-clock activity is reported as no fit.
	MinFitMargin float64 `json:"min_fit_margin"`
}

// ConfidencePoints turn the supporting evidence into analytic confidence.
type ConfidencePoints struct {
	Independent    []Step `json:"independent"` // by independent groups
	Kinds          []Step `json:"kinds"`       // by kinds of evidence
	Reliability    []Step `json:"reliability"` // by mean source reliability
	CounterPenalty int    `json:"counter_penalty"`
	High           int    `json:"high"`     // points for high confidence
	Moderate       int    `json:"moderate"` // points for moderate confidence
}

// Step gives Points from AtLeast on; of a ladder, the highest step reached counts.
type Step struct {
	AtLeast float64 `json:"at_least"`
	Points  int     `json:"points"`
}

// MinTZEvents is how many human-driven events a time-zone inference needs
// by default.
const MinTZEvents = 20

// DefaultConfig returns the weights the methodology documents.
func DefaultConfig() Config {
	return Config{
		Beta:              2.5,
		MaxEvidenceWeight: 0.99,
		Indicators:        defaultIndicatorWeights(),
		Techniques: TechniqueWeights{Bonus: 0.1, Cap: 0.2, ByAnalytic: map[string][]string{
			behavior.Beacon:    {"T1071", "T1071.001", "T1573", "T1573.001", "T1573.002"},
			behavior.LongConn:  {"T1071", "T1095", "T1571"},
			behavior.DNSTunnel: {"T1071.004", "T1572", "T1048", "T1048.003"},
			behavior.DGA:       {"T1568", "T1568.002"},
			behavior.Strobe:    {"T1046", "T1110"},
		}},
		GeographyBonus: 0.15,
		TimeZone: TimeZoneWeights{Model: defaultTimeZoneModel(), Gain: 0.4, FullAtEvents: 60,
			ConsistentHours: 1, InconsistentHours: 3, OperatorCountryHours: 0.76, RegularMinEvents: 6, RegularMaxCV: 0.35, BurstSeconds: 120},
		UnknownPrior:     0.6,
		UnexplainedBonus: 0.4,
		CoincidencePrior: 0.2,
		MinIndependent:   2,
		MinScore:         0.5,
		WordBounds:       []float64{0.05, 0.20, 0.45, 0.55, 0.80, 0.95},
		Confidence: ConfidencePoints{
			Independent:    []Step{{2, 1}, {3, 2}},
			Kinds:          []Step{{2, 1}, {3, 2}},
			Reliability:    []Step{{0.6, 1}, {0.8, 2}},
			CounterPenalty: 1, High: 5, Moderate: 3,
		},
	}
}

func defaultIndicatorWeights() IndicatorWeights {
	return IndicatorWeights{
		Specificity: []SpecificityClass{
			{"file hash", []intel.ValueType{intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512}, 0.9},
			{"certificate", []intel.ValueType{intel.X509SHA1, intel.X509SHA256, intel.X509Serial}, 0.85},
			{"URL", []intel.ValueType{intel.URL}, 0.8},
			{"e-mail", []intel.ValueType{intel.Email}, 0.7},
			{"domain", []intel.ValueType{intel.Domain}, 0.6},
			{"IP", []intel.ValueType{intel.IPv4, intel.IPv6}, 0.4},
			{"JA3, user agent or file name", []intel.ValueType{intel.JA3, intel.JA3S, intel.UserAgent, intel.FileName}, 0.3},
		},
		OtherSpecificity: 0.3,
		CIDRFull:         0.4, CIDRZeroBits: 8, CIDRFloor: 0.05,
		PatternFactor: 0.9, PatternUnknown: 0.3,
		DefaultConfidence: 0.75, MinConfidence: 0.05,
		// Grade F ("cannot be judged") counts like an ungraded source.
		Reliability:        map[string]float64{"A": 1, "B": 0.85, "C": 0.65, "D": 0.45, "E": 0.25, "F": 0.65},
		UnknownReliability: 0.65,
		RevokedAge:         0.1, ExpiredAge: 0.3, StaleAge: 0.6, StaleAfterDays: 3 * 365,
		StaleBelowSpecificity: 0.8, StaleToCoincidence: 0.5,
		WarninglistShare: 0.1,
		MaxSightings:     5,
	}
}

func defaultTimeZoneModel() TimeZoneModel {
	return TimeZoneModel{
		MinEvents: MinTZEvents,
		// Nothing at night, a morning start, a lunch dip at 12:00, an
		// afternoon, and a tail into the evening.
		HourShape: [24]float64{
			0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.12, // 00–07
			0.55, 1.00, 1.00, 0.95, 0.40, 0.85, 1.00, 1.00, // 08–15
			0.95, 0.85, 0.45, 0.22, 0.12, 0.08, 0.05, 0.03, // 16–23
		},
		WeekendFactor: 0.08, UniformMix: 0.1, OfficeStart: 8, OfficeEnd: 19, RunnerUpApart: 1, MinFitMargin: 0.25,
	}
}
