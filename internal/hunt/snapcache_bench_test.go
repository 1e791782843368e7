package hunt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// BenchmarkSnapshotStart is what a scan's start costs on a SQLite store of
// mixed indicators (WHODUNIT_BENCH_START_N, 100,000 by default): compiling
// from the store, and loading the compiled snapshot from its cache (the
// cache key's store queries and the warninglists read included).
func BenchmarkSnapshotStart(b *testing.B) {
	n := 100_000
	if s := os.Getenv("WHODUNIT_BENCH_START_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	dir := b.TempDir()
	intelFile := filepath.Join(dir, "indicators.dat")
	f, err := os.Create(intelFile)
	if err != nil {
		b.Fatal(err)
	}
	if err := benchgen.WriteZeekIntel(f, benchgen.Indicators(n, 1)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: []string{intelFile}}); err != nil {
		b.Fatal(err)
	}
	cache := filepath.Join(dir, "w.db.snapshot")
	b.Run(fmt.Sprintf("compile/indicators=%d", n), func(b *testing.B) {
		cpu0 := processCPU()
		for b.Loop() {
			if _, err := hunt.BuildSnapshotCached(ctx, db, "", nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
	if _, err := hunt.BuildSnapshotCached(ctx, db, cache, nil); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("cached/indicators=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPU()
		for b.Loop() {
			if _, err := hunt.BuildSnapshotCached(ctx, db, cache, nil); err != nil {
				b.Fatal(err)
			}
		}
		// CPU time does not count the moments other processes had the
		// core: the figure to read on a shared machine.
		b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
