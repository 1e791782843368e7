package actorjoin

import (
	"bytes"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// Canonical maps every actor id to the id that represents its cluster: the
// record with an ATT&CK id if any (ATT&CK names are what analysts share),
// else the intrusion set with the most names, else the smallest id.
func Canonical(actors map[string]*intel.Object, links []Link) map[string]string {
	out := map[string]string{}
	for id := range actors {
		if _, done := out[id]; done {
			continue
		}
		members := Cluster([]string{id}, links)
		best := ""
		for _, m := range members {
			if actors[m] == nil {
				continue
			}
			if best == "" || better(actors[m], actors[best]) {
				best = m
			}
		}
		for _, m := range members {
			out[m] = best
		}
	}
	return out
}

func better(a, b *intel.Object) bool {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra > rb
	}
	if len(a.Aliases) != len(b.Aliases) {
		return len(a.Aliases) > len(b.Aliases)
	}
	return a.ID < b.ID
}

// mitreIdentity is the identity that created every object of ATT&CK.
const mitreIdentity = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"

func rank(o *intel.Object) int {
	r := 0
	if o.AttackID() != "" {
		r += 4
	}
	// ATT&CK's own record beats others that merely cite its id, so that
	// reports use the name ATT&CK uses.
	if o.CreatedBy == mitreIdentity || bytes.Contains(o.Raw, []byte(`"x_mitre_version"`)) {
		r += 8
	}
	if o.Type == intel.TypeIntrusionSet {
		r += 2
	}
	return r
}

// FromObject starts the Names of an actor object from its own fields: its
// name, aliases, ATT&CK ids and country. Stores that index names from
// several sources add those with Add.
func FromObject(o *intel.Object) *Names {
	n := &Names{ID: o.ID}
	n.Add(KindName, o.Name)
	for _, a := range o.Aliases {
		n.Add(KindAlias, a)
	}
	for _, r := range o.ExternalRefs {
		if r.ExternalID != "" && IsAttackSource(r.SourceName) {
			n.Add(KindExternalID, r.ExternalID)
		}
	}
	if o.Actor != nil {
		n.Country = o.Actor.Country
	}
	return n
}

// IsAttackSource reports whether an external reference's source name is
// one of ATT&CK's matrices, whose ids name groups across sources.
func IsAttackSource(name string) bool {
	switch strings.ToLower(name) {
	case "mitre-attack", "mitre-mobile-attack", "mitre-ics-attack":
		return true
	}
	return false
}
