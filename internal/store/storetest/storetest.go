// Package storetest is the contract every store.Store implementation must
// pass. An implementation's test calls Run with a constructor of empty stores.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Run runs the contract against stores made by open (each call a new, empty store).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ImportIsOneTransaction", importIsOneTransaction},
		{"SameContentImportedOnce", sameContentImportedOnce},
		{"LatestModifiedWinsHistoryKept", latestModifiedWins},
		{"EveryFactRemembersEverySource", everySource},
		{"NamesAndAliases", namesAndAliases},
		{"ActorJoinAndUndo", actorJoinAndUndo},
		{"DifferentAttackIDsNeverJoin", differentAttackIDs},
		{"SharedAliasOnlyIsNotAJoin", sharedAliasOnly},
		{"AProfileUnderSomeonesAliasIsAnotherGroup", profileUnderAlias},
		{"ALabelJoinsTheProfileItNames", labelJoins},
		{"Relationships", relationships},
		{"MatchIndicatorsAgreeWithObjects", matchIndicators},
		{"ObjectsFilters", objectsFilters},
		{"Warninglists", warninglists},
		{"SightingsDeduplicated", sightingsDeduplicated},
		{"DetectionsReplaced", detectionsReplaced},
		{"DetectionsPageFiltersSortsAndPages", detectionsPage},
		{"ListIndicatorThenFullVersion", listThenFull},
		{"FullIndicatorThenOlderListEntry", fullThenList},
		{"OneValueInTwoListsOfTwoActors", twoListsTwoActors},
		{"ListCountsAgree", listCountsAgree},
		{"StatsCountIndicatorFlagsAndMarkings", statsCountFlags},
		{"SightingFilters", sightingFilters},
		{"SightingPagesCoverEverySightingOnce", sightingPages},
		{"SightingsAddedWhilePagingComeLater", sightingsAddedWhilePaging},
		{"BadCursorIsAnError", badCursor},
		{"ConcurrentPutSightings", concurrentPutSightings},
		{"AnalysesVersionsAndHistory", analyses},
		{"AnalysisRefusesBadInput", analysisRefusesBadInput},
		{"SourceSummariesAgreeWithStats", sourceSummaries},
		{"DeleteSourceKeepsWhatOthersAssert", deleteSourceKeepsShared},
		{"DeleteSourceOfAList", deleteSourceOfAList},
		{"DeleteObjectVersionsAndRows", deleteObject},
		{"ScansKept", scansKept},
		{"ObservationsMergeInAnyOrder", observationsMerge},
		{"ObservationLookupsAndFilters", observationLookups},
		{"ObservationKeysAndTypes", observationKeys},
		{"RetrospectiveSightingsKeepTheirMark", retrospectiveSightings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

var (
	ctx = context.Background()
	t0  = time.Date(2013, 2, 18, 0, 0, 0, 0, time.UTC)
)

func indicator(id, domain string, mod time.Time) *intel.Object {
	obs := intel.Observable{Type: intel.Domain, Value: domain}
	return &intel.Object{ID: id, Type: intel.TypeIndicator, Name: domain, Created: t0, Modified: mod, Confidence: -1,
		Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: obs.STIXPattern(), Observables: []intel.Observable{obs}}}
}

func actor(id, name string, aliases []string, attackID string) *intel.Object {
	o := &intel.Object{ID: id, Type: intel.TypeIntrusionSet, Name: name, Aliases: aliases, Created: t0, Modified: t0, Confidence: -1,
		Actor: &intel.ActorSpec{}}
	if attackID != "" {
		o.ExternalRefs = []intel.ExternalRef{{SourceName: "mitre-attack", ExternalID: attackID}}
	}
	return o
}

func rel(id, typ, src, dst string) *intel.Object {
	return &intel.Object{ID: id, Type: intel.TypeRelationship, Created: t0, Modified: t0, Confidence: -1,
		Relationship: &intel.RelationshipSpec{Type: typ, SourceRef: src, TargetRef: dst}}
}

func put(t *testing.T, s store.Store, srcName string, objs ...*intel.Object) store.ImportResult {
	t.Helper()
	res, err := s.Import(ctx, intel.Source{Name: srcName, Path: "/x/" + srcName, Format: "test", SHA256: srcName + "-digest"},
		func(sink intel.Sink) error {
			for _, o := range objs {
				if err := sink.Put(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		t.Fatalf("import %s: %v", srcName, err)
	}
	return res
}

const (
	ind1 = "indicator--00000000-0000-4000-8000-000000000001"
	ind2 = "indicator--00000000-0000-4000-8000-000000000002"
	actA = "intrusion-set--00000000-0000-4000-8000-00000000000a"
	actB = "intrusion-set--00000000-0000-4000-8000-00000000000b"
	actC = "intrusion-set--00000000-0000-4000-8000-00000000000c"
	rel1 = "relationship--00000000-0000-4000-8000-000000000101"
)

func importIsOneTransaction(t *testing.T, s store.Store) {
	boom := errors.New("bad record")
	_, err := s.Import(ctx, intel.Source{Name: "bad", Format: "test", SHA256: "d1"}, func(sink intel.Sink) error {
		if err := sink.Put(ctx, indicator(ind1, "evil.example", t0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Import error = %v, want %v", err, boom)
	}
	if _, err := s.Object(ctx, ind1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("object of a failed import is visible: err=%v", err)
	}
	srcs, err := s.Sources(ctx)
	if err != nil || len(srcs) != 0 {
		t.Fatalf("failed import left sources %v (err %v)", srcs, err)
	}
}

func sameContentImportedOnce(t *testing.T, s store.Store) {
	r1 := put(t, s, "feed", indicator(ind1, "evil.example", t0))
	if r1.Already || r1.New != 1 {
		t.Fatalf("first import: %+v", r1)
	}
	called := false
	r2, err := s.Import(ctx, intel.Source{Name: "feed", Format: "test", SHA256: "feed-digest"}, func(intel.Sink) error {
		called = true
		return nil
	})
	if err != nil || !r2.Already || called {
		t.Fatalf("re-import: res=%+v err=%v called=%v; want Already and fn not called", r2, err, called)
	}
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sources != 1 || st.Objects[intel.TypeIndicator] != 1 {
		t.Fatalf("stats after re-import: %+v", st)
	}
}

func latestModifiedWins(t *testing.T, s store.Store) {
	put(t, s, "v2", indicator(ind1, "new.example", t0.Add(2*time.Hour)))
	put(t, s, "v1", indicator(ind1, "old.example", t0)) // older arrives later
	put(t, s, "v3", indicator(ind1, "newest.example", t0.Add(3*time.Hour)))
	got, err := s.Object(ctx, ind1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "newest.example" {
		t.Errorf("current version = %q, want newest.example", got.Name)
	}
	vers, err := s.Versions(ctx, ind1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vers {
		names = append(names, v.Name)
	}
	if diff := cmp.Diff([]string{"old.example", "new.example", "newest.example"}, names); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	// The matcher must see only the current value.
	n := 0
	if err := s.Objects(ctx, store.ObjectQuery{ValueType: intel.Domain}, func(o *intel.Object) error {
		n++
		if o.Indicator.Observables[0].Value != "newest.example" {
			t.Errorf("indicator value = %q", o.Indicator.Observables[0].Value)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d indicators, want 1", n)
	}
}

func everySource(t *testing.T, s store.Store) {
	put(t, s, "vendor-a", indicator(ind1, "evil.example", t0))
	put(t, s, "vendor-b", indicator(ind1, "evil.example", t0))
	srcs, err := s.ObjectSources(ctx, ind1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range srcs {
		names = append(names, sc.Name)
	}
	if diff := cmp.Diff([]string{"vendor-a", "vendor-b"}, names); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	st, _ := s.IntelStats(ctx)
	if st.Objects[intel.TypeIndicator] != 1 {
		t.Errorf("%d indicators, want one indicator with two sources", st.Objects[intel.TypeIndicator])
	}
}

func namesAndAliases(t *testing.T, s store.Store) {
	put(t, s, "attack", actor(actA, "APT1", []string{"Comment Crew"}, "G0006"))
	for _, q := range []string{"APT1", "apt 1", "comment-crew", "G0006", "g0006"} {
		objs, err := s.FindByName(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 || objs[0].ID != actA {
			t.Errorf("FindByName(%q) = %d objects, want the actor", q, len(objs))
		}
	}
	recs, err := s.Names(ctx, actA)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.NameRecord{{Name: "APT1", Kind: "name", Source: "attack"}, {Name: "Comment Crew", Kind: "alias", Source: "attack"}, {Name: "G0006", Kind: "external-id", Source: "attack"}}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func actorJoinAndUndo(t *testing.T, s store.Store) {
	put(t, s, "attack", actor(actA, "APT1", []string{"Comment Crew"}, "G0006"))
	put(t, s, "galaxy", actor(actB, "Comment Crew", []string{"APT1", "PLA Unit 61398"}, ""))
	ids, links, err := store.ResolveActor(ctx, s, "PLA Unit 61398")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{actA, actB}, ids); diff != "" {
		t.Fatalf("cluster (-want +got):\n%s", diff)
	}
	if len(links) != 1 || links[0].Rule != "name" {
		t.Fatalf("links = %+v, want one by rule name", links)
	}
	n, err := s.UnlinkActors(ctx, actB, actA)
	if err != nil || n != 1 {
		t.Fatalf("unlink: n=%d err=%v", n, err)
	}
	// A later import of the same records must not join them again.
	put(t, s, "galaxy-2", actor(actB, "Comment Crew", []string{"APT1", "PLA Unit 61398"}, ""))
	ids, _, err = store.ResolveActor(ctx, s, "PLA Unit 61398")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{actB}, ids); diff != "" {
		t.Errorf("after unmerge and re-import (-want +got):\n%s", diff)
	}
	if err := s.LinkActors(ctx, actA, actB, "analyst"); err != nil {
		t.Fatal(err)
	}
	ids, _, _ = store.ResolveActor(ctx, s, "APT1")
	if len(ids) != 2 {
		t.Errorf("manual join: cluster %v", ids)
	}
}

func differentAttackIDs(t *testing.T, s store.Store) {
	put(t, s, "a", actor(actA, "Winnti", nil, "G0044"), actor(actB, "APT41", []string{"Winnti"}, "G0096"))
	ids, _, err := store.ResolveActor(ctx, s, "APT41")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Errorf("records with different ATT&CK ids joined: %v", ids)
	}
}

func sharedAliasOnly(t *testing.T, s store.Store) {
	put(t, s, "a", actor(actA, "Group One", []string{"Shadow"}, ""), actor(actC, "Group Two", []string{"Shadow"}, ""))
	ids, _, err := store.ResolveActor(ctx, s, "Group One")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Errorf("shared secondary alias joined two groups: %v", ids)
	}
	if _, _, err := store.ResolveActor(ctx, s, "Shadow"); !errors.Is(err, store.ErrAmbiguous) {
		t.Errorf("ResolveActor(shared alias) err = %v, want ErrAmbiguous", err)
	}
}

func relationships(t *testing.T, s store.Store) {
	put(t, s, "r", actor(actA, "APT1", nil, ""), indicator(ind1, "evil.example", t0), rel(rel1, "indicates", ind1, actA))
	for _, id := range []string{ind1, actA} {
		rels, err := s.Relationships(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(rels) != 1 || rels[0].Relationship.Type != "indicates" {
			t.Errorf("Relationships(%s) = %v", id, rels)
		}
	}
	var got []string
	if err := s.Objects(ctx, store.ObjectQuery{Actor: "APT1"}, func(o *intel.Object) error {
		got = append(got, o.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ind1}, got); diff != "" {
		t.Errorf("indicators of APT1 (-want +got):\n%s", diff)
	}
	st, _ := s.IntelStats(ctx)
	if st.ByActor["APT1"] != 1 {
		t.Errorf("ByActor = %v", st.ByActor)
	}
}

func objectsFilters(t *testing.T, s store.Store) {
	put(t, s, "one", indicator(ind1, "evil.example", t0))
	put(t, s, "two", indicator(ind2, "bad.example", t0), actor(actA, "APT1", nil, ""))
	count := func(q store.ObjectQuery) int {
		n := 0
		if err := s.Objects(ctx, q, func(*intel.Object) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for name, tc := range map[string]struct {
		q    store.ObjectQuery
		want int
	}{
		"all":        {store.ObjectQuery{}, 3},
		"indicators": {store.ObjectQuery{Types: []string{intel.TypeIndicator}}, 2},
		"source":     {store.ObjectQuery{Source: "two"}, 2},
		"value type": {store.ObjectQuery{ValueType: intel.Domain}, 2},
		"md5":        {store.ObjectQuery{ValueType: intel.MD5}, 0},
		"limit":      {store.ObjectQuery{Limit: 1}, 1},
	} {
		if got := count(tc.q); got != tc.want {
			t.Errorf("%s: %d objects, want %d", name, got, tc.want)
		}
	}
}

func warninglists(t *testing.T, s store.Store) {
	wl := &intel.Warninglist{Name: "List of known public DNS resolvers", Version: 2, MatchType: "cidr", Category: "false-positive",
		Entries: []string{"8.8.8.8/32", "1.1.1.1/32"}, Attributes: []string{"ip-dst", "ip-src"}}
	if _, err := s.Import(ctx, intel.Source{Name: "wl", Format: "warninglist", SHA256: "w"}, func(sink intel.Sink) error {
		return sink.PutWarninglist(ctx, wl)
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Warninglists(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d warninglists", len(got))
	}
	if diff := cmp.Diff(wl, got[0]); diff != "" {
		t.Errorf("warninglist (-want +got):\n%s", diff)
	}
}

func sighting(line int64) match.Sighting {
	return match.Sighting{IndicatorID: ind1, Snapshot: "v1", Type: intel.Domain, Indicator: "evil.example", Field: "dns.query",
		Value: "a.evil.example", Time: t0.Add(time.Duration(line) * time.Second), File: "dns.log", Line: line,
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("10.0.0.1"), SrcPort: 5353, DstPort: 53}
}

func sightingsDeduplicated(t *testing.T, s store.Store) {
	batch := []match.Sighting{sighting(10), sighting(11)}
	n, err := s.PutSightings(ctx, batch)
	if err != nil || n != 2 {
		t.Fatalf("first put: n=%d err=%v", n, err)
	}
	again := []match.Sighting{sighting(10), sighting(11), sighting(12)}
	again[0].Snapshot = "v2" // a rescan with a newer snapshot is the same sighting
	n, err = s.PutSightings(ctx, again)
	if err != nil || n != 1 {
		t.Fatalf("rescan: n=%d err=%v, want 1 new", n, err)
	}
	var got []match.Sighting
	if err := s.Sightings(ctx, store.SightingQuery{}, func(sg *match.Sighting) error {
		got = append(got, *sg)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []match.Sighting{sighting(10), sighting(11), sighting(12)}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("sightings (-want +got):\n%s", diff)
	}
}

func detectionsReplaced(t *testing.T, s store.Store) {
	d := behavior.Detection{ID: "beacon-1", Analytic: behavior.Beacon, Src: netip.MustParseAddr("10.0.0.5"),
		Dst: netip.MustParseAddr("203.0.113.9"), Score: 0.91, RawScore: 0.91, Parts: map[string]float64{"interval_skew": 0.98}}
	low := d
	low.ID, low.Score = "beacon-2", 0.4
	if err := s.PutDetections(ctx, []behavior.Detection{low, d}); err != nil {
		t.Fatal(err)
	}
	d.Score, d.Suppressed, d.SuppressedBy = 0, true, "allowlist"
	if err := s.PutDetections(ctx, []behavior.Detection{d}); err != nil {
		t.Fatal(err)
	}
	var got []behavior.Detection
	if err := s.Detections(ctx, func(x *behavior.Detection) error {
		got = append(got, *x)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "beacon-2" || !got[1].Suppressed {
		t.Errorf("detections = %+v", got)
	}
}

func matchIndicators(t *testing.T, s store.Store) {
	a := indicator(ind1, "evil.example", t0)
	a.Indicator.ValidFrom, a.Indicator.ValidUntil = t0, t0.Add(24*time.Hour)
	a.Indicator.Warninglists = []string{"list one", "list two"}
	a.Indicator.Observables = append(a.Indicator.Observables, intel.Observable{Type: intel.IPv4, Value: "198.51.100.7", Port: 443})
	b := indicator(ind2, "host.example", t0)
	b.Indicator.Observables, b.Indicator.HostOnly, b.Indicator.Pattern = nil, true, "ProcessItem/name is 'x.exe'"
	b.Revoked = true
	put(t, s, "m", a, b, actor(actA, "APT1", nil, ""))
	var full, lean []*intel.Object
	if err := s.Objects(ctx, store.ObjectQuery{Types: []string{intel.TypeIndicator}}, func(o *intel.Object) error {
		full = append(full, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.MatchIndicators(ctx, func(o *intel.Object) error {
		lean = append(lean, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, intel.TypeIndicator); err != nil || n != 2 {
		t.Errorf("Count(indicator) = %d, %v; want 2", n, err)
	}
	if len(lean) != 2 || len(full) != 2 {
		t.Fatalf("%d lean, %d full indicators", len(lean), len(full))
	}
	byID := map[string]*intel.Object{}
	for _, o := range full {
		byID[o.ID] = o
	}
	for _, o := range lean {
		f := byID[o.ID]
		want := *f.Indicator
		if diff := cmp.Diff(want, *o.Indicator); diff != "" {
			t.Errorf("%s indicator spec (-full +lean):\n%s", o.ID, diff)
		}
		if o.Revoked != f.Revoked || !o.Modified.Equal(f.Modified) {
			t.Errorf("%s: revoked %v/%v modified %v/%v", o.ID, o.Revoked, f.Revoked, o.Modified, f.Modified)
		}
	}
}

func profileUnderAlias(t *testing.T, s store.Store) {
	// ATT&CK lists IRIDIUM as an old name of Sandworm Team; the MISP galaxy
	// has a separate IRIDIUM profile placed in another country.
	sandworm := actor(actA, "Sandworm Team", []string{"ELECTRUM", "IRIDIUM"}, "G0034")
	iridium := actor(actB, "IRIDIUM", []string{"Storm-0000"}, "")
	iridium.Actor.Country = "IR"
	put(t, s, "two", sandworm, iridium)
	ids, _, err := store.ResolveActor(ctx, s, "Sandworm Team")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Errorf("a profile under another group's alias was joined: %v", ids)
	}
}

func labelJoins(t *testing.T, s store.Store) {
	// `intel import --actor "Comment Crew"` makes a bare label.
	put(t, s, "attack", actor(actA, "APT1", []string{"Comment Crew"}, "G0006"))
	put(t, s, "list", actor(actC, "Comment Crew", nil, ""))
	ids, _, err := store.ResolveActor(ctx, s, "APT1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{actA, actC}, ids); diff != "" {
		t.Errorf("label not joined (-want +got):\n%s", diff)
	}
}

// listed is an indicator as a plain list reader makes it, with its
// "indicates" relationship when actor is set: the shape a store may keep
// compactly. Stores must give back exactly what was put either way.
func listed(value, actor string, conf int, marks ...string) []*intel.Object {
	obs := intel.Observable{Type: intel.Domain, Value: value}
	id := intel.DeriveID(intel.TypeIndicator, string(obs.Type), value)
	ind := &intel.Object{ID: id, Type: intel.TypeIndicator, SpecVersion: "2.1", Name: value, Confidence: conf, Markings: marks,
		Raw:       []byte(`{"value":"` + value + `"}`),
		Indicator: &intel.IndicatorSpec{PatternType: "stix", Pattern: obs.STIXPattern(), Observables: []intel.Observable{obs}}}
	if actor == "" {
		return []*intel.Object{ind}
	}
	return []*intel.Object{ind, {ID: intel.DeriveID(intel.TypeRelationship, "indicates", id, actor), Type: intel.TypeRelationship,
		SpecVersion: "2.1", Confidence: conf, Markings: marks,
		Relationship: &intel.RelationshipSpec{Type: "indicates", SourceRef: id, TargetRef: actor}}}
}

// same compares objects as stored: through their JSON, which is how
// every store keeps times and empty lists.
func same(t *testing.T, what string, want, got *intel.Object) {
	t.Helper()
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	if string(w) != string(g) {
		t.Errorf("%s:\nwant %s\n got %s", what, w, g)
	}
}

func sourceNames(t *testing.T, s store.Store, id string) []string {
	t.Helper()
	srcs, err := s.ObjectSources(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sc := range srcs {
		out = append(out, sc.Name)
	}
	return out
}

func listThenFull(t *testing.T, s store.Store) {
	objs := listed("evil.example", actA, 50, "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82")
	put(t, s, "list", append([]*intel.Object{actor(actA, "APT1", nil, "")}, objs...)...)
	got, err := s.Object(ctx, objs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "list indicator read back", objs[0], got)
	rels, err := s.Relationships(ctx, actA)
	if err != nil || len(rels) != 1 {
		t.Fatalf("Relationships(actor) = %v, %v", rels, err)
	}
	same(t, "its relationship", objs[1], rels[0])

	full := indicator(objs[0].ID, "evil.example", t0.Add(time.Hour))
	full.Description = "C2 of the 2013 campaign"
	put(t, s, "report", full)
	got, err = s.Object(ctx, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "the newer full version is current", full, got)
	vers, err := s.Versions(ctx, full.ID)
	if err != nil || len(vers) != 2 {
		t.Fatalf("Versions = %d, %v", len(vers), err)
	}
	same(t, "the list version is history", objs[0], vers[0])
	if diff := cmp.Diff([]string{"list", "report"}, sourceNames(t, s, full.ID)); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	// the relationship the list asserted survives
	var ids []string
	if err := s.Objects(ctx, store.ObjectQuery{Actor: "APT1"}, func(o *intel.Object) error {
		ids = append(ids, o.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{full.ID}, ids); diff != "" {
		t.Errorf("indicators of APT1 (-want +got):\n%s", diff)
	}
	n := 0
	if err := s.MatchIndicators(ctx, func(o *intel.Object) error {
		n++
		if !o.Modified.Equal(full.Modified) {
			t.Errorf("matcher sees version of %v", o.Modified)
		}
		return nil
	}); err != nil || n != 1 {
		t.Errorf("MatchIndicators: %d indicators, %v; want 1", n, err)
	}
}

func fullThenList(t *testing.T, s store.Store) {
	objs := listed("evil.example", "", -1)
	full := indicator(objs[0].ID, "evil.example", t0)
	full.Description = "from a report"
	put(t, s, "report", full)
	put(t, s, "list", objs...)
	got, err := s.Object(ctx, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "the report's newer version stays current", full, got)
	vers, err := s.Versions(ctx, full.ID)
	if err != nil || len(vers) != 2 {
		t.Fatalf("Versions = %d, %v", len(vers), err)
	}
	same(t, "the list's version is history", objs[0], vers[0])
	if diff := cmp.Diff([]string{"report", "list"}, sourceNames(t, s, full.ID)); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

func twoListsTwoActors(t *testing.T, s store.Store) {
	a := listed("evil.example", actA, -1)
	b := listed("evil.example", actB, -1)
	put(t, s, "list-a", append([]*intel.Object{actor(actA, "APT1", nil, "")}, a...)...)
	put(t, s, "list-b", append([]*intel.Object{actor(actB, "APT28", nil, "")}, b...)...)
	rels, err := s.Relationships(ctx, a[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, r := range rels {
		targets = append(targets, r.Relationship.TargetRef)
	}
	sort.Strings(targets)
	if diff := cmp.Diff([]string{actA, actB}, targets); diff != "" {
		t.Errorf("relationships of the indicator (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"list-a", "list-b"}, sourceNames(t, s, a[0].ID)); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ByActor["APT1"] != 1 || st.ByActor["APT28"] != 1 || st.Objects[intel.TypeIndicator] != 1 {
		t.Errorf("stats: by actor %v, objects %v", st.ByActor, st.Objects)
	}
	for _, name := range []string{"APT1", "APT28"} {
		n := 0
		if err := s.Objects(ctx, store.ObjectQuery{Actor: name}, func(*intel.Object) error { n++; return nil }); err != nil || n != 1 {
			t.Errorf("indicators of %s: %d, %v", name, n, err)
		}
	}
}

func listCountsAgree(t *testing.T, s store.Store) {
	var objs []*intel.Object
	objs = append(objs, actor(actA, "APT1", nil, ""))
	for i := 0; i < 300; i++ { // more than one batch statement
		objs = append(objs, listed(fmt.Sprintf("host%03d.example", i), actA, 80)...)
	}
	res := put(t, s, "list", objs...)
	if res.New != len(objs) {
		t.Errorf("New = %d, want %d", res.New, len(objs))
	}
	byType := map[string]int{}
	if err := s.Objects(ctx, store.ObjectQuery{}, func(o *intel.Object) error {
		byType[o.Type]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st, err := s.IntelStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{intel.TypeIndicator, intel.TypeRelationship} {
		n, err := s.Count(ctx, typ)
		if err != nil {
			t.Fatal(err)
		}
		if n != 300 || byType[typ] != 300 || st.Objects[typ] != 300 {
			t.Errorf("%s: Count %d, Objects %d, stats %d; want 300", typ, n, byType[typ], st.Objects[typ])
		}
	}
	if st.ByActor["APT1"] != 300 || st.IndicatorTypes["domain"] != 300 || st.BySource["list"] != 601 {
		t.Errorf("stats: %+v", st)
	}
	// every object reads back as put
	for _, o := range objs[1:] {
		if o.Type != intel.TypeIndicator {
			continue
		}
		got, err := s.Object(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, o.ID, o, got)
	}
}
