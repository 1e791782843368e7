package correlate

import (
	"crypto/sha1"
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"
)

// campaign builds the campaign of the incidents at members, joined by links.
func (b *builder) campaign(incidents []*Incident, members []int, links []Link) *Campaign {
	c := &Campaign{Links: links}
	seenInfra := map[string]bool{}
	vict := map[netip.Addr]*Victim{}
	for _, n := range members {
		inc := incidents[n]
		c.Incidents = append(c.Incidents, inc)
		if c.FirstSeen.IsZero() || inc.FirstSeen.Before(c.FirstSeen) {
			c.FirstSeen = inc.FirstSeen
		}
		if inc.LastSeen.After(c.LastSeen) {
			c.LastSeen = inc.LastSeen
		}
		b.addVictim(vict, inc)
		c.Sightings = append(c.Sightings, inc.Sightings...)
		c.Detections = append(c.Detections, inc.Detections...)
		for _, k := range inc.Infra {
			if !seenInfra[k] {
				seenInfra[k] = true
				c.Infrastructure = append(c.Infrastructure, b.infra[k])
			}
		}
	}
	b.addIndicators(c)
	for _, v := range vict {
		c.Victims = append(c.Victims, *v)
	}
	sortCampaign(c)
	c.ID = "C-" + shortHash(c.Incidents[0].ID)
	return c
}

// addVictim widens the victim of inc in vict to the incident's span,
// naming it from the assets on first sight.
func (b *builder) addVictim(vict map[netip.Addr]*Victim, inc *Incident) {
	v, ok := vict[inc.Victim]
	if !ok {
		v = &Victim{Addr: inc.Victim, FirstSeen: inc.FirstSeen, LastSeen: inc.LastSeen}
		if a, ok := b.in.Assets.Lookup(inc.Victim); ok {
			v.Organisation, v.Sector, v.Country = a.Organisation, a.Sector, a.Country
		}
		vict[inc.Victim] = v
	}
	if inc.FirstSeen.Before(v.FirstSeen) {
		v.FirstSeen = inc.FirstSeen
	}
	if inc.LastSeen.After(v.LastSeen) {
		v.LastSeen = inc.LastSeen
	}
}

// addIndicators lists the indicators of c's unsuppressed sightings and the
// actors they point to, each once.
func (b *builder) addIndicators(c *Campaign) {
	seenInd := map[string]bool{}
	seenActor := map[string]bool{}
	for _, si := range c.Sightings {
		s := &b.in.Sightings[si]
		if s.Suppressed || seenInd[s.IndicatorID] {
			continue
		}
		seenInd[s.IndicatorID] = true
		c.Indicators = append(c.Indicators, s.IndicatorID)
		if b.in.ActorsOf == nil {
			continue
		}
		for _, a := range b.in.ActorsOf(s.IndicatorID) {
			if !seenActor[a] {
				seenActor[a] = true
				c.Actors = append(c.Actors, a)
			}
		}
	}
}

// sortCampaign puts c's lists in an order that does not depend on the
// input's.
func sortCampaign(c *Campaign) {
	sort.Slice(c.Victims, func(i, j int) bool { return c.Victims[i].Addr.Less(c.Victims[j].Addr) })
	// ties broken by id: the campaign's id is its first incident's
	sort.Slice(c.Incidents, func(i, j int) bool {
		a, b := c.Incidents[i], c.Incidents[j]
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.ID < b.ID
	})
	sort.Ints(c.Sightings)
	sort.Ints(c.Detections)
	sort.Strings(c.Indicators)
	sort.Strings(c.Actors)
	for _, inf := range c.Infrastructure {
		slices.SortFunc(inf.Victims, netip.Addr.Compare) // not in the order the input came
	}
	sort.Slice(c.Infrastructure, func(i, j int) bool {
		a, b := c.Infrastructure[i], c.Infrastructure[j]
		if a.Suppressed != b.Suppressed {
			return !a.Suppressed
		}
		if a.Sightings+len(a.Detections) != b.Sightings+len(b.Detections) {
			return a.Sightings+len(a.Detections) > b.Sightings+len(b.Detections)
		}
		return a.Key() < b.Key()
	})
}

// sortCampaigns orders campaigns largest first, then by id.
func sortCampaigns(out []*Campaign) {
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		wa, wb := len(a.Sightings)+len(a.Detections), len(b.Sightings)+len(b.Detections)
		if wa != wb {
			return wa > wb
		}
		return a.ID < b.ID
	})
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func shortHash(parts ...string) string {
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}
