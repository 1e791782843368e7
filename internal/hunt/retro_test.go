package hunt_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/scenario"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func needShared(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{sharedData}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

// pickValues draws n values of a Zeek intel file, deterministically.
func pickValues(t *testing.T, path string, n int, rng *rand.Rand) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			all = append(all, strings.SplitN(line, "\t", 2)[0])
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:n]
}

// apt1Scenario writes the real WRCCDC dns and ssl logs with APT1's
// activity injected (real APT1 C2 names and malware hashes; the C2
// addresses are documentation addresses, no indicator).
func apt1Scenario(t *testing.T, dir string) (*scenario.Manifest, []string) {
	rng := rand.New(rand.NewSource(18))
	apt1 := needShared(t, "intel", "apt1")
	m, err := scenario.Generate(scenario.Spec{
		Background: needShared(t, "telemetry", "zeek", "wrccdc-2018"), Out: filepath.Join(dir, "logs"),
		Seed: 18, Days: 14, Files: []string{"dns", "ssl"}, MaxBackgroundLines: 20000,
		Actors: []scenario.Actor{{Name: "APT1", Domains: pickValues(t, filepath.Join(apt1, "apt1-fqdn.dat"), 3, rng),
			IPs: []string{"203.0.113.34", "198.51.100.7"}, MD5s: pickValues(t, filepath.Join(apt1, "apt1-md5.dat"), 2, rng),
			UTCOffset: 8, Victims: 3, Sessions: 20, Beacon: 30 * time.Minute, Jitter: 0.3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	intelFiles := []string{filepath.Join(apt1, "apt1-fqdn.dat"), filepath.Join(apt1, "apt1-md5.dat"), filepath.Join(apt1, "apt1-certs.dat")}
	return m, intelFiles
}

// retroStore is what the end-to-end test needs of a store.
type retroStore interface {
	store.Store
	store.ObjectPager
}

func sightingsOf(t *testing.T, db store.FindingReader) []match.Sighting {
	t.Helper()
	var out []match.Sighting
	if err := db.Sightings(context.Background(), store.SightingQuery{}, func(sg *match.Sighting) error {
		out = append(out, *sg)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func importAll(t *testing.T, db hunt.ImportTarget, paths []string) {
	t.Helper()
	results, err := hunt.Import(context.Background(), db, hunt.ImportOptions{Paths: paths, Labels: intel.DefaultOptions()})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
	}
}

// testRetroFindsThePast scans the logs with no intelligence, deletes
// them, imports the APT1 indicators and retro-hunts: every injected value
// is found with its original first time and record — the very sighting a
// scan with the intelligence loaded makes of that record — and nothing
// else. A reference store scanned with the intelligence gives the truth
// of what the matcher says of each record.
func testRetroFindsThePast(t *testing.T, db, ref retroStore) {
	ctx := context.Background()
	dir := t.TempDir()
	m, intelFiles := apt1Scenario(t, dir)
	logs := filepath.Join(dir, "logs")

	importAll(t, ref, intelFiles)
	if _, err := hunt.Scan(ctx, ref, hunt.ScanOptions{Paths: []string{logs}, SourceName: "sensor", NoBehavior: true, NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	forward := map[string]match.Sighting{}
	for _, sg := range sightingsOf(t, ref) {
		forward[sg.Key()] = sg
	}
	if len(forward) == 0 {
		t.Fatal("the reference scan found nothing: the scenario injected no indicator")
	}

	res, err := hunt.Scan(ctx, db, hunt.ScanOptions{Paths: []string{logs}, SourceName: "sensor", NoBehavior: true, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Sightings != 0 || res.Indexed == 0 {
		t.Fatalf("scan without intelligence: %d sightings, %d values indexed", res.Summary.Sightings, res.Indexed)
	}
	if err := os.RemoveAll(logs); err != nil { // the retro-hunt must not need them
		t.Fatal(err)
	}
	before := time.Now()
	importAll(t, db, intelFiles)
	rr, err := hunt.Retro(ctx, db, hunt.RetroOptions{Since: before})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Indicators < 3000 {
		t.Errorf("retro-hunt looked for %d new indicators, want the ~3,000 APT1 ones", rr.Indicators)
	}
	got := sightingsOf(t, db)
	if len(got) == 0 || rr.NewSightings != len(got) {
		t.Fatalf("retro-hunt stored %d sightings, reported %d new", len(got), rr.NewSightings)
	}
	checkAgainstForward(t, got, forward)
	checkAgainstTruth(t, got, m)

	// a rerun over every indicator finds the same and stores nothing twice
	again, err := hunt.Retro(ctx, db, hunt.RetroOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.NewSightings != 0 || again.Sightings != rr.Sightings {
		t.Errorf("rerun: %d sightings, %d new; want %d, 0 new", again.Sightings, again.NewSightings, rr.Sightings)
	}
}

// checkAgainstForward: every retrospective sighting is one the forward
// scan made (same key, time, record, addresses), and of every (indicator,
// field, value) the forward scan found, the earliest record is among them.
func checkAgainstForward(t *testing.T, got []match.Sighting, forward map[string]match.Sighting) {
	t.Helper()
	type group struct{ id, field, value string }
	earliest := map[group]match.Sighting{}
	for _, sg := range forward {
		g := group{sg.IndicatorID, sg.Field, sg.Value}
		if e, ok := earliest[g]; !ok || sg.Time.Before(e.Time) {
			earliest[g] = sg
		}
	}
	have := map[string]bool{}
	for _, sg := range got {
		if !sg.Retrospective {
			t.Errorf("sighting %s not marked retrospective", sg.Key())
		}
		f, ok := forward[sg.Key()]
		if !ok {
			t.Errorf("retrospective sighting the scan never made: %+v", sg)
			continue
		}
		have[sg.Key()] = true
		if !f.Time.Equal(sg.Time) || f.Line != sg.Line || f.Offset != sg.Offset || f.SrcIP != sg.SrcIP || f.DstIP != sg.DstIP || f.Source != sg.Source {
			t.Errorf("retrospective %+v\nscan          %+v", sg, f)
		}
	}
	for g, e := range earliest {
		if !have[e.Key()] {
			t.Errorf("%s %s %s first seen %v (line %d) not found retrospectively", g.id, g.field, g.value, e.Time, e.Line)
		}
	}
}

// checkAgainstTruth: the values found are exactly the injected APT1
// values, each first seen at its first injected time.
func checkAgainstTruth(t *testing.T, got []match.Sighting, m *scenario.Manifest) {
	t.Helper()
	first := map[string]time.Time{}
	for _, tr := range m.Truths {
		if tr.Actor != "APT1" {
			continue
		}
		at := tr.Time.Round(time.Microsecond) // as the Zeek log writes it
		if f, ok := first[tr.Value]; !ok || at.Before(f) {
			first[tr.Value] = at
		}
	}
	seen := map[string]time.Time{}
	for _, sg := range got {
		if f, ok := seen[sg.Value]; !ok || sg.Time.Before(f) {
			seen[sg.Value] = sg.Time
		}
	}
	var want, have []string
	for v, at := range first {
		want = append(want, fmt.Sprintf("%s %s", v, at.UTC().Format(time.RFC3339Nano)))
	}
	for v, at := range seen {
		have = append(have, fmt.Sprintf("%s %s", v, at.UTC().Format(time.RFC3339Nano)))
	}
	sort.Strings(want)
	sort.Strings(have)
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("values first seen (-injected +found retrospectively):\n%s", diff)
	}
}

func TestRetroFindsThePastSQLite(t *testing.T) {
	testRetroFindsThePast(t, openStore(t), openStore(t))
}

func TestRetroFindsThePastPostgres(t *testing.T) {
	ctx := context.Background()
	open := func() retroStore {
		s, err := postgres.Open(ctx, pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	testRetroFindsThePast(t, open(), open())
}

// The index of a scan is the same whatever the number of workers.
func TestIndexSameForAnyWorkerCount(t *testing.T) {
	logs := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	index := func(workers int) []obsindex.Observation {
		db := openStore(t)
		if _, err := hunt.Scan(context.Background(), db, hunt.ScanOptions{Paths: []string{logs}, NoBehavior: true, Workers: workers}); err != nil {
			t.Fatal(err)
		}
		var out []obsindex.Observation
		if err := db.Observations(context.Background(), store.ObservationQuery{}, func(o *obsindex.Observation) error {
			out = append(out, *o)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	one, four := index(1), index(4)
	if len(one) < 1000 {
		t.Fatalf("index of the WRCCDC logs: %d values", len(one))
	}
	if diff := cmp.Diff(one, four, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("index (-1 worker +4 workers):\n%s", diff)
	}
}
