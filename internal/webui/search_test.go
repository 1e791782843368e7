package webui_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
	"github.com/whodunit-project/whodunit/internal/webui"
)

type searchAnswer struct {
	Campaigns []struct{ ID, Why string }
	Objects   []struct {
		ID, Type, Name string
		Sources        []string
		Related        []struct{ Relationship, ID string }
	}
	Sightings []match.Sighting
	More      map[string]bool
}

// Searching a campaign's C2 value reaches the campaign, the sightings of
// the value (as many as the store has, up to the page's bound) and the
// indicator; searching one of its victims reaches the campaign too.
func TestSearchPivots(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	c := e.doc().Campaigns[0]
	var value string
	for _, in := range c.Infrastructure {
		if in.Sightings > 0 {
			value = in.Value
			break
		}
	}
	if value == "" {
		t.Fatalf("campaign %s has no sighted infrastructure", c.ID)
	}
	stored := 0
	var indicator string
	if err := e.db.Sightings(context.Background(), store.SightingQuery{Value: value}, func(s *match.Sighting) error {
		stored++
		indicator = s.IndicatorID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got searchAnswer
	if code := e.getJSON(key, "/api/v1/search?q="+url.QueryEscape(value), &got); code != http.StatusOK {
		t.Fatalf("search: %d", code)
	}
	if !slices.ContainsFunc(got.Campaigns, func(h struct{ ID, Why string }) bool { return h.ID == c.ID }) {
		t.Errorf("searching %s does not reach campaign %s: %+v", value, c.ID, got.Campaigns)
	}
	if want := min(stored, 100); len(got.Sightings) != want || got.More["sightings"] != (stored > 100) {
		t.Errorf("sightings of %s: %d shown (more %v), the store has %d", value, len(got.Sightings), got.More["sightings"], stored)
	}
	var byIndicator searchAnswer
	e.getJSON(key, "/api/v1/search?q="+url.QueryEscape(indicator), &byIndicator)
	if len(byIndicator.Objects) != 1 || byIndicator.Objects[0].ID != indicator || len(byIndicator.Sightings) == 0 {
		t.Fatalf("searching indicator %s: %+v, %d sightings", indicator, byIndicator.Objects, len(byIndicator.Sightings))
	}
	checkConnected(t, e, byIndicator.Objects[0].ID, byIndicator.Objects[0].Sources, byIndicator.Objects[0].Related)
	var byVictim searchAnswer
	e.getJSON(key, "/api/v1/search?q="+url.QueryEscape(c.Victims[0]), &byVictim)
	if !slices.ContainsFunc(byVictim.Campaigns, func(h struct{ ID, Why string }) bool { return h.ID == c.ID && h.Why == "victim" }) {
		t.Errorf("searching victim %s: %+v", c.Victims[0], byVictim.Campaigns)
	}
	code, body, _ := e.get(key, "/search?q="+url.QueryEscape(value))
	if page := parse(t, body); code != http.StatusOK || byID(page, "query") != value {
		t.Errorf("search page: %d, query %q", code, byID(page, "query"))
	}
	if code, _, _ := e.get(key, "/api/v1/search?q="); code != http.StatusBadRequest {
		t.Errorf("empty search: %d, want 400", code)
	}
}

// A green key's search does not reach an amber indicator, its sightings
// or the campaigns resting on it.
func TestSearchWithinCeiling(t *testing.T) {
	e := newEnv(t, webui.Config{DefaultTLP: tlp.Green})
	green := e.key("partner", "green", false)
	c := e.doc().Campaigns[0]
	id := c.Indicators[0]
	markAmber(t, e, id)
	var got searchAnswer
	if code := e.getJSON(green, "/api/v1/search?q="+url.QueryEscape(id), &got); code != http.StatusOK {
		t.Fatalf("search: %d", code)
	}
	if len(got.Objects) != 0 || len(got.Sightings) != 0 || slices.ContainsFunc(got.Campaigns, func(h struct{ ID, Why string }) bool { return h.ID == c.ID }) {
		t.Errorf("a green key's search reaches amber %s: %+v", id, got)
	}
}

// checkConnected compares an object hit's sources and relationships with
// the store's: as many sources, and every relationship, either way, to an
// object that exists (an amber key sees the demo's unmarked intelligence).
func checkConnected(t *testing.T, e *env, id string, sources []string, related []struct{ Relationship, ID string }) {
	t.Helper()
	ctx := context.Background()
	srcs, err := e.db.ObjectSources(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	rels, err := e.db.Relationships(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rels {
		rs := r.Relationship
		other, verb := rs.TargetRef, rs.Type
		if other == id {
			other, verb = rs.SourceRef, rs.Type+" (by)"
		}
		if _, err := e.db.Object(ctx, other); err == nil {
			want = append(want, verb+" "+other)
		}
	}
	var got []string
	for _, r := range related {
		got = append(got, r.Relationship+" "+r.ID)
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(sources) != len(srcs) || len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("%s: sources %v (store %d), related %v, store %v", id, sources, len(srcs), got, want)
	}
}
