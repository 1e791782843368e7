// Package attribute weighs which actor is most likely behind a campaign. It
// collects evidence for and against every hypothesis (each actor reachable
// through the intelligence, an actor not in the intelligence, and
// coincidence on shared infrastructure), discounts evidence that shares a
// source, infers the operators' working time zone, and states the result in
// ICD 203 estimative words with a separate analytic confidence. Every rule
// and weight is in Methodology, so a reader can check the arithmetic.
package attribute

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Hypothesis ids besides actor ids.
const (
	UnknownActor = "unknown-actor"
	Coincidence  = "coincidence"
)

// Graph is the intelligence attribution reads.
type Graph interface {
	Indicator(id string) *intel.Object
	IndicatorSources(id string) []intel.Source
	// Attributions lists the actors an indicator points to, and how.
	Attributions(indicatorID string) []Path
	Actor(id string) *Actor
}

// Path is one way an indicator leads to an actor.
type Path struct {
	ActorID string
	Via     string // e.g. "indicates APT1", "indicates malware BISCUIT, used by APT1"
	Malware string // set when the path goes through a malware family
}

// Actor is what attribution needs to know about an actor.
type Actor struct {
	ID         string
	Name       string // the ATT&CK name where ATT&CK knows the actor
	AttackID   string
	Aliases    []string
	Country    string
	Techniques map[string]bool // ATT&CK technique ids the actor uses
	// KnownInfra are the actor's IP and CIDR indicators, with their countries.
	KnownInfra []KnownInfra
}

// KnownInfra is one network an actor is known to use.
type KnownInfra struct {
	IndicatorID string
	Prefix      netip.Prefix
	Country     string
}

// Config holds the weights and thresholds; DefaultConfig documents them.
type Config struct {
	Beta              float64 // steepness turning scores into likelihoods
	UnknownPrior      float64 // base score of "an actor not in the intelligence"
	CoincidencePrior  float64 // base score of "coincidence on shared infrastructure"
	DefaultConfidence float64 // factor for indicators that state no confidence
	MinIndependent    int     // independent evidence groups needed to name an actor
	MinScore          float64 // score needed to name an actor
	StaleAge          time.Duration
}

// DefaultConfig returns the documented weights.
func DefaultConfig() Config {
	return Config{Beta: 2.5, UnknownPrior: 0.6, CoincidencePrior: 0.2, DefaultConfidence: 0.75,
		MinIndependent: 2, MinScore: 0.5, StaleAge: 3 * 365 * 24 * time.Hour}
}

// Evidence is one fact bearing on one hypothesis.
type Evidence struct {
	Kind     string  `json:"kind"`
	Supports string  `json:"supports"` // hypothesis id
	Against  bool    `json:"against,omitempty"`
	Weight   float64 `json:"weight"`
	Detail   string  `json:"detail"`
	Source   string  `json:"source"`
	// Reliability is the Admiralty grade of the source, "" when unknown.
	Reliability string        `json:"reliability,omitempty"`
	Sightings   []SightingRef `json:"sightings,omitempty"`
	group       string
}

// SightingRef points at the record behind a piece of evidence.
type SightingRef struct {
	File  string    `json:"file"`
	Line  int64     `json:"line"`
	Field string    `json:"field"`
	Value string    `json:"value"`
	Time  time.Time `json:"time"`
}

// Hypothesis is one candidate explanation, scored.
type Hypothesis struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	AttackID   string   `json:"attack_id,omitempty"`
	Aliases    []string `json:"aliases,omitempty"`
	Country    string   `json:"country,omitempty"`
	Score      float64  `json:"score"`
	Likelihood float64  `json:"likelihood"`
	// Independent counts the evidence groups (distinct sources or kinds)
	// supporting it.
	Independent int `json:"independent"`
}

// Assessment is the attribution of one campaign.
type Assessment struct {
	CampaignID string
	Hypotheses []Hypothesis // ranked, most likely first
	// Top is the most likely known actor (nil when no actor is reachable).
	Top        *Hypothesis
	Estimate   string // ICD 203 words, or NotEnoughEvidence
	Confidence string // low, moderate, high
	// Alternative is the strongest other hypothesis.
	Alternative *Hypothesis
	Evidence    []Evidence
	TimeZone    TimeZone
	// OperatorCountries are countries whose standard offset is within an
	// hour of the inferred one; InfraCountries where the infrastructure is.
	OperatorCountries []string
	InfraCountries    map[string]int
	Reasons           []string // why the estimate and confidence are what they are
}

// specificity is how much a match of each value type says about who is
// behind it: a file hash or full URL more than a domain, a domain more than
// an IP, an IP more than a network range.
func specificity(o intel.Observable) float64 {
	switch o.Type {
	case intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512:
		return 0.9
	case intel.X509SHA1, intel.X509SHA256, intel.X509Serial:
		return 0.85
	case intel.URL:
		return 0.8
	case intel.Email:
		return 0.7
	case intel.Domain:
		return 0.6
	case intel.IPv4, intel.IPv6:
		return 0.4
	case intel.CIDR:
		if p, err := netip.ParsePrefix(o.Value); err == nil {
			bits := p.Bits()
			if p.Addr().Is6() {
				bits -= 96
			}
			return math.Max(0.05, 0.4*float64(bits-8)/24)
		}
		return 0.05
	case intel.JA3, intel.JA3S, intel.UserAgent, intel.FileName:
		return 0.3
	}
	return 0.3
}

// reliabilityWeight maps a source grade to a factor; unknown counts as "fairly reliable".
func reliabilityWeight(r intel.Reliability) float64 {
	if r == 0 || r == intel.CannotBeJudged {
		return 0.65
	}
	return r.Weight()
}

// techniquesOf maps a behavioural analytic to the ATT&CK techniques it shows.
var techniquesOf = map[string][]string{
	behavior.Beacon:    {"T1071", "T1071.001", "T1573", "T1573.001", "T1573.002"},
	behavior.LongConn:  {"T1071", "T1095", "T1571"},
	behavior.DNSTunnel: {"T1071.004", "T1572", "T1048", "T1048.003"},
	behavior.DGA:       {"T1568", "T1568.002"},
	behavior.Strobe:    {"T1046", "T1110"},
}

// Assess weighs the hypotheses for one campaign.
func Assess(c *correlate.Campaign, sightings []match.Sighting, detections []behavior.Detection, g Graph, cfg Config) *Assessment {
	a := &Assessment{CampaignID: c.ID, InfraCountries: map[string]int{}}
	hyps := map[string]*Hypothesis{}
	hyp := func(id string) *Hypothesis {
		if h, ok := hyps[id]; ok {
			return h
		}
		h := &Hypothesis{ID: id}
		switch id {
		case UnknownActor:
			h.Name = "an actor not in the intelligence"
		case Coincidence:
			h.Name = "coincidence on shared infrastructure"
		default:
			if act := g.Actor(id); act != nil {
				h.Name, h.AttackID, h.Aliases, h.Country = act.Name, act.AttackID, act.Aliases, act.Country
			} else {
				h.Name = id
			}
		}
		hyps[id] = h
		return h
	}
	hyp(UnknownActor)
	hyp(Coincidence)
	var ev []Evidence
	add := func(e Evidence) {
		if e.group == "" {
			e.group = e.Kind + "|" + e.Source
		}
		ev = append(ev, e)
	}

	// 1. Indicator matches: one piece of evidence per indicator seen.
	type seen struct {
		refs       []SightingRef
		suppressed bool
		list       string
		victims    map[netip.Addr]bool
		first      time.Time
	}
	byInd := map[string]*seen{}
	var order []string
	for _, si := range c.Sightings {
		s := &sightings[si]
		x, ok := byInd[s.IndicatorID]
		if !ok {
			x = &seen{victims: map[netip.Addr]bool{}, first: s.Time}
			byInd[s.IndicatorID] = x
			order = append(order, s.IndicatorID)
		}
		if len(x.refs) < 5 {
			x.refs = append(x.refs, SightingRef{File: s.File, Line: s.Line, Field: s.Field, Value: s.Value, Time: s.Time})
		}
		if s.Suppressed {
			x.suppressed, x.list = true, s.Warninglist
		}
		x.victims[s.SrcIP] = true
		if s.Time.Before(x.first) {
			x.first = s.Time
		}
	}
	sort.Strings(order)
	for _, id := range order {
		x := byInd[id]
		ind := g.Indicator(id)
		if ind == nil || ind.Indicator == nil {
			continue
		}
		paths := g.Attributions(id)
		srcs := g.IndicatorSources(id)
		srcName, grade, rel := "", "", 0.0
		for _, s := range srcs {
			if w := reliabilityWeight(s.Reliability); w > rel || srcName == "" {
				srcName, grade, rel = s.Name, s.Reliability.String(), w
			}
		}
		if srcName == "" {
			srcName, rel = "unknown source", reliabilityWeight(0)
		}
		// A pattern weighs like the value it matched, a little less for
		// being looser than an exact value.
		spec := 0.3
		if t := intel.Detect(x.refs[0].Value); t != intel.UnknownType {
			spec = 0.9 * specificity(intel.Observable{Type: t, Value: x.refs[0].Value})
		}
		what := ind.Indicator.Pattern
		if len(ind.Indicator.Observables) > 0 {
			spec = 0
			for _, ob := range ind.Indicator.Observables {
				spec = math.Max(spec, specificity(ob))
			}
			what = fmt.Sprintf("%s %s", ind.Indicator.Observables[0].Type, ind.Indicator.Observables[0].Value)
		}
		conf := cfg.DefaultConfidence
		if ind.Confidence >= 0 {
			conf = math.Max(0.05, float64(ind.Confidence)/100)
		}
		age := 1.0
		ageNote := ""
		switch {
		case ind.Revoked:
			age, ageNote = 0.1, "revoked"
		case !ind.Indicator.ValidUntil.IsZero() && x.first.After(ind.Indicator.ValidUntil):
			age, ageNote = 0.3, "seen after its valid_until "+ind.Indicator.ValidUntil.Format("2006-01-02")
		case !ind.Indicator.ValidFrom.IsZero() && x.first.Sub(ind.Indicator.ValidFrom) > cfg.StaleAge && spec < 0.8:
			age, ageNote = 0.6, "infrastructure indicator older than "+fmtYears(cfg.StaleAge)
		}
		w := spec * conf * age * rel
		detail := fmt.Sprintf("%s seen %d× on %d host(s) (specificity %.2f, confidence %.2f, age %.2f, reliability %.2f)",
			what, len(x.refs), len(x.victims), spec, conf, age, rel)
		if x.suppressed {
			add(Evidence{Kind: "warninglisted-indicator", Supports: Coincidence, Weight: round(w), Source: srcName, Reliability: grade,
				Detail:    fmt.Sprintf("%s is on the warninglist %q: shared or benign infrastructure, not a marker of any actor", what, x.list),
				Sightings: x.refs})
			w *= 0.1
		}
		if ageNote != "" {
			add(Evidence{Kind: "stale-indicator", Supports: Coincidence, Weight: round(spec * conf * rel * (1 - age) * 0.5), Source: srcName,
				Detail: what + " is " + ageNote, Sightings: x.refs})
		}
		if len(paths) == 0 {
			continue
		}
		actors := map[string][]Path{}
		for _, p := range paths {
			actors[p.ActorID] = append(actors[p.ActorID], p)
			hyp(p.ActorID)
		}
		n := float64(len(actors))
		if n > 1 {
			var names []string
			for id := range actors {
				names = append(names, hyp(id).Name)
			}
			sort.Strings(names)
			add(Evidence{Kind: "multi-claimed-indicator", Supports: Coincidence, Weight: round(w * (n - 1) / n), Source: srcName,
				Detail:    fmt.Sprintf("%s is claimed by %d actors (%s): it proves none of them alone", what, len(actors), strings.Join(names, ", ")),
				Sightings: x.refs})
		}
		for actorID, ps := range actors {
			kind := "indicator-match"
			via := ps[0].Via
			if ps[0].Malware != "" {
				kind = "malware-family"
			}
			add(Evidence{Kind: kind, Supports: actorID, Weight: round(w / n), Source: srcName, Reliability: grade,
				Detail: detail + "; " + via, Sightings: x.refs, group: "intel|" + srcName})
		}
	}

	// 2. Behaviour consistent with each actor's techniques.
	shown := map[string]string{}
	for _, di := range c.Detections {
		d := &detections[di]
		for _, t := range techniquesOf[d.Analytic] {
			shown[t] = d.Analytic
		}
	}
	for id, h := range hyps {
		if id == UnknownActor || id == Coincidence {
			continue
		}
		act := g.Actor(id)
		if act == nil {
			continue
		}
		var match []string
		for t, an := range shown {
			if act.Techniques[t] {
				match = append(match, t+" ("+an+")")
			}
		}
		if len(match) > 0 {
			sort.Strings(match)
			add(Evidence{Kind: "technique", Supports: id, Weight: round(math.Min(0.2, 0.1*float64(len(match)))), Source: "behaviour analytics",
				Detail: fmt.Sprintf("observed behaviour matches techniques %s uses: %s (weak: common to many actors)", h.Name, strings.Join(match, ", "))})
		}
	}

	// 3. Where the infrastructure is — which is not where the operators are.
	for _, inf := range c.Infrastructure {
		if inf.Country != "" && !inf.Suppressed {
			a.InfraCountries[inf.Country]++
		}
	}
	// Compared only with infrastructure known from other indicators than
	// the ones seen here, so that one match is not counted twice.
	seenHere := map[string]bool{}
	for _, id := range c.Indicators {
		seenHere[id] = true
	}
	for id, h := range hyps {
		if id == UnknownActor || id == Coincidence {
			continue
		}
		act := g.Actor(id)
		if act == nil {
			continue
		}
		known := map[string]bool{}
		for _, k := range act.KnownInfra {
			if k.Country != "" && !seenHere[k.IndicatorID] {
				known[k.Country] = true
			}
		}
		var common []string
		for cc := range a.InfraCountries {
			if known[cc] {
				common = append(common, cc)
			}
		}
		if len(common) > 0 {
			sort.Strings(common)
			add(Evidence{Kind: "infrastructure-geography", Supports: id, Weight: 0.15, Source: "geolocation",
				Detail: fmt.Sprintf("infrastructure in %s, where %s's other known infrastructure is (weak: servers can be rented anywhere)", strings.Join(common, ", "), h.Name)})
		}
	}

	// 4. The operators' working hours, from human-driven activity only.
	a.TimeZone = InferTimeZone(humanTimes(c, sightings, detections))
	if a.TimeZone.Enough {
		best := a.TimeZone.Best
		for cc, offs := range countryOffsets {
			for _, o := range offs {
				if math.Abs(o-best.Hours) < 0.76 {
					a.OperatorCountries = append(a.OperatorCountries, cc)
					break
				}
			}
		}
		sort.Strings(a.OperatorCountries)
		strength := 0.4 * best.Fit * math.Min(1, float64(a.TimeZone.Events)/60)
		for id, h := range hyps {
			if id == UnknownActor || id == Coincidence || h.Country == "" {
				continue
			}
			offs := countryOffsets[h.Country]
			if len(offs) == 0 {
				continue
			}
			dist := 24.0
			for _, o := range offs {
				dist = math.Min(dist, math.Abs(o-best.Hours))
			}
			tzText := fmt.Sprintf("UTC%s (%.0f%% of %d human-driven events in a Mon–Fri 08–19 working week)", fmtOffset(best.Hours), 100*best.Fit, a.TimeZone.Events)
			switch {
			case dist <= 1:
				add(Evidence{Kind: "operator-timezone", Supports: id, Weight: round(strength), Source: "activity times",
					Detail: fmt.Sprintf("operators work at %s, consistent with %s in %s", tzText, h.Name, h.Country)})
			case dist >= 3:
				add(Evidence{Kind: "operator-timezone", Supports: id, Against: true, Weight: round(strength), Source: "activity times",
					Detail: fmt.Sprintf("operators work at %s, %.0f hours from %s's country %s", tzText, dist, h.Name, h.Country)})
			}
		}
	}

	// 5. Activity that no intelligence explains argues for an unknown actor.
	unexplained := 0
	for _, di := range c.Detections {
		d := &detections[di]
		if !d.Suppressed {
			unexplained++
		}
	}
	if unexplained > 0 && len(c.Indicators) == 0 {
		add(Evidence{Kind: "unexplained-behaviour", Supports: UnknownActor, Weight: 0.4, Source: "behaviour analytics",
			Detail: fmt.Sprintf("%d behavioural detection(s) and no indicator from any intelligence", unexplained)})
	}

	// Score: evidence sharing a source combines with diminishing returns
	// (1 − Π(1 − w)); independent groups add; counter-evidence subtracts.
	groups := map[string]map[string][]float64{} // hypothesis -> group -> weights
	against := map[string]float64{}
	for _, e := range ev {
		if e.Against {
			against[e.Supports] += e.Weight
			continue
		}
		if groups[e.Supports] == nil {
			groups[e.Supports] = map[string][]float64{}
		}
		groups[e.Supports][e.group] = append(groups[e.Supports][e.group], e.Weight)
	}
	for id, h := range hyps {
		score := 0.0
		switch id {
		case UnknownActor:
			score = cfg.UnknownPrior
		case Coincidence:
			score = cfg.CoincidencePrior
		}
		for _, ws := range groups[id] {
			prod := 1.0
			for _, w := range ws {
				prod *= 1 - math.Min(w, 0.99)
			}
			score += 1 - prod
			h.Independent++
		}
		h.Score = round(score - against[id])
	}
	maxS := math.Inf(-1)
	for _, h := range hyps {
		maxS = math.Max(maxS, h.Score)
	}
	total := 0.0
	for _, h := range hyps {
		total += math.Exp(cfg.Beta * (h.Score - maxS))
	}
	for _, h := range hyps {
		h.Likelihood = round(math.Exp(cfg.Beta*(h.Score-maxS)) / total)
		a.Hypotheses = append(a.Hypotheses, *h)
	}
	sort.Slice(a.Hypotheses, func(i, j int) bool {
		if a.Hypotheses[i].Likelihood != a.Hypotheses[j].Likelihood {
			return a.Hypotheses[i].Likelihood > a.Hypotheses[j].Likelihood
		}
		return a.Hypotheses[i].ID < a.Hypotheses[j].ID
	})
	for i := range a.Hypotheses {
		h := &a.Hypotheses[i]
		if h.ID != UnknownActor && h.ID != Coincidence {
			a.Top = h
			break
		}
	}
	for i := range a.Hypotheses {
		h := &a.Hypotheses[i]
		if a.Top == nil || h.ID != a.Top.ID {
			a.Alternative = h
			break
		}
	}
	sort.SliceStable(ev, func(i, j int) bool {
		if ev[i].Supports != ev[j].Supports {
			return rankOf(a.Hypotheses, ev[i].Supports) < rankOf(a.Hypotheses, ev[j].Supports)
		}
		return ev[i].Weight > ev[j].Weight
	})
	a.Evidence = ev
	a.judge(cfg)
	return a
}

func rankOf(hs []Hypothesis, id string) int {
	for i, h := range hs {
		if h.ID == id {
			return i
		}
	}
	return len(hs)
}

// judge sets the estimate words and the analytic confidence, with reasons.
func (a *Assessment) judge(cfg Config) {
	if a.Top == nil {
		a.Estimate = NotEnoughEvidence
		a.Confidence = Low
		a.Reasons = append(a.Reasons, "no actor in the intelligence is linked to this activity")
		return
	}
	top := a.Top
	a.Estimate = Words(top.Likelihood)
	if top.Independent < cfg.MinIndependent || top.Score < cfg.MinScore {
		a.Estimate = NotEnoughEvidence
		a.Reasons = append(a.Reasons, fmt.Sprintf("%s has %d independent line(s) of evidence and score %.2f; naming an actor needs at least %d and %.2f",
			top.Name, top.Independent, top.Score, cfg.MinIndependent, cfg.MinScore))
	}
	// Confidence from amount, diversity and reliability of the supporting evidence.
	kinds := map[string]bool{}
	sources := map[string]bool{}
	var rel []float64
	counter := 0
	for _, e := range a.Evidence {
		if e.Supports == top.ID && !e.Against {
			kinds[e.Kind] = true
			sources[e.Source] = true
			if e.Reliability != "" {
				rel = append(rel, reliabilityWeight(intel.Reliability(e.Reliability[0])))
			} else {
				rel = append(rel, reliabilityWeight(0))
			}
		}
		if e.Supports == Coincidence || e.Against && e.Supports == top.ID {
			counter++
		}
	}
	points := 0
	switch {
	case top.Independent >= 3:
		points += 2
	case top.Independent == 2:
		points++
	}
	switch {
	case len(kinds) >= 3:
		points += 2
	case len(kinds) == 2:
		points++
	}
	mean := 0.0
	for _, r := range rel {
		mean += r
	}
	if len(rel) > 0 {
		mean /= float64(len(rel))
	}
	switch {
	case mean >= 0.8:
		points += 2
	case mean >= 0.6:
		points++
	}
	if counter > 0 {
		points--
	}
	switch {
	case points >= 5:
		a.Confidence = High
	case points >= 3:
		a.Confidence = Moderate
	default:
		a.Confidence = Low
	}
	a.Reasons = append(a.Reasons, fmt.Sprintf("confidence %s: %d independent line(s), %d kind(s) of evidence, mean source reliability %.2f, %d counter-indication(s)",
		a.Confidence, top.Independent, len(kinds), mean, counter))
	if len(sources) == 1 {
		a.Reasons = append(a.Reasons, "all supporting evidence comes from one source: corroborate before acting")
	}
}

// humanTimes returns the times of the campaign's human-driven activity:
// sighting times (one per victim, value and minute) outside automated
// series. A series (victim, value) is automated when a beacon detection
// names it, or when it has at least 6 events whose intervals vary little
// (coefficient of variation below 0.35).
func humanTimes(c *correlate.Campaign, sightings []match.Sighting, detections []behavior.Detection) []time.Time {
	beacons := map[string]bool{}
	for _, di := range c.Detections {
		d := &detections[di]
		if d.Analytic != behavior.Beacon {
			continue
		}
		if d.Dst.IsValid() {
			beacons[d.Src.String()+"|"+d.Dst.Unmap().String()] = true
		}
		if d.DstName != "" {
			beacons[d.Src.String()+"|"+d.DstName] = true
		}
	}
	series := map[string][]time.Time{}
	for _, si := range c.Sightings {
		s := &sightings[si]
		if s.Suppressed {
			continue
		}
		key := s.SrcIP.String() + "|" + s.Value
		if beacons[key] || beacons[s.SrcIP.String()+"|"+s.DstIP.Unmap().String()] {
			continue
		}
		series[key] = append(series[key], s.Time)
	}
	minutes := map[string]bool{}
	var out []time.Time
	for key, ts := range series {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		if regular(ts) {
			continue
		}
		for _, t := range ts {
			k := key + "|" + t.UTC().Truncate(time.Minute).Format(time.RFC3339)
			if !minutes[k] {
				minutes[k] = true
				out = append(out, t)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func regular(ts []time.Time) bool {
	if len(ts) < 6 {
		return false
	}
	var iv []float64
	for i := 1; i < len(ts); i++ {
		iv = append(iv, ts[i].Sub(ts[i-1]).Seconds())
	}
	mean, sd := 0.0, 0.0
	for _, x := range iv {
		mean += x
	}
	mean /= float64(len(iv))
	if mean <= 0 {
		return true
	}
	for _, x := range iv {
		sd += (x - mean) * (x - mean)
	}
	sd = math.Sqrt(sd / float64(len(iv)))
	return sd/mean < 0.35
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }

func fmtYears(d time.Duration) string {
	return fmt.Sprintf("%.0f years", d.Hours()/24/365)
}

func fmtOffset(h float64) string {
	sign := "+"
	if h < 0 {
		sign = "-"
		h = -h
	}
	whole := int(h)
	min := int(math.Round((h - float64(whole)) * 60))
	if min == 0 {
		return fmt.Sprintf("%s%d", sign, whole)
	}
	return fmt.Sprintf("%s%d:%02d", sign, whole, min)
}

// FormatOffset renders an offset as "+8" or "+5:30".
func FormatOffset(h float64) string { return fmtOffset(h) }
