package correlate

import (
	"net/netip"
	"sort"
	"time"
)

// cutIncidents cuts each victim's activity, in time order, into incidents
// wherever nothing is seen for longer than IncidentGap. Incidents come
// ordered by victim, then time.
func (b *builder) cutIncidents() []*Incident {
	victims := make([]netip.Addr, 0, len(b.perVictim))
	for v := range b.perVictim {
		victims = append(victims, v)
	}
	sort.Slice(victims, func(i, j int) bool { return victims[i].Less(victims[j]) })
	var incidents []*Incident
	for _, v := range victims {
		incidents = append(incidents, b.victimIncidents(v)...)
	}
	for _, inc := range incidents {
		inc.ID = "I-" + shortHash(inc.Victim.String(), inc.FirstSeen.UTC().Format(time.RFC3339Nano))
	}
	return incidents
}

// victimIncidents cuts one victim's activity into incidents.
func (b *builder) victimIncidents(v netip.Addr) []*Incident {
	items := b.perVictim[v]
	sort.SliceStable(items, func(i, j int) bool { return items[i].t.Before(items[j].t) })
	var out []*Incident
	var cur *Incident
	var seen map[string]bool // infrastructure keys of cur
	for _, it := range items {
		if cur == nil || it.t.Sub(cur.LastSeen) > b.cfg.IncidentGap {
			cur = &Incident{Victim: v, FirstSeen: it.t, LastSeen: it.end}
			out = append(out, cur)
			seen = map[string]bool{}
		}
		// an incident lasts to the end of its last detection's series,
		// not only to its start
		if it.end.After(cur.LastSeen) {
			cur.LastSeen = it.end
		}
		if it.sighting >= 0 {
			cur.Sightings = append(cur.Sightings, it.sighting)
		} else {
			cur.Detections = append(cur.Detections, it.detection)
		}
		for _, i := range it.infra {
			if !seen[i.Key()] {
				seen[i.Key()] = true
				cur.Infra = append(cur.Infra, i.Key())
			}
		}
	}
	return out
}

// joined is the result of joining incidents: which belong together and
// the first reason each pair was joined for.
type joined struct {
	uf    *unionFind
	links []joinLink
}

type joinLink struct {
	a, b int // incident indexes
	l    Link
}

// joinIncidents joins incidents that share (unsuppressed) infrastructure
// or an indicator that one actor alone claims.
func (b *builder) joinIncidents(incidents []*Incident) *joined {
	j := &joined{uf: newUnionFind(len(incidents))}
	join := func(x, y int, reason, value string) {
		if j.uf.union(x, y) {
			j.links = append(j.links, joinLink{x, y, Link{A: incidents[x].ID, B: incidents[y].ID, Reason: reason, Value: value}})
		}
	}
	firstByInfra := map[string]int{}
	firstByActor := map[string]int{}
	for n, inc := range incidents {
		for _, k := range inc.Infra {
			if b.infra[k].Suppressed {
				continue
			}
			if m, ok := firstByInfra[k]; ok {
				join(m, n, "shared infrastructure", b.infra[k].Value)
			} else {
				firstByInfra[k] = n
			}
		}
		for _, a := range b.soleActors(inc) {
			if m, ok := firstByActor[a]; ok {
				join(m, n, "same actor", a)
			} else {
				firstByActor[a] = n
			}
		}
	}
	return j
}

// soleActors lists, per unsuppressed sighting of inc in order, the actor of
// its indicator when one actor alone claims it: a shared indicator would
// glue actors together.
func (b *builder) soleActors(inc *Incident) []string {
	if b.in.ActorsOf == nil {
		return nil
	}
	var out []string
	for _, si := range inc.Sightings {
		s := &b.in.Sightings[si]
		if s.Suppressed {
			continue
		}
		if actors := b.in.ActorsOf(s.IndicatorID); len(actors) == 1 {
			out = append(out, actors[0])
		}
	}
	return out
}

// groups returns the incident indexes of each joined group, by root.
func (j *joined) groups() map[int][]int {
	g := map[int][]int{}
	for n := range j.uf.parent {
		r := j.uf.find(n)
		g[r] = append(g[r], n)
	}
	return g
}

// linksOf returns the links inside the group whose root is root, in the
// order they were made.
func (j *joined) linksOf(root int) []Link {
	var out []Link
	for _, l := range j.links {
		if j.uf.find(l.a) == root {
			out = append(out, l.l)
		}
	}
	return out
}

type unionFind struct{ parent []int }

func newUnionFind(n int) *unionFind {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return &unionFind{parent: p}
}

func (u *unionFind) find(x int) int {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// union joins a and b and reports whether they were apart.
func (u *unionFind) union(a, b int) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if ra < rb {
		u.parent[rb] = ra
	} else {
		u.parent[ra] = rb
	}
	return true
}
