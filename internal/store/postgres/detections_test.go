package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

// TestUpgradeFillsDetectionKeys rolls a store back to schema 4, before
// detections had query columns, and checks that migration 5 derives them
// from the stored JSON: every triage query answers as on a new store.
func TestUpgradeFillsDetectionKeys(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutDetections(ctx, storetest.TriageDetections()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP INDEX detections_score", "ALTER TABLE detections DROP COLUMN src_order, DROP COLUMN analytic_fold",
		"UPDATE detections SET src = '', dst_fold = '', dst_addr = '', series_count = 0, suppressed = 0",
		"UPDATE schema_version SET version = 4"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	conn.Close(ctx)
	if s, err = postgres.Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckDetectionsPage(t, s)
}
