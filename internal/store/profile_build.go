package store

import (
	"context"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// BuildProfile assembles the profile of the actor called name.
func BuildProfile(ctx context.Context, s ActorReader, name string) (*Profile, error) {
	ids, links, err := ResolveActor(ctx, s, name)
	if err != nil {
		return nil, err
	}
	b := &profileBuilder{ctx: ctx, s: s, p: &Profile{}, memberSet: map[string]bool{}, seen: map[string]bool{},
		personas: map[string]*Persona{}}
	// Each step reads what the ones before found: members, then their
	// names and attributions, which add personas whose uses count too.
	steps := []func() error{
		func() error { return b.loadMembers(ids, links) },
		b.collectNames,
		b.collectAttributions,
		b.collectPersonas,
		b.collectUses,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	sortProfileLists(b.p)
	if err := b.findCandidates(); err != nil {
		return nil, err
	}
	return b.p, nil
}

// profileBuilder holds what BuildProfile gathers between its steps.
type profileBuilder struct {
	ctx       context.Context
	s         ActorReader
	p         *Profile
	memberSet map[string]bool
	// seen keeps any record from being listed twice, in one list or across
	// lists; candidates are keyed "cand:"+id.
	seen     map[string]bool
	personas map[string]*Persona // by threat-actor id
	// usesFrom are the records whose uses, campaigns and indicators
	// belong to the actor: its members, then its personas.
	usesFrom []string
}

func (b *profileBuilder) add(list *[]*intel.Object, o *intel.Object) {
	if !b.seen[o.ID] {
		b.seen[o.ID] = true
		*list = append(*list, o)
	}
}

// loadMembers reads the records joined into the actor, the joins that
// touch them, and picks the canonical record.
func (b *profileBuilder) loadMembers(ids []string, links []ActorLink) error {
	p := b.p
	for _, id := range ids {
		o, err := b.s.Object(b.ctx, id)
		if err != nil {
			return err
		}
		p.Members = append(p.Members, o)
		b.memberSet[id] = true
	}
	for _, l := range links {
		if b.memberSet[l.A] || b.memberSet[l.B] {
			p.Links = append(p.Links, l)
		}
	}
	actors := map[string]*intel.Object{}
	for _, m := range p.Members {
		actors[m.ID] = m
	}
	p.Actor = actors[Canonical(actors, p.Links)[ids[0]]]
	return nil
}

// collectNames gathers every member's names (merged by normalised form,
// in first-seen order), sources, country and sponsor.
func (b *profileBuilder) collectNames() error {
	names := map[string]*NameSources{}
	var order []string
	srcSeen := map[int64]bool{}
	for _, m := range b.p.Members {
		recs, err := b.s.Names(b.ctx, m.ID)
		if err != nil {
			return err
		}
		order = mergeNames(names, order, recs)
		srcs, err := b.s.ObjectSources(b.ctx, m.ID)
		if err != nil {
			return err
		}
		for _, sc := range srcs {
			if !srcSeen[sc.ID] {
				srcSeen[sc.ID] = true
				b.p.Sources = append(b.p.Sources, sc)
			}
		}
		addActorFacts(b.p, m, srcs)
		b.usesFrom = append(b.usesFrom, m.ID)
	}
	for _, k := range order {
		b.p.Names = append(b.p.Names, *names[k])
	}
	return nil
}

// mergeNames adds name records to names, returning the keys in order. A
// name any source gives as the primary name is kind "name".
func mergeNames(names map[string]*NameSources, order []string, recs []NameRecord) []string {
	for _, r := range recs {
		k := NormName(r.Name)
		ns, ok := names[k]
		if !ok {
			ns = &NameSources{Name: r.Name, Kind: r.Kind}
			names[k] = ns
			order = append(order, k)
		}
		if r.Kind == "name" && ns.Kind != "name" {
			ns.Kind = "name"
		}
		if !containsStr(ns.Sources, r.Source) {
			ns.Sources = append(ns.Sources, r.Source)
		}
	}
	return order
}

// addActorFacts takes the first country and sponsor the members state,
// crediting the country to every source of a member that agrees.
func addActorFacts(p *Profile, m *intel.Object, srcs []intel.Source) {
	if m.Actor == nil {
		return
	}
	if m.Actor.Country != "" && p.Country == "" {
		p.Country = m.Actor.Country
	}
	if m.Actor.Country != "" && m.Actor.Country == p.Country {
		for _, sc := range srcs {
			p.CountrySrc = appendUnique(p.CountrySrc, sc.Name)
		}
	}
	if m.Actor.StateSponsor != "" && p.Sponsor == "" {
		p.Sponsor = m.Actor.StateSponsor
	}
}

// collectAttributions follows the members' attributed-to relationships to
// threat-actors (personas, units) and identities, and originates-from to a
// country when no member states one.
func (b *profileBuilder) collectAttributions() error {
	for _, m := range b.p.Members {
		rels, err := b.s.Relationships(b.ctx, m.ID)
		if err != nil {
			return err
		}
		for _, r := range rels {
			rs := r.Relationship
			if rs.SourceRef != m.ID {
				continue
			}
			switch rs.Type {
			case "attributed-to":
				t, err := b.s.Object(b.ctx, rs.TargetRef)
				if err != nil {
					continue
				}
				b.add(&b.p.AttributedTo, t)
				if t.Type == intel.TypeThreatActor {
					b.personas[t.ID] = &Persona{Actor: t}
					b.usesFrom = append(b.usesFrom, t.ID)
				}
			case "originates-from":
				if t, err := b.s.Object(b.ctx, rs.TargetRef); err == nil && b.p.Country == "" {
					if c := locationCountry(t); c != "" {
						b.p.Country = c
					}
				}
			}
		}
	}
	return nil
}

// collectPersonas lists each persona with the identities (people) it is
// attributed to, sorted by name.
func (b *profileBuilder) collectPersonas() error {
	for id, per := range b.personas {
		rels, err := b.s.Relationships(b.ctx, id)
		if err != nil {
			return err
		}
		for _, r := range rels {
			if r.Relationship.SourceRef == id && r.Relationship.Type == "attributed-to" {
				if t, err := b.s.Object(b.ctx, r.Relationship.TargetRef); err == nil {
					per.Identities = append(per.Identities, t)
				}
			}
		}
		b.p.Personas = append(b.p.Personas, *per)
	}
	sort.Slice(b.p.Personas, func(i, j int) bool { return b.p.Personas[i].Actor.Name < b.p.Personas[j].Actor.Name })
	return nil
}

// collectUses gathers what the actor and its personas use (malware, tools,
// techniques), the campaigns attributed to them and the indicators that
// point to them, leaving out revoked records.
func (b *profileBuilder) collectUses() error {
	for _, id := range b.usesFrom {
		rels, err := b.s.Relationships(b.ctx, id)
		if err != nil {
			return err
		}
		for _, r := range rels {
			other := usedOrAttributed(id, r)
			if other == "" {
				continue
			}
			t, err := b.s.Object(b.ctx, other)
			if err != nil || t.Revoked {
				continue
			}
			b.file(t)
		}
	}
	return nil
}

// usedOrAttributed is the record at the other end of a live relationship
// in which id uses something, or something is attributed to or indicates
// id; "" for any other relationship.
func usedOrAttributed(id string, r *intel.Object) string {
	rs := r.Relationship
	if r.Revoked {
		return ""
	}
	switch {
	case rs.SourceRef == id && rs.Type == "uses":
		return rs.TargetRef
	case rs.TargetRef == id && (rs.Type == "attributed-to" || rs.Type == "indicates"):
		return rs.SourceRef
	}
	return ""
}

// file adds a related record to the profile's list for its type.
func (b *profileBuilder) file(t *intel.Object) {
	switch t.Type {
	case intel.TypeMalware:
		b.add(&b.p.Malware, t)
	case intel.TypeTool:
		b.add(&b.p.Tools, t)
	case intel.TypeAttackPattern:
		b.add(&b.p.Techniques, t)
	case intel.TypeCampaign:
		b.add(&b.p.Campaigns, t)
	case intel.TypeIndicator:
		b.add(&b.p.Indicators, t)
	}
}

// sortProfileLists orders the related records for reading, listing a
// malware or tool name once.
func sortProfileLists(p *Profile) {
	byName := func(l []*intel.Object) {
		sort.Slice(l, func(i, j int) bool { return strings.ToLower(l[i].Name) < strings.ToLower(l[j].Name) })
	}
	p.Malware, p.Tools = sameNameOnce(p.Malware), sameNameOnce(p.Tools)
	byName(p.Malware)
	byName(p.Tools)
	byName(p.Campaigns)
	sort.Slice(p.Techniques, func(i, j int) bool { return p.Techniques[i].AttackID() < p.Techniques[j].AttackID() })
	sort.Slice(p.Indicators, func(i, j int) bool {
		return p.Indicators[i].Name+p.Indicators[i].ID < p.Indicators[j].Name+p.Indicators[j].ID
	})
}

// findCandidates lists intrusion sets that share one of the actor's names
// but are not joined into it: possibly the same actor, left for a person
// to judge.
func (b *profileBuilder) findCandidates() error {
	for _, ns := range b.p.Names {
		others, err := b.s.FindByName(b.ctx, ns.Name, intel.TypeIntrusionSet)
		if err != nil {
			return err
		}
		for _, o := range others {
			if !b.memberSet[o.ID] && !b.seen["cand:"+o.ID] {
				b.seen["cand:"+o.ID] = true
				b.p.Candidates = append(b.p.Candidates, Candidate{Actor: o, Alias: ns.Name})
			}
		}
	}
	return nil
}
