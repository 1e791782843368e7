package pcap_test

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry/pcap"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
)

// sharedDir is the real captures of the shared data set.
var sharedDir = filepath.Join(readertest.SharedDir(), "telemetry", "pcap")

// sharedFile is one of them; the test skips when the shared data is absent.
func sharedFile(t testing.TB, name string) string {
	t.Helper()
	return readertest.SharedData(t, "telemetry", "pcap", name)
}

// readPath opens a file the way the CLI does (gzip through fileio); it
// must sniff as a capture. Events and bad records carry the base name.
func readPath(t testing.TB, path string, opts pcap.Options) readertest.Result {
	t.Helper()
	res, format := readertest.ReadFile(t, path, filepath.Base(path), readertest.Clone, pcap.Format{Options: opts})
	if format == "" {
		t.Fatalf("%s: Sniff = false", path)
	}
	return res
}

// readBytes reads a capture held in memory; it must open.
func readBytes(t testing.TB, name string, b []byte, opts pcap.Options) readertest.Result {
	t.Helper()
	rd, err := pcap.Format{Options: opts}.Open(bytes.NewReader(b), name)
	if err != nil {
		t.Fatal(err)
	}
	return readertest.Drain(t, rd)
}

// packet is a frame for the synthetic captures below.
type packet struct {
	sec, usec uint32
	link      uint32
	data      []byte
}

// pcapBytes writes a little-endian microsecond pcap; every packet must
// share the file's link type.
func pcapBytes(link uint32, pkts ...packet) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], link)
	b.Write(h)
	for _, p := range pkts {
		rh := make([]byte, 16)
		binary.LittleEndian.PutUint32(rh, p.sec)
		binary.LittleEndian.PutUint32(rh[4:], p.usec)
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(p.data)))
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(p.data)))
		b.Write(rh)
		b.Write(p.data)
	}
	return b.Bytes()
}

// readPcapPackets splits a little-endian microsecond pcap into packets.
func readPcapPackets(t testing.TB, b []byte) []packet {
	t.Helper()
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatal("want a little-endian microsecond pcap")
	}
	link := binary.LittleEndian.Uint32(b[20:])
	var out []packet
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		out = append(out, packet{
			sec:  binary.LittleEndian.Uint32(b[off:]),
			usec: binary.LittleEndian.Uint32(b[off+4:]),
			link: link,
			data: append([]byte(nil), b[off+16:off+16+n]...),
		})
		off += 16 + n
	}
	return out
}

// Synthetic frames: Ethernet, IPv4, TCP or UDP, without checksums.
var (
	macA = []byte{2, 0, 0, 0, 0, 1}
	macB = []byte{2, 0, 0, 0, 0, 2}
)

func ether(ethertype uint16, payload []byte) []byte {
	b := append(append(append([]byte(nil), macB...), macA...), byte(ethertype>>8), byte(ethertype))
	return append(b, payload...)
}

func ipv4(src, dst [4]byte, proto byte, payload []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return append(h, payload...)
}

func tcp(sport, dport uint16, seq uint32, flags byte, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12] = 5 << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], 65535)
	return append(h, payload...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h, sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

const (
	fSYN = 0x02
	fACK = 0x10
	fFIN = 0x01
	fRST = 0x04
	fPSH = 0x08
)
