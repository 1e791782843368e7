package pcap_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
)

// FuzzPcap feeds arbitrary bytes to the whole reader: container, link,
// IP, TCP reassembly and the application parsers. It must never panic,
// must end, and must give every record error its provenance.
func FuzzPcap(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.pcap"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tm := time.AfterFunc(10*time.Second, func() { panic("slow input") })
		defer tm.Stop()
		readertest.Fuzz(t, pcap.Format{Options: pcap.Options{MaxFlows: 64}}, data, "fuzz.pcap", 1_000_000, func(ev *telemetry.Event) {
			if ev.File != "fuzz.pcap" || ev.Line <= 0 {
				t.Fatalf("event without provenance: %+v", ev)
			}
		})
	})
}
