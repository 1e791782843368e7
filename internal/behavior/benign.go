package behavior

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Benign says whether an address or a name belongs to known-benign
// infrastructure, and on which list. Lookups pass either a valid ip and an
// empty name, or an invalid ip and a name. A warninglist set and the user's
// Allowlist both satisfy it.
type Benign interface {
	Benign(ip netip.Addr, name string) (listName string, ok bool)
}

// MultiBenign is implemented by sets that can name every list holding a
// value. When a Benign implements it, all lists are reported and the
// strongest rule applies (so a name on both "dynamic-dns" and a top-sites
// list is not hidden by the order of the lists).
type MultiBenign interface {
	BenignLists(ip netip.Addr, name string) []string
}

// PairBenign is implemented by sets with entries for one source only
// (allowlist lines "src -> dst"). dst or name may be empty as for Benign.
type PairBenign interface {
	BenignPair(src, dst netip.Addr, name string) (listName string, ok bool)
}

// Chain combines several sets (for example the warninglists and the user's
// allowlist) into one that reports every match of every set.
func Chain(sets ...Benign) Benign {
	var c chain
	for _, s := range sets {
		if s != nil {
			c = append(c, s)
		}
	}
	return c
}

type chain []Benign

func (c chain) Benign(ip netip.Addr, name string) (string, bool) {
	for _, s := range c {
		if l, ok := s.Benign(ip, name); ok {
			return l, true
		}
	}
	return "", false
}

func (c chain) BenignLists(ip netip.Addr, name string) []string {
	var out []string
	for _, s := range c {
		out = append(out, lookupAll(s, ip, name)...)
	}
	return out
}

func (c chain) BenignPair(src, dst netip.Addr, name string) (string, bool) {
	for _, s := range c {
		if p, ok := s.(PairBenign); ok {
			if l, ok := p.BenignPair(src, dst, name); ok {
				return l, true
			}
		}
	}
	return "", false
}

func lookupAll(b Benign, ip netip.Addr, name string) []string {
	if m, ok := b.(MultiBenign); ok {
		return m.BenignLists(ip, name)
	}
	if l, ok := b.Benign(ip, name); ok {
		return []string{l}
	}
	return nil
}

// benignModifiers looks the destination of a finding up and returns the
// modifier of the strongest matching rule, and facts naming every list hit.
// Lookups use exactly the fields stored in a Detection (address, name,
// autonomous system), so Reapply on stored findings reaches the same
// verdict as Finish did.
func benignModifiers(cfg *Config, b Benign, d *Detection) (Modifier, []string, bool) {
	src, dst, name := d.Src, d.Dst, d.DstName
	if cfg.VendorServices != nil {
		b = Chain(b, cfg.VendorServices)
	}
	type hit struct {
		list, what string
		network    bool
	}
	var hits []hit
	if dst.IsValid() && d.DstASN != 0 {
		if n, ok := vendorNetwork(cfg.Networks, d.DstASN); ok {
			org := d.DstASOrg
			if org == "" {
				org = n.Org
			}
			hits = append(hits, hit{NetworkListName + ": " + n.Group, fmt.Sprintf("%s (AS%d %s)", dst, d.DstASN, org), true})
		}
	}
	if b != nil {
		if p, ok := b.(PairBenign); ok && src.IsValid() {
			if dst.IsValid() {
				if l, ok := p.BenignPair(src, dst, ""); ok {
					hits = append(hits, hit{l, dst.String(), false})
				}
			}
			if name != "" {
				if l, ok := p.BenignPair(src, netip.Addr{}, name); ok {
					hits = append(hits, hit{l, name, false})
				}
			}
		}
		if dst.IsValid() {
			for _, l := range lookupAll(b, dst, "") {
				hits = append(hits, hit{l, dst.String(), false})
			}
		}
		if name != "" {
			for _, l := range lookupAll(b, netip.Addr{}, name) {
				hits = append(hits, hit{l, name, false})
			}
			// lists of popular sites and services hold registered domains
			if reg, ok := registered(name); ok && reg != name {
				for _, l := range lookupAll(b, netip.Addr{}, reg) {
					hits = append(hits, hit{l, reg, false})
				}
			}
		}
	}
	if len(hits) == 0 {
		return Modifier{}, nil, false
	}
	best := -1
	var bestRule BenignRule
	var facts []string
	seen := map[string]bool{}
	for i, h := range hits {
		r := cfg.rule(h.list)
		key := h.list + "\x00" + h.what
		if !seen[key] {
			seen[key] = true
			facts = append(facts, fmt.Sprintf("%s is on %s (factor %.2g: %s)", h.what, h.list, r.Factor, r.Why))
		}
		if best < 0 || r.Factor < bestRule.Factor {
			best, bestRule = i, r
		}
	}
	sort.Strings(facts)
	h := hits[best]
	if bestRule.Factor == 1 {
		return Modifier{}, facts, false
	}
	kind := "warninglist"
	switch {
	case h.network:
		kind = "network"
	case strings.HasPrefix(h.list, "allowlist"):
		kind = "allowlist"
	}
	return Modifier{
		Name:   kind,
		Factor: bestRule.Factor,
		Reason: fmt.Sprintf("%s on %s: %s", h.what, h.list, bestRule.Why),
	}, facts, true
}
