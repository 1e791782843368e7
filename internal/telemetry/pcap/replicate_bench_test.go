package pcap_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry/pcap/capfile"
)

// BenchmarkReadRealReplicated reads every real capture of the shared data
// replicated to about 8 MB each (the "real captures replicated"),
// so that what is measured is the per-packet work, not opening a 1 KB
// file. Each copy of a capture is shifted in time and, for IPv4 and IPv6
// over Ethernet, moved to other addresses (see replicate), so that its
// flows are new flows rather than retransmissions of the first copy's.
// It reports MB per CPU-second for each capture and for all of them.
func BenchmarkReadRealReplicated(b *testing.B) {
	dir := filepath.Dir(sharedFile(b, "http_bro.org.pcap"))
	names, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	sort.Strings(names)
	var all [][]byte
	for _, path := range names {
		data, ok := replicatedCapture(b, path, 8<<20)
		if !ok {
			continue
		}
		all = append(all, data)
		b.Run(filepath.Base(path), func(b *testing.B) { benchCaptures(b, data) })
	}
	b.Run("all", func(b *testing.B) { benchCaptures(b, all...) })
}

func benchCaptures(b *testing.B, captures ...[]byte) {
	var size int64
	for _, c := range captures {
		size += int64(len(c))
	}
	b.SetBytes(size)
	events := 0
	cpu0 := processCPU()
	for b.Loop() {
		for _, data := range captures {
			events += readCapture(b, data, "replicated.pcap")
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}

// replicatedCapture is the capture at path written again as a classic
// pcap, its packets repeated until the file is about size bytes; false
// for a capture with more than one link type or whose packets cannot be
// read (the damaged test captures).
func replicatedCapture(b *testing.B, path string, size int) ([]byte, bool) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		r = zr
	}
	cr, err := capfile.NewReader(r)
	if err != nil {
		return nil, false
	}
	var pkts []capfile.Packet
	for {
		var p capfile.Packet
		err := cr.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil || len(pkts) > 0 && p.LinkType != pkts[0].LinkType {
			return nil, false
		}
		p.Data = bytes.Clone(p.Data)
		pkts = append(pkts, p)
	}
	if len(pkts) == 0 {
		return nil, false
	}
	return replicate(pkts, size), true
}

// replicate writes pkts again and again into a classic little-endian pcap
// of about size bytes. Copy k is shifted by k times the capture's span
// (and a second), and its Ethernet IPv4 or IPv6 packets have k added to
// the source address's last 16-bit word and taken from the destination's:
// every checksum over the addresses (IPv4 header, TCP and UDP
// pseudo-header) keeps its value, as a ones'-complement sum does.
func replicate(pkts []capfile.Packet, size int) []byte {
	out := make([]byte, 24, size+size/8)
	le := binary.LittleEndian
	le.PutUint32(out[0:], 0xa1b2c3d4)
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 262144)
	le.PutUint32(out[20:], uint32(pkts[0].LinkType))
	span := pkts[len(pkts)-1].Time.Sub(pkts[0].Time) + time.Second
	frame := make([]byte, 0, 65536)
	for k := 0; len(out) < size; k++ {
		for _, p := range pkts {
			t := p.Time.Add(time.Duration(k) * span)
			frame = append(frame[:0], p.Data...)
			if p.LinkType == 1 {
				moveAddresses(frame, uint16(k))
			}
			var h [16]byte
			le.PutUint32(h[0:], uint32(t.Unix()))
			le.PutUint32(h[4:], uint32(t.Nanosecond()/1000))
			le.PutUint32(h[8:], uint32(len(frame)))
			le.PutUint32(h[12:], uint32(max(p.OrigLen, len(frame))))
			out = append(append(out, h[:]...), frame...)
		}
	}
	return out
}

// moveAddresses adds k to the last 16-bit word of an Ethernet frame's IP
// source address and subtracts it from the destination's, in
// ones'-complement arithmetic (one VLAN tag allowed).
func moveAddresses(f []byte, k uint16) {
	if k == 0 || len(f) < 14 {
		return
	}
	off, ethType := 14, binary.BigEndian.Uint16(f[12:])
	if ethType == 0x8100 && len(f) >= 18 {
		off, ethType = 18, binary.BigEndian.Uint16(f[16:])
	}
	var src, dst int
	switch ethType {
	case 0x0800:
		src, dst = off+14, off+18 // last words of the addresses at 12 and 16
	case 0x86dd:
		src, dst = off+22, off+38 // of the addresses at 8 and 24
	default:
		return
	}
	if len(f) < dst+2 {
		return
	}
	put := func(at int, v uint16) { binary.BigEndian.PutUint16(f[at:], v) }
	put(src, onesAdd(binary.BigEndian.Uint16(f[src:]), k))
	put(dst, onesAdd(binary.BigEndian.Uint16(f[dst:]), ^k))
}

// onesAdd is a + b in ones'-complement arithmetic.
func onesAdd(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
