package attribute

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// fact is one observable seen in the campaign (value type and value, e.g.
// domain msnhome.org), with every indicator that names it and every
// sighting of it: one fact is one line, however many feeds carry it.
type fact struct {
	key       string
	inds      []string // indicator ids, sorted
	sightings []int    // indices into the campaign's sightings, in campaign order
	first     time.Time
}

// seenFacts groups the campaign's sightings by the observable the matched
// indicator names (the sighting's type and indicator value), in key order.
func (s *assessor) seenFacts() []*fact {
	byKey := map[string]*fact{}
	indSeen := map[string]bool{}
	for _, si := range s.c.Sightings {
		sg := &s.sightings[si]
		key := string(sg.Type) + " " + sg.Indicator
		if sg.Indicator == "" {
			key = "indicator " + sg.IndicatorID
		}
		f, ok := byKey[key]
		if !ok {
			f = &fact{key: key, first: sg.Time}
			byKey[key] = f
		}
		f.sightings = append(f.sightings, si)
		if !indSeen[key+"|"+sg.IndicatorID] {
			indSeen[key+"|"+sg.IndicatorID] = true
			f.inds = append(f.inds, sg.IndicatorID)
		}
		if sg.Time.Before(f.first) {
			f.first = sg.Time
		}
	}
	out := make([]*fact, 0, len(byKey))
	for _, k := range sortedKeys(byKey) {
		sort.Strings(byKey[k].inds)
		out = append(out, byKey[k])
	}
	return out
}

// tally is what all the sightings behind one item show: how many, on how
// many internal hosts, when, which values, and a cited sample.
type tally struct {
	count       int
	hosts       int
	first, last time.Time
	values      []string
	refs        []SightingRef
	suppressed  bool
	list        string
}

// tallyOf counts the sightings of f whose indicator is in inds (all when
// inds is nil): a record two indicators of the fact match is two
// sightings, as everywhere else in the report.
func (s *assessor) tallyOf(f *fact, inds map[string]bool) tally {
	var t tally
	hosts, values := map[netip.Addr]bool{}, map[string]bool{}
	for _, si := range f.sightings {
		sg := &s.sightings[si]
		if inds != nil && !inds[sg.IndicatorID] {
			continue
		}
		t.count++
		hosts[internalHost(sg)] = true
		values[sg.Value] = true
		if t.first.IsZero() || sg.Time.Before(t.first) {
			t.first = sg.Time
		}
		if sg.Time.After(t.last) {
			t.last = sg.Time
		}
		if len(t.refs) < s.cfg.Indicators.MaxSightings {
			t.refs = append(t.refs, SightingRef{File: sg.File, Line: sg.Line, Offset: sg.Offset, Field: sg.Field, Value: sg.Value, Time: sg.Time})
		}
		if sg.Suppressed {
			t.suppressed, t.list = true, sg.Warninglist
		}
	}
	t.hosts, t.values = len(hosts), sortedKeys(values)
	return t
}

// internalHost is the organisation's side of a sighting: the destination
// of inbound traffic that matched on its source address, else the source.
func internalHost(sg *match.Sighting) netip.Addr {
	if sg.Direction == "src" && sg.DstIP.IsValid() {
		return sg.DstIP
	}
	return sg.SrcIP
}

// fill sets an item's structured fields from a tally.
func (t tally) fill(e *Evidence) {
	e.Sightings, e.Count, e.More, e.Hosts = t.refs, t.count, t.count-len(t.refs), t.hosts
	e.FirstSeen, e.LastSeen, e.Values = t.first, t.last, t.values
}

// seenText is "seen 2,398× on 3 hosts".
func (t tally) seenText() string {
	host := "hosts"
	if t.hosts == 1 {
		host = "host"
	}
	return fmt.Sprintf("seen %s× on %d %s", thousands(t.count), t.hosts, host)
}

// thousands prints n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// indicatorWeight is an indicator's weight for the actors it leads to, with
// its factors.
type indicatorWeight struct {
	id                   string
	what                 string // "domain example.com", or the pattern
	source, grade        string
	origin               string
	sources              []string
	spec, conf, age, rel float64
	ageNote              string // why age is below 1
}

func (w indicatorWeight) weight() float64 { return w.spec * w.conf * w.age * w.rel }

// weigh computes the factors of an indicator's weight; sample is a value
// it matched, for patterns that name no observable.
func (s *assessor) weigh(id string, ind *intel.Object, sample string, first time.Time) indicatorWeight {
	cfg := s.cfg.Indicators
	iw := indicatorWeight{id: id, what: ind.Indicator.Pattern, origin: s.g.Origin(id)}
	iw.source, iw.grade, iw.rel, iw.sources = s.bestSource(id)
	if iw.origin == "" {
		iw.origin = "source " + iw.source
	}
	iw.spec = cfg.PatternUnknown
	if t := intel.Detect(sample); t != intel.UnknownType {
		iw.spec = cfg.PatternFactor * cfg.specificity(intel.Observable{Type: t, Value: sample})
	}
	if obs := ind.Indicator.Observables; len(obs) > 0 {
		iw.spec = 0
		for _, ob := range obs {
			iw.spec = math.Max(iw.spec, cfg.specificity(ob))
		}
		iw.what = fmt.Sprintf("%s %s", obs[0].Type, obs[0].Value)
	}
	iw.conf = cfg.DefaultConfidence
	if ind.Confidence >= 0 {
		iw.conf = math.Max(cfg.MinConfidence, float64(ind.Confidence)/100)
	}
	iw.age, iw.ageNote = cfg.ageFactor(ind, first, iw.spec)
	return iw
}

// bestSource is the most reliable source of an indicator, with its grade
// and reliability factor, and the names of all its sources.
func (s *assessor) bestSource(id string) (name, grade string, rel float64, all []string) {
	for _, src := range s.g.IndicatorSources(id) {
		all = append(all, src.Name)
		if w := s.cfg.Indicators.reliability(src.Reliability.String()); w > rel || name == "" {
			name, grade, rel = src.Name, src.Reliability.String(), w
		}
	}
	if name == "" {
		return "unknown source", grade, s.cfg.Indicators.UnknownReliability, []string{"unknown source"}
	}
	return name, grade, rel, all
}

// ageFactor discounts revoked and expired indicators, and infrastructure
// indicators first valid long before they were seen.
func (w IndicatorWeights) ageFactor(ind *intel.Object, first time.Time, spec float64) (float64, string) {
	is := ind.Indicator
	switch {
	case ind.Revoked:
		return w.RevokedAge, "revoked"
	case !is.ValidUntil.IsZero() && first.After(is.ValidUntil):
		return w.ExpiredAge, "seen after its valid_until " + is.ValidUntil.Format("2006-01-02")
	case !is.ValidFrom.IsZero() && first.Sub(is.ValidFrom) > w.staleAfter() && spec < w.StaleBelowSpecificity:
		return w.StaleAge, "infrastructure indicator older than " + fmtYears(w.staleAfter())
	}
	return 1, ""
}

func (w IndicatorWeights) staleAfter() time.Duration {
	return time.Duration(w.StaleAfterDays) * 24 * time.Hour
}

// specificity is how much a match of a value says about who is behind it:
// a file hash or full URL more than a domain, a domain more than an IP, an
// IP more than a network range.
func (w IndicatorWeights) specificity(o intel.Observable) float64 {
	if o.Type == intel.CIDR {
		p, err := netip.ParsePrefix(o.Value)
		if err != nil {
			return w.CIDRFloor
		}
		bits := p.Bits()
		if p.Addr().Is6() {
			bits -= 96 // compare like IPv4: the last 32 bits
		}
		return math.Max(w.CIDRFloor, w.CIDRFull*float64(bits-w.CIDRZeroBits)/float64(32-w.CIDRZeroBits))
	}
	for _, cl := range w.Specificity {
		for _, t := range cl.Types {
			if t == o.Type {
				return cl.Weight
			}
		}
	}
	return w.OtherSpecificity
}

// reliability maps an Admiralty grade ("" when unknown) to a factor.
func (w IndicatorWeights) reliability(grade string) float64 {
	if f, ok := w.Reliability[grade]; ok {
		return f
	}
	return w.UnknownReliability
}

func joinSorted(xs []string) string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return strings.Join(out, ", ")
}
