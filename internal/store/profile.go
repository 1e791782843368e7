package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Profile is everything known about one actor: the records joined into it,
// its names with their sources, who it is attributed to, what it uses and
// the indicators that point to it.
type Profile struct {
	Actor        *intel.Object   // the canonical record
	Members      []*intel.Object // every record joined into this actor
	Links        []ActorLink     // the joins, with their rules (undone ones too)
	Names        []NameSources   // every name, with the sources that gave it
	Country      string
	CountrySrc   []string
	Sponsor      string
	AttributedTo []*intel.Object // threat-actors, identities the actor is attributed to
	Personas     []Persona
	Malware      []*intel.Object
	Tools        []*intel.Object
	Techniques   []*intel.Object
	Campaigns    []*intel.Object
	Indicators   []*intel.Object // indicators that indicate the actor or its personas
	Sources      []intel.Source
	// Candidates are other actor records that share only a secondary alias:
	// possibly the same actor, deliberately not joined.
	Candidates []Candidate
}

// NameSources is one name and every source that asserted it.
type NameSources struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Sources []string `json:"sources"`
}

// Persona is a threat-actor attributed to the group, with the identities
// (people) it is attributed to.
type Persona struct {
	Actor      *intel.Object
	Identities []*intel.Object
}

// Candidate is an unjoined actor record sharing an alias.
type Candidate struct {
	Actor *intel.Object
	Alias string
}

// ErrAmbiguous is returned when a name resolves to several distinct actors.
var ErrAmbiguous = errors.New("ambiguous")

// ResolveActor finds the actor cluster named by name (any alias, ATT&CK id or
// STIX id) and returns its member ids and links.
func ResolveActor(ctx context.Context, s ActorReader, name string) ([]string, []ActorLink, error) {
	links, err := s.ActorLinks(ctx)
	if err != nil {
		return nil, nil, err
	}
	var seeds []string
	if o, err := s.Object(ctx, name); err == nil {
		if !intel.IsActorType(o.Type) {
			return nil, nil, fmt.Errorf("%s is a %s, not an actor", name, o.Type)
		}
		seeds = []string{o.ID}
	} else {
		objs, err := s.FindByName(ctx, name, intel.TypeIntrusionSet, intel.TypeThreatActor)
		if err != nil {
			return nil, nil, err
		}
		// Prefer intrusion sets: "APT1" names the group, not a persona.
		var sets []string
		for _, o := range objs {
			if o.Type == intel.TypeIntrusionSet {
				sets = append(sets, o.ID)
			} else {
				seeds = append(seeds, o.ID)
			}
		}
		if len(sets) > 0 {
			seeds = sets
		}
	}
	if len(seeds) == 0 {
		return nil, nil, fmt.Errorf("no actor called %q: %w", name, ErrNotFound)
	}
	// Several seeds that are not joined are different actors sharing a name.
	first := Cluster(seeds[:1], links)
	for _, sd := range seeds[1:] {
		if !containsStr(first, sd) {
			return nil, nil, fmt.Errorf("%q names several actors that are not joined (%s): %w", name, strings.Join(seeds, ", "), ErrAmbiguous)
		}
	}
	return first, links, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BuildProfile assembles the profile of the actor called name.
func BuildProfile(ctx context.Context, s ActorReader, name string) (*Profile, error) {
	ids, links, err := ResolveActor(ctx, s, name)
	if err != nil {
		return nil, err
	}
	p := &Profile{}
	memberSet := map[string]bool{}
	for _, id := range ids {
		o, err := s.Object(ctx, id)
		if err != nil {
			return nil, err
		}
		p.Members = append(p.Members, o)
		memberSet[id] = true
	}
	for _, l := range links {
		if memberSet[l.A] || memberSet[l.B] {
			p.Links = append(p.Links, l)
		}
	}
	actors := map[string]*intel.Object{}
	for _, m := range p.Members {
		actors[m.ID] = m
	}
	p.Actor = actors[Canonical(actors, p.Links)[ids[0]]]

	names := map[string]*NameSources{}
	var order []string
	srcSeen := map[int64]bool{}
	seen := map[string]bool{}
	add := func(list *[]*intel.Object, o *intel.Object) {
		if !seen[o.ID] {
			seen[o.ID] = true
			*list = append(*list, o)
		}
	}
	personaIDs := map[string]*Persona{}
	var usesFrom []string
	for _, m := range p.Members {
		recs, err := s.Names(ctx, m.ID)
		if err != nil {
			return nil, err
		}
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
		srcs, err := s.ObjectSources(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		for _, sc := range srcs {
			if !srcSeen[sc.ID] {
				srcSeen[sc.ID] = true
				p.Sources = append(p.Sources, sc)
			}
		}
		if m.Actor != nil {
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
		usesFrom = append(usesFrom, m.ID)
	}
	for _, k := range order {
		p.Names = append(p.Names, *names[k])
	}
	// attributed-to: threat-actors (personas, units) and identities.
	for _, m := range p.Members {
		rels, err := s.Relationships(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range rels {
			rs := r.Relationship
			if rs.SourceRef != m.ID {
				continue
			}
			switch rs.Type {
			case "attributed-to":
				t, err := s.Object(ctx, rs.TargetRef)
				if err != nil {
					continue
				}
				add(&p.AttributedTo, t)
				if t.Type == intel.TypeThreatActor {
					personaIDs[t.ID] = &Persona{Actor: t}
					usesFrom = append(usesFrom, t.ID)
				}
			case "originates-from":
				if t, err := s.Object(ctx, rs.TargetRef); err == nil && p.Country == "" {
					if c := locationCountry(t); c != "" {
						p.Country = c
					}
				}
			}
		}
	}
	for id, per := range personaIDs {
		rels, err := s.Relationships(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, r := range rels {
			if r.Relationship.SourceRef == id && r.Relationship.Type == "attributed-to" {
				if t, err := s.Object(ctx, r.Relationship.TargetRef); err == nil {
					per.Identities = append(per.Identities, t)
				}
			}
		}
		p.Personas = append(p.Personas, *per)
	}
	sort.Slice(p.Personas, func(i, j int) bool { return p.Personas[i].Actor.Name < p.Personas[j].Actor.Name })
	// uses (malware, tools, techniques), campaigns attributed to it, and indicators.
	for _, id := range usesFrom {
		rels, err := s.Relationships(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, r := range rels {
			rs := r.Relationship
			if r.Revoked {
				continue
			}
			var other string
			switch {
			case rs.SourceRef == id && rs.Type == "uses":
				other = rs.TargetRef
			case rs.TargetRef == id && (rs.Type == "attributed-to" || rs.Type == "indicates"):
				other = rs.SourceRef
			default:
				continue
			}
			t, err := s.Object(ctx, other)
			if err != nil || t.Revoked {
				continue
			}
			switch t.Type {
			case intel.TypeMalware:
				add(&p.Malware, t)
			case intel.TypeTool:
				add(&p.Tools, t)
			case intel.TypeAttackPattern:
				add(&p.Techniques, t)
			case intel.TypeCampaign:
				add(&p.Campaigns, t)
			case intel.TypeIndicator:
				add(&p.Indicators, t)
			}
		}
	}
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
	// Candidates: records sharing an alias but not joined.
	for _, ns := range p.Names {
		others, err := s.FindByName(ctx, ns.Name, intel.TypeIntrusionSet)
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if !memberSet[o.ID] && !seen["cand:"+o.ID] {
				seen["cand:"+o.ID] = true
				p.Candidates = append(p.Candidates, Candidate{Actor: o, Alias: ns.Name})
			}
		}
	}
	return p, nil
}

func appendUnique(list []string, s string) []string {
	if containsStr(list, s) {
		return list
	}
	return append(list, s)
}

func locationCountry(o *intel.Object) string {
	if o.Type != intel.TypeLocation || len(o.Raw) == 0 {
		return ""
	}
	var l struct {
		Country string `json:"country"`
	}
	if json.Unmarshal(o.Raw, &l) != nil {
		return ""
	}
	return strings.ToUpper(l.Country)
}

// sameNameOnce keeps one record per name: the same family from two
// sources (OpenIOC's CHOPSTICK, ATT&CK's CHOPSTICK S0023) is listed once,
// as the record with an ATT&CK id when one has it.
func sameNameOnce(l []*intel.Object) []*intel.Object {
	at := map[string]int{}
	var out []*intel.Object
	for _, o := range l {
		n := NormName(o.Name)
		i, dup := at[n]
		switch {
		case !dup:
			at[n] = len(out)
			out = append(out, o)
		case out[i].AttackID() == "" && o.AttackID() != "":
			out[i] = o
		}
	}
	return out
}
