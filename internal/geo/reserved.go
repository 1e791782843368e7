package geo

import "net/netip"

// ReservedSource is Info.Source for addresses answered from the table of
// special-purpose ranges rather than from a database.
const ReservedSource = "IANA special-purpose registry"

type reservedRange struct {
	prefix netip.Prefix
	note   string
}

// reserved4 and reserved6 list the special-purpose ranges that telemetry is full of, most
// specific first (the first match wins). From the IANA IPv4 and IPv6
// special-purpose address registries and the RFCs they cite.
var reserved4 = []reservedRange{
	{netip.MustParsePrefix("255.255.255.255/32"), "limited broadcast (RFC 919)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation TEST-NET-1 (RFC 5737)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation TEST-NET-2 (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation TEST-NET-3 (RFC 5737)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast, deprecated (RFC 7526)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (RFC 3927)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space, carrier-grade NAT (RFC 6598)"},
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (RFC 791)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (RFC 1122)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (RFC 5771)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved for future use (RFC 1112)"},
}

var reserved6 = []reservedRange{
	{netip.MustParsePrefix("::/128"), "unspecified address (RFC 4291)"},
	{netip.MustParsePrefix("::1/128"), "loopback (RFC 4291)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (RFC 6666)"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking (RFC 5180)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use IPv4/IPv6 translation (RFC 8215)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (RFC 3849)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation (RFC 9637)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local (RFC 4291)"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (RFC 4193)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast (RFC 4291)"},
}

// reservedFirstOctet says which first octets can start a reserved IPv4
// range, so that most public addresses need no prefix test.
var reservedFirstOctet = func() (t [256]bool) {
	for _, r := range reserved4 {
		p := r.prefix.Masked()
		first := p.Addr().As4()[0]
		n := 1
		if p.Bits() < 8 {
			n = 1 << (8 - p.Bits())
		}
		for i := 0; i < n; i++ {
			t[int(first)+i] = true
		}
	}
	return t
}()

// Reserved reports whether a is in a special-purpose range that no
// geolocation database can place (private, loopback, link-local, CGNAT,
// unique local, documentation, multicast, ...) and returns a short note
// naming the range and its RFC. IPv4-mapped IPv6 addresses are judged as
// IPv4.
func Reserved(a netip.Addr) (string, bool) {
	a = a.Unmap().WithZone("")
	table := reserved6
	if a.Is4() {
		if !reservedFirstOctet[a.As4()[0]] {
			return "", false
		}
		table = reserved4
	} else {
		b := a.As16()
		switch hi := uint16(b[0])<<8 | uint16(b[1]); {
		case hi == 0x0000, hi == 0x0064, hi == 0x0100, hi == 0x2001, hi == 0x3fff, b[0] >= 0xfc:
		default:
			return "", false // the common case: no special range starts so
		}
	}
	for i := range table {
		if table[i].prefix.Contains(a) {
			return table[i].note, true
		}
	}
	return "", false
}
