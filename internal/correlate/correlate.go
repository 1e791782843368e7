// Package correlate groups sightings and detections into incidents (one
// victim host over a span of time) and incidents into campaigns (joined by
// shared infrastructure or by the actor their indicators point to), and
// describes each campaign's victims and infrastructure with the evidence
// behind every link.
package correlate

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Infrastructure roles.
const (
	RoleC2       = "c2"
	RoleHopPoint = "hop-point"
	RoleDelivery = "delivery"
	RoleUnknown  = "unknown"
)

// Config tunes correlation.
type Config struct {
	// Internal lists address ranges that belong to the defended network,
	// besides private and other reserved ranges and the asset file.
	Internal []netip.Prefix
	// IncidentGap splits one victim's activity into separate incidents
	// when nothing is seen for this long.
	IncidentGap time.Duration
	// MinDetectionScore is the behaviour score from which a detection
	// enters correlation.
	MinDetectionScore float64
}

// DefaultConfig returns the defaults documented in the README.
func DefaultConfig() Config {
	return Config{IncidentGap: 14 * 24 * time.Hour, MinDetectionScore: 0.7}
}

// Input is what correlation works on.
type Input struct {
	Sightings  []match.Sighting
	Detections []behavior.Detection
	// Indicators maps indicator ids to their objects (for kill-chain and
	// naming hints about roles).
	Indicators map[string]*intel.Object
	// ActorsOf returns the (canonical) actor ids an indicator points to.
	ActorsOf func(indicatorID string) []string
	Geo      geo.Locator
	Assets   *Assets
}

// Campaign is activity that belongs together.
type Campaign struct {
	ID             string
	FirstSeen      time.Time
	LastSeen       time.Time
	Victims        []Victim
	Incidents      []*Incident
	Infrastructure []*Infra
	// Sightings and Detections index Input.Sightings / Input.Detections.
	Sightings  []int
	Detections []int
	Indicators []string // indicator ids seen (not suppressed)
	Actors     []string // actor ids the indicators point to
	Links      []Link   // why the incidents are one campaign
}

// Victim is an internal host seen in a campaign.
type Victim struct {
	Addr         netip.Addr
	Organisation string
	Sector       string
	Country      string
	FirstSeen    time.Time
	LastSeen     time.Time
}

// Dwell is how long the victim was seen active in the campaign.
func (v Victim) Dwell() time.Duration { return v.LastSeen.Sub(v.FirstSeen) }

// Incident is one victim host's activity over a span of time.
type Incident struct {
	ID         string
	Victim     netip.Addr
	FirstSeen  time.Time
	LastSeen   time.Time
	Sightings  []int
	Detections []int
	Infra      []string // keys of Infra
}

// Infra is one piece of adversary infrastructure.
type Infra struct {
	Value        string
	Kind         string // ip, domain, url, cert, ja3, hash, email, user-agent
	Role         string
	Country      string
	CountryName  string
	ASN          uint32
	ASOrg        string
	IndicatorIDs []string
	Detections   []string // detection ids naming it
	FirstSeen    time.Time
	LastSeen     time.Time
	Victims      []netip.Addr
	Sightings    int
	// Suppressed infrastructure is on a warninglist: it is reported but
	// never joins incidents.
	Suppressed  bool
	Warninglist string
	// RoleReason says why the role was chosen.
	RoleReason string
}

// Key identifies the infrastructure across campaigns.
func (i *Infra) Key() string { return i.Kind + ":" + i.Value }

// Link is one reason two incidents are in the same campaign.
type Link struct {
	A, B   string // incident ids
	Reason string // "shared infrastructure" or "same actor"
	Value  string // the shared value or actor id
}

// IsInternal reports whether addr belongs to the defended network.
func (c Config) IsInternal(addr netip.Addr, assets *Assets) bool {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return false
	}
	if _, ok := assets.Lookup(addr); ok {
		return true
	}
	for _, p := range c.Internal {
		if p.Contains(addr) {
			return true
		}
	}
	return addr.IsPrivate() || addr.IsLoopback() || addr.IsLinkLocalUnicast() || cgnat.Contains(addr)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// kindOf maps an indicator value type to an infrastructure kind.
func kindOf(t intel.ValueType) string {
	switch t {
	case intel.IPv4, intel.IPv6, intel.CIDR:
		return "ip"
	case intel.Domain:
		return "domain"
	case intel.URL, intel.URIPath:
		return "url"
	case intel.X509SHA1, intel.X509SHA256, intel.X509Serial:
		return "cert"
	case intel.JA3, intel.JA3S:
		return "ja3"
	case intel.MD5, intel.SHA1, intel.SHA256, intel.SHA512, intel.FileName:
		return "hash"
	case intel.Email, intel.EmailSubj:
		return "email"
	case intel.UserAgent:
		return "user-agent"
	}
	return string(t)
}

// endpoint says, for one sighting, which host is the victim and which
// value is the adversary's.
type endpoint struct {
	victim netip.Addr
	infra  string
	kind   string
	role   string
	why    string
	peerIP netip.Addr // the other side's address when the infra is a name
}

func (c Config) classify(s *match.Sighting, ind *intel.Object, assets *Assets) (endpoint, bool) {
	t := s.Type
	if t == "" {
		// a STIX pattern matched: the kind is that of the value it named
		t = intel.Detect(s.Value)
	}
	e := endpoint{infra: s.Value, kind: kindOf(t)}
	srcIn, dstIn := c.IsInternal(s.SrcIP, assets), c.IsInternal(s.DstIP, assets)
	switch {
	case e.kind == "ip" && s.Direction == "src":
		// The adversary's address talked to us first: an inbound hop point
		// or scanner.
		e.victim, e.role, e.why = s.DstIP, RoleHopPoint, "connected inbound to the victim"
	case e.kind == "ip":
		e.victim = s.SrcIP
		if !srcIn && dstIn {
			e.victim = s.DstIP
		}
		e.role, e.why = RoleC2, "contacted by the victim"
	case e.kind == "hash" || e.kind == "email":
		e.victim, e.role, e.why = s.DstIP, RoleDelivery, "delivered a file or message to the victim"
		if !dstIn && srcIn {
			e.victim = s.SrcIP
		}
		if s.Kind == telemetry.KindFile || s.Kind == telemetry.KindHTTP {
			e.peerIP = s.SrcIP
		}
	default: // names, URLs, certificates, JA3: the victim is the client
		e.victim, e.role, e.why = s.SrcIP, RoleC2, "contacted by the victim"
		e.peerIP = s.DstIP
		if !srcIn && dstIn {
			e.victim, e.peerIP = s.DstIP, s.SrcIP
		}
	}
	if ind != nil {
		if r, why := roleFromIntel(ind); r != "" {
			e.role, e.why = r, why
		}
	}
	if !e.victim.IsValid() {
		return e, false
	}
	if s.Kind == telemetry.KindDNS && e.kind == "domain" {
		e.peerIP = netip.Addr{} // the DNS server is not the adversary's
	}
	return e, true
}

// roleFromIntel reads a role from what the intelligence says about an
// indicator: its kill-chain phases, labels and name.
func roleFromIntel(o *intel.Object) (string, string) {
	text := strings.ToLower(o.Name + " " + strings.Join(o.Labels, " "))
	for _, k := range o.KillChain {
		text += " " + strings.ToLower(k.PhaseName)
	}
	switch {
	case strings.Contains(text, "hop point") || strings.Contains(text, "hop-point"):
		return RoleHopPoint, "the intelligence calls it a hop point"
	case strings.Contains(text, "command-and-control") || strings.Contains(text, "command and control") || strings.Contains(text, " c2") || strings.HasPrefix(text, "c2"):
		return RoleC2, "the intelligence calls it command and control"
	case strings.Contains(text, "delivery") || strings.Contains(text, "phishing"):
		return RoleDelivery, "the intelligence calls it delivery"
	}
	return "", ""
}

// Correlate builds campaigns, largest first.
func Correlate(in Input, cfg Config) []*Campaign {
	if cfg.IncidentGap <= 0 {
		cfg.IncidentGap = DefaultConfig().IncidentGap
	}
	infra := map[string]*Infra{}
	getInfra := func(kind, value string) *Infra {
		k := kind + ":" + value
		if i, ok := infra[k]; ok {
			return i
		}
		i := &Infra{Value: value, Kind: kind, Role: RoleUnknown}
		if kind == "ip" && in.Geo != nil {
			if a, err := netip.ParseAddr(value); err == nil {
				if g, ok := in.Geo.Lookup(a); ok {
					i.Country, i.CountryName, i.ASN, i.ASOrg = g.Country, g.CountryName, g.ASN, g.ASOrg
				}
			}
		}
		infra[k] = i
		return i
	}
	setRole := func(i *Infra, role, why string) {
		// A specific role from the intelligence or behaviour beats "unknown";
		// C2 beats a guess of delivery.
		if i.Role == RoleUnknown || role == RoleHopPoint || (role == RoleC2 && i.Role == RoleDelivery) {
			i.Role, i.RoleReason = role, why
		}
	}
	touch := func(i *Infra, t time.Time, victim netip.Addr) {
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

	// Activity per victim, in time order, to cut incidents.
	type item struct {
		t         time.Time
		sighting  int // -1 for a detection
		detection int
		infra     []*Infra
	}
	perVictim := map[netip.Addr][]item{}
	for idx := range in.Sightings {
		s := &in.Sightings[idx]
		ind := in.Indicators[s.IndicatorID]
		e, ok := cfg.classify(s, ind, in.Assets)
		if !ok {
			continue
		}
		i := getInfra(e.kind, e.infra)
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
		if e.peerIP.IsValid() && !cfg.IsInternal(e.peerIP, in.Assets) && !s.Suppressed {
			// The server behind a matched name is infrastructure too.
			p := getInfra("ip", e.peerIP.String())
			setRole(p, e.role, "serves "+e.infra)
			touch(p, s.Time, e.victim)
			list = append(list, p)
		}
		perVictim[e.victim] = append(perVictim[e.victim], item{t: s.Time, sighting: idx, detection: -1, infra: list})
	}
	for idx := range in.Detections {
		d := &in.Detections[idx]
		if d.Suppressed || d.Score < cfg.MinDetectionScore {
			continue
		}
		victim := d.Src
		if !victim.IsValid() {
			continue
		}
		var list []*Infra
		role, why := RoleC2, d.Analytic+" from the victim"
		if d.Analytic == behavior.DGA || d.Analytic == behavior.DNSTunnel {
			why = d.Analytic + " activity"
		}
		if d.Dst.IsValid() && !cfg.IsInternal(d.Dst, in.Assets) {
			list = append(list, getInfra("ip", d.Dst.Unmap().String()))
		}
		if d.DstName != "" {
			list = append(list, getInfra("domain", d.DstName))
		}
		for _, i := range list {
			i.Detections = append(i.Detections, d.ID)
			setRole(i, role, why)
			touch(i, d.FirstSeen, victim)
			touch(i, d.LastSeen, victim)
		}
		perVictim[victim] = append(perVictim[victim], item{t: d.FirstSeen, sighting: -1, detection: idx, infra: list})
	}

	// Incidents.
	var incidents []*Incident
	incInfra := map[*Incident]map[string]bool{}
	victims := make([]netip.Addr, 0, len(perVictim))
	for v := range perVictim {
		victims = append(victims, v)
	}
	sort.Slice(victims, func(i, j int) bool { return victims[i].Less(victims[j]) })
	for _, v := range victims {
		items := perVictim[v]
		sort.SliceStable(items, func(i, j int) bool { return items[i].t.Before(items[j].t) })
		var cur *Incident
		for _, it := range items {
			if cur == nil || it.t.Sub(cur.LastSeen) > cfg.IncidentGap {
				cur = &Incident{Victim: v, FirstSeen: it.t, LastSeen: it.t}
				incidents = append(incidents, cur)
				incInfra[cur] = map[string]bool{}
			}
			if it.t.After(cur.LastSeen) {
				cur.LastSeen = it.t
			}
			if it.sighting >= 0 {
				cur.Sightings = append(cur.Sightings, it.sighting)
			} else {
				cur.Detections = append(cur.Detections, it.detection)
			}
			for _, i := range it.infra {
				if !incInfra[cur][i.Key()] {
					incInfra[cur][i.Key()] = true
					cur.Infra = append(cur.Infra, i.Key())
				}
			}
		}
	}
	for _, inc := range incidents {
		inc.ID = "I-" + shortHash(inc.Victim.String(), inc.FirstSeen.UTC().Format(time.RFC3339Nano))
	}

	// Join incidents: shared (unsuppressed) infrastructure, or the same actor.
	uf := newUnionFind(len(incidents))
	var links []struct {
		a, b int
		l    Link
	}
	join := func(a, b int, reason, value string) {
		if uf.union(a, b) {
			links = append(links, struct {
				a, b int
				l    Link
			}{a, b, Link{A: incidents[a].ID, B: incidents[b].ID, Reason: reason, Value: value}})
		}
	}
	firstByInfra := map[string]int{}
	firstByActor := map[string]int{}
	for n, inc := range incidents {
		for _, k := range inc.Infra {
			if infra[k].Suppressed {
				continue
			}
			if m, ok := firstByInfra[k]; ok {
				join(m, n, "shared infrastructure", infra[k].Value)
			} else {
				firstByInfra[k] = n
			}
		}
		if in.ActorsOf == nil {
			continue
		}
		for _, si := range inc.Sightings {
			s := &in.Sightings[si]
			if s.Suppressed {
				continue
			}
			// Only an indicator that one actor alone claims says whose
			// activity this is; a shared one would glue actors together.
			actors := in.ActorsOf(s.IndicatorID)
			if len(actors) != 1 {
				continue
			}
			a := actors[0]
			if m, ok := firstByActor[a]; ok {
				join(m, n, "same actor", a)
			} else {
				firstByActor[a] = n
			}
		}
	}

	// Campaigns from the joined groups.
	groups := map[int][]int{}
	for n := range incidents {
		r := uf.find(n)
		groups[r] = append(groups[r], n)
	}
	var out []*Campaign
	for root, members := range groups {
		c := &Campaign{}
		seenInfra := map[string]bool{}
		seenInd := map[string]bool{}
		seenActor := map[string]bool{}
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
			v, ok := vict[inc.Victim]
			if !ok {
				v = &Victim{Addr: inc.Victim, FirstSeen: inc.FirstSeen, LastSeen: inc.LastSeen}
				if a, ok := in.Assets.Lookup(inc.Victim); ok {
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
			c.Sightings = append(c.Sightings, inc.Sightings...)
			c.Detections = append(c.Detections, inc.Detections...)
			for _, k := range inc.Infra {
				if !seenInfra[k] {
					seenInfra[k] = true
					c.Infrastructure = append(c.Infrastructure, infra[k])
				}
			}
			for _, si := range inc.Sightings {
				s := &in.Sightings[si]
				if s.Suppressed || seenInd[s.IndicatorID] {
					continue
				}
				seenInd[s.IndicatorID] = true
				c.Indicators = append(c.Indicators, s.IndicatorID)
				if in.ActorsOf != nil {
					for _, a := range in.ActorsOf(s.IndicatorID) {
						if !seenActor[a] {
							seenActor[a] = true
							c.Actors = append(c.Actors, a)
						}
					}
				}
			}
		}
		for _, l := range links {
			if uf.find(l.a) == root {
				c.Links = append(c.Links, l.l)
			}
		}
		for _, v := range vict {
			c.Victims = append(c.Victims, *v)
		}
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
		c.ID = "C-" + shortHash(c.Incidents[0].ID)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		wa, wb := len(a.Sightings)+len(a.Detections), len(b.Sightings)+len(b.Detections)
		if wa != wb {
			return wa > wb
		}
		return a.ID < b.ID
	})
	return out
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

type unionFind struct{ parent []int }

func newUnionFind(n int) *unionFind {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return &unionFind{parent: p}
}

func (u *unionFind) find(x int) int {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// union joins a and b and reports whether they were apart.
func (u *unionFind) union(a, b int) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if ra < rb {
		u.parent[rb] = ra
	} else {
		u.parent[ra] = rb
	}
	return true
}

// String summarises a campaign on one line.
func (c *Campaign) String() string {
	return fmt.Sprintf("%s: %d victims, %d infrastructure, %d sightings, %d detections, %s – %s", c.ID, len(c.Victims),
		len(c.Infrastructure), len(c.Sightings), len(c.Detections), c.FirstSeen.Format(time.RFC3339), c.LastSeen.Format(time.RFC3339))
}
