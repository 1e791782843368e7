package webui_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// postFiles sends files as the multipart field "file", each under the
// given name.
func (e *env) postFiles(key, path string, files map[string]string) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for name, src := range files {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			e.t.Fatal(err)
		}
		f, err := os.Open(src)
		if err != nil {
			e.t.Fatal(err)
		}
		_, err = io.Copy(w, f)
		f.Close()
		if err != nil {
			e.t.Fatal(err)
		}
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.base+path, &body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	code, b, _ := e.do(http.DefaultClient, req)
	return code, b
}

// zeekRecords counts the records of a Zeek log (lines not starting '#').
func zeekRecords(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 && sc.Bytes()[0] != '#' {
			n++
		}
	}
	return n
}

type jobDone struct {
	ID, State, Path, Analysis, Error string
	EventsScanned                    int `json:"events_scanned"`
}

func (e *env) lastEvent(key, id string) jobDone {
	e.t.Helper()
	evs := e.events(key, id)
	var j jobDone
	if last := evs[len(evs)-1]; last.name != "done" || json.Unmarshal([]byte(last.data), &j) != nil {
		e.t.Fatalf("last event %+v", last)
	}
	return j
}

// A job runs on uploaded real Zeek logs, with no jobs root configured:
// every record is scanned, the analysis is stored and the job's page
// lists its campaigns; the upload is deleted when the job ends. Two files
// of one name, no file, and a partner key are refused.
func TestJobOnUploadedFiles(t *testing.T) {
	conn := stratosphere + "/002-zeek-scenario-port-scanning/conn.log"
	if _, err := os.Stat(conn); err != nil {
		t.Skipf("real logs not available: %v", err)
	}
	e := newEnv(t, webui.Config{})
	lead, partner := e.key("lead", "amber", true), e.key("partner", "amber", false)
	if code, body := e.postFiles(partner, "/api/v1/jobs/upload", map[string]string{"conn.log": conn}); code != http.StatusForbidden {
		t.Errorf("partner upload: %d %s", code, body)
	}
	if code, body := e.postFiles(lead, "/api/v1/jobs/upload", nil); code != http.StatusBadRequest {
		t.Errorf("no file: %d %s", code, body)
	}
	if code, body := e.postFiles(lead, "/api/v1/jobs/upload", map[string]string{"a/conn.log": conn, "b/conn.log": conn}); code != http.StatusBadRequest || !strings.Contains(body, "two uploaded files") {
		t.Errorf("two files of one name: %d %s", code, body)
	}
	left := func() []string { m, _ := filepath.Glob(filepath.Join(os.TempDir(), "whodunit-job-*")); return m }
	before := left()
	code, body := e.postFiles(lead, "/api/v1/jobs/upload", map[string]string{"conn.log": conn})
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", code, body)
	}
	var started jobDone
	_ = json.Unmarshal([]byte(body), &started)
	done := e.lastEvent(lead, started.ID)
	if done.State != "done" || done.Path != "uploaded: conn.log" || done.EventsScanned != zeekRecords(t, conn) {
		t.Fatalf("job %+v; the log has %d records", done, zeekRecords(t, conn))
	}
	a, err := e.db.Analysis(context.Background(), store.LatestAnalysis)
	if err != nil || a.ID != done.Analysis {
		t.Fatalf("latest analysis %v, job's %s", err, done.Analysis)
	}
	if after := left(); len(after) > len(before) {
		t.Errorf("upload directories left: %v (before %v)", after, before)
	}
	code, page, _ := e.do(e.browser(lead), mustReq(t, http.MethodGet, e.base+"/jobs/"+done.ID, ""))
	doc := parse(t, page)
	rows := sectionRows(doc, "job-report")
	if code != http.StatusOK || byID(doc, "job-campaign-count") != strconv.Itoa(len(e.doc().Campaigns)) || len(rows) != len(e.doc().Campaigns) {
		t.Errorf("job page: %d, %q campaigns, %d rows; stored %d", code, byID(doc, "job-campaign-count"), len(rows), len(e.doc().Campaigns))
	}
}

// A running job stops on request: it ends cancelled and stores no
// analysis; cancelling a job that is over is a 409.
func TestJobCancelled(t *testing.T) {
	conn := stratosphere + "/002-zeek-scenario-port-scanning/conn.log"
	if _, err := os.Stat(conn); err != nil {
		t.Skipf("real logs not available: %v", err)
	}
	e := newEnv(t, webui.Config{})
	lead := e.key("lead", "amber", true)
	before, err := e.db.Analysis(context.Background(), store.LatestAnalysis)
	if err != nil {
		t.Fatal(err)
	}
	code, body := e.postFiles(lead, "/api/v1/jobs/upload", map[string]string{"conn.log": conn})
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", code, body)
	}
	var j jobDone
	_ = json.Unmarshal([]byte(body), &j)
	if code, body := e.post(lead, "/api/v1/jobs/"+j.ID+"/cancel", ""); code != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", code, body)
	}
	done := e.lastEvent(lead, j.ID)
	if done.State != "cancelled" || done.Analysis != "" {
		t.Errorf("after cancel: %+v", done)
	}
	if a, err := e.db.Analysis(context.Background(), store.LatestAnalysis); err != nil || a.ID != before.ID {
		t.Errorf("latest analysis %v (%v), before %s", a, err, before.ID)
	}
	if code, _ := e.post(lead, "/api/v1/jobs/"+j.ID+"/cancel", ""); code != http.StatusConflict {
		t.Errorf("cancelling a job that is over: %d", code)
	}
}
