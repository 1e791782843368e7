package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

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
