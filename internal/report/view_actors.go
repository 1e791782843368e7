package report

import (
	"fmt"
	"sort"
	"strings"
)

// Rows the actor sections and recommended actions show; report.json has
// them all.
const (
	MaxHuntTechniqueRows = 40
	MaxActorIndicators   = 30
)

// actorView is one attributed actor's section.
type actorView struct {
	Anchor, Name, AttackID, Aliases, Country, Sponsor string
	Campaigns                                         []string
	Malware, Tools                                    []Software
	Techniques                                        []ObservedTechnique
	KnownTechniques                                   int
	Reports                                           []SourceReport
	Indicators                                        []indicatorDetail
	IndicatorsMore                                    int
}

// indicatorDetail is an indicator shown by value, its pattern as detail.
type indicatorDetail struct{ Value, Pattern, Name string }

// actionsView is the recommended actions.
type actionsView struct {
	Block   []BlockAction
	Examine []ExamineAction
	Hunt    []huntGroup
}

type huntGroup struct {
	Actor           string
	Techniques      []HuntAction
	TechniquesMore  int
	Indicators      []HuntAction
	IndicatorsTotal int
}

func buildActors(d *Data) []actorView {
	var out []actorView
	for _, p := range d.Doc.Actors {
		av := actorView{Anchor: "actor-" + anchorSafe(p.ID), Name: p.Name, AttackID: p.AttackID, Aliases: strings.Join(p.Aliases, ", "),
			Sponsor: p.Sponsor, Reports: p.Reports, KnownTechniques: len(p.Techniques)}
		if p.Country != "" {
			av.Country = countryLabel(p.Country)
		}
		for _, s := range p.Software {
			if s.Kind == "tool" {
				av.Tools = append(av.Tools, s)
			} else {
				av.Malware = append(av.Malware, s)
			}
		}
		tech := map[string]*ObservedTechnique{}
		seenInd := map[string]bool{}
		for _, c := range d.Doc.Campaigns {
			if !c.Attribution.Named || c.Attribution.ActorID != p.ID {
				continue
			}
			av.Campaigns = append(av.Campaigns, c.ID)
			for _, t := range c.Techniques {
				if x := tech[t.ID]; x != nil {
					x.Detections += t.Detections
					x.How += "; campaign " + c.ID + ": " + t.How
					continue
				}
				t.How = "campaign " + c.ID + ": " + t.How
				tech[t.ID] = &t
			}
			for _, id := range c.Indicators {
				if seenInd[id] {
					continue
				}
				seenInd[id] = true
				if len(av.Indicators) == MaxActorIndicators {
					av.IndicatorsMore++
					continue
				}
				av.Indicators = append(av.Indicators, indicatorDetailOf(d, id))
			}
		}
		for _, t := range tech {
			av.Techniques = append(av.Techniques, *t)
		}
		sort.Slice(av.Techniques, func(i, j int) bool { return av.Techniques[i].ID < av.Techniques[j].ID })
		sort.Slice(av.Indicators, func(i, j int) bool { return av.Indicators[i].Value < av.Indicators[j].Value })
		out = append(out, av)
	}
	return out
}

func indicatorDetailOf(d *Data, id string) indicatorDetail {
	o := d.Indicators[id]
	if o == nil || o.Indicator == nil {
		return indicatorDetail{Value: id}
	}
	var vals []string
	for _, ob := range o.Indicator.Observables {
		vals = append(vals, ob.Value)
	}
	v := strings.Join(vals, ", ")
	if v == "" {
		v = o.Name
	}
	return indicatorDetail{Value: v, Pattern: o.Indicator.Pattern, Name: o.Name}
}

func buildActions(doc *Document) actionsView {
	a := doc.Actions
	av := actionsView{Block: a.Block, Examine: a.Examine}
	groups := map[string]*huntGroup{}
	var order []string
	for _, h := range a.Hunt {
		g := groups[h.Actor]
		if g == nil {
			g = &huntGroup{Actor: h.Actor, IndicatorsTotal: a.HuntIndicatorsTotal[h.Actor]}
			groups[h.Actor] = g
			order = append(order, h.Actor)
		}
		switch {
		case h.Kind == "indicator":
			if len(g.Indicators) < MaxActorIndicators {
				g.Indicators = append(g.Indicators, h)
			}
		case len(g.Techniques) < MaxHuntTechniqueRows:
			g.Techniques = append(g.Techniques, h)
		default:
			g.TechniquesMore++
		}
	}
	for _, n := range order {
		av.Hunt = append(av.Hunt, *groups[n])
	}
	return av
}

// keyFindings states the run's main findings in sentences.
func keyFindings(v *view, doc *Document) []string {
	var out, unnamed []string
	for i, c := range doc.Campaigns {
		cv := v.Campaigns[i]
		if !cv.Named {
			unnamed = append(unnamed, fmt.Sprintf("%s (leading: %s)", c.ID, orDash(cv.Leading)))
			continue
		}
		// ICD 203 words read "is likely the work of", but "it is a
		// roughly even chance that … is the work of"
		format := "Campaign %[1]s is %[2]s (%[3]s) the work of %[4]s, with %[5]s confidence; active since %[6]s against %[7]s."
		if strings.HasPrefix(cv.Estimate, "roughly") {
			format = "It is a %[2]s (%[3]s) that campaign %[1]s is the work of %[4]s, with %[5]s confidence; active since %[6]s against %[7]s."
		}
		out = append(out, fmt.Sprintf(format, c.ID, cv.Estimate, cv.Likelihood, cv.SummaryActor, cv.Confidence, cv.First, victimsPhrase(&c)))
	}
	if len(unnamed) > 0 {
		out = append(out, fmt.Sprintf("%d campaign(s) could not be attributed: %s.", len(unnamed), strings.Join(unnamed, ", ")))
	}
	s := doc.Summary
	out = append(out, fmt.Sprintf("%s indicator sighting(s) (%s more suppressed by warninglists) and %s behavioural detection(s) in %s events.",
		thousands(int64(s.Sightings)), thousands(int64(s.Suppressed)), thousands(int64(s.Detections)), thousands(s.Events)))
	return append(out, doc.Statistics.Statements...)
}

// victimsPhrase names a campaign's victims: hosts and organisations.
func victimsPhrase(c *Campaign) string {
	orgs := map[string]bool{}
	var names []string
	for _, v := range c.VictimDetails {
		if v.Organisation != "" && !orgs[v.Organisation] {
			orgs[v.Organisation] = true
			names = append(names, v.Organisation)
		}
	}
	s := fmt.Sprintf("%d host(s)", len(c.VictimDetails))
	if len(names) > 0 {
		s += " at " + strings.Join(names, ", ")
	}
	return s
}

func anchorSafe(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, id)
}
