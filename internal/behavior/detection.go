package behavior

import (
	"net/netip"
	"strconv"
	"time"
)

// Analytic names.
const (
	Beacon    = "beacon"
	LongConn  = "long-connection"
	DNSTunnel = "dns-tunnel"
	Strobe    = "strobe"
	RareDest  = "rare-destination"
	DGA       = "dga"
)

// Detection is one behavioural finding that needs no indicator.
type Detection struct {
	ID       string     `json:"id"`       // stable: the same series gives the same id on re-analysis
	Analytic string     `json:"analytic"` // Beacon, LongConn, DNSTunnel, Strobe, DGA
	Src      netip.Addr `json:"src"`
	Dst      netip.Addr `json:"dst"`      // zero when the series is keyed by name
	DstName  string     `json:"dst_name"` // FQDN, SNI or registered domain
	DstPort  uint16     `json:"dst_port"`
	Proto    string     `json:"proto"`
	// DstASN and DstASOrg name the destination's autonomous system when
	// Config.Locator knows it; the vendor-network rules read them, so
	// Reapply on stored findings reaches the same verdict without a
	// database.
	DstASN   uint32 `json:"dst_asn"`
	DstASOrg string `json:"dst_as_org"`
	// SrcAliases are other addresses of the same source host (a dual-stack
	// host that resolves over IPv6 and connects over IPv4), when the
	// analyzer could link them; see the README.
	SrcAliases []netip.Addr `json:"src_aliases"`
	// Score is in [0,1] after modifiers; RawScore before them.
	Score     float64   `json:"score"`
	RawScore  float64   `json:"raw_score"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int64     `json:"count"` // connections, queries or fragments in the series
	// Parts keeps every component of the score for the explanation
	// (e.g. "interval_skew", "interval_mad", "size_skew", "hours", "coverage").
	Parts map[string]float64 `json:"parts"`
	// Facts are human-readable measurements ("median interval 60s ± 9s").
	Facts []string `json:"facts"`
	// Modifiers applied to RawScore, in order.
	Modifiers []Modifier `json:"modifiers"`
	// Suppressed findings are kept and reported, never dropped.
	Suppressed   bool   `json:"suppressed"`
	SuppressedBy string `json:"suppressed_by"`
	// Samples point at a few records behind the finding (file:line).
	Samples []string `json:"samples"`
}

// Modifier is one adjustment of a score, with its reason.
type Modifier struct {
	Name   string  `json:"name"`   // "warninglist", "allowlist", "rare-destination", …
	Factor float64 `json:"factor"` // multiplies the score; 0 suppresses
	Reason string  `json:"reason"` // e.g. the warninglist's name
}

// Destination is how the finding's destination is shown: name, address
// and port as known.
func (d *Detection) Destination() string {
	s := d.DstName
	if d.Dst.IsValid() {
		if s != "" {
			s += " "
		}
		s += d.Dst.String()
	}
	if d.DstPort != 0 {
		s += ":" + strconv.Itoa(int(d.DstPort))
	}
	return s
}
