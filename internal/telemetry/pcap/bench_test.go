package pcap_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap"
)

// BenchmarkRead measures reading throughput over real captures: the
// largest one (mostly bulk TCP), and the busiest in application events.
func BenchmarkRead(b *testing.B) {
	for _, name := range []string{"irc-dcc-send.pcapng", "http_bro.org.pcap", "dns-edns-ecs.pcap"} {
		b.Run(name, func(b *testing.B) {
			data, err := os.ReadFile(sharedFile(b, name))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				events += readCapture(b, data, name)
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}

// readCapture reads one capture held in memory to its end and counts its
// events; bad records are skipped, other errors fail the benchmark.
func readCapture(b *testing.B, data []byte, name string) int {
	rd, err := pcap.Format{}.Open(bytes.NewReader(data), name)
	if err != nil {
		b.Fatal(err)
	}
	var ev telemetry.Event
	events := 0
	for {
		err := rd.Next(&ev)
		if err == io.EOF {
			return events
		}
		if err != nil && !telemetry.IsRecordError(err) {
			b.Fatal(err)
		}
		events++
	}
}
