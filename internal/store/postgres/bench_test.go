package postgres_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

// BenchmarkImportAttack imports the full ATT&CK Enterprise bundle (24,771
// objects) into a fresh database per iteration, as the SQLite store's
// benchmark of the same name does.
func BenchmarkImportAttack(b *testing.B) {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "attack", "enterprise-attack.json.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skip("shared data not present")
	}
	ctx := context.Background()
	for b.Loop() {
		s, err := postgres.Open(ctx, pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		in, err := fileio.Open(path, fileio.DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		var st intel.Stats
		res, err := s.Import(ctx, intel.Source{Name: "attack", Format: "stix", SHA256: "x"}, func(sink intel.Sink) error {
			var err error
			st, err = stix.Importer{}.Import(ctx, in.R, path, intel.DefaultOptions(), sink)
			return err
		})
		in.Close()
		s.Close()
		if err != nil {
			b.Fatal(err)
		}
		if st.Total() != 24771 || res.New != 24771 {
			b.Fatalf("%d objects read, %d stored", st.Total(), res.New)
		}
	}
	b.ReportMetric(24771*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkPutSightings100k stores 100,000 sightings in batches of 1,000,
// as a scan does, into a fresh database per iteration; the sightings are
// those of the SQLite store's BenchmarkPutSightings.
func BenchmarkPutSightings100k(b *testing.B) {
	ctx := context.Background()
	const n, batch = 100000, 1000
	all := make([]match.Sighting, n)
	for i := range all {
		v := fmt.Sprintf("host%d.example.com", i%5000)
		all[i] = match.Sighting{IndicatorID: intel.DeriveID("indicator", "domain", v), Snapshot: "s1", Type: intel.Domain, Indicator: v,
			Field: "dns.query", Value: v, Time: time.Unix(1_500_000_000+int64(i), 0), File: "dns.log", Line: int64(i),
			SrcIP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstIP: netip.MustParseAddr("10.0.0.53"), SrcPort: 5353, DstPort: 53}
	}
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		s, err := postgres.Open(ctx, pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, stored := time.Now(), 0
		for j := 0; j < n; j += batch {
			k, err := s.PutSightings(ctx, all[j:j+batch])
			if err != nil {
				b.Fatal(err)
			}
			stored += k
		}
		elapsed += time.Since(start)
		s.Close()
		if stored != n {
			b.Fatalf("%d sightings new, want %d", stored, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "sightings/s")
}
