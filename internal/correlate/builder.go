package correlate

import (
	"net/netip"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// builder holds the state of one Correlate call: the infrastructure found
// so far (shared by every campaign that names it) and each victim's
// activity, to be cut into incidents.
type builder struct {
	in        Input
	cfg       Config
	infra     map[string]*Infra // by Infra.Key
	perVictim map[netip.Addr][]item
}

// item is one sighting or detection of a victim's activity: a sighting
// is one moment, a detection spans its series from t to end.
type item struct {
	t, end    time.Time
	sighting  int // -1 for a detection
	detection int
	infra     []*Infra
}

func newBuilder(in Input, cfg Config) *builder {
	return &builder{in: in, cfg: cfg, infra: map[string]*Infra{}, perVictim: map[netip.Addr][]item{}}
}

// getInfra returns the infrastructure kind:value, creating it (located, for
// an address) on first use.
func (b *builder) getInfra(kind, value string) *Infra {
	k := kind + ":" + value
	if i, ok := b.infra[k]; ok {
		return i
	}
	i := &Infra{Value: value, Kind: kind, Role: RoleUnknown}
	if kind == "ip" && b.in.Geo != nil {
		if a, err := netip.ParseAddr(value); err == nil {
			if g, ok := b.in.Geo.Lookup(a); ok {
				i.Country, i.CountryName, i.ASN, i.ASOrg = g.Country, g.CountryName, g.ASN, g.ASOrg
			}
		}
	}
	b.infra[k] = i
	return i
}

// setRole gives i a role unless it has a better-supported one already.
func setRole(i *Infra, role, why string) {
	// A specific role beats "unknown", one from an indicator beats a
	// suspicion from behaviour, and C2 beats a guess of delivery.
	if i.Role == RoleUnknown || (i.Role == RoleSuspectedC2 && role != RoleSuspectedC2) || role == RoleHopPoint ||
		(role == RoleC2 && i.Role == RoleDelivery) {
		i.Role, i.RoleReason = role, why
	}
}

// touch widens i's span to t and records the victim.
func touch(i *Infra, t time.Time, victim netip.Addr) {
	if i.FirstSeen.IsZero() || t.Before(i.FirstSeen) {
		i.FirstSeen = t
	}
	if t.After(i.LastSeen) {
		i.LastSeen = t
	}
	for _, v := range i.Victims {
		if v == victim {
			return
		}
	}
	i.Victims = append(i.Victims, victim)
}

// addSightings files every sighting under its victim, with the indicator's
// value and, for a matched name, the server behind it.
func (b *builder) addSightings() {
	for idx := range b.in.Sightings {
		s := &b.in.Sightings[idx]
		e, ok := b.cfg.classify(s, b.in.Indicators[s.IndicatorID], b.in.Assets)
		if !ok {
			continue
		}
		i := b.getInfra(e.kind, e.infra)
		i.Sightings++
		if !containsStr(i.IndicatorIDs, s.IndicatorID) {
			i.IndicatorIDs = append(i.IndicatorIDs, s.IndicatorID)
		}
		if s.Suppressed {
			i.Suppressed, i.Warninglist = true, s.Warninglist
		}
		setRole(i, e.role, e.why)
		touch(i, s.Time, e.victim)
		list := []*Infra{i}
		if e.peerIP.IsValid() && !b.cfg.IsInternal(e.peerIP, b.in.Assets) && !s.Suppressed {
			// The server behind a matched name is infrastructure too.
			p := b.getInfra("ip", e.peerIP.String())
			setRole(p, e.role, "serves "+e.infra)
			touch(p, s.Time, e.victim)
			list = append(list, p)
		}
		b.perVictim[e.victim] = append(b.perVictim[e.victim], item{t: s.Time, end: s.Time, sighting: idx, detection: -1, infra: list})
	}
}

// addDetections files every detection that is scored high enough and not
// suppressed under its source host, with the destination it names.
func (b *builder) addDetections() {
	for idx := range b.in.Detections {
		d := &b.in.Detections[idx]
		if d.Suppressed || d.Score < b.cfg.MinDetectionScore {
			continue
		}
		victim := d.Src
		if !victim.IsValid() {
			continue
		}
		var list []*Infra
		// behaviour alone: no indicator says this is the adversary's
		why := d.Analytic + " from the victim (behaviour only, no indicator)"
		if d.Analytic == behavior.DGA || d.Analytic == behavior.DNSTunnel {
			why = d.Analytic + " activity (behaviour only, no indicator)"
		}
		if d.Dst.IsValid() && !b.cfg.IsInternal(d.Dst, b.in.Assets) {
			list = append(list, b.getInfra("ip", d.Dst.Unmap().String()))
		}
		if d.DstName != "" {
			list = append(list, b.getInfra("domain", d.DstName))
		}
		for _, i := range list {
			i.Detections = append(i.Detections, d.ID)
			setRole(i, RoleSuspectedC2, why)
			touch(i, d.FirstSeen, victim)
			touch(i, d.LastSeen, victim)
		}
		end := d.LastSeen
		if end.Before(d.FirstSeen) {
			end = d.FirstSeen
		}
		b.perVictim[victim] = append(b.perVictim[victim], item{t: d.FirstSeen, end: end, sighting: -1, detection: idx, infra: list})
	}
}
