package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/whodunit-project/whodunit/internal/telemetry/pcap/capfile"
)

// IP protocol numbers handled as flows.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// TCP flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// packetInfo is what the reader needs of one decoded packet. Slices point
// into the capture buffer.
type packetInfo struct {
	src, dst         netip.Addr
	proto            uint8
	srcPort, dstPort uint16 // ICMP: type and code
	flags            uint8
	seq              uint32
	payload          []byte // captured transport payload
	payloadLen       int    // payload length on the wire (≥ len(payload))
	// udpSum is the checksum state of a UDP datagram; see checkUDP.
	udpSum    uint16
	ipHdr     []byte // the IP header
	transport []byte // the whole captured transport segment
	frag      fragment
}

// fragment is one IP fragment, returned with errFragment.
type fragment struct {
	id       uint32
	proto    uint8
	offset   int
	more     bool
	complete bool // the capture holds the whole fragment
	data     []byte
}

// errFragment marks an IP fragment: pi.frag describes it.
var errFragment = errors.New("IP fragment")

// errNotIP marks frames that carry nothing this reader follows (ARP,
// fragments after the first, other IP protocols): skipped silently.
var errNotIP = errors.New("not a followed IP packet")

// decode peels the link, network and transport headers of one frame.
func decode(linkType int, data []byte, pi *packetInfo) error {
	switch linkType {
	case capfile.LinkEthernet:
		return decodeEthernet(data, pi)
	case capfile.LinkRaw, capfile.LinkRawOld, capfile.LinkRawOld2:
		return decodeIPByVersion(data, pi)
	case capfile.LinkIPv4:
		return decodeIPv4(data, pi)
	case capfile.LinkIPv6:
		return decodeIPv6(data, pi)
	case capfile.LinkSLL:
		if len(data) < 16 {
			//lint:ignore ST1005 Linux is a proper noun
			return fmt.Errorf("Linux cooked header: %d of 16 bytes", len(data))
		}
		return decodeEtherType(binary.BigEndian.Uint16(data[14:]), data[16:], pi)
	case capfile.LinkSLL2:
		if len(data) < 20 {
			//lint:ignore ST1005 Linux is a proper noun
			return fmt.Errorf("Linux cooked v2 header: %d of 20 bytes", len(data))
		}
		return decodeEtherType(binary.BigEndian.Uint16(data), data[20:], pi)
	case capfile.LinkNull, capfile.LinkLoop:
		if len(data) < 4 {
			return fmt.Errorf("loopback header: %d of 4 bytes", len(data))
		}
		// The family is in the writer's byte order for NULL; try both.
		fam := binary.LittleEndian.Uint32(data)
		if linkType == capfile.LinkLoop || fam > 0xffff {
			fam = binary.BigEndian.Uint32(data)
		}
		switch fam {
		case 2:
			return decodeIPv4(data[4:], pi)
		case 10, 24, 28, 30:
			return decodeIPv6(data[4:], pi)
		}
		return errNotIP
	}
	return errUnsupportedLink
}

// errUnsupportedLink is reported once per file.
var errUnsupportedLink = errors.New("unsupported link type")

const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	etherQinQ2  = 0x9100
	etherMPLS   = 0x8847
	etherPPPoES = 0x8864
)

func decodeEthernet(data []byte, pi *packetInfo) error {
	if len(data) < 14 {
		//lint:ignore ST1005 Ethernet is a proper noun
		return fmt.Errorf("Ethernet header: %d of 14 bytes", len(data))
	}
	et := binary.BigEndian.Uint16(data[12:])
	rest := data[14:]
	if et <= 1500 { // 802.3 length: only LLC/SNAP carries IP
		if len(rest) >= 8 && rest[0] == 0xaa && rest[1] == 0xaa && rest[2] == 0x03 {
			return decodeEtherType(binary.BigEndian.Uint16(rest[6:]), rest[8:], pi)
		}
		return errNotIP
	}
	return decodeEtherType(et, rest, pi)
}

func decodeEtherType(et uint16, rest []byte, pi *packetInfo) error {
	for tags := 0; ; tags++ {
		switch et {
		case etherIPv4:
			return decodeIPv4(rest, pi)
		case etherIPv6:
			return decodeIPv6(rest, pi)
		case etherVLAN, etherQinQ, etherQinQ2:
			if tags > 8 || len(rest) < 4 {
				return fmt.Errorf("VLAN tag: %d of 4 bytes", len(rest))
			}
			et = binary.BigEndian.Uint16(rest[2:])
			rest = rest[4:]
		case etherMPLS:
			for i := 0; ; i++ {
				if len(rest) < 4 || i > 8 {
					return fmt.Errorf("MPLS label stack cut short")
				}
				bottom := rest[2]&0x01 != 0
				rest = rest[4:]
				if bottom {
					break
				}
			}
			return decodeIPByVersion(rest, pi)
		case etherPPPoES:
			if len(rest) < 8 {
				return fmt.Errorf("PPPoE header: %d of 8 bytes", len(rest))
			}
			switch binary.BigEndian.Uint16(rest[6:]) {
			case 0x0021:
				return decodeIPv4(rest[8:], pi)
			case 0x0057:
				return decodeIPv6(rest[8:], pi)
			}
			return errNotIP
		default:
			return errNotIP
		}
	}
}

func decodeIPByVersion(data []byte, pi *packetInfo) error {
	if len(data) == 0 {
		return fmt.Errorf("empty IP packet")
	}
	switch data[0] >> 4 {
	case 4:
		return decodeIPv4(data, pi)
	case 6:
		return decodeIPv6(data, pi)
	}
	return fmt.Errorf("IP version %d", data[0]>>4)
}

func decodeIPv4(data []byte, pi *packetInfo) error {
	if len(data) < 20 {
		return fmt.Errorf("IPv4 header: %d of 20 bytes", len(data))
	}
	if v := data[0] >> 4; v != 4 {
		return fmt.Errorf("IPv4 header says version %d", v)
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < 20 || ihl > len(data) {
		return fmt.Errorf("IPv4 header length %d (captured %d)", ihl, len(data))
	}
	total := int(binary.BigEndian.Uint16(data[2:]))
	wire := total
	switch {
	case total == 0: // segmentation offload: length left to the NIC
		wire = len(data)
	case total < ihl:
		return fmt.Errorf("IPv4 total length %d shorter than its header (%d)", total, ihl)
	case total < len(data):
		data = data[:total] // drop Ethernet padding
	}
	frag := binary.BigEndian.Uint16(data[6:])
	pi.src = netip.AddrFrom4([4]byte(data[12:16]))
	pi.dst = netip.AddrFrom4([4]byte(data[16:20]))
	pi.ipHdr = data[:ihl]
	if frag&0x3fff != 0 {
		pi.frag = fragment{id: uint32(binary.BigEndian.Uint16(data[4:])), proto: data[9],
			offset: int(frag&0x1fff) * 8, more: frag&0x2000 != 0, complete: len(data) == wire, data: data[ihl:]}
		return errFragment
	}
	return decodeTransport(data[9], data[ihl:], wire-ihl, false, pi)
}

// IPv6 extension headers walked to reach the transport header.
const (
	ip6HopByHop = 0
	ip6Routing  = 43
	ip6Fragment = 44
	ip6DestOpts = 60
	ip6AH       = 51
	ip6NoNext   = 59
)

func decodeIPv6(data []byte, pi *packetInfo) error {
	if len(data) < 40 {
		return fmt.Errorf("IPv6 header: %d of 40 bytes", len(data))
	}
	if v := data[0] >> 4; v != 6 {
		return fmt.Errorf("IPv6 header says version %d", v)
	}
	plen := int(binary.BigEndian.Uint16(data[4:]))
	wire := 40 + plen
	switch {
	case plen == 0: // jumbogram or offload
		wire = len(data)
	case wire < len(data):
		data = data[:wire]
	}
	pi.src = netip.AddrFrom16([16]byte(data[8:24]))
	pi.dst = netip.AddrFrom16([16]byte(data[24:40]))
	pi.ipHdr = data[:40]
	next := data[6]
	off := 40
	for hops := 0; ; hops++ {
		switch next {
		case ip6HopByHop, ip6Routing, ip6DestOpts, ip6AH, ip6Fragment:
		default:
			if next == ip6NoNext {
				return errNotIP
			}
			return decodeTransport(next, data[off:], wire-off, false, pi)
		}
		if hops > 16 || off+8 > len(data) {
			return fmt.Errorf("IPv6 extension header cut short")
		}
		var hlen int
		switch next {
		case ip6Fragment:
			fo := binary.BigEndian.Uint16(data[off+2:])
			pi.frag = fragment{id: binary.BigEndian.Uint32(data[off+4:]), proto: data[off],
				offset: int(fo & 0xfff8), more: fo&1 != 0, complete: len(data) == wire, data: data[off+8:]}
			return errFragment
		case ip6AH:
			hlen = (int(data[off+1]) + 2) * 4
		default:
			hlen = (int(data[off+1]) + 1) * 8
		}
		next = data[off]
		off += hlen
		if off > len(data) {
			return fmt.Errorf("IPv6 extension header cut short")
		}
	}
}

// decodeTransport reads the TCP, UDP or ICMP header. wire is the transport
// length on the wire; fragmented says the datagram continues in fragments
// this reader does not reassemble.
func decodeTransport(proto uint8, seg []byte, wire int, fragmented bool, pi *packetInfo) error {
	pi.proto = proto
	pi.transport = seg
	if wire < len(seg) {
		wire = len(seg)
	}
	switch proto {
	case protoTCP:
		if len(seg) < 20 {
			return fmt.Errorf("TCP header: %d of 20 bytes", len(seg))
		}
		doff := int(seg[12]>>4) * 4
		if doff < 20 || doff > len(seg) {
			return fmt.Errorf("TCP data offset %d (captured %d)", doff, len(seg))
		}
		pi.srcPort = binary.BigEndian.Uint16(seg)
		pi.dstPort = binary.BigEndian.Uint16(seg[2:])
		pi.seq = binary.BigEndian.Uint32(seg[4:])
		pi.flags = seg[13]
		pi.payload = seg[doff:]
		pi.payloadLen = wire - doff
	case protoUDP:
		if len(seg) < 8 {
			return fmt.Errorf("UDP header: %d of 8 bytes", len(seg))
		}
		pi.srcPort = binary.BigEndian.Uint16(seg)
		pi.dstPort = binary.BigEndian.Uint16(seg[2:])
		ulen := int(binary.BigEndian.Uint16(seg[4:]))
		if ulen != 0 && ulen < 8 {
			return fmt.Errorf("UDP length %d shorter than its header", ulen)
		}
		if ulen != 0 && ulen < len(seg) {
			seg = seg[:ulen]
			pi.transport = seg
		}
		if ulen > wire && !fragmented {
			return fmt.Errorf("UDP length %d exceeds the IP payload (%d)", ulen, wire)
		}
		if ulen == 0 {
			ulen = wire
		}
		pi.payload = seg[8:]
		pi.payloadLen = ulen - 8
		pi.udpSum = binary.BigEndian.Uint16(seg[6:])
		if fragmented {
			pi.udpSum = 0 // cannot be checked without the other fragments
		}
	case protoICMP, protoICMPv6:
		if len(seg) < 4 {
			return fmt.Errorf("ICMP header: %d of 4 bytes", len(seg))
		}
		pi.srcPort, pi.dstPort = uint16(seg[0]), uint16(seg[1])
		pi.payload = seg[4:]
		pi.payloadLen = wire - 4
	default:
		return errNotIP
	}
	return nil
}

// checksumState says what a UDP checksum shows.
type checksumState int

const (
	sumNone      checksumState = iota // no checksum, or not checkable
	sumGood                           // verified
	sumOffloaded                      // left for the NIC: pseudo-header sum only
	sumBad
)

// checkUDP verifies the UDP checksum of a fully captured datagram. A field
// holding only the pseudo-header sum is the mark of checksum offload on the
// capturing host and is not counted as corruption.
func checkUDP(pi *packetInfo) checksumState {
	if pi.udpSum == 0 || len(pi.payload) != pi.payloadLen {
		return sumNone
	}
	ulen := len(pi.transport)
	var pseudo uint32
	if pi.src.Is4() {
		a, b := pi.src.As4(), pi.dst.As4()
		pseudo = sum16(a[:], 0)
		pseudo = sum16(b[:], pseudo)
	} else {
		a, b := pi.src.As16(), pi.dst.As16()
		pseudo = sum16(a[:], 0)
		pseudo = sum16(b[:], pseudo)
	}
	pseudo += protoUDP + uint32(ulen)
	if ^fold(sum16(pi.transport, pseudo)) == 0 || fold(sum16(pi.transport, pseudo)) == 0xffff {
		return sumGood
	}
	if pi.udpSum == fold(pseudo) || pi.udpSum == ^fold(pseudo) {
		return sumOffloaded
	}
	return sumBad
}

func sum16(b []byte, acc uint32) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

func fold(acc uint32) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
