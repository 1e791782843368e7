package capfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	magicMicro     = 0xa1b2c3d4
	magicNano      = 0xa1b23c4d
	magicKuznetzov = 0xa1b2cd34 // patched libpcap: 8 more bytes per record header

	pcapHeaderLen = 24
	// resyncLimit bounds how far the reader scans for the next plausible
	// record header after a corrupt one before giving up on the file.
	resyncLimit = 16 << 20
	// maxSkew bounds the time distance between neighbouring records that a
	// resynchronisation accepts as plausible.
	maxSkew = 7 * 24 * 3600
)

type pcapState struct {
	order    binary.ByteOrder
	nano     bool
	hdrLen   int // record header length: 16, or 24 for the Kuznetzov variant
	snaplen  uint32
	linkType int
	lastSec  uint32
	haveLast bool
}

type magicInfo struct {
	order     binary.ByteOrder
	nano      bool
	kuznetzov bool
}

func pcapMagic(head []byte) (magicInfo, bool) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(head) {
		case magicMicro:
			return magicInfo{order: order}, true
		case magicNano:
			return magicInfo{order: order, nano: true}, true
		case magicKuznetzov:
			return magicInfo{order: order, kuznetzov: true}, true
		}
	}
	return magicInfo{}, false
}

func (r *Reader) readPcapHeader() error {
	var h [pcapHeaderLen]byte
	if n, err := r.readFull(h[:]); err != nil {
		if unexpectedEOF(err) {
			return fmt.Errorf("%w: pcap file header has %d of %d bytes", ErrNotCapture, n, pcapHeaderLen)
		}
		return err
	}
	mi, _ := pcapMagic(h[:])
	o := mi.order
	r.pc = pcapState{
		order:    o,
		nano:     mi.nano,
		hdrLen:   16,
		snaplen:  o.Uint32(h[16:]),
		linkType: int(o.Uint32(h[20:]) & 0xffff), // upper bits carry FCS information
	}
	if mi.kuznetzov {
		r.pc.hdrLen = 24
	}
	if major := o.Uint16(h[4:]); major != 2 {
		r.pending = append(r.pending, &PacketError{Offset: 4, Err: fmt.Errorf("pcap major version %d (want 2); reading on", major)})
	}
	if r.pc.snaplen == 0 {
		r.pending = append(r.pending, &PacketError{Offset: 16,
			Err: fmt.Errorf("snapshot length is 0 in the file header; packets are read up to %d bytes", MaxPacket)})
	}
	return nil
}

// maxIncluded is the largest captured length a record may claim.
func (s *pcapState) maxIncluded() uint32 {
	if s.snaplen > MaxPacket {
		return s.snaplen
	}
	return MaxPacket
}

type recordHeader struct {
	sec, frac, incl, orig uint32
}

func (s *pcapState) parseHeader(b []byte) recordHeader {
	o := s.order
	return recordHeader{o.Uint32(b), o.Uint32(b[4:]), o.Uint32(b[8:]), o.Uint32(b[12:])}
}

// plausible is the strict check used while searching for the next record
// after a corrupt one.
func (s *pcapState) plausible(h recordHeader) bool {
	unit := uint32(1_000_000)
	if s.nano {
		unit = 1_000_000_000
	}
	if h.incl > s.maxIncluded() || h.incl > h.orig || h.orig > 1<<24 || h.frac >= unit {
		return false
	}
	if s.haveLast {
		d := int64(h.sec) - int64(s.lastSec)
		if d < -maxSkew || d > maxSkew {
			return false
		}
	}
	return true
}

func (r *Reader) nextPcap(p *Packet) error {
	s := &r.pc
	start := r.off
	head, err := r.br.Peek(s.hdrLen)
	if err != nil {
		if len(head) == 0 && err == io.EOF {
			return io.EOF
		}
		if unexpectedEOF(err) {
			r.num++
			r.done = true
			r.discard(int64(len(head)))
			return &PacketError{Num: r.num, Offset: start,
				Err: fmt.Errorf("%w: record header has %d of %d bytes", ErrTruncated, len(head), s.hdrLen)}
		}
		return err
	}
	h := s.parseHeader(head)
	if h.incl > s.maxIncluded() {
		r.num++
		num := r.num
		bad := h
		skipped, err := r.resyncPcap()
		if err != nil {
			return err
		}
		return &PacketError{Num: num, Offset: start,
			Err: fmt.Errorf("corrupt record header (captured length %d, original length %d); skipped %d bytes to the next plausible record",
				bad.incl, bad.orig, skipped)}
	}
	r.discard(int64(s.hdrLen))
	r.num++
	keep := int(h.incl)
	if keep > MaxPacket {
		keep = MaxPacket
	}
	data := r.packetBuf(keep)
	n, err := r.readFull(data)
	if err != nil {
		if unexpectedEOF(err) {
			r.done = true
			return &PacketError{Num: r.num, Offset: start,
				Err: fmt.Errorf("%w: packet has %d of %d captured bytes", ErrTruncated, n, h.incl)}
		}
		return err
	}
	if rest := int64(h.incl) - int64(keep); rest > 0 {
		if d, err := r.discard(rest); err != nil {
			if unexpectedEOF(err) {
				r.done = true
				return &PacketError{Num: r.num, Offset: start,
					Err: fmt.Errorf("%w: packet has %d of %d captured bytes", ErrTruncated, int64(keep)+d, h.incl)}
			}
			return err
		}
	}
	s.lastSec, s.haveLast = h.sec, true
	nsec := int64(h.frac)
	if !s.nano {
		nsec *= 1000
	}
	*p = Packet{
		Num:       r.num,
		Offset:    start,
		Time:      time.Unix(int64(h.sec), nsec).UTC(),
		LinkType:  s.linkType,
		OrigLen:   int(h.orig),
		Data:      data,
		Truncated: h.orig > uint32(keep),
	}
	return nil
}

var errResyncFailed = errors.New("no plausible pcap record header found")

// resyncPcap scans forward one byte at a time from the current (corrupt)
// header for a header that passes the strict check and, where the buffer
// allows, is followed by another plausible header. It returns the number
// of bytes skipped, io.EOF-free: reaching the end is not an error.
func (r *Reader) resyncPcap() (int64, error) {
	s := &r.pc
	var skipped int64
	for skipped < resyncLimit {
		if _, err := r.discard(1); err != nil {
			if unexpectedEOF(err) {
				return skipped, nil
			}
			return skipped, err
		}
		skipped++
		head, err := r.br.Peek(s.hdrLen)
		if err != nil {
			if unexpectedEOF(err) {
				// Too little left for a record: drop it so that Next ends cleanly.
				d, _ := r.discard(int64(len(head)))
				return skipped + d, nil
			}
			return skipped, err
		}
		h := s.parseHeader(head)
		if !s.plausible(h) {
			continue
		}
		follow := s.hdrLen + int(h.incl)
		if next, err := r.br.Peek(follow + s.hdrLen); err == nil {
			nh := s.parseHeader(next[follow:])
			if !s.plausible(nh) {
				continue
			}
		}
		return skipped, nil
	}
	return skipped, fmt.Errorf("offset %d: %w within %d bytes", r.off, errResyncFailed, resyncLimit)
}
