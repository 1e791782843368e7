package report

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Data is everything the renderers need: the report.json Document and the
// raw material behind it (sightings, indicator and actor objects) that the
// appendices, the CSV and the STIX bundle carry.
type Data struct {
	Doc *Document
	// Sightings are all sightings of the run.
	Sightings []match.Sighting
	// Indicators holds every indicator seen, by id.
	Indicators map[string]*intel.Object
	// Actors holds the actors hypotheses name, by id (Raw STIX when the
	// intelligence was STIX).
	Actors map[string]*intel.Object
	// Org names the reporting organisation (the STIX identity).
	Org string
	// TLP is clear, green, amber, amber+strict or red; "" means amber.
	TLP string

	// CampaignSightings maps a campaign id to indexes into Sightings
	// (correlate.Campaign.Sightings). When a campaign has no entry, its
	// sightings are inferred: those of its indicators that touch one of its
	// victims.
	CampaignSightings map[string][]int
	// Detections and CampaignDetections (indexes into Detections) add
	// behavioural detections to the timelines; both are optional.
	Detections         []behavior.Detection
	CampaignDetections map[string][]int
	// CSVName is the file the HTML and Markdown appendices point to for the
	// full list of sightings; "sightings.csv" when empty.
	CSVName string
}

// DefaultTLP is the marking of a report whose Data names none: a report of
// one's own telemetry names internal hosts.
const DefaultTLP = "amber"

// DefaultOrg names the STIX identity when Data.Org is empty.
const DefaultOrg = "whodunit user"

func (d *Data) tlp() string {
	if d.TLP == "" {
		return DefaultTLP
	}
	return d.TLP
}

func (d *Data) org() string {
	if d.Org == "" {
		return DefaultOrg
	}
	return d.Org
}

func (d *Data) csvName() string {
	if d.CSVName == "" {
		return "sightings.csv"
	}
	return d.CSVName
}

// Validate checks what every renderer relies on.
func (d *Data) Validate() error {
	if d == nil || d.Doc == nil {
		return fmt.Errorf("report: no document")
	}
	if _, err := intel.TLPMarking(d.tlp()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for id, idx := range d.CampaignSightings {
		for _, i := range idx {
			if i < 0 || i >= len(d.Sightings) {
				return fmt.Errorf("report: campaign %s: sighting index %d out of range (%d sightings)", id, i, len(d.Sightings))
			}
		}
	}
	for id, idx := range d.CampaignDetections {
		for _, i := range idx {
			if i < 0 || i >= len(d.Detections) {
				return fmt.Errorf("report: campaign %s: detection index %d out of range (%d detections)", id, i, len(d.Detections))
			}
		}
	}
	return nil
}

// sightingsOf returns the indexes of a campaign's sightings in time order.
func (d *Data) sightingsOf(c *Campaign) []int {
	var idx []int
	if s, ok := d.CampaignSightings[c.ID]; ok {
		idx = append(idx, s...)
	} else {
		inds := map[string]bool{}
		for _, id := range c.Indicators {
			inds[id] = true
		}
		victims := map[netip.Addr]bool{}
		for _, v := range c.Victims {
			if a, err := netip.ParseAddr(v); err == nil {
				victims[a] = true
			}
		}
		for i := range d.Sightings {
			s := &d.Sightings[i]
			if inds[s.IndicatorID] && (victims[s.SrcIP] || victims[s.DstIP]) {
				idx = append(idx, i)
			}
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return d.Sightings[idx[a]].Time.Before(d.Sightings[idx[b]].Time) })
	return idx
}

func (d *Data) detectionsOf(c *Campaign) []int { return d.CampaignDetections[c.ID] }

// OnlyCampaign returns the data of one campaign: the document keeps that
// campaign alone, with its summary counts and statistics recomputed, and
// the sightings, detections and indicators are those of the campaign.
func (d *Data) OnlyCampaign(id string) (*Data, error) {
	if d == nil || d.Doc == nil {
		return nil, fmt.Errorf("report: no document")
	}
	var camp *Campaign
	var ids []string
	for i := range d.Doc.Campaigns {
		ids = append(ids, d.Doc.Campaigns[i].ID)
		if strings.EqualFold(d.Doc.Campaigns[i].ID, strings.TrimSpace(id)) {
			camp = &d.Doc.Campaigns[i]
		}
	}
	if camp == nil {
		return nil, fmt.Errorf("report: no campaign %q (campaigns: %v)", id, ids)
	}
	out := *d
	doc := *d.Doc
	doc.Campaigns = []Campaign{*camp}
	out.Doc = &doc

	idx := d.sightingsOf(camp)
	out.Sightings = make([]match.Sighting, len(idx))
	var seq []int
	for i, si := range idx {
		out.Sightings[i] = d.Sightings[si]
		seq = append(seq, i)
	}
	out.CampaignSightings = map[string][]int{id: seq}
	out.Detections, out.CampaignDetections = nil, nil
	if det := d.detectionsOf(camp); len(det) > 0 {
		out.CampaignDetections = map[string][]int{}
		for i, di := range det {
			out.Detections = append(out.Detections, d.Detections[di])
			out.CampaignDetections[id] = append(out.CampaignDetections[id], i)
		}
	}
	out.Indicators = map[string]*intel.Object{}
	for _, s := range out.Sightings {
		if o := d.Indicators[s.IndicatorID]; o != nil {
			out.Indicators[s.IndicatorID] = o
		}
	}
	for _, iid := range camp.Indicators {
		if o := d.Indicators[iid]; o != nil {
			out.Indicators[iid] = o
		}
	}
	suppressed := 0
	for _, s := range out.Sightings {
		if s.Suppressed {
			suppressed++
		}
	}
	doc.Summary = Summary{Events: d.Doc.Summary.Events, Bytes: d.Doc.Summary.Bytes, Sightings: camp.Sightings,
		Suppressed: suppressed, Detections: camp.Detections, Campaigns: 1}
	doc.Statistics = campaignStatistics(camp, out.Sightings)
	return &out, nil
}

// campaignStatistics recomputes the statistics of one campaign from its
// infrastructure, victims and sightings (Build computes them across
// campaigns from the correlation itself).
func campaignStatistics(c *Campaign, sightings []match.Sighting) Statistics {
	st := Statistics{C2ByCountry: []C2Country{}, C2ByASN: []C2ASN{}, Statements: []string{}, Dwell: []Dwell{},
		VictimsBySector: map[string]int{}, VictimsByCountry: map[string]int{}, IndicatorsByType: map[string]int{}}
	victimCountry := map[netip.Addr]string{}
	for _, v := range c.VictimDetails {
		a, _ := netip.ParseAddr(v.Address)
		victimCountry[a] = orUnknown(v.Country)
		st.VictimsBySector[orUnknown(v.Sector)]++
		st.VictimsByCountry[orUnknown(v.Country)]++
		st.Dwell = append(st.Dwell, Dwell{Campaign: c.ID, Victim: v.Address, Days: v.DwellDays})
	}
	// Hosts each C2 server controls: the victims its sightings touch.
	controls := map[string]map[netip.Addr]bool{}
	seenInd := map[string]bool{}
	for _, s := range sightings {
		if !seenInd[s.IndicatorID] {
			seenInd[s.IndicatorID] = true
			st.IndicatorsByType[string(s.Type)]++
		}
		for _, a := range []netip.Addr{s.SrcIP, s.DstIP} {
			if _, ok := victimCountry[a]; ok {
				if controls[s.Value] == nil {
					controls[s.Value] = map[netip.Addr]bool{}
				}
				controls[s.Value][a] = true
			}
		}
	}
	byCountry := map[string]*C2Country{}
	byASN := map[uint32]*C2ASN{}
	for _, i := range c.Infrastructure {
		if i.Kind != "ip" || i.Role != correlate.RoleC2 || i.Suppressed {
			continue
		}
		cc := orUnknown(i.Country)
		bc := byCountry[cc]
		if bc == nil {
			bc = &C2Country{Country: cc, VictimCountries: map[string]int{}}
			byCountry[cc] = bc
		}
		bc.Servers++
		hosts := controls[i.Value]
		for a := range hosts {
			bc.Victims++
			bc.VictimCountries[victimCountry[a]]++
		}
		if i.ASN != 0 {
			ba := byASN[i.ASN]
			if ba == nil {
				ba = &C2ASN{ASN: i.ASN, ASOrg: i.ASOrg, Country: i.Country}
				byASN[i.ASN] = ba
			}
			ba.Servers++
			ba.Victims += len(hosts)
		}
	}
	for _, bc := range byCountry {
		st.C2ByCountry = append(st.C2ByCountry, *bc)
	}
	sort.Slice(st.C2ByCountry, func(i, j int) bool {
		a, b := st.C2ByCountry[i], st.C2ByCountry[j]
		if a.Servers != b.Servers {
			return a.Servers > b.Servers
		}
		return a.Country < b.Country
	})
	for _, ba := range byASN {
		st.C2ByASN = append(st.C2ByASN, *ba)
	}
	sort.Slice(st.C2ByASN, func(i, j int) bool {
		a, b := st.C2ByASN[i], st.C2ByASN[j]
		if a.Servers != b.Servers {
			return a.Servers > b.Servers
		}
		return a.ASN < b.ASN
	})
	for _, bc := range st.C2ByCountry {
		var parts []string
		for vc, n := range bc.VictimCountries {
			parts = append(parts, fmt.Sprintf("%d in %s", n, vc))
		}
		sort.Strings(parts)
		st.Statements = append(st.Statements, fmt.Sprintf("%d C2 server(s) in %s control %d host(s) (%s)", bc.Servers, bc.Country, bc.Victims, joinComma(parts)))
	}
	sort.Slice(st.Dwell, func(i, j int) bool { return st.Dwell[i].Days > st.Dwell[j].Days })
	return st
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
