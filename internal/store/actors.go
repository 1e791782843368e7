package store

import (
	"bytes"
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
	Country     string            // the country the record states, if any
}

// bare reports whether the record is only a label: a name with no aliases,
// ids or country of its own (an --actor label, an OpenIOC threatgroup).
func (a *ActorNames) bare() bool {
	return len(a.Aliases) == 0 && len(a.ExternalIDs) == 0 && a.Country == ""
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
//   - "name": both have the same primary name; or each lists the other's
//     name as an alias; or one is a bare label (a name with no aliases, ids
//     or country of its own) that is an alias of the other.
//
// Records with different ATT&CK ids, or stating different countries, are
// never joined. Sharing only secondary aliases is not a join; profiles
// list such records as candidates.
func ActorJoin(a, b *ActorNames) (rule, detail string, ok bool) {
	for id := range a.ExternalIDs {
		if _, same := b.ExternalIDs[id]; same {
			return "external-id", fmt.Sprintf("both carry ATT&CK id %s", id), true
		}
	}
	if len(a.ExternalIDs) > 0 && len(b.ExternalIDs) > 0 {
		return "", "", false // different ATT&CK groups
	}
	if a.Country != "" && b.Country != "" && a.Country != b.Country {
		return "", "", false // the sources place them in different countries
	}
	for _, pair := range [][2]*ActorNames{{a, b}, {b, a}} {
		x, y := pair[0], pair[1]
		for _, norm := range sortedKeys(x.Names) {
			disp := x.Names[norm]
			if yd, ok := y.Names[norm]; ok {
				return "name", fmt.Sprintf("same name %q / %q", disp, yd), true
			}
			// An alias names a full profile only when the other record
			// is a bare label: a profile of its own under a name that is
			// someone's old alias is a different group (the galaxy's
			// IRIDIUM is not ATT&CK's Sandworm Team).
			if yd, ok := y.Aliases[norm]; ok && x.bare() {
				return "name", fmt.Sprintf("label %q is an alias %q of the other", disp, yd), true
			}
		}
	}
	// Two profiles that each list the other's name as an alias agree.
	for _, na := range sortedKeys(a.Names) {
		if _, ok := b.Aliases[na]; !ok {
			continue
		}
		for _, nb := range sortedKeys(b.Names) {
			if _, ok := a.Aliases[nb]; ok {
				return "name", fmt.Sprintf("each names the other: %q and %q", a.Names[na], b.Names[nb]), true
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
