package benchgen_test

import (
	"bytes"
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

// TestPlantedHitsAreExactlyWhatAScanFinds generates a small corpus and
// checks the benchmark's own premise: scanning it with a generated
// indicator set finds exactly the planted hits, field by field.
func TestPlantedHitsAreExactlyWhatAScanFinds(t *testing.T) {
	dir := t.TempDir()
	m, err := benchgen.GenerateCorpus(benchgen.Config{Dir: dir, Size: 4 << 20, Seed: 5, PlantEvery: 300})
	if err != nil {
		t.Fatal(err)
	}
	if m.Planted < 50 {
		t.Fatalf("only %d planted hits", m.Planted)
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
	if sum.BadRecords != 0 || sum.FailedFiles != 0 {
		t.Fatalf("generated logs have %d bad records, %d failed files: %+v", sum.BadRecords, sum.FailedFiles, sum.Files)
	}
	if sum.Events != m.Records {
		t.Errorf("%d events, manifest says %d records", sum.Events, m.Records)
	}
	for f, n := range m.ByField {
		if byField[f] != n {
			t.Errorf("%s: %d sightings, %d planted", f, byField[f], n)
		}
	}
	if sum.Sightings != m.Planted {
		t.Errorf("%d sightings, %d planted (%v vs %v)", sum.Sightings, m.Planted, byField, m.ByField)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, err := benchgen.GenerateCorpus(benchgen.Config{Dir: d, Size: 1 << 20, Seed: 9}); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(a, "*.log"))
	if len(files) != 10 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		x, _ := os.ReadFile(f)
		y, _ := os.ReadFile(filepath.Join(b, filepath.Base(f)))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", filepath.Base(f))
		}
	}
	i1, i2 := benchgen.Indicators(3000, 9), benchgen.Indicators(5000, 9)
	for i := range i1 {
		if i1[i] != i2[i] {
			t.Fatalf("indicator %d: the smaller set is not a prefix of the larger", i)
		}
	}
}
