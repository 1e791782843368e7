package webui_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

type joinJSON struct {
	Target, A, B, Rule string
	AName              string `json:"a_name"`
	BName              string `json:"b_name"`
	Undone             bool
}

type claimJSON struct {
	Record, Country string
	Confidence      int
	Sources         []string
}

// actorJSON is the part of /api/v1/actors/{id} these tests read.
type actorJSON struct {
	Members []string
	Joins   []joinJSON
	Claims  []claimJSON
}

// An analyst undoes a join of the attributed actor's records: the store
// keeps it undone, the actor page shows it with who decided, the verdict
// is listed and in the next analysis's report.json, and the next
// analysis no longer merges the two records; joined again, it merges
// them again. Undoing what is not joined is a 409; a partner may not.
func TestActorJoinUndone(t *testing.T) {
	e := newEnv(t, webui.Config{})
	lead, partner := e.key("lead", "amber", true), e.key("partner", "amber", false)
	c := e.doc().Campaigns[0]
	id := c.Attribution.ActorID
	path := "/api/v1/actors/" + url.PathEscape(id)
	var before actorJSON
	if code := e.getJSON(lead, path, &before); code != http.StatusOK || len(before.Joins) == 0 {
		t.Fatalf("%s: %d, %d joins", path, code, len(before.Joins))
	}
	checkJoinsAreStored(t, e, before)
	m, lost := recordWithOwnAliases(t, e, before.Members, id)
	if !slices.Contains(c.Attribution.Aliases, lost[0]) {
		t.Fatalf("the stored campaign lacks alias %q of %s: %v", lost[0], m, c.Attribution.Aliases)
	}
	checkClaimsAreStored(t, e, before)
	var undo []joinJSON
	for _, x := range before.Joins {
		if x.A == m || x.B == m {
			undo = append(undo, x)
		}
	}
	if code, _ := e.post(partner, "/api/v1/verdicts", verdictJSON("actor_join", undo[0].Target, "undone", "")); code != http.StatusForbidden {
		t.Errorf("partner undoing a join: %d, want 403", code)
	}
	for _, x := range undo {
		if code, body := e.post(lead, "/api/v1/verdicts", verdictJSON("actor_join", x.Target, "undone", "two groups")); code != http.StatusCreated {
			t.Fatalf("undo %s: %d %s", x.Target, code, body)
		}
	}
	if code, _ := e.post(lead, "/api/v1/verdicts", verdictJSON("actor_join", undo[0].Target, "undone", "")); code != http.StatusConflict {
		t.Errorf("undoing it twice: %d, want 409", code)
	}
	var after actorJSON
	e.getJSON(lead, path, &after)
	checkJoinsAreStored(t, e, after)
	if slices.Contains(after.Members, m) || len(after.Members) != len(before.Members)-1 {
		t.Errorf("after undoing the joins of %s: members %v", m, after.Members)
	}
	for _, x := range undo {
		if i := slices.IndexFunc(after.Joins, func(y joinJSON) bool { return y.Target == x.Target }); i < 0 || !after.Joins[i].Undone {
			t.Errorf("the join %s is not shown undone", x.Target)
		}
	}
	var listed struct{ Verdicts []store.Verdict }
	e.getJSON(lead, "/api/v1/verdicts?kind=actor_join", &listed)
	if len(listed.Verdicts) != len(undo) || listed.Verdicts[0].Target != undo[0].Target || listed.Verdicts[0].By != "lead" || listed.Verdicts[0].Decision != store.DecisionUndone {
		t.Errorf("verdicts listed: %+v", listed.Verdicts)
	}
	data, err := hunt.Analyse(context.Background(), e.db, hunt.AnalyseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(data.Doc.Verdicts); n != len(undo) || data.Doc.Verdicts[0].Kind != store.VerdictActorJoin {
		t.Errorf("report.json verdicts: %+v", data.Doc.Verdicts)
	}
	for _, camp := range data.Doc.Campaigns {
		if camp.Attribution.ActorID == id {
			for _, al := range lost {
				if slices.Contains(camp.Attribution.Aliases, al) {
					t.Errorf("campaign %s still has alias %q of the split record %s", camp.ID, al, m)
				}
			}
		}
	}
	for _, x := range undo {
		if code, body := e.post(lead, "/api/v1/verdicts", verdictJSON("actor_join", x.Target, "joined", "same group after all")); code != http.StatusCreated {
			t.Fatalf("join again: %d %s", code, body)
		}
	}
	var again actorJSON
	e.getJSON(lead, path, &again)
	if !slices.Equal(again.Members, before.Members) {
		t.Errorf("joined again: members %v, before %v", again.Members, before.Members)
	}
}

// checkJoinsAreStored compares the joins and members an actor answer
// shows with the store's own.
func checkJoinsAreStored(t *testing.T, e *env, a actorJSON) {
	t.Helper()
	links, err := e.db.ActorLinks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := store.Cluster(a.Members[:1], links); !slices.Equal(want, a.Members) {
		t.Errorf("members %v, the store's cluster %v", a.Members, want)
	}
	n := 0
	for _, l := range links {
		if slices.Contains(a.Members, l.A) || slices.Contains(a.Members, l.B) {
			n++
		}
	}
	if len(a.Joins) < n {
		t.Errorf("%d joins shown, the store has %d touching the members", len(a.Joins), n)
	}
}

// recordWithOwnAliases is the member other than keep with the most
// aliases no other member has, and those aliases.
func recordWithOwnAliases(t *testing.T, e *env, members []string, keep string) (string, []string) {
	t.Helper()
	names := map[string][]string{}
	for _, id := range members {
		o, err := e.db.Object(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		names[id] = append([]string{o.Name}, o.Aliases...)
	}
	best, bestOwn := "", []string(nil)
	for _, id := range members {
		if id == keep {
			continue
		}
		var own []string
		for _, n := range names[id] {
			if !slices.ContainsFunc(members, func(o string) bool { return o != id && slices.Contains(names[o], n) }) {
				own = append(own, n)
			}
		}
		if best == "" || len(own) > len(bestOwn) {
			best, bestOwn = id, own
		}
	}
	if len(bestOwn) == 0 {
		t.Fatalf("no member of %v has an alias of its own", members)
	}
	return best, bestOwn
}

// checkClaimsAreStored compares the claims shown with the members'
// records: one per record stating a country, with its confidence and as
// many sources as the store has for it.
func checkClaimsAreStored(t *testing.T, e *env, a actorJSON) {
	t.Helper()
	ctx := context.Background()
	want := 0
	for _, id := range a.Members {
		o, err := e.db.Object(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if o.Actor == nil || (o.Actor.Country == "" && o.Actor.StateSponsor == "") {
			continue
		}
		want++
		srcs, err := e.db.ObjectSources(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(a.Claims, func(c claimJSON) bool { return c.Record == id })
		if i < 0 {
			t.Errorf("no claim shown for %s (%s)", id, o.Actor.Country)
			continue
		}
		if got := a.Claims[i]; got.Country != o.Actor.Country || got.Confidence != o.Confidence || len(got.Sources) != len(srcs) {
			t.Errorf("claim of %s: %+v; stored %s, confidence %d, %d sources", id, got, o.Actor.Country, o.Confidence, len(srcs))
		}
	}
	if want == 0 || len(a.Claims) != want {
		t.Errorf("%d claims shown, %d records state a country", len(a.Claims), want)
	}
}
