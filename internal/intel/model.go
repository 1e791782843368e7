// Package intel is whodunit's knowledge model: indicators, actors, malware,
// tools, techniques, campaigns, identities, relationships, markings and the
// sources that asserted each of them. Readers of intelligence formats turn
// their input into these values and hand them to a Sink; the store keeps them.
package intel

import (
	"encoding/json"
	"time"
)

// Object types, named as STIX 2.1 names them. Formats that are not STIX map
// onto the same vocabulary so that every fact is queried one way.
const (
	TypeIndicator        = "indicator"
	TypeIntrusionSet     = "intrusion-set"
	TypeThreatActor      = "threat-actor"
	TypeMalware          = "malware"
	TypeTool             = "tool"
	TypeAttackPattern    = "attack-pattern"
	TypeCampaign         = "campaign"
	TypeIdentity         = "identity"
	TypeInfrastructure   = "infrastructure"
	TypeLocation         = "location"
	TypeReport           = "report"
	TypeRelationship     = "relationship"
	TypeSighting         = "sighting"
	TypeMarkingDef       = "marking-definition"
	TypeObservedData     = "observed-data"
	TypeCourseOfAction   = "course-of-action"
	TypeVulnerability    = "vulnerability"
	TypeNote             = "note"
	TypeGrouping         = "grouping"
	TypeMalwareAnalysis  = "malware-analysis"
	TypeOpinion          = "opinion"
	TypeExtensionDef     = "extension-definition"
	TypeLanguageContent  = "language-content"
	TypeDataComponent    = "x-mitre-data-component"
	TypeDataSource       = "x-mitre-data-source"
	TypeMatrix           = "x-mitre-matrix"
	TypeTactic           = "x-mitre-tactic"
	TypeCollection       = "x-mitre-collection"
	TypeAnalytic         = "x-mitre-analytic"
	TypeDetectionStrateg = "x-mitre-detection-strategy"
)

// IsActorType reports whether objects of type t name an adversary.
func IsActorType(t string) bool { return t == TypeIntrusionSet || t == TypeThreatActor }

// Object is one piece of intelligence in any format, versioned by Modified.
// Fields common to all STIX domain objects live here; the type-specific part
// is in exactly one of the pointer fields, chosen by Type.
type Object struct {
	ID          string    `json:"id,omitzero"` // STIX id; readers of other formats derive a stable one (see DeriveID)
	Type        string    `json:"type,omitzero"`
	SpecVersion string    `json:"spec_version,omitzero"`
	Name        string    `json:"name,omitzero"`
	Description string    `json:"description,omitzero"`
	Aliases     []string  `json:"aliases,omitzero"`
	Created     time.Time `json:"created,omitzero"`
	Modified    time.Time `json:"modified,omitzero"`
	Revoked     bool      `json:"revoked,omitzero"`
	// Confidence is 0–100, or -1 when the source did not state one.
	Confidence   int              `json:"confidence,omitzero"`
	Labels       []string         `json:"labels,omitzero"`
	ExternalRefs []ExternalRef    `json:"external_refs,omitzero"`
	Markings     []string         `json:"markings,omitzero"` // marking-definition ids (object_marking_refs)
	CreatedBy    string           `json:"created_by,omitzero"`
	KillChain    []KillChainPhase `json:"kill_chain,omitzero"`
	// Raw is the object exactly as the source gave it (STIX JSON), or a
	// faithful JSON rendering for other formats; custom properties live here.
	Raw json.RawMessage `json:"raw,omitzero"`

	Indicator    *IndicatorSpec    `json:"indicator,omitzero"`
	Relationship *RelationshipSpec `json:"relationship,omitzero"`
	Actor        *ActorSpec        `json:"actor,omitzero"`
	Marking      *MarkingSpec      `json:"marking,omitzero"`
	Sighting     *SightingSpec     `json:"sighting,omitzero"`
}

// ExternalRef is a STIX external reference; ATT&CK ids such as G0006 are
// external references with SourceName "mitre-attack".
type ExternalRef struct {
	SourceName  string `json:"source_name"`
	ExternalID  string `json:"external_id,omitempty"`
	URL         string `json:"url,omitempty"`
	Description string `json:"description,omitempty"`
}

// KillChainPhase is a STIX kill-chain phase.
type KillChainPhase struct {
	KillChainName string `json:"kill_chain_name"`
	PhaseName     string `json:"phase_name"`
}

// AttackID returns the MITRE ATT&CK id (G0006, T1071.001, S0017) of o, or "".
func (o *Object) AttackID() string {
	for _, r := range o.ExternalRefs {
		if r.SourceName == "mitre-attack" && r.ExternalID != "" {
			return r.ExternalID
		}
	}
	return ""
}

// IndicatorSpec is the detection part of an indicator.
type IndicatorSpec struct {
	PatternType string    `json:"pattern_type,omitzero"` // "stix", "openioc", "zeek-intel", "misp", "plain", ...
	Pattern     string    `json:"pattern,omitzero"`      // the pattern text as given or as synthesised in STIX
	ValidFrom   time.Time `json:"valid_from,omitzero"`
	ValidUntil  time.Time `json:"valid_until,omitzero"` // zero when open-ended
	// Observables are the values that alone prove a match: the indicator
	// matches when any one of them is seen. Empty when the pattern needs the
	// evaluator (compound logic, non-equality comparisons).
	Observables []Observable `json:"observables,omitzero"`
	// HostOnly marks logic that only host telemetry can answer (OpenIOC
	// ProcessItem, RegistryItem …). Kept and counted, never matched on network data.
	HostOnly bool `json:"host_only,omitzero"`
	// Context marks values imported for context, not detection (MISP to_ids=false).
	Context bool `json:"context,omitzero"`
	// Warninglists names the known-benign lists the indicator's value is on.
	Warninglists []string `json:"warninglists,omitzero"`
}

// Observable is one concrete value an indicator looks for.
type Observable struct {
	Type  ValueType `json:"type"`
	Value string    `json:"value"` // normalised (see Normalize)
	// Port restricts an IP observable to one port (MISP ip-dst|port); 0 = any.
	Port int `json:"port,omitempty"`
	// Issuer qualifies an x509 serial number.
	Issuer string `json:"issuer,omitempty"`
}

// RelationshipSpec links two objects by id.
type RelationshipSpec struct {
	Type      string    `json:"type,omitzero"` // indicates, attributed-to, uses, targets, related-to, …
	SourceRef string    `json:"source_ref,omitzero"`
	TargetRef string    `json:"target_ref,omitzero"`
	StartTime time.Time `json:"start_time,omitzero"`
	StopTime  time.Time `json:"stop_time,omitzero"`
}

// ActorSpec holds what is known of an intrusion set or threat actor.
type ActorSpec struct {
	Country        string   `json:"country,omitzero"`       // ISO 3166-1 alpha-2 of the actor's origin, "" if unknown
	StateSponsor   string   `json:"state_sponsor,omitzero"` // suspected sponsor, free text as the source gave it
	Motivations    []string `json:"motivations,omitzero"`   // primary first
	Sophistication string   `json:"sophistication,omitzero"`
	ResourceLevel  string   `json:"resource_level,omitzero"`
	Goals          []string `json:"goals,omitzero"`
	Roles          []string `json:"roles,omitzero"`
	Victims        []string `json:"victims,omitzero"` // suspected victim countries or sectors
	TargetSectors  []string `json:"target_sectors,omitzero"`
}

// MarkingSpec describes a marking definition (TLP 1.0, TLP 2.0, statement).
type MarkingSpec struct {
	DefinitionType string `json:"definition_type,omitzero"` // "tlp", "statement", or a custom type
	TLP            string `json:"tlp,omitzero"`             // white, clear, green, amber, amber+strict, red
	TLPVersion     string `json:"tlp_version,omitzero"`     // "1.0" or "2.0"
	Statement      string `json:"statement,omitzero"`
}

// SightingSpec is an intelligence sighting reported by a source (not one of
// ours: those are match.Sighting).
type SightingSpec struct {
	SightingOfRef    string    `json:"sighting_of_ref,omitzero"`
	ObservedDataRefs []string  `json:"observed_data_refs,omitzero"`
	WhereSightedRefs []string  `json:"where_sighted_refs,omitzero"`
	Count            int       `json:"count,omitzero"`
	FirstSeen        time.Time `json:"first_seen,omitzero"`
	LastSeen         time.Time `json:"last_seen,omitzero"`
}

// Source is a file or feed that asserted facts.
type Source struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"` // a label: the feed name, or the file's base name
	Path        string      `json:"path"`
	Format      string      `json:"format"`
	ImportedAt  time.Time   `json:"imported_at"`
	Reliability Reliability `json:"reliability"`
	SHA256      string      `json:"sha256"` // of the content, so re-imports are recognised
	// Digest, when set, gives SHA256 once the import function has read the
	// content (a stream is read once, hashed as it goes): the store takes
	// it at commit and treats a known digest as the same content again.
	Digest func() string `json:"-"`
}

// Reliability is the Admiralty-scale source grade.
type Reliability byte

// Admiralty-scale source reliability grades.
const (
	ReliabilityUnknown Reliability = 0
	CompletelyReliable Reliability = 'A'
	UsuallyReliable    Reliability = 'B'
	FairlyReliable     Reliability = 'C'
	NotUsuallyReliable Reliability = 'D'
	Unreliable         Reliability = 'E'
	CannotBeJudged     Reliability = 'F'
)

// ParseReliability reads a grade letter A–F.
func ParseReliability(s string) (Reliability, error) {
	if len(s) == 1 {
		c := s[0] &^ 0x20
		if c >= 'A' && c <= 'F' {
			return Reliability(c), nil
		}
	}
	return 0, &ValueError{Field: "reliability", Value: s, Reason: "want one letter A-F (Admiralty scale)"}
}

// String returns the grade letter, or "" when unknown.
func (r Reliability) String() string {
	if r == 0 {
		return ""
	}
	return string(rune(r))
}

// Weight maps a grade to a factor in [0,1] used to weigh evidence.
func (r Reliability) Weight() float64 {
	switch r {
	case CompletelyReliable:
		return 1
	case UsuallyReliable:
		return 0.85
	case FairlyReliable:
		return 0.65
	case NotUsuallyReliable:
		return 0.45
	case Unreliable:
		return 0.25
	default: // unknown or cannot be judged
		return 0.5
	}
}

// Warninglist is a list of known-benign or shared values (MISP warninglists).
type Warninglist struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     int    `json:"version"`
	// MatchType is one of string, substring, hostname, cidr, regex.
	MatchType string   `json:"match_type"`
	Category  string   `json:"category"` // "false-positive" or "known"
	Entries   []string `json:"entries"`  // normalised for the match type
	// Attributes lists the MISP attribute types the list applies to.
	Attributes []string `json:"attributes"`
}

// ValueError reports a value that cannot be interpreted.
type ValueError struct {
	Field, Value, Reason string
}

func (e *ValueError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return e.Field + " " + quote(v) + ": " + e.Reason
}
