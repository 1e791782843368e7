package openioc

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// stixPattern renders network-evaluable logic as a STIX 2.1 pattern with
// the same meaning. Conditions on the same kind of object under one
// operator share an observation ([file:name = 'a' AND file:size = 5]: one
// file has both); conditions on different objects are separate observations
// joined at the observation level. n holds only network items (see prune).
func stixPattern(n *node) string { return observation(n, true) }

func observation(n *node, top bool) string {
	if n.it != nil {
		return "[" + comparison(n.it) + "]"
	}
	type part struct {
		cmps []string
		sub  string
	}
	var parts []part
	pos := map[string]int{}
	for _, c := range n.children {
		if c.it == nil {
			parts = append(parts, part{sub: observation(c, false)})
			continue
		}
		obj := c.it.term.object()
		if i, ok := pos[obj]; ok {
			parts[i].cmps = append(parts[i].cmps, comparison(c.it))
			continue
		}
		pos[obj] = len(parts)
		parts = append(parts, part{cmps: []string{comparison(c.it)}})
	}
	strs := make([]string, len(parts))
	for i, p := range parts {
		if p.sub != "" {
			strs[i] = p.sub
		} else {
			strs[i] = "[" + strings.Join(p.cmps, " "+n.op+" ") + "]"
		}
	}
	out := strings.Join(strs, " "+n.op+" ")
	if len(strs) > 1 && !top {
		out = "(" + out + ")"
	}
	return out
}

// lit quotes a STIX string literal.
func lit(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c >= 'a' && c <= 'z' || s[i] >= 0x80 {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && !(i == 0 && s[i] == '-') {
			return false
		}
	}
	return s != "-"
}

// value returns the content as it is compared: normalised for host names,
// addresses, hashes, e-mail addresses and URLs (so that "is" compares
// canonical forms), as written for free text.
func value(it *item) string {
	v := strings.TrimSpace(it.content)
	switch it.term.kind {
	case kindDomain:
		v = strings.ToLower(intel.Refang(v))
		if it.condition == "is" {
			if n, err := intel.NormalizeDomain(v); err == nil {
				v = n
			}
		}
	case kindIP:
		v = intel.Refang(v)
		if a, err := netip.ParseAddr(v); err == nil {
			v = a.Unmap().String()
		} else if p, err := netip.ParsePrefix(v); err == nil {
			v = p.Masked().String()
		}
	case kindHash, kindEmail:
		v = strings.ToLower(intel.Refang(v))
	case kindURL:
		if it.condition == "is" {
			if n, err := intel.NormalizeURL(v); err == nil {
				v = n
			}
		}
	}
	return v
}

// comparison renders one condition as a STIX comparison expression.
// OpenIOC compares text case-insensitively unless preserve-case is set;
// STIX's = and LIKE are case-sensitive, so such text is compared with a
// (?i) regular expression instead. LIKE is used only where its wildcards
// (% and _) cannot occur in the value.
func comparison(it *item) string {
	path := it.term.path
	v := value(it)
	fold := it.term.kind == kindText && !it.preserveCase && hasLetter(v)
	wild := strings.ContainsAny(v, "%_")
	not := ""
	if it.negate {
		not = "NOT "
	}
	q := regexp.QuoteMeta(v)
	re := func(expr string) string { return path + " " + not + "MATCHES " + lit(expr) }
	like := func(expr string) string { return path + " " + not + "LIKE " + lit(expr) }
	switch it.condition {
	case "is":
		switch {
		case it.term.kind == kindInt && isNumber(v):
			if it.negate {
				return path + " != " + v
			}
			return path + " = " + v
		case it.term.kind == kindIP && strings.Contains(v, "/"):
			return path + " " + not + "ISSUBSET " + lit(v)
		case fold:
			return re("(?i)^" + q + "$")
		case it.negate:
			return path + " != " + lit(v)
		default:
			return path + " = " + lit(v)
		}
	case "contains":
		switch {
		case fold:
			return re("(?i)" + q)
		case wild:
			return re(q)
		default:
			return like("%" + v + "%")
		}
	case "starts-with":
		switch {
		case fold:
			return re("(?i)^" + q)
		case wild:
			return re("^" + q)
		default:
			return like(v + "%")
		}
	case "ends-with":
		switch {
		case fold:
			return re("(?i)" + q + "$")
		case wild:
			return re(q + "$")
		default:
			return like("%" + v)
		}
	case "matches":
		if fold {
			return re("(?i)" + v)
		}
		return re(v)
	case "greater-than", "less-than":
		op := ">"
		if it.condition == "less-than" {
			op = "<"
		}
		if it.negate { // not greater = at most
			op = map[string]string{">": "<=", "<": ">="}[op]
		}
		if it.term.kind == kindInt && isNumber(v) {
			return path + " " + op + " " + v
		}
		return path + " " + op + " " + lit(v)
	}
	return path + " = " + lit(v) // conditions are checked when the tree is built
}

// observable returns the single value a simple "is" condition looks for.
func observable(it *item) (intel.Observable, bool) {
	if it.condition != "is" || it.negate || it.term.obs == "" {
		return intel.Observable{}, false
	}
	t := it.term.obs
	v := strings.TrimSpace(it.content)
	if it.term.kind == kindIP {
		switch intel.Detect(v) {
		case intel.IPv6:
			t = intel.IPv6
		case intel.CIDR:
			t = intel.CIDR
		}
	}
	n, err := intel.Normalize(t, v)
	if err != nil {
		return intel.Observable{}, false
	}
	return intel.Observable{Type: t, Value: n}, true
}
