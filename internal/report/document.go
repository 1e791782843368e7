// Package report turns campaigns and their assessments into documents that
// others can check: the report.json contract, and renderers built on it.
package report

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Document is report.json. Field names are a contract scripts depend on:
// add fields, never rename or remove them.
type Document struct {
	Generated   time.Time        `json:"generated"`
	Tool        string           `json:"tool"`
	Summary     Summary          `json:"summary"`
	Campaigns   []Campaign       `json:"campaigns"`
	Statistics  Statistics       `json:"statistics"`
	Methodology []attribute.Rule `json:"methodology"`
	// Actors profiles the actors named campaigns are attributed to, from
	// the intelligence; Actions are what the findings recommend.
	Actors  []ActorProfile `json:"actors"`
	Actions Actions        `json:"recommended_actions"`
}

// Summary counts what the run saw.
type Summary struct {
	Events     int64 `json:"events"`
	Bytes      int64 `json:"bytes"`
	Sightings  int   `json:"sightings"`
	Suppressed int   `json:"suppressed"`
	Detections int   `json:"detections"`
	Campaigns  int   `json:"campaigns"`
}

// Campaign is one campaign and its attribution.
type Campaign struct {
	ID             string      `json:"id"`
	FirstSeen      time.Time   `json:"first_seen"`
	LastSeen       time.Time   `json:"last_seen"`
	Victims        []string    `json:"victims"`
	VictimDetails  []Victim    `json:"victim_details"`
	Infrastructure []Infra     `json:"infrastructure"`
	Attribution    Attribution `json:"attribution"`
	Sightings      int         `json:"sightings"`
	Detections     int         `json:"detections"`
	Indicators     []string    `json:"indicators"`
	Incidents      []Incident  `json:"incidents"`
	Links          []Link      `json:"links"`
	// HourOfWeek counts human-driven activity by UTC hour of the week
	// (0 = Monday 00:00 UTC), for the heat map.
	HourOfWeek [168]int `json:"hour_of_week"`
	// DetectionDetails explains the campaign's behavioural detections one
	// by one; Techniques maps what was observed to ATT&CK.
	DetectionDetails []DetectionDetail   `json:"detection_details"`
	Techniques       []ObservedTechnique `json:"techniques"`
}

// Victim is an internal host of a campaign.
type Victim struct {
	Address      string    `json:"address"`
	Organisation string    `json:"organisation,omitempty"`
	Sector       string    `json:"sector,omitempty"`
	Country      string    `json:"country,omitempty"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	DwellDays    float64   `json:"dwell_days"`
}

// Infra is one piece of infrastructure.
type Infra struct {
	Value       string    `json:"value"`
	Kind        string    `json:"kind"`
	Country     string    `json:"country"`
	CountryName string    `json:"country_name,omitempty"`
	ASN         uint32    `json:"asn"`
	ASOrg       string    `json:"as_org,omitempty"`
	Role        string    `json:"role"`
	RoleReason  string    `json:"role_reason,omitempty"`
	Indicators  []string  `json:"indicators,omitempty"`
	Detections  []string  `json:"detections,omitempty"`
	Sightings   int       `json:"sightings"`
	Victims     int       `json:"victims"`
	Suppressed  bool      `json:"suppressed,omitempty"`
	Warninglist string    `json:"warninglist,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Attribution is the assessment of a campaign.
type Attribution struct {
	Actor      string   `json:"actor"`
	ActorID    string   `json:"actor_id"`
	AttackID   string   `json:"attack_id,omitempty"`
	Aliases    []string `json:"aliases"`
	Country    string   `json:"country,omitempty"`
	Likelihood float64  `json:"likelihood"`
	Estimate   string   `json:"estimate"`
	Confidence string   `json:"confidence"`
	// OperatorUTCOffset is where the operators' working hours fit.
	OperatorUTCOffset       OperatorOffset         `json:"operator_utc_offset"`
	OperatorCountries       []string               `json:"operator_countries"`
	InfrastructureCountries map[string]int         `json:"infrastructure_countries"`
	Alternatives            []Alternative          `json:"alternatives"`
	Evidence                []Evidence             `json:"evidence"`
	Hypotheses              []attribute.Hypothesis `json:"hypotheses"`
	Reasons                 []string               `json:"reasons"`
	// Named is true when the estimate names Actor; otherwise Actor is only
	// the most likely known actor and Leading the hypothesis on top.
	Named       bool                    `json:"named"`
	Leading     string                  `json:"leading"`
	LeadingID   string                  `json:"leading_id"`
	Sensitivity []attribute.Sensitivity `json:"sensitivity"`
	WouldChange []string                `json:"would_change"`
}

// OperatorOffset is the inferred UTC offset.
type OperatorOffset struct {
	Hours     float64          `json:"hours"`
	Fit       float64          `json:"fit"`
	Posterior float64          `json:"posterior"`
	Events    int              `json:"events"`
	Enough    bool             `json:"enough"`
	RunnerUp  attribute.Offset `json:"runner_up"`
}

// Alternative is another hypothesis with its likelihood.
type Alternative struct {
	Actor      string  `json:"actor"`
	ActorID    string  `json:"actor_id"`
	Likelihood float64 `json:"likelihood"`
	Estimate   string  `json:"estimate"`
}

// Evidence is one item of the evidence × hypothesis matrix.
type Evidence struct {
	Kind        string                  `json:"kind"`
	Supports    string                  `json:"supports"`    // hypothesis name
	SupportsID  string                  `json:"supports_id"` // hypothesis id
	Against     bool                    `json:"against,omitempty"`
	Weight      float64                 `json:"weight"`
	Detail      string                  `json:"detail"`
	Source      string                  `json:"source"`
	Reliability string                  `json:"reliability,omitempty"`
	Sightings   []attribute.SightingRef `json:"sightings,omitempty"`
	// Count is every record behind the item (Sightings cites More fewer),
	// on Hosts internal hosts between FirstSeen and LastSeen.
	Count     int       `json:"count"`
	More      int       `json:"more_sightings"`
	Hosts     int       `json:"hosts"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Values    []string  `json:"values,omitempty"`
	Sources   []string  `json:"sources,omitempty"`
	Origin    string    `json:"origin,omitempty"`
	// Indicators are the ids of the indicators behind the item.
	Indicators []string `json:"indicators,omitempty"`
}

// Incident is one victim's activity span.
type Incident struct {
	ID         string    `json:"id"`
	Victim     string    `json:"victim"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Sightings  int       `json:"sightings"`
	Detections int       `json:"detections"`
}

// Link says why two incidents are one campaign.
type Link struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Reason string `json:"reason"`
	Value  string `json:"value"`
}

// Statistics across campaigns.
type Statistics struct {
	C2ByCountry      []C2Country    `json:"c2_by_country"`
	C2ByASN          []C2ASN        `json:"c2_by_asn"`
	Statements       []string       `json:"statements"` // "N servers in X control M hosts in Y"
	VictimsBySector  map[string]int `json:"victims_by_sector"`
	VictimsByCountry map[string]int `json:"victims_by_country"`
	Dwell            []Dwell        `json:"dwell"`
	IndicatorsByType map[string]int `json:"indicators_by_type"`
}

// C2Country counts C2 servers in one country and the hosts they control.
type C2Country struct {
	Country         string         `json:"country"`
	Servers         int            `json:"servers"`
	Victims         int            `json:"victims"`
	VictimCountries map[string]int `json:"victim_countries"`
}

// C2ASN counts C2 servers in one autonomous system.
type C2ASN struct {
	ASN     uint32 `json:"asn"`
	ASOrg   string `json:"as_org"`
	Country string `json:"country"`
	Servers int    `json:"servers"`
	Victims int    `json:"victims"`
}

// Dwell is how long one victim was active in one campaign.
type Dwell struct {
	Campaign string  `json:"campaign"`
	Victim   string  `json:"victim"`
	Days     float64 `json:"days"`
}

// Input is what Build needs.
type Input struct {
	Summary     Summary
	Campaigns   []*correlate.Campaign
	Assessments map[string]*attribute.Assessment // by campaign id
	Sightings   []match.Sighting
	Detections  []behavior.Detection
	Assets      *correlate.Assets
	Config      attribute.Config
	Generated   time.Time
	Tool        string
	// Profiles are the actors' profiles by actor id (LoadProfiles).
	Profiles map[string]ActorProfile
}

// Build assembles report.json.
func Build(in Input) *Document {
	doc := &Document{Generated: in.Generated.UTC(), Tool: in.Tool, Summary: in.Summary, Methodology: attribute.Methodology(in.Config)}
	doc.Summary.Campaigns = len(in.Campaigns)
	doc.Campaigns = []Campaign{}
	st := Statistics{VictimsBySector: map[string]int{}, VictimsByCountry: map[string]int{}, IndicatorsByType: map[string]int{}}
	type c2 struct {
		victims map[netip.Addr]bool
		country string
		asn     uint32
		org     string
	}
	servers := map[string]*c2{}
	victimSeen := map[netip.Addr]bool{}
	indSeen := map[string]bool{}
	for _, c := range in.Campaigns {
		rc := Campaign{ID: c.ID, FirstSeen: c.FirstSeen.UTC(), LastSeen: c.LastSeen.UTC(), Sightings: len(c.Sightings),
			Detections: len(c.Detections), Indicators: c.Indicators, Victims: []string{}}
		if rc.Indicators == nil {
			rc.Indicators = []string{}
		}
		for _, v := range c.Victims {
			rc.Victims = append(rc.Victims, v.Addr.String())
			rc.VictimDetails = append(rc.VictimDetails, Victim{Address: v.Addr.String(), Organisation: v.Organisation, Sector: v.Sector,
				Country: v.Country, FirstSeen: v.FirstSeen.UTC(), LastSeen: v.LastSeen.UTC(), DwellDays: round2(v.Dwell().Hours() / 24)})
			if !victimSeen[v.Addr] {
				victimSeen[v.Addr] = true
				if v.Sector != "" {
					st.VictimsBySector[v.Sector]++
				} else {
					st.VictimsBySector["unknown"]++
				}
				if v.Country != "" {
					st.VictimsByCountry[v.Country]++
				} else {
					st.VictimsByCountry["unknown"]++
				}
			}
		}
		widenVictims(rc.VictimDetails, c, in.Detections)
		for _, v := range rc.VictimDetails {
			if !v.FirstSeen.IsZero() && (rc.FirstSeen.IsZero() || v.FirstSeen.Before(rc.FirstSeen)) {
				rc.FirstSeen = v.FirstSeen
			}
			if v.LastSeen.After(rc.LastSeen) {
				rc.LastSeen = v.LastSeen
			}
			st.Dwell = append(st.Dwell, Dwell{Campaign: c.ID, Victim: v.Address, Days: v.DwellDays})
		}
		rc.DetectionDetails = detectionDetails(c, in.Detections)
		for _, i := range c.Infrastructure {
			rc.Infrastructure = append(rc.Infrastructure, Infra{Value: i.Value, Kind: i.Kind, Country: i.Country, CountryName: i.CountryName,
				ASN: i.ASN, ASOrg: i.ASOrg, Role: i.Role, RoleReason: i.RoleReason, Indicators: i.IndicatorIDs, Detections: i.Detections,
				Sightings: i.Sightings, Victims: len(i.Victims), Suppressed: i.Suppressed, Warninglist: i.Warninglist,
				FirstSeen: i.FirstSeen.UTC(), LastSeen: i.LastSeen.UTC()})
			// Hop points relay command and control: they count as C2 servers.
			if i.Kind == "ip" && (i.Role == correlate.RoleC2 || i.Role == correlate.RoleHopPoint) && !i.Suppressed {
				s, ok := servers[i.Value]
				if !ok {
					s = &c2{victims: map[netip.Addr]bool{}, country: i.Country, asn: i.ASN, org: i.ASOrg}
					servers[i.Value] = s
				}
				for _, v := range i.Victims {
					s.victims[v] = true
				}
			}
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
			if !indSeen[s.IndicatorID] {
				indSeen[s.IndicatorID] = true
				st.IndicatorsByType[string(s.Type)]++
			}
		}
		if a := in.Assessments[c.ID]; a != nil {
			rc.Attribution = attribution(a)
			rc.HourOfWeek = a.TimeZone.HourOfWeek
		}
		var prof *ActorProfile
		if p, ok := in.Profiles[rc.Attribution.ActorID]; ok && rc.Attribution.Named {
			prof = &p
		}
		rc.Techniques = observedTechniques(c, in.Detections, in.Config, prof)
		doc.Campaigns = append(doc.Campaigns, rc)
	}
	// C2 servers by country and ASN against the hosts they control.
	byCountry := map[string]*C2Country{}
	byASN := map[uint32]*C2ASN{}
	for _, s := range servers {
		cc := s.country
		if cc == "" {
			cc = "unknown"
		}
		c, ok := byCountry[cc]
		if !ok {
			c = &C2Country{Country: cc, VictimCountries: map[string]int{}}
			byCountry[cc] = c
		}
		c.Servers++
		for v := range s.victims {
			c.Victims++
			vc := "unknown"
			if a, ok := in.Assets.Lookup(v); ok && a.Country != "" {
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
	for _, c := range byCountry {
		st.C2ByCountry = append(st.C2ByCountry, *c)
	}
	sort.Slice(st.C2ByCountry, func(i, j int) bool {
		if st.C2ByCountry[i].Servers != st.C2ByCountry[j].Servers {
			return st.C2ByCountry[i].Servers > st.C2ByCountry[j].Servers
		}
		return st.C2ByCountry[i].Country < st.C2ByCountry[j].Country
	})
	for _, c := range st.C2ByCountry {
		var parts []string
		for vc, n := range c.VictimCountries {
			parts = append(parts, fmt.Sprintf("%d in %s", n, vc))
		}
		sort.Strings(parts)
		st.Statements = append(st.Statements, fmt.Sprintf("%d C2 server(s) in %s control %d host(s) (%s)", c.Servers, c.Country, c.Victims, joinComma(parts)))
	}
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
	doc.Statistics = st
	doc.Actors = namedProfiles(doc, in.Profiles)
	doc.Actions = recommend(doc, in.Sightings)
	return doc
}

func attribution(a *attribute.Assessment) Attribution {
	at := Attribution{Estimate: a.Estimate, Confidence: a.Confidence, OperatorCountries: a.OperatorCountries,
		InfrastructureCountries: a.InfraCountries, Hypotheses: a.Hypotheses, Reasons: a.Reasons, Aliases: []string{}}
	if at.OperatorCountries == nil {
		at.OperatorCountries = []string{}
	}
	if a.Top != nil {
		at.Actor, at.ActorID, at.AttackID, at.Country, at.Likelihood = a.Top.Name, a.Top.ID, a.Top.AttackID, a.Top.Country, a.Top.Likelihood
		if a.Top.Aliases != nil {
			at.Aliases = a.Top.Aliases
		}
	}
	tz := a.TimeZone
	at.OperatorUTCOffset = OperatorOffset{Hours: tz.Best.Hours, Fit: round2(tz.Best.Fit), Posterior: round2(tz.Best.Posterior),
		Events: tz.Events, Enough: tz.Enough, RunnerUp: tz.RunnerUp}
	at.Named = a.Top != nil && a.Estimate != "" && a.Estimate != attribute.NotEnoughEvidence
	// The leading hypothesis is the named actor, or else whichever
	// hypothesis scores highest ("not in the intelligence" included); the
	// alternatives are every other one, so none repeats the leader.
	switch {
	case at.Named:
		at.Leading, at.LeadingID = a.Top.Name, a.Top.ID
	case len(a.Hypotheses) > 0:
		at.Leading, at.LeadingID = a.Hypotheses[0].Name, a.Hypotheses[0].ID
	}
	names := map[string]string{}
	for _, h := range a.Hypotheses {
		names[h.ID] = h.Name
		if h.ID == at.LeadingID {
			continue
		}
		at.Alternatives = append(at.Alternatives, Alternative{Actor: h.Name, ActorID: h.ID, Likelihood: h.Likelihood, Estimate: attribute.Words(h.Likelihood)})
	}
	at.Sensitivity, at.WouldChange = a.Sensitivity, a.WouldChange
	if at.Sensitivity == nil {
		at.Sensitivity = []attribute.Sensitivity{}
	}
	if at.WouldChange == nil {
		at.WouldChange = []string{}
	}
	for _, e := range a.Evidence {
		at.Evidence = append(at.Evidence, Evidence{Kind: e.Kind, Supports: names[e.Supports], SupportsID: e.Supports, Against: e.Against,
			Weight: e.Weight, Detail: e.Detail, Source: e.Source, Reliability: e.Reliability, Sightings: e.Sightings,
			Count: e.Count, More: e.More, Hosts: e.Hosts, FirstSeen: e.FirstSeen.UTC(), LastSeen: e.LastSeen.UTC(), Values: e.Values,
			Sources: e.Sources, Origin: e.Origin, Indicators: e.Indicators})
	}
	if at.Evidence == nil {
		at.Evidence = []Evidence{}
	}
	if at.Alternatives == nil {
		at.Alternatives = []Alternative{}
	}
	return at
}

func round2(x float64) float64 {
	return float64(int64(x*100+0.5)) / 100
}

func joinComma(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}
