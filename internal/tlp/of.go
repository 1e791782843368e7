package tlp

import (
	"bytes"
	"encoding/json"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Definitions are marking definitions known beyond the standard TLP ids:
// a TLP marking under another id maps to its level, a statement (or other
// non-TLP) marking maps to Unmarked, which tells Of it is known and does
// not restrict. A nil Definitions knows only the standard ids.
type Definitions map[string]Level

// Add records what the marking-definition o says; other objects are
// ignored. A TLP definition whose level is unknown is not recorded, so it
// stays unknown (and restrictive).
func (d Definitions) Add(o *intel.Object) {
	if o == nil || o.Type != intel.TypeMarkingDef || o.Marking == nil {
		return
	}
	if _, std := standardIDs[o.ID]; std {
		return // the standard's meaning of its own ids wins over any copy
	}
	if o.Marking.TLP != "" {
		if l, err := Parse(o.Marking.TLP); err == nil {
			d[o.ID] = l
		}
		return
	}
	if o.Marking.DefinitionType == "statement" {
		d[o.ID] = Unmarked
	}
}

// Of is the level governing o, from its object_marking_refs and the
// granular_markings in o.Raw: the most restrictive wins, because an object
// leaves whole, never with parts cut out. Unmarked objects get dflt. A
// marking that is not a standard TLP id is not known, and counts as dflt
// or amber, whichever is stricter — never as clear.
func Of(o *intel.Object, dflt Level) Level { return Definitions(nil).Of(o, dflt) }

// Of is the package's Of with d's definitions known too.
func (d Definitions) Of(o *intel.Object, dflt Level) Level {
	if o == nil {
		return dflt
	}
	if l, std := standardIDs[o.ID]; std && l != Unmarked {
		// The standard TLP definitions are public text: they travel with
		// whatever they mark.
		return Clear
	}
	refs, ok := rawMarkingRefs(o.Raw)
	level, unknown := Unmarked, !ok
	for _, set := range [][]string{o.Markings, refs} {
		for _, id := range set {
			l, known := d.level(id)
			level = Max(level, l)
			unknown = unknown || !known
		}
	}
	if unknown {
		level = Max(level, Max(dflt, Amber))
	}
	if level == Unmarked {
		return dflt
	}
	return level
}

func (d Definitions) level(id string) (Level, bool) {
	if l, ok := standardIDs[id]; ok {
		return l, true
	}
	l, ok := d[id]
	return l, ok
}

// markingFields are the two STIX properties that carry marking refs.
type markingFields struct {
	ObjectMarkingRefs []string `json:"object_marking_refs"`
	GranularMarkings  []struct {
		MarkingRef *string `json:"marking_ref"`
		Lang       string  `json:"lang"`
	} `json:"granular_markings"`
}

// rawMarkingRefs returns every marking ref in a raw STIX object; false when
// raw cannot be read, which Of treats as an unknown marking. Decoding is
// skipped when raw cannot hold a marking property: plain ASCII without
// escapes (encoding/json matches names case-insensitively and through
// \u escapes, so only then is a byte search conclusive) and without
// "marking" in any case.
func rawMarkingRefs(raw []byte) ([]string, bool) {
	if len(bytes.TrimSpace(raw)) == 0 || cannotHoldMarking(raw) {
		return nil, true
	}
	var f markingFields
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, false
	}
	refs := f.ObjectMarkingRefs
	for _, g := range f.GranularMarkings {
		switch {
		case g.MarkingRef != nil:
			refs = append(refs, *g.MarkingRef)
		case g.Lang == "":
			return refs, false // neither a marking nor a language: unreadable
		}
	}
	return refs, true
}

func cannotHoldMarking(raw []byte) bool {
	for _, b := range raw {
		if b >= 0x80 || b == '\\' {
			return false
		}
	}
	return !containsFoldASCII(raw, "marking")
}

// containsFoldASCII is bytes.Contains ignoring ASCII case, without the
// copy bytes.ToLower makes of every object.
func containsFoldASCII(b []byte, lower string) bool {
	for i := 0; i+len(lower) <= len(b); i++ {
		j := 0
		for j < len(lower) && b[i+j]|0x20 == lower[j] {
			j++
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}
