// Package correlate groups sightings and detections into incidents (one
// victim host over a span of time) and incidents into campaigns (joined by
// shared infrastructure or by the actor their indicators point to), and
// describes each campaign's victims and infrastructure with the evidence
// behind every link.
package correlate

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
)

// Infrastructure roles. A role is only what the evidence supports:
//
//   - RoleC2: a victim contacted an indicator's value (an address, a name,
//     a URL, a certificate) or the server behind a matched name, or the
//     intelligence calls it command and control.
//   - RoleHopPoint: an indicator's address connected inbound to a victim,
//     or the intelligence calls it a hop point.
//   - RoleDelivery: a file or message indicator came from it, or the
//     intelligence calls it delivery.
//   - RoleSuspectedC2: only behaviour points at it (a victim beaconed to
//     it, held long connections, strobed it or tunnelled DNS through it);
//     no indicator names it, so it is a suspicion, not a finding of C2.
//   - RoleUnknown: nothing says which.
//
// A role from an indicator or the intelligence replaces RoleSuspectedC2.
const (
	RoleC2          = "c2"
	RoleHopPoint    = "hop-point"
	RoleDelivery    = "delivery"
	RoleSuspectedC2 = "suspected-c2"
	RoleUnknown     = "unknown"
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

// Correlate builds campaigns, largest first: every sighting and detection
// is attributed to a victim and the infrastructure it names, each victim's
// activity is cut into incidents, and incidents that share infrastructure
// or a single actor are joined into campaigns.
func Correlate(in Input, cfg Config) []*Campaign {
	if cfg.IncidentGap <= 0 {
		cfg.IncidentGap = DefaultConfig().IncidentGap
	}
	b := newBuilder(in, cfg)
	b.addSightings()
	b.addDetections()
	incidents := b.cutIncidents()
	j := b.joinIncidents(incidents)
	var out []*Campaign
	for root, members := range j.groups() {
		out = append(out, b.campaign(incidents, members, j.linksOf(root)))
	}
	sortCampaigns(out)
	return out
}

// String summarises a campaign on one line.
func (c *Campaign) String() string {
	return fmt.Sprintf("%s: %d victims, %d infrastructure, %d sightings, %d detections, %s – %s", c.ID, len(c.Victims),
		len(c.Infrastructure), len(c.Sightings), len(c.Detections), c.FirstSeen.Format(time.RFC3339), c.LastSeen.Format(time.RFC3339))
}
