package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/scenario"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// The command line end to end: a scan with no intelligence, then an
// import that says which of its indicators were seen before, then
// 'retro', which finds the same and stores nothing twice, and 'sightings'
// showing them marked retrospective with their records' times.
func TestImportSaysWhatWasSeenBefore(t *testing.T) {
	needShared(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(7))
	apt1 := filepath.Join(sharedData, "intel", "apt1")
	domains := pick(t, filepath.Join(apt1, "apt1-fqdn.dat"), 2, rng)
	m, err := scenario.Generate(scenario.Spec{
		Background: filepath.Join(sharedData, "telemetry", "zeek", "wrccdc-2018"), Out: filepath.Join(dir, "logs"),
		Seed: 7, Days: 7, Files: []string{"dns", "ssl"}, MaxBackgroundLines: 5000,
		Actors: []scenario.Actor{{Name: "APT1", Domains: domains, IPs: []string{"203.0.113.9"}, UTCOffset: 8, Victims: 2, Sessions: 5, Beacon: time.Hour}},
	})
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "w.db")
	if out, errs, code := runCLI(t, "--db", db, "scan", "--no-behavior", filepath.Join(dir, "logs")); code != 0 || !strings.Contains(out, "observable index:") {
		t.Fatalf("scan: exit %d\n%s\n%s", code, out, errs)
	}
	checkIndexCommand(t, db)
	if err := os.RemoveAll(filepath.Join(dir, "logs")); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCLI(t, "--db", db, "intel", "import", filepath.Join(apt1, "apt1-fqdn.dat"))
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	// the list names some C2 names and their parent domains: each is one indicator
	if !strings.Contains(out, " new indicators were seen before: ") || strings.Contains(out, "\n0 new indicators") {
		t.Errorf("import output lacks the retro-hunt sentence:\n%s", out)
	}
	for _, d := range domains {
		if !strings.Contains(out, d) {
			t.Errorf("import output does not name %s:\n%s", d, out)
		}
	}
	out, errs, code = runCLI(t, "--db", db, "--json", "retro")
	if code != 0 {
		t.Fatalf("retro: exit %d\n%s", code, errs)
	}
	var res hunt.RetroResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("retro --json: %v\n%s", err, out)
	}
	if len(res.Hits) < len(domains) || res.NewSightings != 0 || res.Sightings == 0 {
		t.Errorf("retro rerun: %d hits, %d sightings, %d new; want %d or more hits, 0 new", len(res.Hits), res.Sightings, res.NewSightings, len(domains))
	}
	first := m.Truths[0].Time.Round(time.Microsecond)
	for _, tr := range m.Truths {
		if at := tr.Time.Round(time.Microsecond); at.Before(first) {
			first = at
		}
	}
	if len(res.Hits) > 0 && !res.Hits[0].First.Equal(first) {
		t.Errorf("first seen %v, want the first injected record's time %v", res.Hits[0].First, first)
	}
	out, _, code = runCLI(t, "--db", db, "--json", "sightings")
	if code != 0 || !strings.Contains(out, `"retrospective":true`) {
		t.Errorf("sightings --json (exit %d) shows no retrospective sighting:\n%.500s", code, out)
	}
}

// checkIndexCommand: 'index --json' gives the store's own sums of the
// index, and 'index' says the same figures.
func checkIndexCommand(t *testing.T, db string) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.ObservationStats(context.Background())
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want.Values == 0 || want.ByType[intel.Domain] == 0 {
		t.Fatalf("the scan indexed nothing: %+v", want)
	}
	out, errs, code := runCLI(t, "--db", db, "--json", "index")
	if code != 0 {
		t.Fatalf("index --json: exit %d\n%s", code, errs)
	}
	var got store.ObservationStats
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("index --json: %v\n%s", err, out)
	}
	if got.Values != want.Values || got.Records != want.Records || !got.First.Equal(want.First) || !got.Last.Equal(want.Last) ||
		!maps.Equal(got.ByType, want.ByType) {
		t.Errorf("index --json says %+v, the store %+v", got, want)
	}
	out, _, code = runCLI(t, "--db", db, "index")
	line := fmt.Sprintf("%d distinct values seen %d times", want.Values, want.Records)
	if code != 0 || !strings.Contains(out, line) || !strings.Contains(out, fmt.Sprintf("  %-12s %d\n", intel.Domain, want.ByType[intel.Domain])) {
		t.Errorf("index says\n%s\nwant %q and the domains' count %d", out, line, want.ByType[intel.Domain])
	}
}
