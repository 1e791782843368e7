package sqlite_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

func BenchmarkPutIndicators(b *testing.B) {
	ctx := context.Background()
	n := 100000
	objs := make([]*intel.Object, n)
	for i := range objs {
		v := fmt.Sprintf("host%d.example.com", i)
		ob := intel.Observable{Type: intel.Domain, Value: v}
		objs[i] = &intel.Object{ID: intel.DeriveID("indicator", "domain", v), Type: "indicator", Name: v, Confidence: -1, Modified: time.Unix(0, 0),
			Raw:       []byte(`{"indicator":"` + v + `"}`),
			Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: ob.STIXPattern(), Observables: []intel.Observable{ob}}}
	}
	for i := 0; i < b.N; i++ {
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		_, err = s.Import(ctx, intel.Source{Name: "x", SHA256: "y"}, func(sink intel.Sink) error {
			for _, o := range objs {
				if err := sink.Put(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "indicators/s")
		s.Close()
	}
}

// BenchmarkPutSightings stores 100,000 sightings in batches of 1,000, as
// a scan does, into a fresh store per iteration.
func BenchmarkPutSightings(b *testing.B) {
	ctx := context.Background()
	const n, batch = 100000, 1000
	all := make([]match.Sighting, n)
	for i := range all {
		v := fmt.Sprintf("host%d.example.com", i%5000)
		all[i] = match.Sighting{IndicatorID: intel.DeriveID("indicator", "domain", v), Snapshot: "s1", Type: intel.Domain, Indicator: v,
			Field: "dns.query", Value: v, Time: time.Unix(1_500_000_000+int64(i), 0), File: "dns.log", Line: int64(i),
			SrcIP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstIP: netip.MustParseAddr("10.0.0.53"), SrcPort: 5353, DstPort: 53}
	}
	for i := 0; i < b.N; i++ {
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for j := 0; j < n; j += batch {
			if _, err := s.PutSightings(ctx, all[j:j+batch]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "sightings/s")
		s.Close()
	}
}

// BenchmarkSightingsPage pages through 100,000 stored sightings 1,000 at
// a time.
func BenchmarkSightingsPage(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 100000
	list := make([]match.Sighting, 0, 1000)
	for i := 0; i < n; i++ {
		list = append(list, match.Sighting{IndicatorID: "indicator--x", Field: "dns.query", Value: fmt.Sprint(i), File: "dns.log", Line: int64(i)})
		if len(list) == cap(list) {
			if _, err := s.PutSightings(ctx, list); err != nil {
				b.Fatal(err)
			}
			list = list[:0]
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var after store.Cursor
		got := 0
		for {
			p, err := s.SightingsPage(ctx, store.SightingQuery{}, after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			got += len(p.Sightings)
			after = p.Next
			if !p.More {
				break
			}
		}
		if got != n {
			b.Fatalf("%d sightings paged, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "sightings/s")
}
