package storebench_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

// BenchmarkImportAttack imports the ATT&CK Enterprise bundle (24,771
// objects) into an empty store per iteration.
func BenchmarkImportAttack(b *testing.B) {
	eachStore(b, func(b *testing.B, k kind) {
		path := attackPath(b)
		var elapsed time.Duration
		for b.Loop() {
			b.StopTimer()
			s := k.open(b)
			b.StartTimer()
			start := time.Now()
			importAttack(b, s, path)
			elapsed += time.Since(start)
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(attackObjects*float64(b.N)/elapsed.Seconds(), "objects/s")
	})
}

// BenchmarkImportList imports a WHODUNIT_BENCH_LIST-line indicator list
// into an empty store per iteration: one transaction, reader included.
func BenchmarkImportList(b *testing.B) {
	eachStore(b, func(b *testing.B, k kind) {
		data := list(b)
		b.SetBytes(int64(len(data)))
		var elapsed time.Duration
		n := 0
		for b.Loop() {
			b.StopTimer()
			s := k.open(b)
			b.StartTimer()
			start := time.Now()
			n += importList(b, s, data)
			elapsed += time.Since(start)
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "indicators/s")
	})
}

// BenchmarkMatch reads the matcher's input from a store holding the
// imported list (importing it is not measured): "stream" is
// MatchIndicators alone, to a callback that only counts, the store's
// share of building the matcher; "snapshot" is hunt.BuildSnapshot, the
// compile every scan and hunt does first.
func BenchmarkMatch(b *testing.B) {
	eachStore(b, func(b *testing.B, k kind) {
		s := k.open(b)
		b.Cleanup(func() { s.Close() })
		n := importList(b, s, list(b))
		b.Run("stream", func(b *testing.B) { streamIndicators(b, s, n) })
		b.Run("snapshot", func(b *testing.B) { buildSnapshot(b, s, n) })
	})
}

func streamIndicators(b *testing.B, s store.MatchSource, n int) {
	ctx := context.Background()
	for b.Loop() {
		got := 0
		if err := s.MatchIndicators(ctx, func(*intel.Object) error { got++; return nil }); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("%d indicators streamed, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
}

func buildSnapshot(b *testing.B, s hunt.MatchSource, n int) {
	ctx := context.Background()
	for b.Loop() {
		snap, err := hunt.BuildSnapshot(ctx, s, nil)
		if err != nil {
			b.Fatal(err)
		}
		if snap.Len() != n {
			b.Fatalf("snapshot of %d indicators, want %d", snap.Len(), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
}

// sightings are WHODUNIT_BENCH_SIGHTINGS distinct sightings of 5,000
// domains, as a scan of DNS logs finds them.
func sightings(n int) []match.Sighting {
	all := make([]match.Sighting, n)
	for i := range all {
		v := fmt.Sprintf("host%d.example.com", i%5000)
		all[i] = match.Sighting{IndicatorID: intel.DeriveID("indicator", "domain", v), Snapshot: "s1", Type: intel.Domain, Indicator: v,
			Field: "dns.query", Value: v, Time: time.Unix(1_500_000_000+int64(i), 0), File: "dns.log", Line: int64(i),
			SrcIP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstIP: netip.MustParseAddr("10.0.0.53"), SrcPort: 5353, DstPort: 53}
	}
	return all
}

// sightingBatch is how many sightings a scan hands the store at once.
const sightingBatch = 1000

// putSightings stores all in batches and checks every one was new.
func putSightings(b *testing.B, s store.Store, all []match.Sighting) {
	stored := 0
	for j := 0; j < len(all); j += sightingBatch {
		k, err := s.PutSightings(context.Background(), all[j:min(j+sightingBatch, len(all))])
		if err != nil {
			b.Fatal(err)
		}
		stored += k
	}
	if stored != len(all) {
		b.Fatalf("%d sightings new, want %d", stored, len(all))
	}
}

// BenchmarkPutSightings writes WHODUNIT_BENCH_SIGHTINGS sightings in
// batches of 1,000 into an empty store per iteration.
func BenchmarkPutSightings(b *testing.B) {
	all := sightings(sightingsSize)
	eachStore(b, func(b *testing.B, k kind) {
		var elapsed time.Duration
		for b.Loop() {
			b.StopTimer()
			s := k.open(b)
			b.StartTimer()
			start := time.Now()
			putSightings(b, s, all)
			elapsed += time.Since(start)
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(len(all))*float64(b.N)/elapsed.Seconds(), "sightings/s")
	})
}
