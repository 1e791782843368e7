package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

// domainIndicator is a list-style indicator of one domain.
func domainIndicator(v string, mod time.Time) *intel.Object {
	ob := intel.Observable{Type: intel.Domain, Value: v}
	return &intel.Object{ID: intel.DeriveID(intel.TypeIndicator, "domain", v), Type: intel.TypeIndicator, Name: v, Created: mod, Modified: mod,
		Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: ob.STIXPattern(), Observables: []intel.Observable{ob, ob}}}
}

func importObjects(t *testing.T, s *postgres.Store, name string, objs ...*intel.Object) int {
	t.Helper()
	ctx := context.Background()
	res, err := s.Import(ctx, intel.Source{Name: name, Format: "list", SHA256: name}, func(sink intel.Sink) error {
		for _, o := range objs {
			if err := sink.Put(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.New
}

// matchRows maps each indicator MatchIndicators streams to its modified
// time and observable count.
func matchRows(t *testing.T, s *postgres.Store) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err := s.MatchIndicators(context.Background(), func(o *intel.Object) error {
		got[o.ID] = fmtMod(o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func fmtMod(o *intel.Object) string {
	return o.Modified.UTC().Format(time.RFC3339) + " " + string(rune('0'+len(o.Indicator.Observables)))
}

// TestCopyFallsBackToStatements: a row left in a table the COPY writes
// (here a matcher row of no stored object) makes the COPY fail on its key;
// the batch is then written statement by statement, to the same result.
func TestCopyFallsBackToStatements(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	evil, bad := domainIndicator("evil.example", at), domainIndicator("bad.example", at)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO match_indicators(id, modified, revoked, valid_from, valid_until, flags, pattern_type, pattern, lists, vals)
		VALUES ($1, '1999', false, '', '', 0, 'stix', 'stale', '', '')`, evil.ID); err != nil {
		t.Fatal(err)
	}
	if n := importObjects(t, s, "list", evil, bad); n != 2 {
		t.Fatalf("%d objects new, want 2", n)
	}
	var values, matches int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM indicator_values), (SELECT count(*) FROM match_indicators WHERE modified <> '1999')`).
		Scan(&values, &matches); err != nil {
		t.Fatal(err)
	}
	if values != 2 || matches != 2 {
		t.Errorf("%d indicator values and %d current matcher rows, want 2 and 2", values, matches)
	}
	if got := matchRows(t, s); len(got) != 2 || got[evil.ID] != "2024-05-01T00:00:00Z 2" {
		t.Errorf("matcher rows %v", got)
	}
}

// TestCopyThenNewerVersionInOneBatch: an id twice in one import is copied
// once and then updated, as one statement at a time would leave it: the
// later version current, the earlier one kept as history.
func TestCopyThenNewerVersionInOneBatch(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v1, v2 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	older := domainIndicator("evil.example", v1)
	if n := importObjects(t, s, "list", older, domainIndicator("evil.example", v2), domainIndicator("evil.example", v1)); n != 2 {
		t.Fatalf("%d objects or versions new, want 2", n)
	}
	vs, err := s.Versions(ctx, older.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !vs[0].Modified.Equal(v1) || !vs[1].Modified.Equal(v2) {
		t.Fatalf("%d versions stored, want 2024-01 then 2024-02", len(vs))
	}
	if got := matchRows(t, s); got[older.ID] != "2024-02-01T00:00:00Z 2" {
		t.Errorf("matcher rows %v", got)
	}
}
