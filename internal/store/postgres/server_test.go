package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

// TestServerContract runs the server roles' contract with one fresh
// schema per case, in one database made for the run.
func TestServerContract(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var n atomic.Int64
	storetest.RunServer(t, func(t *testing.T) store.ServerStore {
		return openInSchema(t, dsn, fmt.Sprintf("server_%d", n.Add(1)))
	})
}

// openInSchema opens a store in a new schema of the database dsn.
func openInSchema(t testing.TB, dsn, schema string) *postgres.Store {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, pgtest.WithParams(t, dsn, map[string]string{"search_path": schema}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUpgradeToSchema2GivesAddedTimes: versions stored before schema 2
// get their source's import time as their added time.
func TestUpgradeToSchema2GivesAddedTimes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := []time.Time{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i, vals := range [][]string{{"evil.example", "bad.example"}, {"evil.example"}} {
		name := fmt.Sprintf("list-%d", i)
		if _, err := s.Import(ctx, intel.Source{Name: name, Format: "list", SHA256: name, ImportedAt: at[i]}, func(sink intel.Sink) error {
			for _, v := range vals {
				obs := intel.Observable{Type: intel.Domain, Value: v}
				// the second list's entry is a newer version; the reference
				// keeps them full objects, as schema 1 stored every object
				o := &intel.Object{ID: intel.DeriveID(intel.TypeIndicator, "domain", v), Type: intel.TypeIndicator, Name: v,
					Created: at[i], Modified: at[i], ExternalRefs: []intel.ExternalRef{{SourceName: "test", ExternalID: v}},
					Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: obs.STIXPattern(), Observables: []intel.Observable{obs}}}
				if err := sink.Put(ctx, o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"ALTER TABLE objects DROP COLUMN added", "ALTER TABLE object_versions DROP COLUMN added",
		"DROP TABLE api_keys, audit, taxii_status, subscriptions", "UPDATE schema_version SET version = 1"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	conn.Close(ctx)
	if s, err = postgres.Open(ctx, dsn); err != nil {
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
