package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

const apt1FQDN = "../../../../shared/data/intel/apt1/apt1-fqdn.dat"

// importList imports a Zeek intel file, with actor when set, as one source.
func importList(t *testing.T, s *sqlite.Store, path, name, actor string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared data: %v", err)
	}
	defer f.Close()
	opt := intel.DefaultOptions()
	opt.Actor = actor
	if _, err := s.Import(context.Background(), intel.Source{Name: name, Format: "zeek-intel", SHA256: name}, func(sink intel.Sink) error {
		_, err := flat.ZeekIntel{}.Import(context.Background(), f, path, opt, sink)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// pageAll pages q with limit and returns the objects in order.
func pageAll(t *testing.T, s *sqlite.Store, q store.PageQuery, limit int) []*intel.Object {
	t.Helper()
	var out []*intel.Object
	var after store.Cursor
	for {
		pg, err := s.ObjectsPage(context.Background(), q, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pg.Items {
			out = append(out, it.Object)
		}
		if !pg.More {
			return out
		}
		after = pg.Next
	}
}

// The relationships a list attributed to an actor implies are paged once
// each, between lists that are not attributed, also in a store upgraded
// from schema 8 (before shapes knew their last added time); match[id]
// finds one by its derived id.
func TestImpliedRelationshipsPaged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	importList(t, s, apt1FQDN, "plain-before", "")
	importList(t, s, apt1FQDN, "attributed", "APT1")
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE indicator_shapes SET last_added = ''", "PRAGMA user_version = 8"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	if s, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	want, err := s.Count(ctx, intel.TypeRelationship)
	if err != nil || want < 2000 {
		t.Fatalf("%d relationships counted (%v)", want, err)
	}
	for _, limit := range []int{1000, 333} {
		rels := pageAll(t, s, store.PageQuery{Types: []string{intel.TypeRelationship}}, limit)
		seen := map[string]bool{}
		for _, o := range rels {
			if seen[o.ID] || o.Relationship == nil || o.Relationship.Type != "indicates" {
				t.Fatalf("limit %d: %s twice or not an indicates relationship", limit, o.ID)
			}
			seen[o.ID] = true
		}
		if len(rels) != want {
			t.Fatalf("limit %d: %d relationships paged, %d counted", limit, len(rels), want)
		}
	}
	all := pageAll(t, s, store.PageQuery{}, 257)
	last := all[len(all)-1]
	got := pageAll(t, s, store.PageQuery{IDs: []string{last.ID}}, 10)
	if len(got) != 1 || got[0].ID != last.ID {
		t.Fatalf("match[id] %s: %d objects", last.ID, len(got))
	}
}
