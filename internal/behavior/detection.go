package behavior

import (
	"net/netip"
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
	ID       string // stable: the same series gives the same id on re-analysis
	Analytic string // Beacon, LongConn, DNSTunnel, Strobe, DGA
	Src      netip.Addr
	Dst      netip.Addr // zero when the series is keyed by name
	DstName  string     // FQDN, SNI or registered domain
	DstPort  uint16
	Proto    string
	// DstASN and DstASOrg name the destination's autonomous system when
	// Config.Locator knows it; the vendor-network rules read them, so
	// Reapply on stored findings reaches the same verdict without a
	// database.
	DstASN   uint32
	DstASOrg string
	// SrcAliases are other addresses of the same source host (a dual-stack
	// host that resolves over IPv6 and connects over IPv4), when the
	// analyzer could link them; see the README.
	SrcAliases []netip.Addr
	// Score is in [0,1] after modifiers; RawScore before them.
	Score     float64
	RawScore  float64
	FirstSeen time.Time
	LastSeen  time.Time
	Count     int64 // connections, queries or fragments in the series
	// Parts keeps every component of the score for the explanation
	// (e.g. "interval_skew", "interval_mad", "size_skew", "hours", "coverage").
	Parts map[string]float64
	// Facts are human-readable measurements ("median interval 60s ± 9s").
	Facts []string
	// Modifiers applied to RawScore, in order.
	Modifiers []Modifier
	// Suppressed findings are kept and reported, never dropped.
	Suppressed   bool
	SuppressedBy string
	// Samples point at a few records behind the finding (file:line).
	Samples []string
}

// Modifier is one adjustment of a score, with its reason.
type Modifier struct {
	Name   string  `json:"name"`   // "warninglist", "allowlist", "rare-destination", …
	Factor float64 `json:"factor"` // multiplies the score; 0 suppresses
	Reason string  `json:"reason"` // e.g. the warninglist's name
}
