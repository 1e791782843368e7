package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// deleteObject: DeleteObject removes one older version, refuses the
// current version alone, and removes a whole object with its names,
// relationships and match rows, also a list's indicator.
func deleteObject(t *testing.T, s store.Store) {
	only, both := sourcesFixture(t, s)
	if _, err := s.DeleteObject(ctx, ind1, t0.Add(time.Hour)); !errors.Is(err, store.ErrCurrentVersion) {
		t.Fatalf("deleting the current version alone: %v, want ErrCurrentVersion", err)
	}
	if n, err := s.DeleteObject(ctx, ind1, t0); err != nil || n != 1 {
		t.Fatalf("deleting the older version: %d, %v", n, err)
	}
	if v, err := s.Versions(ctx, ind1); err != nil || len(v) != 1 || !v[0].Modified.Equal(t0.Add(time.Hour)) {
		t.Fatalf("versions after deleting the older one: %d, %v", len(v), err)
	}
	if _, err := s.DeleteObject(ctx, ind1, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting that version again: %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteObject(ctx, ind1, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("deleting the only version left: %d, %v", n, err)
	}
	if _, err := s.Object(ctx, ind1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ind1 after it was deleted: %v", err)
	}
	if n, err := s.DeleteObject(ctx, actA, time.Time{}); err != nil || n != 1 {
		t.Fatalf("deleting the actor: %d, %v", n, err)
	}
	if found, err := s.FindByName(ctx, "Comment Crew"); err != nil || len(found) != 0 {
		t.Fatalf("FindByName(Comment Crew) after the actor went: %d, %v", len(found), err)
	}
	if _, err := s.DeleteObject(ctx, rel1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ind1, actA} {
		if rels, err := s.Relationships(ctx, id); err != nil || hasID(rels, rel1) {
			t.Fatalf("relationships of %s still hold %s (%v)", id, rel1, err)
		}
	}
	ids := matchIDs(t, s)
	if ids[ind1] || !ids[ind2] {
		t.Fatalf("match indicators after the deletes: %v", ids)
	}
	if _, err := s.DeleteObject(ctx, "indicator--00000000-0000-4000-8000-0000000000ff", time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting what was never stored: %v, want ErrNotFound", err)
	}
	// a listed indicator (SQLite stores it compactly) goes with its row
	listedID := only[0].ID
	if n, err := s.DeleteObject(ctx, listedID, time.Time{}); err != nil || n != 1 {
		t.Fatalf("deleting a listed indicator: %d, %v", n, err)
	}
	if _, err := s.Object(ctx, listedID); !errors.Is(err, store.ErrNotFound) || matchIDs(t, s)[listedID] {
		t.Fatalf("a deleted listed indicator is still there: %v", err)
	}
	if _, err := s.Object(ctx, both[0].ID); err != nil || !matchIDs(t, s)[both[0].ID] {
		t.Fatalf("the rest of its list: %v", err)
	}
}

func hasID(objs []*intel.Object, id string) bool {
	for _, o := range objs {
		if o.ID == id {
			return true
		}
	}
	return false
}

func matchIDs(t *testing.T, s store.Store) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	if err := s.MatchIndicators(ctx, func(o *intel.Object) error { ids[o.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}
