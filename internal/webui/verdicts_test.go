package webui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

func (e *env) post(key, path, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	code, b, _ := e.do(http.DefaultClient, req)
	return code, b
}

func verdictJSON(kind, target, decision, note string) string {
	b, _ := json.Marshal(map[string]string{"kind": kind, "target": target, "decision": decision, "note": note})
	return string(b)
}

// topDetection is the stored detection of highest score above the
// threshold that a campaign counts.
func topDetection(t *testing.T, e *env) behavior.Detection {
	var best behavior.Detection
	th := behavior.DefaultConfig().Threshold
	if err := e.db.Detections(context.Background(), func(d *behavior.Detection) error {
		if !d.Suppressed && d.Score >= th && d.Score > best.Score {
			best = *d
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if best.ID == "" {
		t.Fatal("the demo stored no detection above the threshold")
	}
	return best
}

// A detection marked false positive leaves the triage list (it is
// suppressed by the verdicts' allowlist), stops counting in the next
// analysis, and its verdict is in report.json with who decided.
func TestFalsePositiveDetection(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("lead", "amber", true)
	det := topDetection(t, e)
	var before struct{ Total int }
	e.getJSON(key, "/api/v1/detections", &before)
	code, body := e.post(key, "/api/v1/verdicts", verdictJSON("detection", det.ID, "false_positive", "nightly backup"))
	if code != http.StatusCreated {
		t.Fatalf("verdict: %d %s", code, body)
	}
	var after struct {
		Total     int
		Items     []behavior.Detection
		Decisions map[string]store.Verdict
	}
	e.getJSON(key, "/api/v1/detections", &after)
	if after.Total >= before.Total {
		t.Errorf("detections above the threshold: %d before, %d after the verdict", before.Total, after.Total)
	}
	for _, d := range after.Items {
		if d.ID == det.ID {
			t.Errorf("%s still listed", det.ID)
		}
	}
	e.getJSON(key, "/api/v1/detections?all=true&destination="+url.QueryEscape(det.DstName), &after)
	found := false
	for _, d := range after.Items {
		if d.ID == det.ID {
			found = true
			if !d.Suppressed || !strings.Contains(d.SuppressedBy, hunt.VerdictAllowlistName) || !strings.Contains(d.SuppressedBy, "lead") {
				t.Errorf("suppressed %v by %q", d.Suppressed, d.SuppressedBy)
			}
			if v := after.Decisions[det.ID]; v.Decision != store.DecisionFalsePositive || v.By != "lead" || v.Note != "nightly backup" {
				t.Errorf("decision shown: %+v", v)
			}
		}
	}
	if !found {
		t.Fatalf("%s not in the list with all=true", det.ID)
	}
	data, err := hunt.Analyse(context.Background(), e.db, hunt.AnalyseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range data.Doc.Campaigns {
		for _, dd := range c.DetectionDetails {
			if dd.ID == det.ID {
				t.Errorf("campaign %s still counts %s", c.ID, det.ID)
			}
		}
	}
	if n := len(data.Doc.Verdicts); n != 1 || data.Doc.Verdicts[0].Target != det.ID || data.Doc.Verdicts[0].By != "lead" {
		t.Errorf("report.json verdicts: %+v", data.Doc.Verdicts)
	}
	// Withdrawn, it counts again.
	if code, body := e.post(key, "/api/v1/verdicts", verdictJSON("detection", det.ID, "open", "")); code != http.StatusCreated {
		t.Fatalf("reopen: %d %s", code, body)
	}
	var reopened struct{ Total int }
	e.getJSON(key, "/api/v1/detections", &reopened)
	if reopened.Total != before.Total {
		t.Errorf("after reopening: %d, before: %d", reopened.Total, before.Total)
	}
}

// A sighting marked false positive is left out of the next analysis.
func TestFalsePositiveSighting(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("lead", "amber", true)
	var target match.Sighting
	if err := e.db.Sightings(context.Background(), store.SightingQuery{Limit: 1}, func(s *match.Sighting) error { target = *s; return nil }); err != nil {
		t.Fatal(err)
	}
	first, err := hunt.Analyse(context.Background(), e.db, hunt.AnalyseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.post(key, "/api/v1/verdicts", verdictJSON("sighting", target.Key(), "false_positive", "")); code != http.StatusCreated {
		t.Fatalf("verdict: %d %s", code, body)
	}
	second, err := hunt.Analyse(context.Background(), e.db, hunt.AnalyseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Sightings) != len(first.Sightings)-1 {
		t.Errorf("sightings analysed: %d, then %d after one false positive", len(first.Sightings), len(second.Sightings))
	}
	for _, s := range second.Sightings {
		if s.Key() == target.Key() {
			t.Errorf("the false positive was analysed")
		}
	}
	var list struct{ Verdicts []store.Verdict }
	if code := e.getJSON(key, "/api/v1/verdicts?kind=sighting", &list); code != http.StatusOK || len(list.Verdicts) != 1 || list.Verdicts[0].Indicator != target.IndicatorID {
		t.Errorf("verdicts: %d %+v", code, list.Verdicts)
	}
}

// Verdicts are refused to partners' keys, for findings that do not
// exist, without the session's CSRF token, and when malformed.
func TestVerdictRefusals(t *testing.T) {
	e := newEnv(t, webui.Config{})
	lead, partner := e.key("lead", "amber", true), e.key("partner", "amber", false)
	det := topDetection(t, e)
	for _, tc := range []struct {
		key, body string
		want      int
	}{
		{partner, verdictJSON("detection", det.ID, "confirmed", ""), http.StatusForbidden},
		{lead, verdictJSON("detection", "no-such-detection", "confirmed", ""), http.StatusNotFound},
		{lead, verdictJSON("sighting", "no-such-sighting", "confirmed", ""), http.StatusNotFound},
		{lead, verdictJSON("detection", det.ID, "maybe", ""), http.StatusBadRequest},
		{lead, verdictJSON("detection", det.ID, "note", ""), http.StatusBadRequest},
		{lead, `{"kind":"detection","target":"x","decision":"confirmed","extra":1}`, http.StatusBadRequest},
		{lead, `{"kind":"detection"} {}`, http.StatusBadRequest},
		{lead, `[`, http.StatusBadRequest},
	} {
		if code, body := e.post(tc.key, "/api/v1/verdicts", tc.body); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.body, code, body, tc.want)
		}
	}
	b := e.browser(lead)
	form := url.Values{"kind": {"detection"}, "target": {det.ID}, "decision": {"confirmed"}, "back": {"/detections"}}
	if code, _, _ := e.do(b, mustReq(t, http.MethodPost, e.base+"/verdicts", form.Encode())); code != http.StatusForbidden {
		t.Errorf("form without the CSRF token: %d, want 403", code)
	}
	req := mustReq(t, http.MethodPost, e.base+"/api/v1/verdicts", verdictJSON("detection", det.ID, "confirmed", ""))
	req.Header.Set("Content-Type", "application/json")
	if code, _, _ := e.do(b, req); code != http.StatusForbidden {
		t.Errorf("API call from the session without the CSRF token: %d, want 403", code)
	}
	vs, err := e.db.Verdicts(context.Background(), store.VerdictQuery{})
	if err != nil || len(vs) != 0 {
		t.Errorf("refused verdicts were stored: %+v %v", vs, err)
	}
}
