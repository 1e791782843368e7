// Package capfile reads packet capture files: classic pcap (both byte
// orders, microsecond and nanosecond timestamps, the Kuznetzov variant) and
// pcapng (sections, interfaces, enhanced, simple and obsolete packet blocks).
// It yields raw link-layer frames with their number, byte offset, time and
// link type, and never decodes a protocol.
//
// Memory is bounded: one packet buffer of at most MaxPacket bytes is reused,
// larger packets are cut to that size, and blocks that carry no packet are
// skipped without buffering.
package capfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxPacket is the largest number of bytes kept of one packet. It is the
// largest snapshot length libpcap writes; longer records are cut to it.
const MaxPacket = 262144

// maxBlock bounds a pcapng block length; larger lengths are taken as corrupt
// framing rather than read.
const maxBlock = 64 << 20

// Link types this package names (LINKTYPE_* values of the pcap registry).
const (
	LinkNull     = 0   // BSD loopback, host-order address family
	LinkEthernet = 1   // Ethernet II / 802.3
	LinkRawOld   = 12  // raw IP on some BSDs (DLT_RAW)
	LinkRawOld2  = 14  // raw IP on OpenBSD (DLT_RAW)
	LinkRaw      = 101 // raw IPv4 or IPv6
	LinkLoop     = 108 // OpenBSD loopback, network-order address family
	LinkSLL      = 113 // Linux cooked capture v1
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkSLL2     = 276 // Linux cooked capture v2
)

// Packet is one captured frame. Data is valid until the next call to Next.
type Packet struct {
	Num      int64     // 1-based packet number in the file
	Offset   int64     // byte offset of the packet's record (pcap) or block (pcapng)
	Time     time.Time // capture time (UTC)
	LinkType int
	OrigLen  int    // length on the wire
	Data     []byte // captured bytes (at most MaxPacket)
	// Truncated is true when fewer bytes were captured than were on the wire.
	Truncated bool
}

// PacketError is one bad record: the reader skipped it and Next may be
// called again. Num is the number the packet would have had (0 for errors in
// file or section headers).
type PacketError struct {
	Num    int64
	Offset int64
	Err    error
}

func (e *PacketError) Error() string {
	if e.Num > 0 {
		return fmt.Sprintf("packet %d (offset %d): %v", e.Num, e.Offset, e.Err)
	}
	return fmt.Sprintf("offset %d: %v", e.Offset, e.Err)
}

func (e *PacketError) Unwrap() error { return e.Err }

// Errors wrapped by PacketError or returned as fatal errors.
var (
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	ErrTruncated  = errors.New("file ends inside a packet record")
)

// Sniff reports whether head starts like a pcap or pcapng file.
func Sniff(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	if _, ok := pcapMagic(head); ok {
		return true
	}
	if binary.BigEndian.Uint32(head) != blockSHB {
		return false
	}
	if len(head) < 12 {
		return true
	}
	bom := binary.BigEndian.Uint32(head[8:])
	return bom == byteOrderMagic || bom == byteOrderMagicSwapped
}

// Reader reads packets from a pcap or pcapng stream.
type Reader struct {
	br      *bufio.Reader
	off     int64 // bytes consumed from the stream
	num     int64 // packets yielded or skipped so far
	buf     []byte
	scratch [32]byte // fixed-size block fields, kept here so they do not escape
	pending []error  // record errors found while reading headers, reported first
	done    bool

	ng  bool
	pc  pcapState
	png ngState
}

// NewReader reads the file header of r and returns a reader positioned at
// the first packet. A header that is not pcap or pcapng is ErrNotCapture.
// Oddities of the header that do not stop reading (a snapshot length of 0)
// are reported by the first call to Next as a *PacketError.
func NewReader(r io.Reader) (*Reader, error) {
	cr := &Reader{br: bufio.NewReaderSize(r, 64<<10)}
	head, err := cr.br.Peek(4)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: file shorter than a header", ErrNotCapture)
		}
		return nil, err
	}
	if _, ok := pcapMagic(head); ok {
		if err := cr.readPcapHeader(); err != nil {
			return nil, err
		}
		return cr, nil
	}
	if binary.BigEndian.Uint32(head) == blockSHB {
		cr.ng = true
		if err := cr.readFirstSection(); err != nil {
			return nil, err
		}
		return cr, nil
	}
	return nil, ErrNotCapture
}

// Next fills p with the next packet. It returns io.EOF at the end, a
// *PacketError for one bad record (call Next again), or another error when
// the rest of the stream cannot be read.
func (r *Reader) Next(p *Packet) error {
	if len(r.pending) > 0 {
		err := r.pending[0]
		r.pending = r.pending[1:]
		return err
	}
	if r.done {
		return io.EOF
	}
	var err error
	if r.ng {
		err = r.nextNG(p)
	} else {
		err = r.nextPcap(p)
	}
	if err == io.EOF {
		r.done = true
	}
	return err
}

// BytesRead is the number of bytes consumed from the underlying stream.
func (r *Reader) BytesRead() int64 { return r.off }

// readFull reads exactly len(b) bytes, counting them. A short read at the
// end of the stream returns the count read and io.ErrUnexpectedEOF (or
// io.EOF when nothing was read).
func (r *Reader) readFull(b []byte) (int, error) {
	n, err := io.ReadFull(r.br, b)
	r.off += int64(n)
	return n, err
}

func (r *Reader) discard(n int64) (int64, error) {
	var done int64
	for done < n {
		chunk := n - done
		if chunk > 1<<30 {
			chunk = 1 << 30
		}
		d, err := r.br.Discard(int(chunk))
		done += int64(d)
		r.off += int64(d)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// packetBuf returns the reusable packet buffer with length n (n ≤ MaxPacket).
func (r *Reader) packetBuf(n int) []byte {
	if cap(r.buf) < n {
		c := 2 * cap(r.buf)
		if c < n {
			c = n
		}
		if c > MaxPacket {
			c = MaxPacket
		}
		r.buf = make([]byte, n, c)
	}
	return r.buf[:n]
}

func unexpectedEOF(err error) bool {
	return err == io.EOF || err == io.ErrUnexpectedEOF
}
