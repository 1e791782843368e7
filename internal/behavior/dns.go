package behavior

import (
	"hash/maphash"
	"math"
	"net/netip"
	"sort"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// domainKey identifies the DNS tunnelling state of one source and one
// registered domain.
type domainKey struct {
	src    netip.Addr
	domain string
}

// domainState accumulates what tunnelling looks like: many distinct, long,
// random-looking subdomains and TXT / NULL queries. Per-name measurements
// are taken over the distinct subdomains that enter the distinct-count
// sample, a uniform sample once the count passes the exact limit.
type domainState struct {
	queries   int64
	txtNull   int64
	first     int64
	last      int64
	distinct  distinct
	sampled   int64   // distinct subdomains measured
	lenSum    float64 // their lengths
	entropy   float64 // sum of their per-name Shannon entropy (bits per character)
	maxLen    int
	examples  [3]string
	nexamples uint8
	smp       sample
}

// hostState accumulates the failed (NXDOMAIN) registered domains of one
// source for DGA detection.
type hostState struct {
	queried    distinct // registered domains queried
	failed     distinct // registered domains with an NXDOMAIN answer
	improbable int64    // failed domains (sampled) less probable than 90 % of popular names
	measured   int64    // failed domains measured
	nllSum     float64
	first      int64
	last       int64
	examples   [5]string
	nexamples  uint8
	smp        sample
}

var nameSeed = maphash.MakeSeed()

func (a *Analyzer) observeDNS(ev *telemetry.Event) {
	src, dst := ev.SrcIP.Unmap(), ev.DstIP.Unmap()
	if !src.IsValid() || (dst.IsValid() && skipDst(dst)) {
		a.stats.Skipped++
		return
	}
	if dst.IsValid() && !a.cfg.isInternal(src) && a.cfg.isInternal(dst) && !a.cfg.AnalyseInbound {
		a.stats.Skipped++
		return
	}
	q := ev.Query
	if hasUpper(q) {
		q = strings.ToLower(q)
	}
	q = strings.TrimSuffix(q, ".")
	reg, ok := registered(q)
	if !ok {
		a.stats.Skipped++
		return
	}
	a.stats.Used++
	ms := ev.Time.UnixMilli()
	smp := a.sampleOf(ev)

	// the answers tell which name later connections to an address belong to
	for _, ans := range ev.Answers {
		if ip, err := netip.ParseAddr(ans); err == nil {
			a.names.put(src, ip.Unmap(), q)
			a.answers.put(ip.Unmap(), src, ms)
		}
	}

	// the query series: when the source asks for this name
	r := rec{start: ms, size: sizeUnknown, port: ev.SrcPort}
	s := a.get(seriesKey{src: src, name: q, layer: layerDNS}, "dns", 53)
	s.observe(r, &a.cfg, smp)

	// tunnelling, per registered domain
	dk := domainKey{src: src, domain: reg}
	d := a.domains[dk]
	if d == nil {
		if len(a.domains) >= a.cfg.MaxSeries {
			a.evictDomains()
		}
		dk.domain = cloneName(reg)
		d = &domainState{first: ms, smp: smp}
		a.domains[dk] = d
	}
	d.queries++
	d.first, d.last = min(d.first, ms), max(d.last, ms)
	switch ev.QType {
	case "TXT", "NULL", "16", "10":
		d.txtNull++
	}
	if sub := strings.TrimSuffix(q, reg); sub != "" {
		sub = strings.TrimSuffix(sub, ".")
		if d.distinct.add(maphash.String(nameSeed, sub)) {
			d.sampled++
			d.lenSum += float64(len(sub))
			d.entropy += shannon(sub)
			d.maxLen = max(d.maxLen, len(sub))
			if d.nexamples < uint8(len(d.examples)) {
				d.examples[d.nexamples] = cloneName(q)
				d.nexamples++
			}
		}
	}

	// DGA, per source
	h := a.hosts[src]
	if h == nil {
		if len(a.hosts) >= a.cfg.MaxSeries {
			a.evictHosts()
		}
		h = &hostState{first: ms, smp: smp}
		a.hosts[src] = h
	}
	h.first, h.last = min(h.first, ms), max(h.last, ms)
	hash := maphash.String(nameSeed, reg)
	h.queried.add(hash)
	if ev.RCode == "NXDOMAIN" || ev.RCode == "3" {
		if h.failed.add(hash) {
			nll := domainNLL(reg)
			h.measured++
			h.nllSum += nll
			if nll > improbableNLL {
				h.improbable++
			}
			if h.nexamples < uint8(len(h.examples)) {
				h.examples[h.nexamples] = cloneName(reg)
				h.nexamples++
			}
		}
	}
}

// registered returns the registered domain (eTLD+1) of q, or false for names
// that have none: single labels, reverse lookups, local and special names.
func registered(q string) (string, bool) {
	if q == "" || strings.IndexByte(q, '.') < 0 || len(q) > 253 {
		return "", false
	}
	for _, suf := range []string{".arpa", ".local", ".lan", ".home", ".internal", ".localdomain", ".invalid", ".test", ".localhost"} {
		if strings.HasSuffix(q, suf) {
			return "", false
		}
	}
	reg, err := publicsuffix.EffectiveTLDPlusOne(q)
	if err != nil {
		return "", false
	}
	return reg, true
}

func (a *Analyzer) evictDomains() {
	type cand struct {
		k domainKey
		n int64
	}
	cs := make([]cand, 0, len(a.domains))
	for k, d := range a.domains {
		cs = append(cs, cand{k, d.queries})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].n < cs[j].n })
	for _, c := range cs[:max(len(cs)/4, 1)] {
		delete(a.domains, c.k)
	}
	a.stats.Evicted += int64(max(len(cs)/4, 1))
}

func (a *Analyzer) evictHosts() {
	type cand struct {
		k netip.Addr
		n int64
	}
	cs := make([]cand, 0, len(a.hosts))
	for k, h := range a.hosts {
		cs = append(cs, cand{k, h.failed.estimate()})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].n < cs[j].n })
	for _, c := range cs[:max(len(cs)/4, 1)] {
		delete(a.hosts, c.k)
	}
	a.stats.Evicted += int64(max(len(cs)/4, 1))
}

func (d *domainState) merge(o *domainState) {
	d.queries += o.queries
	d.txtNull += o.txtNull
	d.first, d.last = min(d.first, o.first), max(d.last, o.last)
	d.distinct.merge(&o.distinct)
	d.sampled += o.sampled
	d.lenSum += o.lenSum
	d.entropy += o.entropy
	d.maxLen = max(d.maxLen, o.maxLen)
}

// clone returns a copy that shares no memory with h.
func (h *hostState) clone() *hostState {
	c := *h
	c.queried.hashes = append([]uint64(nil), h.queried.hashes...)
	c.failed.hashes = append([]uint64(nil), h.failed.hashes...)
	return &c
}

func (h *hostState) merge(o *hostState) {
	h.queried.merge(&o.queried)
	h.failed.merge(&o.failed)
	h.improbable += o.improbable
	h.measured += o.measured
	h.nllSum += o.nllSum
	h.first, h.last = min(h.first, o.first), max(h.last, o.last)
	for _, e := range o.examples[:o.nexamples] {
		if h.nexamples < uint8(len(h.examples)) {
			h.examples[h.nexamples] = e
			h.nexamples++
		}
	}
}

// shannon is the entropy of the characters of s in bits per character.
func shannon(s string) float64 {
	if len(s) == 0 {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// distinct counts distinct 64-bit hashes: exactly up to distinctK, then as
// a K-minimum-values sketch (keeping the distinctK smallest hashes), whose
// estimate (K-1)/max has a relative error of about 1/√K (≈ 6 %).
type distinct struct {
	hashes []uint64 // sorted
	full   bool     // KMV mode: hashes holds the K smallest values seen
}

const distinctK = 256

// add records h and reports whether it entered the sample as a new value.
func (d *distinct) add(h uint64) bool {
	i := sort.Search(len(d.hashes), func(i int) bool { return d.hashes[i] >= h })
	if i < len(d.hashes) && d.hashes[i] == h {
		return false
	}
	if len(d.hashes) >= distinctK {
		d.full = true
		if i >= len(d.hashes) {
			return false // larger than the K smallest: not sampled
		}
		d.hashes = d.hashes[:len(d.hashes)-1]
	}
	d.hashes = append(d.hashes, 0)
	copy(d.hashes[i+1:], d.hashes[i:])
	d.hashes[i] = h
	return true
}

func (d *distinct) estimate() int64 {
	if !d.full {
		return int64(len(d.hashes))
	}
	kth := d.hashes[len(d.hashes)-1]
	return int64(float64(len(d.hashes)-1) / (float64(kth) / math.MaxUint64))
}

func (d *distinct) merge(o *distinct) {
	for _, h := range o.hashes {
		d.add(h)
	}
	d.full = d.full || o.full
}

// RegisteredDomain returns the registered domain (public suffix plus one
// label) of a DNS name, or false for names that have none (single labels,
// reverse lookups, .local and other special-use names).
func RegisteredDomain(name string) (string, bool) {
	return registered(strings.TrimSuffix(strings.ToLower(name), "."))
}
