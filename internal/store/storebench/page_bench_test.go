package storebench_test

import (
	"context"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store"
)

// BenchmarkPage reads one TAXII-style page of 1,000 per op, by added
// time, cycling through the store from the start: pages of object
// versions (ATT&CK imported) where the store is a store.ObjectPager,
// else pages of sightings (WHODUNIT_BENCH_SIGHTINGS stored). The
// sub-benchmark's last name says which was read.
func BenchmarkPage(b *testing.B) {
	eachStore(b, func(b *testing.B, k kind) {
		s := k.open(b)
		b.Cleanup(func() { s.Close() })
		if p, ok := s.(store.ObjectPager); ok {
			importAttack(b, s, attackPath(b))
			b.Run("objects", func(b *testing.B) { pageObjects(b, p) })
			return
		}
		putSightings(b, s, sightings(sightingsSize))
		b.Run("sightings", func(b *testing.B) { pageSightings(b, s) })
	})
}

func pageObjects(b *testing.B, p store.ObjectPager) {
	ctx := context.Background()
	var after store.Cursor
	read := 0
	for b.Loop() {
		pg, err := p.ObjectsPage(ctx, store.PageQuery{}, after, pageSize)
		if err != nil {
			b.Fatal(err)
		}
		if len(pg.Items) != pageSize && pg.More {
			b.Fatalf("page of %d with more to come, want %d", len(pg.Items), pageSize)
		}
		read += len(pg.Items)
		after = pg.Next
		if !pg.More {
			after = ""
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "objects/s")
}

func pageSightings(b *testing.B, s store.FindingReader) {
	ctx := context.Background()
	var after store.Cursor
	read := 0
	for b.Loop() {
		pg, err := s.SightingsPage(ctx, store.SightingQuery{}, after, pageSize)
		if err != nil {
			b.Fatal(err)
		}
		if len(pg.Sightings) != pageSize && pg.More {
			b.Fatalf("page of %d with more to come, want %d", len(pg.Sightings), pageSize)
		}
		read += len(pg.Sightings)
		after = pg.Next
		if !pg.More {
			after = ""
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "sightings/s")
}
