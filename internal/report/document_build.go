package report

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
)

// Build assembles report.json.
func Build(in Input) *Document {
	doc := &Document{Generated: in.Generated.UTC(), Tool: in.Tool, Summary: in.Summary, Methodology: attribute.Methodology(in.Config),
		MethodologyVersion: attribute.MethodologyVersion, MethodologyConfig: in.Config, Intelligence: in.Intelligence,
		CitedRecords: citedRecords(in.Config)}
	if doc.Intelligence == nil {
		doc.Intelligence = []IntelRecord{}
	}
	doc.Summary.Campaigns = len(in.Campaigns)
	doc.Campaigns = []Campaign{}
	t := newTally()
	for _, c := range in.Campaigns {
		doc.Campaigns = append(doc.Campaigns, documentCampaign(in, c, t))
	}
	doc.Statistics = t.statistics(in.Assets)
	doc.Actors = namedProfiles(doc, in.Profiles)
	doc.Actions = recommend(doc, in.Sightings)
	return doc
}

// c2Server is one command-and-control address and the hosts it controls,
// across all campaigns.
type c2Server struct {
	victims map[netip.Addr]bool
	country string
	asn     uint32
	org     string
}

// tally gathers the statistics across campaigns. Victims and indicators
// are counted once however many campaigns they are in.
type tally struct {
	st         Statistics
	servers    map[string]*c2Server
	victimSeen map[netip.Addr]bool
	indSeen    map[string]bool
}

func newTally() *tally {
	return &tally{
		st:         Statistics{VictimsBySector: map[string]int{}, VictimsByCountry: map[string]int{}, IndicatorsByType: map[string]int{}},
		servers:    map[string]*c2Server{},
		victimSeen: map[netip.Addr]bool{},
		indSeen:    map[string]bool{},
	}
}

// documentCampaign lays one campaign out for report.json, and tallies it.
func documentCampaign(in Input, c *correlate.Campaign, t *tally) Campaign {
	rc := Campaign{ID: c.ID, FirstSeen: c.FirstSeen.UTC(), LastSeen: c.LastSeen.UTC(), Sightings: len(c.Sightings),
		Detections: len(c.Detections), Indicators: c.Indicators, Victims: []string{}}
	if rc.Indicators == nil {
		rc.Indicators = []string{}
	}
	addVictims(&rc, c, in.Detections, t)
	rc.DetectionDetails = detectionDetails(c, in.Detections)
	for _, i := range c.Infrastructure {
		rc.Infrastructure = append(rc.Infrastructure, documentInfra(i))
		t.addServer(i)
	}
	for _, inc := range c.Incidents {
		rc.Incidents = append(rc.Incidents, Incident{ID: inc.ID, Victim: inc.Victim.String(), FirstSeen: inc.FirstSeen.UTC(),
			LastSeen: inc.LastSeen.UTC(), Sightings: len(inc.Sightings), Detections: len(inc.Detections)})
	}
	for _, l := range c.Links {
		rc.Links = append(rc.Links, Link(l))
	}
	for _, si := range c.Sightings {
		s := &in.Sightings[si]
		if !t.indSeen[s.IndicatorID] {
			t.indSeen[s.IndicatorID] = true
			t.st.IndicatorsByType[string(s.Type)]++
		}
	}
	if a := in.Assessments[c.ID]; a != nil {
		rc.Attribution = AttributionOf(a)
		rc.HourOfWeek = a.TimeZone.HourOfWeek
		rc.HumanEvents = utcTimes(a.HumanTimes)
	}
	var prof *ActorProfile
	if p, ok := in.Profiles[rc.Attribution.ActorID]; ok && rc.Attribution.Named {
		prof = &p
	}
	rc.Techniques = observedTechniques(c, in.Detections, in.Config, prof)
	return rc
}

// addVictims lists the campaign's victims, widens their spans by the
// detections on them, and stretches the campaign's span to cover them.
func addVictims(rc *Campaign, c *correlate.Campaign, detections []behavior.Detection, t *tally) {
	for _, v := range c.Victims {
		rc.Victims = append(rc.Victims, v.Addr.String())
		rc.VictimDetails = append(rc.VictimDetails, Victim{Address: v.Addr.String(), Organisation: v.Organisation, Sector: v.Sector,
			Country: v.Country, FirstSeen: v.FirstSeen.UTC(), LastSeen: v.LastSeen.UTC(), DwellDays: round2(v.Dwell().Hours() / 24)})
		if !t.victimSeen[v.Addr] {
			t.victimSeen[v.Addr] = true
			t.st.VictimsBySector[orUnknown(v.Sector)]++
			t.st.VictimsByCountry[orUnknown(v.Country)]++
		}
	}
	widenVictims(rc.VictimDetails, c, detections)
	for _, v := range rc.VictimDetails {
		if !v.FirstSeen.IsZero() && (rc.FirstSeen.IsZero() || v.FirstSeen.Before(rc.FirstSeen)) {
			rc.FirstSeen = v.FirstSeen
		}
		if v.LastSeen.After(rc.LastSeen) {
			rc.LastSeen = v.LastSeen
		}
		t.st.Dwell = append(t.st.Dwell, Dwell{Campaign: c.ID, Victim: v.Address, Days: v.DwellDays})
	}
}

func documentInfra(i *correlate.Infra) Infra {
	return Infra{Value: i.Value, Kind: i.Kind, Country: i.Country, CountryName: i.CountryName,
		ASN: i.ASN, ASOrg: i.ASOrg, Role: i.Role, RoleReason: i.RoleReason, Indicators: i.IndicatorIDs, Detections: i.Detections,
		Sightings: i.Sightings, Victims: len(i.Victims), Suppressed: i.Suppressed, Warninglist: i.Warninglist,
		FirstSeen: i.FirstSeen.UTC(), LastSeen: i.LastSeen.UTC()}
}

// addServer records a command-and-control address and its victims. Hop
// points relay command and control: they count as C2 servers.
func (t *tally) addServer(i *correlate.Infra) {
	if i.Kind != "ip" || (i.Role != correlate.RoleC2 && i.Role != correlate.RoleHopPoint) || i.Suppressed {
		return
	}
	s, ok := t.servers[i.Value]
	if !ok {
		s = &c2Server{victims: map[netip.Addr]bool{}, country: i.Country, asn: i.ASN, org: i.ASOrg}
		t.servers[i.Value] = s
	}
	for _, v := range i.Victims {
		s.victims[v] = true
	}
}

// statistics finishes the tally: C2 servers by country and ASN against the
// hosts they control, sorted, with empty lists rather than null in JSON.
func (t *tally) statistics(assets *correlate.Assets) Statistics {
	st := t.st
	byCountry, byASN := t.serversBy(assets)
	for _, c := range byCountry {
		st.C2ByCountry = append(st.C2ByCountry, *c)
	}
	sort.Slice(st.C2ByCountry, func(i, j int) bool {
		if st.C2ByCountry[i].Servers != st.C2ByCountry[j].Servers {
			return st.C2ByCountry[i].Servers > st.C2ByCountry[j].Servers
		}
		return st.C2ByCountry[i].Country < st.C2ByCountry[j].Country
	})
	st.Statements = c2Statements(st.C2ByCountry)
	for _, a := range byASN {
		st.C2ByASN = append(st.C2ByASN, *a)
	}
	sort.Slice(st.C2ByASN, func(i, j int) bool {
		if st.C2ByASN[i].Servers != st.C2ByASN[j].Servers {
			return st.C2ByASN[i].Servers > st.C2ByASN[j].Servers
		}
		return st.C2ByASN[i].ASN < st.C2ByASN[j].ASN
	})
	sort.Slice(st.Dwell, func(i, j int) bool { return st.Dwell[i].Days > st.Dwell[j].Days })
	if st.C2ByCountry == nil {
		st.C2ByCountry = []C2Country{}
	}
	if st.C2ByASN == nil {
		st.C2ByASN = []C2ASN{}
	}
	if st.Statements == nil {
		st.Statements = []string{}
	}
	if st.Dwell == nil {
		st.Dwell = []Dwell{}
	}
	return st
}

// serversBy groups the C2 servers by country and by autonomous system,
// locating each controlled host through the asset inventory.
func (t *tally) serversBy(assets *correlate.Assets) (map[string]*C2Country, map[uint32]*C2ASN) {
	byCountry := map[string]*C2Country{}
	byASN := map[uint32]*C2ASN{}
	for _, s := range t.servers {
		cc := orUnknown(s.country)
		c, ok := byCountry[cc]
		if !ok {
			c = &C2Country{Country: cc, VictimCountries: map[string]int{}}
			byCountry[cc] = c
		}
		c.Servers++
		for v := range s.victims {
			c.Victims++
			vc := "unknown"
			if a, ok := assets.Lookup(v); ok && a.Country != "" {
				vc = a.Country
			}
			c.VictimCountries[vc]++
		}
		if s.asn != 0 {
			a, ok := byASN[s.asn]
			if !ok {
				a = &C2ASN{ASN: s.asn, ASOrg: s.org, Country: s.country}
				byASN[s.asn] = a
			}
			a.Servers++
			a.Victims += len(s.victims)
		}
	}
	return byCountry, byASN
}

// c2Statements words each country's C2 servers against the hosts they
// control, e.g. "3 C2 server(s) in CN control 5 host(s) (2 in US, 3 in DE)".
func c2Statements(byCountry []C2Country) []string {
	var out []string
	for _, c := range byCountry {
		var parts []string
		for vc, n := range c.VictimCountries {
			parts = append(parts, fmt.Sprintf("%d in %s", n, vc))
		}
		sort.Strings(parts)
		out = append(out, fmt.Sprintf("%d C2 server(s) in %s control %d host(s) (%s)", c.Servers, c.Country, c.Victims, joinComma(parts)))
	}
	return out
}
