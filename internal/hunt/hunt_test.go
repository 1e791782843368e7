package hunt_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/attribute"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

var examples = filepath.Join("..", "..", "examples")

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func actorFeed(actor string) hunt.ImportOptions {
	labels := intel.DefaultOptions()
	labels.Actor = actor
	return hunt.ImportOptions{Paths: []string{filepath.Join(examples, "intel", "actors", actor)}, Labels: labels}
}

// The vendor feed lists 8.8.8.8 as APT1's: imported in the same call as
// the warninglists (which go first), the indicator is flagged with the
// public-resolver list.
func TestImportFlagsWarninglistedIndicators(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	opt := actorFeed("APT1")
	opt.Paths = append(opt.Paths, filepath.Join(examples, "intel", "warninglists"))
	results, err := hunt.Import(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
	}
	var flagged []string
	if err := db.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeIndicator}, ValueType: intel.IPv4}, func(o *intel.Object) error {
		if len(o.Indicator.Warninglists) > 0 {
			flagged = append(flagged, o.Indicator.Observables[0].Value+" "+strings.Join(o.Indicator.Warninglists, ","))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(flagged) != 1 || !strings.HasPrefix(flagged[0], "8.8.8.8 ") {
		t.Errorf("flagged indicators: %q, want 8.8.8.8 alone", flagged)
	}
}

// A truncated STIX bundle fails alone, naming the file; the good file
// beside it is imported and nothing of the bad one is kept.
func TestImportBadFileFailsAlone(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	good, err := os.ReadFile(filepath.Join(examples, "intel", "apt1.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "truncated.json")
	if err := os.WriteFile(bad, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	results, err := hunt.Import(ctx, db, hunt.ImportOptions{Paths: []string{bad, filepath.Join(examples, "intel", "apt1.json")}, Labels: intel.DefaultOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "truncated.json") {
		t.Fatalf("results: %+v, want the truncated file to fail naming itself", results)
	}
	if results[1].Err != nil {
		t.Fatalf("good file: %v", results[1].Err)
	}
	n, err := db.Count(ctx, intel.TypeIndicator)
	if err != nil || n != 12 {
		t.Errorf("%d indicators stored (%v), want the good bundle's 12", n, err)
	}
}

func TestImportUnknownFormat(t *testing.T) {
	_, err := hunt.Import(context.Background(), openStore(t), hunt.ImportOptions{Paths: []string{examples}, Format: "yaml", Labels: intel.DefaultOptions()})
	if !errors.Is(err, intel.ErrUnknownFormat) {
		t.Errorf("error %v, want intel.ErrUnknownFormat", err)
	}
}

// Scanning the demo telemetry stores every sighting once, reports the
// stages, and a rescan adds nothing.
func TestScanStoresFindingsOnce(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	for _, a := range []string{"APT1", "APT28"} {
		if _, err := hunt.Import(ctx, db, actorFeed(a)); err != nil {
			t.Fatal(err)
		}
	}
	var stages []hunt.Stage
	opt := hunt.ScanOptions{Paths: []string{filepath.Join(examples, "telemetry")}, Progress: func(p hunt.Progress) { stages = append(stages, p.Stage) }}
	res, err := hunt.Scan(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	if err := db.Sightings(ctx, store.SightingQuery{}, func(*match.Sighting) error { stored++; return nil }); err != nil {
		t.Fatal(err)
	}
	found := int(res.Summary.Sightings + res.Summary.Suppressed)
	if found == 0 || res.NewSightings != stored || stored != found {
		t.Errorf("found %d, new %d, stored %d: want all equal and > 0", found, res.NewSightings, stored)
	}
	if len(res.Detections) == 0 || hunt.Above(res.Detections) == 0 {
		t.Errorf("%d detections, %d above the threshold: the demo's beacons are not found", len(res.Detections), hunt.Above(res.Detections))
	}
	want := []hunt.Stage{hunt.StageCompile, hunt.StageScan, hunt.StageBehavior}
	if strings.Join(stageNames(stages), ",") != strings.Join(stageNames(want), ",") {
		t.Errorf("stages %v, want %v", stages, want)
	}
	again, err := hunt.Scan(ctx, db, hunt.ScanOptions{Paths: opt.Paths, NoBehavior: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.NewSightings != 0 || again.Detections != nil {
		t.Errorf("rescan: %d new sightings, %d detections; want none", again.NewSightings, len(again.Detections))
	}
}

func stageNames(s []hunt.Stage) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return out
}

// failingWrites is a store whose sighting writes fail.
type failingWrites struct{ *sqlite.Store }

var errDiskFull = errors.New("disk full")

func (failingWrites) PutSightings(context.Context, []match.Sighting) (int, error) {
	return 0, errDiskFull
}

func TestScanReportsStoreErrors(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	if _, err := hunt.Import(ctx, db, actorFeed("APT1")); err != nil {
		t.Fatal(err)
	}
	_, err := hunt.Scan(ctx, failingWrites{db}, hunt.ScanOptions{Paths: []string{filepath.Join(examples, "telemetry", "dns.log.gz")}, NoBehavior: true})
	if !errors.Is(err, errDiskFull) {
		t.Errorf("error %v, want the store's", err)
	}
}

// Run is the whole hunt through the library alone, as the server and the
// workers will call it: APT1 is named for the main campaign and every
// report is written.
func TestRunTheDemoScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("whole hunt")
	}
	ctx := context.Background()
	db := openStore(t)
	out := t.TempDir()
	// the demo's intelligence: everything in examples/intel, the feeds in
	// actors/NAME labelled with their actor
	general := hunt.ImportOptions{Labels: intel.DefaultOptions()}
	entries, err := os.ReadDir(filepath.Join(examples, "intel"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "actors" {
			general.Paths = append(general.Paths, filepath.Join(examples, "intel", e.Name()))
		}
	}
	opt := hunt.Options{OutDir: out, Intel: []hunt.ImportOptions{general, actorFeed("APT1"), actorFeed("APT28")},
		Scan: hunt.ScanOptions{Paths: []string{filepath.Join(examples, "telemetry")}}}
	res, err := hunt.Run(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	doc := res.Data.Doc
	if doc.Summary.Events != res.Scan.Summary.Events || doc.Summary.Events == 0 {
		t.Errorf("report counts %d events, the scan %d", doc.Summary.Events, res.Scan.Summary.Events)
	}
	if len(doc.Campaigns) == 0 || doc.Campaigns[0].Attribution.Actor != "APT1" || doc.Campaigns[0].Attribution.Estimate == attribute.NotEnoughEvidence {
		t.Fatalf("main campaign: %+v", doc.Campaigns[0].Attribution)
	}
	stored, err := db.Analysis(ctx, store.LatestAnalysis)
	if err != nil {
		t.Fatal(err)
	}
	if stored.ID != res.Analysis.ID || len(stored.Campaigns) != len(doc.Campaigns) || stored.Snapshot != res.Scan.Snapshot.Version() {
		t.Errorf("stored run %s with %d campaigns (snapshot %s), want %s with %d (%s)", stored.ID, len(stored.Campaigns), stored.Snapshot,
			res.Analysis.ID, len(doc.Campaigns), res.Scan.Snapshot.Version())
	}
	for i, c := range stored.Campaigns {
		want := doc.Campaigns[i]
		if c.ID != want.ID || c.Actor != want.Attribution.Actor || c.Likelihood != want.Attribution.Likelihood || c.Estimate != want.Attribution.Estimate {
			t.Errorf("stored campaign %d: %s %s %s %.3f, want %s %s %s %.3f", i, c.ID, c.Actor, c.Estimate, c.Likelihood,
				want.ID, want.Attribution.Actor, want.Attribution.Estimate, want.Attribution.Likelihood)
		}
	}
	if len(res.Written) != 5 {
		t.Errorf("reports written: %v", res.Written)
	}
	for _, p := range res.Written {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// A failed intelligence file stops the hunt before the scan.
func TestRunStopsOnImportFailure(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"type": "bundle", "objects": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := hunt.Run(context.Background(), openStore(t), hunt.Options{
		Intel: []hunt.ImportOptions{{Paths: []string{bad}, Labels: intel.DefaultOptions()}},
		Scan:  hunt.ScanOptions{Paths: []string{filepath.Join(examples, "telemetry")}}})
	if !errors.Is(err, hunt.ErrImport) || res.Scan != nil {
		t.Errorf("error %v, scan %v: want ErrImport and no scan", err, res.Scan)
	}
}
