package pcap_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/pcap"
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
		rd, err := pcap.Format{Options: pcap.Options{MaxFlows: 64}}.Open(bytes.NewReader(data), "fuzz.pcap")
		if err != nil {
			return
		}
		var ev telemetry.Event
		for i := 0; ; i++ {
			if i > 1_000_000 {
				t.Fatal("reader did not end")
			}
			err := rd.Next(&ev)
			if err == io.EOF {
				return
			}
			var re *telemetry.RecordError
			if errors.As(err, &re) {
				if re.File != "fuzz.pcap" || re.Offset < 0 || re.Offset > int64(len(data)) {
					t.Fatalf("record error without provenance: %+v", re)
				}
				continue
			}
			if err != nil {
				return
			}
			if ev.File != "fuzz.pcap" || ev.Line <= 0 {
				t.Fatalf("event without provenance: %+v", ev)
			}
		}
	})
}
