package match

import (
	"net/netip"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// Sighting is one indicator matched by one event, with the exact field.
type Sighting struct {
	IndicatorID string          `json:"indicator_id"`
	Snapshot    string          `json:"snapshot"`  // version id of the matcher snapshot that produced it
	Type        intel.ValueType `json:"type"`      // type of the indicator value that matched
	Indicator   string          `json:"indicator"` // the indicator's value (evil.com), or its pattern (cut to MaxPatternExcerpt bytes)
	Field       string          `json:"field"`     // the event field that matched: "dns.query", "conn.dst_ip", "tls.sni", …
	Value       string          `json:"value"`     // the value seen (a.b.evil.com)
	Direction   string          `json:"direction"` // "src" or "dst" for IP matches, "" otherwise
	// Suppressed is set when the value is on a warninglist; Warninglist names it.
	Suppressed  bool   `json:"suppressed"`
	Warninglist string `json:"warninglist"`
	// Retrospective marks a sighting found by a retro-hunt: intelligence
	// that arrived after the record was read, matched against the
	// observable index. Time and the record are the original ones.
	Retrospective bool `json:"retrospective,omitempty"`

	Time time.Time      `json:"time"`
	Kind telemetry.Kind `json:"kind"`
	// Source names the record's file logically, whatever path it was read
	// through: the name the user gave the source (scan.Config.SourceName)
	// or a fingerprint of the file's first lines, then the file's path
	// relative to the scanned root; "stdin" (or the name given) for
	// standard input. Key hashes it. Empty when the producer sets none.
	Source string `json:"source,omitempty"`
	// File is where the record was read, as the scan engine opened it (an
	// absolute path): for showing, not for identity.
	File    string     `json:"file"`
	Line    int64      `json:"line"` // line or packet number
	Offset  int64      `json:"offset"`
	UID     string     `json:"uid"`
	SrcIP   netip.Addr `json:"src_ip"`
	DstIP   netip.Addr `json:"dst_ip"`
	SrcPort uint16     `json:"src_port"`
	DstPort uint16     `json:"dst_port"`
}
