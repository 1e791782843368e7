package report

import (
	"fmt"
	"strings"
)

// evidenceText is an evidence item with its true extent and sources.
func evidenceText(e *evidenceRow) string {
	s := e.Kind + ": " + e.Detail
	if e.Seen != "" {
		s += " — " + e.Seen
	}
	if e.Sources != "" {
		s += "; sources: " + e.Sources
	}
	return s
}

func (m *mdWriter) actions(v *view) {
	a := v.Actions
	m.p("## Recommended actions\n\n### Block\n\n")
	var rows [][]string
	for _, b := range a.Block {
		rows = append(rows, []string{b.Value, b.Kind, b.Role, b.Why})
	}
	m.table([]string{"Value", "Kind", "Role", "Why"}, rows)
	m.p("### Examine these hosts\n\n")
	rows = nil
	for _, e := range a.Examine {
		rows = append(rows, []string{e.Host, e.Organisation, e.Campaign, itoa(e.Sightings), itoa(e.Detections)})
	}
	m.table([]string{"Host", "Organisation", "Campaign", "Sightings", "Detections"}, rows)
	m.p("### Hunt for next\n\n")
	if len(a.Hunt) == 0 && v.Profiled {
		m.p("Nothing more to hunt for: every technique and indicator the intelligence gives the named actors was seen.\n\n")
	} else if len(a.Hunt) == 0 {
		m.p("Nothing to hunt for from the intelligence: no named actor has a profile in it.\n\n")
	}
	for _, g := range a.Hunt {
		m.p("#### %s\n\n", md(g.Actor))
		rows = nil
		for _, t := range g.Techniques {
			rows = append(rows, []string{t.Value, t.Name})
		}
		if len(rows) > 0 {
			m.p("Techniques %s is known to use that this telemetry did not show:\n\n", md(g.Actor))
			m.table([]string{"Technique", "Name"}, rows)
		}
		if g.TechniquesMore > 0 {
			m.p("and %d more (report.json lists them all).\n\n", g.TechniquesMore)
		}
		if len(g.Indicators) > 0 {
			m.p("%s indicator(s) of %s were not seen; the first:\n\n", thousands(int64(g.IndicatorsTotal)), md(g.Actor))
			for _, h := range g.Indicators {
				m.p("- `%s` (%s)\n", strings.ReplaceAll(h.Value, "`", "'"), md(h.Name))
			}
			m.p("\n")
		}
	}
}

func (m *mdWriter) detections(c *campView) {
	if len(c.DetectionRows) == 0 {
		return
	}
	m.p("### Behavioural detections\n\n")
	var rows [][]string
	for _, d := range c.DetectionRows {
		rows = append(rows, []string{d.Analytic, d.Score, d.Src, d.Dst, d.First, d.Last, fmt.Sprint(d.Count), d.Facts, d.Samples})
	}
	m.table([]string{"Analytic", "Score", "From", "To", "First seen", "Last seen", "Records", "Series", "Sample records"}, rows)
}

func (m *mdWriter) techniques(ts []ObservedTechnique, heading string) {
	if len(ts) == 0 {
		return
	}
	m.p("%s\n\n", heading)
	var rows [][]string
	for _, t := range ts {
		known := "—"
		if t.KnownUse {
			known = "yes"
		}
		rows = append(rows, []string{t.ID, t.Name, t.How, known})
	}
	m.table([]string{"Technique", "Name", "How observed", "Known use"}, rows)
}

func (m *mdWriter) sensitivity(c *campView) {
	m.p("### Sensitivity\n\n")
	var rows [][]string
	for _, s := range c.Sensitivity {
		rows = append(rows, []string{s.Evidence, s.Effect})
	}
	if len(rows) == 0 {
		m.p("No sensitivity analysis was recorded for this assessment.\n\n")
	} else {
		m.table([]string{"The conclusion rests on", "Without it"}, rows)
	}
	for _, w := range c.WouldChange {
		m.p("- Would change it: %s\n", md(w))
	}
	if len(c.WouldChange) > 0 {
		m.p("\n")
	}
}

func (m *mdWriter) actors(v *view) {
	for _, a := range v.Actors {
		title := a.Name
		if a.AttackID != "" {
			title += " (" + a.AttackID + ")"
		}
		m.p("## Actor: %s\n\nNamed in campaign(s) %s.", md(title), md(strings.Join(a.Campaigns, ", ")))
		if a.Country != "" {
			m.p(" Associated country: %s.", md(a.Country))
		}
		if a.Sponsor != "" {
			m.p(" Suspected sponsor: %s.", md(a.Sponsor))
		}
		m.p("\n\n")
		if a.Aliases != "" {
			m.p("Also known as: %s.\n\n", md(a.Aliases))
		}
		m.p("### Malware and tools\n\n")
		var rows [][]string
		for _, s := range append(append([]Software{}, a.Malware...), a.Tools...) {
			rows = append(rows, []string{s.Name, s.Kind, s.AttackID})
		}
		m.table([]string{"Name", "Kind", "ATT&CK"}, rows)
		m.techniques(a.Techniques, fmt.Sprintf("### Techniques observed (%s is known to use %d)", md(a.Name), a.KnownTechniques))
		m.p("### Indicators seen\n\n")
		rows = nil
		for _, in := range a.Indicators {
			rows = append(rows, []string{in.Value, in.Pattern})
		}
		m.table([]string{"Value", "Pattern"}, rows)
		if a.IndicatorsMore > 0 {
			m.p("and %d more (Appendix A).\n\n", a.IndicatorsMore)
		}
		m.p("### Source reports\n\n")
		if len(a.Reports) == 0 {
			m.p("The intelligence cites no report.\n")
		}
		for i, r := range a.Reports {
			if r.URL != "" {
				m.p("%d. [%s](%s) (%s)\n", i+1, md(r.Title), strings.ReplaceAll(r.URL, ")", "%29"), md(r.Source))
			} else {
				m.p("%d. %s (%s)\n", i+1, md(r.Title), md(r.Source))
			}
		}
		m.p("\n")
	}
}
