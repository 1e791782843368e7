package report_test

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/report"
)

func TestRenderErrors(t *testing.T) {
	d := apt1Data(t)
	if err := report.Render("pdf", &bytes.Buffer{}, d); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: %v", err)
	}
	for _, f := range report.Formats {
		if err := report.Render(f, &bytes.Buffer{}, &report.Data{}); err == nil {
			t.Errorf("%s without a document: no error", f)
		}
		bad := *d
		bad.TLP = "purple"
		if err := report.Render(f, &bytes.Buffer{}, &bad); err == nil || !strings.Contains(err.Error(), "purple") {
			t.Errorf("%s with TLP purple: %v", f, err)
		}
		bad = *d
		bad.CampaignSightings = map[string][]int{"x": {len(d.Sightings)}}
		if err := report.Render(f, &bytes.Buffer{}, &bad); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%s with a bad sighting index: %v", f, err)
		}
	}
}

func TestOnlyCampaign(t *testing.T) {
	d := apt1Data(t)
	id := d.Doc.Campaigns[1].ID
	one, err := d.OnlyCampaign(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Doc.Campaigns) != 1 || one.Doc.Campaigns[0].ID != id || one.Doc.Summary.Campaigns != 1 {
		t.Fatalf("campaigns %+v", one.Doc.Summary)
	}
	if len(one.Sightings) != 4 || len(one.Indicators) != 1 {
		t.Errorf("%d sightings, %d indicators; want the campaign's 4 and 1", len(one.Sightings), len(one.Indicators))
	}
	st := one.Doc.Statistics
	if len(st.C2ByCountry) != 1 || st.C2ByCountry[0].Country != "US" || st.VictimsBySector["energy"] != 1 || st.VictimsBySector["defence"] != 0 {
		t.Errorf("statistics not of the campaign alone: %+v", st)
	}
	if len(d.Doc.Campaigns) != 2 {
		t.Error("OnlyCampaign changed the original")
	}
	if _, err := d.OnlyCampaign("c-nope"); err == nil || !strings.Contains(err.Error(), "c-nope") {
		t.Errorf("unknown campaign: %v", err)
	}
	// Without CampaignSightings, membership is inferred from indicators
	// and victims.
	d.CampaignSightings = nil
	one, err = d.OnlyCampaign(d.Doc.Campaigns[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Sightings) != d.Doc.Campaigns[0].Sightings {
		t.Errorf("inferred %d sightings, want %d", len(one.Sightings), d.Doc.Campaigns[0].Sightings)
	}
}

// hostile is a sighting whose values an adversary chose.
func hostile(d *report.Data) {
	bad := `<script>alert(1)</script>|*[x](javascript:alert(1))` + "\n# heading"
	d.Sightings = append(d.Sightings, match.Sighting{IndicatorID: "indicator--00000000-0000-4000-8000-000000000001", Type: intel.URL,
		Indicator: "=HYPERLINK(\"http://x\")", Field: "http.uri", Value: bad, Time: time.Date(2013, 2, 5, 0, 0, 0, 0, time.UTC),
		File: bad, Line: 1, SrcIP: netip.MustParseAddr("10.1.1.10"), DstIP: netip.MustParseAddr("203.0.113.9")})
	d.Doc.Campaigns[0].Infrastructure = append(d.Doc.Campaigns[0].Infrastructure, report.Infra{Value: bad, Kind: "url", Role: "c2"})
}

// unescaped finds Markdown that would become a tag or a link.
var unescaped = regexp.MustCompile(`(^|[^\\])(<script|\]\()`)

func TestHostileValuesEscaped(t *testing.T) {
	d := apt1Data(t)
	hostile(d)
	var h, m, c bytes.Buffer
	if err := report.RenderHTML(&h, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.String(), "<script") {
		t.Error("HTML carries a script tag from the data")
	}
	if err := report.RenderMarkdown(&m, d); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(m.String(), "\n") {
		if strings.HasPrefix(line, "# heading") || unescaped.MatchString(line) {
			t.Errorf("Markdown not escaped: %q", line)
		}
	}
	if err := report.RenderCSV(&c, d); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		for _, f := range r {
			if strings.HasPrefix(f, "=") {
				t.Errorf("CSV cell %q would run as a spreadsheet formula", f)
			}
		}
	}
	if len(recs) != len(d.Sightings)+1 {
		t.Errorf("%d CSV records, want %d sightings and a header", len(recs), len(d.Sightings))
	}
}

// FuzzRender renders reports whose sighting values are arbitrary: no
// renderer may fail or let markup through.
func FuzzRender(f *testing.F) {
	f.Add("mail.hugesoft.org", "dns.log")
	f.Add("<svg onload=alert(1)>", "a|b")
	f.Add("\x00\xff\ufeff", "`x`")
	base := apt1Data(f)
	f.Fuzz(func(t *testing.T, value, file string) {
		d := *base
		d.Sightings = append([]match.Sighting(nil), base.Sightings...)
		d.Sightings[0].Value, d.Sightings[0].File = value, file
		for _, format := range report.Formats {
			var b bytes.Buffer
			if err := report.Render(format, &b, &d); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if format == "html" && strings.Contains(value, "<") && strings.Contains(b.String(), value) {
				t.Fatalf("html carries %q unescaped", value)
			}
		}
	})
}

func TestRenderEmptyRun(t *testing.T) {
	doc := report.Build(report.Input{Summary: report.Summary{Events: 12}, Generated: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Tool: "whodunit test"})
	d := &report.Data{Doc: doc}
	for _, f := range report.Formats {
		var b bytes.Buffer
		if err := report.Render(f, &b, d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if (f == "html" || f == "md") && !strings.Contains(b.String(), "No campaign was found in 12 events.") {
			t.Errorf("%s of an empty run does not say so", f)
		}
	}
}
