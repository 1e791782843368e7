package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// TestOverviewShowsChangesSinceLastVisit: a key's first visit says so;
// after a new analysis that drops one campaign, re-attributes another and
// finds a new one, the next visit lists exactly those, with the change in
// sightings and the number of analyses stored since.
func TestOverviewShowsChangesSinceLastVisit(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	code, body, _ := e.get(key, "/")
	if code != http.StatusOK || byID(parse(t, body), "first-visit") != "This is this key's first visit to the overview." {
		t.Fatalf("first visit: %d %q", code, byID(parse(t, body), "changes"))
	}
	waitForAudit(t, e, "analyst", 1)
	if _, body, _ = e.get(key, "/"); byID(parse(t, body), "no-changes") != "Nothing changed." {
		t.Errorf("second visit with nothing new: %q", byID(parse(t, body), "changes"))
	}
	doc := e.doc()
	if len(doc.Campaigns) < 2 {
		t.Fatalf("the demo has %d campaigns; want two or more", len(doc.Campaigns))
	}
	gone, changed := doc.Campaigns[0], &doc.Campaigns[1]
	wantSightings := 7 // the new campaign has 7 more than the one gone
	changed.Attribution.Named, changed.Attribution.Actor, changed.Attribution.Estimate = false, "", "roughly even chance"
	added := gone
	added.ID, added.Sightings = "C-NEWCAMPAIGN", gone.Sightings+7
	doc.Campaigns = append(doc.Campaigns[1:], added)
	waitForAudit(t, e, "analyst", 2)
	putAnalysis(t, e, doc)

	var api struct{ Changes map[string]any }
	if code := e.getJSON(key, "/api/v1/overview", &api); code != http.StatusOK {
		t.Fatalf("API: %d", code)
	}
	_, body, _ = e.get(key, "/")
	page := parse(t, body)
	for id, want := range map[string]string{"changes-analyses": "1", "changes-sightings": "+" + strconv.Itoa(wantSightings)} {
		if got := byID(page, id); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if byID(page, "changes-sources") != "" {
		t.Error("a partner key sees the count of imported sources")
	}
	list := func(class string) []string {
		var out []string
		for _, n := range find(page, func(n *html.Node) bool { return attr(n, "class") == class }) {
			out = append(out, text(n))
		}
		return out
	}
	if got := list("new-campaign"); !slices.Equal(got, []string{"new campaign C-NEWCAMPAIGN"}) {
		t.Errorf("new: %q", got)
	}
	if got := list("gone-campaign"); !slices.Equal(got, []string{"campaign " + gone.ID + " is no longer found"}) {
		t.Errorf("gone: %q", got)
	}
	if got := list("changed-campaign"); len(got) != 1 || !strings.Contains(got[0], changed.ID+": ") || !strings.Contains(got[0], "→ not attributed, roughly even chance") {
		t.Errorf("changed: %q", got)
	}
	ch := api.Changes
	if ch["analyses"] != 1.0 || ch["sightings"] != float64(wantSightings) || len(ch["new_campaigns"].([]any)) != 1 || ch["sources"] != -1.0 {
		t.Errorf("API changes: %v", ch)
	}
}

// waitForAudit waits until the audit holds n overview visits by the key
// name: the server writes each after its answer.
func waitForAudit(t *testing.T, e *env, name string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := 0
		err := e.db.Audit(context.Background(), store.AuditQuery{Key: name, Path: "/"}, func(store.AuditEntry) error { got++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the audit has %d overview visits by %s, want %d", got, name, n)
		}
	}
}

// putAnalysis stores doc as a new analysis run, a second after now.
func putAnalysis(t *testing.T, e *env, doc *report.Document) {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	a := store.Analysis{Created: time.Now().Add(time.Second), Document: data}
	for _, c := range doc.Campaigns {
		cd, _ := json.Marshal(c)
		a.Campaigns = append(a.Campaigns, store.CampaignRecord{ID: c.ID, Actor: c.Attribution.Actor, Estimate: c.Attribution.Estimate,
			Confidence: c.Attribution.Confidence, Likelihood: c.Attribution.Likelihood, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen, Data: cd})
	}
	if _, err := e.db.PutAnalysis(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// TestOverviewMapCountsC2ByCountry: the overview's map shades each
// country with the number of distinct C2 servers the visible campaigns
// hold there, counted here from the stored analysis.
func TestOverviewMapCountsC2ByCountry(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	want := map[string]int{}
	seen := map[string]bool{}
	for _, c := range e.doc().Campaigns {
		for _, in := range c.Infrastructure {
			if in.Kind == "ip" && in.Role == "c2" && !in.Suppressed && !seen[in.Value] && in.Country != "" && in.Country != "unknown" {
				seen[in.Value] = true
				want[in.Country]++
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("the demo's campaigns have no located C2 server: the test checks nothing")
	}
	_, body, _ := e.get(key, "/")
	page := parse(t, body)
	got := map[string]int{}
	for _, n := range find(page, func(n *html.Node) bool { return n.Data == "use" && strings.Contains(attr(n, "class"), "hit") }) {
		c, err := strconv.Atoi(attr(n, "data-count"))
		if err != nil || attr(n, "fill") == "" || attr(n, "style") != "" {
			t.Errorf("%s: count %q, fill %q, style %q", attr(n, "data-cc"), attr(n, "data-count"), attr(n, "fill"), attr(n, "style"))
		}
		got[attr(n, "data-cc")] = c
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("map shows %v, the campaigns have %v", got, want)
	}
	if strings.Contains(body, "style=") {
		t.Error("the overview has an inline style, which its CSP forbids")
	}
}
