package pcap_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap"
)

// writeHoleyFlows writes a capture of n TCP connections that each send
// segs segments of 1,400 bytes after a hole that never fills: every one of
// them waits for the missing bytes, as in the audit's 25,000-flow capture
// that held 1.93 GB. It streams, so that a large one costs the test no
// memory of its own.
func writeHoleyFlows(w io.Writer, n, segs int) error {
	if _, err := w.Write(pcapBytes(1)); err != nil { // the file header
		return err
	}
	payload := bytes.Repeat([]byte{'x'}, 1400)
	for i := 0; i < n; i++ {
		src := [4]byte{10, 1, byte(i >> 8), byte(i)}
		dst := [4]byte{192, 0, 2, byte(i >> 16)}
		sport := uint16(20000 + i%40000)
		pkts := []packet{{sec: 1, link: 1, data: ether(0x0800, ipv4(src, dst, 6, tcp(sport, 8080, 999, 0x02, nil)))}}
		for s := 0; s < segs; s++ {
			seq := uint32(1000 + 20000 + s*1400) // 20,000 bytes never sent
			pkts = append(pkts, packet{sec: 2, link: 1, data: ether(0x0800, ipv4(src, dst, 6, tcp(sport, 8080, seq, 0x18, payload)))})
		}
		if _, err := w.Write(pcapBytes(1, pkts...)[24:]); err != nil {
			return err
		}
	}
	return nil
}

func holeyFlows(n, segs int) []byte {
	var b bytes.Buffer
	_ = writeHoleyFlows(&b, n, segs)
	return b.Bytes()
}

// TestReassemblyBoundedAcrossFlows: 2,000 flows with holes would buffer
// 28 MB; with a 1 MiB bound for all flows the reader never holds more,
// and every connection is still reported.
func TestReassemblyBoundedAcrossFlows(t *testing.T) {
	const bound = 1 << 20
	r, err := pcap.NewReader(bytes.NewReader(holeyFlows(2000, 10)), "holes.pcap", pcap.Options{MaxReassembly: bound})
	if err != nil {
		t.Fatal(err)
	}
	conns := 0
	var ev telemetry.Event
	for {
		err := r.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == telemetry.KindConn {
			conns++
		}
	}
	peak := r.ReassemblyPeak()
	if peak > bound {
		t.Errorf("buffered %d bytes out of order at the peak, bound %d", peak, bound)
	}
	if peak < bound/2 {
		t.Errorf("peak %d bytes: the capture did not press against the bound; the test checks nothing", peak)
	}
	if conns != 2000 {
		t.Errorf("%d connections reported, want 2000", conns)
	}
	if n := r.ReassemblyBytes(); n != 0 {
		t.Errorf("%d bytes still counted as buffered at the end", n)
	}
}

// BenchmarkHoleyFlows25k is the audit's case at the default bounds:
// 25,000 flows that each wait behind a hole (44 KiB buffered apiece, 1.1
// GB in all without a reader-wide bound). It reports the most the reader
// buffered at once and the process's peak RSS.
func BenchmarkHoleyFlows25k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "holes.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	if err := writeHoleyFlows(bw, 25000, 32); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	peak := 0
	for i := 0; i < b.N; i++ {
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := pcap.NewReader(bufio.NewReader(in), "holes.pcap", pcap.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var ev telemetry.Event
		for r.Next(&ev) == nil {
		}
		in.Close()
		peak = max(peak, r.ReassemblyPeak())
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-buffered-MiB")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

// peakRSSMiB reads the process's high-water resident set size.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
