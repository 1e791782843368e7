package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// examples is the demo's sample data, from this package's directory.
const examples = "../../../examples"

// demoOptions is what 'whodunit demo' runs: examples/intel with each
// examples/intel/actors/NAME labelled as actor NAME's, examples/telemetry,
// and the assets, with a fixed report time.
func demoOptions(t *testing.T, out string) hunt.Options {
	t.Helper()
	intelDir := filepath.Join(examples, "intel")
	entries, err := os.ReadDir(intelDir)
	if err != nil {
		t.Skipf("no demo data: %v", err)
	}
	var paths []string
	var plan []hunt.ImportOptions
	for _, e := range entries {
		p := filepath.Join(intelDir, e.Name())
		if e.Name() != "actors" || !e.IsDir() {
			paths = append(paths, p)
			continue
		}
		actors, err := os.ReadDir(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range actors {
			if a.IsDir() {
				labels := intel.DefaultOptions()
				labels.Actor = a.Name()
				plan = append(plan, hunt.ImportOptions{Paths: []string{filepath.Join(p, a.Name())}, Labels: labels})
			}
		}
	}
	plan = append([]hunt.ImportOptions{{Paths: paths, Labels: intel.DefaultOptions()}}, plan...)
	assets, err := correlate.LoadAssets(filepath.Join(examples, "assets.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return hunt.Options{Intel: plan, Scan: hunt.ScanOptions{Paths: []string{filepath.Join(examples, "telemetry")}},
		Analyse: hunt.AnalyseOptions{Assets: assets, Org: "whodunit demo", TLP: "clear", Tool: "whodunit test",
			Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		OutDir: out}
}

// demoReport runs the demo into db and returns its report.json without
// the keys that say when it ran.
func demoReport(t *testing.T, db store.Store) map[string]any {
	t.Helper()
	out := t.TempDir()
	res, err := hunt.Run(context.Background(), db, demoOptions(t, out))
	if err != nil {
		for _, r := range res.Imports {
			if r.Err != nil {
				t.Errorf("import %s: %v", r.Path, r.Err)
			}
		}
		t.Fatalf("hunt: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	delete(doc, "generated")
	return doc
}

// TestDemoSameAsSQLite: the demo's report is the same whichever store
// holds the data.
func TestDemoSameAsSQLite(t *testing.T) {
	pg, lite, _ := bothStores(t)
	want := demoReport(t, lite)
	got := demoReport(t, pg)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report.json on PostgreSQL differs from SQLite's (-sqlite +postgres):\n%s", diff)
	}
	// the comparison is of a real run: the demo's five campaigns
	if c, _ := want["campaigns"].([]any); len(c) != 5 {
		t.Errorf("the demo found %d campaigns, want 5", len(c))
	}
}

// bothStores opens an empty PostgreSQL store (and gives its DSN) and an
// empty SQLite store, both closed when the test ends.
func bothStores(t *testing.T) (*postgres.Store, *sqlite.Store, string) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	return pg, lite, dsn
}
