package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// sourcesFixture imports three sources: "report" (an actor, two
// indicators, a relationship, and a superseded version of ind1), "list"
// (two listed values for APT1, one of them also in "mirror") and
// "mirror" (ind2 again, and one listed value for APT1).
func sourcesFixture(t *testing.T, s store.Store) (only, both []*intel.Object) {
	t.Helper()
	put(t, s, "report", actor(actA, "APT1", []string{"Comment Crew"}, ""), indicator(ind1, "old.example", t0),
		indicator(ind1, "one.example", t0.Add(time.Hour)), indicator(ind2, "two.example", t0), rel(rel1, "indicates", ind1, actA))
	only = listed("only.example", actA, -1)
	both = listed("both.example", actA, -1)
	put(t, s, "list", append(append([]*intel.Object{}, only...), both...)...)
	put(t, s, "mirror", append([]*intel.Object{indicator(ind2, "two.example", t0)}, both...)...)
	return only, both
}

func sourceSummaries(t *testing.T, s store.Store) {
	sourcesFixture(t, s)
	got, err := s.SourceSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var names []string
	for _, g := range got {
		names = append(names, g.Source.Name)
		counts[g.Source.Name] = g.Objects
		if g.Source.Format != "test" || g.Source.Path != "/x/"+g.Source.Name || g.Source.ImportedAt.IsZero() {
			t.Errorf("summary of %s: %+v", g.Source.Name, g.Source)
		}
	}
	// report: actor, ind1, ind2, rel1; list: 2 indicators + 2 relationships;
	// mirror: ind2 and both.example (the store keeps the relationship
	// both lists imply once, under the first)
	want := map[string]int{"report": 4, "list": 4, "mirror": 2}
	if diff := cmp.Diff([]string{"report", "list", "mirror"}, names); diff != "" {
		t.Errorf("sources in import order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("objects per source (-want +got):\n%s", diff)
	}
	for name, n := range want {
		if st.BySource[name] != n {
			t.Errorf("IntelStats.BySource[%s] = %d, SourceSummaries %d", name, st.BySource[name], n)
		}
	}
}

func deleteSourceKeepsShared(t *testing.T, s store.Store) {
	only, both := sourcesFixture(t, s)
	res, err := s.DeleteSource(ctx, "report")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.DeleteResult{Name: "report", Sources: 1, Deleted: 3, Kept: 1}); res != want {
		t.Errorf("DeleteSource(report) = %+v, want %+v", res, want)
	}
	for _, id := range []string{actA, ind1, rel1} {
		if _, err := s.Object(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after its only source went: %v, want ErrNotFound", id, err)
		}
	}
	if v, err := s.Versions(ctx, ind1); err != nil || len(v) != 0 {
		t.Errorf("versions of ind1: %d, %v", len(v), err)
	}
	if found, err := s.FindByName(ctx, "Comment Crew"); err != nil || len(found) != 0 {
		t.Errorf("FindByName(Comment Crew) = %d, %v", len(found), err)
	}
	if diff := cmp.Diff([]string{"mirror"}, sourceNames(t, s, ind2)); diff != "" {
		t.Errorf("sources of ind2 (-want +got):\n%s", diff)
	}
	if _, err := s.Object(ctx, ind2); err != nil {
		t.Errorf("ind2, which mirror asserts too: %v", err)
	}
	ids := map[string]bool{}
	if err := s.MatchIndicators(ctx, func(o *intel.Object) error { ids[o.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if ids[ind1] || !ids[ind2] || !ids[only[0].ID] || !ids[both[0].ID] {
		t.Errorf("match indicators after deleting report: %v", ids)
	}
	if _, err := s.DeleteSource(ctx, "report"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it again: %v, want ErrNotFound", err)
	}
}

func deleteSourceOfAList(t *testing.T, s store.Store) {
	only, both := sourcesFixture(t, s)
	res, err := s.DeleteSource(ctx, "list")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.DeleteResult{Name: "list", Sources: 1, Deleted: 2, Kept: 2}); res != want {
		t.Errorf("DeleteSource(list) = %+v, want %+v", res, want)
	}
	for _, o := range only {
		if _, err := s.Object(ctx, o.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s (%s) after its only source went: %v", o.ID, o.Name, err)
		}
	}
	for _, o := range both {
		got, err := s.Object(ctx, o.ID)
		if err != nil {
			t.Fatalf("%s, which mirror lists too: %v", o.ID, err)
		}
		same(t, o.ID, o, got)
		if diff := cmp.Diff([]string{"mirror"}, sourceNames(t, s, o.ID)); diff != "" {
			t.Errorf("sources of %s (-want +got):\n%s", o.ID, diff)
		}
	}
	rels, err := s.Relationships(ctx, actA)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rels {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff([]string{rel1, both[1].ID}, got, sortStrings); diff != "" {
		t.Errorf("relationships of APT1 (-want +got):\n%s", diff)
	}
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.BySource["list"]; ok || st.BySource["mirror"] != 3 || st.ByActor["APT1"] != 2 {
		t.Errorf("stats after deleting list: by source %v, by actor %v", st.BySource, st.ByActor)
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func scansKept(t *testing.T, s store.Store) {
	if got, err := s.Scans(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Scans of an empty store = %v, %v", got, err)
	}
	at := t0.Add(48 * time.Hour)
	first, err := s.PutScan(ctx, store.ScanRecord{At: at, Snapshot: "v1", Files: 3, Events: 1200, Bytes: 4 << 20, Sightings: 7, New: 7, Detections: 2})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.PutScan(ctx, store.ScanRecord{Snapshot: "v2", Files: 1, Events: 300, Bytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq <= 0 || second.Seq <= first.Seq || second.At.IsZero() || !first.At.Equal(at) {
		t.Errorf("stored scans: %+v, %+v", first, second)
	}
	got, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.ScanRecord{first, second}, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("Scans (-want +got):\n%s", diff)
	}
	if ev, by := store.ScanTotals(got); ev != 1500 || by != 4<<20+1000 {
		t.Errorf("ScanTotals = %d events, %d bytes", ev, by)
	}
}
