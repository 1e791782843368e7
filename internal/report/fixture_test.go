package report_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/pattern"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// stixObservables extracts simple observables as the CLI wires the STIX
// reader, so that imported indicators carry them.
func stixObservables(p string) ([]intel.Observable, bool, error) {
	pat, err := pattern.Parse(p)
	if err != nil {
		return nil, false, err
	}
	obs, ok := pat.Observables()
	return obs, ok, nil
}

// importSTIX reads a STIX bundle into objects by id.
func importSTIX(t testing.TB, path string) map[string]*intel.Object {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var col intel.Collector
	if _, err := (stix.Importer{Observables: stixObservables}).Import(context.Background(), f, filepath.Base(path), intel.DefaultOptions(), &col); err != nil {
		t.Fatal(err)
	}
	m := map[string]*intel.Object{}
	for _, o := range col.Objects {
		m[o.ID] = o
	}
	return m
}

// Ids of objects in testdata/apt1.json.
const (
	apt1ID       = "intrusion-set--da1065ce-972c-4605-8755-9cd1074e3b5a"
	indHugesoft  = "indicator--3f3ff9f1-bb4e-4392-89e5-1991179042ba"
	indArrow     = "indicator--8390fd29-24ed-45d4-84d7-c5e5feaf195d"
	indShanghai  = "indicator--da1d061b-2bc9-467a-b16f-8d14f468e1f0" // 58.246.0.0/15
	indMD5       = "indicator--8d12f44f-8ac0-4b12-8b4a-3699ca8c9691"
	md5Value     = "001dd76872d80801692ff942308c64e6"
	apt3Name     = "APT3"
	fixtureStart = "2013-02-04T00:00:00Z" // a Monday
)

// zeekIndicator is an indicator as the Zeek intel reader makes it: no STIX
// behind it.
func zeekIndicator(value string) *intel.Object {
	return &intel.Object{ID: intel.DeriveID(intel.TypeIndicator, "zeek-intel", value), Type: intel.TypeIndicator, Name: value,
		Confidence: -1, Created: time.Date(2013, 2, 19, 0, 0, 0, 0, time.UTC), Modified: time.Date(2013, 2, 19, 0, 0, 0, 0, time.UTC),
		Indicator: &intel.IndicatorSpec{PatternType: "zeek-intel", Pattern: value, Observables: []intel.Observable{{Type: intel.Domain, Value: value}}}}
}

// apt1Data builds a realistic report: a campaign of APT1 indicators (from
// the OASIS APT1 bundle and the report's appendix D) seen in made-up
// telemetry of a defence contractor during Shanghai office hours, and a
// small campaign that cannot be attributed.
func apt1Data(t testing.TB) *report.Data {
	t.Helper()
	objs := importSTIX(t, filepath.Join("testdata", "apt1.json"))
	start, _ := time.Parse(time.RFC3339, fixtureStart)
	advan, aol := zeekIndicator("advanbusiness.com"), zeekIndicator("aoldaily.com")
	inds := map[string]*intel.Object{advan.ID: advan, aol.ID: aol}
	for _, id := range []string{indHugesoft, indArrow, indShanghai, indMD5} {
		if objs[id] == nil {
			t.Fatalf("testdata/apt1.json lacks %s", id)
		}
		inds[id] = objs[id]
	}
	apt3 := &intel.Object{ID: intel.DeriveID(intel.TypeIntrusionSet, apt3Name), Type: intel.TypeIntrusionSet, Name: apt3Name,
		Aliases: []string{"Gothic Panda", "UPS Team"}, Confidence: -1, ExternalRefs: []intel.ExternalRef{{SourceName: "mitre-attack", ExternalID: "G0022"}}}
	actors := map[string]*intel.Object{apt1ID: objs[apt1ID], apt3.ID: apt3}

	assets, err := correlate.ParseAssets(strings.NewReader("cidr,organisation,sector,country\n10.1.0.0/16,Example Aerospace,defence,US\n10.2.0.0/16,Example Energy,energy,GB\n"), "assets.csv")
	if err != nil {
		t.Fatal(err)
	}
	var sightings []match.Sighting
	line := map[string]int64{}
	add := func(s match.Sighting) int {
		line[s.File] += 7
		s.Line = line[s.File]
		s.Snapshot = "snap-1"
		sightings = append(sightings, s)
		return len(sightings) - 1
	}
	victims := []netip.Addr{netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.1.1.11"), netip.MustParseAddr("10.1.2.20")}
	c2 := []netip.Addr{netip.MustParseAddr("58.247.12.4"), netip.MustParseAddr("58.246.200.17")}
	var camp1 []int
	// Four weeks of weekday activity between 01:00 and 09:00 UTC
	// (09:00-17:00 in Shanghai), plus a few weekend and night records.
	for day := 0; day < 28; day++ {
		for k := 0; k < 3; k++ {
			hour := []int{0, 1, 2, 3, 5, 6, 7, 8, 9}[(day*5+k*3)%9]
			if wd := (day % 7); wd >= 5 && k > 0 {
				continue
			}
			tm := start.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour + time.Duration(k*7+day%11)*time.Minute)
			v := victims[(day+k)%3]
			switch k {
			case 0:
				camp1 = append(camp1, add(match.Sighting{IndicatorID: indHugesoft, Type: intel.Domain, Indicator: "hugesoft.org", Field: "dns.query",
					Value: fmt.Sprintf("mail%d.hugesoft.org", day%3), Time: tm, Kind: telemetry.KindDNS, File: "dns.log", SrcIP: v, DstIP: netip.MustParseAddr("10.1.0.53"), SrcPort: 53000, DstPort: 53}))
			case 1:
				camp1 = append(camp1, add(match.Sighting{IndicatorID: indShanghai, Type: intel.CIDR, Indicator: "58.246.0.0/15", Field: "conn.dst_ip", Direction: "dst",
					Value: c2[day%2].String(), Time: tm, Kind: telemetry.KindConn, File: "conn.log", SrcIP: v, DstIP: c2[day%2], SrcPort: 49152, DstPort: 443}))
			case 2:
				ind, val := advan.ID, "advanbusiness.com"
				if day%4 == 0 {
					ind, val = indArrow, "arrowservice.net"
				}
				camp1 = append(camp1, add(match.Sighting{IndicatorID: ind, Type: intel.Domain, Indicator: val, Field: "tls.sni",
					Value: "www." + val, Time: tm, Kind: telemetry.KindTLS, File: "ssl.log", SrcIP: v, DstIP: c2[1], SrcPort: 49200, DstPort: 443}))
			}
		}
	}
	camp1 = append(camp1, add(match.Sighting{IndicatorID: indMD5, Type: intel.MD5, Indicator: md5Value, Field: "files.md5", Value: md5Value,
		Time: start.Add(30 * time.Hour), Kind: telemetry.KindFile, File: "files.log", SrcIP: c2[0], DstIP: victims[0], SrcPort: 80, DstPort: 49300}))
	// A second, small campaign: one energy host resolving aoldaily.com.
	var camp2 []int
	energy := netip.MustParseAddr("10.2.0.7")
	usC2 := netip.MustParseAddr("198.51.100.23")
	for i := 0; i < 4; i++ {
		tm := start.Add(time.Duration(40+i*26) * time.Hour)
		camp2 = append(camp2, add(match.Sighting{IndicatorID: aol.ID, Type: intel.Domain, Indicator: "aoldaily.com", Field: "dns.query", Value: "aoldaily.com",
			Time: tm, Kind: telemetry.KindDNS, File: "dns.log", SrcIP: energy, DstIP: netip.MustParseAddr("10.2.0.53"), DstPort: 53}))
	}
	// A warninglisted sighting outside any campaign.
	add(match.Sighting{IndicatorID: indArrow, Type: intel.Domain, Indicator: "arrowservice.net", Field: "dns.query", Value: "arrowservice.net",
		Suppressed: true, Warninglist: "example-sinkholes", Time: start.Add(50 * time.Hour), Kind: telemetry.KindDNS, File: "dns.log",
		SrcIP: netip.MustParseAddr("10.1.9.9"), DstIP: netip.MustParseAddr("10.1.0.53"), DstPort: 53})

	span := func(idx []int) (time.Time, time.Time) {
		a, b := sightings[idx[0]].Time, sightings[idx[0]].Time
		for _, i := range idx {
			a, b = minTime(a, sightings[i].Time), maxTime(b, sightings[i].Time)
		}
		return a, b
	}
	victimSpan := func(idx []int, v netip.Addr) (time.Time, time.Time, []int) {
		var mine []int
		for _, i := range idx {
			if sightings[i].SrcIP == v || sightings[i].DstIP == v {
				mine = append(mine, i)
			}
		}
		a, b := span(mine)
		return a, b, mine
	}
	f1, l1 := span(camp1)
	c1 := &correlate.Campaign{ID: "c-7f3a9e", FirstSeen: f1, LastSeen: l1, Sightings: camp1, Indicators: []string{advan.ID, indArrow, indHugesoft, indMD5, indShanghai}, Actors: []string{apt1ID}}
	for i, v := range victims {
		a, b, mine := victimSpan(camp1, v)
		as, _ := assets.Lookup(v)
		c1.Victims = append(c1.Victims, correlate.Victim{Addr: v, Organisation: as.Organisation, Sector: as.Sector, Country: as.Country, FirstSeen: a, LastSeen: b})
		c1.Incidents = append(c1.Incidents, &correlate.Incident{ID: fmt.Sprintf("i-%d", i+1), Victim: v, FirstSeen: a, LastSeen: b, Sightings: mine})
	}
	c1.Links = []correlate.Link{{A: "i-1", B: "i-2", Reason: "shared infrastructure", Value: "58.247.12.4"}, {A: "i-1", B: "i-3", Reason: "same actor", Value: apt1ID}}
	infra := func(value, kind, role, cc, name string, asn uint32, org string, inds []string, vs []netip.Addr) *correlate.Infra {
		in := &correlate.Infra{Value: value, Kind: kind, Role: role, Country: cc, CountryName: name, ASN: asn, ASOrg: org, IndicatorIDs: inds, Victims: vs, RoleReason: "contacted by the victim"}
		for _, i := range camp1 {
			if sightings[i].Value == value {
				in.Sightings++
				if in.FirstSeen.IsZero() || sightings[i].Time.Before(in.FirstSeen) {
					in.FirstSeen = sightings[i].Time
				}
				in.LastSeen = maxTime(in.LastSeen, sightings[i].Time)
			}
		}
		return in
	}
	c1.Infrastructure = []*correlate.Infra{
		infra(c2[0].String(), "ip", correlate.RoleC2, "CN", "China", 17621, "China Unicom Shanghai network", []string{indShanghai}, victims),
		infra(c2[1].String(), "ip", correlate.RoleC2, "CN", "China", 17621, "China Unicom Shanghai network", []string{indShanghai}, victims[:2]),
		infra("mail0.hugesoft.org", "domain", correlate.RoleC2, "", "", 0, "", []string{indHugesoft}, victims),
		infra("www.advanbusiness.com", "domain", correlate.RoleC2, "", "", 0, "", []string{advan.ID}, victims),
		infra(md5Value, "hash", correlate.RoleDelivery, "", "", 0, "", []string{indMD5}, victims[:1]),
	}
	f2, l2 := span(camp2)
	c2c := &correlate.Campaign{ID: "c-19b2d0", FirstSeen: f2, LastSeen: l2, Sightings: camp2, Indicators: []string{aol.ID},
		Victims:        []correlate.Victim{{Addr: energy, Organisation: "Example Energy", Sector: "energy", Country: "GB", FirstSeen: f2, LastSeen: l2}},
		Incidents:      []*correlate.Incident{{ID: "i-4", Victim: energy, FirstSeen: f2, LastSeen: l2, Sightings: camp2}},
		Infrastructure: []*correlate.Infra{{Value: "aoldaily.com", Kind: "domain", Role: correlate.RoleC2, IndicatorIDs: []string{aol.ID}, Sightings: 4, Victims: []netip.Addr{energy}, FirstSeen: f2, LastSeen: l2}, {Value: usC2.String(), Kind: "ip", Role: correlate.RoleC2, Country: "US", CountryName: "United States", ASN: 64500, ASOrg: "Example Hosting", Victims: []netip.Addr{energy}, FirstSeen: f2, LastSeen: l2}},
	}

	ref := func(i int) attribute.SightingRef {
		s := sightings[i]
		return attribute.SightingRef{File: s.File, Line: s.Line, Field: s.Field, Value: s.Value, Time: s.Time}
	}
	refsOf := func(ind string, n int) []attribute.SightingRef {
		var out []attribute.SightingRef
		for _, i := range camp1 {
			if sightings[i].IndicatorID == ind {
				out = append(out, ref(i))
			}
		}
		if len(out) > n {
			out = out[:n]
		}
		return out
	}
	var human []time.Time
	for _, i := range camp1 {
		human = append(human, sightings[i].Time)
	}
	tz := attribute.InferTimeZone(human)
	var opCountries []string
	for _, cc := range []string{"CN", "HK", "JP", "KP", "KR", "MY", "PH", "SG", "TW", "RU", "IN", "IR"} {
		for _, off := range attribute.CountryOffsets(cc) {
			if off-tz.Best.Hours <= 1 && tz.Best.Hours-off <= 1 {
				opCountries = append(opCountries, cc)
				break
			}
		}
	}
	apt1 := attribute.Hypothesis{ID: apt1ID, Name: "APT1", AttackID: "G0006", Aliases: []string{"Comment Crew", "Comment Panda", "PLA Unit 61398"}, Country: "CN", Score: 1.62, Likelihood: 0.78, Independent: 3}
	a1 := &attribute.Assessment{CampaignID: c1.ID,
		Hypotheses: []attribute.Hypothesis{apt1,
			{ID: attribute.Coincidence, Name: "coincidence on shared infrastructure", Score: 0.55, Likelihood: 0.12, Independent: 1},
			{ID: attribute.UnknownActor, Name: "an actor not in the intelligence", Score: 0.6, Likelihood: 0.07},
			{ID: apt3.ID, Name: apt3Name, AttackID: "G0022", Aliases: apt3.Aliases, Country: "CN", Score: 0.15, Likelihood: 0.03, Independent: 1}},
		Estimate: "likely", Confidence: "moderate", TimeZone: tz, OperatorCountries: opCountries, InfraCountries: map[string]int{"CN": 2},
		Evidence: []attribute.Evidence{
			{Kind: "indicator", Supports: apt1ID, Weight: 0.51, Detail: "domain hugesoft.org (FQDN hugesoft.org) seen 28 times; indicates APT1", Source: "apt1.json", Reliability: "B", Sightings: refsOf(indHugesoft, 3)},
			{Kind: "indicator", Supports: apt1ID, Weight: 0.3, Detail: "network 58.246.0.0/15 (HTRAN Hop Point Accessor); indicates APT1", Source: "apt1.json", Reliability: "B", Sightings: refsOf(indShanghai, 8)},
			{Kind: "indicator", Supports: apt1ID, Weight: 0.58, Detail: "MD5 " + md5Value + "; indicates APT1", Source: "apt1.json", Reliability: "B", Sightings: refsOf(indMD5, 1)},
			{Kind: "indicator", Supports: apt1ID, Weight: 0.45, Detail: "domain advanbusiness.com (Mandiant APT1 appendix D)", Source: "apt1-fqdn.dat", Sightings: refsOf(advan.ID, 2)},
			{Kind: "timezone", Supports: apt1ID, Weight: 0.31, Detail: fmt.Sprintf("working hours fit %s, the offset of CN", attribute.FormatOffset(tz.Best.Hours)), Source: "time-zone analysis"},
			{Kind: "geography", Supports: apt1ID, Weight: 0.15, Detail: "C2 in CN, where APT1's known infrastructure is", Source: "geolocation"},
			{Kind: "shared", Supports: attribute.Coincidence, Weight: 0.2, Detail: "arrowservice.net is also on a sinkhole warninglist", Source: "example-sinkholes", Sightings: refsOf(indArrow, 2)},
			{Kind: "technique", Supports: apt3.ID, Weight: 0.1, Detail: "T1071 Application Layer Protocol, used by APT3", Source: "enterprise-attack"},
		},
		Reasons: []string{"confidence moderate: 3 independent line(s), 4 kind(s) of evidence, mean source reliability 0.78, 1 counter-indication(s)"},
	}
	a1.Top = &a1.Hypotheses[0]
	a1.Alternative = &a1.Hypotheses[1]
	a2 := &attribute.Assessment{CampaignID: c2c.ID,
		Hypotheses: []attribute.Hypothesis{{ID: apt1ID, Name: "APT1", AttackID: "G0006", Aliases: apt1.Aliases, Country: "CN", Score: 0.41, Likelihood: 0.46, Independent: 1},
			{ID: attribute.UnknownActor, Name: "an actor not in the intelligence", Score: 0.6, Likelihood: 0.38},
			{ID: attribute.Coincidence, Name: "coincidence on shared infrastructure", Score: 0.2, Likelihood: 0.16}},
		Estimate: attribute.NotEnoughEvidence, Confidence: "low", InfraCountries: map[string]int{"US": 1},
		Evidence: []attribute.Evidence{{Kind: "indicator", Supports: apt1ID, Weight: 0.41, Detail: "domain aoldaily.com (Mandiant APT1 appendix D)", Source: "apt1-fqdn.dat",
			Sightings: []attribute.SightingRef{ref(camp2[0])}}},
		Reasons: []string{"APT1 has 1 independent line(s) of evidence and score 0.41; naming an actor needs at least 2 and 0.50"},
	}
	a2.Top = &a2.Hypotheses[0]
	a2.Alternative = &a2.Hypotheses[1]
	var tz2 []time.Time
	for _, i := range camp2 {
		tz2 = append(tz2, sightings[i].Time)
	}
	a2.TimeZone = attribute.InferTimeZone(tz2)

	profiles, err := report.LoadProfiles(context.Background(), objectReader(objs), map[string][]string{apt1ID: {apt1ID}})
	if err != nil {
		t.Fatal(err)
	}
	doc := report.Build(report.Input{
		Profiles:    profiles,
		Summary:     report.Summary{Events: 1_284_113, Bytes: 412_000_000, Sightings: len(sightings), Suppressed: 1},
		Campaigns:   []*correlate.Campaign{c1, c2c},
		Assessments: map[string]*attribute.Assessment{c1.ID: a1, c2c.ID: a2},
		Sightings:   sightings, Assets: assets, Config: attribute.DefaultConfig(),
		Generated: time.Date(2013, 3, 8, 12, 0, 0, 0, time.UTC), Tool: "whodunit test",
	})
	return &report.Data{Doc: doc, Sightings: sightings, Indicators: inds, Actors: actors, Org: "Example Aerospace SOC", TLP: "amber",
		CampaignSightings: map[string][]int{c1.ID: camp1, c2c.ID: camp2}}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// objectReader serves imported objects as a store would.
type objectReader map[string]*intel.Object

func (r objectReader) Object(_ context.Context, id string) (*intel.Object, error) { return r[id], nil }

func (r objectReader) Relationships(_ context.Context, id string) ([]*intel.Object, error) {
	var out []*intel.Object
	for _, o := range r {
		if rs := o.Relationship; rs != nil && (rs.SourceRef == id || rs.TargetRef == id) {
			out = append(out, o)
		}
	}
	return out, nil
}
