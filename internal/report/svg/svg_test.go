package svg_test

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/report/svg"
)

// wellFormed parses markup as XML and counts elements by name and class.
func wellFormed(t *testing.T, s string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	n := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%.400s", err, s)
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
			for _, a := range se.Attr {
				if a.Name.Local == "class" {
					for _, c := range strings.Fields(a.Value) {
						n["."+c]++
					}
				}
			}
		}
	}
}

func TestBarChart(t *testing.T) {
	s := svg.BarChart("C2 by country", "servers", []svg.Bar{{Label: "China <CN>", Value: 12, Note: "controls 30 hosts"}, {Label: "United States", Value: 3}, {Label: "zero", Value: 0}})
	n := wellFormed(t, s)
	if n[".bar"] != 3 {
		t.Errorf("%d bars, want 3", n[".bar"])
	}
	if !strings.Contains(s, "China &lt;CN&gt;") || strings.Contains(s, "<CN>") {
		t.Error("label not escaped")
	}
	if !strings.Contains(s, "12 · controls 30 hosts") {
		t.Error("value and note missing")
	}
	empty := svg.BarChart("none", "servers", nil)
	if wellFormed(t, empty)[".empty"] != 1 {
		t.Error("empty chart does not say so")
	}
}

func TestHourOfWeek(t *testing.T) {
	var c [168]int
	c[0*24+1] = 5 // Monday 01:00 UTC = 09:00 at UTC+8
	c[2*24+3] = 1
	s := svg.HourOfWeek("activity", c, 8, true, false)
	n := wellFormed(t, s)
	if n[".cell"] != 2 || n[".day"] != 7 {
		t.Errorf("active cells %d, days %d, want 2 and 7", n[".cell"], n[".day"])
	}
	// UTC+8: 08:00-18:00 local is 00:00-10:00 UTC, one run per weekday.
	if n[".office"] != 5 {
		t.Errorf("%d office outlines, want 5", n[".office"])
	}
	if s10 := svg.HourOfWeek("a", c, -5, true, false); wellFormed(t, s10)[".office"] != 5 {
		t.Error("UTC-5: 13:00-23:00 UTC fits in one day; want 5 outlines")
	}
	if s11 := svg.HourOfWeek("a", c, 10, true, false); wellFormed(t, s11)[".office"] != 10 {
		t.Error("UTC+10: 22:00-08:00 UTC crosses midnight; want 10 outlines")
	}
	if !strings.Contains(s, "Mon 01:00 UTC (Mon 09:00 UTC+8): 5") {
		t.Error("tooltip with local time missing")
	}
	if !strings.Contains(s, "UTC+8") {
		t.Error("offset label missing")
	}
	s = svg.HourOfWeek("activity", c, 5.5, true, false)
	if !strings.Contains(s, "UTC+5:30") || !strings.Contains(s, ">05:30<") {
		t.Error("fractional offset not shown")
	}
	s = svg.HourOfWeek("activity", c, 0, false, false)
	if wellFormed(t, s)[".office"] != 0 || strings.Contains(s, "Outlined") {
		t.Error("offset drawn although not enough evidence")
	}
}

func TestHourOfWeekCompact(t *testing.T) {
	var c [168]int
	for i := range c {
		c[i] = i % 13
	}
	s := svg.HourOfWeek("activity", c, 8, true, true)
	n := wellFormed(t, s)
	if n[".cell"] == 0 || n[".cell"] > 6 || n["title"] > 7 {
		t.Errorf("compact heat map: %d cell paths, %d titles; want at most one per shade", n[".cell"], n["title"])
	}
	full := svg.HourOfWeek("activity", c, 8, true, false)
	if len(s)*3 > len(full) {
		t.Errorf("compact heat map is %d bytes, full %d: not much smaller", len(s), len(full))
	}
	if got := strings.Count(s, "h24v18h-24z"); got != 168-13 {
		t.Errorf("%d cells drawn, want %d active", got, 168-13)
	}
}

func TestFormatOffset(t *testing.T) {
	for h, want := range map[float64]string{8: "UTC+8", -5: "UTC−5", 0: "UTC+0", 5.5: "UTC+5:30", -3.5: "UTC−3:30"} {
		if got := svg.FormatOffset(h); got != want {
			t.Errorf("FormatOffset(%v) = %q, want %q", h, got, want)
		}
	}
}

func TestTimeline(t *testing.T) {
	t0 := time.Date(2013, 2, 1, 9, 0, 0, 0, time.UTC)
	var ev []time.Time
	for i := 0; i < 40; i++ {
		ev = append(ev, t0.Add(time.Duration(i)*7*time.Hour))
	}
	lanes := []svg.Lane{
		{Label: "10.0.0.5", Spans: []svg.Span{{From: t0, To: t0.Add(5 * 24 * time.Hour), Class: "incident", Title: "i1"}, {From: t0, To: t0.Add(24 * time.Hour), Class: "detection", Title: "beacon"}}},
		{Label: "10.0.0.6", Spans: []svg.Span{{From: t0.Add(48 * time.Hour), To: t0.Add(72 * time.Hour), Class: "incident"}}},
		{Label: "10.0.0.7"},
	}
	s := svg.TimelineChart(svg.Timeline{Title: "campaign", Events: ev, Detections: []time.Time{t0}, Lanes: lanes, MaxLanes: 2})
	n := wellFormed(t, s)
	if n[".sighting"] == 0 || n[".detection"] < 2 || n[".incident"] != 2 || n[".lane"] != 2 || n[".more"] != 1 {
		t.Errorf("elements %v", n)
	}
	var total int
	for _, seg := range strings.Split(s, "<title>")[1:] {
		var a, b int
		var d string
		if k, _ := fmtSscanf(seg, &d, &a, &b); k == 3 {
			total += a
		}
	}
	if total != 40 {
		t.Errorf("histogram counts %d sightings, want 40", total)
	}
	compact := svg.TimelineChart(svg.Timeline{Title: "campaign", Events: ev, Lanes: lanes, Compact: true})
	if n := wellFormed(t, compact); n[".sighting"] != 1 || n[".bin"] != 0 || len(compact) >= len(s) {
		t.Errorf("compact timeline: %v, %d bytes (full %d)", n, len(compact), len(s))
	}
	if wellFormed(t, svg.TimelineChart(svg.Timeline{Title: "empty"}))[".empty"] != 1 {
		t.Error("empty timeline does not say so")
	}
}

func TestWorldMap(t *testing.T) {
	s := svg.WorldMap("C2", "servers", []svg.CountryCount{{Code: "CN", Count: 10, Note: "controls 40 hosts"}, {Code: "US", Count: 2}, {Code: "SG", Count: 1}, {Code: "", Count: 3}})
	n := wellFormed(t, s)
	if n[".land"] != 1 || n[".hit"] != 2 || n[".marker"] != 2 {
		t.Errorf("elements %v", n)
	}
	if !strings.Contains(s, `href="#wm-CN"`) || !strings.Contains(s, "not on the map: unknown 3, SG 1") {
		t.Errorf("map lacks China or the legend of what is not drawn:\n%.300s", s[strings.Index(s, "legend"):])
	}
	defs := svg.WorldMapDefs()
	if wellFormed(t, defs)["path"] < 170 || !strings.Contains(defs, `id="wm-CN"`) {
		t.Error("defs lack the outlines")
	}
}
