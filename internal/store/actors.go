package store

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// ActorNames collects the names of one actor record for join decisions.
type ActorNames struct {
	ID          string
	Names       map[string]string // norm -> display (primary names)
	Aliases     map[string]string // norm -> display
	ExternalIDs map[string]string // ATT&CK group ids, upper case
}

var attackGroupID = regexp.MustCompile(`^G\d{4}$`)

// Add records one name of the given kind ("name", "alias", "external-id").
// An alias shaped like an ATT&CK group id (G0006) counts as an external id.
func (a *ActorNames) Add(kind, display string) {
	if a.Names == nil {
		a.Names, a.Aliases, a.ExternalIDs = map[string]string{}, map[string]string{}, map[string]string{}
	}
	norm := NormName(display)
	if norm == "" {
		return
	}
	up := strings.ToUpper(strings.TrimSpace(display))
	switch {
	case kind == "external-id" || attackGroupID.MatchString(up):
		a.ExternalIDs[up] = display
	case kind == "name":
		a.Names[norm] = display
	default:
		a.Aliases[norm] = display
	}
}

// ActorJoin decides whether two actor records are the same actor, and by
// which rule. The rules are deliberately narrow, because joins made on any
// shared alias glue unrelated groups together:
//
//   - "external-id": both carry the same ATT&CK group id.
//   - "name": the primary name of one is the primary name or an alias of
//     the other.
//
// Two records that carry different ATT&CK ids are never joined. Sharing only
// secondary aliases is not a join; it is reported by CandidateAliases.
func ActorJoin(a, b *ActorNames) (rule, detail string, ok bool) {
	for id := range a.ExternalIDs {
		if _, same := b.ExternalIDs[id]; same {
			return "external-id", fmt.Sprintf("both carry ATT&CK id %s", id), true
		}
	}
	if len(a.ExternalIDs) > 0 && len(b.ExternalIDs) > 0 {
		return "", "", false // different ATT&CK groups
	}
	for _, pair := range [][2]*ActorNames{{a, b}, {b, a}} {
		x, y := pair[0], pair[1]
		for _, norm := range sortedKeys(x.Names) {
			disp := x.Names[norm]
			if yd, ok := y.Names[norm]; ok {
				return "name", fmt.Sprintf("same name %q / %q", disp, yd), true
			}
			if yd, ok := y.Aliases[norm]; ok {
				return "name", fmt.Sprintf("name %q of one is an alias %q of the other", disp, yd), true
			}
		}
	}
	return "", "", false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Cluster returns every actor id joined (transitively, through links not
// undone) with any of seeds, seeds included, sorted.
func Cluster(seeds []string, links []ActorLink) []string {
	adj := map[string][]string{}
	for _, l := range links {
		if l.Undone {
			continue
		}
		adj[l.A] = append(adj[l.A], l.B)
		adj[l.B] = append(adj[l.B], l.A)
	}
	seen := map[string]bool{}
	stack := append([]string(nil), seeds...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, adj[n]...)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Canonical maps every actor id to the id that represents its cluster: the
// record with an ATT&CK id if any (ATT&CK names are what analysts share),
// else the intrusion set with the most names, else the smallest id.
func Canonical(actors map[string]*intel.Object, links []ActorLink) map[string]string {
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

func rank(o *intel.Object) int {
	r := 0
	if o.AttackID() != "" {
		r += 4
	}
	if o.Type == intel.TypeIntrusionSet {
		r += 2
	}
	return r
}
