package report

import (
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/report/svg"
)

// buildCampaign lays one campaign out for reading.
func buildCampaign(d *Data, c *Campaign, anchors map[sightingKey]int, html bool) campView {
	a := &c.Attribution
	cv := campView{ID: c.ID, Anchor: "campaign-" + c.ID, First: ts(c.FirstSeen), Last: ts(c.LastSeen),
		Sightings: c.Sightings, Detections: c.Detections, Actor: a.Actor, AttackID: a.AttackID,
		Aliases: strings.Join(a.Aliases, ", "), Estimate: a.Estimate, Confidence: a.Confidence, Likelihood: pct(a.Likelihood),
		Reasons: a.Reasons, OperatorCountries: strings.Join(a.OperatorCountries, ", ")}
	if !c.FirstSeen.IsZero() {
		cv.Span = fmtDays(c.LastSeen.Sub(c.FirstSeen).Hours() / 24)
	}
	if a.Country != "" {
		cv.Country = countryLabel(a.Country)
	}
	cv.Named = a.Named
	cv.Leading = a.Leading
	setCampaignJudgment(&cv, c, a)
	cv.VictimCount = len(c.VictimDetails)
	cv.DetectionRows = detectionRows(c.DetectionDetails)
	cv.Techniques = c.Techniques
	cv.Sensitivity = SensitivityRows(a)
	cv.WouldChange = a.WouldChange
	cv.Offset = operatorOffsetText(a.OperatorUTCOffset, cv.OperatorCountries)
	cv.Hypotheses = hypothesisRows(a)
	cv.MatrixColumns, cv.Evidence = evidenceMatrix(d, a, anchors)
	cv.Victims, cv.VictimsMore = victimRows(c.VictimDetails)
	cv.Infra, cv.InfraMore = infraRows(c.Infrastructure)
	cv.C2Countries = serverCountries(c.Infrastructure)
	cv.Links, cv.LinksMore = linkRows(c.Links)
	cv.BusyHours = busyHours(c.HourOfWeek)
	if html {
		setCampaignCharts(&cv, d, c)
	}
	if len(cv.C2Countries) == 0 {
		cv.MapNote = "No map: no server of this campaign is located (its infrastructure is on a warninglist, unlocated or not an address)."
	}
	if hourTotal(c.HourOfWeek) == 0 {
		cv.HeatNote = "No heat map: no human-driven activity was seen in this campaign (beacons run by machine)."
	}
	return cv
}

// setCampaignJudgment words the title, summary and judgment. It runs after
// the likelihood is set and before it is replaced for an unattributed
// campaign, because the judgment quotes the most likely actor's figure.
func setCampaignJudgment(cv *campView, c *Campaign, a *Attribution) {
	who := a.Actor
	if a.AttackID != "" {
		who += " (" + a.AttackID + ")"
	}
	if !cv.Named {
		// Unattributed: nothing of the merely most likely actor is shown
		// as if it were the attribution.
		cv.Aliases, cv.Country = "", ""
		cv.SummaryActor = "not attributed"
		if a.Leading != "" {
			cv.SummaryActor += "; leading: " + a.Leading
		}
	} else {
		cv.SummaryActor = who
	}
	switch {
	case cv.Named:
		cv.Title = "Campaign " + c.ID + ": " + a.Actor
		words := a.Estimate
		if strings.HasPrefix(words, "roughly") {
			words = "a " + words // "it is a roughly even chance that"
		}
		cv.Judgment = fmt.Sprintf("We assess that it is %s (%s) that campaign %s is the work of %s, with %s confidence.", words, cv.Likelihood, c.ID, who, a.Confidence)
	case a.Actor != "":
		cv.Title = "Campaign " + c.ID + ": not attributed"
		cv.Judgment = fmt.Sprintf("There is not enough evidence to name an actor for campaign %s. The leading hypothesis is %s (%s); the most likely known actor, %s, reaches only %s.",
			c.ID, a.Leading, leadingLikelihood(a), who, cv.Likelihood)
		if a.LeadingID == a.ActorID {
			cv.Judgment = fmt.Sprintf("There is not enough evidence to name an actor for campaign %s. The leading hypothesis, %s at %s, falls short of what naming an actor needs.",
				c.ID, who, cv.Likelihood)
		}
	default:
		cv.Title = "Campaign " + c.ID + ": unknown actor"
		cv.Judgment = fmt.Sprintf("No actor in the intelligence is linked to campaign %s.", c.ID)
	}
	if len(a.Alternatives) > 0 {
		alt := a.Alternatives[0]
		cv.Alternative = fmt.Sprintf("The strongest alternative is %s: %s (%s).", alt.Actor, alt.Estimate, pct(alt.Likelihood))
	}
	if !cv.Named {
		cv.Estimate, cv.Likelihood = attribute.NotEnoughEvidence, leadingLikelihood(a)
	}
}

// operatorOffsetText states the operators' inferred time zone, or why none
// is inferred.
func operatorOffsetText(off OperatorOffset, countries string) string {
	if !off.Enough {
		return fmt.Sprintf("Too little human-driven activity (%d events) to infer the operators' time zone.", off.Events)
	}
	s := fmt.Sprintf("The operators' human-driven activity (%d events) best fits a working week at %s (fit %.0f%%, posterior %.0f%%; runner-up %s)",
		off.Events, svg.FormatOffset(off.Hours), off.Fit*100, off.Posterior*100, svg.FormatOffset(off.RunnerUp.Hours))
	if countries != "" {
		s += ", the standard time of " + countries
	}
	return s + "."
}

func hypothesisRows(a *Attribution) []hypRow {
	var rows []hypRow
	for _, h := range a.Hypotheses {
		rows = append(rows, hypRow{Name: h.Name, AttackID: h.AttackID, Likelihood: pct(h.Likelihood),
			Estimate: attribute.Words(h.Likelihood), Independent: h.Independent, Top: h.ID == a.ActorID})
	}
	return rows
}

// evidenceMatrix lays evidence against hypotheses: the most likely
// hypotheses are the columns, and evidence for any other actor goes to a
// final "other" column.
func evidenceMatrix(d *Data, a *Attribution, anchors map[sightingKey]int) ([]string, []evidenceRow) {
	var columns []string
	col := map[string]int{}
	for i, h := range a.Hypotheses {
		if i == MaxMatrixColumns {
			break
		}
		col[h.ID] = i
		columns = append(columns, h.Name)
	}
	for _, e := range a.Evidence {
		if _, ok := col[e.SupportsID]; !ok {
			columns = append(columns, "other")
			break
		}
	}
	var rows []evidenceRow
	for _, e := range a.Evidence {
		row := evidenceRow{Kind: e.Kind, Detail: e.Detail, Source: e.Source, Reliability: e.Reliability, Cells: make([]cell, len(columns)),
			Seen: evidenceSeen(&e), Cited: evidenceCited(&e, d.csvName()), Sources: strings.Join(e.Sources, ", "), Origin: e.Origin}
		ci, ok := col[e.SupportsID]
		if !ok {
			ci = len(columns) - 1
		}
		row.Cells[ci] = evidenceCell(&e, ok)
		row.Refs, row.RefsMore = evidenceRefs(e.Sightings, anchors)
		rows = append(rows, row)
	}
	return columns, rows
}

// evidenceCell shows the weight for or against; in the "other" column it
// also names the actor supported.
func evidenceCell(e *Evidence, inColumn bool) cell {
	c := cell{Text: fmt.Sprintf("+%.2f", e.Weight), Class: "for"}
	if e.Against {
		c = cell{Text: fmt.Sprintf("−%.2f", e.Weight), Class: "against"}
	}
	if !inColumn {
		c.Text += " " + e.Supports
	}
	return c
}

// evidenceRefs links the first sightings behind a piece of evidence to
// their rows in the appendix, and counts the rest.
func evidenceRefs(refs []attribute.SightingRef, anchors map[sightingKey]int) ([]refLink, int) {
	var links []refLink
	for i, r := range refs {
		if i == MaxEvidenceRefs {
			return links, len(refs) - i
		}
		l := refLink{Label: fmt.Sprintf("%s:%d", r.File, r.Line)}
		if si, ok := anchors[sightingKey{r.File, r.Line, r.Field, r.Value}]; ok {
			l.Anchor = anchorOf(si)
		}
		links = append(links, l)
	}
	return links, 0
}

func victimRows(vds []Victim) ([]victimRow, int) {
	var rows []victimRow
	for i, vd := range vds {
		if i == MaxVictimRows {
			return rows, len(vds) - i
		}
		rows = append(rows, victimRow{Address: vd.Address, Organisation: vd.Organisation, Sector: vd.Sector,
			Country: vd.Country, First: ts(vd.FirstSeen), Last: ts(vd.LastSeen), Dwell: fmtDays(vd.DwellDays)})
	}
	return rows, 0
}

func infraRows(infra []Infra) ([]infraRow, int) {
	var rows []infraRow
	more := 0
	for i, in := range infra {
		if i >= MaxInfraRows {
			more++
			continue
		}
		r := infraRow{Value: in.Value, Kind: in.Kind, Role: in.Role, Country: countryOr(in), First: ts(in.FirstSeen), Last: ts(in.LastSeen),
			Sightings: in.Sightings, Victims: in.Victims}
		if in.ASN != 0 {
			r.ASN = fmt.Sprintf("AS%d %s", in.ASN, in.ASOrg)
		}
		if in.Suppressed {
			r.Note = "on warninglist " + in.Warninglist
		} else if in.RoleReason != "" {
			r.Note = in.RoleReason
		}
		rows = append(rows, r)
	}
	return rows, more
}

// serverCountries counts servers by country: command and control and hop
// points alike, the addresses the adversary operates through. It counts all
// of them, not only the rows shown.
func serverCountries(infra []Infra) []countRow {
	servers := map[string]int{}
	roles := map[string]map[string]int{}
	for _, in := range infra {
		if in.Kind == "ip" && in.Role != correlate.RoleDelivery && !in.Suppressed {
			cc := orUnknown(in.Country)
			servers[cc]++
			if roles[cc] == nil {
				roles[cc] = map[string]int{}
			}
			roles[cc][in.Role]++
		}
	}
	var rows []countRow
	for cc, n := range servers {
		var parts []string
		for r, k := range roles[cc] {
			parts = append(parts, fmt.Sprintf("%d %s", k, r))
		}
		sort.Strings(parts)
		rows = append(rows, countRow{Label: cc, Count: n, Note: strings.Join(parts, ", ")})
	}
	sortCounts(rows)
	return rows
}

func linkRows(links []Link) ([]Link, int) {
	var rows []Link
	for i, l := range links {
		if i == MaxLinkRows {
			return rows, len(links) - i
		}
		rows = append(rows, l)
	}
	return rows, 0
}

// setCampaignCharts draws the HTML charts: timeline, server map and
// hour-of-week heat map.
func setCampaignCharts(cv *campView, d *Data, c *Campaign) {
	off := c.Attribution.OperatorUTCOffset
	compact := len(d.Doc.Campaigns) > DetailedCharts
	cv.Timeline = template.HTML(campaignTimeline(d, c, compact))
	var cc []svg.CountryCount
	for _, r := range cv.C2Countries {
		cc = append(cc, svg.CountryCount{Code: mapCode(r.Label), Name: countryLabel(r.Label), Count: r.Count, Note: r.Note})
	}
	if len(cc) > 0 {
		cv.Map = template.HTML(svg.WorldMap("Servers of campaign "+c.ID+" by country (command and control, hop points)", "servers", cc))
	}
	if hourTotal(c.HourOfWeek) > 0 {
		cv.Heat = template.HTML(svg.HourOfWeek("Activity of campaign "+c.ID+" by hour of the week (UTC)", c.HourOfWeek, off.Hours, off.Enough, compact))
	}
}
