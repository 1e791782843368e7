// Package intelgraph answers attribution's questions (attribute.Graph)
// from a store: which actors an indicator leads to and how, an indicator's
// sources, and what an actor is known to use. It loads lazily and caches,
// so that only the intelligence a campaign touches is read.
package intelgraph

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Reader is the part of a store the graph reads; every store.Store is one.
type Reader interface {
	ActorLinks(ctx context.Context) ([]store.ActorLink, error)
	Objects(ctx context.Context, q store.ObjectQuery, fn func(*intel.Object) error) error
	Object(ctx context.Context, id string) (*intel.Object, error)
	Relationships(ctx context.Context, id string) ([]*intel.Object, error)
	ObjectSources(ctx context.Context, id string) ([]intel.Source, error)
}

var _ Reader = store.Store(nil)

// Graph implements attribute.Graph over a Reader. It is safe for
// concurrent use.
type Graph struct {
	ctx   context.Context
	s     Reader
	geo   geo.Locator
	mu    sync.Mutex
	links []store.ActorLink
	canon map[string]string // actor id -> canonical id
	objs  map[string]*intel.Object
	rels  map[string][]*intel.Object
	acts  map[string]*attribute.Actor
	paths map[string][]attribute.Path
	// citedBy lists the report objects citing each object; origins caches
	// Origin; actorNames are every actor name, for reading report titles.
	citedBy    map[string][]*intel.Object
	origins    map[string]string
	actorNames []actorName
	err        error
}

var _ attribute.Graph = (*Graph)(nil)

// New prepares a graph over s, reading its actor records and the links
// between them; loc (may be nil) places the actors' known infrastructure.
func New(ctx context.Context, s Reader, loc geo.Locator) (*Graph, error) {
	g := &Graph{ctx: ctx, s: s, geo: loc, objs: map[string]*intel.Object{}, rels: map[string][]*intel.Object{},
		acts: map[string]*attribute.Actor{}, paths: map[string][]attribute.Path{}, origins: map[string]string{}}
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
	g.indexActorNames(actors)
	if err := g.loadReports(); err != nil {
		return nil, err
	}
	return g, nil
}

// Err returns the first store error met while answering.
func (g *Graph) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

func (g *Graph) object(id string) *intel.Object {
	if o, ok := g.objs[id]; ok {
		return o
	}
	o, err := g.s.Object(g.ctx, id)
	if err != nil {
		if g.err == nil && !errors.Is(err, store.ErrNotFound) {
			g.err = err
		}
		o = nil
	}
	g.objs[id] = o
	return o
}

func (g *Graph) relationships(id string) []*intel.Object {
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

// Indicator implements attribute.Graph: the object, nil when the store has none.
func (g *Graph) Indicator(id string) *intel.Object {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.object(id)
}

// IndicatorSources implements attribute.Graph.
func (g *Graph) IndicatorSources(id string) []intel.Source {
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
func (g *Graph) canonical(id string) []string {
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

func (g *Graph) canonOf(id string) string {
	if c, ok := g.canon[id]; ok && c != "" {
		return c
	}
	return id
}

// Attributions implements attribute.Graph: the actors an indicator
// indicates directly (or through a persona attributed to a group), through a
// malware family or tool they use, or through a campaign attributed to them.
func (g *Graph) Attributions(indicatorID string) []attribute.Path {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.paths[indicatorID]; ok {
		return p
	}
	pb := &pathBuilder{seen: map[string]bool{}}
	for _, r := range g.relationships(indicatorID) {
		rs := r.Relationship
		if rs.SourceRef != indicatorID || rs.Type != "indicates" {
			continue
		}
		if t := g.object(rs.TargetRef); t != nil {
			g.pathsVia(t, pb)
		}
	}
	g.paths[indicatorID] = pb.out
	return pb.out
}

// pathBuilder keeps the first path to each actor.
type pathBuilder struct {
	out  []attribute.Path
	seen map[string]bool
}

func (pb *pathBuilder) add(actor, via, malware string) {
	if !pb.seen[actor] {
		pb.seen[actor] = true
		pb.out = append(pb.out, attribute.Path{ActorID: actor, Via: via, Malware: malware})
	}
}

// pathsVia adds the actors that the indicated object t leads to.
func (g *Graph) pathsVia(t *intel.Object, pb *pathBuilder) {
	switch {
	case intel.IsActorType(t.Type):
		for _, a := range g.canonical(t.ID) {
			via := "indicates " + t.Name
			if t.Type == intel.TypeThreatActor {
				via += " (attributed to " + g.objName(a) + ")"
			}
			pb.add(a, via, "")
		}
	case t.Type == intel.TypeMalware || t.Type == intel.TypeTool:
		for _, ur := range g.relationships(t.ID) {
			if us := ur.Relationship; us.Type == "uses" && us.TargetRef == t.ID {
				for _, a := range g.canonical(us.SourceRef) {
					pb.add(a, "indicates "+t.Type+" "+t.Name+", used by "+g.objName(a), t.Name)
				}
			}
		}
	case t.Type == intel.TypeCampaign:
		for _, cr := range g.relationships(t.ID) {
			if cs := cr.Relationship; cs.Type == "attributed-to" && cs.SourceRef == t.ID {
				for _, a := range g.canonical(cs.TargetRef) {
					pb.add(a, "indicates campaign "+t.Name+", attributed to "+g.objName(a), "")
				}
			}
		}
	}
}

func (g *Graph) objName(id string) string {
	if o := g.object(id); o != nil {
		return o.Name
	}
	return id
}

// Actor implements attribute.Graph: the canonical record's name, every
// member's aliases, the country any member states, the techniques any
// member or its personas use, and the networks their indicators name.
func (g *Graph) Actor(id string) *attribute.Actor {
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
	a := &attribute.Actor{ID: id, Name: o.Name, AttackID: o.AttackID(), Techniques: map[string]bool{}}
	for _, u := range g.joinMembers(a, o) {
		for _, r := range g.relationships(u) {
			rs := r.Relationship
			switch {
			case rs.SourceRef == u && rs.Type == "uses":
				g.addTechnique(a, rs.TargetRef)
			case rs.TargetRef == u && rs.Type == "indicates":
				g.addInfra(a, rs.SourceRef)
			}
		}
	}
	g.acts[id] = a
	return a
}

// joinMembers fills a's aliases, ATT&CK id and country from the records
// joined with o, and returns those records and the personas attributed to
// them: whose techniques and indicators count for the actor.
func (g *Graph) joinMembers(a *attribute.Actor, o *intel.Object) []string {
	aliasSeen := map[string]bool{store.NormName(o.Name): true}
	var users []string
	for _, m := range store.Cluster([]string{a.ID}, g.links) {
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
		if mo.Actor != nil && mo.Actor.Country != "" {
			if a.Country == "" {
				a.Country = mo.Actor.Country
			}
			a.CountryClaims = append(a.CountryClaims, g.countryClaim(mo))
		}
		for _, r := range g.relationships(m) {
			if rs := r.Relationship; rs.SourceRef == m && rs.Type == "attributed-to" {
				if t := g.object(rs.TargetRef); t != nil && t.Type == intel.TypeThreatActor {
					users = append(users, t.ID)
				}
			}
		}
	}
	return users
}

// addTechnique records an attack pattern the actor uses; a sub-technique
// counts for its parent too.
func (g *Graph) addTechnique(a *attribute.Actor, targetID string) {
	t := g.object(targetID)
	if t == nil || t.Type != intel.TypeAttackPattern {
		return
	}
	if tid := t.AttackID(); tid != "" {
		a.Techniques[tid] = true
		if i := strings.IndexByte(tid, '.'); i > 0 {
			a.Techniques[tid[:i]] = true
		}
	}
}

// addInfra records the addresses and networks of an indicator that points
// to the actor, located where the locator can.
func (g *Graph) addInfra(a *attribute.Actor, indicatorID string) {
	ind := g.object(indicatorID)
	if ind == nil || ind.Indicator == nil {
		return
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
		k := attribute.KnownInfra{IndicatorID: ind.ID, Prefix: p, Origin: g.origin(ind.ID)}
		if g.geo != nil {
			if info, ok := g.geo.Lookup(p.Addr()); ok {
				k.Country = info.Country
			}
		}
		a.KnownInfra = append(a.KnownInfra, k)
	}
}

// countryClaim is the country an actor record states, with the most
// reliable source that gives the record and the record's own confidence.
func (g *Graph) countryClaim(o *intel.Object) attribute.CountryClaim {
	c := attribute.CountryClaim{Country: o.Actor.Country, Confidence: o.Confidence}
	srcs, err := g.s.ObjectSources(g.ctx, o.ID)
	if err != nil && g.err == nil {
		g.err = err
	}
	best := 0
	for i, s := range srcs {
		if i == 0 || gradeRank(s.Reliability) < best {
			c.Source, c.Reliability, best = s.Name, s.Reliability.String(), gradeRank(s.Reliability)
		}
	}
	return c
}

// gradeRank orders Admiralty grades, A best; ungraded and F last.
func gradeRank(r intel.Reliability) int {
	if r >= intel.CompletelyReliable && r < intel.CannotBeJudged {
		return int(r - intel.CompletelyReliable)
	}
	return 6
}
