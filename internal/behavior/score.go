package behavior

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Finish computes the scores, applies the modifiers and returns every
// finding whose raw score reaches ReportFloor, suppressed ones included
// (marked), sorted by score (highest first), then by ID. The analyzer must
// not be fed afterwards.
func (a *Analyzer) Finish() []Detection {
	a.stats.Evicted += int64(trimByHash(a.series, hashSeriesKey, &a.seriesBound))
	trimByHash(a.names, hashPair, &a.nameBound)
	limit := a.cfg.maxRecords()
	for _, s := range a.series {
		s.truncate(limit)
	}
	links := a.nameSeries()
	a.trimSeries()
	a.trimStates()
	for _, s := range a.series {
		s.fold(&a.cfg)
		a.stats.Truncated += s.count - s.analysed
	}
	keep := a.keptSeries()
	pop := a.population(keep)

	var out []Detection
	for _, k := range keep {
		s := a.series[k]
		for _, d := range a.seriesDetections(k, s) {
			if d.RawScore >= a.cfg.ReportFloor {
				out = append(out, d)
			}
		}
	}
	for k, d := range a.domains {
		if det, ok := a.tunnelDetection(k, d); ok && det.RawScore >= a.cfg.ReportFloor {
			out = append(out, det)
		}
	}
	alias := a.aliases(links)
	for src, h := range a.hosts {
		var joined netip.Addr
		if al, ok := alias[src]; ok {
			// one finding for the host, under the address with more
			// failed names, judged on both addresses' look-ups
			if o := a.hosts[al.other]; o != nil {
				if o.failed.estimate() > h.failed.estimate() || o.failed.estimate() == h.failed.estimate() && al.other.Less(src) {
					continue // reported under the other address
				}
				h = h.clone()
				h.merge(o)
				joined = al.other
			}
		}
		if det, ok := a.dgaDetection(src, h); ok && det.RawScore >= a.cfg.ReportFloor {
			if joined.IsValid() {
				det.Facts = append(det.Facts, fmt.Sprintf("look-ups of %s and %s counted together", src, joined))
			}
			out = append(out, det)
		}
	}
	for i := range out {
		d := &out[i]
		if al, ok := alias[d.Src]; ok {
			d.SrcAliases = []netip.Addr{al.other}
			d.Facts = append(d.Facts, al.fact(d.Src))
		}
		locate(&a.cfg, d)
		pop.apply(&a.cfg, d)
		applyBenign(&a.cfg, a.benign, d)
		finalScore(d)
	}
	sortDetections(out)
	a.stats.Findings = len(out)
	return out
}

// keptSeries drops duplicates: an app-layer series when the conn layer has
// the same one, and a name series that only ever reached one address (the
// address series says the same and carries the name).
func (a *Analyzer) keptSeries() []seriesKey {
	drop := map[seriesKey]bool{}
	// first the names of name series into their one address's series, so
	// that an app-layer address series carries them on to the conn layer
	for k, s := range a.series {
		if k.name != "" && k.layer != layerDNS && !s.multiDst && s.dsts[0].IsValid() {
			if ip, ok := a.series[seriesKey{src: k.src, dst: s.dsts[0], layer: k.layer}]; ok {
				ip.addName(k.name)
				drop[k] = true
			}
		}
	}
	for k, s := range a.series {
		if k.layer == layerApp && !drop[k] {
			ck := k
			ck.layer = layerConn
			if c, ok := a.series[ck]; ok && c.count > 0 {
				for _, n := range s.names.names {
					c.addName(n)
				}
				drop[k] = true
			}
		}
	}
	var keep []seriesKey
	for k := range a.series {
		if !drop[k] {
			keep = append(keep, k)
		}
	}
	sort.Slice(keep, func(i, j int) bool { return keyLess(keep[i], keep[j]) })
	return keep
}

func keyLess(a, b seriesKey) bool {
	if a.src != b.src {
		return a.src.Less(b.src)
	}
	if a.dst != b.dst {
		return a.dst.Less(b.dst)
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return a.layer < b.layer
}

// Detection IDs are derived from what identifies the series, never from
// what was measured, so a re-analysis gives the same IDs.
func detectionID(analytic string, src, dst netip.Addr, name string, port uint16) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%d", analytic, addrString(src), addrString(dst), name, port)
	return "bhv-" + hex.EncodeToString(h.Sum(nil)[:12])
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (a *Analyzer) base(analytic string, k seriesKey, s *series) Detection {
	d := Detection{
		Analytic:  analytic,
		Src:       k.src,
		Dst:       k.dst,
		DstName:   k.name,
		Proto:     s.proto,
		FirstSeen: time.UnixMilli(s.first).UTC(),
		LastSeen:  time.UnixMilli(s.last).UTC(),
		Count:     s.count,
		Parts:     map[string]float64{},
	}
	if !s.multiPort() {
		d.DstPort = s.port()
	}
	if d.DstName == "" {
		d.DstName = s.topName()
	}
	idName := k.name // the name is part of the identity only for name series
	d.ID = detectionID(analytic, k.src, k.dst, idName, d.DstPort)
	d.Samples = a.positions(&s.smp)
	if k.layer == layerDNS {
		d.Facts = append(d.Facts, "series of DNS queries for this name")
	}
	return d
}

func (a *Analyzer) positions(ss *samples) []string {
	var out []string
	for _, s := range ss.s[:ss.n] {
		if s.line < 0 {
			out = append(out, fmt.Sprintf("%s@%d", s.file, -s.line-1))
		} else {
			out = append(out, fmt.Sprintf("%s:%d", s.file, s.line))
		}
	}
	return out
}

func (a *Analyzer) period() int64 { return a.last - a.first }

func (a *Analyzer) seriesDetections(k seriesKey, s *series) []Detection {
	var out []Detection
	if d, ok := a.beacon(k, s); ok {
		out = append(out, d)
	}
	if k.layer != layerDNS {
		if d, ok := a.longConn(k, s); ok {
			out = append(out, d)
		}
	}
	if d, ok := a.strobe(k, s); ok {
		out = append(out, d)
	}
	return out
}

// beacon scores the regularity of a series. See the README for the formula.
// The score is computed first; the explanation only for reported findings.
func (a *Analyzer) beacon(k seriesKey, s *series) (Detection, bool) {
	cfg := &a.cfg
	if s.checkins < int64(max(cfg.MinCheckins, 3)) {
		return Detection{}, false
	}
	w := cfg.Weights
	parts := make(map[string]float64, 16)
	var num, den float64
	part := func(name string, weight, v float64) {
		parts[name] = v
		num += weight * v
		den += weight
	}

	iv := summarize(s.ivl.points())
	// Intervals cannot be shorter than BurstGap (closer records are one
	// check-in), so dispersion is measured against the room above it: else
	// merging would make a dense random flood look regular.
	rmad := iv.RelMAD()
	if room := iv.Q2 - float64(cfg.BurstGap.Milliseconds()); room > 0 && room < iv.Q2 {
		rmad = iv.MAD / room
	}
	part("interval_mad", w.IntervalMAD, 1-ramp(rmad, 0.1, 0.6))
	part("interval_skew", w.IntervalSkew, skewPart(iv))

	sized := s.sized*2 >= s.checkins
	var sz summary
	if sized {
		sz = summarize(s.size.points())
		part("size_mad", w.SizeMAD, 1-ramp(sz.RelMAD(), 0.05, 0.5))
		part("size_skew", w.SizeSkew, skewPart(sz))
	}
	active, even, assessed := hoursEvenness(s)
	span := s.last - s.first
	hoursScored := s.alast-s.afirst >= 6*3_600_000 && assessed >= 3
	if hoursScored {
		part("hours", w.Hours, float64(even)/float64(assessed))
	}
	p := a.period()
	cov := 0.0
	if p > 0 {
		cov = float64(span) / float64(p)
		part("coverage", w.Coverage, ramp(cov, 0, 0.5))
	}
	if den == 0 {
		return Detection{}, false
	}
	raw := clamp(num/den, 0, 1)
	if raw < cfg.ReportFloor {
		return Detection{}, false
	}

	d := a.base(Beacon, k, s)
	d.RawScore = raw
	for n, v := range parts {
		d.Parts[n] = v
	}
	d.Parts["interval_median_s"] = iv.Q2 / 1000
	d.Parts["interval_mad_s"] = iv.MAD / 1000
	d.Parts["interval_bowley"] = iv.Bowley()
	d.Parts["checkins"] = float64(s.checkins)
	d.Parts["hours_active"] = float64(active)
	d.Facts = append(d.Facts,
		fmt.Sprintf("%d check-ins from %d records (%d records joined as bursts or pieces of one connection)", s.checkins, s.count, s.joined),
		fmt.Sprintf("interval median %s, MAD %s (relative dispersion %.0f%%), quartiles %s / %s, Bowley skew %+.2f",
			fmtMS(iv.Q2), fmtMS(iv.MAD), 100*finite(rmad), fmtMS(iv.Q1), fmtMS(iv.Q3), iv.Bowley()))
	if sized {
		d.Parts["size_median_bytes"] = sz.Q2
		d.Parts["size_mad_bytes"] = sz.MAD
		d.Parts["size_bowley"] = sz.Bowley()
		d.Facts = append(d.Facts, fmt.Sprintf("bytes per check-in median %.0f, MAD %.0f (%.0f%% of the median), Bowley skew %+.2f",
			sz.Q2, sz.MAD, 100*finite(sz.RelMAD()), sz.Bowley()))
	} else {
		d.Facts = append(d.Facts, fmt.Sprintf("sizes known for %d of %d check-ins: size parts left out", s.sized, s.checkins))
	}
	if hoursScored {
		d.Facts = append(d.Facts, fmt.Sprintf("active in %d of 24 hours of the day (UTC); steady rate in %d of the %d active hours with at least 30 min observed",
			active, even, assessed))
	} else {
		d.Facts = append(d.Facts, fmt.Sprintf("active in %d of 24 hours of the day (UTC); hours part left out: the series spans %s (< 6h)", active, fmtMS(float64(span))))
	}
	if p > 0 {
		d.Parts["coverage_ratio"] = cov
		d.Facts = append(d.Facts, fmt.Sprintf("spans %s of the observed %s (%.0f%%)", fmtMS(float64(span)), fmtMS(float64(p)), 100*cov))
	}
	if s.analysed < s.count {
		d.Facts = append(d.Facts, fmt.Sprintf("only the earliest %d of %d records analysed (MaxRecords)", s.analysed, s.count))
	}
	d.Facts = append(d.Facts, scoreFact(d.RawScore, d.Parts, w))
	return d, true
}

// skewPart is 1-|Bowley skew|, damped when the quartiles are so close that
// skewness means nothing (a near-perfect beacon whose values fall into two
// adjacent sketch buckets would otherwise look maximally skewed).
func skewPart(s summary) float64 {
	if s.Q2 <= 0 {
		if s.Q3-s.Q1 <= 0 {
			return 1
		}
		return 1 - math.Abs(s.Bowley())
	}
	spread := ramp((s.Q3-s.Q1)/s.Q2, 0.05, 0.25)
	return 1 - math.Abs(s.Bowley())*spread
}

// hoursEvenness folds check-ins onto the 24 hours of the day and compares
// each active hour's rate (check-ins per hour actually observed) with the
// median rate. Hours with no check-in are left out, so a beacon that sleeps
// at night or outside office hours is as regular as one that never sleeps.
func hoursEvenness(s *series) (active, even, assessed int) {
	var exposure [24]float64 // seconds of the analysed span in each hour of day
	first, last := s.afirst, s.alast
	span := last - first
	if span <= 0 {
		for _, c := range s.hours {
			if c > 0 {
				active++
			}
		}
		return active, 0, 0
	}
	days := span / 86_400_000
	for h := range exposure {
		exposure[h] = float64(days) * 3600
	}
	t := first + days*86_400_000
	for t < last {
		next := min((t/3_600_000+1)*3_600_000, last)
		exposure[hourOfDay(t)] += float64(next-t) / 1000
		t = next
	}
	var rates []float64
	for h, c := range s.hours {
		if c == 0 {
			continue
		}
		active++
		if exposure[h] >= 1800 {
			rates = append(rates, float64(c)/exposure[h])
		}
	}
	if len(rates) == 0 {
		return active, 0, 0
	}
	med := summarizeValues(append([]float64(nil), rates...)).Q2
	for h, c := range s.hours {
		if c == 0 || exposure[h] < 1800 {
			continue
		}
		assessed++
		e := med * exposure[h]
		if math.Abs(float64(c)-e) <= 0.3*e+1 {
			even++
		}
	}
	return active, even, assessed
}

func scoreFact(score float64, parts map[string]float64, w BeaconWeights) string {
	var terms []string
	for _, p := range []struct {
		name string
		w    float64
	}{{"interval_mad", w.IntervalMAD}, {"interval_skew", w.IntervalSkew}, {"size_mad", w.SizeMAD}, {"size_skew", w.SizeSkew}, {"hours", w.Hours}, {"coverage", w.Coverage}} {
		if v, ok := parts[p.name]; ok {
			terms = append(terms, fmt.Sprintf("%s %.2f×%.2f", p.name, p.w, v))
		}
	}
	return fmt.Sprintf("beacon score %.2f = weighted mean of %s", score, strings.Join(terms, ", "))
}

func (a *Analyzer) longConn(k seriesKey, s *series) (Detection, bool) {
	cfg := &a.cfg
	if s.connected <= 0 {
		return Detection{}, false
	}
	conn := float64(s.connected)
	abs := logRamp(conn, float64(cfg.LongConnMin.Milliseconds()), float64(cfg.LongConnMax.Milliseconds()))
	share := 0.0
	shareScore := 0.0
	if p := a.period(); p > 0 {
		share = conn / float64(p)
		if s.connected >= cfg.LongConnShareMin.Milliseconds() {
			shareScore = ramp(share, cfg.LongConnShareLo, cfg.LongConnShareHi)
		}
	}
	if abs == 0 && shareScore == 0 {
		return Detection{}, false
	}
	d := a.base(LongConn, k, s)
	d.Parts["duration"] = abs
	d.Parts["share"] = shareScore
	d.Parts["connected_s"] = conn / 1000
	d.Parts["longest_s"] = float64(s.longest) / 1000
	d.Parts["share_ratio"] = share
	d.RawScore = max(abs, shareScore)
	d.Facts = append(d.Facts,
		fmt.Sprintf("connected %s in total (union of the %d connections of at least %s, of %d check-ins from %d records); longest %s",
			fmtMS(conn), s.pieces, cfg.LongConnPiece, s.checkins, s.count, fmtMS(float64(s.longest))),
		fmt.Sprintf("%.0f%% of the observed %s", 100*share, fmtMS(float64(a.period()))),
		fmt.Sprintf("long-connection score %.2f = max(duration %.2f [%s→0, %s→1, log scale], share %.2f [%.0f%%→0, %.0f%%→1])",
			d.RawScore, abs, cfg.LongConnMin, cfg.LongConnMax, shareScore, 100*cfg.LongConnShareLo, 100*cfg.LongConnShareHi))
	return d, true
}

func (a *Analyzer) strobe(k seriesKey, s *series) (Detection, bool) {
	cfg := &a.cfg
	peak := float64(s.strobeMax)
	if peak < cfg.StrobeLo || cfg.StrobeWindow <= 0 {
		return Detection{}, false
	}
	d := a.base(Strobe, k, s)
	d.RawScore = logRamp(peak, cfg.StrobeLo, cfg.StrobeHi)
	if peak >= cfg.StrobeHi {
		d.RawScore = 1
	}
	d.Parts["rate"] = d.RawScore
	d.Parts["peak_per_window"] = peak
	d.Parts["window_s"] = cfg.StrobeWindow.Seconds()
	d.Facts = append(d.Facts,
		fmt.Sprintf("%.0f records in one %s window at the peak (%.1f per second); %d in total", peak, cfg.StrobeWindow, peak/cfg.StrobeWindow.Seconds(), s.count),
		fmt.Sprintf("strobe score %.2f [%.0f→0, %.0f→1 per window, log scale]", d.RawScore, cfg.StrobeLo, cfg.StrobeHi))
	return d, true
}

func (a *Analyzer) tunnelDetection(k domainKey, st *domainState) (Detection, bool) {
	cfg := &a.cfg
	uniq := st.subs.estimate()
	sampled, lenSum, entropy := st.measure()
	if uniq < int64(cfg.TunnelMinUnique) || sampled == 0 {
		return Detection{}, false
	}
	meanLen := lenSum / float64(sampled)
	meanEnt := entropy / float64(sampled)
	txt := float64(st.txtNull) / float64(st.queries)
	d := Detection{
		Analytic:  DNSTunnel,
		ID:        detectionID(DNSTunnel, k.src, netip.Addr{}, k.domain, 0),
		Src:       k.src,
		DstName:   k.domain,
		Proto:     "dns",
		FirstSeen: time.UnixMilli(st.first).UTC(),
		LastSeen:  time.UnixMilli(st.last).UTC(),
		Count:     st.queries,
		Parts: map[string]float64{
			"unique":           logRamp(float64(uniq), cfg.TunnelUniqueLo, cfg.TunnelUniqueHi),
			"length":           ramp(meanLen, 12, 40),
			"entropy":          ramp(meanEnt, 2.5, 4.0),
			"txt_null":         ramp(txt, 0.05, 0.5),
			"unique_count":     float64(uniq),
			"mean_length":      meanLen,
			"mean_entropy":     meanEnt,
			"txt_null_share":   txt,
			"max_label_length": float64(st.maxLen),
		},
		Samples: a.positions(&st.smp),
	}
	p := d.Parts
	d.RawScore = clamp(0.40*p["unique"]+0.25*p["length"]+0.20*p["entropy"]+0.15*p["txt_null"], 0, 1)
	d.Facts = []string{
		fmt.Sprintf("%d queries under %s, about %d distinct subdomains", st.queries, k.domain, uniq),
		fmt.Sprintf("distinct subdomains: mean length %.1f (longest %d), mean entropy %.2f bits per character", meanLen, st.maxLen, meanEnt),
		fmt.Sprintf("%.0f%% TXT or NULL queries", 100*txt),
		fmt.Sprintf("tunnel score %.2f = 0.40×unique %.2f + 0.25×length %.2f + 0.20×entropy %.2f + 0.15×txt_null %.2f",
			d.RawScore, p["unique"], p["length"], p["entropy"], p["txt_null"]),
	}
	var ex []string
	for _, it := range st.subs.items[:min(len(st.subs.items), 3)] {
		ex = append(ex, it.v.query)
	}
	if len(ex) > 0 {
		d.Facts = append(d.Facts, "examples: "+strings.Join(ex, ", "))
	}
	return d, true
}

func (a *Analyzer) dgaDetection(src netip.Addr, h *hostState) (Detection, bool) {
	cfg := &a.cfg
	failed := h.failed.estimate()
	measured, improbable, nllSum := h.measure()
	if failed < int64(cfg.DGAMinFailed) || measured == 0 {
		return Detection{}, false
	}
	queried := max(h.queried.estimate(), failed)
	improbShare := float64(improbable) / float64(measured)
	failShare := float64(failed) / float64(queried)
	d := Detection{
		Analytic:  DGA,
		ID:        detectionID(DGA, src, netip.Addr{}, "", 0),
		Src:       src,
		Proto:     "dns",
		FirstSeen: time.UnixMilli(h.first).UTC(),
		LastSeen:  time.UnixMilli(h.last).UTC(),
		Count:     failed,
		Parts: map[string]float64{
			"failed":             logRamp(float64(failed), cfg.DGAFailedLo, cfg.DGAFailedHi),
			"improbable":         ramp(improbShare, 0.15, 0.5),
			"failed_share":       ramp(failShare, 0.1, 0.5),
			"failed_domains":     float64(failed),
			"queried_domains":    float64(queried),
			"improbable_ratio":   improbShare,
			"mean_improbability": nllSum / float64(measured),
		},
		Samples: a.positions(&h.smp),
	}
	p := d.Parts
	d.RawScore = clamp(0.4*p["failed"]+0.4*p["improbable"]+0.2*p["failed_share"], 0, 1)
	d.Facts = []string{
		fmt.Sprintf("%d distinct registered domains failed to resolve (NXDOMAIN), of %d queried (%.0f%%)", failed, queried, 100*failShare),
		fmt.Sprintf("%.0f%% of the failed names are less probable than 90%% of popular domain names (popular names: 10%%); mean improbability %.2f bits per character",
			100*improbShare, p["mean_improbability"]),
		fmt.Sprintf("DGA score %.2f = 0.4×failed %.2f + 0.4×improbable %.2f + 0.2×failed_share %.2f", d.RawScore, p["failed"], p["improbable"], p["failed_share"]),
	}
	if len(h.failed.items) > 0 {
		var ex []string
		for _, it := range h.failed.items[:min(len(h.failed.items), 5)] {
			ex = append(ex, it.v.domain)
		}
		d.Facts = append(d.Facts, "examples: "+strings.Join(ex, ", "))
	}
	return d, true
}

// population knows how many internal sources reached each destination.
type population struct {
	hosts   int
	sources map[string]int
}

func destKey(dst netip.Addr, name string) string {
	if dst.IsValid() {
		return "ip:" + dst.String()
	}
	if reg, ok := registered(name); ok {
		return "dn:" + reg
	}
	return "dn:" + name
}

func (a *Analyzer) population(keep []seriesKey) population {
	p := population{sources: map[string]int{}}
	hosts := map[netip.Addr]bool{}
	pairs := map[[2]string]bool{}
	for _, k := range keep {
		if !a.cfg.isInternal(k.src) {
			continue
		}
		hosts[k.src] = true
		dk := destKey(k.dst, k.name)
		pk := [2]string{k.src.String(), dk}
		if !pairs[pk] {
			pairs[pk] = true
			p.sources[dk]++
		}
	}
	p.hosts = len(hosts)
	return p
}

const rareName, commonName = "rare-destination", "common-destination"

func (p population) apply(cfg *Config, d *Detection) {
	if d.Analytic == DGA {
		return
	}
	dst, name := d.Dst, d.DstName
	if !dst.IsValid() && name == "" {
		return
	}
	n := p.sources[destKey(dst, name)]
	if dst.IsValid() {
		n = p.sources[destKey(dst, "")]
	}
	switch {
	case p.hosts < cfg.RareMinHosts:
		d.Facts = append(d.Facts, fmt.Sprintf("rarity not assessed: %d internal hosts observed (needs %d)", p.hosts, cfg.RareMinHosts))
		return
	case n == 0:
		// enough hosts, but none of them has a series to this destination
		// (an inbound series, or a name only DNS tunnelling measured)
		d.Facts = append(d.Facts, fmt.Sprintf("rarity not assessed: no series of the %d internal hosts observed reaches this destination", p.hosts))
		return
	}
	switch {
	case n <= cfg.RareMaxSources && cfg.RareFactor > 0:
		d.Modifiers = append(d.Modifiers, Modifier{Name: rareName, Factor: cfg.RareFactor,
			Reason: fmt.Sprintf("reached by %d of %d internal hosts", n, p.hosts)})
	case float64(n) >= cfg.CommonShare*float64(p.hosts) && cfg.CommonFactor > 0:
		d.Modifiers = append(d.Modifiers, Modifier{Name: commonName, Factor: cfg.CommonFactor,
			Reason: fmt.Sprintf("reached by %d of %d internal hosts", n, p.hosts)})
	}
}

const listFactPrefix = "list: "

// applyBenign replaces the known-benign modifiers and facts of d.
func applyBenign(cfg *Config, b Benign, d *Detection) {
	mods := d.Modifiers[:0:0]
	for _, m := range d.Modifiers {
		if m.Name != "warninglist" && m.Name != "allowlist" && m.Name != "network" {
			mods = append(mods, m)
		}
	}
	facts := d.Facts[:0:0]
	for _, f := range d.Facts {
		if !strings.HasPrefix(f, listFactPrefix) {
			facts = append(facts, f)
		}
	}
	m, lf, ok := benignModifiers(cfg, b, d)
	for _, f := range lf {
		facts = append(facts, listFactPrefix+f)
	}
	if ok {
		mods = append(mods, m)
	}
	if len(mods) == 0 {
		mods = nil
	}
	d.Modifiers, d.Facts = mods, facts
}

// locate fills the destination's autonomous system when a Locator is set
// and the finding does not carry it yet.
func locate(cfg *Config, d *Detection) {
	if cfg.Locator == nil || !d.Dst.IsValid() || d.DstASN != 0 {
		return
	}
	if info, ok := cfg.Locator.Lookup(d.Dst); ok && info.ASN != 0 {
		d.DstASN, d.DstASOrg = info.ASN, info.ASOrg
		f := fmt.Sprintf("destination in AS%d %s", info.ASN, info.ASOrg)
		if info.Country != "" {
			f += " (" + info.Country + ")"
		}
		d.Facts = append(d.Facts, f)
	}
}

// finalScore applies the modifiers to RawScore.
func finalScore(d *Detection) {
	s := d.RawScore
	d.Suppressed, d.SuppressedBy = false, ""
	for _, m := range d.Modifiers {
		s *= m.Factor
		if m.Factor == 0 && !d.Suppressed {
			d.Suppressed, d.SuppressedBy = true, m.Reason
		}
	}
	d.Score = clamp(s, 0, 1)
}

func sortDetections(ds []Detection) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := &ds[i], &ds[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		// equal ids (a DNS query series and a name series on port 53):
		// still one order, whatever order they were found in
		if a.Analytic != b.Analytic {
			return a.Analytic < b.Analytic
		}
		if a.RawScore != b.RawScore {
			return a.RawScore > b.RawScore
		}
		return a.Count > b.Count
	})
}

// Reapply re-applies the known-benign lists to stored detections, from
// their RawScore: an allowlist or warninglist change thus reaches findings
// imported before it. Rarity modifiers are kept as computed (they need the
// whole population). The result is sorted like Finish's.
func Reapply(dets []Detection, benign Benign, cfg Config) []Detection {
	out := make([]Detection, len(dets))
	for i, d := range dets {
		d.Modifiers = append([]Modifier(nil), d.Modifiers...)
		d.Facts = append([]string(nil), d.Facts...)
		locate(&cfg, &d)
		applyBenign(&cfg, benign, &d)
		finalScore(&d)
		out[i] = d
	}
	sortDetections(out)
	return out
}

// Detected reports whether d counts as a detection under cfg: at or above
// the threshold and not suppressed.
func (cfg Config) Detected(d Detection) bool {
	return !d.Suppressed && d.Score >= cfg.Threshold
}

func finite(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return 999
	}
	return x
}

// fmtMS renders milliseconds as a short duration ("23s", "5m2s", "1h0m").
func fmtMS(ms float64) string {
	if ms < 1000 {
		return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
	}
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
}
