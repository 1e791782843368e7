package attribute

import (
	"context"
	"net/netip"
	"strings"
	"sync"

	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// StoreGraph answers Graph from a store, loading lazily and caching, so that
// only the intelligence a campaign touches is read.
type StoreGraph struct {
	ctx   context.Context
	s     store.Store
	geo   geo.Locator
	mu    sync.Mutex
	links []store.ActorLink
	canon map[string]string // actor id -> canonical id
	objs  map[string]*intel.Object
	rels  map[string][]*intel.Object
	acts  map[string]*Actor
	paths map[string][]Path
	err   error
}

// NewStoreGraph prepares a graph over s; loc (may be nil) places the
// actors' known infrastructure.
func NewStoreGraph(ctx context.Context, s store.Store, loc geo.Locator) (*StoreGraph, error) {
	g := &StoreGraph{ctx: ctx, s: s, geo: loc, objs: map[string]*intel.Object{}, rels: map[string][]*intel.Object{},
		acts: map[string]*Actor{}, paths: map[string][]Path{}}
	links, err := s.ActorLinks(ctx)
	if err != nil {
		return nil, err
	}
	g.links = links
	actors := map[string]*intel.Object{}
	if err := s.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeIntrusionSet, intel.TypeThreatActor}}, func(o *intel.Object) error {
		actors[o.ID] = o
		g.objs[o.ID] = o
		return nil
	}); err != nil {
		return nil, err
	}
	g.canon = store.Canonical(actors, links)
	return g, nil
}

// Err returns the first store error met while answering.
func (g *StoreGraph) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

func (g *StoreGraph) object(id string) *intel.Object {
	if o, ok := g.objs[id]; ok {
		return o
	}
	o, err := g.s.Object(g.ctx, id)
	if err != nil {
		if g.err == nil && !strings.Contains(err.Error(), store.ErrNotFound.Error()) {
			g.err = err
		}
		o = nil
	}
	g.objs[id] = o
	return o
}

func (g *StoreGraph) relationships(id string) []*intel.Object {
	if r, ok := g.rels[id]; ok {
		return r
	}
	r, err := g.s.Relationships(g.ctx, id)
	if err != nil && g.err == nil {
		g.err = err
	}
	var live []*intel.Object
	for _, x := range r {
		if !x.Revoked {
			live = append(live, x)
		}
	}
	g.rels[id] = live
	return live
}

// Indicator implements Graph.
func (g *StoreGraph) Indicator(id string) *intel.Object {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.object(id)
}

// IndicatorSources implements Graph.
func (g *StoreGraph) IndicatorSources(id string) []intel.Source {
	srcs, err := g.s.ObjectSources(g.ctx, id)
	if err != nil {
		g.mu.Lock()
		if g.err == nil {
			g.err = err
		}
		g.mu.Unlock()
	}
	return srcs
}

// canonical maps an actor record, or a persona attributed to a group, to
// the canonical id of the group.
func (g *StoreGraph) canonical(id string) []string {
	o := g.object(id)
	if o == nil || !intel.IsActorType(o.Type) {
		return nil
	}
	if o.Type == intel.TypeThreatActor {
		// A persona (APT1's Ugly Gorilla) counts for the groups attributed to it.
		var groups []string
		for _, r := range g.relationships(id) {
			rs := r.Relationship
			if rs.Type == "attributed-to" && rs.TargetRef == id {
				if src := g.object(rs.SourceRef); src != nil && src.Type == intel.TypeIntrusionSet {
					groups = append(groups, g.canonOf(src.ID))
				}
			}
		}
		if len(groups) > 0 {
			return groups
		}
	}
	return []string{g.canonOf(id)}
}

func (g *StoreGraph) canonOf(id string) string {
	if c, ok := g.canon[id]; ok && c != "" {
		return c
	}
	return id
}

// Attributions implements Graph.
func (g *StoreGraph) Attributions(indicatorID string) []Path {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.paths[indicatorID]; ok {
		return p
	}
	var out []Path
	seen := map[string]bool{}
	addPath := func(actor, via, malware string) {
		if !seen[actor] {
			seen[actor] = true
			out = append(out, Path{ActorID: actor, Via: via, Malware: malware})
		}
	}
	for _, r := range g.relationships(indicatorID) {
		rs := r.Relationship
		if rs.SourceRef != indicatorID || rs.Type != "indicates" {
			continue
		}
		t := g.object(rs.TargetRef)
		if t == nil {
			continue
		}
		switch {
		case intel.IsActorType(t.Type):
			for _, a := range g.canonical(t.ID) {
				via := "indicates " + t.Name
				if t.Type == intel.TypeThreatActor {
					via += " (attributed to " + g.objName(a) + ")"
				}
				addPath(a, via, "")
			}
		case t.Type == intel.TypeMalware || t.Type == intel.TypeTool:
			for _, ur := range g.relationships(t.ID) {
				us := ur.Relationship
				if us.Type == "uses" && us.TargetRef == t.ID {
					for _, a := range g.canonical(us.SourceRef) {
						addPath(a, "indicates "+t.Type+" "+t.Name+", used by "+g.objName(a), t.Name)
					}
				}
			}
		case t.Type == intel.TypeCampaign:
			for _, cr := range g.relationships(t.ID) {
				cs := cr.Relationship
				if cs.Type == "attributed-to" && cs.SourceRef == t.ID {
					for _, a := range g.canonical(cs.TargetRef) {
						addPath(a, "indicates campaign "+t.Name+", attributed to "+g.objName(a), "")
					}
				}
			}
		}
	}
	g.paths[indicatorID] = out
	return out
}

func (g *StoreGraph) objName(id string) string {
	if o := g.object(id); o != nil {
		return o.Name
	}
	return id
}

// Actor implements Graph: the canonical record's name, every member's
// aliases, the country any member states, the techniques any member uses.
func (g *StoreGraph) Actor(id string) *Actor {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a, ok := g.acts[id]; ok {
		return a
	}
	o := g.object(id)
	if o == nil {
		g.acts[id] = nil
		return nil
	}
	a := &Actor{ID: id, Name: o.Name, AttackID: o.AttackID(), Techniques: map[string]bool{}}
	members := store.Cluster([]string{id}, g.links)
	aliasSeen := map[string]bool{store.NormName(o.Name): true}
	var users []string
	for _, m := range members {
		mo := g.object(m)
		if mo == nil {
			continue
		}
		users = append(users, m)
		for _, al := range append([]string{mo.Name}, mo.Aliases...) {
			if n := store.NormName(al); !aliasSeen[n] {
				aliasSeen[n] = true
				a.Aliases = append(a.Aliases, al)
			}
		}
		if a.AttackID == "" {
			a.AttackID = mo.AttackID()
		}
		if mo.Actor != nil && mo.Actor.Country != "" && a.Country == "" {
			a.Country = mo.Actor.Country
		}
		for _, r := range g.relationships(m) {
			rs := r.Relationship
			if rs.SourceRef == m && rs.Type == "attributed-to" {
				if t := g.object(rs.TargetRef); t != nil && t.Type == intel.TypeThreatActor {
					users = append(users, t.ID)
				}
			}
		}
	}
	for _, u := range users {
		for _, r := range g.relationships(u) {
			rs := r.Relationship
			switch {
			case rs.SourceRef == u && rs.Type == "uses":
				if t := g.object(rs.TargetRef); t != nil && t.Type == intel.TypeAttackPattern {
					if tid := t.AttackID(); tid != "" {
						a.Techniques[tid] = true
						if i := strings.IndexByte(tid, '.'); i > 0 {
							a.Techniques[tid[:i]] = true
						}
					}
				}
			case rs.TargetRef == u && rs.Type == "indicates":
				ind := g.object(rs.SourceRef)
				if ind == nil || ind.Indicator == nil {
					continue
				}
				for _, ob := range ind.Indicator.Observables {
					var p netip.Prefix
					switch ob.Type {
					case intel.IPv4, intel.IPv6:
						if ad, err := netip.ParseAddr(ob.Value); err == nil {
							p = netip.PrefixFrom(ad, ad.BitLen())
						}
					case intel.CIDR:
						p, _ = netip.ParsePrefix(ob.Value)
					}
					if !p.IsValid() {
						continue
					}
					k := KnownInfra{IndicatorID: ind.ID, Prefix: p}
					if g.geo != nil {
						if info, ok := g.geo.Lookup(p.Addr()); ok {
							k.Country = info.Country
						}
					}
					a.KnownInfra = append(a.KnownInfra, k)
				}
			}
		}
	}
	g.acts[id] = a
	return a
}
