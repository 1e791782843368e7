package webui_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// The actor a campaign is attributed to has a page: its profile from the
// intelligence and the campaign; a key whose ceiling does not cover the
// actor's record gets 404, as for an actor that does not exist.
func TestActorPage(t *testing.T) {
	e := newEnv(t, webui.Config{})
	amber, green := e.key("analyst", "amber", false), e.key("partner", "green", false)
	c := e.doc().Campaigns[0]
	if !c.Attribution.Named {
		t.Fatalf("campaign %s is not attributed", c.ID)
	}
	var got struct {
		Profile   report.ActorProfile
		Members   []string
		Campaigns []struct{ ID, Why string }
	}
	path := "/api/v1/actors/" + url.PathEscape(c.Attribution.ActorID)
	if code := e.getJSON(amber, path, &got); code != http.StatusOK {
		t.Fatalf("%s: %d", path, code)
	}
	if got.Profile.Name != c.Attribution.Actor || !slices.Contains(got.Members, c.Attribution.ActorID) {
		t.Errorf("profile %q members %v, campaign attributed to %q", got.Profile.Name, got.Members, c.Attribution.Actor)
	}
	if !slices.ContainsFunc(got.Campaigns, func(h struct{ ID, Why string }) bool { return h.ID == c.ID && h.Why == "attributed" }) {
		t.Errorf("campaigns %+v lack %s", got.Campaigns, c.ID)
	}
	code, body, _ := e.get(amber, "/actors/"+url.PathEscape(c.Attribution.ActorID))
	if page := parse(t, body); code != http.StatusOK || byID(page, "actor-name") != c.Attribution.Actor {
		t.Errorf("page: %d, %q", code, byID(page, "actor-name"))
	}
	for _, tc := range []struct{ key, id string }{{green, c.Attribution.ActorID}, {amber, "intrusion-set--00000000-0000-4000-8000-000000000000"}, {amber, c.Indicators[0]}} {
		if code, _, _ := e.get(tc.key, "/api/v1/actors/"+url.PathEscape(tc.id)); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", tc.id, code)
		}
	}
}
