package report

import (
	"sort"

	"github.com/whodunit-project/whodunit/internal/match"
)

// MaxHuntIndicators bounds the unseen indicators recommended per actor;
// Actions.HuntIndicatorsTotal keeps the true number.
const MaxHuntIndicators = 50

// namedProfiles returns the profiles of the actors named campaigns are
// attributed to, in the order the campaigns name them.
func namedProfiles(doc *Document, profiles map[string]ActorProfile) []ActorProfile {
	out := []ActorProfile{}
	seen := map[string]bool{}
	for _, c := range doc.Campaigns {
		a := c.Attribution
		if !a.Named || seen[a.ActorID] {
			continue
		}
		seen[a.ActorID] = true
		if p, ok := profiles[a.ActorID]; ok {
			if p.Name == "" {
				p.Name = a.Actor
			}
			out = append(out, p)
		}
	}
	return out
}

// recommend derives the actions from the findings: block every campaign's
// infrastructure that no warninglist excuses, examine every victim, and
// hunt for what the named actors are known to use but was not seen.
func recommend(doc *Document, sightings []match.Sighting) Actions {
	act := Actions{Block: []BlockAction{}, Examine: []ExamineAction{}, Hunt: []HuntAction{}, HuntIndicatorsTotal: map[string]int{}}
	blocked := map[string]bool{}
	for _, c := range doc.Campaigns {
		why := "campaign " + c.ID + " (" + attributionPhrase(&c.Attribution) + ")"
		for _, in := range c.Infrastructure {
			if in.Suppressed || in.Warninglist != "" || blocked[in.Value] {
				continue
			}
			blocked[in.Value] = true
			act.Block = append(act.Block, BlockAction{Value: in.Value, Kind: in.Kind, Role: in.Role, Campaign: c.ID, Why: why})
		}
		perHost := map[string]*ExamineAction{}
		var hosts []string
		for _, inc := range c.Incidents {
			e := perHost[inc.Victim]
			if e == nil {
				e = &ExamineAction{Host: inc.Victim, Campaign: c.ID}
				perHost[inc.Victim] = e
				hosts = append(hosts, inc.Victim)
			}
			e.Sightings += inc.Sightings
			e.Detections += inc.Detections
		}
		for _, v := range c.VictimDetails {
			if e := perHost[v.Address]; e != nil {
				e.Organisation = v.Organisation
			}
		}
		for _, h := range hosts {
			act.Examine = append(act.Examine, *perHost[h])
		}
	}
	sort.SliceStable(act.Examine, func(i, j int) bool {
		a, b := act.Examine[i], act.Examine[j]
		return a.Sightings+a.Detections > b.Sightings+b.Detections
	})
	seenInd := map[string]bool{}
	for i := range sightings {
		seenInd[sightings[i].IndicatorID] = true
	}
	for _, p := range doc.Actors {
		act.Hunt = append(act.Hunt, huntFor(doc, p, seenInd, &act)...)
	}
	return act
}

// huntFor lists an actor's techniques no campaign of it showed, and its
// indicators no record matched.
func huntFor(doc *Document, p ActorProfile, seenInd map[string]bool, act *Actions) []HuntAction {
	observed := map[string]bool{}
	for _, c := range doc.Campaigns {
		if c.Attribution.Named && c.Attribution.ActorID == p.ID {
			for _, t := range c.Techniques {
				observed[t.ID] = true
			}
		}
	}
	var out []HuntAction
	for _, t := range p.Techniques {
		if !observed[t.ID] {
			out = append(out, HuntAction{Actor: p.Name, Kind: "technique", Value: t.ID, Name: t.Name})
		}
	}
	n := 0
	for _, k := range p.Indicators {
		if seenInd[k.ID] {
			continue
		}
		act.HuntIndicatorsTotal[p.Name]++
		if n < MaxHuntIndicators {
			n++
			v := k.Pattern
			if len(k.Values) > 0 {
				v = k.Values[0]
			}
			out = append(out, HuntAction{Actor: p.Name, Kind: "indicator", Value: v, Name: k.Pattern})
		}
	}
	listed := map[string]bool{}
	for _, k := range p.Indicators {
		listed[k.ID] = true
	}
	for _, id := range p.indicatorIDs {
		if !listed[id] && !seenInd[id] {
			act.HuntIndicatorsTotal[p.Name]++
		}
	}
	return out
}

// attributionPhrase says in a few words what a campaign is attributed to.
func attributionPhrase(a *Attribution) string {
	if a.Named {
		return a.Actor + ", " + a.Estimate
	}
	return "not attributed"
}
