package correlate_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

var t0 = time.Date(2013, 2, 4, 1, 0, 0, 0, time.UTC)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func dnsSighting(ind, victim, domain string, at time.Time) match.Sighting {
	return match.Sighting{IndicatorID: ind, Type: intel.Domain, Indicator: domain, Field: "dns.query", Value: domain,
		Time: at, Kind: telemetry.KindDNS, SrcIP: ip(victim), DstIP: ip("10.0.0.53"), File: "dns.log", Line: 7}
}

func TestSharedInfrastructureJoinsVictims(t *testing.T) {
	in := correlate.Input{Sightings: []match.Sighting{
		dnsSighting("i1", "10.1.1.5", "evil.example", t0),
		dnsSighting("i1", "10.1.1.6", "evil.example", t0.Add(time.Hour)),
		dnsSighting("i2", "10.9.9.9", "other.example", t0.Add(2*time.Hour)),
	}}
	cs := correlate.Correlate(in, correlate.DefaultConfig())
	if len(cs) != 2 {
		t.Fatalf("%d campaigns, want 2: %v", len(cs), cs)
	}
	big := cs[0]
	var victims []string
	for _, v := range big.Victims {
		victims = append(victims, v.Addr.String())
	}
	if diff := cmp.Diff([]string{"10.1.1.5", "10.1.1.6"}, victims); diff != "" {
		t.Errorf("victims (-want +got):\n%s", diff)
	}
	if len(big.Links) != 1 || big.Links[0].Reason != "shared infrastructure" || big.Links[0].Value != "evil.example" {
		t.Errorf("links = %+v", big.Links)
	}
	if big.Infrastructure[0].Role != correlate.RoleC2 || big.Infrastructure[0].Kind != "domain" {
		t.Errorf("infra = %+v", big.Infrastructure[0])
	}
}

func TestSameActorJoinsAndSuppressedDoesNot(t *testing.T) {
	s := []match.Sighting{
		dnsSighting("i1", "10.1.1.5", "a.example", t0),
		dnsSighting("i2", "10.1.1.6", "b.example", t0),
		dnsSighting("i3", "10.1.1.7", "dns.google", t0),
		dnsSighting("i3", "10.1.1.8", "dns.google", t0),
	}
	s[2].Suppressed, s[3].Suppressed = true, true
	s = append(s, dnsSighting("i4", "10.1.1.9", "shared.example", t0))
	in := correlate.Input{Sightings: s, ActorsOf: func(id string) []string {
		switch id {
		case "i1", "i2":
			return []string{"intrusion-set--apt1"}
		case "i4":
			return []string{"intrusion-set--apt1", "intrusion-set--apt28"}
		}
		return []string{"intrusion-set--other"}
	}}
	cs := correlate.Correlate(in, correlate.DefaultConfig())
	// i1 and i2 join by actor; the two warninglisted sightings join nothing;
	// an indicator claimed by two actors joins nothing either.
	if len(cs) != 4 {
		t.Fatalf("%d campaigns, want 3", len(cs))
	}
	if len(cs[0].Victims) != 2 || cs[0].Links[0].Reason != "same actor" {
		t.Errorf("first campaign %v links %+v", cs[0], cs[0].Links)
	}
	if diff := cmp.Diff([]string{"intrusion-set--apt1"}, cs[0].Actors); diff != "" {
		t.Errorf("actors (-want +got):\n%s", diff)
	}
}

func TestIncidentGapSplits(t *testing.T) {
	in := correlate.Input{Sightings: []match.Sighting{
		dnsSighting("i1", "10.1.1.5", "evil.example", t0),
		dnsSighting("i1", "10.1.1.5", "evil.example", t0.Add(30*24*time.Hour)),
	}}
	cs := correlate.Correlate(in, correlate.DefaultConfig())
	if len(cs) != 1 || len(cs[0].Incidents) != 2 {
		t.Fatalf("want one campaign of two incidents, got %v", cs)
	}
	if cs[0].Victims[0].Dwell() != 30*24*time.Hour {
		t.Errorf("dwell %v", cs[0].Victims[0].Dwell())
	}
}

func TestDirectionAndRoles(t *testing.T) {
	inbound := match.Sighting{IndicatorID: "hop", Type: intel.IPv4, Value: "223.166.1.1", Field: "conn.src_ip", Direction: "src",
		SrcIP: ip("223.166.1.1"), DstIP: ip("10.1.1.5"), Time: t0, Kind: telemetry.KindConn}
	file := match.Sighting{IndicatorID: "md5", Type: intel.MD5, Value: "001dd76872d80801692ff942308c64e6", Field: "files.md5",
		SrcIP: ip("198.51.100.4"), DstIP: ip("10.1.1.5"), Time: t0, Kind: telemetry.KindFile}
	tls := match.Sighting{IndicatorID: "sni", Type: intel.Domain, Value: "c2.example", Field: "tls.sni",
		SrcIP: ip("10.1.1.5"), DstIP: ip("198.51.100.9"), Time: t0, Kind: telemetry.KindTLS}
	inds := map[string]*intel.Object{"hop": {ID: "hop", Name: "HTRAN Hop Point Accessor"}}
	cs := correlate.Correlate(correlate.Input{Sightings: []match.Sighting{inbound, file, tls}, Indicators: inds}, correlate.DefaultConfig())
	if len(cs) != 1 {
		t.Fatalf("%d campaigns: one victim's activity must be one campaign", len(cs))
	}
	roles := map[string]string{}
	for _, i := range cs[0].Infrastructure {
		roles[i.Value] = i.Role
	}
	want := map[string]string{"223.166.1.1": "hop-point", "001dd76872d80801692ff942308c64e6": "delivery", "c2.example": "c2", "198.51.100.9": "c2", "198.51.100.4": "delivery"}
	if diff := cmp.Diff(want, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if v := cs[0].Victims; len(v) != 1 || v[0].Addr != ip("10.1.1.5") {
		t.Errorf("victims %v", v)
	}
}

func TestDetectionsJoinOnDestination(t *testing.T) {
	d := behavior.Detection{ID: "b1", Analytic: behavior.Beacon, Src: ip("10.1.1.9"), Dst: ip("198.51.100.9"), Score: 0.95,
		FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	low := d
	low.ID, low.Src, low.Score = "b2", ip("10.1.1.10"), 0.2
	tls := match.Sighting{IndicatorID: "sni", Type: intel.Domain, Value: "c2.example", Field: "tls.sni",
		SrcIP: ip("10.1.1.5"), DstIP: ip("198.51.100.9"), Time: t0, Kind: telemetry.KindTLS}
	cs := correlate.Correlate(correlate.Input{Sightings: []match.Sighting{tls}, Detections: []behavior.Detection{d, low}}, correlate.DefaultConfig())
	if len(cs) != 1 || len(cs[0].Victims) != 2 || len(cs[0].Detections) != 1 {
		t.Fatalf("campaigns %v", cs)
	}
}

func TestAssets(t *testing.T) {
	a, err := correlate.ParseAssets(strings.NewReader("cidr,organisation,sector,country\n10.1.0.0/16,Acme Energy,energy,US\n# comment\n203.0.113.0/24,Acme Labs,defense,GB\n"), "assets.csv")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := a.Lookup(ip("10.1.2.3")); !ok || got.Sector != "energy" || got.Country != "US" {
		t.Errorf("lookup = %+v %v", got, ok)
	}
	cfg := correlate.DefaultConfig()
	if !cfg.IsInternal(ip("203.0.113.5"), a) || cfg.IsInternal(ip("198.51.100.1"), a) {
		t.Error("asset ranges are internal, others are not")
	}
	for _, bad := range []string{"cidr\nnot-a-cidr\n", "10.0.0.0/8,x,y,USA\n"} {
		if _, err := correlate.ParseAssets(strings.NewReader(bad), "bad.csv"); err == nil || !strings.Contains(err.Error(), "bad.csv:") {
			t.Errorf("%q: err = %v, want file:line", bad, err)
		}
	}
}

func FuzzParseAssets(f *testing.F) {
	f.Add("cidr,organisation,sector,country\n10.1.0.0/16,Acme,energy,US\n")
	f.Add("10.0.0.1,a,b,CN\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = correlate.ParseAssets(strings.NewReader(s), "f.csv")
	})
}

// TestDetectionSpansAndSuspectedRole: an incident lasts to the end of its
// detections' series; a destination only behaviour points at is a
// suspected C2, and an indicator's sighting of it makes it C2.
func TestDetectionSpansAndSuspectedRole(t *testing.T) {
	d := behavior.Detection{ID: "b1", Analytic: behavior.Beacon, Src: ip("10.1.1.9"), Dst: ip("198.51.100.9"), Score: 0.95,
		FirstSeen: t0, LastSeen: t0.Add(21 * time.Minute)}
	cs := correlate.Correlate(correlate.Input{Detections: []behavior.Detection{d}}, correlate.DefaultConfig())
	if len(cs) != 1 {
		t.Fatalf("campaigns %v", cs)
	}
	c := cs[0]
	if c.Victims[0].Dwell() != 21*time.Minute || c.Incidents[0].LastSeen != d.LastSeen || c.LastSeen != d.LastSeen {
		t.Errorf("dwell %v, incident %s – %s, campaign %s", c.Victims[0].Dwell(), c.Incidents[0].FirstSeen, c.Incidents[0].LastSeen, c)
	}
	if i := c.Infrastructure[0]; i.Role != correlate.RoleSuspectedC2 || i.RoleReason != "beacon from the victim (behaviour only, no indicator)" {
		t.Errorf("role %q (%s)", i.Role, i.RoleReason)
	}
	ipHit := match.Sighting{IndicatorID: "i1", Type: intel.IPv4, Value: "198.51.100.9", Field: "conn.dst_ip",
		SrcIP: ip("10.1.1.9"), DstIP: ip("198.51.100.9"), Time: t0.Add(time.Hour), Kind: telemetry.KindConn}
	cs = correlate.Correlate(correlate.Input{Sightings: []match.Sighting{ipHit}, Detections: []behavior.Detection{d}}, correlate.DefaultConfig())
	if i := cs[0].Infrastructure[0]; i.Role != correlate.RoleC2 || i.RoleReason != "contacted by the victim" {
		t.Errorf("with an indicator: role %q (%s)", i.Role, i.RoleReason)
	}
}
