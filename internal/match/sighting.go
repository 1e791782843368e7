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

	Time time.Time
	Kind telemetry.Kind
	// Source names the record's file logically, whatever path it was read
	// through: the name the user gave the source (scan.Config.SourceName)
	// or a fingerprint of the file's first lines, then the file's path
	// relative to the scanned root; "stdin" (or the name given) for
	// standard input. Key hashes it. Empty when the producer sets none.
	Source string `json:",omitempty"`
	// File is where the record was read, as the scan engine opened it (an
	// absolute path): for showing, not for identity.
	File    string
	Line    int64 // line or packet number
	Offset  int64
	UID     string
	SrcIP   netip.Addr
	DstIP   netip.Addr
	SrcPort uint16
	DstPort uint16
}
