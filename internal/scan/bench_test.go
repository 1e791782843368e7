package scan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// benchCorpusSize is the size of the synthetic Zeek corpus the scan
// benchmark reads: large enough that every log type is well represented,
// small enough to generate in a few seconds.
const benchCorpusSize = 48 << 20

var (
	benchOnce   sync.Once
	benchDir    string
	benchFiles  []string
	benchBytes  int64
	benchEvents int64
	benchSnaps  = map[int]*match.Snapshot{}
	benchErr    error
)

func benchCorpus(b *testing.B) {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "whodunit-scan-bench-")
		if benchErr != nil {
			return
		}
		var m *benchgen.Manifest
		m, benchErr = benchgen.GenerateCorpus(benchgen.Config{Dir: filepath.Join(benchDir, "corpus"), Size: benchCorpusSize, Seed: 1})
		if benchErr != nil {
			return
		}
		for _, f := range m.Files {
			benchFiles = append(benchFiles, f.Path)
		}
		benchBytes, benchEvents = m.Bytes, m.Records
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
}

func benchSnapshot(b *testing.B, n int) *match.Snapshot {
	if s, ok := benchSnaps[n]; ok {
		return s
	}
	s, err := match.Compile(benchgen.Objects(benchgen.Indicators(n, 1)), match.Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchSnaps[n] = s
	return s
}

// BenchmarkScanZeek scans a synthetic Zeek TSV corpus (the mix of
// make bench-scan: conn, dns, ssl, http, files) with one worker, against
// 1,000,000 indicators and without any, and reports the CPU time the whole
// process spent per byte (MB/cpu-s): reading, splitting into chunks,
// parsing, matching, and the garbage collector's share. That is the figure
// to compare on a shared machine; wall time counts other processes too.
func BenchmarkScanZeek(b *testing.B) {
	benchCorpus(b)
	for _, n := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("indicators=%d", n), func(b *testing.B) {
			var snap *match.Snapshot
			if n > 0 {
				snap = benchSnapshot(b, n)
			}
			reg := telemetry.NewRegistry(zeek.TSV{})
			// the garbage of compiling is not the scan's
			runtime.GC()
			b.SetBytes(benchBytes)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				sum, err := scan.Run(context.Background(), scan.Config{Paths: benchFiles, Registry: reg, Snapshot: snap, Workers: 1})
				if err != nil {
					b.Fatal(err)
				}
				if sum.Events != benchEvents || sum.BadRecords != 0 {
					b.Fatalf("%d events (%d bad), want %d", sum.Events, sum.BadRecords, benchEvents)
				}
			}
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(benchBytes)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
			}
			// allocs/op divided by this is the allocations per event
			b.ReportMetric(float64(benchEvents), "events/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}
