package obsindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// The stored form of an observation's records is compact, since they are
// most of the index: a record names its source and file by a number the
// store keeps in a table of its own, and the rest is varints.
//
//	version byte (1), count, then per record:
//	source-id, line, offset, time (unix ns, zigzag; 0 = none),
//	src addr, dst addr (length byte 0, 4 or 16, then the bytes), src port, dst port

const codecVersion = 1

// ErrBadRecords is wrapped by DecodeRecords for bytes it cannot read.
var ErrBadRecords = errors.New("bad stored records")

// SourceKey is what a source id stands for.
type SourceKey struct{ Source, File string }

// AppendRecords appends the stored form of rs to dst; id gives the number
// of a record's source and file.
func AppendRecords(dst []byte, rs []Record, id func(SourceKey) uint64) []byte {
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, uint64(len(rs)))
	for i := range rs {
		r := &rs[i]
		dst = binary.AppendUvarint(dst, id(SourceKey{r.Source, r.File}))
		dst = binary.AppendVarint(dst, r.Line)
		dst = binary.AppendVarint(dst, r.Offset)
		var ns int64
		if !r.Time.IsZero() {
			ns = r.Time.UnixNano()
		}
		dst = binary.AppendVarint(dst, ns)
		dst = appendAddr(dst, r.SrcIP)
		dst = appendAddr(dst, r.DstIP)
		dst = binary.AppendUvarint(dst, uint64(r.SrcPort))
		dst = binary.AppendUvarint(dst, uint64(r.DstPort))
	}
	return dst
}

func appendAddr(dst []byte, a netip.Addr) []byte {
	switch {
	case !a.IsValid():
		return append(dst, 0)
	case a.Is4():
		b := a.As4()
		return append(append(dst, 4), b[:]...)
	default:
		b := a.As16()
		return append(append(dst, 16), b[:]...)
	}
}

// DecodeRecords reads what AppendRecords wrote; name gives the source and
// file of an id (false for an id the store does not know).
func DecodeRecords(b []byte, name func(uint64) (SourceKey, bool)) ([]Record, error) {
	d := decoder{b: b}
	if v := d.byte(); v != codecVersion {
		return nil, fmt.Errorf("%w: version %d", ErrBadRecords, v)
	}
	n := d.uvarint()
	if d.err != nil || n > MaxRecords*4 {
		return nil, fmt.Errorf("%w: %d records", ErrBadRecords, n)
	}
	out := make([]Record, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		var r Record
		id := d.uvarint()
		r.Line, r.Offset = d.varint(), d.varint()
		if ns := d.varint(); ns != 0 {
			r.Time = time.Unix(0, ns).UTC()
		}
		r.SrcIP, r.DstIP = d.addr(), d.addr()
		r.SrcPort, r.DstPort = d.port(), d.port()
		if d.err != nil {
			break
		}
		k, ok := name(id)
		if !ok {
			return nil, fmt.Errorf("%w: unknown source id %d", ErrBadRecords, id)
		}
		r.Source, r.File = k.Source, k.File
		out = append(out, r)
	}
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%d bytes left over", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w at byte %d: %v", ErrBadRecords, d.off, d.err)
	}
	return out, nil
}

// decoder reads varints, keeping the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("truncated")

func (d *decoder) byte() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.err = errShort
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) port() uint16 {
	v := d.uvarint()
	if v > 0xffff && d.err == nil {
		d.err = fmt.Errorf("port %d", v)
	}
	return uint16(v)
}

func (d *decoder) addr() netip.Addr {
	n := int(d.byte())
	if d.err != nil || n == 0 {
		return netip.Addr{}
	}
	if (n != 4 && n != 16) || d.off+n > len(d.b) {
		d.err = fmt.Errorf("address of %d bytes", n)
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(d.b[d.off : d.off+n])
	d.off += n
	return a
}
