package faulttest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
)

// TestKillDuringScan kills a scan that stores tens of thousands of
// sightings at points spread over its run. After every kill the store is
// intact, and scanning again stores exactly the sightings of an
// uninterrupted scan: none lost, none twice.
func TestKillDuringScan(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real scans")
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	man, err := benchgen.GenerateCorpus(benchgen.Config{Dir: logs, Size: 16 << 20, Seed: 7, PlantEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	intelFile := filepath.Join(dir, "indicators.dat")
	f, err := os.Create(intelFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := benchgen.WriteZeekIntel(f, benchgen.Indicators(10000, 7)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	base := filepath.Join(dir, "intel.db")
	run(t, "intel", "import", "-q", "--db", base, intelFile)
	baseBytes, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}

	ref := filepath.Join(dir, "ref.db")
	copyFile(t, ref, baseBytes)
	took := run(t, "scan", "-q", "--db", ref, logs)
	want := sightingKeys(t, ref)
	if int64(len(want)) < man.Planted/2 {
		t.Fatalf("the reference scan stored %d sightings of %d planted", len(want), man.Planted)
	}
	t.Logf("reference scan: %d sightings in %v", len(want), took)
	killed := 0
	for i, f := range killPoints {
		db := filepath.Join(dir, "k"+string(rune('0'+i))+".db")
		copyFile(t, db, baseBytes)
		if !killAfter(t, time.Duration(f*float64(took)), "scan", "-q", "--db", db, logs) {
			continue
		}
		killed++
		integrity(t, db)
		run(t, "scan", "-q", "--db", db, logs)
		if got := sightingKeys(t, db); !slices.Equal(got, want) {
			t.Errorf("kill at %.0f%% then scan: %d sightings, want %d", f*100, len(got), len(want))
		}
	}
	if killed == 0 {
		t.Fatal("every scan finished before its kill: the test checked nothing")
	}
}

func copyFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
