package behavior

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
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
// are taken over the distinct-count sample (the subdomains of smallest
// hash), a uniform sample once the count passes the exact limit, and
// computed at Finish so that they do not depend on arrival order.
type domainState struct {
	queries int64
	txtNull int64
	first   int64
	last    int64
	subs    kmv[subdomain]
	maxLen  int
	smp     samples
}

// subdomain is what a distinct subdomain contributes to the measurements.
type subdomain struct {
	query   string // the full name, for the examples
	length  int
	entropy float64 // bits per character
}

// hostState accumulates the failed (NXDOMAIN) registered domains of one
// source for DGA detection.
type hostState struct {
	queried distinct     // registered domains queried
	failed  kmv[failure] // registered domains with an NXDOMAIN answer
	first   int64
	last    int64
	smp     samples
}

// failure is one failed registered domain and its improbability.
type failure struct {
	domain string
	nll    float64
}

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

	// the answers tell which name connections to an address belong to
	for _, ans := range ev.Answers {
		if ip, err := netip.ParseAddr(ans); err == nil {
			a.nameAddr(src, ip.Unmap(), q, ms, true)
		}
	}

	// the query series: when the source asks for this name
	r := newRec(ms, 0, sizeUnknown, ev.SrcPort, false)
	if s := a.get(seriesKey{src: src, name: q, layer: layerDNS}, "dns", 53); s != nil {
		s.observe(r, ms, &a.cfg, smp)
	}
	if d := a.domain(domainKey{src: src, domain: reg}, ms); d != nil {
		d.observe(ev.QType, q, reg, ms, smp)
	}
	if h := a.host(src, ms); h != nil {
		h.observe(ev.RCode, reg, ms, smp)
	}
}

// domain returns the tunnelling state of k, creating it, or nil when the
// bound refuses it.
func (a *Analyzer) domain(k domainKey, ms int64) *domainState {
	if d := a.domains[k]; d != nil {
		return d
	}
	if !a.domainBound.admits(hashDomainKey(k)) {
		a.stats.Evicted++
		return nil
	}
	k.domain = cloneName(k.domain)
	d := &domainState{first: ms, last: ms}
	a.domains[k] = d
	if a.domainBound.over(len(a.domains)) {
		a.stats.Evicted += int64(trimByHash(a.domains, hashDomainKey, &a.domainBound))
		return a.domains[k]
	}
	return d
}

// host returns the DGA state of src, creating it, or nil when the bound
// refuses it.
func (a *Analyzer) host(src netip.Addr, ms int64) *hostState {
	if h := a.hosts[src]; h != nil {
		return h
	}
	if !a.hostBound.admits(hashAddr(src)) {
		a.stats.Evicted++
		return nil
	}
	h := &hostState{first: ms, last: ms}
	a.hosts[src] = h
	if a.hostBound.over(len(a.hosts)) {
		a.stats.Evicted += int64(trimByHash(a.hosts, hashAddr, &a.hostBound))
		return a.hosts[src]
	}
	return h
}

func (d *domainState) observe(qtype, q, reg string, ms int64, smp sample) {
	d.queries++
	d.first, d.last = min(d.first, ms), max(d.last, ms)
	d.smp.add(smp)
	switch qtype {
	case "TXT", "NULL", "16", "10":
		d.txtNull++
	}
	sub := strings.TrimSuffix(strings.TrimSuffix(q, reg), ".")
	if sub == "" {
		return
	}
	d.maxLen = max(d.maxLen, len(sub))
	d.subs.add(hashString(sub), func() subdomain {
		return subdomain{query: cloneName(q), length: len(sub), entropy: shannon(sub)}
	})
}

func (h *hostState) observe(rcode, reg string, ms int64, smp sample) {
	h.first, h.last = min(h.first, ms), max(h.last, ms)
	h.smp.add(smp)
	hash := hashString(reg)
	h.queried.add(hash)
	if rcode == "NXDOMAIN" || rcode == "3" {
		h.failed.add(hash, func() failure { return failure{domain: cloneName(reg), nll: domainNLL(reg)} })
	}
}

// measure sums the measurements of the sampled subdomains, in hash order.
func (d *domainState) measure() (sampled int64, lenSum, entropy float64) {
	for _, it := range d.subs.items {
		sampled++
		lenSum += float64(it.v.length)
		entropy += it.v.entropy
	}
	return sampled, lenSum, entropy
}

// measure counts the sampled failed domains less probable than 90 % of
// popular names, in hash order.
func (h *hostState) measure() (measured, improbable int64, nllSum float64) {
	for _, it := range h.failed.items {
		measured++
		nllSum += it.v.nll
		if it.v.nll > improbableNLL {
			improbable++
		}
	}
	return measured, improbable, nllSum
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

// trimStates keeps MaxSeries DNS tunnel and DGA states at Finish: those
// with the fewest queries (failed domains) go first, ties by key.
func (a *Analyzer) trimStates() {
	a.stats.Evicted += int64(trimByHash(a.domains, hashDomainKey, &a.domainBound))
	a.stats.Evicted += int64(trimByHash(a.hosts, hashAddr, &a.hostBound))
	if n := len(a.domains) - a.cfg.MaxSeries; n > 0 {
		ks := make([]domainKey, 0, len(a.domains))
		for k := range a.domains {
			ks = append(ks, k)
		}
		slices.SortFunc(ks, func(x, y domainKey) int {
			return cmp.Or(cmp.Compare(a.domains[x].queries, a.domains[y].queries), x.src.Compare(y.src), cmp.Compare(x.domain, y.domain))
		})
		for _, k := range ks[:n] {
			delete(a.domains, k)
		}
		a.stats.Evicted += int64(n)
	}
	if n := len(a.hosts) - a.cfg.MaxSeries; n > 0 {
		ks := make([]netip.Addr, 0, len(a.hosts))
		for k := range a.hosts {
			ks = append(ks, k)
		}
		slices.SortFunc(ks, func(x, y netip.Addr) int {
			return cmp.Or(cmp.Compare(a.hosts[x].failed.estimate(), a.hosts[y].failed.estimate()), x.Compare(y))
		})
		for _, k := range ks[:n] {
			delete(a.hosts, k)
		}
		a.stats.Evicted += int64(n)
	}
}

func (d *domainState) merge(o *domainState) {
	d.queries += o.queries
	d.txtNull += o.txtNull
	d.first, d.last = min(d.first, o.first), max(d.last, o.last)
	d.subs.merge(&o.subs)
	d.maxLen = max(d.maxLen, o.maxLen)
	d.smp.merge(&o.smp)
}

// clone returns a copy that shares no memory with h.
func (h *hostState) clone() *hostState {
	c := *h
	c.queried.hashes = slices.Clone(h.queried.hashes)
	c.failed.items = slices.Clone(h.failed.items)
	return &c
}

func (h *hostState) merge(o *hostState) {
	h.queried.merge(&o.queried)
	h.failed.merge(&o.failed)
	h.first, h.last = min(h.first, o.first), max(h.last, o.last)
	h.smp.merge(&o.smp)
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

// kmv is distinct with a value kept for each sampled hash: the same
// sample, the K smallest hashes, whatever the order they came in.
type kmv[T any] struct {
	items []kmvItem[T] // sorted by hash
	full  bool
}

type kmvItem[T any] struct {
	h uint64
	v T
}

// add records h, making its value with mk only when it enters the sample.
func (d *kmv[T]) add(h uint64, mk func() T) bool {
	i, found := slices.BinarySearchFunc(d.items, h, func(it kmvItem[T], h uint64) int { return cmp.Compare(it.h, h) })
	if found {
		return false
	}
	if len(d.items) >= distinctK {
		d.full = true
		if i >= len(d.items) {
			return false
		}
		d.items = d.items[:len(d.items)-1]
	}
	d.items = slices.Insert(d.items, i, kmvItem[T]{h: h, v: mk()})
	return true
}

func (d *kmv[T]) estimate() int64 {
	if !d.full {
		return int64(len(d.items))
	}
	kth := d.items[len(d.items)-1].h
	return int64(float64(len(d.items)-1) / (float64(kth) / math.MaxUint64))
}

func (d *kmv[T]) merge(o *kmv[T]) {
	for _, it := range o.items {
		d.add(it.h, func() T { return it.v })
	}
	d.full = d.full || o.full
}

// RegisteredDomain returns the registered domain (public suffix plus one
// label) of a DNS name, or false for names that have none (single labels,
// reverse lookups, .local and other special-use names).
func RegisteredDomain(name string) (string, bool) {
	return registered(strings.TrimSuffix(strings.ToLower(name), "."))
}
