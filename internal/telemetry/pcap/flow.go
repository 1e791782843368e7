package pcap

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap/capfile"
)

// sweepEvery is how often (in capture time) idle flows are looked for.
const sweepEvery = 5 * time.Second

// closedLinger is how long a TCP flow that closed (both FINs or a RST)
// stays in the table to absorb its last ACKs and retransmissions.
const closedLinger = 5 * time.Second

// flowKey identifies a flow independently of direction: the endpoint that
// sorts first is A.
type flowKey struct {
	a, b         netip.Addr
	aPort, bPort uint16
	proto        uint8
}

func makeKey(pi *packetInfo) (flowKey, bool) {
	k := flowKey{a: pi.src, b: pi.dst, aPort: pi.srcPort, bPort: pi.dstPort, proto: pi.proto}
	if pi.proto == protoICMP || pi.proto == protoICMPv6 {
		// ICMP "ports" are type and code: key on the addresses only.
		k.aPort, k.bPort = 0, 0
	}
	c := k.a.Compare(k.b)
	if c > 0 || (c == 0 && k.aPort > k.bPort) {
		k.a, k.b, k.aPort, k.bPort = k.b, k.a, k.bPort, k.aPort
		return k, true
	}
	return k, false
}

// addrs returns (originator, responder).
func (k flowKey) addrs(flipped bool) (netip.Addr, netip.Addr) {
	if flipped {
		return k.b, k.a
	}
	return k.a, k.b
}

func (k flowKey) ports(flipped bool) (uint16, uint16) {
	if flipped {
		return k.bPort, k.aPort
	}
	return k.aPort, k.bPort
}

func protoName(p uint8) string {
	switch p {
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoICMP, protoICMPv6:
		return "icmp"
	}
	return "ip-" + strconv.Itoa(int(p))
}

// Directions within a flow.
const (
	fromOrig = 0
	fromResp = 1
)

// flow is one connection. The originator is the endpoint that sent the
// first packet, unless that packet looks like a server's answer.
type flow struct {
	key     flowKey
	holding bool // queued in the reader's reassembly account
	flipped bool // originator is key.b
	seq     uint64
	uid     string
	start   time.Time
	last    time.Time
	service string
	icmpTC  [2]uint16 // ICMP type and code of the first packet

	bytes   [2]int64
	packets [2]int64

	// TCP state.
	syn, synAck bool
	fin, rst    [2]bool
	streams     [2]stream

	// Application layer.
	app      app
	detect   int // detection attempts so far
	appDone  bool
	dnsState *dnsFlow

	// Provenance of the flow's latest packet, for events emitted at its end.
	lastNum, lastOff int64

	prev, next *flow     // its idle class's list, most recent first
	class      idleClass // the list it is in, when linked
	linked     bool
}

func (f *flow) closed() bool {
	return f.rst[0] || f.rst[1] || (f.fin[0] && f.fin[1])
}

// packet runs one decoded packet through its flow.
func (r *Reader) packet(pi *packetInfo, p *capfile.Packet) {
	key, swapped := makeKey(pi)
	f := r.flows[key]
	if f == nil {
		f = r.newFlow(key, swapped, pi)
	}
	dir := fromOrig
	if swapped != f.flipped {
		dir = fromResp
	}
	f.last = p.Time
	f.lastNum, f.lastOff = p.Num, p.Offset
	f.packets[dir]++
	r.touch(f)
	switch pi.proto {
	case protoTCP:
		r.tcpPacket(f, dir, pi)
		if f.linked {
			// a FIN or RST may have moved it to the closed class
			r.touch(f)
		}
	case protoUDP:
		f.bytes[dir] += int64(pi.payloadLen)
		r.udpPacket(f, dir, pi)
	default:
		f.bytes[dir] += int64(pi.payloadLen)
	}
}

func (r *Reader) newFlow(key flowKey, swapped bool, pi *packetInfo) *flow {
	if len(r.flows) >= r.opts.MaxFlows {
		if f := r.leastRecent(); f != nil {
			r.endFlow(f)
		}
	}
	r.flowSeq++
	f := &flow{key: key, seq: r.flowSeq, start: r.pkt.Time}
	f.uid = r.uidTag + strconv.FormatUint(f.seq, 36)
	// The sender of the first packet is the originator (flipped == swapped),
	// unless the packet is a SYN-ACK or comes from a service port.
	origIsSrc := true
	switch {
	case pi.proto == protoTCP && pi.flags&(flagSYN|flagACK) == flagSYN:
	case pi.proto == protoTCP && pi.flags&(flagSYN|flagACK) == flagSYN|flagACK:
		origIsSrc = false
	case pi.proto == protoTCP || pi.proto == protoUDP:
		origIsSrc = !(servicePort(pi.srcPort) && !servicePort(pi.dstPort))
	case pi.proto == protoICMP || pi.proto == protoICMPv6:
		origIsSrc = !icmpReply(pi.proto, uint8(pi.srcPort))
		f.icmpTC = [2]uint16{pi.srcPort, pi.dstPort}
	}
	f.flipped = swapped == origIsSrc
	r.flows[key] = f
	return f
}

// servicePort reports ports that are more likely a server's than a client's.
func servicePort(p uint16) bool {
	switch p {
	case 53, 80, 443, 25, 587, 465, 110, 143, 993, 995, 21, 22, 23, 123, 137, 138, 161, 389, 636, 853,
		3128, 8080, 8443, 5353, 5355:
		return true
	}
	return p != 0 && p < 1024
}

func icmpReply(proto uint8, typ uint8) bool {
	if proto == protoICMP {
		return typ == 0 || typ == 14 || typ == 16 || typ == 18
	}
	return typ == 129
}

// A flow is in one of three lists by how long it may stay idle (open
// TCP, closed TCP, anything else), each ordered by last activity: the
// sweep then ends what has been idle too long from each list's tail and
// stops at the first that has not, instead of walking every flow idle for
// less than its limit at every sweep.
type idleClass uint8

const (
	idleTCP idleClass = iota
	idleClosed
	idleOther
	numIdleClasses
)

// lruList is one idle class's flows, most recently active first.
type lruList struct{ head, tail *flow }

func (f *flow) idleClass() idleClass {
	switch {
	case f.key.proto != protoTCP:
		return idleOther
	case f.closed():
		return idleClosed
	}
	return idleTCP
}

// touch moves f to the front of its idle class's list.
func (r *Reader) touch(f *flow) {
	c := f.idleClass()
	l := &r.lru[c]
	if f.linked && f.class == c && l.head == f {
		return
	}
	r.unlink(f)
	f.next, f.class, f.linked = l.head, c, true
	if l.head != nil {
		l.head.prev = f
	}
	l.head = f
	if l.tail == nil {
		l.tail = f
	}
}

func (r *Reader) unlink(f *flow) {
	if !f.linked {
		return
	}
	l := &r.lru[f.class]
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next, f.linked = nil, nil, false
}

// leastRecent is the flow silent the longest, of every class.
func (r *Reader) leastRecent() *flow {
	var oldest *flow
	for c := range r.lru {
		if f := r.lru[c].tail; f != nil && (oldest == nil || f.last.Before(oldest.last)) {
			oldest = f
		}
	}
	return oldest
}

// idleLimit is how long a flow of class c may be silent before it ends.
func (r *Reader) idleLimit(c idleClass) time.Duration {
	switch c {
	case idleTCP:
		return r.opts.IdleTimeout
	case idleClosed:
		return closedLinger
	}
	return min(r.opts.IdleTimeout/5, time.Minute)
}

// sweep ends the flows that have been idle too long, oldest first.
func (r *Reader) sweep() {
	var ended []*flow
	for c := range r.lru {
		limit := r.idleLimit(idleClass(c))
		for f := r.lru[c].tail; f != nil && r.now.Sub(f.last) >= limit; f = f.prev {
			ended = append(ended, f)
		}
	}
	slices.SortFunc(ended, func(a, b *flow) int { return compareUint(a.seq, b.seq) })
	for _, f := range ended {
		r.endFlow(f)
	}
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// openFlows is every open flow, in the order they began: at the end of
// the capture Next ends them one at a time, as their events are taken,
// so that the events of a million open flows are never queued at once.
func (r *Reader) openFlows() []*flow {
	all := make([]*flow, 0, len(r.flows))
	for _, f := range r.flows {
		all = append(all, f)
	}
	slices.SortFunc(all, func(a, b *flow) int { return compareUint(a.seq, b.seq) })
	return all
}

// endFlow flushes f's pending application records and emits its conn event.
func (r *Reader) endFlow(f *flow) {
	delete(r.flows, f.key)
	r.unlink(f)
	// Events at the end of a flow point at its last packet.
	savedNum, savedOff := r.pkt.Num, r.pkt.Offset
	r.pkt.Num, r.pkt.Offset = f.lastNum, f.lastOff
	defer func() { r.pkt.Num, r.pkt.Offset = savedNum, savedOff }()

	if f.key.proto == protoTCP {
		for dir := range f.streams {
			r.flushStream(f, dir)
		}
	}
	if f.app != nil {
		f.app.finish(r, f)
	}
	if f.dnsState != nil {
		r.flushDNS(f)
	}
	ev := r.emit(f, telemetry.KindConn, "conn")
	ev.Duration = f.last.Sub(f.start)
	ev.SrcBytes, ev.DstBytes = f.bytes[fromOrig], f.bytes[fromResp]
	ev.SrcPackets, ev.DstPackets = f.packets[fromOrig], f.packets[fromResp]
	ev.ConnState = f.state()
	if f.key.proto == protoICMP || f.key.proto == protoICMPv6 {
		ev.SrcPort, ev.DstPort = f.icmpTC[0], f.icmpTC[1]
	}
	if f.key.proto == protoTCP {
		for dir := range f.streams {
			f.streams[dir].release()
		}
	}
}

// state is the connection state in Zeek's conn_state vocabulary.
func (f *flow) state() string {
	switch f.key.proto {
	case protoTCP:
		return f.tcpState()
	case protoUDP:
		switch {
		case f.packets[fromOrig] > 0 && f.packets[fromResp] > 0:
			return "SF"
		case f.packets[fromResp] > 0:
			return "SHR"
		}
		return "S0"
	}
	return "OTH"
}

func (f *flow) tcpState() string {
	o, rs := fromOrig, fromResp
	switch {
	case f.syn && !f.synAck:
		switch {
		case f.rst[rs]:
			return "REJ"
		case f.rst[o]:
			return "RSTOS0"
		case f.fin[o]:
			return "SH"
		}
		return "S0"
	case !f.syn && f.synAck:
		switch {
		case f.rst[rs]:
			return "RSTRH"
		case f.fin[rs]:
			return "SHR"
		}
		return "OTH"
	case f.syn && f.synAck:
		switch {
		case f.rst[o]:
			return "RSTO"
		case f.rst[rs]:
			return "RSTR"
		case f.fin[o] && f.fin[rs]:
			return "SF"
		case f.fin[o]:
			return "S2"
		case f.fin[rs]:
			return "S3"
		}
		return "S1"
	}
	return "OTH"
}
