// Package behavior finds command-and-control behaviour that no indicator
// names: beaconing, long connections, strobes, DNS tunnelling and
// domain-generation algorithms, over the same event stream as the scan. Its
// findings are Detections: a score from 0 to 1 with every part of it, the
// measurements behind it and the modifiers (known-benign lists, rarity)
// applied, so that an analyst can see why something was flagged.
//
// An Analyzer keeps bounded state per series (see the README for the limits)
// and is not safe for concurrent use: feed one from one goroutine, or shard
// events by source address (Shard) over several and Merge them.
package behavior

import (
	"hash/maphash"
	"net/netip"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Analyzer accumulates events and computes detections.
type Analyzer struct {
	cfg    Config
	benign Benign

	series  map[seriesKey]*series
	domains map[domainKey]*domainState
	hosts   map[netip.Addr]*hostState
	names   nameCache
	answers answerCache                  // address → latest DNS answer, for dual-stack links
	links   map[[2]netip.Addr]*aliasLink // (resolving address, connecting address)

	files   []string
	fileIdx map[string]uint32

	first, last int64 // ms, the observed period
	stats       Stats
}

// Stats counts what the analyzer saw and dropped.
type Stats struct {
	Events   int64 // events observed
	Used     int64 // events that fed at least one analytic
	Skipped  int64 // events outside the analysed directions or destinations
	NoSource int64 // connection records in which the source sent no packet (backscatter): not contacts, skipped
	Evicted  int64 // series dropped to stay within MaxSeries
	Late     int64 // records too far out of time order to enter interval statistics
	Series   int   // series tracked at Finish
	Domains  int   // (source, registered domain) pairs tracked for tunnelling
	Hosts    int   // sources tracked for DGA
	Findings int   // findings returned by Finish
}

// New returns an analyzer. benign may be nil.
func New(cfg Config, benign Benign) *Analyzer {
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = DefaultConfig().MaxSeries
	}
	if cfg.MaxPending < 2 {
		cfg.MaxPending = 2
	}
	return &Analyzer{
		cfg:     cfg,
		benign:  benign,
		series:  make(map[seriesKey]*series),
		domains: make(map[domainKey]*domainState),
		hosts:   make(map[netip.Addr]*hostState),
		names:   newNameCache(cfg.MaxNames),
		answers: newAnswerCache(cfg.MaxNames),
		links:   make(map[[2]netip.Addr]*aliasLink),
		fileIdx: make(map[string]uint32),
	}
}

// Config returns the configuration in use.
func (a *Analyzer) Config() Config { return a.cfg }

// Stats returns the counters so far.
func (a *Analyzer) Stats() Stats {
	s := a.stats
	s.Series, s.Domains, s.Hosts = len(a.series), len(a.domains), len(a.hosts)
	return s
}

var shardSeed = maphash.MakeSeed()

// Shard returns which of n analyzers should observe ev: events are split by
// source address, so that no series, domain or host is split and Merge is
// exact.
func Shard(ev *telemetry.Event, n int) int {
	if n <= 1 {
		return 0
	}
	b := ev.SrcIP.Unmap().As16()
	return int(maphash.Bytes(shardSeed, b[:]) % uint64(n))
}

// Observe feeds one event. It copies what it keeps.
func (a *Analyzer) Observe(ev *telemetry.Event) {
	a.stats.Events++
	if ev.Time.IsZero() {
		a.stats.Skipped++
		return
	}
	// the observed period is what the sensor saw, skipped records included:
	// a host that is silent part of the time is not observed for less
	a.seen(ev.Time.UnixMilli())
	switch ev.Kind {
	case telemetry.KindConn:
		a.observeFlow(ev, layerConn, "")
	case telemetry.KindHTTP:
		a.observeFlow(ev, layerApp, hostName(ev.Host))
	case telemetry.KindTLS:
		a.observeFlow(ev, layerApp, hostName(ev.SNI))
	case telemetry.KindDNS:
		a.observeDNS(ev)
	default:
		a.stats.Skipped++
	}
}

// hostName normalises an HTTP Host or TLS SNI: lower case, no port, no
// trailing dot; "" for address literals (the address series covers them).
func hostName(h string) string {
	if h == "" || h == "-" {
		return ""
	}
	if strings.HasPrefix(h, "[") { // [v6]:port
		return ""
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return ""
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	if hasUpper(h) {
		h = strings.ToLower(h)
	}
	return h
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

func (a *Analyzer) seen(ms int64) {
	if a.first == 0 && a.last == 0 || ms < a.first {
		a.first = ms
	}
	if ms > a.last {
		a.last = ms
	}
}

func (a *Analyzer) sampleOf(ev *telemetry.Event) sample {
	i, ok := a.fileIdx[ev.File]
	if !ok {
		i = uint32(len(a.files))
		f := cloneName(ev.File)
		a.files = append(a.files, f)
		a.fileIdx[f] = i
	}
	line := ev.Line
	if line <= 0 {
		line = -ev.Offset - 1 // negative: a byte offset
	}
	return sample{file: i, line: line}
}

// skipDst reports destinations that are never C2: multicast, broadcast,
// unspecified.
func skipDst(d netip.Addr) bool {
	return d.IsMulticast() || d.IsUnspecified() || d == netip.AddrFrom4([4]byte{255, 255, 255, 255}) ||
		d.IsLinkLocalMulticast() || d.IsInterfaceLocalMulticast()
}

// direction reports whether a flow from src to dst is analysed.
func (a *Analyzer) direction(src, dst netip.Addr) bool {
	si, di := a.cfg.isInternal(src), a.cfg.isInternal(dst)
	switch {
	case !si && di:
		return a.cfg.AnalyseInbound
	case si && di:
		return a.cfg.AnalyseInternal
	}
	return true
}

func (a *Analyzer) observeFlow(ev *telemetry.Event, l layer, name string) {
	src, dst := ev.SrcIP.Unmap(), ev.DstIP.Unmap()
	if !src.IsValid() || !dst.IsValid() || skipDst(dst) || !a.direction(src, dst) {
		a.stats.Skipped++
		return
	}
	// A record in which the source sent nothing is not a contact it made:
	// SYN-ACKs or resets from a server answering spoofed SYNs (backscatter)
	// come out of Zeek as "connections" from the local address. Packet
	// counts are 0 / 0 when a reader does not know them: those are kept.
	if l == layerConn && ev.SrcPackets == 0 && ev.DstPackets > 0 {
		a.stats.NoSource++
		return
	}
	a.stats.Used++
	ms := ev.Time.UnixMilli()
	r := rec{start: ms, size: sizeUnknown, port: ev.SrcPort}
	if d := ev.Duration.Milliseconds(); d > 0 {
		r.dur = uint32(min(d, int64(sizeUnknown-1)))
	}
	proto := ev.Proto
	if l == layerApp {
		proto = "tcp"
	}
	r.tcp = proto == "tcp"
	if b := max(ev.SrcBytes, 0) + max(ev.DstBytes, 0); l == layerConn || b > 0 {
		r.size = uint32(min(b, int64(sizeUnknown-1)))
	}
	smp := a.sampleOf(ev)

	s := a.get(seriesKey{src: src, dst: dst, layer: l}, proto, ev.DstPort)
	s.observe(r, &a.cfg, smp)
	own := a.names.get(src, dst)
	if own == "" {
		// nobody gave this source the address: did its other address
		// (dual-stack host) just resolve it?
		if alias, aname := a.linkAnswer(src, dst, ms); alias.IsValid() && l == layerConn && name == "" {
			name = aname
		}
	}
	if l == layerConn {
		if name == "" {
			name = own
		}
	} else if name != "" {
		a.names.put(src, dst, name)
	}
	if name != "" {
		s.addName(name)
		ns := a.get(seriesKey{src: src, name: name, layer: l}, proto, ev.DstPort)
		ns.addDst(dst)
		ns.observe(r, &a.cfg, smp)
	}
}

// get returns the series for k, creating it (and evicting if full).
func (a *Analyzer) get(k seriesKey, proto string, port uint16) *series {
	s, ok := a.series[k]
	if ok {
		if port != s.port {
			s.multiPort = true
		}
		return s
	}
	if len(a.series) >= a.cfg.MaxSeries {
		a.evict()
	}
	k.name = cloneName(k.name)
	s = &series{port: port, proto: internProto(proto)}
	a.series[k] = s
	return s
}

func internProto(p string) string {
	switch p {
	case "tcp":
		return "tcp"
	case "udp":
		return "udp"
	case "icmp":
		return "icmp"
	case "":
		return ""
	}
	return cloneName(p)
}

// evict frees a quarter of the series table, dropping the series with the
// fewest records first (ties: the one seen least recently). Long-lived
// beacons have many records and survive; one-off contacts go first.
func (a *Analyzer) evict() {
	type cand struct {
		k     seriesKey
		count int64
		last  int64
	}
	cs := make([]cand, 0, len(a.series))
	for k, s := range a.series {
		cs = append(cs, cand{k, s.count, s.last})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].count != cs[j].count {
			return cs[i].count < cs[j].count
		}
		return cs[i].last < cs[j].last
	})
	n := max(len(cs)/4, 1)
	for _, c := range cs[:n] {
		delete(a.series, c.k)
	}
	a.stats.Evicted += int64(n)
}

// Merge adds everything b observed to a; b must not be used afterwards.
// Exact when a and b saw disjoint sources (see Shard).
func (a *Analyzer) Merge(b *Analyzer) {
	if b.first != 0 || b.last != 0 {
		a.seen(b.first)
		a.seen(b.last)
	}
	remap := make([]uint32, len(b.files))
	for i, f := range b.files {
		j, ok := a.fileIdx[f]
		if !ok {
			j = uint32(len(a.files))
			a.files = append(a.files, f)
			a.fileIdx[f] = j
		}
		remap[i] = j
	}
	for k, s := range b.series {
		for i := range s.samples[:s.nsample] {
			s.samples[i].file = remap[s.samples[i].file]
		}
		if t, ok := a.series[k]; ok {
			t.mergeFrom(s, &a.cfg)
			continue
		}
		if len(a.series) >= a.cfg.MaxSeries {
			a.evict()
		}
		a.series[k] = s
	}
	for k, d := range b.domains {
		if t, ok := a.domains[k]; ok {
			t.merge(d)
			continue
		}
		a.domains[k] = d
	}
	for k, h := range b.hosts {
		if t, ok := a.hosts[k]; ok {
			t.merge(h)
			continue
		}
		a.hosts[k] = h
	}
	a.names.merge(&b.names)
	a.answers.merge(&b.answers)
	for k, l := range b.links {
		if t, ok := a.links[k]; ok {
			t.connections += l.connections
			t.addrs.merge(&l.addrs)
			continue
		}
		if len(a.links) < maxLinks {
			a.links[k] = l
		}
	}
	a.stats.NoSource += b.stats.NoSource
	a.stats.Events += b.stats.Events
	a.stats.Used += b.stats.Used
	a.stats.Skipped += b.stats.Skipped
	a.stats.Evicted += b.stats.Evicted
}

// nameCache remembers which name a source resolved (or sent as SNI / Host)
// for an address, so that connection records can join the name's series.
// It holds at most max entries in two generations: when the current one is
// full it becomes the old one and the previous old one is dropped.
type nameCache struct {
	max      int
	cur, old map[[2]netip.Addr]string
}

func newNameCache(max int) nameCache {
	return nameCache{max: max, cur: map[[2]netip.Addr]string{}}
}

func (c *nameCache) put(src, ip netip.Addr, name string) {
	if c.max <= 0 {
		return
	}
	k := [2]netip.Addr{src, ip}
	if v, ok := c.cur[k]; ok && v == name {
		return
	}
	if len(c.cur) >= (c.max+1)/2 {
		c.old, c.cur = c.cur, make(map[[2]netip.Addr]string, len(c.cur))
	}
	c.cur[k] = cloneName(name)
}

func (c *nameCache) get(src, ip netip.Addr) string {
	k := [2]netip.Addr{src, ip}
	if v, ok := c.cur[k]; ok {
		return v
	}
	return c.old[k]
}

func (c *nameCache) merge(o *nameCache) {
	for k, v := range o.old {
		c.put(k[0], k[1], v)
	}
	for k, v := range o.cur {
		c.put(k[0], k[1], v)
	}
}
