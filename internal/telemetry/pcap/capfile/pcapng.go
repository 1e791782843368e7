package capfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

const (
	blockSHB = 0x0A0D0D0A // section header
	blockIDB = 1          // interface description
	blockPB  = 2          // obsolete packet block
	blockSPB = 3          // simple packet block
	blockEPB = 6          // enhanced packet block

	byteOrderMagic        = 0x1A2B3C4D
	byteOrderMagicSwapped = 0x4D3C2B1A

	// maxMetaBlock bounds the section and interface blocks we buffer to
	// read their options; larger ones are skipped.
	maxMetaBlock = 1 << 20

	optEnd      = 0
	optTSResol  = 9
	optTSOffset = 14
)

type iface struct {
	linkType    int
	unitsPerSec uint64
	offsetSec   int64
}

type ngState struct {
	order    binary.ByteOrder
	ifaces   []iface
	lastTime time.Time
}

func (r *Reader) readFirstSection() error {
	head, err := r.br.Peek(12)
	if err != nil {
		if unexpectedEOF(err) {
			return fmt.Errorf("%w: pcapng section header has %d of 12 bytes", ErrNotCapture, len(head))
		}
		return err
	}
	if o := shbOrder(head); o == nil {
		return fmt.Errorf("%w: pcapng section header has no byte-order magic", ErrNotCapture)
	}
	err = r.readSection(0)
	var pe *PacketError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: %v", ErrNotCapture, pe)
	}
	return err
}

func shbOrder(head []byte) binary.ByteOrder {
	switch binary.BigEndian.Uint32(head[8:]) {
	case byteOrderMagic:
		return binary.BigEndian
	case byteOrderMagicSwapped:
		return binary.LittleEndian
	}
	return nil
}

// readSection reads a section header block at the current position.
func (r *Reader) readSection(start int64) error {
	head, err := r.br.Peek(12)
	if err != nil {
		return r.truncatedBlock(start, len(head), err)
	}
	o := shbOrder(head)
	if o == nil {
		return fmt.Errorf("offset %d: pcapng section header without byte-order magic", start)
	}
	blen := o.Uint32(head[4:])
	if err := checkBlockLen(start, blen, 28); err != nil {
		return err
	}
	r.png = ngState{order: o}
	if _, err := r.discard(int64(blen)); err != nil {
		return r.truncatedBlock(start, 0, err)
	}
	return nil
}

func checkBlockLen(start int64, blen uint32, min uint32) error {
	if blen < min || blen%4 != 0 || blen > maxBlock {
		return fmt.Errorf("offset %d: corrupt pcapng block length %d; cannot find the next block", start, blen)
	}
	return nil
}

func (r *Reader) truncatedBlock(start int64, n int, err error) error {
	if unexpectedEOF(err) {
		r.done = true
		return &PacketError{Offset: start, Err: fmt.Errorf("%w: pcapng block cut short", ErrTruncated)}
	}
	return err
}

func (r *Reader) nextNG(p *Packet) error {
	for {
		start := r.off
		head, err := r.br.Peek(8)
		if err != nil {
			if len(head) == 0 && err == io.EOF {
				return io.EOF
			}
			r.discard(int64(len(head)))
			return r.truncatedBlock(start, len(head), err)
		}
		if binary.BigEndian.Uint32(head) == blockSHB {
			if err := r.readSection(start); err != nil {
				return err
			}
			continue
		}
		o := r.png.order
		btype, blen := o.Uint32(head), o.Uint32(head[4:])
		switch btype {
		case blockIDB:
			if err := checkBlockLen(start, blen, 20); err != nil {
				return err
			}
			if err := r.readInterface(start, blen); err != nil {
				return err
			}
		case blockEPB, blockPB:
			if err := checkBlockLen(start, blen, 32); err != nil {
				return err
			}
			return r.readPacketBlock(p, start, btype, blen)
		case blockSPB:
			if err := checkBlockLen(start, blen, 16); err != nil {
				return err
			}
			return r.readPacketBlock(p, start, btype, blen)
		default:
			if err := checkBlockLen(start, blen, 12); err != nil {
				return err
			}
			if _, err := r.discard(int64(blen)); err != nil {
				return r.truncatedBlock(start, 0, err)
			}
		}
	}
}

func (r *Reader) readInterface(start int64, blen uint32) error {
	if blen > maxMetaBlock {
		r.png.ifaces = append(r.png.ifaces, iface{linkType: -1, unitsPerSec: 1_000_000})
		if _, err := r.discard(int64(blen)); err != nil {
			return r.truncatedBlock(start, 0, err)
		}
		return &PacketError{Offset: start, Err: fmt.Errorf("pcapng interface block of %d bytes is too large; its packets are skipped", blen)}
	}
	b := make([]byte, blen)
	if _, err := r.readFull(b); err != nil {
		return r.truncatedBlock(start, 0, err)
	}
	o := r.png.order
	ifc := iface{linkType: int(o.Uint16(b[8:])), unitsPerSec: 1_000_000}
	opts := b[16 : blen-4]
	for len(opts) >= 4 {
		code, olen := o.Uint16(opts), int(o.Uint16(opts[2:]))
		if code == optEnd || 4+olen > len(opts) {
			break
		}
		val := opts[4 : 4+olen]
		switch {
		case code == optTSResol && olen >= 1:
			v := val[0]
			if v&0x80 == 0 && v <= 19 {
				u := uint64(1)
				for i := byte(0); i < v; i++ {
					u *= 10
				}
				ifc.unitsPerSec = u
			} else if v&0x80 != 0 && v&0x7f <= 63 {
				ifc.unitsPerSec = 1 << (v & 0x7f)
			}
		case code == optTSOffset && olen >= 8:
			ifc.offsetSec = int64(o.Uint64(val))
		}
		adv := 4 + (olen+3)&^3
		if adv > len(opts) {
			break
		}
		opts = opts[adv:]
	}
	r.png.ifaces = append(r.png.ifaces, ifc)
	return nil
}

func (r *Reader) readPacketBlock(p *Packet, start int64, btype, blen uint32) error {
	o := r.png.order
	r.num++
	fixed := r.scratch[:28]
	fixedLen := 28 // header 8 + 20 bytes of packet fields
	if btype == blockSPB {
		fixedLen = 12
	}
	if n, err := r.readFull(fixed[:fixedLen]); err != nil {
		r.done = true
		if unexpectedEOF(err) {
			return &PacketError{Num: r.num, Offset: start, Err: fmt.Errorf("%w: packet block has %d of %d header bytes", ErrTruncated, n, fixedLen)}
		}
		return err
	}
	consumed := int64(fixedLen)
	var ifid int
	var tsHigh, tsLow, capLen, origLen uint32
	switch btype {
	case blockEPB:
		ifid = int(o.Uint32(fixed[8:]))
		tsHigh, tsLow = o.Uint32(fixed[12:]), o.Uint32(fixed[16:])
		capLen, origLen = o.Uint32(fixed[20:]), o.Uint32(fixed[24:])
	case blockPB:
		ifid = int(o.Uint16(fixed[8:]))
		tsHigh, tsLow = o.Uint32(fixed[12:]), o.Uint32(fixed[16:])
		capLen, origLen = o.Uint32(fixed[20:]), o.Uint32(fixed[24:])
	case blockSPB:
		origLen = o.Uint32(fixed[8:])
		capLen = origLen
		if room := blen - 16; capLen > room {
			capLen = room
		}
	}
	room := blen - uint32(fixedLen) - 4
	skipRest := func() error {
		if _, err := r.discard(int64(blen) - consumed); err != nil {
			return r.truncatedBlock(start, 0, err)
		}
		return nil
	}
	if capLen > room {
		if err := skipRest(); err != nil {
			return err
		}
		return &PacketError{Num: r.num, Offset: start, Err: fmt.Errorf("captured length %d exceeds the block (%d bytes)", capLen, room)}
	}
	if ifid >= len(r.png.ifaces) || r.png.ifaces[ifid].linkType < 0 {
		if err := skipRest(); err != nil {
			return err
		}
		return &PacketError{Num: r.num, Offset: start, Err: fmt.Errorf("packet names interface %d, which is not described", ifid)}
	}
	keep := int(capLen)
	if keep > MaxPacket {
		keep = MaxPacket
	}
	data := r.packetBuf(keep)
	n, err := r.readFull(data)
	consumed += int64(n)
	if err != nil {
		r.done = true
		if unexpectedEOF(err) {
			return &PacketError{Num: r.num, Offset: start, Err: fmt.Errorf("%w: packet has %d of %d captured bytes", ErrTruncated, n, capLen)}
		}
		return err
	}
	// Skip padding and options, then check the trailing length copy.
	if _, err := r.discard(int64(blen) - consumed - 4); err != nil {
		return r.truncatedBlock(start, 0, err)
	}
	trail := r.scratch[:4]
	if _, err := r.readFull(trail); err != nil {
		return r.truncatedBlock(start, 0, err)
	}
	if t := o.Uint32(trail); t != blen {
		r.pending = append(r.pending, &PacketError{Num: r.num, Offset: start,
			Err: fmt.Errorf("pcapng block length %d does not match its trailing copy %d", blen, t)})
	}
	ifc := r.png.ifaces[ifid]
	ts := r.png.lastTime
	if btype != blockSPB {
		ts = ngTime(uint64(tsHigh)<<32|uint64(tsLow), ifc)
		r.png.lastTime = ts
	}
	*p = Packet{
		Num:       r.num,
		Offset:    start,
		Time:      ts,
		LinkType:  ifc.linkType,
		OrigLen:   int(origLen),
		Data:      data,
		Truncated: origLen > uint32(keep),
	}
	return nil
}

func ngTime(ts uint64, ifc iface) time.Time {
	u := ifc.unitsPerSec
	sec := ts / u
	rem := ts % u
	hi, lo := bits.Mul64(rem, 1_000_000_000)
	nsec, _ := bits.Div64(hi, lo, u)
	return time.Unix(int64(sec)+ifc.offsetSec, int64(nsec)).UTC()
}
