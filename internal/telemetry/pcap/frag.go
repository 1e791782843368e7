package pcap

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Limits of IP reassembly: datagrams waiting for fragments, and how long.
const (
	maxFragDatagrams = 256
	fragTimeout      = 30 * time.Second
	maxDatagram      = 65535
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type span struct{ from, to int }

// fragDatagram collects the fragments of one IP datagram.
type fragDatagram struct {
	data  []byte
	spans []span
	total int // -1 until the last fragment is seen
	first time.Time
	seq   uint64
}

var errFragTooLarge = errors.New("IP fragment reaches past 65535 bytes")

// fragmentIn adds a fragment and returns the whole transport segment when
// the datagram is complete.
func (r *Reader) fragmentIn(pi *packetInfo) ([]byte, error) {
	fr := &pi.frag
	if !fr.complete {
		return nil, nil // cut by the capture: the datagram cannot be rebuilt
	}
	end := fr.offset + len(fr.data)
	if end > maxDatagram {
		return nil, errFragTooLarge
	}
	if r.frags == nil {
		r.frags = make(map[fragKey]*fragDatagram)
	}
	key := fragKey{pi.src, pi.dst, fr.id, fr.proto}
	d := r.frags[key]
	if d == nil {
		r.expireFrags()
		r.fragSeq++
		d = &fragDatagram{total: -1, first: r.pkt.Time, seq: r.fragSeq}
		r.frags[key] = d
	}
	if len(d.data) < end {
		d.data = append(d.data, make([]byte, end-len(d.data))...)
	}
	copy(d.data[fr.offset:], fr.data)
	d.spans = append(d.spans, span{fr.offset, end})
	if !fr.more {
		d.total = end
	}
	if d.total < 0 || !covered(d.spans, d.total) {
		return nil, nil
	}
	delete(r.frags, key)
	return d.data[:d.total], nil
}

func covered(spans []span, total int) bool {
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	reach := 0
	for _, s := range spans {
		if s.from > reach {
			return false
		}
		reach = max(reach, s.to)
	}
	return reach >= total
}

// expireFrags drops datagrams that waited too long, and the oldest one
// when the table is full.
func (r *Reader) expireFrags() {
	var oldest fragKey
	var oldestSeq uint64
	for k, d := range r.frags {
		if r.pkt.Time.Sub(d.first) > fragTimeout {
			delete(r.frags, k)
			continue
		}
		if oldestSeq == 0 || d.seq < oldestSeq {
			oldest, oldestSeq = k, d.seq
		}
	}
	if len(r.frags) >= maxFragDatagrams {
		delete(r.frags, oldest)
	}
}

// reassembled decodes the transport header of a rebuilt datagram.
func (r *Reader) reassembled(pi *packetInfo, seg []byte) error {
	if err := decodeTransport(pi.frag.proto, seg, len(seg), false, pi); err != nil {
		return fmt.Errorf("reassembled datagram: %w", err)
	}
	return nil
}
