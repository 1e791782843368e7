package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LinkActors(ctx, "intrusion-set--a", "intrusion-set--b", "x"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	links, err := s.ActorLinks(ctx)
	if err != nil || len(links) != 1 {
		t.Fatalf("links after reopen: %v %v", links, err)
	}
}

func TestTimesRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2013, 2, 18, 23, 59, 59, 123456789, time.UTC),
		time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 22, 12, 0, 0, 1, time.FixedZone("CST", 8*3600)),
	} {
		if got := sqlite.ParseTimeForTest(sqlite.FmtTimeForTest(tm)); !got.Equal(tm) {
			t.Errorf("%v: round trip gave %v", tm, got)
		}
	}
	if got := sqlite.ParseTimeForTest("2016-04-06T20:03:48Z"); got.IsZero() {
		t.Error("RFC 3339 text not read")
	}
}

// TestCursorSurvivesReopen pages, closes the store, opens it again and
// goes on from the cursor: it holds the position, not a handle.
func TestCursorSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSightings(ctx, fixtureSightings()); err != nil {
		t.Fatal(err)
	}
	first, err := s.SightingsPage(ctx, store.SightingQuery{}, "", 2)
	if err != nil || len(first.Sightings) != 2 {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rest, err := s.SightingsPage(ctx, store.SightingQuery{}, first.Next, 10)
	if err != nil || len(rest.Sightings) != 3 || rest.More {
		t.Fatalf("after reopening: %d sightings, more %v, %v; want the other 3", len(rest.Sightings), rest.More, err)
	}
	if rest.Sightings[0].Sighting.Key() == first.Sightings[1].Sighting.Key() {
		t.Error("the page after the cursor repeats its last sighting")
	}
}
