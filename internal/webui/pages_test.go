package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// The overview's figures are the stored analysis's: campaigns in order,
// sightings, victims, attributed campaigns and the detections above the
// threshold in the store.
func TestOverviewFiguresEqualStoredAnalysis(t *testing.T) {
	checkOverviewFigures(t, newEnv(t, webui.Config{}))
}

func checkOverviewFigures(t *testing.T, e *env) {
	key := e.key("analyst", "amber", false)
	doc := e.doc()
	if len(doc.Campaigns) < 2 {
		t.Fatalf("the demo stored %d campaigns; want several", len(doc.Campaigns))
	}
	wantSightings, wantNamed := 0, 0
	victims := map[string]bool{}
	var ids []string
	for _, c := range doc.Campaigns {
		ids = append(ids, c.ID)
		wantSightings += c.Sightings
		if c.Attribution.Named {
			wantNamed++
		}
		for _, v := range c.Victims {
			victims[v] = true
		}
	}
	wantDet := storedAbove(t, e)
	code, body, _ := e.get(key, "/")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d", code)
	}
	page := parse(t, body)
	for id, want := range map[string]int{"count-campaigns": len(doc.Campaigns), "count-sightings": wantSightings,
		"count-victims": len(victims), "count-attributed": wantNamed, "count-detections": wantDet} {
		if got := byID(page, id); got != strconv.Itoa(want) {
			t.Errorf("%s: page shows %q, the stored analysis has %d", id, got, want)
		}
	}
	rows := find(page, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-id") != "" })
	var shown []string
	for i, r := range rows {
		shown = append(shown, attr(r, "data-id"))
		c := doc.Campaigns[i]
		if !strings.Contains(text(r), fmt.Sprintf("%.0f%%", 100*c.Attribution.Likelihood)) || !strings.Contains(text(r), c.Attribution.Estimate) {
			t.Errorf("row %s: %q lacks the likelihood %.3f or estimate %q", c.ID, text(r), c.Attribution.Likelihood, c.Attribution.Estimate)
		}
	}
	if !slices.Equal(shown, ids) {
		t.Errorf("rows %v, stored campaigns %v", shown, ids)
	}
	var api struct {
		Counts    struct{ Campaigns, Sightings, Victims, Detections int }
		Campaigns []struct {
			ID         string
			Actor      string
			Likelihood float64
			Victims    int
		}
	}
	if code := e.getJSON(key, "/api/v1/overview", &api); code != http.StatusOK {
		t.Fatalf("API overview: %d", code)
	}
	if api.Counts.Campaigns != len(doc.Campaigns) || api.Counts.Sightings != wantSightings || api.Counts.Victims != len(victims) || api.Counts.Detections != wantDet {
		t.Errorf("API counts %+v", api.Counts)
	}
	for i, c := range api.Campaigns {
		d := doc.Campaigns[i]
		if c.ID != d.ID || c.Likelihood != d.Attribution.Likelihood || c.Victims != len(d.Victims) || (c.Actor != "") != d.Attribution.Named {
			t.Errorf("API campaign %d: %+v, stored %s %v %d", i, c, d.ID, d.Attribution.Likelihood, len(d.Victims))
		}
	}
}

func storedAbove(t testing.TB, e *env) int {
	n := 0
	th := behavior.DefaultConfig().Threshold
	err := e.db.Detections(context.Background(), func(d *behavior.Detection) error {
		if !d.Suppressed && d.Score >= th {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Every campaign page shows its stored assessment, one matrix row per
// evidence item and, in the cells, the records the item cites with their
// raw text.
func TestCampaignPageShowsStoredAssessment(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	for _, c := range e.doc().Campaigns {
		code, body, _ := e.get(key, "/campaigns/"+url.PathEscape(c.ID))
		if code != http.StatusOK {
			t.Fatalf("%s: %d", c.ID, code)
		}
		page := parse(t, body)
		a := c.Attribution
		checks := map[string]string{"campaign-id": c.ID, "estimate": a.Estimate, "confidence": a.Confidence,
			"sighting-count": strconv.Itoa(c.Sightings), "victim-count": strconv.Itoa(len(c.Victims)), "actor": a.Leading}
		if a.Named {
			checks["actor"] = a.Actor
		}
		for id, want := range checks {
			if got := byID(page, id); got != want {
				t.Errorf("%s #%s: %q, stored %q", c.ID, id, got, want)
			}
		}
		rows := find(page, func(n *html.Node) bool { return n.Data == "tr" && strings.HasPrefix(attr(n, "id"), "e-") })
		if len(rows) != len(a.Evidence) {
			t.Errorf("%s: %d matrix rows, %d evidence items", c.ID, len(rows), len(a.Evidence))
		}
		checkCitedRecords(t, c, page)
		checkSensitivityAndTechniques(t, c, page)
	}
}

// checkSensitivityAndTechniques reads the two tables back against the
// stored assessment: one row per sensitivity item with its effect, one
// per observed technique with its counts.
func checkSensitivityAndTechniques(t *testing.T, c report.Campaign, page *html.Node) {
	sens := sectionRows(page, "sensitivity")
	want := report.SensitivityRows(&c.Attribution)
	if len(sens) != len(want) {
		t.Errorf("%s: %d sensitivity rows, stored %d", c.ID, len(sens), len(want))
	}
	for i := 0; i < len(sens) && i < len(want); i++ {
		if got := text(sens[i]); got != want[i].Evidence+want[i].Effect {
			t.Errorf("%s: sensitivity row %d %q, want %q / %q", c.ID, i, got, want[i].Evidence, want[i].Effect)
		}
	}
	techs := sectionRows(page, "techniques")
	if len(techs) != len(c.Techniques) {
		t.Errorf("%s: %d technique rows, stored %d", c.ID, len(techs), len(c.Techniques))
	}
	for i := 0; i < len(techs) && i < len(c.Techniques); i++ {
		tc := c.Techniques[i]
		known := map[bool]string{true: "yes", false: "—"}[tc.KnownUse]
		if got, w := text(techs[i]), tc.ID+tc.Name+tc.How+strconv.Itoa(tc.Detections)+strconv.Itoa(tc.Hosts)+known; got != w {
			t.Errorf("%s: technique row %d %q, want %q", c.ID, i, got, w)
		}
	}
}

// sectionRows are the body rows of the table in the section with id.
func sectionRows(page *html.Node, id string) []*html.Node {
	secs := find(page, func(n *html.Node) bool { return n.Data == "section" && attr(n, "id") == id })
	if len(secs) != 1 {
		return nil
	}
	return find(secs[0], func(n *html.Node) bool { return n.Data == "tr" && n.Parent != nil && n.Parent.Data == "tbody" })
}

// checkCitedRecords counts the records in the matrix cells against the
// evidence of the hypotheses shown, and finds each record's raw text.
func checkCitedRecords(t *testing.T, c report.Campaign, page *html.Node) {
	shown := map[string]bool{}
	for i, h := range c.Attribution.Hypotheses {
		if i < report.MaxMatrixColumns {
			shown[h.ID] = true
		}
	}
	var want []string
	for _, e := range c.Attribution.Evidence {
		if shown[e.SupportsID] {
			for _, s := range e.Sightings {
				want = append(want, s.Record)
			}
		}
	}
	items := find(page, func(n *html.Node) bool {
		return n.Data == "li" && n.Parent != nil && attr(n.Parent, "class") == "records"
	})
	if len(items) != len(want) {
		t.Errorf("%s: %d records in the matrix, the evidence cites %d", c.ID, len(items), len(want))
		return
	}
	for i, li := range items {
		if want[i] != "" && !strings.Contains(text(li), want[i]) {
			t.Errorf("%s: record %d lacks its raw text %.60q", c.ID, i, want[i])
		}
	}
}

// The triage list is the store's detections, sorted, filtered and paged
// as asked.
func TestDetectionsTriage(t *testing.T) {
	e := newEnv(t, webui.Config{PageSize: 5})
	key := e.key("analyst", "amber", false)
	var all []behavior.Detection
	if err := e.db.Detections(context.Background(), func(d *behavior.Detection) error { all = append(all, *d); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(all, func(a, b behavior.Detection) int {
		if a.Score != b.Score {
			return map[bool]int{true: -1, false: 1}[a.Score > b.Score]
		}
		return strings.Compare(a.ID, b.ID)
	})
	type answer struct {
		Total, Pages int
		Items        []behavior.Detection
	}
	var got answer
	if code := e.getJSON(key, "/api/v1/detections?all=true&page=2", &got); code != http.StatusOK {
		t.Fatalf("detections: %d", code)
	}
	if got.Total != len(all) || got.Pages != (len(all)+4)/5 {
		t.Fatalf("total %d pages %d, store has %d", got.Total, got.Pages, len(all))
	}
	if len(all) > 5 {
		for i, d := range got.Items {
			if d.ID != all[5+i].ID {
				t.Errorf("page 2 item %d: %s, want %s", i, d.ID, all[5+i].ID)
			}
		}
	}
	analytic := all[0].Analytic
	n := 0
	for _, d := range all {
		if d.Analytic == analytic {
			n++
		}
	}
	if code := e.getJSON(key, "/api/v1/detections?all=true&analytic="+analytic+"&sort=host&order=asc", &got); code != http.StatusOK || got.Total != n {
		t.Errorf("analytic %s: %d, total %d, want %d", analytic, code, got.Total, n)
	}
	for i := 1; i < len(got.Items); i++ {
		if got.Items[i].Analytic != analytic || got.Items[i-1].Src.Compare(got.Items[i].Src) > 0 {
			t.Errorf("item %d: %s %s after %s", i, got.Items[i].Analytic, got.Items[i].Src, got.Items[i-1].Src)
		}
	}
	code, body, _ := e.get(key, "/detections?all=true")
	page := parse(t, body)
	if code != http.StatusOK || byID(page, "det-total") != strconv.Itoa(len(all)) {
		t.Errorf("page: %d, total %q, want %d", code, byID(page, "det-total"), len(all))
	}
	for _, bad := range []string{"sort=evil", "page=0", "min_score=2", "all=maybe", "nope=1", "page=1&page=2"} {
		if code, _, _ := e.get(key, "/api/v1/detections?"+bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

// Every request is audited with the key that made it.
func TestRequestsAudited(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("auditor", "amber", false)
	e.get(key, "/")
	e.get(key, "/api/v1/detections")
	e.get("", "/api/v1/overview")
	var paths []string
	err := e.db.Audit(context.Background(), store.AuditQuery{}, func(a store.AuditEntry) error {
		paths = append(paths, fmt.Sprintf("%s %s %d %s", a.Method, a.Path, a.Status, a.Key))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GET / 200 auditor", "GET /api/v1/detections 200 auditor", "GET /api/v1/overview 401 "} {
		if !slices.Contains(paths, want) {
			t.Errorf("audit lacks %q: %q", want, paths)
		}
	}
}
