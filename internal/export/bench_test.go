package export_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/export"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// peakRSSMiB is the process's peak resident set (VmHWM); resetPeakRSS
// starts it again from the current size, so that the export's own peak is
// measured, not the import's before it.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkExport1M imports the 1,000,000-line list of the store's own
// benchmark, attributed to one actor, then exports it in every format.
func BenchmarkExport1M(b *testing.B) {
	var buf bytes.Buffer
	if err := benchgen.WriteValues(&buf, benchgen.Indicators(1_000_000, 1)); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	opt := intel.DefaultOptions()
	opt.Actor, opt.TLP = "APT1", "amber"
	_, err = db.Import(ctx, intel.Source{Name: "list", Format: "list", SHA256: "x"}, func(sink intel.Sink) error {
		_, err := flat.List{}.Import(ctx, bytes.NewReader(buf.Bytes()), "indicators-1000000.txt", opt, sink)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	buf = bytes.Buffer{}
	for _, format := range []string{"zeek-intel", "csv", "misp", "stix", "suricata"} {
		b.Run(format, func(b *testing.B) {
			resetPeakRSS()
			n := 0
			for b.Loop() {
				var sum *export.Summary
				var err error
				if format == "suricata" {
					sum, err = export.ToPath(ctx, db, format, filepath.Join(b.TempDir(), "s"), nil, export.Options{})
				} else {
					w, werr := export.NewWriter(format, io.Discard, exportNow)
					if werr != nil {
						b.Fatal(werr)
					}
					sum, err = export.Export(ctx, db, w, export.Options{})
				}
				if err != nil {
					b.Fatal(err)
				}
				// suricata lists hold no URLs: every indicator must still be accounted for
				if n = sum.Exported; accounted(sum) < 980_000 || n < 850_000 {
					b.Fatalf("%d exported: %+v", n, sum)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
			b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
		})
	}
}
