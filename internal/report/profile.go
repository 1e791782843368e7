package report

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/actorjoin"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// ActorProfile is what the intelligence says about an actor a campaign is
// attributed to: its malware and tools, the techniques it uses, the
// reports behind it and the indicators that point to it.
type ActorProfile struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	AttackID string     `json:"attack_id,omitempty"`
	Aliases  []string   `json:"aliases"`
	Country  string     `json:"country,omitempty"`
	Sponsor  string     `json:"suspected_sponsor,omitempty"`
	Software []Software `json:"software"`
	// Techniques are every technique the intelligence says the actor uses.
	Techniques []Technique      `json:"techniques"`
	Reports    []SourceReport   `json:"reports"`
	Indicators []KnownIndicator `json:"indicators"`
	// IndicatorsTotal counts every indicator pointing to the actor;
	// Indicators lists at most MaxProfileIndicators of them.
	IndicatorsTotal int `json:"indicators_total"`
	// indicatorIDs are all of them, listed or not, for hunting.
	indicatorIDs []string
	// indicatorLevels are the listed indicators' TLP levels (LimitTLP).
	indicatorLevels map[string]tlp.Level
}

// Software is a malware family or tool an actor uses.
type Software struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"` // malware or tool
	AttackID string `json:"attack_id,omitempty"`
}

// Technique is an ATT&CK technique.
type Technique struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SourceReport is a published report the intelligence cites.
type SourceReport struct {
	Title  string `json:"title"`
	URL    string `json:"url,omitempty"`
	Source string `json:"source"`
}

// KnownIndicator is an indicator that points to an actor.
type KnownIndicator struct {
	ID      string   `json:"id"`
	Values  []string `json:"values"`
	Pattern string   `json:"pattern"`
}

// MaxProfileIndicators bounds the indicators a profile lists; the total
// is kept.
const MaxProfileIndicators = 100

// IntelReader is the part of a store profiles are read from.
type IntelReader interface {
	Object(ctx context.Context, id string) (*intel.Object, error)
	Relationships(ctx context.Context, id string) ([]*intel.Object, error)
}

// LoadProfiles reads the profile of each actor in members (actor id → the
// ids of the records joined into it, itself included).
func LoadProfiles(ctx context.Context, r IntelReader, members map[string][]string) (map[string]ActorProfile, error) {
	out := map[string]ActorProfile{}
	for id, ms := range members {
		p, err := loadProfile(ctx, r, id, ms)
		if err != nil {
			return nil, fmt.Errorf("report: profile of %s: %w", id, err)
		}
		out[id] = p
	}
	return out, nil
}

// profileBuilder collects one actor's profile without duplicates.
type profileBuilder struct {
	p        ActorProfile
	seen     map[string]bool
	aliasSet map[string]bool
}

func loadProfile(ctx context.Context, r IntelReader, id string, members []string) (ActorProfile, error) {
	b := &profileBuilder{seen: map[string]bool{}, aliasSet: map[string]bool{}}
	b.p = ActorProfile{ID: id, Aliases: []string{}, Software: []Software{}, Techniques: []Technique{}, Reports: []SourceReport{},
		Indicators: []KnownIndicator{}}
	queue := append([]string{id}, members...)
	joined := map[string]bool{}
	for _, m := range queue {
		joined[m] = true
	}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		if b.seen["member:"+m] {
			continue
		}
		b.seen["member:"+m] = true
		o, err := r.Object(ctx, m)
		if err != nil || o == nil {
			continue // a member the store no longer has
		}
		if joined[m] {
			b.member(o)
		} else {
			b.references(o.ExternalRefs) // a persona: its sources, not its names
		}
		rels, err := r.Relationships(ctx, m)
		if err != nil {
			return b.p, err
		}
		for _, rel := range rels {
			// The personas a record is attributed to are the actor too:
			// their malware and indicators count for it.
			if rs := rel.Relationship; rs != nil && !rel.Revoked && rs.Type == "attributed-to" && rs.SourceRef == m &&
				strings.HasPrefix(rs.TargetRef, intel.TypeThreatActor+"--") {
				queue = append(queue, rs.TargetRef)
				continue
			}
			if err := b.relationship(ctx, r, m, rel); err != nil {
				return b.p, err
			}
		}
	}
	b.finish()
	return b.p, nil
}

// member takes the names, country and references of one joined record.
func (b *profileBuilder) member(o *intel.Object) {
	if b.p.Name == "" || (b.p.AttackID == "" && o.AttackID() != "") {
		b.p.Name = o.Name
	}
	if b.p.AttackID == "" {
		b.p.AttackID = o.AttackID()
	}
	for _, a := range append([]string{o.Name}, o.Aliases...) {
		if k := strings.ToLower(a); a != "" && !b.aliasSet[k] {
			b.aliasSet[k] = true
			b.p.Aliases = append(b.p.Aliases, a)
		}
	}
	if o.Actor != nil {
		if b.p.Country == "" {
			b.p.Country = o.Actor.Country
		}
		if b.p.Sponsor == "" {
			b.p.Sponsor = o.Actor.StateSponsor
		}
	}
	b.references(o.ExternalRefs)
}

// references keeps the published reports among external references: those
// with a link or a citation, not bare ids of other catalogues.
func (b *profileBuilder) references(refs []intel.ExternalRef) {
	for _, x := range refs {
		if x.URL == "" {
			continue // a citation marker or a bare id, not a report one can read
		}
		title := x.Description
		if title == "" {
			title = x.SourceName
			if x.ExternalID != "" {
				title += " " + x.ExternalID
			}
		}
		if b.seen["ref:"+x.URL] {
			continue
		}
		b.seen["ref:"+x.URL] = true
		b.p.Reports = append(b.p.Reports, SourceReport{Title: title, URL: x.URL, Source: x.SourceName})
	}
}

func (b *profileBuilder) relationship(ctx context.Context, r IntelReader, member string, rel *intel.Object) error {
	rs := rel.Relationship
	if rel.Revoked || rs == nil {
		return nil
	}
	var target string
	switch {
	case rs.Type == "uses" && rs.SourceRef == member:
		target = rs.TargetRef
	case rs.Type == "indicates" && rs.TargetRef == member:
		target = rs.SourceRef
	default:
		return nil
	}
	if b.seen[target] {
		return nil
	}
	b.seen[target] = true
	o, err := r.Object(ctx, target)
	if err != nil || o == nil || o.Revoked {
		return nil // a dangling reference is no error of the report
	}
	switch o.Type {
	case "malware", "tool":
		b.software(Software{Name: o.Name, Kind: o.Type, AttackID: o.AttackID()})
	case intel.TypeAttackPattern:
		if tid := o.AttackID(); tid != "" {
			b.p.Techniques = append(b.p.Techniques, Technique{ID: tid, Name: o.Name})
		}
	case intel.TypeIndicator:
		b.indicator(o)
	}
	return nil
}

func (b *profileBuilder) indicator(o *intel.Object) {
	b.p.IndicatorsTotal++
	b.p.indicatorIDs = append(b.p.indicatorIDs, o.ID)
	if len(b.p.Indicators) == MaxProfileIndicators || o.Indicator == nil {
		return
	}
	k := KnownIndicator{ID: o.ID, Pattern: o.Indicator.Pattern, Values: []string{}}
	for _, ob := range o.Indicator.Observables {
		k.Values = append(k.Values, ob.Value)
	}
	b.p.Indicators = append(b.p.Indicators, k)
	if b.p.indicatorLevels == nil {
		b.p.indicatorLevels = map[string]tlp.Level{}
	}
	b.p.indicatorLevels[o.ID] = tlp.Of(o, tlp.Unmarked)
}

func (b *profileBuilder) finish() {
	p := &b.p
	sort.Slice(p.Software, func(i, j int) bool {
		if p.Software[i].Kind != p.Software[j].Kind {
			return p.Software[i].Kind < p.Software[j].Kind
		}
		return strings.ToLower(p.Software[i].Name) < strings.ToLower(p.Software[j].Name)
	})
	sort.Slice(p.Techniques, func(i, j int) bool { return p.Techniques[i].ID < p.Techniques[j].ID })
	sort.Slice(p.Reports, func(i, j int) bool { return p.Reports[i].Title < p.Reports[j].Title })
	sort.Slice(p.Indicators, func(i, j int) bool { return p.Indicators[i].ID < p.Indicators[j].ID })
}

// software adds one malware family or tool, once: the same name of the
// same kind from two sources (OpenIOC's CHOPSTICK, ATT&CK's CHOPSTICK
// S0023) is one entry, with the ATT&CK id when either record has it.
func (b *profileBuilder) software(sw Software) {
	for i := range b.p.Software {
		have := &b.p.Software[i]
		if have.Kind == sw.Kind && actorjoin.NormName(have.Name) == actorjoin.NormName(sw.Name) {
			if have.AttackID == "" {
				have.AttackID, have.Name = sw.AttackID, sw.Name
			}
			return
		}
	}
	b.p.Software = append(b.p.Software, sw)
}
