// Package actorjoin decides, from values alone, whether two actor records
// (intrusion sets from different sources) are the same actor, which
// records a cluster of joins is made of, and which record names the
// cluster. It knows no database: stores load the names and country of
// candidate records, ask Join, and write the links it decides.
package actorjoin

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// NormName folds a name for alias comparison: lower case, letters and
// digits only ("Comment Crew" and "comment-crew" are the same name).
func NormName(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r+32))
		case r >= 0x80:
			b = append(b, string(r)...)
		}
	}
	return string(b)
}

// Names collects the names of one actor record for join decisions.
type Names struct {
	ID          string
	Names       map[string]string // norm -> display (primary names)
	Aliases     map[string]string // norm -> display
	ExternalIDs map[string]string // ATT&CK group ids, upper case
	Country     string            // the country the record states, if any
}

// bare reports whether the record is only a label: a name with no aliases,
// ids or country of its own (an --actor label, an OpenIOC threatgroup).
func (a *Names) bare() bool {
	return len(a.Aliases) == 0 && len(a.ExternalIDs) == 0 && a.Country == ""
}

var attackGroupID = regexp.MustCompile(`^G\d{4}$`)

// Name kinds, as stores index them.
const (
	KindName       = "name"
	KindAlias      = "alias"
	KindExternalID = "external-id"
)

// Add records one name of the given kind (KindName, KindAlias,
// KindExternalID). An alias shaped like an ATT&CK group id (G0006) counts
// as an external id.
func (a *Names) Add(kind, display string) {
	if a.Names == nil {
		a.Names, a.Aliases, a.ExternalIDs = map[string]string{}, map[string]string{}, map[string]string{}
	}
	norm := NormName(display)
	if norm == "" {
		return
	}
	up := strings.ToUpper(strings.TrimSpace(display))
	switch {
	case kind == KindExternalID || attackGroupID.MatchString(up):
		a.ExternalIDs[up] = display
	case kind == KindName:
		a.Names[norm] = display
	default:
		a.Aliases[norm] = display
	}
}

// Join rules.
const (
	RuleExternalID = "external-id"
	RuleName       = "name"
	RuleManual     = "manual"
)

// Join decides whether two actor records are the same actor, and by which
// rule. The rules are deliberately narrow, because joins made on any
// shared alias glue unrelated groups together:
//
//   - RuleExternalID: both carry the same ATT&CK group id.
//   - RuleName: both have the same primary name; or each lists the other's
//     name as an alias; or one is a bare label (a name with no aliases, ids
//     or country of its own) that is an alias of the other.
//
// Records with different ATT&CK ids, or stating different countries, are
// never joined. Sharing only secondary aliases is not a join: Candidate
// reports such pairs.
func Join(a, b *Names) (rule, detail string, ok bool) {
	for _, id := range sortedKeys(a.ExternalIDs) {
		if _, same := b.ExternalIDs[id]; same {
			return RuleExternalID, fmt.Sprintf("both carry ATT&CK id %s", id), true
		}
	}
	if len(a.ExternalIDs) > 0 && len(b.ExternalIDs) > 0 {
		return "", "", false // different ATT&CK groups
	}
	if a.Country != "" && b.Country != "" && !strings.EqualFold(a.Country, b.Country) {
		return "", "", false // the sources place them in different countries
	}
	for _, pair := range [][2]*Names{{a, b}, {b, a}} {
		x, y := pair[0], pair[1]
		for _, norm := range sortedKeys(x.Names) {
			disp := x.Names[norm]
			if yd, ok := y.Names[norm]; ok {
				return RuleName, fmt.Sprintf("same name %q / %q", disp, yd), true
			}
			// An alias names a full profile only when the other record
			// is a bare label: a profile of its own under a name that is
			// someone's old alias is a different group (the galaxy's
			// IRIDIUM is not ATT&CK's Sandworm Team).
			if yd, ok := y.Aliases[norm]; ok && x.bare() {
				return RuleName, fmt.Sprintf("label %q is an alias %q of the other", disp, yd), true
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
				return RuleName, fmt.Sprintf("each names the other: %q and %q", a.Names[na], b.Names[nb]), true
			}
		}
	}
	return "", "", false
}

// Candidate reports a name the two records share although Join does not
// join them: possibly the same actor, for an analyst to decide. The name
// is the first shared one in sort order of its folded form.
func Candidate(a, b *Names) (name string, ok bool) {
	if _, _, joined := Join(a, b); joined {
		return "", false
	}
	all := func(n *Names) map[string]string {
		m := map[string]string{}
		for k, v := range n.Aliases {
			m[k] = v
		}
		for k, v := range n.Names {
			m[k] = v
		}
		return m
	}
	other := all(b)
	for _, norm := range sortedKeys(all(a)) {
		if _, shared := other[norm]; shared {
			return all(a)[norm], true
		}
	}
	return "", false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Link is one join between two actor records, as a store keeps it.
type Link struct {
	ID      int64
	A, B    string // object ids
	Rule    string // RuleExternalID, RuleName, RuleManual
	Detail  string // what matched, e.g. `alias "APT1" of A is the name of B`
	Created time.Time
	Undone  bool
}

// Cluster returns every actor id joined (transitively, through links not
// undone) with any of seeds, seeds included, sorted.
func Cluster(seeds []string, links []Link) []string {
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
