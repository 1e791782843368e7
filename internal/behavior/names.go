package behavior

import (
	"cmp"
	"net/netip"
	"slices"
	"sort"
)

// Connection records carry no name: a name series of connections is made
// at Finish from the address series, once every DNS answer, TLS SNI and
// HTTP Host that named an address for a source is known. Deciding on
// arrival would depend on whether the DNS log or the connection log was
// read first.

// addrNames is what one source was told about one address: every time a
// DNS answer, SNI or Host named it (the earliest MaxRecords kept, like a
// series' records), and the times of the DNS answers alone.
type addrNames struct {
	events  []timedName // sorted by time, then name, by compact
	answers []int64     // DNS answer times, sorted by compact
	uniq    []string    // a few distinct names, to share their memory
}

type timedName struct {
	ms   int64
	name string
}

func cmpTimed(x, y timedName) int {
	return cmp.Or(cmp.Compare(x.ms, y.ms), cmp.Compare(x.name, y.name))
}

func (p *addrNames) add(name string, ms int64, answer bool, limit int) {
	n, ok := "", false
	for _, u := range p.uniq {
		if u == name {
			n, ok = u, true
			break
		}
	}
	if !ok {
		n = cloneName(name)
		if len(p.uniq) < 8 {
			p.uniq = append(p.uniq, n)
		}
	}
	p.events = append(p.events, timedName{ms: ms, name: n})
	if answer {
		p.answers = append(p.answers, ms)
	}
	if len(p.events) >= 2*limit || len(p.answers) >= 2*limit {
		p.compact(limit)
	}
}

// compact sorts and deduplicates, and keeps the earliest limit of each:
// the same whatever the order of arrival.
func (p *addrNames) compact(limit int) {
	slices.SortFunc(p.events, cmpTimed)
	p.events = slices.Compact(p.events)
	if len(p.events) > limit {
		p.events = slices.Clip(p.events[:limit])
	}
	slices.Sort(p.answers)
	p.answers = slices.Compact(p.answers)
	if len(p.answers) > limit {
		p.answers = slices.Clip(p.answers[:limit])
	}
}

// at is the name a record at ms belongs to: the one given last at or before
// it, or the first one for a record before every naming (the answer may
// predate the capture). compact must have run.
func (p *addrNames) at(ms int64) string {
	if len(p.events) == 0 {
		return ""
	}
	i := sort.Search(len(p.events), func(i int) bool { return p.events[i].ms > ms })
	if i == 0 {
		return p.events[0].name
	}
	return p.events[i-1].name
}

func (p *addrNames) merge(o *addrNames, limit int) {
	p.events = append(p.events, o.events...)
	p.answers = append(p.answers, o.answers...)
	if len(p.events) >= 2*limit || len(p.answers) >= 2*limit {
		p.compact(limit)
	}
}

// nameAddr records that src was given name for address ip at ms (answer:
// by a DNS answer).
func (a *Analyzer) nameAddr(src, ip netip.Addr, name string, ms int64, answer bool) {
	if a.cfg.MaxNames <= 0 {
		return
	}
	k := [2]netip.Addr{src, ip}
	p := a.names[k]
	if p == nil {
		if !a.nameBound.admits(hashPair(k)) {
			return
		}
		p = &addrNames{}
		a.names[k] = p
		if a.nameBound.over(len(a.names)) {
			trimByHash(a.names, hashPair, &a.nameBound)
			if p = a.names[k]; p == nil {
				return
			}
		}
	}
	p.add(name, ms, answer, a.cfg.maxRecords())
}

// resolver is one source's DNS answers for an address.
type resolver struct {
	src   netip.Addr
	times []int64 // sorted
}

// resolvers indexes the DNS answers by address, each address's resolvers
// sorted by source.
func (a *Analyzer) resolvers() map[netip.Addr][]resolver {
	idx := map[netip.Addr][]resolver{}
	for k, p := range a.names {
		p.compact(a.cfg.maxRecords())
		if len(p.answers) == 0 {
			continue
		}
		idx[k[1]] = append(idx[k[1]], resolver{src: k[0], times: p.answers})
	}
	for _, rs := range idx {
		slices.SortFunc(rs, func(x, y resolver) int { return x.src.Compare(y.src) })
	}
	return idx
}

// latestAnswer is the last answer for an address at or before ms, from any
// source (ties: the smallest source).
func latestAnswer(rs []resolver, ms int64) (netip.Addr, int64, bool) {
	var best netip.Addr
	var at int64
	found := false
	for _, r := range rs {
		i := sort.Search(len(r.times), func(i int) bool { return r.times[i] > ms })
		if i > 0 && (!found || r.times[i-1] > at) {
			best, at, found = r.src, r.times[i-1], true
		}
	}
	return best, at, found
}

// nameSeries gives every address series the names its source was told for
// the address, makes the connection-layer name series from their records,
// and returns the dual-stack links: records from an address that nobody
// named to it, moments after a DNS answer to another address of the other
// family (linkAnswer).
func (a *Analyzer) nameSeries() map[[2]netip.Addr]*aliasLink {
	idx := a.resolvers()
	links := map[[2]netip.Addr]*aliasLink{}
	var keys []seriesKey
	for k := range a.series {
		if k.name == "" && k.layer != layerDNS {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		s := a.series[k]
		own := a.names[[2]netip.Addr{k.src, k.dst}]
		named := own != nil && len(own.events) > 0
		var rs []resolver
		if own == nil || len(own.answers) == 0 {
			rs = idx[k.dst] // no DNS answer gave the address to this source
		}
		if !named && len(rs) == 0 || k.layer != layerConn && len(rs) == 0 {
			continue
		}
		for _, r := range s.recs {
			name := ""
			if named {
				name = own.at(r.start())
			}
			if x, ok := a.linkAnswer(rs, k.src, r.start()); ok {
				link(links, x, k.src, k.dst)
				if xn := a.names[[2]netip.Addr{x, k.dst}]; xn != nil && name == "" {
					name = xn.at(r.start())
				}
			}
			if k.layer == layerConn {
				a.toNameSeries(k, s, name, r)
			}
		}
	}
	return links
}

// link counts a connection from y to dst that used x's DNS answer.
func link(links map[[2]netip.Addr]*aliasLink, x, y, dst netip.Addr) {
	lk := [2]netip.Addr{x, y}
	l := links[lk]
	if l == nil {
		l = &aliasLink{}
		links[lk] = l
	}
	l.connections++
	l.addrs.add(hashAddr(dst))
}

// linkAnswer reports the address of the other family whose DNS answer for
// the destination a record from src at ms used: the latest answer before
// it, at most AliasWindow earlier, both addresses internal.
func (a *Analyzer) linkAnswer(rs []resolver, src netip.Addr, ms int64) (netip.Addr, bool) {
	w := a.cfg.AliasWindow.Milliseconds()
	if w <= 0 || len(rs) == 0 {
		return netip.Addr{}, false
	}
	x, at, ok := latestAnswer(rs, ms)
	if !ok || x == src || x.Is4() == src.Is4() || ms-at > w || !a.cfg.isInternal(src) || !a.cfg.isInternal(x) {
		return netip.Addr{}, false
	}
	return x, true
}

// toNameSeries adds record r of the address series k to the series of name.
func (a *Analyzer) toNameSeries(k seriesKey, s *series, name string, r rec) {
	if name == "" {
		return
	}
	s.addName(name)
	nk := seriesKey{src: k.src, name: name, layer: k.layer}
	ns := a.series[nk]
	if ns == nil {
		ns = newSeries(s.proto, s.minPort)
		a.series[nk] = ns
	}
	ns.see(s.proto, s.minPort)
	ns.see(s.proto, s.maxPort)
	ns.addDst(k.dst)
	ms := r.start()
	if ns.count == 0 || ms < ns.first {
		ns.first = ms
	}
	if ns.count == 0 || ms > ns.last {
		ns.last = ms
	}
	ns.count++
	ns.recs = append(ns.recs, r)
	ns.smp.merge(&s.smp)
}
