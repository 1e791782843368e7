package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

// BenchmarkObjectsPage reads pages of 1,000 from a store of
// WHODUNIT_BENCH_OBJECTS indicators (20,000 unless set; the figure in
// docs/store-server.md is at 1,000,000), as the SQLite store's does.
func BenchmarkObjectsPage(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	s := openInSchema(b, dsn, "bench")
	defer s.Close()
	storetest.BenchObjectsPage(b, s, func() {
		// the statistics autovacuum gathers after a large import; without
		// them the planner takes the fresh table for a small one
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "ANALYZE bench.objects, bench.object_versions, bench.object_sources, bench.list_indicators, bench.indicator_shapes"); err != nil {
			b.Fatal(err)
		}
	})
}
