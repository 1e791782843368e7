package storecopy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storecopy"
)

const examples = "../../../examples"

var reportTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// demoOptions is the demo's hunt: examples/intel, each actors/NAME
// labelled as NAME's, examples/telemetry and the assets.
func demoOptions(t *testing.T) hunt.Options {
	t.Helper()
	dir := filepath.Join(examples, "intel")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("no demo data: %v", err)
	}
	var paths []string
	var actors []hunt.ImportOptions
	for _, e := range entries {
		if e.Name() != "actors" {
			paths = append(paths, filepath.Join(dir, e.Name()))
			continue
		}
		names, err := os.ReadDir(filepath.Join(dir, "actors"))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range names {
			labels := intel.DefaultOptions()
			labels.Actor = a.Name()
			actors = append(actors, hunt.ImportOptions{Paths: []string{filepath.Join(dir, "actors", a.Name())}, Labels: labels})
		}
	}
	plan := append([]hunt.ImportOptions{{Paths: paths, Labels: intel.DefaultOptions()}}, actors...)
	return hunt.Options{Intel: plan, Scan: hunt.ScanOptions{Paths: []string{filepath.Join(examples, "telemetry")}},
		Analyse: analyseOptions(t), OutDir: t.TempDir()}
}

func analyseOptions(t *testing.T) hunt.AnalyseOptions {
	t.Helper()
	assets, err := correlate.LoadAssets(filepath.Join(examples, "assets.csv"))
	if err != nil {
		t.Skipf("no demo assets: %v", err)
	}
	return hunt.AnalyseOptions{Assets: assets, Org: "whodunit demo", TLP: "clear", Tool: "whodunit test", Now: reportTime}
}

// TestCopyDemoToPostgres: the demo hunted into SQLite, with a manual and
// an undone actor join, copied to PostgreSQL reads back the same and
// gives the same report.
func TestCopyDemoToPostgres(t *testing.T) {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if _, err := hunt.Run(ctx, lite, demoOptions(t)); err != nil {
		t.Fatalf("demo hunt: %v", err)
	}
	editLinks(t, lite)
	pg, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	counts, err := storecopy.Copy(ctx, lite, pg, nil)
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	checkCounts(t, lite, counts)
	sameIntel(t, lite, pg)
	sameLinks(t, lite, pg)
	sameFindings(t, lite, pg)
	sameIndex(t, lite, pg)
	want := report(t, lite)
	if diff := cmp.Diff(want, report(t, pg)); diff != "" {
		t.Errorf("report.json of the copy differs (-original +copy):\n%s", diff)
	}
	// a real run: the demo's campaigns (fewer than its five, as the
	// hand-made APT1-APT28 join puts the two actors in one cluster)
	if c, _ := want["campaigns"].([]any); len(c) == 0 || len(c) > 5 {
		t.Errorf("the demo found %d campaigns, want 1 to 5", len(c))
	}
	if _, err := storecopy.Copy(ctx, lite, pg, nil); !errors.Is(err, storecopy.ErrTargetNotEmpty) {
		t.Errorf("a second copy into the same store: %v, want ErrTargetNotEmpty", err)
	}
}

// editLinks joins two actors by hand and undoes an automatic join, so
// that the copy has both kinds to carry.
func editLinks(t *testing.T, db store.Store) {
	t.Helper()
	ctx := context.Background()
	links, err := db.ActorLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) == 0 {
		t.Fatal("the demo made no actor joins")
	}
	if _, err := db.UnlinkActors(ctx, links[0].A, links[0].B); err != nil {
		t.Fatal(err)
	}
	apt1, _ := db.FindByName(ctx, "APT1", intel.TypeIntrusionSet)
	apt28, _ := db.FindByName(ctx, "APT28", intel.TypeIntrusionSet)
	if len(apt1) == 0 || len(apt28) == 0 {
		t.Fatal("the demo has no APT1 or APT28 intrusion set")
	}
	if err := db.LinkActors(ctx, apt1[0].ID, apt28[0].ID, "test: joined by hand"); err != nil {
		t.Fatal(err)
	}
}

// checkCounts compares what Copy says it copied with what the original
// holds.
func checkCounts(t *testing.T, from store.Store, c storecopy.Counts) {
	t.Helper()
	ctx := context.Background()
	srcs, _ := from.Sources(ctx)
	wl, _ := from.Warninglists(ctx)
	runs, _ := from.Analyses(ctx)
	scans, _ := from.Scans(ctx)
	st, err := from.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objects := 0
	for _, n := range st.Objects {
		objects += n
	}
	want := map[string][2]int{"sources": {len(srcs), c.Sources}, "objects": {objects, c.Objects},
		"warninglists": {len(wl), c.Warninglists}, "analyses": {len(runs), c.Analyses}, "scans": {len(scans), c.Scans},
		"sightings": {len(sightings(t, from)), c.Sightings}, "detections": {len(detections(t, from)), c.Detections},
		"observations": {len(observations(t, from)), c.Observations},
		"manual links": {1, c.ManualLinks}, "undone pairs": {1, c.UndoneLinks}, "unsourced": {0, c.Unsourced}}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("copied %d %s, the original holds %d", v[1], k, v[0])
		}
	}
	if c.Versions < c.Objects || len(srcs) < 5 || c.Sightings == 0 || c.Analyses == 0 || c.Observations == 0 {
		t.Errorf("the demo copy is too small to prove anything: %+v", c)
	}
}

// sameIntel compares the stats, then every object: its current version,
// all versions, its sources (without ids, which each store numbers) and
// its names.
func sameIntel(t *testing.T, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	sa, _ := a.IntelStats(ctx)
	sb, err := b.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sa, sb); diff != "" {
		t.Errorf("IntelStats differ (-original +copy):\n%s", diff)
	}
	for _, fn := range []func(store.Store) (any, error){
		func(s store.Store) (any, error) { return s.Warninglists(ctx) },
		func(s store.Store) (any, error) { l, err := s.Sources(ctx); return noIDs(l), err },
	} {
		va, _ := fn(a)
		vb, err := fn(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(va, vb); diff != "" {
			t.Errorf("differs (-original +copy):\n%s", diff)
		}
	}
	cur := func(s store.Store) map[string]*intel.Object {
		m := map[string]*intel.Object{}
		if err := s.Objects(ctx, store.ObjectQuery{}, func(o *intel.Object) error { m[o.ID] = o; return nil }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	objs := cur(a) // read first: the SQLite store has one connection
	if diff := quickDiff(objs, cur(b)); diff != "" || len(objs) == 0 {
		t.Errorf("the %d current objects differ (-original +copy):\n%s", len(objs), diff)
	}
	folded := 0
	for id, o := range objs {
		if _, err := a.Object(ctx, id); errors.Is(err, store.ErrNotFound) && o.Relationship != nil {
			folded++
			sameFolded(t, a, b, o)
			continue
		}
		sameObject(t, a, b, id)
	}
	t.Logf("%d objects compared, %d of them implied relationships that SQLite reads only through Objects", len(objs), folded)
}

// sameFolded checks a list's implied relationship, which the SQLite store
// keeps inside its indicator and answers only through Objects: the copy
// holds it in full, with its indicator's sources.
func sameFolded(t *testing.T, a, b store.Store, rel *intel.Object) {
	t.Helper()
	ctx := context.Background()
	got, err := b.Object(ctx, rel.ID)
	if err != nil {
		t.Fatalf("%s: %v", rel.ID, err)
	}
	// it came with its indicator's first import (a later list naming the
	// indicator may imply another actor)
	want, _ := a.ObjectSources(ctx, rel.Relationship.SourceRef)
	srcs, _ := b.ObjectSources(ctx, rel.ID)
	if len(want) > 1 {
		want = want[:1]
	}
	if diff := cmp.Diff([]any{rel, noIDs(want)}, []any{got, noIDs(srcs)}); diff != "" {
		t.Errorf("implied relationship %s differs (-original +copy):\n%s", rel.ID, diff)
	}
}

func sameObject(t *testing.T, a, b store.Store, id string) {
	t.Helper()
	ctx := context.Background()
	read := func(s store.Store) []any {
		o, err1 := s.Object(ctx, id)
		v, err2 := s.Versions(ctx, id)
		src, err3 := s.ObjectSources(ctx, id)
		names, err4 := s.Names(ctx, id)
		for i := range names {
			// the display of a name a later source re-asserted in another
			// case is not in the object a copy can put (see the package doc)
			names[i].Name = store.NormName(names[i].Name)
		}
		sort.Slice(names, func(i, j int) bool { return lessName(names[i], names[j]) })
		if names == nil {
			names = []store.NameRecord{} // as EquateEmpty, so the JSON forms compare
		}
		if errors.Is(err1, store.ErrNotFound) {
			err1 = nil // compared: the object reads as missing on both, or not
		}
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return []any{o, v, noIDs(src), names}
	}
	if diff := quickDiff(read(a), read(b), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("object %s differs (-original +copy):\n%s", id, diff)
	}
}

// quickDiff is cmp.Diff, asked only when the JSON forms differ: equal
// JSON is the common case, and cmp's options cost a reflective call per
// field, which made this test minutes long under the race detector.
func quickDiff(x, y any, opts ...cmp.Option) string {
	jx, errx := json.Marshal(x)
	jy, erry := json.Marshal(y)
	if errx == nil && erry == nil && bytes.Equal(jx, jy) {
		return ""
	}
	return cmp.Diff(x, y, opts...)
}

func lessName(x, y store.NameRecord) bool {
	if x.Name != y.Name {
		return x.Name < y.Name
	}
	if x.Kind != y.Kind {
		return x.Kind < y.Kind
	}
	return x.Source < y.Source
}

func noIDs(l []intel.Source) []intel.Source {
	out := make([]intel.Source, len(l))
	for i, s := range l {
		s.ID = 0
		s.ImportedAt = s.ImportedAt.UTC()
		out[i] = s
	}
	return out
}

// sameLinks compares the joins without their ids and creation times,
// which LinkActors and the imports set anew.
func sameLinks(t *testing.T, a, b store.Store) {
	t.Helper()
	read := func(s store.Store) []store.ActorLink {
		l, err := s.ActorLinks(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range l {
			l[i].ID, l[i].Created = 0, time.Time{}
		}
		sort.Slice(l, func(i, j int) bool {
			if l[i].A != l[j].A {
				return l[i].A < l[j].A
			}
			if l[i].B != l[j].B {
				return l[i].B < l[j].B
			}
			return l[i].Rule < l[j].Rule
		})
		return l
	}
	if diff := cmp.Diff(read(a), read(b)); diff != "" {
		t.Errorf("actor links differ (-original +copy):\n%s", diff)
	}
}

// sameFindings compares sightings by key, detections, analyses and scans.
func sameFindings(t *testing.T, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	if diff := cmp.Diff(sightings(t, a), sightings(t, b), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("sightings differ (-original +copy):\n%s", diff)
	}
	if diff := cmp.Diff(detections(t, a), detections(t, b), cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("detections differ (-original +copy):\n%s", diff)
	}
	runs := func(s store.Store) []any {
		infos, err := s.Analyses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []any
		for _, info := range infos {
			run, err := s.Analysis(ctx, info.ID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, info, run)
		}
		scans, err := s.Scans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return append(out, scans)
	}
	if diff := cmp.Diff(runs(a), runs(b), cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
		t.Errorf("analyses or scans differ (-original +copy):\n%s", diff)
	}
}

func sightings(t *testing.T, s store.Store) map[string]match.Sighting {
	t.Helper()
	out := map[string]match.Sighting{}
	err := s.Sightings(context.Background(), store.SightingQuery{}, func(x *match.Sighting) error {
		out[x.Key()] = *x
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func detections(t *testing.T, s store.Store) []behavior.Detection {
	t.Helper()
	var out []behavior.Detection
	if err := s.Detections(context.Background(), func(d *behavior.Detection) error { out = append(out, *d); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// report analyses s afresh and returns report.json without its date.
func report(t *testing.T, s store.Store) map[string]any {
	t.Helper()
	data, err := hunt.Analyse(context.Background(), s, analyseOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := hunt.WriteReports(dir, data); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "generated")
	return doc
}

// sameIndex compares the observable indexes, observation by observation
// (records, hosts and times included), and their stats.
func sameIndex(t *testing.T, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	opts := []cmp.Option{cmpopts.EquateComparable(netip.Addr{}), cmpopts.EquateApproxTime(0)}
	if diff := cmp.Diff(observations(t, a), observations(t, b), opts...); diff != "" {
		t.Errorf("the observable index differs (-original +copy):\n%s", diff)
	}
	sa, _ := a.ObservationStats(ctx)
	sb, err := b.ObservationStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sa, sb, opts...); diff != "" {
		t.Errorf("ObservationStats differ (-original +copy):\n%s", diff)
	}
}

func observations(t *testing.T, s store.Store) []obsindex.Observation {
	t.Helper()
	var out []obsindex.Observation
	if err := s.Observations(context.Background(), store.ObservationQuery{}, func(o *obsindex.Observation) error {
		out = append(out, *o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
