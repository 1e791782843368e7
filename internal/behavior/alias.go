package behavior

import (
	"fmt"
	"net/netip"
	"sort"
)

// Dual-stack hosts. A Windows host on a network with IPv6 often sends its
// DNS queries from its IPv6 address and opens the connections from its IPv4
// address; its DGA look-ups and its C2 connections then seem to come from
// two hosts. The analyzer links the two from the traffic alone: a
// connection from Y to an address that a DNS answer gave to X moments
// before, when nobody gave it to Y, is Y using X's answer. Linked over
// several addresses, with nobody else in between, X and Y are one host.

// aliasLink counts the connections of one address that used another's
// answers, and the distinct addresses they went to.
type aliasLink struct {
	connections int64
	addrs       distinct
}

// hostAlias is the other address of a dual-stack host and the evidence.
type hostAlias struct {
	other       netip.Addr
	resolver    netip.Addr // the address that sent the DNS queries
	connections int64
	addrs       int64
}

// aliases returns, for each linked address, its partner. A pair counts
// when its links reach AliasMinAddrs distinct destinations and neither
// address qualifies with a third one (ambiguous links, as from a shared
// resolver, are ignored).
func (a *Analyzer) aliases(links map[[2]netip.Addr]*aliasLink) map[netip.Addr]hostAlias {
	type cand struct {
		k    [2]netip.Addr
		l    *aliasLink
		nadd int64
	}
	var cs []cand
	partners := map[netip.Addr]int{}
	for k, l := range links {
		n := l.addrs.estimate()
		if n < int64(max(a.cfg.AliasMinAddrs, 1)) {
			continue
		}
		cs = append(cs, cand{k, l, n})
		partners[k[0]]++
		partners[k[1]]++
	}
	sort.Slice(cs, func(i, j int) bool { return keyPairLess(cs[i].k, cs[j].k) })
	out := map[netip.Addr]hostAlias{}
	for _, c := range cs {
		x, y := c.k[0], c.k[1]
		if partners[x] != 1 || partners[y] != 1 {
			continue
		}
		out[x] = hostAlias{other: y, resolver: x, connections: c.l.connections, addrs: c.nadd}
		out[y] = hostAlias{other: x, resolver: x, connections: c.l.connections, addrs: c.nadd}
	}
	return out
}

func keyPairLess(a, b [2]netip.Addr) bool {
	if a[0] != b[0] {
		return a[0].Less(b[0])
	}
	return a[1].Less(b[1])
}

func (h hostAlias) fact(self netip.Addr) string {
	conn := h.other
	if h.resolver != self {
		conn = self
	}
	return fmt.Sprintf("%s and %s are one dual-stack host: %d connections from %s (to %d addresses) began within seconds of a DNS answer for the same address to %s, which %s had not resolved itself",
		self, h.other, h.connections, conn, h.addrs, h.resolver, conn)
}
