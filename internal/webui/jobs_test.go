package webui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

const stratosphere = "/work/shared/data/telemetry/zeek/stratosphere"

func jobsEnv(t *testing.T) *env {
	if _, err := os.Stat(stratosphere + "/002-zeek-scenario-port-scanning"); err != nil {
		t.Skipf("real logs not available: %v", err)
	}
	return newEnv(t, webui.Config{JobsRoot: stratosphere})
}

type sseEvent struct{ name, data string }

// events reads a job's SSE stream to its end.
func (e *env) events(key, id string) []sseEvent {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+"/api/v1/jobs/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		e.t.Fatalf("events: %d %s", resp.StatusCode, ct)
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		case line == "" && cur.name != "":
			out = append(out, cur)
			cur = sseEvent{}
		}
	}
	return out
}

// A job on a real log directory runs to its end; its stream carries
// progress events and a done event, and the new analysis is the latest.
func TestJobRunsWithProgress(t *testing.T) {
	e := jobsEnv(t)
	key := e.key("lead", "amber", true)
	before, err := e.db.Analysis(context.Background(), store.LatestAnalysis)
	if err != nil {
		t.Fatal(err)
	}
	code, body := e.post(key, "/api/v1/jobs", `{"path":"002-zeek-scenario-port-scanning"}`)
	if code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	var j struct{ ID string }
	_ = json.Unmarshal([]byte(body), &j)
	if code, body := e.post(key, "/api/v1/jobs", `{"path":"004-zeek-scenario-ssh"}`); code != http.StatusConflict {
		t.Errorf("second job while one runs: %d %s", code, body)
	}
	evs := e.events(key, j.ID)
	stages := map[string]bool{}
	for _, ev := range evs[:len(evs)-1] {
		var p struct{ Stage string }
		if ev.name != "progress" || json.Unmarshal([]byte(ev.data), &p) != nil {
			t.Fatalf("event %+v", ev)
		}
		stages[p.Stage] = true
	}
	last := evs[len(evs)-1]
	var done struct{ State, Analysis, Error string }
	if last.name != "done" || json.Unmarshal([]byte(last.data), &done) != nil || done.State != "done" {
		t.Fatalf("last event %s %s", last.name, last.data)
	}
	for _, s := range []string{"compile", "scan", "analyse"} {
		if !stages[s] {
			t.Errorf("no %s progress in %v", s, stages)
		}
	}
	a, err := e.db.Analysis(context.Background(), store.LatestAnalysis)
	if err != nil || a.ID != done.Analysis || a.ID == before.ID {
		t.Fatalf("latest analysis %q, job's %q, before %q (%v)", a.ID, done.Analysis, before.ID, err)
	}
	browser := e.browser(key)
	code, page, _ := e.do(browser, mustReq(t, http.MethodGet, e.base+"/jobs/"+j.ID, ""))
	if code != http.StatusOK || byID(parse(t, page), "job-state") != "done" || !strings.Contains(page, done.Analysis) {
		t.Errorf("job page: %d state %q", code, byID(parse(t, page), "job-state"))
	}
}

// Paths outside the root, by "..", absolute or through a link, are
// refused; partner keys and forms without the token cannot start jobs.
func TestJobRefusals(t *testing.T) {
	e := jobsEnv(t)
	lead := e.key("lead", "amber", true)
	green := e.key("partner", "green", false)
	link := t.TempDir() + "/link"
	for _, p := range []string{"../../intel/apt1", "/etc", "/work/shared/data/intel", stratosphere + "/../wrccdc-2018", link} {
		if p == link {
			_ = os.Symlink("/etc", link)
		}
		code, body := e.post(lead, "/api/v1/jobs", `{"path":`+strconvQuote(p)+`}`)
		if code != http.StatusForbidden {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	for _, b := range []string{`{"path":"nope-not-here"}`, `{"path":""}`, `{"path":"x","more":1}`, `{"path":"x"} {}`} {
		if code, body := e.post(lead, "/api/v1/jobs", b); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", b, code, body)
		}
	}
	if code, _ := e.post(green, "/api/v1/jobs", `{"path":"004-zeek-scenario-ssh"}`); code != http.StatusForbidden {
		t.Errorf("green partner key: %d", code)
	}
	browser := e.browser(lead)
	form := url.Values{"path": {"004-zeek-scenario-ssh"}}
	if code, _, _ := e.do(browser, mustReq(t, http.MethodPost, e.base+"/jobs", form.Encode())); code != http.StatusForbidden {
		t.Errorf("job form without CSRF: %d", code)
	}
	var list struct{ Jobs []any }
	if e.getJSON(lead, "/api/v1/jobs", &list); len(list.Jobs) != 0 {
		t.Errorf("refused requests started %d jobs", len(list.Jobs))
	}
	off := newEnv(t, webui.Config{})
	k := off.key("lead", "amber", true)
	if code, _ := off.post(k, "/api/v1/jobs", `{"path":"x"}`); code != http.StatusForbidden {
		t.Errorf("jobs without --jobs-root: %d", code)
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
