package watch_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/watch"
)

// TestWatchOnPostgres follows a real DNS log with injected APT1 traffic
// into a PostgreSQL store: the alerts are a scan's (on SQLite) of the
// same file, each once, and the server holds exactly those sightings.
func TestWatchOnPostgres(t *testing.T) {
	logs, _ := scenarioLogs(t)
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	importInto(t, db, needShared(t, "intel", "apt1"))
	dir := t.TempDir()
	live := filepath.Join(dir, "live")
	os.Mkdir(live, 0o755)
	dns := logs["dns"]
	parts := split(dns.records, 2)
	path := filepath.Join(live, "dns.log")
	os.WriteFile(path, []byte(dns.head()+parts[0]), 0o644)
	state, alerts := filepath.Join(dir, "state.json"), filepath.Join(dir, "alerts.jsonl")
	r := startWatchOn(t, db, watch.Options{Paths: []string{live}, State: state, AlertsFile: alerts, NoBehavior: true})
	appendFile(t, path, parts[1])
	waitFor(t, "the log", func() bool { return caughtUp(t, state, path) })
	r.stop(t)
	want, all := scanKeys(t, map[string]string{"dns.log": dns.head() + strings.Join(parts, "")})
	checkExactlyOnce(t, readAlerts(t, alerts), want)

	db, err = postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]bool{}
	if err := db.Sightings(ctx, store.SightingQuery{}, func(s *match.Sighting) error { stored[s.Key()] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !sameKeys(stored, all) {
		t.Errorf("PostgreSQL holds %d sightings, a scan gives %d", len(stored), len(all))
	}
}
