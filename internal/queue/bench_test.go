package queue

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// The throughput target: a scan through two workers reaches at least 80%
// of the local scan's bytes per second on the same data (compare the
// MB/s of BenchmarkScanLocal and BenchmarkScanTwoWorkers*). Every
// iteration scans into a fresh store, as a first scan does.
func BenchmarkScanLocal(b *testing.B) {
	f := newFixture(b)
	var bytes int64
	for b.Loop() {
		b.StopTimer()
		db := f.store(b)
		b.StartTimer()
		res, err := hunt.Scan(context.Background(), db, hunt.ScanOptions{Paths: f.paths, Workers: 2})
		if err != nil {
			b.Fatal(err)
		}
		bytes = res.Summary.DataBytes
	}
	b.SetBytes(bytes)
}

// BenchmarkScanOneWorker is the per-worker figure: one worker, reading
// by shared storage, with the coordinator and the server beside it.
func BenchmarkScanOneWorker(b *testing.B)             { benchWorkers(b, 1, true) }
func BenchmarkScanTwoWorkersShared(b *testing.B)      { benchWorkers(b, 2, true) }
func BenchmarkScanTwoWorkersObjectStore(b *testing.B) { benchWorkers(b, 2, false) }

func benchWorkers(b *testing.B, workers int, shared bool) {
	url := natsURL(b)
	f := newFixture(b)
	names := testNames(b, url)
	stop := startWorkers(b, url, names, Settings{}, workers)
	defer stop()
	nc := connect(b, url)
	var bytes int64
	i := 0
	for b.Loop() {
		b.StopTimer()
		db := f.store(b)
		i++
		b.StartTimer()
		// a new scan each time, not a resumed one: a chunk size one byte
		// larger gives it another identity
		res, err := Scan(context.Background(), nc, db, ScanOptions{ScanOptions: hunt.ScanOptions{Paths: f.paths},
			Names: names, Shared: shared, ChunkSize: DefaultChunkSize + i})
		if err != nil {
			b.Fatal(err)
		}
		bytes = res.Summary.DataBytes
	}
	b.SetBytes(bytes)
}

// BenchmarkScanTwoWorkersAgainstLocal takes turns, in every iteration, at
// a local scan with two scan workers and at scans through two queue
// workers (shared storage, then the object store), so that the three
// meet the same state of the machine, and reports each one's MB/s and
// the queue's as a share of the local scan's (the target is 80 %). All
// keep the observable index, as scans do by default, unless
// WHODUNIT_BENCH_NO_INDEX=1.
func BenchmarkScanTwoWorkersAgainstLocal(b *testing.B) {
	noIndex := os.Getenv("WHODUNIT_BENCH_NO_INDEX") == "1"
	url := natsURL(b)
	f := newFixture(b)
	names := testNames(b, url)
	stop := startWorkers(b, url, names, Settings{}, 2)
	defer stop()
	nc := connect(b, url)
	var local, shared, bucket time.Duration
	var cpu [3]float64 // this process's CPU seconds per kind of scan
	var bytes int64
	i := 0
	timed := func(kind int, scanWith func(db *sqlite.Store) (*hunt.ScanResult, error)) time.Duration {
		db := f.store(b)
		t0, cpu0 := time.Now(), scan.ProcessCPU()
		res, err := scanWith(db)
		took := time.Since(t0)
		cpu[kind] += scan.ProcessCPU() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		bytes = res.Summary.DataBytes
		return took
	}
	viaQueue := func(sharedStorage bool) func(db *sqlite.Store) (*hunt.ScanResult, error) {
		return func(db *sqlite.Store) (*hunt.ScanResult, error) {
			i++ // a new scan each time (see benchWorkers)
			return Scan(context.Background(), nc, db, ScanOptions{ScanOptions: hunt.ScanOptions{Paths: f.paths, NoIndex: noIndex},
				Names: names, Shared: sharedStorage, ChunkSize: DefaultChunkSize + i})
		}
	}
	for b.Loop() {
		local += timed(0, func(db *sqlite.Store) (*hunt.ScanResult, error) {
			return hunt.Scan(context.Background(), db, hunt.ScanOptions{Paths: f.paths, Workers: 2, NoIndex: noIndex})
		})
		shared += timed(1, viaQueue(true))
		bucket += timed(2, viaQueue(false))
	}
	mbps := func(d time.Duration) float64 { return float64(bytes) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(local), "local-MB/s")
	b.ReportMetric(mbps(shared), "shared-MB/s")
	b.ReportMetric(mbps(bucket), "objectstore-MB/s")
	b.ReportMetric(100*local.Seconds()/shared.Seconds(), "shared-%")
	b.ReportMetric(100*local.Seconds()/bucket.Seconds(), "objectstore-%")
	for kind, name := range []string{"local", "shared", "objectstore"} {
		b.ReportMetric(cpu[kind]/float64(b.N), name+"-cpu-s")
	}
}
