package report_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

var (
	largeOnce sync.Once
	largeData *report.Data
)

// largeReport is a generated run of 100 campaigns and 10,000 sightings:
// per campaign 3 victims, 4 C2 addresses in various countries, 10
// indicators, 100 sightings and 8 pieces of evidence.
func largeReport() *report.Data {
	largeOnce.Do(func() {
		const campaigns, perCampaign = 100, 100
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		countries := []string{"CN", "US", "RU", "KR", "DE", "NL", "IR", "BR", "IN", "VN", "SG", "KP"}
		var sightings []match.Sighting
		inds := map[string]*intel.Object{}
		var cs []*correlate.Campaign
		as := map[string]*attribute.Assessment{}
		actorA := intel.DeriveID(intel.TypeIntrusionSet, "bench-a")
		actorB := intel.DeriveID(intel.TypeIntrusionSet, "bench-b")
		for c := 0; c < campaigns; c++ {
			camp := &correlate.Campaign{ID: fmt.Sprintf("c-%04d", c)}
			var victims []netip.Addr
			for v := 0; v < 3; v++ {
				victims = append(victims, netip.AddrFrom4([4]byte{10, byte(c), byte(v), 10}))
			}
			var c2 []netip.Addr
			for k := 0; k < 4; k++ {
				c2 = append(c2, netip.AddrFrom4([4]byte{byte(20 + k), byte(c), 7, byte(k + 1)}))
			}
			var indIDs []string
			for k := 0; k < 10; k++ {
				val := fmt.Sprintf("c%d-%d.bench.example", c, k)
				o := zeekIndicator(val)
				inds[o.ID] = o
				indIDs = append(indIDs, o.ID)
			}
			camp.Indicators = indIDs
			var evRefs []attribute.SightingRef
			var human []time.Time
			for s := 0; s < perCampaign; s++ {
				tm := start.Add(time.Duration(c)*24*time.Hour + time.Duration(s)*97*time.Minute)
				k := s % 10
				sg := match.Sighting{IndicatorID: indIDs[k], Type: intel.Domain, Indicator: inds[indIDs[k]].Name, Field: "dns.query",
					Value: inds[indIDs[k]].Name, Time: tm, Kind: telemetry.KindDNS, File: fmt.Sprintf("zeek/%04d/dns.log", c), Line: int64(s*13 + 9),
					SrcIP: victims[s%3], DstIP: c2[s%4], DstPort: 53}
				camp.Sightings = append(camp.Sightings, len(sightings))
				sightings = append(sightings, sg)
				human = append(human, tm)
				if s < 40 {
					evRefs = append(evRefs, attribute.SightingRef{File: sg.File, Line: sg.Line, Field: sg.Field, Value: sg.Value, Time: tm})
				}
			}
			camp.FirstSeen, camp.LastSeen = sightings[camp.Sightings[0]].Time, sightings[camp.Sightings[len(camp.Sightings)-1]].Time
			for v, a := range victims {
				camp.Victims = append(camp.Victims, correlate.Victim{Addr: a, Organisation: "Org " + fmt.Sprint(c%7), Sector: []string{"defence", "energy", "finance", "government"}[(c+v)%4],
					Country: "US", FirstSeen: camp.FirstSeen, LastSeen: camp.LastSeen.Add(-time.Duration(v) * time.Hour)})
				camp.Incidents = append(camp.Incidents, &correlate.Incident{ID: fmt.Sprintf("i-%d-%d", c, v), Victim: a, FirstSeen: camp.FirstSeen, LastSeen: camp.LastSeen})
			}
			for k, a := range c2 {
				cc := countries[(c+k)%len(countries)]
				camp.Infrastructure = append(camp.Infrastructure, &correlate.Infra{Value: a.String(), Kind: "ip", Role: correlate.RoleC2, Country: cc,
					ASN: uint32(64500 + (c+k)%20), ASOrg: "Bench AS " + fmt.Sprint((c+k)%20), Victims: victims, Sightings: 25, FirstSeen: camp.FirstSeen, LastSeen: camp.LastSeen})
			}
			cs = append(cs, camp)
			var ev []attribute.Evidence
			for e := 0; e < 8; e++ {
				ev = append(ev, attribute.Evidence{Kind: "indicator", Supports: actorA, Weight: 0.3, Detail: fmt.Sprintf("domain %s", inds[indIDs[e]].Name),
					Source: "bench.dat", Reliability: "C", Sightings: evRefs[e*5 : e*5+5]})
			}
			hyp := []attribute.Hypothesis{{ID: actorA, Name: "Bench A", Likelihood: 0.7, Score: 1.2, Independent: 2},
				{ID: attribute.Coincidence, Name: "coincidence on shared infrastructure", Likelihood: 0.2},
				{ID: attribute.UnknownActor, Name: "an actor not in the intelligence", Likelihood: 0.07},
				{ID: actorB, Name: "Bench B", Likelihood: 0.03}}
			a := &attribute.Assessment{CampaignID: camp.ID, Hypotheses: hyp, Estimate: "likely", Confidence: "moderate", Evidence: ev,
				TimeZone: attribute.InferTimeZone(human)}
			a.Top = &a.Hypotheses[0]
			as[camp.ID] = a
		}
		doc := report.Build(report.Input{Summary: report.Summary{Events: 50_000_000, Sightings: len(sightings)}, Campaigns: cs, Assessments: as,
			Sightings: sightings, Config: attribute.DefaultConfig(), Generated: start.Add(200 * 24 * time.Hour), Tool: "whodunit bench"})
		cmap := map[string][]int{}
		for _, c := range cs {
			cmap[c.ID] = c.Sightings
		}
		largeData = &report.Data{Doc: doc, Sightings: sightings, Indicators: inds, Org: "Bench SOC", TLP: "green", CampaignSightings: cmap}
	})
	return largeData
}

// countingWriter measures output without keeping it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func benchmarkRender(b *testing.B, format string) {
	d := largeReport()
	b.ReportAllocs()
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		var w countingWriter
		if err := report.Render(format, &w, d); err != nil {
			b.Fatal(err)
		}
		size = w.n
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB")
}

// Reports of 10,000 sightings and 100 campaigns must render in under 5 s.
func BenchmarkRenderHTML(b *testing.B)     { benchmarkRender(b, "html") }
func BenchmarkRenderMarkdown(b *testing.B) { benchmarkRender(b, "md") }
func BenchmarkRenderSTIX(b *testing.B)     { benchmarkRender(b, "stix") }
func BenchmarkRenderCSV(b *testing.B)      { benchmarkRender(b, "csv") }
func BenchmarkRenderJSON(b *testing.B)     { benchmarkRender(b, "json") }

// TestLargeReportSize checks that a large run gives reports of a
// reasonable size, with the sightings appendix summarised and pointing to
// the CSV.
func TestLargeReportSize(t *testing.T) {
	if testing.Short() {
		t.Skip("large report skipped in -short mode")
	}
	d := largeReport()
	for _, tc := range []struct {
		format string
		max    int
	}{{"html", 3 << 20}, {"md", 1 << 20}} {
		var b bytes.Buffer
		if err := report.Render(tc.format, &b, d); err != nil {
			t.Fatal(err)
		}
		if b.Len() > tc.max {
			t.Errorf("%s report of 10,000 sightings is %d bytes, more than %d", tc.format, b.Len(), tc.max)
		}
		s := b.String()
		if (!strings.Contains(s, "of 10000 sightings") && !strings.Contains(s, "of 10\u202f000 sightings")) || !strings.Contains(s, "sightings.csv") {
			t.Errorf("%s: the sightings appendix is not summarised with a pointer to the CSV", tc.format)
		}
		if n := strings.Count(s, "id=\"s-"); tc.format == "html" && n > report.MaxSightingRows+100*8*report.MaxEvidenceRefs {
			t.Errorf("html: %d sighting rows", n)
		}
		t.Logf("%s: %.2f MiB", tc.format, float64(b.Len())/(1<<20))
	}
	if err := report.Render("csv", io.Discard, d); err != nil {
		t.Fatal(err)
	}
}
