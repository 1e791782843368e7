package watch_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/watch"
)

// The watcher keeps the observable index as a scan does: watching real
// logs with no intelligence gives the index a scan of the same files
// gives, and importing APT1's indicators afterwards finds the injected
// traffic retrospectively, without reading the logs again.
func TestWatchKeepsTheIndex(t *testing.T) {
	logs, _ := scenarioLogs(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "live")
	os.Mkdir(live, 0o755)
	var paths []string
	for name, l := range logs {
		p := filepath.Join(live, name+".log")
		if err := os.WriteFile(p, []byte(l.head()+strings.Join(l.records, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	watched := filepath.Join(dir, "watched.db")
	state := filepath.Join(dir, "state.json")
	r := startWatch(t, watched, watch.Options{Paths: []string{live}, State: state, NoBehavior: true})
	waitFor(t, "the logs", func() bool { return caughtUp(t, state, paths...) })
	r.stop(t)

	ctx := context.Background()
	scanned, err := sqlite.Open(ctx, filepath.Join(dir, "scanned.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer scanned.Close()
	if _, err := hunt.Scan(ctx, scanned, hunt.ScanOptions{Paths: []string{live}, NoBehavior: true}); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, watched)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want, got := observations(t, scanned), observations(t, db)
	if len(want) < 100 {
		t.Fatalf("the scan indexed %d values", len(want))
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Fatalf("index (-scan +watch):\n%s", diff)
	}
	importInto(t, db, needShared(t, "intel", "apt1"))
	res, err := hunt.Retro(ctx, db, hunt.RetroOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewSightings == 0 {
		t.Fatalf("the retro-hunt after watching found nothing: %+v", res)
	}
}

func observations(t *testing.T, db *sqlite.Store) []obsindex.Observation {
	t.Helper()
	var out []obsindex.Observation
	err := db.Observations(context.Background(), store.ObservationQuery{}, func(o *obsindex.Observation) error {
		out = append(out, *o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
