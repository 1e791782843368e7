package postgres_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

// indexDefs are the definitions of every index of the database's schema.
func indexDefs(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname")
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// A first import into an empty store writes without the secondary
// indexes (bulk.go) and must leave exactly the migration's indexes: after
// a file refused whole (the drop is rolled back), after one imported, and
// after a second import into the store that is no longer empty.
func TestFirstImportKeepsTheIndexes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := indexDefs(t, dsn)
	if len(want) < 10 {
		t.Fatalf("only %d indexes after the migrations", len(want))
	}
	cut := filepath.Join(t.TempDir(), "apt1.json")
	whole, err := os.ReadFile(filepath.Join(examples, "intel", "apt1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cut, filepath.Join(examples, "intel", "apt1.json"), filepath.Join(examples, "intel", "attack-subset.json.gz")} {
		results, err := hunt.Import(ctx, s, hunt.ImportOptions{Paths: []string{p}})
		if err != nil {
			t.Fatal(err)
		}
		if got := indexDefs(t, dsn); !slices.Equal(got, want) {
			t.Fatalf("after importing %s (%v): indexes\n%v\nwant\n%v", filepath.Base(p), results[0].Err, got, want)
		}
	}
	if n, err := s.Count(ctx, intel.TypeIndicator); err != nil || n == 0 {
		t.Errorf("indicators stored: %d, %v", n, err)
	}
}

// A first import puts aside every object it meets again while the keys
// are away, and past maxLater brings the keys back mid-import: either
// way the store ends as an import into a store that is not empty leaves
// it (versions, matcher rows, counts), with the migration's indexes.
func TestFirstImportPutsRepeatsAside(t *testing.T) {
	defer postgres.SetMaxLater(3000)()
	v1, v2 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	var objs []*intel.Object
	for i := range 12000 {
		objs = append(objs, domainIndicator(fmt.Sprintf("c2-%d.example", i), v1))
	}
	for i := range 12000 {
		objs = append(objs, domainIndicator(fmt.Sprintf("c2-%d.example", i), v2))
	}
	objs = append(objs, domainIndicator("c2-7.example", v1)) // an older version again: nothing new
	seed := domainIndicator("seed.example", v1)
	type outcome struct {
		newObjects int
		matchers   map[string]string
		versions   int
	}
	run := func(first bool) outcome {
		ctx := context.Background()
		dsn := pgtest.NewDatabase(t)
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		want := indexDefs(t, dsn)
		if !first {
			importObjects(t, s, "seed", seed)
		}
		var out outcome
		out.newObjects = importObjects(t, s, "list", objs...)
		out.matchers = matchRows(t, s)
		delete(out.matchers, seed.ID)
		for _, id := range []string{objs[0].ID, objs[7].ID, objs[11999].ID} {
			vs, err := s.Versions(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out.versions += len(vs)
		}
		if got := indexDefs(t, dsn); !slices.Equal(got, want) {
			t.Errorf("first=%v: indexes\n%v\nwant\n%v", first, got, want)
		}
		return out
	}
	fresh, ordinary := run(true), run(false)
	if fresh.newObjects != 24000 || fresh.versions != 6 || len(fresh.matchers) != 12000 {
		t.Errorf("first import: %d new, %d versions of three ids, %d matcher rows; want 24000, 6, 12000", fresh.newObjects, fresh.versions, len(fresh.matchers))
	}
	if fresh.newObjects != ordinary.newObjects || fresh.versions != ordinary.versions || !maps.Equal(fresh.matchers, ordinary.matchers) {
		t.Errorf("first import %d new, %d versions; into a store not empty %d, %d (matcher rows equal: %v)",
			fresh.newObjects, fresh.versions, ordinary.newObjects, ordinary.versions, maps.Equal(fresh.matchers, ordinary.matchers))
	}
	for id, m := range fresh.matchers {
		if m != "2024-02-01T00:00:00Z 2" {
			t.Fatalf("%s: matcher row %s, want the February version", id, m)
		}
	}
}

// A row the server refuses, written by the first import's sender while
// the next batch is encoded, fails the import: nothing is stored, the
// error names the batch, and the indexes are the migration's.
func TestFirstImportRefusedRowFailsIt(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := indexDefs(t, dsn)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	bad := domainIndicator("bad.example", at)
	bad.Name = "nul\x00name" // text cannot hold a NUL
	_, err = s.Import(ctx, intel.Source{Name: "list", Format: "list"}, func(sink intel.Sink) error {
		for i := range 25000 {
			o := domainIndicator(fmt.Sprintf("c2-%d.example", i), at)
			if i == 12345 {
				o = bad
			}
			if err := sink.Put(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "copying objects") {
		t.Fatalf("import with a NUL in a name: %v, want a COPY error", err)
	}
	if n, err := s.Count(ctx, intel.TypeIndicator); err != nil || n != 0 {
		t.Errorf("%d indicators stored after a failed import (%v), want 0", n, err)
	}
	if got := indexDefs(t, dsn); !slices.Equal(got, want) {
		t.Errorf("indexes after a failed first import\n%v\nwant\n%v", got, want)
	}
}
