package report

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// TLPWithheld counts what a report left out because its TLP level does
// not cover it: how much, never what.
type TLPWithheld struct {
	// Level is the report's marking, the ceiling applied.
	Level             string `json:"level"`
	Indicators        int    `json:"indicators"`
	Sightings         int    `json:"sightings"`
	Evidence          int    `json:"evidence_items"`
	ActorProfiles     int    `json:"actor_profiles"`
	ProfileIndicators int    `json:"profile_indicators"`
	Verdicts          int    `json:"verdicts,omitempty"` // on withheld sightings
}

// Sentence says what was left out, for the reader of the report; "" when
// nothing was.
func (w *TLPWithheld) Sentence() string {
	if w.Total() == 0 {
		return ""
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{w.Indicators, "indicator"}, {w.Sightings, "sighting"}, {w.Evidence, "evidence item"},
		{w.ActorProfiles, "actor profile"}, {w.ProfileIndicators, "profile indicator"}, {w.Verdicts, "verdict"}} {
		if p.n == 1 {
			parts = append(parts, "1 "+p.what)
		} else if p.n > 1 {
			parts = append(parts, fmt.Sprintf("%d %ss", p.n, p.what))
		}
	}
	return fmt.Sprintf("Marked %s: left out what that marking does not cover (%s).",
		"TLP:"+strings.ToUpper(w.Level), strings.Join(parts, ", "))
}

// Total is everything withheld.
func (w *TLPWithheld) Total() int {
	if w == nil {
		return 0
	}
	return w.Indicators + w.Sightings + w.Evidence + w.ActorProfiles + w.ProfileIndicators + w.Verdicts
}

// LimitTLP takes out of d what a report marked c.Max may not carry, by
// package tlp's rules: indicators marked above it (or red) with their
// sightings, the evidence items resting on them, their intelligence
// records and mentions, and the profiles of actors whose own record is
// marked above it. Unmarked intelligence stays, as it does for export.
// The counts are returned, and go into d.Doc.Withheld when not all zero. The assessments
// were made on everything and are kept: the counts say what they rest on
// that the reader does not see.
func (d *Data) LimitTLP(c tlp.Ceiling, defs tlp.Definitions) *TLPWithheld {
	w := &TLPWithheld{Level: c.Max.String()}
	out := d.withheldIndicators(c, defs)
	w.Indicators = len(out)
	if d.Doc != nil {
		w.Verdicts = d.limitVerdicts(out)
	}
	w.Sightings = d.dropSightings(out)
	if d.Doc != nil {
		w.Evidence = limitDocument(d.Doc, out)
		w.ActorProfiles, w.ProfileIndicators = d.limitProfiles(c, defs, out)
		if w.Total() > 0 {
			d.Doc.Withheld = w
		}
	}
	return w
}

// withheldIndicators are the ids of the indicators c does not allow, from
// the objects and from the raw intelligence records.
func (d *Data) withheldIndicators(c tlp.Ceiling, defs tlp.Definitions) map[string]bool {
	out := map[string]bool{}
	for id, o := range d.Indicators {
		if !c.Allows(defs.Of(o, tlp.Unmarked)) {
			out[id] = true
		}
	}
	if d.Doc != nil {
		for _, r := range d.Doc.Intelligence {
			if !c.Allows(defs.Of(&intel.Object{ID: r.ID, Raw: r.Raw}, tlp.Unmarked)) {
				out[r.ID] = true
			}
		}
	}
	for id := range out {
		delete(d.Indicators, id)
	}
	return out
}

// limitVerdicts drops the verdicts on sightings of withheld indicators
// (and, when anything is withheld, those that do not say their
// indicator): a verdict names its sighting, which the reader may not see.
func (d *Data) limitVerdicts(out map[string]bool) int {
	if len(out) == 0 || len(d.Doc.Verdicts) == 0 {
		return 0
	}
	gone := map[string]bool{}
	for i := range d.Sightings {
		if out[d.Sightings[i].IndicatorID] {
			gone[d.Sightings[i].Key()] = true
		}
	}
	before := len(d.Doc.Verdicts)
	d.Doc.Verdicts = slices.DeleteFunc(d.Doc.Verdicts, func(v store.Verdict) bool {
		return v.Kind == store.VerdictSighting && (gone[v.Target] || out[v.Indicator] || v.Indicator == "")
	})
	return before - len(d.Doc.Verdicts)
}

// dropSightings removes the sightings of withheld indicators and renumbers
// the campaigns' indexes into them.
func (d *Data) dropSightings(out map[string]bool) int {
	if len(out) == 0 {
		return 0
	}
	newIdx := make([]int, len(d.Sightings))
	kept := d.Sightings[:0:0]
	for i, s := range d.Sightings {
		newIdx[i] = -1
		if !out[s.IndicatorID] {
			newIdx[i] = len(kept)
			kept = append(kept, s)
		}
	}
	n := len(d.Sightings) - len(kept)
	d.Sightings = kept
	for id, idx := range d.CampaignSightings {
		var re []int
		for _, i := range idx {
			if i >= 0 && i < len(newIdx) && newIdx[i] >= 0 {
				re = append(re, newIdx[i])
			}
		}
		d.CampaignSightings[id] = re
	}
	return n
}

// limitDocument removes withheld indicators from report.json's campaigns
// and intelligence, and the evidence items that rest on any of them.
func limitDocument(doc *Document, out map[string]bool) int {
	if len(out) == 0 {
		return 0
	}
	gone := func(id string) bool { return out[id] }
	evidence := 0
	for i := range doc.Campaigns {
		c := &doc.Campaigns[i]
		c.Indicators = slices.DeleteFunc(c.Indicators, gone)
		for j := range c.Infrastructure {
			c.Infrastructure[j].Indicators = slices.DeleteFunc(c.Infrastructure[j].Indicators, gone)
		}
		before := len(c.Attribution.Evidence)
		c.Attribution.Evidence = slices.DeleteFunc(c.Attribution.Evidence, func(e Evidence) bool {
			return slices.ContainsFunc(e.Indicators, gone)
		})
		evidence += before - len(c.Attribution.Evidence)
	}
	doc.Intelligence = slices.DeleteFunc(doc.Intelligence, func(r IntelRecord) bool { return out[r.ID] })
	return evidence
}

// limitProfiles drops the profiles of actors whose record c does not
// allow, and the listed indicators c does not allow from the others.
func (d *Data) limitProfiles(c tlp.Ceiling, defs tlp.Definitions, out map[string]bool) (profiles, indicators int) {
	kept := d.Doc.Actors[:0:0]
	for _, p := range d.Doc.Actors {
		if a, ok := d.Actors[p.ID]; ok && !c.Allows(defs.Of(a, tlp.Unmarked)) {
			profiles++
			continue
		}
		before := len(p.Indicators)
		p.Indicators = slices.DeleteFunc(slices.Clone(p.Indicators), func(k KnownIndicator) bool {
			l, known := p.indicatorLevels[k.ID]
			return out[k.ID] || (known && !c.Allows(l))
		})
		indicators += before - len(p.Indicators)
		kept = append(kept, p)
	}
	d.Doc.Actors = kept
	return profiles, indicators
}

// ParseTLP reads a report's --tlp: any level up to amber+strict (a report
// is the organisation's own, so amber+strict may be its marking); red is
// refused, since what is marked red never leaves.
func ParseTLP(s string) (tlp.Ceiling, error) { return tlp.ParseCeiling(s, true) }

// LimitToMarking applies LimitTLP with the ceiling of d's own marking
// (DefaultTLP when d names none), so that a report never carries what its
// marking does not cover; defs are the store's marking definitions
// (MarkingDefinitions), without which a statement marking counts as an
// unknown one.
func (d *Data) LimitToMarking(defs tlp.Definitions) (*TLPWithheld, error) {
	c, err := ParseTLP(d.tlp())
	if err != nil {
		return nil, fmt.Errorf("report --tlp: %w", err)
	}
	return d.LimitTLP(c, defs), nil
}

// ObjectLister streams stored objects; store.IntelReader is one.
type ObjectLister interface {
	Objects(ctx context.Context, q store.ObjectQuery, fn func(*intel.Object) error) error
}

// MarkingDefinitions reads the store's marking definitions for LimitTLP.
func MarkingDefinitions(ctx context.Context, r ObjectLister) (tlp.Definitions, error) {
	defs := tlp.Definitions{}
	err := r.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeMarkingDef}}, func(o *intel.Object) error {
		defs.Add(o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading marking definitions: %w", err)
	}
	return defs, nil
}
