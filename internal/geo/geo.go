// Package geo tells where an IP address is registered or announced: its
// country, autonomous system number and organisation. It ships an embedded
// database built from openly licensed data (Default) so that it works
// offline, reads MaxMind-format databases when a user has them (OpenMMDB),
// names the special-purpose ranges that internal telemetry is full of
// (Reserved), and wraps any of these in a per-run cache (Cached).
package geo

import (
	"net/netip"
)

// Info is what is known about one address. Reserved is set instead of the
// other fields for special-purpose ranges.
type Info struct {
	Country     string `json:"country,omitempty"`      // ISO 3166-1 alpha-2, upper case
	CountryName string `json:"country_name,omitempty"` // English short name
	ASN         uint32 `json:"asn,omitempty"`
	ASOrg       string `json:"as_org,omitempty"`
	Reserved    string `json:"reserved,omitempty"` // e.g. "private (RFC 1918)"
	Source      string `json:"source,omitempty"`   // which database answered
}

// Locator answers Lookup for one address. The bool is false when nothing is
// known. Implementations are safe for concurrent use.
type Locator interface {
	Lookup(netip.Addr) (Info, bool)
}

// normalise strips what does not change where an address is: a zone, and
// the IPv4-mapped IPv6 form.
func normalise(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}
