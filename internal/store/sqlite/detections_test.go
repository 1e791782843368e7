package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

// TestUpgradeFillsDetectionKeys rolls a store back to schema 9, before
// detections had query columns, and checks that the upgrade derives them
// from the stored JSON: every triage query answers as on a new store.
func TestUpgradeFillsDetectionKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutDetections(ctx, storetest.TriageDetections()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var drops []string
	for _, ix := range []string{"score", "analytic", "src", "dst", "first_seen", "count", "above"} {
		drops = append(drops, "DROP INDEX detections_"+ix)
	}
	for _, q := range append(drops, "ALTER TABLE detections DROP COLUMN src_order",
		"UPDATE detections SET analytic_fold = '', src = '', dst_fold = '', dst_addr = '', series_count = 0, suppressed = 0",
		"PRAGMA user_version = 9") {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	if s, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckDetectionsPage(t, s)
}
