// Package pcap reads packet captures (pcap and pcapng, in pure Go) and turns
// them into telemetry events the way a network sensor would: one conn event
// per flow, and dns, ssl, http and smtp events from the application data.
//
// It decodes Ethernet (with VLAN, QinQ, MPLS and PPPoE), Linux cooked
// capture v1 and v2, BSD loopback and raw IP; IPv4 and IPv6; TCP, UDP and
// ICMP. TCP streams are reassembled as far as the handshakes and headers
// these events need. Memory is bounded: flows expire when idle, the flow
// table has a ceiling, and per-stream buffers are capped.
package pcap

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap/capfile"
)

// Options tune the reader. The zero value means the defaults.
type Options struct {
	// IdleTimeout ends a TCP flow after this much capture time without a
	// packet (default 5 minutes). UDP and ICMP flows end after a fifth of
	// it, at most one minute.
	IdleTimeout time.Duration
	// MaxFlows bounds the flow table (default 100 000); when it is full the
	// least recently active flow is ended early.
	MaxFlows int
	// MaxStreamBuffer bounds the bytes buffered per TCP direction, for
	// out-of-order segments and for one message being assembled (default
	// 64 KiB; certificate chains larger than this are cut).
	MaxStreamBuffer int
	// MaxReassembly bounds the out-of-order bytes buffered by all flows
	// together (default 128 MiB): past it, the flows that started
	// waiting first give up their holes, so many flows with holes cannot
	// hold MaxFlows × MaxStreamBuffer.
	MaxReassembly int
}

// Defaults.
const (
	DefaultIdleTimeout     = 5 * time.Minute
	DefaultMaxFlows        = 100_000
	DefaultMaxStreamBuffer = 64 << 10
	DefaultMaxReassembly   = 128 << 20
)

func (o Options) withDefaults() Options {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxFlows <= 0 {
		o.MaxFlows = DefaultMaxFlows
	}
	if o.MaxStreamBuffer <= 0 {
		o.MaxStreamBuffer = DefaultMaxStreamBuffer
	}
	if o.MaxStreamBuffer < 4096 {
		o.MaxStreamBuffer = 4096
	}
	if o.MaxReassembly <= 0 {
		o.MaxReassembly = DefaultMaxReassembly
	}
	if o.MaxReassembly < o.MaxStreamBuffer {
		o.MaxReassembly = o.MaxStreamBuffer
	}
	return o
}

// Format is the pcap/pcapng telemetry format. Its zero value uses the
// default Options.
type Format struct {
	Options Options
}

var _ telemetry.Format = Format{}

// Name is "pcap".
func (Format) Name() string { return "pcap" }

// Sniff recognises the pcap magic numbers (either byte order, microsecond
// or nanosecond timestamps) and the pcapng section header.
func (Format) Sniff(head []byte, name string) bool { return capfile.Sniff(head) }

// Open reads the capture's file header and returns a reader of its events.
func (f Format) Open(r io.Reader, name string) (telemetry.Reader, error) {
	return NewReader(r, name, f.Options)
}

// Reader yields the events of one capture. Events of a flow come out when
// the record they describe is complete (a DNS response, the end of a TLS
// handshake, a full request header, the end of a mail transaction, the end
// of the flow); the flows still open at the end of the file are ended then.
type Reader struct {
	name   string
	opts   Options
	cap    *capfile.Reader
	pkt    capfile.Packet
	pi     packetInfo
	now    time.Time
	uidTag string

	flows     map[flowKey]*flow
	lru       [numIdleClasses]lruList
	flowSeq   uint64
	nextSweep time.Time

	frags   map[fragKey]*fragDatagram
	fragSeq uint64

	reasm reassembly

	queue    []telemetry.Event
	dnsTexts dnsTexts
	leaves   leafCache
	qhead    int
	errs     []error

	warnedLink bool
	finished   bool
	ending     []*flow // at the end of the capture, the flows still to end
	fatal      error
}

// NewReader reads the file header from r; name is used in messages and in
// each event's File.
func NewReader(r io.Reader, name string, opts Options) (*Reader, error) {
	cr, err := capfile.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("pcap %s: %w", name, err)
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return &Reader{
		name:   name,
		opts:   opts.withDefaults(),
		cap:    cr,
		uidTag: fmt.Sprintf("C%08x", h.Sum32()),
		flows:  make(map[flowKey]*flow),
	}, nil
}

// Next fills ev with the next event. It returns io.EOF at the end, a
// *telemetry.RecordError for one bad packet or message (call Next again),
// or another error when the rest of the capture cannot be read.
func (r *Reader) Next(ev *telemetry.Event) error {
	for {
		if len(r.errs) > 0 {
			err := r.errs[0]
			r.errs[0] = nil
			r.errs = r.errs[1:]
			return err
		}
		if r.qhead < len(r.queue) {
			*ev = r.queue[r.qhead]
			r.queue[r.qhead] = telemetry.Event{}
			r.qhead++
			if r.qhead == len(r.queue) {
				r.queue, r.qhead = r.queue[:0], 0
			}
			return nil
		}
		if r.finished {
			if len(r.ending) > 0 {
				f := r.ending[0]
				r.ending[0] = nil
				r.ending = r.ending[1:]
				r.endFlow(f)
				continue
			}
			if r.fatal != nil {
				return r.fatal
			}
			return io.EOF
		}
		err := r.cap.Next(&r.pkt)
		if err == nil {
			r.handle(&r.pkt)
			continue
		}
		var pe *capfile.PacketError
		switch {
		case errors.As(err, &pe):
			r.errs = append(r.errs, &telemetry.RecordError{File: r.name, Line: pe.Num, Offset: pe.Offset, Err: pe.Err})
		default:
			if err != io.EOF {
				r.fatal = fmt.Errorf("pcap %s: %w", r.name, err)
			}
			r.finished = true
			r.ending = r.openFlows()
		}
	}
}

// recordError queues a skippable error about the current packet.
func (r *Reader) recordError(err error) {
	r.errs = append(r.errs, &telemetry.RecordError{File: r.name, Line: r.pkt.Num, Offset: r.pkt.Offset, Err: err})
}

// emit queues a new event about flow f, stamped with the current packet's
// provenance, and returns it for the caller to fill before the next emit.
func (r *Reader) emit(f *flow, kind telemetry.Kind, log string) *telemetry.Event {
	r.queue = append(r.queue, telemetry.Event{})
	ev := &r.queue[len(r.queue)-1]
	ev.Kind = kind
	ev.Log = log
	ev.Time = f.start
	ev.File = r.name
	ev.Line = r.pkt.Num
	ev.Offset = r.pkt.Offset
	ev.UID = f.uid
	ev.SrcIP, ev.DstIP = f.key.addrs(f.flipped)
	ev.SrcPort, ev.DstPort = f.key.ports(f.flipped)
	ev.Proto = protoName(f.key.proto)
	ev.Service = f.service
	return ev
}

// handle decodes one packet and feeds its flow.
func (r *Reader) handle(p *capfile.Packet) {
	if p.Time.After(r.now) {
		r.now = p.Time
	}
	if r.nextSweep.IsZero() {
		r.nextSweep = r.now.Add(sweepEvery)
	} else if !r.now.Before(r.nextSweep) {
		r.sweep()
		r.nextSweep = r.now.Add(sweepEvery)
	}
	r.pi = packetInfo{}
	err := decode(p.LinkType, p.Data, &r.pi)
	if err == errFragment {
		var seg []byte
		seg, err = r.fragmentIn(&r.pi)
		if err == nil && seg == nil {
			return // waiting for more fragments
		}
		if err == nil {
			err = r.reassembled(&r.pi, seg)
		}
	}
	switch {
	case err == errUnsupportedLink:
		if !r.warnedLink {
			r.warnedLink = true
			r.recordError(fmt.Errorf("link type %d is not supported; its packets are skipped", p.LinkType))
		}
		return
	case err == errNotIP:
		return
	case err != nil:
		r.recordError(err)
		return
	}
	r.packet(&r.pi, p)
}
