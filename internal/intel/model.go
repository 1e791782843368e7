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
	ID          string    `json:",omitzero"` // STIX id; readers of other formats derive a stable one (see DeriveID)
	Type        string    `json:",omitzero"`
	SpecVersion string    `json:",omitzero"`
	Name        string    `json:",omitzero"`
	Description string    `json:",omitzero"`
	Aliases     []string  `json:",omitzero"`
	Created     time.Time `json:",omitzero"`
	Modified    time.Time `json:",omitzero"`
	Revoked     bool      `json:",omitzero"`
	// Confidence is 0–100, or -1 when the source did not state one.
	Confidence   int              `json:",omitzero"`
	Labels       []string         `json:",omitzero"`
	ExternalRefs []ExternalRef    `json:",omitzero"`
	Markings     []string         `json:",omitzero"` // marking-definition ids (object_marking_refs)
	CreatedBy    string           `json:",omitzero"`
	KillChain    []KillChainPhase `json:",omitzero"`
	// Raw is the object exactly as the source gave it (STIX JSON), or a
	// faithful JSON rendering for other formats; custom properties live here.
	Raw json.RawMessage `json:",omitzero"`

	Indicator    *IndicatorSpec    `json:",omitzero"`
	Relationship *RelationshipSpec `json:",omitzero"`
	Actor        *ActorSpec        `json:",omitzero"`
	Marking      *MarkingSpec      `json:",omitzero"`
	Sighting     *SightingSpec     `json:",omitzero"`
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
	PatternType string    `json:",omitzero"` // "stix", "openioc", "zeek-intel", "misp", "plain", ...
	Pattern     string    `json:",omitzero"` // the pattern text as given or as synthesised in STIX
	ValidFrom   time.Time `json:",omitzero"`
	ValidUntil  time.Time `json:",omitzero"` // zero when open-ended
	// Observables are the values that alone prove a match: the indicator
	// matches when any one of them is seen. Empty when the pattern needs the
	// evaluator (compound logic, non-equality comparisons).
	Observables []Observable `json:",omitzero"`
	// HostOnly marks logic that only host telemetry can answer (OpenIOC
	// ProcessItem, RegistryItem …). Kept and counted, never matched on network data.
	HostOnly bool `json:",omitzero"`
	// Context marks values imported for context, not detection (MISP to_ids=false).
	Context bool `json:",omitzero"`
	// Warninglists names the known-benign lists the indicator's value is on.
	Warninglists []string `json:",omitzero"`
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
	Type      string    `json:",omitzero"` // indicates, attributed-to, uses, targets, related-to, …
	SourceRef string    `json:",omitzero"`
	TargetRef string    `json:",omitzero"`
	StartTime time.Time `json:",omitzero"`
	StopTime  time.Time `json:",omitzero"`
}

// ActorSpec holds what is known of an intrusion set or threat actor.
type ActorSpec struct {
	Country        string   `json:",omitzero"` // ISO 3166-1 alpha-2 of the actor's origin, "" if unknown
	StateSponsor   string   `json:",omitzero"` // suspected sponsor, free text as the source gave it
	Motivations    []string `json:",omitzero"` // primary first
	Sophistication string   `json:",omitzero"`
	ResourceLevel  string   `json:",omitzero"`
	Goals          []string `json:",omitzero"`
	Roles          []string `json:",omitzero"`
	Victims        []string `json:",omitzero"` // suspected victim countries or sectors
	TargetSectors  []string `json:",omitzero"`
}

// MarkingSpec describes a marking definition (TLP 1.0, TLP 2.0, statement).
type MarkingSpec struct {
	DefinitionType string `json:",omitzero"` // "tlp", "statement", or a custom type
	TLP            string `json:",omitzero"` // white, clear, green, amber, amber+strict, red
	TLPVersion     string `json:",omitzero"` // "1.0" or "2.0"
	Statement      string `json:",omitzero"`
}

// SightingSpec is an intelligence sighting reported by a source (not one of
// ours: those are match.Sighting).
type SightingSpec struct {
	SightingOfRef    string    `json:",omitzero"`
	ObservedDataRefs []string  `json:",omitzero"`
	WhereSightedRefs []string  `json:",omitzero"`
	Count            int       `json:",omitzero"`
	FirstSeen        time.Time `json:",omitzero"`
	LastSeen         time.Time `json:",omitzero"`
}

// Source is a file or feed that asserted facts.
type Source struct {
	ID          int64
	Name        string // a label: the feed name, or the file's base name
	Path        string
	Format      string
	ImportedAt  time.Time
	Reliability Reliability
	SHA256      string // of the content, so re-imports are recognised
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
	Name        string
	Description string
	Version     int
	// MatchType is one of string, substring, hostname, cidr, regex.
	MatchType string
	Category  string   // "false-positive" or "known"
	Entries   []string // normalised for the match type
	// Attributes lists the MISP attribute types the list applies to.
	Attributes []string
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
