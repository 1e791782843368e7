package attribute_test

import (
	"fmt"
	"math"
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// officeTimes draws n times of a person working Mon–Fri in local office
// hours at the given UTC offset, over several weeks.
func officeTimes(rng *rand.Rand, n int, offset float64) []time.Time {
	base := time.Date(2013, 1, 7, 0, 0, 0, 0, time.UTC) // a Monday
	var out []time.Time
	for len(out) < n {
		day := rng.Intn(35)
		local := base.AddDate(0, 0, day)
		if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
			if rng.Float64() > 0.05 {
				continue
			}
		}
		hour := 9 + rng.Float64()*9 // 09:00–18:00
		if hour >= 12 && hour < 13 && rng.Float64() < 0.7 {
			continue // lunch
		}
		t := local.Add(time.Duration(hour * float64(time.Hour)))
		out = append(out, t.Add(-time.Duration(offset*float64(time.Hour))))
	}
	return out
}

func TestInferTimeZoneEveryOffset(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for off := -12; off <= 14; off++ {
		tz := attribute.InferTimeZone(officeTimes(rng, 80, float64(off)))
		if math.Abs(tz.Best.Hours-float64(off)) > 1 {
			t.Errorf("UTC%+d: inferred %+.1f (fit %.2f)", off, tz.Best.Hours, tz.Best.Fit)
		}
		if tz.Best.Fit < 0.8 || !tz.Enough {
			t.Errorf("UTC%+d: fit %.2f enough %v", off, tz.Best.Fit, tz.Enough)
		}
		if math.Abs(tz.RunnerUp.Hours-tz.Best.Hours) <= 1 {
			t.Errorf("UTC%+d: runner-up %+.1f is adjacent to best", off, tz.RunnerUp.Hours)
		}
	}
}

func TestInferTimeZoneRandomActivityFitsPoorly(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	base := time.Date(2013, 1, 7, 0, 0, 0, 0, time.UTC)
	var ts []time.Time
	for i := 0; i < 300; i++ {
		ts = append(ts, base.Add(time.Duration(rng.Int63n(int64(28*24*time.Hour)))))
	}
	tz := attribute.InferTimeZone(ts)
	if tz.Best.Fit > 0.55 {
		t.Errorf("uniform activity fits a working week at %.2f", tz.Best.Fit)
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		want string
	}{{0.01, "almost no chance"}, {0.1, "very unlikely"}, {0.3, "unlikely"}, {0.5, "roughly even chance"},
		{0.6, "likely"}, {0.9, "very likely"}, {0.97, "almost certain"}, {1, "almost certain"}} {
		if got := attribute.Words(tc.p); got != tc.want {
			t.Errorf("Words(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// fakeGraph is an in-memory Graph.
type fakeGraph struct {
	inds   map[string]*intel.Object
	srcs   map[string][]intel.Source
	paths  map[string][]attribute.Path
	actors map[string]*attribute.Actor
	origin map[string]string // indicator -> origin; default the source's name
}

func (g *fakeGraph) Indicator(id string) *intel.Object         { return g.inds[id] }
func (g *fakeGraph) IndicatorSources(id string) []intel.Source { return g.srcs[id] }
func (g *fakeGraph) Attributions(id string) []attribute.Path   { return g.paths[id] }
func (g *fakeGraph) Actor(id string) *attribute.Actor          { return g.actors[id] }
func (g *fakeGraph) Origin(id string) string {
	if o, ok := g.origin[id]; ok {
		return o
	}
	if len(g.srcs[id]) > 0 {
		return "source " + g.srcs[id][0].Name
	}
	return ""
}
func (g *fakeGraph) add(id string, t intel.ValueType, v, src string, actors ...string) {
	g.inds[id] = &intel.Object{ID: id, Type: intel.TypeIndicator, Confidence: -1,
		Indicator: &intel.IndicatorSpec{Observables: []intel.Observable{{Type: t, Value: v}}}}
	g.srcs[id] = []intel.Source{{Name: src}}
	for _, a := range actors {
		g.paths[id] = append(g.paths[id], attribute.Path{ActorID: a, Via: "indicates " + a})
	}
}

func newGraph() *fakeGraph {
	return &fakeGraph{inds: map[string]*intel.Object{}, srcs: map[string][]intel.Source{}, paths: map[string][]attribute.Path{}, origin: map[string]string{},
		actors: map[string]*attribute.Actor{
			"apt1":  {ID: "apt1", Name: "APT1", Country: "CN", Techniques: map[string]bool{}},
			"apt28": {ID: "apt28", Name: "APT28", Country: "RU", Techniques: map[string]bool{}},
		}}
}

// campaign builds a campaign of the given sightings.
func campaign(s []match.Sighting) *correlate.Campaign {
	c := &correlate.Campaign{ID: "C-test"}
	for i := range s {
		c.Sightings = append(c.Sightings, i)
		if !s[i].Suppressed {
			c.Indicators = append(c.Indicators, s[i].IndicatorID)
		}
	}
	return c
}

func sightingsAt(ind, value string, times []time.Time) []match.Sighting {
	var out []match.Sighting
	for _, t := range times {
		out = append(out, match.Sighting{IndicatorID: ind, Type: intel.Domain, Value: value, Field: "dns.query", Time: t,
			SrcIP: netip.MustParseAddr("10.1.1.5"), File: "dns.log", Line: 1})
	}
	return out
}

func TestCleanScenarioNamesTheActor(t *testing.T) {
	g := newGraph()
	rng := rand.New(rand.NewSource(3))
	var s []match.Sighting
	for i := 0; i < 4; i++ {
		id := fmt.Sprintf("ind-%d", i)
		v := fmt.Sprintf("c2-%d.example", i)
		g.add(id, intel.Domain, v, "apt1-fqdn.dat", "apt1")
		s = append(s, sightingsAt(id, v, officeTimes(rng, 15, 8))...)
	}
	g.add("hash", intel.MD5, "001dd76872d80801692ff942308c64e6", "apt1-md5.dat", "apt1")
	s = append(s, sightingsAt("hash", "001dd76872d80801692ff942308c64e6", officeTimes(rng, 1, 8))...)
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	if a.Top == nil || a.Top.ID != "apt1" {
		t.Fatalf("top = %+v", a.Top)
	}
	if a.Top.Likelihood < 0.55 || a.Estimate == attribute.NotEnoughEvidence {
		t.Errorf("likelihood %.2f estimate %q, want at least likely (%v)", a.Top.Likelihood, a.Estimate, a.Reasons)
	}
	if math.Abs(a.TimeZone.Best.Hours-8) > 1 {
		t.Errorf("offset %+v", a.TimeZone.Best)
	}
	if a.Alternative == nil {
		t.Error("no alternative stated")
	}
	// Every supporting item points at sightings.
	for _, e := range a.Evidence {
		if e.Kind == "indicator-match" && len(e.Sightings) == 0 {
			t.Errorf("evidence without sightings: %+v", e)
		}
	}
}

func TestManyIndicatorsFromOneReportAreNotManyProofs(t *testing.T) {
	g := newGraph()
	var s []match.Sighting
	at := time.Date(2013, 2, 4, 3, 0, 0, 0, time.UTC)
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("ind-%d", i)
		v := fmt.Sprintf("c2-%d.example", i)
		g.add(id, intel.Domain, v, "one-report", "apt1")
		s = append(s, sightingsAt(id, v, []time.Time{at})...)
	}
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	if a.Top.Score > 1.0 {
		t.Errorf("50 indicators of one source scored %.2f; one source counts at most 1", a.Top.Score)
	}
	if a.Estimate != attribute.NotEnoughEvidence {
		t.Errorf("one source only: estimate %q, want %q", a.Estimate, attribute.NotEnoughEvidence)
	}
}

func TestDecoysStayAtEvenChanceOrBelow(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	tests := map[string]func(g *fakeGraph) []match.Sighting{
		"shared IP": func(g *fakeGraph) []match.Sighting {
			g.add("ip", intel.IPv4, "203.0.113.7", "feed", "apt1", "apt28")
			return sightingsAt("ip", "203.0.113.7", officeTimes(rng, 30, 8))
		},
		"warninglisted": func(g *fakeGraph) []match.Sighting {
			g.add("dns", intel.IPv4, "8.8.8.8", "feed", "apt1")
			s := sightingsAt("dns", "8.8.8.8", officeTimes(rng, 30, 8))
			for i := range s {
				s[i].Suppressed, s[i].Warninglist = true, "List of known IPv4 public DNS resolvers"
			}
			return s
		},
		"unknown beaconing": func(g *fakeGraph) []match.Sighting { return nil },
	}
	for name, build := range tests {
		t.Run(name, func(t *testing.T) {
			g := newGraph()
			s := build(g)
			a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
			if a.Top != nil && a.Top.Likelihood > 0.55 && a.Estimate != attribute.NotEnoughEvidence {
				t.Errorf("decoy named %s at %.2f (%s)", a.Top.Name, a.Top.Likelihood, a.Estimate)
			}
		})
	}
}

func TestTimezoneAgainstActorCountry(t *testing.T) {
	g := newGraph()
	rng := rand.New(rand.NewSource(5))
	g.add("a", intel.Domain, "x.example", "s1", "apt28")
	g.add("b", intel.MD5, "00112233445566778899aabbccddeeff", "s2", "apt28")
	s := append(sightingsAt("a", "x.example", officeTimes(rng, 40, 8)), sightingsAt("b", "00112233445566778899aabbccddeeff", officeTimes(rng, 2, 8))...)
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	found := false
	for _, e := range a.Evidence {
		if e.Kind == "operator-timezone" && e.Supports == "apt28" && e.Against {
			found = true
		}
	}
	if !found {
		t.Errorf("UTC+8 operators did not count against a Russian actor: %+v", a.Evidence)
	}
}
