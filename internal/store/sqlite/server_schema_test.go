package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// undoSchema5 takes a store of schema 5 back to schema 4, for tests that
// build an older store from a new one.
var undoSchema5 = []string{
	"DROP INDEX objects_added", "DROP INDEX objects_type_added", "DROP INDEX object_versions_added", "DROP INDEX list_indicators_added",
	"ALTER TABLE objects DROP COLUMN added", "ALTER TABLE object_versions DROP COLUMN added",
	"ALTER TABLE list_indicators DROP COLUMN added", "ALTER TABLE indicator_shapes DROP COLUMN added",
	"DROP TABLE api_keys", "DROP TABLE audit", "DROP TABLE taxii_status", "DROP TABLE subscriptions",
}

// TestUpgradeToSchema5GivesAddedTimes: versions stored before schema 5
// get their source's import time as their added time.
func TestUpgradeToSchema5GivesAddedTimes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v4.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := []time.Time{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}
	lists := [][]string{{"evil.example", "bad.example"}, {"evil.example"}}
	for i, list := range lists {
		name := fmt.Sprintf("list-%d", i)
		if _, err := s.Import(ctx, intel.Source{Name: name, Format: "list", SHA256: name, ImportedAt: at[i]}, func(sink intel.Sink) error {
			for _, v := range list {
				// the second list's entry is a newer version
				if err := sink.Put(ctx, listEntry(v, at[i])); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoSchema5, "PRAGMA user_version = 4") {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	if s, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.ObjectsPage(ctx, store.PageQuery{Versions: []string{"all"}}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range page.Items {
		got = append(got, it.Object.Name+" "+it.Added.Format("2006"))
	}
	want := []string{"bad.example 2020", "evil.example 2020", "evil.example 2021"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("versions after the upgrade (-want +got):\n%s", diff)
	}
}

// listEntry is an indicator as a plain list reads one: stored compactly.
func listEntry(value string, modified time.Time) *intel.Object {
	obs := intel.Observable{Type: intel.Domain, Value: value}
	return &intel.Object{ID: intel.DeriveID(intel.TypeIndicator, string(obs.Type), value), Type: intel.TypeIndicator, SpecVersion: "2.1",
		Name: value, Confidence: -1, Created: modified, Modified: modified, Raw: []byte(`{"value":"` + value + `"}`),
		Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: obs.STIXPattern(), Observables: []intel.Observable{obs}}}
}
