// Package report turns campaigns and their assessments into documents that
// others can check: the report.json contract, and renderers built on it.
package report

import (
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Document is report.json. Field names are a contract scripts depend on:
// add fields, never rename or remove them.
type Document struct {
	Generated   time.Time        `json:"generated"`
	Tool        string           `json:"tool"`
	Summary     Summary          `json:"summary"`
	Campaigns   []Campaign       `json:"campaigns"`
	Statistics  Statistics       `json:"statistics"`
	Methodology []attribute.Rule `json:"methodology"`
	// Actors profiles the actors named campaigns are attributed to, from
	// the intelligence; Actions are what the findings recommend.
	Actors  []ActorProfile `json:"actors"`
	Actions Actions        `json:"recommended_actions"`
	// MethodologyVersion names the arithmetic; MethodologyConfig is every
	// weight and threshold it used, so that verify can redo each
	// assessment from the report alone.
	MethodologyVersion string           `json:"methodology_version"`
	MethodologyConfig  attribute.Config `json:"methodology_config"`
	// CitedRecords says how many records each evidence item cites.
	CitedRecords string `json:"cited_records"`
	// Intelligence is every indicator the evidence rests on, as imported.
	Intelligence []IntelRecord `json:"intelligence"`
	// Signature names the key that signs the report (detached, in
	// report.json.sig); nil when unsigned.
	Signature *SignatureInfo `json:"signature,omitempty"`
	// Withheld counts what the report's TLP level left out (LimitTLP);
	// nil when nothing was limited.
	Withheld *TLPWithheld `json:"withheld_by_tlp,omitempty"`
	// Verdicts are the analysts' decisions on findings (false positive,
	// confirmed, notes) the run respected, oldest first.
	Verdicts []store.Verdict `json:"verdicts,omitempty"`
}

// Summary counts what the run saw.
type Summary struct {
	Events     int64 `json:"events"`
	Bytes      int64 `json:"bytes"`
	Sightings  int   `json:"sightings"`
	Suppressed int   `json:"suppressed"`
	// Retrospective counts the sightings (suppressed or not) a retro-hunt
	// found: intelligence that arrived after the records were read.
	Retrospective int `json:"retrospective,omitempty"`
	Detections    int `json:"detections"`
	Campaigns     int `json:"campaigns"`
}

// Campaign is one campaign and its attribution.
type Campaign struct {
	ID             string      `json:"id"`
	FirstSeen      time.Time   `json:"first_seen"`
	LastSeen       time.Time   `json:"last_seen"`
	Victims        []string    `json:"victims"`
	VictimDetails  []Victim    `json:"victim_details"`
	Infrastructure []Infra     `json:"infrastructure"`
	Attribution    Attribution `json:"attribution"`
	Sightings      int         `json:"sightings"`
	Detections     int         `json:"detections"`
	Indicators     []string    `json:"indicators"`
	Incidents      []Incident  `json:"incidents"`
	Links          []Link      `json:"links"`
	// HourOfWeek counts human-driven activity by UTC hour of the week
	// (0 = Monday 00:00 UTC), for the heat map.
	HourOfWeek [168]int `json:"hour_of_week"`
	// DetectionDetails explains the campaign's behavioural detections one
	// by one; Techniques maps what was observed to ATT&CK.
	DetectionDetails []DetectionDetail   `json:"detection_details"`
	Techniques       []ObservedTechnique `json:"techniques"`
	// HumanEvents are the human-driven events the operators' time zone is
	// fitted to, in time order.
	HumanEvents []time.Time `json:"human_events"`
}

// Victim is an internal host of a campaign.
type Victim struct {
	Address      string    `json:"address"`
	Organisation string    `json:"organisation,omitempty"`
	Sector       string    `json:"sector,omitempty"`
	Country      string    `json:"country,omitempty"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	DwellDays    float64   `json:"dwell_days"`
}

// Infra is one piece of infrastructure.
type Infra struct {
	Value       string    `json:"value"`
	Kind        string    `json:"kind"`
	Country     string    `json:"country"`
	CountryName string    `json:"country_name,omitempty"`
	ASN         uint32    `json:"asn"`
	ASOrg       string    `json:"as_org,omitempty"`
	Role        string    `json:"role"`
	RoleReason  string    `json:"role_reason,omitempty"`
	Indicators  []string  `json:"indicators,omitempty"`
	Detections  []string  `json:"detections,omitempty"`
	Sightings   int       `json:"sightings"`
	Victims     int       `json:"victims"`
	Suppressed  bool      `json:"suppressed,omitempty"`
	Warninglist string    `json:"warninglist,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Attribution is the assessment of a campaign.
type Attribution struct {
	Actor      string   `json:"actor"`
	ActorID    string   `json:"actor_id"`
	AttackID   string   `json:"attack_id,omitempty"`
	Aliases    []string `json:"aliases"`
	Country    string   `json:"country,omitempty"`
	Likelihood float64  `json:"likelihood"`
	Estimate   string   `json:"estimate"`
	Confidence string   `json:"confidence"`
	// OperatorUTCOffset is where the operators' working hours fit.
	OperatorUTCOffset       OperatorOffset         `json:"operator_utc_offset"`
	OperatorCountries       []string               `json:"operator_countries"`
	InfrastructureCountries map[string]int         `json:"infrastructure_countries"`
	Alternatives            []Alternative          `json:"alternatives"`
	Evidence                []Evidence             `json:"evidence"`
	Hypotheses              []attribute.Hypothesis `json:"hypotheses"`
	Reasons                 []string               `json:"reasons"`
	// Named is true when the estimate names Actor; otherwise Actor is only
	// the most likely known actor and Leading the hypothesis on top.
	Named       bool                    `json:"named"`
	Leading     string                  `json:"leading"`
	LeadingID   string                  `json:"leading_id"`
	Sensitivity []attribute.Sensitivity `json:"sensitivity"`
	WouldChange []string                `json:"would_change"`
	// Diagnosticity says, for each evidence item, how far it separates
	// the hypotheses.
	Diagnosticity []attribute.Diagnosticity `json:"diagnosticity"`
}

// OperatorOffset is the inferred UTC offset.
type OperatorOffset struct {
	Hours     float64          `json:"hours"`
	Fit       float64          `json:"fit"`
	Posterior float64          `json:"posterior"`
	Events    int              `json:"events"`
	Enough    bool             `json:"enough"`
	RunnerUp  attribute.Offset `json:"runner_up"`
}

// Alternative is another hypothesis with its likelihood.
type Alternative struct {
	Actor      string  `json:"actor"`
	ActorID    string  `json:"actor_id"`
	Likelihood float64 `json:"likelihood"`
	Estimate   string  `json:"estimate"`
}

// Evidence is one item of the evidence × hypothesis matrix.
type Evidence struct {
	Kind        string                  `json:"kind"`
	Supports    string                  `json:"supports"`    // hypothesis name
	SupportsID  string                  `json:"supports_id"` // hypothesis id
	Against     bool                    `json:"against,omitempty"`
	Weight      float64                 `json:"weight"`
	Detail      string                  `json:"detail"`
	Source      string                  `json:"source"`
	Reliability string                  `json:"reliability,omitempty"`
	Sightings   []attribute.SightingRef `json:"sightings,omitempty"`
	// Count is every record behind the item (Sightings cites More fewer),
	// on Hosts internal hosts between FirstSeen and LastSeen.
	Count     int       `json:"count"`
	More      int       `json:"more_sightings"`
	Hosts     int       `json:"hosts"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Values    []string  `json:"values,omitempty"`
	Sources   []string  `json:"sources,omitempty"`
	Origin    string    `json:"origin,omitempty"`
	// Indicators are the ids of the indicators behind the item.
	Indicators []string `json:"indicators,omitempty"`
	// Group, Credibility and Factors are what the item's weight and its
	// independence come from (see attribute.Evidence).
	Group       string             `json:"group"`
	Credibility float64            `json:"credibility,omitempty"`
	Factors     *attribute.Factors `json:"factors,omitempty"`
}

// Incident is one victim's activity span.
type Incident struct {
	ID         string    `json:"id"`
	Victim     string    `json:"victim"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Sightings  int       `json:"sightings"`
	Detections int       `json:"detections"`
}

// Link says why two incidents are one campaign.
type Link struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Reason string `json:"reason"`
	Value  string `json:"value"`
}

// Statistics across campaigns.
type Statistics struct {
	C2ByCountry      []C2Country    `json:"c2_by_country"`
	C2ByASN          []C2ASN        `json:"c2_by_asn"`
	Statements       []string       `json:"statements"` // "N servers in X control M hosts in Y"
	VictimsBySector  map[string]int `json:"victims_by_sector"`
	VictimsByCountry map[string]int `json:"victims_by_country"`
	Dwell            []Dwell        `json:"dwell"`
	IndicatorsByType map[string]int `json:"indicators_by_type"`
}

// C2Country counts C2 servers in one country and the hosts they control.
type C2Country struct {
	Country         string         `json:"country"`
	Servers         int            `json:"servers"`
	Victims         int            `json:"victims"`
	VictimCountries map[string]int `json:"victim_countries"`
}

// C2ASN counts C2 servers in one autonomous system.
type C2ASN struct {
	ASN     uint32 `json:"asn"`
	ASOrg   string `json:"as_org"`
	Country string `json:"country"`
	Servers int    `json:"servers"`
	Victims int    `json:"victims"`
}

// Dwell is how long one victim was active in one campaign.
type Dwell struct {
	Campaign string  `json:"campaign"`
	Victim   string  `json:"victim"`
	Days     float64 `json:"days"`
}

// Input is what Build needs.
type Input struct {
	Summary     Summary
	Campaigns   []*correlate.Campaign
	Assessments map[string]*attribute.Assessment // by campaign id
	Sightings   []match.Sighting
	Detections  []behavior.Detection
	Assets      *correlate.Assets
	Config      attribute.Config
	Generated   time.Time
	Tool        string
	// Profiles are the actors' profiles by actor id (LoadProfiles).
	Profiles map[string]ActorProfile
	// Intelligence are the indicators the evidence rests on (IntelRecords).
	Intelligence []IntelRecord
}

// AttributionOf lays an assessment out as report.json does.
func AttributionOf(a *attribute.Assessment) Attribution {
	at := Attribution{Estimate: a.Estimate, Confidence: a.Confidence, OperatorCountries: a.OperatorCountries,
		InfrastructureCountries: a.InfraCountries, Hypotheses: a.Hypotheses, Reasons: a.Reasons, Aliases: []string{}}
	if at.OperatorCountries == nil {
		at.OperatorCountries = []string{}
	}
	if a.Top != nil {
		at.Actor, at.ActorID, at.AttackID, at.Country, at.Likelihood = a.Top.Name, a.Top.ID, a.Top.AttackID, a.Top.Country, a.Top.Likelihood
		if a.Top.Aliases != nil {
			at.Aliases = a.Top.Aliases
		}
	}
	tz := a.TimeZone
	at.OperatorUTCOffset = OperatorOffset{Hours: tz.Best.Hours, Fit: round2(tz.Best.Fit), Posterior: round2(tz.Best.Posterior),
		Events: tz.Events, Enough: tz.Enough, RunnerUp: tz.RunnerUp}
	at.Named = a.Top != nil && a.Estimate != "" && a.Estimate != attribute.NotEnoughEvidence
	// The leading hypothesis is the named actor, or else whichever
	// hypothesis scores highest ("not in the intelligence" included); the
	// alternatives are every other one, so none repeats the leader.
	switch {
	case at.Named:
		at.Leading, at.LeadingID = a.Top.Name, a.Top.ID
	case len(a.Hypotheses) > 0:
		at.Leading, at.LeadingID = a.Hypotheses[0].Name, a.Hypotheses[0].ID
	}
	names := map[string]string{}
	for _, h := range a.Hypotheses {
		names[h.ID] = h.Name
		if h.ID == at.LeadingID {
			continue
		}
		at.Alternatives = append(at.Alternatives, Alternative{Actor: h.Name, ActorID: h.ID, Likelihood: h.Likelihood, Estimate: attribute.Words(h.Likelihood)})
	}
	at.Sensitivity, at.WouldChange = a.Sensitivity, a.WouldChange
	if at.Sensitivity == nil {
		at.Sensitivity = []attribute.Sensitivity{}
	}
	if at.WouldChange == nil {
		at.WouldChange = []string{}
	}
	at.Diagnosticity = a.Diagnosticity
	if at.Diagnosticity == nil {
		at.Diagnosticity = []attribute.Diagnosticity{}
	}
	for _, e := range a.Evidence {
		at.Evidence = append(at.Evidence, Evidence{Kind: e.Kind, Supports: names[e.Supports], SupportsID: e.Supports, Against: e.Against,
			Weight: e.Weight, Detail: e.Detail, Source: e.Source, Reliability: e.Reliability, Sightings: e.Sightings,
			Count: e.Count, More: e.More, Hosts: e.Hosts, FirstSeen: e.FirstSeen.UTC(), LastSeen: e.LastSeen.UTC(), Values: e.Values,
			Sources: e.Sources, Origin: e.Origin, Indicators: e.Indicators, Group: e.Group, Credibility: e.Credibility, Factors: e.Factors})
	}
	if at.Evidence == nil {
		at.Evidence = []Evidence{}
	}
	if at.Alternatives == nil {
		at.Alternatives = []Alternative{}
	}
	return at
}

func round2(x float64) float64 {
	return float64(int64(x*100+0.5)) / 100
}

func joinComma(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}
