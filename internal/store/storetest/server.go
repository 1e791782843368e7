package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// RunServer runs the contract of the roles a server uses against stores
// made by open (each call a new, empty store).
func RunServer(t *testing.T, open func(t *testing.T) store.ServerStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.ServerStore)
	}{
		{"PagesCoverEveryVersionOnceInAddedOrder", pagesCoverEveryVersion},
		{"MoreIsExact", moreIsExact},
		{"VersionsLastFirstAllAndTimes", pageVersions},
		{"ImportedWhilePagingComesLater", importedWhilePaging},
		{"PageFilters", pageFilters},
		{"ResumingByAddedTimeMissesNone", resumeByAddedTime},
		{"PageServesRawAsStored", pageServesRaw},
		{"ListIndicatorsArePaged", listIndicatorsPaged},
		{"ForgedObjectCursorIsAnError", forgedObjectCursor},
		{"ObjectVersions", objectVersions},
		{"Keys", keys},
		{"AuditTrail", auditTrail},
		{"StatusesExpire", statusesExpire},
		{"Subscriptions", subscriptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

// pageAll pages q to the end with limit, checking that More is exact: it
// is false on the last page only, and no page is empty but a lone first.
func pageAll(t *testing.T, s store.ServerStore, q store.PageQuery, after store.Cursor, limit int) ([]store.PageItem, store.Cursor) {
	t.Helper()
	var out []store.PageItem
	for i := 0; ; i++ {
		page, err := s.ObjectsPage(ctx, q, after, limit)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if len(page.Items) > limit {
			t.Fatalf("page %d: %d items, limit %d", i, len(page.Items), limit)
		}
		if len(page.Items) == 0 && i > 0 {
			t.Fatalf("page %d is empty: More was not exact", i)
		}
		if page.More && len(page.Items) < limit {
			t.Fatalf("page %d: %d items and More", i, len(page.Items))
		}
		out = append(out, page.Items...)
		after = page.Next
		if !page.More {
			return out, after
		}
		if i > 10000 {
			t.Fatal("paging does not end")
		}
	}
}

// key names a version.
func key(it store.PageItem) string {
	return it.Object.ID + "@" + it.Version.UTC().Format(time.RFC3339Nano)
}

func versionKeys(items []store.PageItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = key(it)
	}
	return out
}

// inAddedOrder checks items are in (added, id, version) order, strictly.
func inAddedOrder(t *testing.T, items []store.PageItem) {
	t.Helper()
	for i := 1; i < len(items); i++ {
		a, b := items[i-1], items[i]
		less := a.Added.Before(b.Added) || a.Added.Equal(b.Added) &&
			(a.Object.ID < b.Object.ID || a.Object.ID == b.Object.ID && a.Version.Before(b.Version))
		if !less {
			t.Fatalf("item %d (%s added %s) after %s added %s", i, key(b), b.Added, key(a), a.Added)
		}
	}
}

// inImports compares got with the versions of imports in order: the
// versions of one import come together, in an order the store chooses
// (each has its own added time), and the imports in the order they were
// made. It returns a diff, "" when they agree.
func inImports(imports [][]string, got []string) string {
	var want, norm []string
	rest := got
	for _, imp := range imports {
		n := min(len(imp), len(rest))
		w, g := slices.Clone(imp), slices.Clone(rest[:n])
		slices.Sort(w)
		slices.Sort(g)
		want, norm, rest = append(want, w...), append(norm, g...), rest[n:]
	}
	return cmp.Diff(want, append(norm, rest...))
}

// history stores three imports: ind1 at t0 and a newer version, ind2 and
// an older version of it that arrives later, and an actor.
func history(t *testing.T, s store.Store) {
	t.Helper()
	put(t, s, "one", indicator(ind1, "one.example", t0), indicator(ind2, "two.example", t0.Add(2*time.Hour)))
	put(t, s, "two", indicator(ind1, "one.example", t0.Add(time.Hour)), actor(actA, "APT1", nil, ""))
	put(t, s, "three", indicator(ind2, "two.example", t0.Add(time.Hour)))
}

func pagesCoverEveryVersion(t *testing.T, s store.ServerStore) {
	history(t, s)
	want := [][]string{{ind1 + "@2013-02-18T00:00:00Z", ind2 + "@2013-02-18T02:00:00Z"},
		{ind1 + "@2013-02-18T01:00:00Z", actA + "@2013-02-18T00:00:00Z"}, {ind2 + "@2013-02-18T01:00:00Z"}}
	for _, limit := range []int{1, 2, 3, 5, 100} {
		items, _ := pageAll(t, s, store.PageQuery{Versions: []string{"all"}}, "", limit)
		inAddedOrder(t, items)
		if diff := inImports(want, versionKeys(items)); diff != "" {
			t.Fatalf("limit %d: versions (-want +got):\n%s", limit, diff)
		}
	}
}

func moreIsExact(t *testing.T, s store.ServerStore) {
	history(t, s)
	page, err := s.ObjectsPage(ctx, store.PageQuery{}, "", 3)
	if err != nil || len(page.Items) != 3 || page.More {
		t.Fatalf("3 current objects in a page of 3: %d items, More %v, %v", len(page.Items), page.More, err)
	}
	page, err = s.ObjectsPage(ctx, store.PageQuery{}, "", 2)
	if err != nil || len(page.Items) != 2 || !page.More {
		t.Fatalf("3 current objects in a page of 2: %d items, More %v, %v", len(page.Items), page.More, err)
	}
	last, err := s.ObjectsPage(ctx, store.PageQuery{}, page.Next, 2)
	if err != nil || len(last.Items) != 1 || last.More {
		t.Fatalf("the rest: %d items, More %v, %v", len(last.Items), last.More, err)
	}
	empty, err := s.ObjectsPage(ctx, store.PageQuery{}, last.Next, 2)
	if err != nil || len(empty.Items) != 0 || empty.More || empty.Next != last.Next {
		t.Fatalf("after the end: %d items, More %v, Next %q (was %q), %v", len(empty.Items), empty.More, empty.Next, last.Next, err)
	}
}

func pageVersions(t *testing.T, s store.ServerStore) {
	history(t, s)
	for _, tc := range []struct {
		versions []string
		want     [][]string // by import
	}{
		{nil, [][]string{{ind2 + "@2013-02-18T02:00:00Z"}, {ind1 + "@2013-02-18T01:00:00Z", actA + "@2013-02-18T00:00:00Z"}}},
		{[]string{"last"}, [][]string{{ind2 + "@2013-02-18T02:00:00Z"}, {ind1 + "@2013-02-18T01:00:00Z", actA + "@2013-02-18T00:00:00Z"}}},
		// ind2's first version arrived last
		{[]string{"first"}, [][]string{{ind1 + "@2013-02-18T00:00:00Z"}, {actA + "@2013-02-18T00:00:00Z"}, {ind2 + "@2013-02-18T01:00:00Z"}}},
		{[]string{"2013-02-18T01:00:00Z"}, [][]string{{ind1 + "@2013-02-18T01:00:00Z"}, {ind2 + "@2013-02-18T01:00:00Z"}}},
		{[]string{"first", "last"}, [][]string{{ind1 + "@2013-02-18T00:00:00Z", ind2 + "@2013-02-18T02:00:00Z"},
			{ind1 + "@2013-02-18T01:00:00Z", actA + "@2013-02-18T00:00:00Z"}, {ind2 + "@2013-02-18T01:00:00Z"}}},
	} {
		items, _ := pageAll(t, s, store.PageQuery{Versions: tc.versions}, "", 2)
		if diff := inImports(tc.want, versionKeys(items)); diff != "" {
			t.Errorf("versions %v (-want +got):\n%s", tc.versions, diff)
		}
	}
	if _, err := s.ObjectsPage(ctx, store.PageQuery{Versions: []string{"newest"}}, "", 0); err == nil {
		t.Error("version \"newest\": no error")
	}
}

func importedWhilePaging(t *testing.T, s store.ServerStore) {
	history(t, s)
	all := store.PageQuery{Versions: []string{"all"}}
	seen, next := pageAll(t, s, all, "", 2)
	lastAdded := seen[len(seen)-1].Added
	// a newer version of a seen object, and a new object
	put(t, s, "four", indicator(ind1, "one.example", t0.Add(3*time.Hour)), rel(rel1, "indicates", ind1, actA))
	more, _ := pageAll(t, s, all, next, 2)
	want := [][]string{{ind1 + "@2013-02-18T03:00:00Z", rel1 + "@2013-02-18T00:00:00Z"}}
	if diff := inImports(want, versionKeys(more)); diff != "" {
		t.Fatalf("after the cursor (-want +got):\n%s", diff)
	}
	for _, it := range more {
		if !it.Added.After(lastAdded) {
			t.Errorf("%s added %s, not after %s", key(it), it.Added, lastAdded)
		}
	}
	byTime, _ := pageAll(t, s, store.PageQuery{Versions: []string{"all"}, AddedAfter: lastAdded}, "", 10)
	if diff := inImports(want, versionKeys(byTime)); diff != "" {
		t.Errorf("added after %s (-want +got):\n%s", lastAdded, diff)
	}
	// the import of the same content again adds nothing
	put(t, s, "four", indicator(ind1, "one.example", t0.Add(3*time.Hour)), rel(rel1, "indicates", ind1, actA))
	if again, _ := pageAll(t, s, all, next, 10); len(again) != 2 {
		t.Errorf("after a repeated import: %d new versions, want 2", len(again))
	}
}

// resumeByAddedTime: a client that pages with limit 1 and resumes each
// time with added_after = the last added time it saw (what a TAXII client
// does with X-TAXII-Date-Added-Last) gets every version once, even in the
// middle of one import: no two versions share an added time.
func resumeByAddedTime(t *testing.T, s store.ServerStore) {
	history(t, s)
	want, _ := pageAll(t, s, store.PageQuery{Versions: []string{"all"}}, "", 100)
	var got []store.PageItem
	var after time.Time
	for range len(want) + 1 {
		page, err := s.ObjectsPage(ctx, store.PageQuery{Versions: []string{"all"}, AddedAfter: after}, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 0 {
			break
		}
		got = append(got, page.Items...)
		after = page.Items[0].Added
	}
	if diff := cmp.Diff(versionKeys(want), versionKeys(got)); diff != "" {
		t.Errorf("resumed by added time (-want +got):\n%s", diff)
	}
}

func pageFilters(t *testing.T, s store.ServerStore) {
	history(t, s)
	put(t, s, "four", rel(rel1, "indicates", ind1, actA), indicator(ind2, "two.example", t0.Add(2*time.Hour)))
	a2 := actor(actB, "Comment Crew", []string{"APT1"}, "")
	a2.SpecVersion = "2.0"
	put(t, s, "five", a2)
	for _, tc := range []struct {
		name string
		q    store.PageQuery
		want [][]string // by import
	}{
		{"types ORed", store.PageQuery{Types: []string{intel.TypeIntrusionSet, intel.TypeRelationship}}, [][]string{{actA}, {rel1}, {actB}}},
		{"ids", store.PageQuery{IDs: []string{ind2, actB, "indicator--none"}}, [][]string{{ind2}, {actB}}},
		// ind2 was first asserted by "one"; "four" re-asserted it
		{"source, also a later one", store.PageQuery{Sources: []string{"four"}}, [][]string{{ind2}, {rel1}}},
		{"sources ORed", store.PageQuery{Sources: []string{"two", "five"}}, [][]string{{ind1, actA}, {actB}}},
		{"unknown source", store.PageQuery{Sources: []string{"nobody"}}, nil},
		{"actor by alias", store.PageQuery{Actor: "apt-1"}, [][]string{{ind1}}},
		{"unknown actor", store.PageQuery{Actor: "nobody at all"}, nil},
		{"spec version 2.0", store.PageQuery{SpecVersions: []string{"2.0"}}, [][]string{{actB}}},
		{"spec versions 2.1 (the default)", store.PageQuery{SpecVersions: []string{"2.1"}}, [][]string{{ind2}, {ind1, actA}, {rel1}}},
		{"fields ANDed", store.PageQuery{Types: []string{intel.TypeIndicator}, Sources: []string{"one"}, IDs: []string{ind1}}, [][]string{{ind1}}},
		{"versions of one source's object", store.PageQuery{Types: []string{intel.TypeIndicator}, Sources: []string{"three"},
			Versions: []string{"all"}}, [][]string{{ind2}, {ind2}}},
	} {
		for _, limit := range []int{1, 3} {
			items, _ := pageAll(t, s, tc.q, "", limit)
			var got []string
			for _, it := range items {
				got = append(got, it.Object.ID)
			}
			if diff := inImports(tc.want, got); diff != "" {
				t.Errorf("%s, pages of %d (-want +got):\n%s", tc.name, limit, diff)
			}
		}
	}
}

func pageServesRaw(t *testing.T, s store.ServerStore) {
	o := indicator(ind1, "one.example", t0)
	o.Raw = []byte(`{"type":"indicator","spec_version":"2.1","id":"` + ind1 + `","x_kept":[1, 2]}`)
	put(t, s, "raw", o)
	page, err := s.ObjectsPage(ctx, store.PageQuery{}, "", 0)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("page: %v %v", page, err)
	}
	it := page.Items[0]
	if string(it.Object.Raw) != string(o.Raw) {
		t.Errorf("Raw = %s, want %s", it.Object.Raw, o.Raw)
	}
	if !it.Version.Equal(t0) || it.Added.IsZero() {
		t.Errorf("Version %s, Added %s", it.Version, it.Added)
	}
	same(t, "object", o, it.Object)
}

func listIndicatorsPaged(t *testing.T, s store.ServerStore) {
	var objs []*intel.Object
	var want []string
	objs = append(objs, actor(actA, "APT1", nil, ""))
	for i := 0; i < 40; i++ {
		l := listed(fmt.Sprintf("evil%02d.example", i), actA, 50)
		objs = append(objs, l...)
		want = append(want, l[0].ID)
	}
	put(t, s, "list", objs...)
	sort.Strings(want)
	q := store.PageQuery{Types: []string{intel.TypeIndicator}}
	items, _ := pageAll(t, s, q, "", 7)
	if diff := inImports([][]string{want}, idsOf(items)); diff != "" {
		t.Fatalf("list indicators (-want +got):\n%s", diff)
	}
	for _, it := range items {
		got, err := s.Object(ctx, it.Object.ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "paged as Object reads it", got, it.Object)
	}
	byActor, _ := pageAll(t, s, store.PageQuery{Actor: "APT1"}, "", 9)
	if diff := inImports([][]string{want}, idsOf(byActor)); diff != "" {
		t.Errorf("indicators of APT1 (-want +got):\n%s", diff)
	}
	bySource, _ := pageAll(t, s, store.PageQuery{Sources: []string{"list"}, Types: []string{intel.TypeIndicator}}, "", 40)
	if len(bySource) != 40 {
		t.Errorf("by source: %d", len(bySource))
	}
	// a full version replaces one: it comes after, and the list version
	// is history
	full := indicator(want[3], "evil03.example", t0)
	put(t, s, "report", full)
	all, _ := pageAll(t, s, store.PageQuery{Versions: []string{"all"}, IDs: []string{want[3]}}, "", 1)
	if len(all) != 2 || !all[1].Added.After(all[0].Added) || !all[1].Version.Equal(t0) {
		t.Errorf("versions of a list indicator made full: %v", versionKeys(all))
	}
}

func idsOf(items []store.PageItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Object.ID)
	}
	return out
}

func forgedObjectCursor(t *testing.T, s store.ServerStore) {
	history(t, s)
	page, err := s.ObjectsPage(ctx, store.PageQuery{}, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(string(page.Next))
	b64 := func(s string) store.Cursor { return store.Cursor(base64.RawURLEncoding.EncodeToString([]byte(s))) }
	for _, c := range []store.Cursor{
		"not base64!", b64("o1\x00garbage"), b64("s1\x002013-02-18T00:00:00.000000000Z\x00key"),
		store.NewCursor(t0, "sighting-key"), b64(string(raw[:len(raw)-1]) + "\x00"),
		b64("o1\x002013-02-18T00:00:00Z\x002013-02-18T00:00:00.000000000Z\x00" + ind1),
		b64("o1\x002013-02-18T00:00:00.000000000Z\x002013-02-18T00:00:00.000000000Z\x00no-id"),
	} {
		if _, err := s.ObjectsPage(ctx, store.PageQuery{}, c, 1); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", c, err)
		}
	}
}

func objectVersions(t *testing.T, s store.ServerStore) {
	history(t, s)
	got, err := s.ObjectVersions(ctx, ind2, store.PageQuery{Versions: []string{"all"}, IDs: []string{ind1}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ind2 + "@2013-02-18T02:00:00Z", ind2 + "@2013-02-18T01:00:00Z"} // in added order
	if diff := cmp.Diff(want, versionKeys(got)); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if got, err := s.ObjectVersions(ctx, ind2, store.PageQuery{Versions: []string{"2000-01-01T00:00:00Z"}}); err != nil || len(got) != 0 {
		t.Errorf("no version matches: %v, %v", got, err)
	}
	if _, err := s.ObjectVersions(ctx, "indicator--none", store.PageQuery{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
}

func keys(t *testing.T, s store.ServerStore) {
	k := store.APIKey{ID: "k1", Name: "partner", Hash: []byte{1, 2, 3}, TLPMax: "amber", Internal: true, Read: []string{"intel", "*"},
		Write: []string{"inbox"}, Created: t0}
	if err := s.PutKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKey(ctx, store.APIKey{ID: "k1", Name: "other", Hash: []byte{9}, Created: t0}); !errors.Is(err, store.ErrExists) {
		t.Errorf("same id: %v, want ErrExists", err)
	}
	if err := s.PutKey(ctx, store.APIKey{ID: "k2", Name: "partner", Hash: []byte{9}, Created: t0}); !errors.Is(err, store.ErrExists) {
		t.Errorf("same valid name: %v, want ErrExists", err)
	}
	got, err := s.Key(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("key read back (-want +got):\n%s", diff)
	}
	if _, err := s.Key(ctx, "k9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	if err := s.RevokeKey(ctx, "partner", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, "partner", t0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking again: %v, want ErrNotFound", err)
	}
	k2 := store.APIKey{ID: "k2", Name: "partner", Hash: []byte{9}, TLPMax: "clear", Admin: true, Created: t0.Add(2 * time.Hour)}
	if err := s.PutKey(ctx, k2); err != nil {
		t.Fatalf("the name of a revoked key again: %v", err)
	}
	list, err := s.Keys(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "k1" || !list[0].Revoked.Equal(t0.Add(time.Hour)) || list[1].ID != "k2" ||
		!list[1].Revoked.IsZero() || !list[1].Admin {
		t.Errorf("Keys = %+v, %v", list, err)
	}
}

func auditTrail(t *testing.T, s store.ServerStore) {
	for i := 0; i < 5; i++ {
		e := store.AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), Key: []string{"a", "b"}[i%2], Remote: "127.0.0.1:5000",
			Method: "GET", Path: fmt.Sprintf("/taxii2/api/collections/intel/objects/?limit=%d", i), Status: 200, Objects: i,
			Took: time.Duration(i) * time.Millisecond}
		if err := s.PutAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	list := func(q store.AuditQuery) []string {
		var out []string
		var last int64
		if err := s.Audit(ctx, q, func(e store.AuditEntry) error {
			if e.Seq <= last {
				return fmt.Errorf("seq %d after %d", e.Seq, last)
			}
			last = e.Seq
			out = append(out, fmt.Sprintf("%s %d %s %d", e.Key, e.Objects, e.Took, e.At.Sub(t0)/time.Minute))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		q    store.AuditQuery
		want []string
	}{
		{store.AuditQuery{}, []string{"a 0 0s 0", "b 1 1ms 1", "a 2 2ms 2", "b 3 3ms 3", "a 4 4ms 4"}},
		{store.AuditQuery{Key: "b"}, []string{"b 1 1ms 1", "b 3 3ms 3"}},
		{store.AuditQuery{Since: t0.Add(3 * time.Minute)}, []string{"b 3 3ms 3", "a 4 4ms 4"}},
		{store.AuditQuery{Limit: 2, Key: "a"}, []string{"a 2 2ms 2", "a 4 4ms 4"}},
		{store.AuditQuery{Path: "/taxii2/api/collections/intel/objects/?limit=3", Method: "GET", Status: 200}, []string{"b 3 3ms 3"}},
		{store.AuditQuery{Method: "POST"}, nil},
		{store.AuditQuery{Status: 404}, nil},
	} {
		if diff := cmp.Diff(tc.want, list(tc.q)); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.q, diff)
		}
	}
}

func statusesExpire(t *testing.T, s store.ServerStore) {
	now := time.Now()
	if err := s.PutStatus(ctx, "st-1", []byte(`{"status":"pending"}`), now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutStatus(ctx, "st-1", []byte(`{"status":"complete"}`), now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutStatus(ctx, "st-old", []byte(`{}`), now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	doc, err := s.Status(ctx, "st-1")
	if err != nil || string(doc) != `{"status":"complete"}` {
		t.Errorf("Status = %s, %v", doc, err)
	}
	for _, id := range []string{"st-old", "st-none"} {
		if _, err := s.Status(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Status(%s) = %v, want ErrNotFound", id, err)
		}
	}
}

func subscriptions(t *testing.T, s store.ServerStore) {
	b := store.Subscription{Name: "b-cert", URL: "https://127.0.0.1:8470/api1/", Collection: "intel", Updated: t0}
	a := store.Subscription{Name: "a-cert", URL: "https://127.0.0.1:8471/api1/", Collection: "c1", AddedAfter: "2013-02-18T00:00:00.123456Z", Updated: t0}
	for _, sub := range []store.Subscription{b, a} {
		if err := s.PutSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	b.AddedAfter, b.Updated = "2013-02-19T00:00:00Z", t0.Add(time.Hour)
	if err := s.PutSubscription(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Subscription{a, b}, got); diff != "" {
		t.Errorf("subscriptions (-want +got):\n%s", diff)
	}
}
