package queue

import (
	"context"
	"testing"

	"github.com/whodunit-project/whodunit/internal/hunt"
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
