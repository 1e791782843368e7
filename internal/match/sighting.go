package match

import (
	"net/netip"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Sighting is one indicator matched by one event, with the exact field.
type Sighting struct {
	IndicatorID string
	Snapshot    string          // version id of the matcher snapshot that produced it
	Type        intel.ValueType // type of the indicator value that matched
	Indicator   string          // the indicator's value (evil.com), or its pattern
	Field       string          // the event field that matched: "dns.query", "conn.dst_ip", "tls.sni", …
	Value       string          // the value seen (a.b.evil.com)
	Direction   string          // "src" or "dst" for IP matches, "" otherwise
	// Suppressed is set when the value is on a warninglist; Warninglist names it.
	Suppressed  bool
	Warninglist string

	Time    time.Time
	Kind    telemetry.Kind
	File    string
	Line    int64 // line or packet number
	Offset  int64
	UID     string
	SrcIP   netip.Addr
	DstIP   netip.Addr
	SrcPort uint16
	DstPort uint16
}
