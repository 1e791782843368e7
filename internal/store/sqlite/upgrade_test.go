package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// openFixture copies testdata/schema2.db, a database of schema 2 with
// objects stored under Go's field names, and opens it, which upgrades it.
func openFixture(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "schema2.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := raw.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 2 {
		t.Fatalf("fixture at schema %d (%v), want 2", v, err)
	}
	raw.Close()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("upgrading a schema-2 database: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func asJSON(o *intel.Object) string {
	b, _ := json.Marshal(o)
	return string(b)
}

func TestUpgradeFromSchema2ReadsEveryObjectBack(t *testing.T) {
	ctx := context.Background()
	s, path := openFixture(t)
	latest := map[string]*intel.Object{}
	var order []string
	for _, objs := range fixtureSources() {
		for _, o := range objs {
			if prev, ok := latest[o.ID]; !ok || o.Modified.After(prev.Modified) {
				if !ok {
					order = append(order, o.ID)
				}
				latest[o.ID] = o
			}
		}
	}
	implied := 0
	for _, id := range order {
		if o := latest[id]; o.Type == intel.TypeRelationship && o.Relationship.StartTime.IsZero() {
			implied++ // a list's relationship: found through its ends (README, not done yet)
			continue
		}
		got, err := s.Object(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if w, g := asJSON(latest[id]), asJSON(got); w != g {
			t.Errorf("%s after the upgrade:\nwant %s\n got %s", id, w, g)
		}
	}
	rels, err := s.Relationships(ctx, fixtureAPT1)
	if err != nil || len(rels) != implied+1 {
		t.Errorf("relationships of APT1: %d, %v; want %d", len(rels), err, implied+1)
	}
	for _, r := range rels {
		if r.Relationship.StartTime.IsZero() {
			if w, g := asJSON(latest[r.ID]), asJSON(r); w != g {
				t.Errorf("%s after the upgrade:\nwant %s\n got %s", r.ID, w, g)
			}
		}
	}
	vers, err := s.Versions(ctx, fixtureInd)
	if err != nil || len(vers) != 2 {
		t.Fatalf("Versions = %d, %v", len(vers), err)
	}
	if w, g := asJSON(fixtureSources()[0][2]), asJSON(vers[0]); w != g {
		t.Errorf("the superseded version:\nwant %s\n got %s", w, g)
	}
	// no Go field name is left in what SQL or another store would read
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`SELECT count(*) FROM objects WHERE data LIKE '%"ID":%' OR data LIKE '%"Indicator":%' OR data LIKE '%"Actor":%'`,
		`SELECT count(*) FROM object_versions WHERE data LIKE '%"ID":%' OR data LIKE '%"Indicator":%'`,
		`SELECT count(*) FROM indicator_shapes WHERE template LIKE '%"Type":%' OR template LIKE '%"Indicator":%'`,
		`SELECT count(*) FROM objects WHERE markings = '' AND id IN (?, ?)`,
	} {
		var n int
		if err := db.QueryRow(q, fixtureAPT1, fixtureInd).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows (%v)", q, n, err)
		}
	}
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// marked: 300 listed and their relationships, the full indicator, the actor
	if st.ByMarking["TLP:GREEN"] != 300+300+2 || st.HostOnly != 1 || st.Context != 1 || st.Network != 300 || st.ByActor["APT1"] != 301 {
		t.Errorf("stats after the upgrade: %+v", st)
	}
}

func TestUpgradeFromSchema2KeepsSightingsAndLinks(t *testing.T) {
	ctx := context.Background()
	s, _ := openFixture(t)
	var got []match.Sighting
	if err := s.Sightings(ctx, store.SightingQuery{}, func(sg *match.Sighting) error {
		got = append(got, *sg)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixtureSightings(), got, addrCmp); diff != "" {
		t.Errorf("sightings after the upgrade (-want +got):\n%s", diff)
	}
	// the new columns are filled from the stored sightings
	for q, want := range map[store.SightingQuery]int{
		{Host: "10.0.0.2"}:      1,
		{Host: "198.51.100.7"}:  5,
		{Value: "198.51.100.7"}: 5,
	} {
		n := 0
		if err := s.Sightings(ctx, q, func(*match.Sighting) error { n++; return nil }); err != nil || n != want {
			t.Errorf("%+v: %d sightings (%v), want %d", q, n, err, want)
		}
	}
	page, err := s.SightingsPage(ctx, store.SightingQuery{}, "", 10)
	if err != nil || len(page.Sightings) != 5 || page.Sightings[0].Added.IsZero() {
		t.Fatalf("page after the upgrade: %+v, %v", page, err)
	}
	// a sighting stored after the upgrade sorts after the old ones
	late := fixtureSightings()[0]
	late.Line = 99
	if _, err := s.PutSightings(ctx, []match.Sighting{late}); err != nil {
		t.Fatal(err)
	}
	next, err := s.SightingsPage(ctx, store.SightingQuery{}, page.Next, 10)
	if err != nil || len(next.Sightings) != 1 || next.Sightings[0].Sighting.Line != 99 {
		t.Errorf("after the old sightings: %+v, %v", next, err)
	}
	links, err := s.ActorLinks(ctx)
	if err != nil || len(links) != 1 || links[0].Rule != "manual" {
		t.Errorf("links after the upgrade: %+v, %v", links, err)
	}
}

// TestUpgradeFromSchema2JoinsOnUpgradedCountry imports actors after the
// upgrade: the join rules must read the upgraded record's country.
func TestUpgradeFromSchema2JoinsOnUpgradedCountry(t *testing.T) {
	ctx := context.Background()
	s, _ := openFixture(t)
	other := &intel.Object{ID: "intrusion-set--00000000-0000-4000-8000-0000000000e1", Type: intel.TypeIntrusionSet, Name: "Comment Crew",
		Aliases: []string{"APT1"}, Confidence: -1, Actor: &intel.ActorSpec{Country: "RU"}}
	label := &intel.Object{ID: "intrusion-set--00000000-0000-4000-8000-0000000000e2", Type: intel.TypeIntrusionSet, Name: "Comment Panda", Confidence: -1}
	if _, err := s.Import(ctx, intel.Source{Name: "later", SHA256: "later"}, func(sink intel.Sink) error {
		if err := sink.Put(ctx, other); err != nil {
			return err
		}
		return sink.Put(ctx, label)
	}); err != nil {
		t.Fatal(err)
	}
	ids, _, err := store.ResolveActor(ctx, s, fixtureAPT1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"intrusion-set--00000000-0000-4000-8000-0000000000e2", "intrusion-set--00000000-0000-4000-8000-0000000000f9", fixtureAPT1}, ids); diff != "" {
		t.Errorf("APT1 after later imports (-want +got): a record placed in another country must not join\n%s", diff)
	}
}

func TestUpgradeNamesACorruptRow(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "schema2.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE objects SET data = '{"ID": "x", "Name": ' WHERE id = ?`, fixtureAPT1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), fixtureAPT1) || !strings.Contains(err.Error(), "migration 3") {
		t.Fatalf("upgrading a corrupt row: err = %v, want one naming the migration and the row", err)
	}
	// nothing of the failed upgrade is kept
	db, _ = sql.Open("sqlite", path)
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 2 {
		t.Errorf("after a failed upgrade: schema %d (%v), want 2", v, err)
	}
}
