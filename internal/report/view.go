package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/report/svg"
)

// Limits that keep a report of many campaigns readable and small; what is
// left out is counted, and the CSV, JSON and STIX outputs carry it all.
const (
	MaxInfraRows     = 100 // per campaign
	MaxVictimRows    = 100 // per campaign
	MaxLinkRows      = 30  // per campaign
	MaxEvidenceRefs  = 5   // sighting links per piece of evidence
	MaxMatrixColumns = 5   // hypotheses in the evidence matrix
	MaxTimelineLanes = 15
	MaxIndicatorRows = 300 // per indicator type in the appendix
	MaxSightingRows  = 100 // in the appendix, besides those evidence cites
	MaxBars          = 15
	// MaxCitedSightings bounds the sightings the appendix lists because
	// evidence cites them; further citations are shown without a link.
	MaxCitedSightings = 1000
	// DetailedCharts is the number of campaigns up to which charts carry
	// hover text for every cell and period; beyond it they are drawn
	// compactly to keep the file small.
	DetailedCharts = 10
)

// view is the report laid out for reading, shared by HTML and Markdown.
type view struct {
	Title, Generated, Tool, TLP, Org, CSVName string
	TLPClass                                  string
	Withheld                                  string // what the TLP level left out (TLPWithheld.Sentence)
	Summary                                   Summary
	Headline                                  string
	Campaigns                                 []campView
	Stats                                     statsView
	IndicatorGroups                           []indicatorGroup
	IndicatorsTotal                           int
	Sightings                                 []sightingRow
	SightingsTotal                            int
	SightingsShown                            int
	Methodology                               []attribute.Rule
	Bands                                     []bandRow
	HTML                                      bool
	MapDefs                                   template.HTML
	KeyFindings                               []string
	Profiled                                  bool
	Actors                                    []actorView
	Actions                                   actionsView
}

type bandRow struct{ Words, Range string }

type campView struct {
	ID, Anchor, Title                 string
	Actor, AttackID, Aliases, Country string
	Estimate, Confidence, Likelihood  string
	Named                             bool
	Judgment, Alternative, Offset     string
	OperatorCountries                 string
	Reasons                           []string
	First, Last, Span                 string
	Sightings, Detections             int
	Hypotheses                        []hypRow
	MatrixColumns                     []string
	Evidence                          []evidenceRow
	Victims                           []victimRow
	VictimsMore                       int
	Infra                             []infraRow
	InfraMore                         int
	Links                             []Link
	LinksMore                         int
	C2Countries                       []countRow
	BusyHours                         string
	Timeline, Map, Heat               template.HTML
	MapNote, HeatNote                 string
	Leading, SummaryActor             string
	DetectionRows                     []detectionRow
	Techniques                        []ObservedTechnique
	Sensitivity                       []SensitivityRow
	WouldChange                       []string
	VictimCount                       int
}

type detectionRow struct {
	Analytic, Score, Src, Dst, First, Last, Facts, Samples string
	Count                                                  int64
}

// SensitivityRow says in words what dropping one evidence item would do
// to the conclusion; Changes is true when it would change the leader or
// the words.
type SensitivityRow struct {
	Evidence, Effect string
	Changes          bool
}

type hypRow struct {
	Name, AttackID, Likelihood, Estimate string
	Independent                          int
	Top                                  bool
}

type evidenceRow struct {
	Kind, Detail, Source, Reliability string
	// Seen states the true count, hosts and span; Cited how many of the
	// records are cited here.
	Seen, Cited, Sources, Origin string
	Cells                        []cell
	Refs                         []refLink
	RefsMore                     int
}

type refLink struct{ Label, Anchor string }

// cell is one weight in the evidence matrix; Class is "for" or "against".
type cell struct{ Text, Class string }

type victimRow struct {
	Address, Organisation, Sector, Country, First, Last, Dwell string
}

type infraRow struct {
	Value, Kind, Role, Country, ASN, First, Last, Note string
	Sightings, Victims                                 int
}

type countRow struct {
	Label string
	Count int
	Note  string
}

type statsView struct {
	C2Countries, C2ASNs, Sectors, Dwell []countRow
	Statements                          []string
	DwellSummary                        string
	Map, C2Chart, ASNChart              template.HTML
	SectorChart, DwellChart             template.HTML
}

type indicatorGroup struct {
	Name  string
	Rows  []indicatorRow
	Total int
	More  int
}

type indicatorRow struct {
	Value, ID, Name, Type, First, Last, Campaigns, Note string
	Sightings                                           int
}

type sightingRow struct {
	Anchor, Time, Indicator, Type, Field, Value, Flow, Where, Note string
}

// ts formats a time for reading.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// thousands writes an integer with thin-space thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func pct(p float64) string { return fmt.Sprintf("%.0f%%", math.Round(p*100)) }

func countryLabel(cc string) string {
	if cc == "" || cc == "unknown" {
		return "unknown"
	}
	if n := geo.CountryName(cc); n != "" {
		return n + " (" + cc + ")"
	}
	return cc
}

// indicatorType groups value types for the appendix, as the APT1 report's
// digital appendix did.
func indicatorType(t intel.ValueType) string {
	switch t {
	case intel.Domain:
		return "Domains"
	case intel.IPv4, intel.IPv6, intel.CIDR, intel.ASN:
		return "IP addresses and networks"
	case intel.URL, intel.URIPath:
		return "URLs"
	case intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512, intel.FileName:
		return "File hashes and names"
	case intel.X509SHA1, intel.X509SHA256, intel.X509Serial:
		return "Certificates"
	case intel.Email, intel.EmailSubj:
		return "E-mail"
	}
	return "Other"
}

var groupOrder = []string{"Domains", "IP addresses and networks", "URLs", "File hashes and names", "Certificates", "E-mail", "Other"}

// buildView lays the data out. html selects SVG charts.
func buildView(d *Data, html bool) *view {
	doc := d.Doc
	v := &view{Generated: ts(doc.Generated), Tool: doc.Tool, TLP: "TLP:" + strings.ToUpper(d.tlp()), Org: d.org(), CSVName: d.csvName(),
		Summary: doc.Summary, Methodology: doc.Methodology, HTML: html}
	v.TLPClass = "tlp-" + strings.ReplaceAll(d.tlp(), "+", "-")
	v.Withheld = doc.Withheld.Sentence()
	for _, b := range attribute.Bands {
		v.Bands = append(v.Bands, bandRow{b.Words, fmt.Sprintf("%.0f–%.0f%%", b.Low*100, b.High*100)})
	}
	if html {
		v.MapDefs = template.HTML(svg.WorldMapDefs())
	}
	anchors := sightingAnchors(d)
	cited := citedSightings(d, anchors)
	for k, i := range anchors {
		if !cited[i] {
			delete(anchors, k)
		}
	}
	for i := range doc.Campaigns {
		v.Campaigns = append(v.Campaigns, buildCampaign(d, &doc.Campaigns[i], anchors, html))
	}
	v.Title = "whodunit report"
	if len(v.Campaigns) > 0 {
		top := v.Campaigns[0]
		if top.Named {
			v.Title += ": " + top.Actor
		}
		v.Headline = top.Judgment
		if top.Alternative != "" {
			v.Headline += " " + top.Alternative
		}
	} else {
		v.Headline = fmt.Sprintf("No campaign was found in %d events.", doc.Summary.Events)
	}
	v.KeyFindings = keyFindings(v, doc)
	v.Actors = buildActors(d)
	v.Profiled = len(v.Actors) > 0
	v.Actions = buildActions(doc)
	v.Stats = buildStats(doc, html)
	v.IndicatorGroups, v.IndicatorsTotal = buildIndicators(d)
	v.Sightings, v.SightingsTotal = buildSightings(d, cited)
	v.SightingsShown = len(v.Sightings)
	return v
}

// sightingKey identifies the record behind a piece of evidence.
type sightingKey struct {
	file  string
	line  int64
	field string
	value string
}

// sightingAnchors maps evidence references to sighting indexes.
func sightingAnchors(d *Data) map[sightingKey]int {
	m := make(map[sightingKey]int, len(d.Sightings))
	for i := range d.Sightings {
		s := &d.Sightings[i]
		k := sightingKey{s.File, s.Line, s.Field, s.Value}
		if _, ok := m[k]; !ok {
			m[k] = i
		}
	}
	return m
}

func anchorOf(i int) string { return fmt.Sprintf("s-%d", i) }

func mapCode(cc string) string {
	if cc == "unknown" {
		return ""
	}
	return cc
}

func countryOr(in Infra) string {
	if in.Country == "" {
		return ""
	}
	if in.CountryName != "" {
		return in.CountryName + " (" + in.Country + ")"
	}
	return countryLabel(in.Country)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func fmtDays(days float64) string {
	switch {
	case days < 1.0/24:
		return fmt.Sprintf("%.0f min", days*24*60)
	case days < 1:
		return fmt.Sprintf("%.1f h", days*24)
	}
	return fmt.Sprintf("%.1f days", days)
}

func sortCounts(rs []countRow) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Count != rs[j].Count {
			return rs[i].Count > rs[j].Count
		}
		return rs[i].Label < rs[j].Label
	})
}

// busyHours names the five busiest UTC hours of the week.
func busyHours(h [168]int) string {
	type hc struct{ i, n int }
	var all []hc
	for i, n := range h {
		if n > 0 {
			all = append(all, hc{i, n})
		}
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].n != all[b].n {
			return all[a].n > all[b].n
		}
		return all[a].i < all[b].i
	})
	var parts []string
	days := [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	for i, x := range all {
		if i == 5 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %02d:00 (%d)", days[x.i/24], x.i%24, x.n))
	}
	return strings.Join(parts, ", ")
}

// campaignTimeline draws sightings and detections over time, one lane per
// victim with its incidents.
func campaignTimeline(d *Data, c *Campaign, compact bool) string {
	t := svg.Timeline{Title: "Timeline of campaign " + c.ID, MaxLanes: MaxTimelineLanes, Compact: compact}
	for _, si := range d.sightingsOf(c) {
		t.Events = append(t.Events, d.Sightings[si].Time)
	}
	lanes := map[string]int{}
	lane := func(v string) int {
		i, ok := lanes[v]
		if !ok {
			i = len(t.Lanes)
			lanes[v] = i
			t.Lanes = append(t.Lanes, svg.Lane{Label: v})
		}
		return i
	}
	for _, inc := range c.Incidents {
		i := lane(inc.Victim)
		t.Lanes[i].Spans = append(t.Lanes[i].Spans, svg.Span{From: inc.FirstSeen, To: inc.LastSeen, Class: "incident",
			Title: fmt.Sprintf("incident %s on %s: %s – %s, %d sightings, %d detections", inc.ID, inc.Victim, ts(inc.FirstSeen), ts(inc.LastSeen), inc.Sightings, inc.Detections)})
	}
	for _, di := range d.detectionsOf(c) {
		det := &d.Detections[di]
		t.Detections = append(t.Detections, det.FirstSeen)
		i := lane(det.Src.String())
		dst := det.DstName
		if dst == "" && det.Dst.IsValid() {
			dst = det.Dst.String()
		}
		t.Lanes[i].Spans = append(t.Lanes[i].Spans, svg.Span{From: det.FirstSeen, To: det.LastSeen, Class: "detection",
			Title: fmt.Sprintf("%s to %s, score %.2f: %s – %s", det.Analytic, dst, det.Score, ts(det.FirstSeen), ts(det.LastSeen))})
	}
	return svg.TimelineChart(t)
}

func buildStats(doc *Document, html bool) statsView {
	st := doc.Statistics
	var sv statsView
	sv.Statements = st.Statements
	var cc []svg.CountryCount
	var bars []svg.Bar
	for _, c := range st.C2ByCountry {
		note := fmt.Sprintf("control %d hosts", c.Victims)
		sv.C2Countries = append(sv.C2Countries, countRow{Label: countryLabel(c.Country), Count: c.Servers, Note: note})
		cc = append(cc, svg.CountryCount{Code: mapCode(c.Country), Name: countryLabel(c.Country), Count: c.Servers, Note: note})
		if len(bars) < MaxBars {
			bars = append(bars, svg.Bar{Label: countryLabel(c.Country), Value: float64(c.Servers), Note: note})
		}
	}
	var asnBars []svg.Bar
	for _, a := range st.C2ByASN {
		label := fmt.Sprintf("AS%d %s", a.ASN, a.ASOrg)
		note := fmt.Sprintf("%s, control %d hosts", orUnknown(a.Country), a.Victims)
		sv.C2ASNs = append(sv.C2ASNs, countRow{Label: label, Count: a.Servers, Note: note})
		if len(asnBars) < MaxBars {
			asnBars = append(asnBars, svg.Bar{Label: label, Value: float64(a.Servers), Note: note})
		}
	}
	for s, n := range st.VictimsBySector {
		sv.Sectors = append(sv.Sectors, countRow{Label: s, Count: n})
	}
	sortCounts(sv.Sectors)
	var sectorBars []svg.Bar
	for i, r := range sv.Sectors {
		if i == MaxBars {
			break
		}
		sectorBars = append(sectorBars, svg.Bar{Label: r.Label, Value: float64(r.Count)})
	}
	var dwellBars []svg.Bar
	var days []float64
	for _, dw := range st.Dwell {
		days = append(days, dw.Days)
		if len(dwellBars) < MaxBars {
			label := dw.Victim + " · " + dw.Campaign
			dwellBars = append(dwellBars, svg.Bar{Label: label, Value: dw.Days})
			sv.Dwell = append(sv.Dwell, countRow{Label: label, Note: fmtDays(dw.Days)})
		}
	}
	if len(days) > 0 {
		sort.Float64s(days)
		sum := 0.0
		for _, x := range days {
			sum += x
		}
		sv.DwellSummary = fmt.Sprintf("%d victim(s): median dwell %s, mean %s, longest %s.", len(days),
			fmtDays(days[len(days)/2]), fmtDays(sum/float64(len(days))), fmtDays(days[len(days)-1]))
	}
	if html {
		sv.Map = template.HTML(svg.WorldMap("C2 servers by country, all campaigns", "C2 servers", cc))
		sv.C2Chart = template.HTML(svg.BarChart("C2 servers by country", "C2 servers", bars))
		sv.ASNChart = template.HTML(svg.BarChart("C2 servers by autonomous system", "C2 servers", asnBars))
		sv.SectorChart = template.HTML(svg.BarChart("Victims by sector", "victims", sectorBars))
		sv.DwellChart = template.HTML(svg.BarChart("Longest dwell times (days)", "days", dwellBars))
	}
	return sv
}

// buildIndicators lists every indicator seen, grouped by type.
func buildIndicators(d *Data) ([]indicatorGroup, int) {
	type agg struct {
		row         indicatorRow
		typ         intel.ValueType
		first, last time.Time
		campaigns   map[string]bool
	}
	byID := map[string]*agg{}
	var order []string
	get := func(id string) *agg {
		a := byID[id]
		if a == nil {
			a = &agg{row: indicatorRow{ID: id}, campaigns: map[string]bool{}}
			if o := d.Indicators[id]; o != nil {
				a.row.Name = o.Name
				if o.Indicator != nil {
					var vals []string
					for _, ob := range o.Indicator.Observables {
						vals = append(vals, ob.Value)
						if a.typ == "" {
							a.typ = ob.Type
						}
					}
					a.row.Value = strings.Join(vals, ", ")
					if a.row.Value == "" {
						a.row.Value = o.Indicator.Pattern
					}
				}
			}
			byID[id] = a
			order = append(order, id)
		}
		return a
	}
	for i := range d.Sightings {
		s := &d.Sightings[i]
		a := get(s.IndicatorID)
		a.row.Sightings++
		if a.typ == "" {
			a.typ = s.Type
		}
		if a.row.Value == "" {
			a.row.Value = s.Indicator
		}
		if a.first.IsZero() || s.Time.Before(a.first) {
			a.first = s.Time
		}
		if s.Time.After(a.last) {
			a.last = s.Time
		}
		if s.Suppressed {
			a.row.Note = "warninglist " + s.Warninglist
		}
	}
	for _, c := range d.Doc.Campaigns {
		for _, id := range c.Indicators {
			get(id).campaigns[c.ID] = true
		}
	}
	groups := map[string]*indicatorGroup{}
	sort.Strings(order)
	for _, id := range order {
		a := byID[id]
		a.row.Type, a.row.First, a.row.Last = string(a.typ), ts(a.first), ts(a.last)
		var cs []string
		for c := range a.campaigns {
			cs = append(cs, c)
		}
		sort.Strings(cs)
		a.row.Campaigns = strings.Join(cs, ", ")
		name := indicatorType(a.typ)
		g := groups[name]
		if g == nil {
			g = &indicatorGroup{Name: name}
			groups[name] = g
		}
		g.Total++
		if len(g.Rows) < MaxIndicatorRows {
			g.Rows = append(g.Rows, a.row)
		} else {
			g.More++
		}
	}
	var out []indicatorGroup
	for _, name := range groupOrder {
		if g := groups[name]; g != nil {
			sort.SliceStable(g.Rows, func(i, j int) bool { return g.Rows[i].Value < g.Rows[j].Value })
			out = append(out, *g)
		}
	}
	return out, len(order)
}

// citedSightings picks the sightings that evidence cites, up to
// MaxCitedSightings.
func citedSightings(d *Data, anchors map[sightingKey]int) map[int]bool {
	keep := map[int]bool{}
	for _, c := range d.Doc.Campaigns {
		for _, e := range c.Attribution.Evidence {
			for i, r := range e.Sightings {
				if i == MaxEvidenceRefs || len(keep) == MaxCitedSightings {
					break
				}
				if si, ok := anchors[sightingKey{r.File, r.Line, r.Field, r.Value}]; ok {
					keep[si] = true
				}
			}
		}
	}
	return keep
}

// buildSightings lists every sighting that evidence cites (keep), and the
// first MaxSightingRows others, in time order.
func buildSightings(d *Data, keep map[int]bool) ([]sightingRow, int) {
	idx := make([]int, len(d.Sightings))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return d.Sightings[idx[a]].Time.Before(d.Sightings[idx[b]].Time) })
	others := 0
	var rows []sightingRow
	for _, i := range idx {
		if !keep[i] {
			if others == MaxSightingRows {
				continue
			}
			others++
		}
		s := &d.Sightings[i]
		r := sightingRow{Anchor: anchorOf(i), Time: ts(s.Time), Indicator: s.Indicator, Type: string(s.Type), Field: s.Field, Value: s.Value,
			Where: fmt.Sprintf("%s:%d", s.File, s.Line)}
		if s.SrcIP.IsValid() || s.DstIP.IsValid() {
			r.Flow = fmt.Sprintf("%s → %s", addrPort(s.SrcIP.String(), s.SrcPort), addrPort(s.DstIP.String(), s.DstPort))
		}
		if s.Suppressed {
			r.Note = "warninglist " + s.Warninglist
		}
		if s.Retrospective {
			r.Note = strings.TrimPrefix(r.Note+"; retrospective", "; ")
		}
		rows = append(rows, r)
	}
	return rows, len(d.Sightings)
}

func addrPort(a string, p uint16) string {
	if a == "invalid IP" {
		a = "?"
	}
	if p == 0 {
		return a
	}
	if strings.Contains(a, ":") {
		return fmt.Sprintf("[%s]:%d", a, p)
	}
	return fmt.Sprintf("%s:%d", a, p)
}

// leadingLikelihood is the likelihood of the leading hypothesis.
func leadingLikelihood(a *Attribution) string {
	for _, h := range a.Hypotheses {
		if h.ID == a.LeadingID {
			return pct(h.Likelihood)
		}
	}
	return pct(a.Likelihood)
}

func hourTotal(h [168]int) int {
	n := 0
	for _, x := range h {
		n += x
	}
	return n
}

// evidenceSeen states the true extent of an item: every record behind it,
// not only the cited ones.
func evidenceSeen(e *Evidence) string {
	if e.Count == 0 {
		return ""
	}
	s := fmt.Sprintf("seen %s× on %d host(s)", thousands(int64(e.Count)), e.Hosts)
	if !e.FirstSeen.IsZero() {
		s += ", first " + ts(e.FirstSeen) + ", last " + ts(e.LastSeen)
	}
	return s
}

// evidenceCited says how many of an item's records the report cites.
func evidenceCited(e *Evidence, csv string) string {
	if e.Count == 0 || e.More == 0 {
		return ""
	}
	return fmt.Sprintf("cited: %s of %s — the rest in %s", thousands(int64(len(e.Sightings))), thousands(int64(e.Count)), csv)
}

func detectionRows(ds []DetectionDetail) []detectionRow {
	var out []detectionRow
	for _, d := range ds {
		dst := d.Dst
		if d.DstPort != 0 {
			dst += fmt.Sprintf(" port %d", d.DstPort)
		}
		out = append(out, detectionRow{Analytic: d.Analytic, Score: fmt.Sprintf("%.2f", d.Score), Src: d.Src, Dst: dst,
			First: ts(d.FirstSeen), Last: ts(d.LastSeen), Count: d.Count, Facts: strings.Join(d.Facts, "; "), Samples: strings.Join(d.Samples, ", ")})
	}
	return out
}

// SensitivityRows says, item by item, what dropping it would do.
func SensitivityRows(a *Attribution) []SensitivityRow {
	var out []SensitivityRow
	for _, s := range a.Sensitivity {
		ev := s.Detail
		if ev == "" && s.Evidence >= 0 && s.Evidence < len(a.Evidence) {
			ev = a.Evidence[s.Evidence].Kind + ": " + a.Evidence[s.Evidence].Detail
		}
		effect := "no change: " + s.WithoutTop + " stays " + s.WithoutWords
		switch {
		case s.ChangesTop:
			effect = "changes the leader to " + s.WithoutTop + " (" + s.WithoutWords + ")"
		case s.ChangesWords:
			effect = "changes the words to " + s.WithoutWords
		}
		out = append(out, SensitivityRow{Evidence: ev, Effect: effect, Changes: s.ChangesTop || s.ChangesWords})
	}
	return out
}
