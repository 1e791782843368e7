package taxii

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// stixOf is the STIX 2.1 JSON of a stored version: its Raw when that is
// the STIX the source gave, else (a Zeek intel line, a MISP attribute, a
// CSV row kept as the source wrote it) the object rendered as STIX from
// the model. ok is false for what STIX cannot express (an indicator with
// neither a STIX pattern nor simple observables).
func stixOf(it store.PageItem) (json.RawMessage, bool) {
	o := it.Object
	if isSTIX(o) {
		return o.Raw, true
	}
	return renderSTIX(o, it.Version, it.Added)
}

// isSTIX reports a Raw that is the object's STIX: it names the object's
// id, which other formats never hold (their ids are derived).
func isSTIX(o *intel.Object) bool {
	return bytes.Contains(o.Raw, []byte(`"`+o.ID+`"`)) && bytes.Contains(o.Raw, []byte(`"type"`))
}

// renderable are the types whose required STIX properties the model
// holds; others from non-STIX sources (a report without its object_refs,
// malware without is_family) are not served rather than served invalid.
var renderable = map[string]bool{intel.TypeIndicator: true, intel.TypeRelationship: true,
	intel.TypeIntrusionSet: true, intel.TypeThreatActor: true, intel.TypeCampaign: true,
	intel.TypeAttackPattern: true, intel.TypeTool: true, intel.TypeIdentity: true}

// stixObject is the STIX rendering of a model object: the common
// properties and those of indicators and relationships.
type stixObject struct {
	Type               string                 `json:"type"`
	SpecVersion        string                 `json:"spec_version"`
	ID                 string                 `json:"id"`
	Created            string                 `json:"created"`
	Modified           string                 `json:"modified"`
	Name               string                 `json:"name,omitempty"`
	Description        string                 `json:"description,omitempty"`
	Aliases            []string               `json:"aliases,omitempty"`
	Revoked            bool                   `json:"revoked,omitempty"`
	Confidence         *int                   `json:"confidence,omitempty"`
	Labels             []string               `json:"labels,omitempty"`
	ObjectMarkingRefs  []string               `json:"object_marking_refs,omitempty"`
	CreatedByRef       string                 `json:"created_by_ref,omitempty"`
	ExternalReferences []intel.ExternalRef    `json:"external_references,omitempty"`
	KillChainPhases    []intel.KillChainPhase `json:"kill_chain_phases,omitempty"`
	Pattern            string                 `json:"pattern,omitempty"`
	PatternType        string                 `json:"pattern_type,omitempty"`
	ValidFrom          string                 `json:"valid_from,omitempty"`
	ValidUntil         string                 `json:"valid_until,omitempty"`
	RelationshipType   string                 `json:"relationship_type,omitempty"`
	SourceRef          string                 `json:"source_ref,omitempty"`
	TargetRef          string                 `json:"target_ref,omitempty"`
}

func renderSTIX(o *intel.Object, version, added time.Time) (json.RawMessage, bool) {
	if !renderable[o.Type] || o.Type != intel.TypeIndicator && o.Type != intel.TypeRelationship && o.Name == "" {
		return nil, false
	}
	modified := o.Modified
	if modified.IsZero() {
		modified = version
	}
	if modified.IsZero() {
		modified = added
	}
	created := o.Created
	if created.IsZero() || created.After(modified) {
		created = modified
	}
	doc := stixObject{Type: o.Type, SpecVersion: "2.1", ID: o.ID, Created: created.UTC().Format(stixTime),
		Modified: modified.UTC().Format(stixTime), Name: o.Name, Description: o.Description, Revoked: o.Revoked,
		Labels: o.Labels, ObjectMarkingRefs: o.Markings, CreatedByRef: o.CreatedBy,
		ExternalReferences: o.ExternalRefs, KillChainPhases: o.KillChain}
	if o.Type != intel.TypeIndicator {
		doc.Aliases = o.Aliases
	}
	if o.Confidence >= 0 && o.Confidence <= 100 {
		doc.Confidence = &o.Confidence
	}
	switch {
	case o.Type == intel.TypeIndicator:
		if !indicatorSTIX(&doc, o, created) {
			return nil, false
		}
	case o.Type == intel.TypeRelationship && o.Relationship != nil:
		doc.RelationshipType, doc.SourceRef, doc.TargetRef = o.Relationship.Type, o.Relationship.SourceRef, o.Relationship.TargetRef
	case o.Type == intel.TypeRelationship:
		return nil, false
	}
	raw, err := json.Marshal(doc)
	return raw, err == nil
}

// indicatorSTIX adds the indicator's pattern: its STIX pattern, or its
// observables ORed.
func indicatorSTIX(doc *stixObject, o *intel.Object, created time.Time) bool {
	spec := o.Indicator
	if spec == nil {
		return false
	}
	pattern := ""
	if spec.PatternType == "stix" {
		pattern = spec.Pattern
	} else {
		var parts []string
		for _, ob := range spec.Observables {
			if p := ob.STIXPattern(); p != "" {
				parts = append(parts, p)
			}
		}
		pattern = strings.Join(parts, " OR ")
	}
	if pattern == "" {
		return false
	}
	from := spec.ValidFrom
	if from.IsZero() {
		from = created
	}
	doc.Pattern, doc.PatternType, doc.ValidFrom = pattern, "stix", from.UTC().Format(stixTime)
	if !spec.ValidUntil.IsZero() && spec.ValidUntil.After(from) {
		doc.ValidUntil = spec.ValidUntil.UTC().Format(stixTime)
	}
	return true
}
