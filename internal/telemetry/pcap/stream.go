package pcap

import "slices"

// maxSegments bounds the out-of-order segments held per direction.
const maxSegments = 128

// segment is a TCP segment that arrived ahead of the stream. wire is its
// payload length on the wire; data may be shorter when the capture cut it.
type segment struct {
	seq  uint32
	data []byte
	wire int
}

// stream is one direction of a TCP connection, reassembled in sequence
// order for the application parser.
type stream struct {
	started bool
	isn     uint32 // sequence number of the first payload byte
	next    uint32 // next sequence number to deliver
	maxEnd  uint32 // highest sequence number seen, for byte counts
	ooo     []segment
	oooSize int
	total   *int // the reader's count of buffered bytes, once s buffers
}

// seqLess reports a < b in sequence space (wrapping).
func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

func (s *stream) begin(seq uint32) {
	s.started, s.isn, s.next, s.maxEnd = true, seq, seq, seq
}

func (s *stream) release() {
	if s.total != nil {
		*s.total -= s.oooSize
	}
	s.ooo, s.oooSize = nil, 0
}

// tcpPacket updates the TCP state of f and feeds the payload to the stream.
func (r *Reader) tcpPacket(f *flow, dir int, pi *packetInfo) {
	s := &f.streams[dir]
	seq := pi.seq
	if pi.flags&flagSYN != 0 {
		if pi.flags&flagACK == 0 {
			if dir == fromOrig {
				f.syn = true
			}
		} else if dir == fromResp {
			f.synAck = true
		}
		seq++ // the SYN takes one sequence number
		if !s.started || (!f.streamsFed(dir) && s.isn != seq) {
			s.begin(seq)
		}
	}
	if pi.flags&flagRST != 0 {
		f.rst[dir] = true
	}
	if pi.flags&flagFIN != 0 {
		f.fin[dir] = true
	}
	if pi.payloadLen <= 0 || pi.flags&flagRST != 0 {
		return
	}
	if !s.started {
		s.begin(seq)
	}
	end := seq + uint32(pi.payloadLen)
	if seqLess(s.maxEnd, end) {
		s.maxEnd = end
	}
	if span := int64(s.maxEnd - s.isn); span >= 0 && span < 1<<31 {
		f.bytes[dir] = span
	}
	if f.appDone {
		return
	}
	r.segmentIn(f, dir, seq, pi.payload, pi.payloadLen)
}

// streamsFed reports whether data was already delivered in direction dir.
func (f *flow) streamsFed(dir int) bool {
	s := &f.streams[dir]
	return s.next != s.isn
}

// segmentIn delivers an in-order segment (and any buffered segments it
// unblocks) or buffers a segment that arrived early.
func (r *Reader) segmentIn(f *flow, dir int, seq uint32, data []byte, wire int) {
	s := &f.streams[dir]
	if seqLess(s.next, seq) {
		limit := r.opts.MaxStreamBuffer
		// No room to wait for the missing bytes: give up the oldest hole.
		for len(s.ooo) > 0 && !f.appDone && (len(s.ooo) >= maxSegments || s.oooSize+len(data) > limit) {
			r.skipToBuffered(f, dir)
		}
		for r.reasm.bytes+len(data) > r.opts.MaxReassembly && r.evictOldestHole() {
		}
		if f.appDone {
			return
		}
		if seqLess(s.next, seq) {
			if len(data) <= limit {
				r.reasm.hold(f)
				s.total = &r.reasm.bytes
				s.ooo = append(s.ooo, segment{seq: seq, data: append([]byte(nil), data...), wire: wire})
				s.oooSize += len(data)
				r.reasm.bytes += len(data)
				r.reasm.peak = max(r.reasm.peak, r.reasm.bytes)
				slices.SortStableFunc(s.ooo, func(a, b segment) int {
					switch {
					case seqLess(a.seq, b.seq):
						return -1
					case seqLess(b.seq, a.seq):
						return 1
					}
					return 0
				})
				return
			}
			r.streamGap(f, dir)
			s.next = seq
		}
	}
	r.deliverSegment(f, dir, seq, data, wire)
	r.drain(f, dir)
}

// deliverSegment hands the not-yet-delivered part of a segment that starts
// at or before s.next to the application.
func (r *Reader) deliverSegment(f *flow, dir int, seq uint32, data []byte, wire int) {
	s := &f.streams[dir]
	skip := int(s.next - seq)
	if skip >= wire {
		return // retransmission of delivered bytes
	}
	if skip < len(data) {
		r.appData(f, dir, data[skip:])
	}
	if len(data) < wire { // the capture cut the segment
		r.streamGap(f, dir)
	}
	s.next = seq + uint32(wire)
}

// drain delivers buffered segments that are now in order.
func (r *Reader) drain(f *flow, dir int) {
	s := &f.streams[dir]
	for len(s.ooo) > 0 && !f.appDone && !seqLess(s.next, s.ooo[0].seq) {
		seg := s.ooo[0]
		s.ooo = s.ooo[1:]
		s.oooSize -= len(seg.data)
		*s.total -= len(seg.data)
		r.deliverSegment(f, dir, seg.seq, seg.data, seg.wire)
	}
	if len(s.ooo) == 0 {
		s.ooo = nil
	}
}

// skipToBuffered declares the bytes before the first buffered segment lost
// and delivers from there.
func (r *Reader) skipToBuffered(f *flow, dir int) {
	s := &f.streams[dir]
	if len(s.ooo) == 0 {
		return
	}
	r.streamGap(f, dir)
	if len(s.ooo) == 0 || f.appDone { // the parser gave up on the hole
		return
	}
	s.next = s.ooo[0].seq
	r.drain(f, dir)
}

// flushStream delivers what is still buffered at the end of the flow.
func (r *Reader) flushStream(f *flow, dir int) {
	s := &f.streams[dir]
	for len(s.ooo) > 0 && !f.appDone {
		r.skipToBuffered(f, dir)
	}
	s.release()
}

// stopStreams drops buffered data once the application needs no more.
func (f *flow) stopStreams() {
	f.appDone = true
	for dir := range f.streams {
		f.streams[dir].release()
	}
}
