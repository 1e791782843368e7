package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// RenderMarkdown writes the report in CommonMark with GitHub tables, with
// the structure of the HTML report and tables where it has charts, for
// tickets and wikis. Every value is escaped: indicators and log values are
// adversary-controlled text.
func RenderMarkdown(w io.Writer, d *Data) error {
	if err := d.Validate(); err != nil {
		return err
	}
	v := buildView(d, false)
	bw := bufio.NewWriter(w)
	m := &mdWriter{w: bw}
	m.document(v)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: markdown: %w", err)
	}
	return nil
}

type mdWriter struct{ w *bufio.Writer }

func (m *mdWriter) p(format string, args ...any) { fmt.Fprintf(m.w, format, args...) }

// mdEscaper escapes the characters that change Markdown's meaning inside a
// line or a table cell; newlines become spaces.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "\r\n", " ", "\n", " ", "\r", " ")

func md(s string) string { return mdEscaper.Replace(s) }

// table writes a GitHub table; cells are escaped here.
func (m *mdWriter) table(head []string, rows [][]string) {
	if len(rows) == 0 {
		m.p("_None._\n\n")
		return
	}
	m.p("|")
	for _, h := range head {
		m.p(" %s |", md(h))
	}
	m.p("\n|")
	for range head {
		m.p(" --- |")
	}
	m.p("\n")
	for _, r := range rows {
		m.p("|")
		for _, c := range r {
			m.p(" %s |", md(c))
		}
		m.p("\n")
	}
	m.p("\n")
}

func (m *mdWriter) document(v *view) {
	m.p("**%s**\n\n# %s\n\nGenerated %s by %s for %s.\n\n", md(v.TLP), md(v.Title), md(v.Generated), md(v.Tool), md(v.Org))
	if v.Withheld != "" {
		m.p("*%s*\n\n", md(v.Withheld))
	}
	m.p("## Executive summary\n\n> %s\n\n", md(v.Headline))
	m.p("- %s events analysed\n- %d indicator sightings (%d suppressed by warninglists)\n- %d behavioural detections\n- %d campaigns\n- %d indicators seen\n\n",
		thousands(v.Summary.Events), v.Summary.Sightings, v.Summary.Suppressed, v.Summary.Detections, v.Summary.Campaigns, v.IndicatorsTotal)
	if v.Summary.Retrospective > 0 {
		m.p("%d sightings were found retrospectively: the intelligence arrived after the records were read, and their times are the records' own.\n\n", v.Summary.Retrospective)
	}
	var rows [][]string
	for _, c := range v.Campaigns {
		rows = append(rows, []string{c.ID, c.SummaryActor, c.Estimate + " (" + c.Likelihood + ")", c.Confidence, c.Alternative, c.Offset,
			c.First + " – " + c.Last, itoa(c.VictimCount), itoa(c.Sightings), itoa(c.Detections)})
	}
	if len(rows) > 0 {
		m.table([]string{"Campaign", "Attributed to", "How likely", "Confidence", "Alternative", "Operator time zone", "Seen", "Victims", "Sightings", "Detections"}, rows)
	}
	m.p("### Key findings\n\n")
	for _, f := range v.KeyFindings {
		m.p("- %s\n", md(f))
	}
	m.p("\n")
	m.actions(v)
	for i := range v.Campaigns {
		m.campaign(&v.Campaigns[i])
	}
	m.actors(v)
	m.statistics(v)
	m.appendices(v)
	m.p("**%s**\n", md(v.TLP))
}

func (m *mdWriter) campaign(c *campView) {
	m.p("## %s\n\n> %s", md(c.Title), md(c.Judgment))
	if c.Alternative != "" {
		m.p(" %s", md(c.Alternative))
	}
	m.p("\n\n")
	if c.Aliases != "" {
		m.p("Also known as: %s.", md(c.Aliases))
		if c.Country != "" {
			m.p(" Associated country: %s.", md(c.Country))
		}
		m.p("\n\n")
	}
	m.p("%s\n\n", md(c.Offset))
	span := ""
	if c.Span != "" {
		span = " (" + c.Span + ")"
	}
	m.p("Active %s – %s%s: %d sightings, %d detections, %s victims.\n\n", md(c.First), md(c.Last), md(span), c.Sightings, c.Detections, itoa(c.VictimCount))
	for _, r := range c.Reasons {
		m.p("- %s\n", md(r))
	}
	if len(c.Reasons) > 0 {
		m.p("\n")
	}
	m.p("### Hypotheses\n\n")
	var rows [][]string
	for _, h := range c.Hypotheses {
		name := h.Name
		if h.Top {
			name += " (most likely)"
		}
		rows = append(rows, []string{name, h.AttackID, h.Likelihood, h.Estimate, itoa(h.Independent)})
	}
	m.table([]string{"Hypothesis", "ATT&CK", "Likelihood", "Estimate", "Independent lines"}, rows)

	m.p("### Evidence × hypothesis\n\n")
	rows = nil
	for _, e := range c.Evidence {
		r := []string{evidenceText(&e)}
		for _, cl := range e.Cells {
			r = append(r, cl.Text)
		}
		src := e.Source
		if e.Reliability != "" {
			src += " (" + e.Reliability + ")"
		}
		var refs []string
		for _, ref := range e.Refs {
			refs = append(refs, ref.Label)
		}
		if e.RefsMore > 0 {
			refs = append(refs, fmt.Sprintf("and %d more", e.RefsMore))
		}
		if e.Cited != "" {
			refs = append(refs, e.Cited)
		}
		rows = append(rows, append(r, src, strings.Join(refs, ", ")))
	}
	m.table(append(append([]string{"Evidence"}, c.MatrixColumns...), "Source", "Records"), rows)

	m.detections(c)
	m.techniques(c.Techniques, "### Techniques observed")
	m.sensitivity(c)
	m.p("### Victims\n\n")
	rows = nil
	for _, vr := range c.Victims {
		rows = append(rows, []string{vr.Address, vr.Organisation, vr.Sector, vr.Country, vr.First, vr.Last, vr.Dwell})
	}
	m.table([]string{"Host", "Organisation", "Sector", "Country", "First seen", "Last seen", "Dwell"}, rows)
	if c.VictimsMore > 0 {
		m.p("and %d more victims (report.json lists them all).\n\n", c.VictimsMore)
	}
	m.p("### Infrastructure\n\n")
	rows = nil
	for _, in := range c.Infra {
		rows = append(rows, []string{in.Value, in.Kind, in.Role, in.Country, in.ASN, itoa(in.Sightings), itoa(in.Victims), in.First, in.Last, in.Note})
	}
	m.table([]string{"Value", "Kind", "Role", "Country", "ASN", "Sightings", "Victims", "First seen", "Last seen", "Note"}, rows)
	if c.InfraMore > 0 {
		m.p("and %d more (report.json lists them all).\n\n", c.InfraMore)
	}
	m.p("Servers by country (command and control, hop points): ")
	var parts []string
	for _, r := range c.C2Countries {
		parts = append(parts, fmt.Sprintf("%s %d (%s)", countryLabel(r.Label), r.Count, r.Note))
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	m.p("%s.\n\n", md(strings.Join(parts, ", ")))
	if c.BusyHours != "" {
		m.p("Busiest hours of the week (UTC): %s.\n\n", md(c.BusyHours))
	} else if c.HeatNote != "" {
		m.p("%s\n\n", md(c.HeatNote))
	}
	if len(c.Links) > 0 {
		m.p("### Why these incidents are one campaign\n\n")
		rows = nil
		for _, l := range c.Links {
			rows = append(rows, []string{l.A, l.B, l.Reason, l.Value})
		}
		m.table([]string{"Incident", "Incident", "Reason", "Value"}, rows)
		if c.LinksMore > 0 {
			m.p("and %d more links.\n\n", c.LinksMore)
		}
	}
}

func (m *mdWriter) statistics(v *view) {
	m.p("## Statistics across campaigns\n\n")
	for _, s := range v.Stats.Statements {
		m.p("- %s\n", md(s))
	}
	if len(v.Stats.Statements) > 0 {
		m.p("\n")
	}
	counts := func(title, what string, rs []countRow, note string) {
		m.p("### %s\n\n", md(title))
		var rows [][]string
		for _, r := range rs {
			rows = append(rows, []string{r.Label, itoa(r.Count), r.Note})
		}
		m.table([]string{what, "Count", note}, rows)
	}
	counts("C2 servers by country", "Country", v.Stats.C2Countries, "Hosts controlled")
	counts("C2 servers by autonomous system", "AS", v.Stats.C2ASNs, "Country, hosts controlled")
	counts("Victims by sector", "Sector", v.Stats.Sectors, "")
	m.p("### Dwell time\n\n")
	if v.Stats.DwellSummary != "" {
		m.p("%s\n\n", md(v.Stats.DwellSummary))
	}
	var rows [][]string
	for _, r := range v.Stats.Dwell {
		rows = append(rows, []string{r.Label, r.Note})
	}
	m.table([]string{"Victim · campaign", "Dwell"}, rows)
}

func (m *mdWriter) appendices(v *view) {
	m.p("## Appendix A: indicators seen\n\n%d indicators were seen, grouped by type.\n\n", v.IndicatorsTotal)
	for _, g := range v.IndicatorGroups {
		m.p("### %s (%d)\n\n", md(g.Name), g.Total)
		var rows [][]string
		for _, r := range g.Rows {
			val := r.Value
			if r.Note != "" {
				val += " (" + r.Note + ")"
			}
			rows = append(rows, []string{val, r.Name, itoa(r.Sightings), r.First, r.Last, r.Campaigns, r.ID})
		}
		m.table([]string{"Value", "Name", "Sightings", "First seen", "Last seen", "Campaigns", "Indicator id"}, rows)
		if g.More > 0 {
			m.p("and %d more; see %s and the STIX bundle.\n\n", g.More, md(v.CSVName))
		}
	}
	m.p("## Appendix B: sightings\n\n")
	if v.SightingsShown < v.SightingsTotal {
		m.p("%s of %s sightings: every one that evidence cites, and the earliest others. The full list is in %s.\n\n", thousands(int64(v.SightingsShown)), thousands(int64(v.SightingsTotal)), md(v.CSVName))
	} else {
		m.p("All %d sightings (also in %s).\n\n", v.SightingsTotal, md(v.CSVName))
	}
	var rows [][]string
	for _, s := range v.Sightings {
		val := s.Value
		if s.Note != "" {
			val += " (" + s.Note + ")"
		}
		rows = append(rows, []string{s.Time, s.Indicator, s.Field, val, s.Flow, s.Where})
	}
	m.table([]string{"Time", "Indicator", "Field", "Value seen", "Flow", "Record"}, rows)
	m.p("## Appendix C: methodology\n\n")
	rows = nil
	for _, r := range v.Methodology {
		rows = append(rows, []string{r.Name, r.Text})
	}
	m.table([]string{"Rule", "What is weighed and how"}, rows)
	m.p("### Estimative words (ICD 203)\n\n")
	rows = nil
	for _, b := range v.Bands {
		rows = append(rows, []string{b.Words, b.Range})
	}
	m.table([]string{"Words", "Probability"}, rows)
	m.p("Likelihood says how probable a hypothesis is given the evidence; confidence says how much, how varied and how reliable that evidence is.\n\n")
}

func itoa(n int) string { return fmt.Sprint(n) }
