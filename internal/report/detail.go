package report

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
)

// DetectionDetail is one behavioural detection of a campaign: the
// analytic, its score and the series it measured.
type DetectionDetail struct {
	ID        string    `json:"id"`
	Analytic  string    `json:"analytic"`
	Score     float64   `json:"score"`
	Src       string    `json:"src"`
	Dst       string    `json:"dst"`
	DstPort   uint16    `json:"dst_port,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int64     `json:"count"`
	Facts     []string  `json:"facts"`
	Samples   []string  `json:"samples"`
}

// ObservedTechnique is an ATT&CK technique a campaign's behaviour shows.
type ObservedTechnique struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// How it was observed, e.g. "beacon: 3 detections from 2 hosts".
	How        string `json:"how"`
	Detections int    `json:"detections"`
	Hosts      int    `json:"hosts"`
	// KnownUse is true when the intelligence says the attributed actor
	// uses the technique.
	KnownUse bool `json:"known_use"`
}

// Actions are what the findings recommend doing next.
type Actions struct {
	Block   []BlockAction   `json:"block"`
	Examine []ExamineAction `json:"examine"`
	Hunt    []HuntAction    `json:"hunt"`
	// HuntIndicatorsTotal counts each actor's indicators not seen (Hunt
	// lists at most MaxHuntIndicators of them).
	HuntIndicatorsTotal map[string]int `json:"hunt_indicators_total"`
}

// BlockAction is infrastructure to block: never a warninglisted value.
type BlockAction struct {
	Value    string `json:"value"`
	Kind     string `json:"kind"`
	Role     string `json:"role"`
	Campaign string `json:"campaign"`
	Why      string `json:"why"`
}

// ExamineAction is a host to examine, with what was seen of it.
type ExamineAction struct {
	Host         string `json:"host"`
	Organisation string `json:"organisation,omitempty"`
	Campaign     string `json:"campaign"`
	Sightings    int    `json:"sightings"`
	Detections   int    `json:"detections"`
}

// HuntAction is something a named actor is known to use that was not seen.
type HuntAction struct {
	Actor string `json:"actor"`
	Kind  string `json:"kind"` // technique or indicator
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
}

// detectionDetails lists a campaign's detections in time order.
func detectionDetails(c *correlate.Campaign, dets []behavior.Detection) []DetectionDetail {
	out := []DetectionDetail{}
	for _, di := range c.Detections {
		d := &dets[di]
		dst := d.DstName
		if d.Dst.IsValid() {
			if dst != "" {
				dst += " (" + d.Dst.String() + ")"
			} else {
				dst = d.Dst.String()
			}
		}
		dd := DetectionDetail{ID: d.ID, Analytic: d.Analytic, Score: round2(d.Score), Src: d.Src.String(), Dst: dst, DstPort: d.DstPort,
			FirstSeen: d.FirstSeen.UTC(), LastSeen: d.LastSeen.UTC(), Count: d.Count, Facts: d.Facts, Samples: d.Samples}
		if dd.Facts == nil {
			dd.Facts = []string{}
		}
		if dd.Samples == nil {
			dd.Samples = []string{}
		}
		out = append(out, dd)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FirstSeen.Before(out[j].FirstSeen) })
	return out
}

// widenVictims stretches each victim's span over its detections too:
// correlation dates a detection by its first record only, so a beacon of
// three weeks would otherwise show a dwell of minutes.
func widenVictims(vs []Victim, c *correlate.Campaign, dets []behavior.Detection) {
	for i := range vs {
		v := &vs[i]
		a, err := netip.ParseAddr(v.Address)
		if err != nil {
			continue
		}
		for _, di := range c.Detections {
			d := &dets[di]
			if d.Src.Unmap() != a.Unmap() {
				continue
			}
			if !d.FirstSeen.IsZero() && (v.FirstSeen.IsZero() || d.FirstSeen.Before(v.FirstSeen)) {
				v.FirstSeen = d.FirstSeen.UTC()
			}
			if d.LastSeen.After(v.LastSeen) {
				v.LastSeen = d.LastSeen.UTC()
			}
		}
		v.DwellDays = round2(v.LastSeen.Sub(v.FirstSeen).Hours() / 24)
	}
}

// observedTechniques maps a campaign's detections to the ATT&CK techniques
// their analytics indicate (Config.Techniques), marking those the
// attributed actor is known to use.
func observedTechniques(c *correlate.Campaign, dets []behavior.Detection, cfg attribute.Config, prof *ActorProfile) []ObservedTechnique {
	type agg struct {
		analytics map[string]int
		hosts     map[netip.Addr]bool
		n         int
	}
	by := map[string]*agg{}
	for _, di := range c.Detections {
		d := &dets[di]
		for _, tid := range cfg.Techniques.ByAnalytic[d.Analytic] {
			g := by[tid]
			if g == nil {
				g = &agg{analytics: map[string]int{}, hosts: map[netip.Addr]bool{}}
				by[tid] = g
			}
			g.analytics[d.Analytic]++
			g.hosts[d.Src] = true
			g.n++
		}
	}
	known := map[string]string{}
	if prof != nil {
		for _, t := range prof.Techniques {
			known[t.ID] = t.Name
		}
	}
	out := []ObservedTechnique{}
	for tid, g := range by {
		var how []string
		for an, n := range g.analytics {
			how = append(how, fmt.Sprintf("%s: %d detection(s)", an, n))
		}
		sort.Strings(how)
		name, ok := known[tid]
		out = append(out, ObservedTechnique{ID: tid, Name: name, How: strings.Join(how, "; ") + fmt.Sprintf(" from %d host(s)", len(g.hosts)),
			Detections: g.n, Hosts: len(g.hosts), KnownUse: ok})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
