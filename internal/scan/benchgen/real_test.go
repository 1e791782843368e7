package benchgen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// TestRealCorpusPlantedHitsFound builds a small real-data corpus from
// ../shared/data and scans it: no bad record, every replicated line an
// event, and every planted value found in its field (real traffic may add
// hits of its own, so the check is "at least").
func TestRealCorpusPlantedHitsFound(t *testing.T) {
	data := filepath.Join("..", "..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(data, benchgen.RealSources[0].Path)); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	m, err := benchgen.GenerateRealCorpus(benchgen.Config{Dir: t.TempDir(), Size: 8 << 20, Seed: 5, PlantEvery: 500}, data)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Real || m.Planted < 40 || len(m.Files) != len(benchgen.RealSources) {
		t.Fatalf("manifest: %d files, %d planted, real=%v", len(m.Files), m.Planted, m.Real)
	}
	snap, err := match.Compile(benchgen.Objects(benchgen.Indicators(20000, 5)), match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	byField := map[string]int64{}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	sum, err := scan.Run(context.Background(), scan.Config{Paths: paths, Registry: telemetry.NewRegistry(zeek.TSV{}),
		Snapshot: snap, OnSighting: func(sg match.Sighting) { byField[sg.Field]++ }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.BadRecords != 0 || sum.FailedFiles != 0 || sum.Events != m.Records {
		t.Fatalf("%d events for %d records, %d bad, %d failed files", sum.Events, m.Records, sum.BadRecords, sum.FailedFiles)
	}
	for f, n := range m.ByField {
		if byField[f] < n {
			t.Errorf("%s: %d sightings, %d planted", f, byField[f], n)
		}
	}
}
