package match

import (
	"net/netip"
	"sort"

	"github.com/gaissmai/bart"
)

// buildCIDR fills the prefix table, the /20 bitmap and every prefix's
// group of refs (its own chain and its supernets') from the head ref of
// each prefix's chain. Build and LoadCache share it, so a loaded snapshot
// has the very tables a compiled one has.
func (s *Snapshot) buildCIDR(prefixes map[netip.Prefix]int32) {
	if len(prefixes) == 0 {
		return
	}
	s.cidr = new(bart.Table[int32])
	s.cidr4 = make([]uint64, 1<<(32-cidr4Shift)/64)
	ps := make([]netip.Prefix, 0, len(prefixes))
	for p := range prefixes {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		return ps[i].Bits() < ps[j].Bits() || ps[i].Bits() == ps[j].Bits() && ps[i].Addr().Less(ps[j].Addr())
	})
	for i, p := range ps {
		s.cidr.Insert(p, int32(i))
		if p.Addr().Is4() {
			setCIDR4(s.cidr4, p)
		} else {
			s.cidr6 = true
		}
	}
	s.cidrGroups = make([][]int32, len(ps))
	for i, p := range ps {
		var g []int32
		for sp := range s.cidr.Supernets(p) {
			for r := prefixes[sp]; r >= 0; r = s.refs[r].next {
				g = append(g, r)
			}
		}
		s.cidrGroups[i] = g
	}
}
