package attribute_test

import (
	"math/rand"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

func TestCountryOffsetFollowsDaylightSaving(t *testing.T) {
	jan := time.Date(2018, 1, 15, 12, 0, 0, 0, time.UTC)
	jul := time.Date(2018, 7, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		cc       string
		jan, jul float64
	}{{"RU", 3, 3}, {"CN", 8, 8}, {"US", -5, -4}, {"DE", 1, 2}, {"GB", 0, 1}, {"AU", 11, 10}} {
		a, _ := attribute.CountryOffsetAt(tc.cc, jan)
		b, _ := attribute.CountryOffsetAt(tc.cc, jul)
		if a != tc.jan || b != tc.jul {
			t.Errorf("%s: January %v July %v, want %v %v", tc.cc, a, b, tc.jan, tc.jul)
		}
	}
	if got := attribute.CountryOffsets("US"); len(got) != 1 || got[0] != -5 {
		t.Errorf("US standard offset %v", got)
	}
}

// One fact from two feeds of one origin is one item, counting every sighting.
func TestOneFactOneItemWithTrueCounts(t *testing.T) {
	g := newGraph()
	g.add("stix", intel.Domain, "msnhome.org", "apt1.json", "apt1")
	g.add("zeek", intel.Domain, "msnhome.org", "apt1-fqdn.dat", "apt1")
	g.origin["stix"], g.origin["zeek"] = "report on APT1", "report on APT1"
	rng := rand.New(rand.NewSource(7))
	times := officeTimes(rng, 40, 8)
	var s []match.Sighting
	for _, id := range []string{"stix", "zeek"} {
		for _, sg := range sightingsAt(id, "msnhome.org", times) {
			sg.Indicator = "msnhome.org"
			s = append(s, sg)
		}
	}
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	n := 0
	for _, e := range a.Evidence {
		if e.Supports != "apt1" || e.Kind != "indicator-match" {
			continue
		}
		n++
		if e.Count != len(s) || e.More != len(s)-len(e.Sightings) || e.Hosts != 1 || len(e.Sources) != 2 || len(e.Indicators) != 2 || e.Origin != "report on APT1" {
			t.Errorf("item %+v: want count %d, 1 host, 2 sources and indicators", e, len(s))
		}
	}
	if n != 1 {
		t.Errorf("%d items for one fact", n)
	}
}

func TestAlternativeIsNeverTheLeader(t *testing.T) {
	g := newGraph()
	g.add("ip", intel.IPv4, "185.86.151.2", "feed", "apt1", "apt28")
	s := sightingsAt("ip", "185.86.151.2", []time.Time{time.Date(2018, 3, 24, 3, 0, 0, 0, time.UTC)})
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	if a.Leading == nil || a.Alternative == nil || a.Leading.ID == a.Alternative.ID {
		t.Fatalf("leading %+v alternative %+v", a.Leading, a.Alternative)
	}
	if a.Estimate == attribute.NotEnoughEvidence && a.Leading.ID != a.Hypotheses[0].ID {
		t.Errorf("nothing named, yet the leader is %s, not the most likely %s", a.Leading.ID, a.Hypotheses[0].ID)
	}
}

// Dropping the decisive item must show in the sensitivity.
func TestSensitivityFindsTheDecisiveItem(t *testing.T) {
	g := newGraph()
	rng := rand.New(rand.NewSource(3))
	g.add("d", intel.Domain, "c2.example", "s1", "apt1")
	g.add("h", intel.MD5, "001dd76872d80801692ff942308c64e6", "s2", "apt1")
	s := append(sightingsAt("d", "c2.example", officeTimes(rng, 40, 8)), sightingsAt("h", "001dd76872d80801692ff942308c64e6", officeTimes(rng, 1, 8))...)
	a := attribute.Assess(campaign(s), s, nil, g, attribute.DefaultConfig())
	if a.Estimate == attribute.NotEnoughEvidence {
		t.Fatalf("not named: %v", a.Reasons)
	}
	found := false
	for _, st := range a.Sensitivity {
		if a.Evidence[st.Evidence].Kind == "indicator-match" && st.ChangesWords && st.WithoutWords != a.Estimate {
			found = true
		}
	}
	if !found || len(a.WouldChange) == 0 {
		t.Errorf("sensitivity %+v, would change %v", a.Sensitivity, a.WouldChange)
	}
}
