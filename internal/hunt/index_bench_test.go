package hunt_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// BenchmarkScanIndexOverhead scans every real Zeek log of the shared data
// (WRCCDC and Stratosphere) with the APT1 indicators loaded, into a fresh
// SQLite store, once without and once with the observable index, and
// reports what the index costs (CPU seconds, as the machine is shared, and
// wall seconds, of the whole hunt.Scan: compile, scan, storing) and what it weighs: the store's growth per GB of logs
// parsed (after decompression).
func BenchmarkScanIndexOverhead(b *testing.B) {
	logs := needShared(b, "telemetry", "zeek")
	apt1 := needShared(b, "intel", "apt1")
	ctx := context.Background()
	run := func(noIndex bool) (wall, cpu float64, dbBytes, dataBytes int64, values int) {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "w.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: []string{filepath.Join(apt1, "apt1-fqdn.dat"), filepath.Join(apt1, "apt1-md5.dat")},
			Labels: intel.DefaultOptions()}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0, cpu0 := time.Now(), scan.ProcessCPU()
		res, err := hunt.Scan(ctx, db, hunt.ScanOptions{Paths: []string{logs}, NoBehavior: true, NoIndex: noIndex})
		if err != nil {
			b.Fatal(err)
		}
		wall, cpu = time.Since(t0).Seconds(), scan.ProcessCPU()-cpu0
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		return wall, cpu, st.Size(), res.Summary.DataBytes, res.Indexed
	}
	for b.Loop() {
		wallOff, cpuOff, sizeOff, data, _ := run(true)
		wallOn, cpuOn, sizeOn, _, values := run(false)
		b.ReportMetric(100*(cpuOn-cpuOff)/cpuOff, "cpu-overhead-%")
		b.ReportMetric(100*(wallOn-wallOff)/wallOff, "wall-overhead-%")
		b.ReportMetric(cpuOff, "scan-cpu-s")
		b.ReportMetric(cpuOn-cpuOff, "index-cpu-s")
		b.ReportMetric(float64(sizeOn-sizeOff)/float64(data)*1e9/1e6, "index-MB/GB-logs")
		b.ReportMetric(float64(values), "values")
		b.ReportMetric(float64(data)/1e6, "logs-MB")
	}
}
