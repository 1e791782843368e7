// Package behavior finds command-and-control behaviour that no indicator
// names: beaconing, long connections, strobes, DNS tunnelling and
// domain-generation algorithms, over the same event stream as the scan. Its
// findings are Detections: a score from 0 to 1 with every part of it, the
// measurements behind it and the modifiers (known-benign lists, rarity)
// applied, so that an analyst can see why something was flagged.
//
// An Analyzer keeps each series' records (bounded, see the README for the
// limits) until Finish, so that its findings do not depend on the order the
// events came in. It is not safe for concurrent use: feed one from one
// goroutine, or shard events by source address (Shard) over several and
// Merge them.
package behavior

import (
	"cmp"
	"hash/maphash"
	"net/netip"
	"slices"
	"strings"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Analyzer accumulates events and computes detections. Finish returns the
// same detections for any order of the same events and any sharding: series
// keep their records until Finish, and every bound and sample is chosen by
// the data (see bound.go).
type Analyzer struct {
	cfg    Config
	benign Benign

	series  map[seriesKey]*series
	domains map[domainKey]*domainState
	hosts   map[netip.Addr]*hostState
	names   map[[2]netip.Addr]*addrNames // (source, address) → what the source was told about it

	seriesBound, domainBound, hostBound, nameBound hashBound

	files map[string]string // interned file names

	any         bool
	first, last int64 // ms, the observed period (conn, HTTP, TLS and DNS records)
	stats       Stats
}

// Stats counts what the analyzer saw and dropped.
type Stats struct {
	Events    int64 // events observed
	Used      int64 // events that fed at least one analytic
	Skipped   int64 // events outside the analysed directions or destinations
	NoSource  int64 // connection records in which the source sent no packet (backscatter): not contacts, skipped
	Evicted   int64 // series, DNS tunnel and DGA states dropped (or refused) to stay within MaxSeries
	Truncated int64 // records beyond MaxRecords of their series: counted, not analysed
	Series    int   // series tracked at Finish
	Domains   int   // (source, registered domain) pairs tracked for tunnelling
	Hosts     int   // sources tracked for DGA
	Findings  int   // findings returned by Finish
}

// New returns an analyzer. benign may be nil.
func New(cfg Config, benign Benign) *Analyzer {
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = DefaultConfig().MaxSeries
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = defaultMaxRecords
	}
	// While reading, up to 4×MaxSeries series are held, chosen by hash of
	// their key; Finish keeps the MaxSeries with the most records.
	return &Analyzer{
		cfg:         cfg,
		benign:      benign,
		series:      make(map[seriesKey]*series),
		domains:     make(map[domainKey]*domainState),
		hosts:       make(map[netip.Addr]*hostState),
		names:       make(map[[2]netip.Addr]*addrNames),
		seriesBound: newHashBound(4 * cfg.MaxSeries),
		domainBound: newHashBound(4 * cfg.MaxSeries),
		hostBound:   newHashBound(4 * cfg.MaxSeries),
		nameBound:   newHashBound(max(cfg.MaxNames, 0)),
		files:       make(map[string]string),
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
	switch ev.Kind {
	case telemetry.KindConn, telemetry.KindHTTP, telemetry.KindTLS, telemetry.KindDNS:
		// The observed period is what the sensor saw of the kinds of record
		// the analytics read, skipped ones included (a host that is silent
		// part of the time is not observed for less). Other logs are left
		// out: packet_filter.log, stats or notices are written when Zeek
		// starts or on their own schedule, and one packet_filter record
		// from the day the logs were re-processed stretched a 21-minute
		// capture to six years and zeroed every coverage score.
		a.seen(ev.Time.UnixMilli())
	default:
		a.stats.Skipped++
		return
	}
	switch ev.Kind {
	case telemetry.KindConn:
		a.observeFlow(ev, layerConn, "")
	case telemetry.KindHTTP:
		a.observeFlow(ev, layerApp, hostName(ev.Host))
	case telemetry.KindTLS:
		a.observeFlow(ev, layerApp, hostName(ev.SNI))
	case telemetry.KindDNS:
		a.observeDNS(ev)
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
	if !a.any || ms < a.first {
		a.first = ms
	}
	if !a.any || ms > a.last {
		a.last = ms
	}
	a.any = true
}

func (a *Analyzer) sampleOf(ev *telemetry.Event) sample {
	f, ok := a.files[ev.File]
	if !ok {
		f = cloneName(ev.File)
		a.files[f] = f
	}
	line := ev.Line
	if line <= 0 {
		line = -ev.Offset - 1 // negative: a byte offset
	}
	return sample{ms: ev.Time.UnixMilli(), file: f, line: line}
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
	var dur uint32
	if d := ev.Duration.Milliseconds(); d > 0 {
		dur = uint32(min(d, int64(sizeUnknown-1)))
	}
	proto := ev.Proto
	if l == layerApp {
		proto = "tcp"
	}
	size := uint32(sizeUnknown)
	if b := max(ev.SrcBytes, 0) + max(ev.DstBytes, 0); l == layerConn || b > 0 {
		size = uint32(min(b, int64(sizeUnknown-1)))
	}
	r := newRec(ms, dur, size, ev.SrcPort, proto == "tcp")
	smp := a.sampleOf(ev)

	if s := a.get(seriesKey{src: src, dst: dst, layer: l}, proto, ev.DstPort); s != nil {
		s.observe(r, ms, &a.cfg, smp)
		if name != "" {
			s.addName(name)
		}
	}
	// Connection records join a name's series at Finish, when every DNS
	// answer, SNI and Host that named the address is known (nameSeries).
	if name != "" {
		a.nameAddr(src, dst, name, ms, false)
		if ns := a.get(seriesKey{src: src, name: name, layer: l}, proto, ev.DstPort); ns != nil {
			ns.addDst(dst)
			ns.observe(r, ms, &a.cfg, smp)
		}
	}
}

// get returns the series for k, creating it, or nil when the bound refuses
// it.
func (a *Analyzer) get(k seriesKey, proto string, port uint16) *series {
	s, ok := a.series[k]
	if !ok {
		if !a.seriesBound.admits(hashSeriesKey(k)) {
			a.stats.Evicted++
			return nil
		}
		k.name = cloneName(k.name)
		s = newSeries(internProto(proto), port)
		a.series[k] = s
		if a.seriesBound.over(len(a.series)) {
			a.stats.Evicted += int64(trimByHash(a.series, hashSeriesKey, &a.seriesBound))
			if _, ok := a.series[k]; !ok {
				return nil
			}
		}
	}
	s.see(proto, port)
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
	case "dns":
		return "dns"
	case "":
		return ""
	}
	return cloneName(p)
}

// trimSeries keeps MaxSeries series at Finish: those with the fewest
// records go first (ties: the one last seen earliest, then the key), so
// long-lived beacons survive and one-off contacts go.
func (a *Analyzer) trimSeries() {
	a.stats.Evicted += int64(trimByHash(a.series, hashSeriesKey, &a.seriesBound))
	if len(a.series) <= a.cfg.MaxSeries {
		return
	}
	type cand struct {
		k     seriesKey
		count int64
		last  int64
	}
	cs := make([]cand, 0, len(a.series))
	for k, s := range a.series {
		cs = append(cs, cand{k, s.count, s.last})
	}
	slices.SortFunc(cs, func(x, y cand) int {
		if c := cmp.Or(cmp.Compare(x.count, y.count), cmp.Compare(x.last, y.last)); c != 0 {
			return c
		}
		if keyLess(x.k, y.k) {
			return -1
		}
		return 1
	})
	n := len(cs) - a.cfg.MaxSeries
	for _, c := range cs[:n] {
		delete(a.series, c.k)
	}
	a.stats.Evicted += int64(n)
}

// Merge adds everything b observed to a; b must not be used afterwards.
// Exact for any split of the events (Shard's split by source address keeps
// it cheap: no series is in two analyzers).
func (a *Analyzer) Merge(b *Analyzer) {
	if b.any {
		a.seen(b.first)
		a.seen(b.last)
	}
	for f := range b.files {
		if _, ok := a.files[f]; !ok {
			a.files[f] = f
		}
	}
	a.seriesBound.tighten(b.seriesBound)
	for k, s := range b.series {
		if !a.seriesBound.admits(hashSeriesKey(k)) {
			continue
		}
		if t, ok := a.series[k]; ok {
			t.mergeFrom(s, &a.cfg)
			continue
		}
		a.series[k] = s
	}
	if a.seriesBound.over(len(a.series)) {
		a.stats.Evicted += int64(trimByHash(a.series, hashSeriesKey, &a.seriesBound))
	}
	a.domainBound.tighten(b.domainBound)
	for k, d := range b.domains {
		if !a.domainBound.admits(hashDomainKey(k)) {
			continue
		}
		if t, ok := a.domains[k]; ok {
			t.merge(d)
			continue
		}
		a.domains[k] = d
	}
	a.hostBound.tighten(b.hostBound)
	for k, h := range b.hosts {
		if !a.hostBound.admits(hashAddr(k)) {
			continue
		}
		if t, ok := a.hosts[k]; ok {
			t.merge(h)
			continue
		}
		a.hosts[k] = h
	}
	a.nameBound.tighten(b.nameBound)
	for k, n := range b.names {
		if !a.nameBound.admits(hashPair(k)) {
			continue
		}
		if t, ok := a.names[k]; ok {
			t.merge(n, a.cfg.maxRecords())
			continue
		}
		a.names[k] = n
	}
	a.stats.NoSource += b.stats.NoSource
	a.stats.Events += b.stats.Events
	a.stats.Used += b.stats.Used
	a.stats.Skipped += b.stats.Skipped
	a.stats.Evicted += b.stats.Evicted
}
