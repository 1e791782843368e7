package attribute_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// recordOf is what a report carries of a, through JSON as a report
// carries it.
func recordOf(t *testing.T, a *attribute.Assessment) attribute.Record {
	t.Helper()
	r := attribute.Record{CampaignID: a.CampaignID, Hypotheses: a.Hypotheses, HumanTimes: a.HumanTimes, InfraCountries: a.InfraCountries}
	b, err := json.Marshal(a.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r.Evidence); err != nil {
		t.Fatal(err)
	}
	return r
}

// recomputeScenarios are assessments that exercise every kind of item
// Recompute reweighs.
func recomputeScenarios() map[string]func(g *fakeGraph, rng *rand.Rand) []match.Sighting {
	return map[string]func(g *fakeGraph, rng *rand.Rand) []match.Sighting{
		"clean": func(g *fakeGraph, rng *rand.Rand) []match.Sighting {
			var s []match.Sighting
			for i := 0; i < 4; i++ {
				id, v := fmt.Sprintf("ind-%d", i), fmt.Sprintf("c2-%d.example", i)
				g.add(id, intel.Domain, v, fmt.Sprintf("feed-%d", i%2), "apt1")
				s = append(s, sightingsAt(id, v, officeTimes(rng, 15, 8))...)
			}
			return s
		},
		"shared and warninglisted": func(g *fakeGraph, rng *rand.Rand) []match.Sighting {
			g.add("ip", intel.IPv4, "203.0.113.7", "feed", "apt1", "apt28")
			g.add("dns", intel.IPv4, "8.8.8.8", "feed", "apt1")
			s := sightingsAt("dns", "8.8.8.8", officeTimes(rng, 10, 3))
			for i := range s {
				s[i].Suppressed, s[i].Warninglist = true, "public DNS resolvers"
			}
			return append(s, sightingsAt("ip", "203.0.113.7", officeTimes(rng, 30, 3))...)
		},
		"time zone against": func(g *fakeGraph, rng *rand.Rand) []match.Sighting {
			g.add("a", intel.Domain, "x.example", "s1", "apt28")
			g.add("b", intel.MD5, "00112233445566778899aabbccddeeff", "s2", "apt28")
			return append(sightingsAt("a", "x.example", officeTimes(rng, 40, 8)), sightingsAt("b", "00112233445566778899aabbccddeeff", officeTimes(rng, 2, 8))...)
		},
	}
}

// TestRecomputeGivesTheSameAssessment redoes assessments from what a
// report carries and gets every figure back.
func TestRecomputeGivesTheSameAssessment(t *testing.T) {
	for name, build := range recomputeScenarios() {
		t.Run(name, func(t *testing.T) {
			g := newGraph()
			s := build(g, rand.New(rand.NewSource(7)))
			a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
			r, err := attribute.Recompute(attribute.MethodologyVersion, recordOf(t, a), attribute.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			opts := cmp.Options{cmpopts.IgnoreUnexported(attribute.Offset{}), cmpopts.EquateEmpty()}
			if d := cmp.Diff(a, r, opts); d != "" {
				t.Errorf("recomputed assessment differs (-assessed +recomputed):\n%s", d)
			}
		})
	}
}

// TestRecomputeSeesAChangedFactor: an edited factor or weight gives
// another weight, and the methodology version is enforced.
func TestRecomputeSeesAChangedFactor(t *testing.T) {
	g := newGraph()
	s := recomputeScenarios()["clean"](g, rand.New(rand.NewSource(7)))
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	rec := recordOf(t, a)
	want := rec.Evidence[0].Weight
	rec.Evidence[0].Weight = 0.99
	rec.Evidence[0].Factors.Confidence /= 2
	r, err := attribute.Recompute(attribute.MethodologyVersion, rec, attribute.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.Evidence {
		if e.Detail == rec.Evidence[0].Detail && (e.Weight == want || e.Weight == 0.99) {
			t.Errorf("weight after halving the confidence = %v (was %v)", e.Weight, want)
		}
	}
	rec.Evidence[0].Factors = nil
	if _, err := attribute.Recompute(attribute.MethodologyVersion, rec, attribute.DefaultConfig()); !errors.Is(err, attribute.ErrNoFactors) {
		t.Errorf("no factors: err = %v", err)
	}
	if _, err := attribute.Recompute("whodunit-attribution/0", rec, attribute.DefaultConfig()); !errors.Is(err, attribute.ErrUnsupportedMethodology) {
		t.Errorf("old version: err = %v", err)
	}
}

// TestDiagnosticitySeparates: an item naming one actor separates the
// hypotheses and favours that actor; every item has a value in [0, 1].
func TestDiagnosticitySeparates(t *testing.T) {
	g := newGraph()
	s := recomputeScenarios()["clean"](g, rand.New(rand.NewSource(7)))
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	if len(a.Diagnosticity) != len(a.Evidence) {
		t.Fatalf("%d diagnosticities for %d items", len(a.Diagnosticity), len(a.Evidence))
	}
	for _, d := range a.Diagnosticity {
		e := a.Evidence[d.Evidence]
		if d.Value < 0 || d.Value > 1 {
			t.Errorf("item %d: diagnosticity %v", d.Evidence, d.Value)
		}
		if e.Kind == "indicator-match" && e.Supports == "apt1" && (d.Value <= 0.01 || d.Favours != "apt1") {
			t.Errorf("APT1 indicator item %q: diagnosticity %v favouring %q", e.Detail, d.Value, d.Favours)
		}
	}
}
