package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
)

// maxJobBody bounds a job request.
const maxJobBody = 8 << 10

// jobInput is what starts a job.
type jobInput struct {
	Path string `json:"path"`
}

// decodeJob reads the JSON body of a job request: one object, known
// fields only, nothing after it.
func decodeJob(r io.Reader) (jobInput, error) {
	var in jobInput
	dec := json.NewDecoder(io.LimitReader(r, maxJobBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("job body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return in, errors.New("job body: data after the JSON object")
	}
	return in, nil
}

// startJob checks who asks and the path, then runs the job in the
// background, detached from the request.
func (u *UI) startJob(r *http.Request, c *caller, in jobInput) (*job, error) {
	if !mayImport(c) {
		return nil, errMayNotDecide
	}
	abs, rel, err := u.jobs.resolve(in.Path)
	if err != nil {
		return nil, err
	}
	return u.launch(r, c, rel, abs, func() {})
}

// launch registers a job on abs, shown as what, and runs it in the
// background, detached from the request but cancellable by a stop.
func (u *UI) launch(r *http.Request, c *caller, what, abs string, done func()) (*job, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	j, err := u.jobs.start(what, c.key.Name, u.cfg.Now(), cancel)
	if err != nil {
		cancel()
		done()
		return nil, err
	}
	go u.run(ctx, j, abs, func() { cancel(); done() })
	return j, nil
}

func (u *UI) startJobAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	in, err := decodeJob(r.Body)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	j, err := u.startJob(r, c, in)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/jobs/"+j.ID)
	writeJSON(w, http.StatusAccepted, j.snapshot())
}

func (u *UI) startJobForm(w http.ResponseWriter, r *http.Request, c *caller) {
	j, err := u.startJob(r, c, jobInput{Path: r.PostFormValue("path")})
	if err != nil {
		u.failPage(w, err)
		return
	}
	http.Redirect(w, r, "/jobs/"+j.ID, http.StatusSeeOther)
}

type jobsView struct {
	layout
	Jobs      []jobView
	Root      string
	MayStart  bool // a job on a server-side path
	MayUpload bool
	MaxUpload int64 // MiB
}

func (u *UI) jobsPage(w http.ResponseWriter, r *http.Request, c *caller) {
	v := jobsView{layout: u.layout(c, "Jobs"), Root: u.jobs.root, MayStart: mayImport(c) && u.jobs.root != "",
		MayUpload: mayImport(c), MaxUpload: u.cfg.MaxUpload >> 20}
	if mayImport(c) {
		v.Jobs = u.jobs.all()
	}
	u.render(w, http.StatusOK, "jobs", v)
}

// visibleJob is the job of the path, for internal and admin keys only
// (a job names server-side paths).
func (u *UI) visibleJob(r *http.Request, c *caller) (*job, error) {
	if !mayImport(c) {
		return nil, errMayNotDecide
	}
	return u.jobs.get(r.PathValue("id"))
}

func (u *UI) jobsAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	if !mayImport(c) {
		u.failJSON(w, errMayNotDecide)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": u.jobs.all(), "jobs_root_set": u.jobs.root != ""})
}

type jobPageView struct {
	layout
	Job jobView
	// Campaigns are the finished job's analysis as the key may see it:
	// the report of the run.
	Campaigns []campaignSummary
	Latest    bool // the job's analysis is the latest, which campaign pages show
}

func (u *UI) jobPage(w http.ResponseWriter, r *http.Request, c *caller) {
	j, err := u.visibleJob(r, c)
	if err != nil {
		u.failPage(w, err)
		return
	}
	v := jobPageView{layout: u.layout(c, "Job "+j.ID), Job: j.snapshot()}
	if v.Job.State == jobRunning {
		v.Refresh = 2
	}
	if v.Job.Analysis != "" {
		if err := u.jobReport(r, c, &v); err != nil {
			u.failPage(w, err)
			return
		}
	}
	u.render(w, http.StatusOK, "job", v)
}

func (u *UI) jobAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	j, err := u.visibleJob(r, c)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, j.snapshot())
}

// jobEvents streams a job's progress as server-sent events: every
// "progress" event after Last-Event-ID, then one "done" event with the
// job as JSON, then the stream ends.
func (u *UI) jobEvents(w http.ResponseWriter, r *http.Request, c *caller) {
	j, err := u.visibleJob(r, c)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	seq, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a job outlasts the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for {
		evs, over, changed := j.since(seq)
		for _, e := range evs {
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\nevent: progress\ndata: %s\n\n", e.Seq, b)
			seq = e.Seq
		}
		if over {
			b, _ := json.Marshal(j.snapshot())
			fmt.Fprintf(w, "event: done\ndata: %s\n\n", b)
			_ = rc.Flush()
			if n := server.NoteFrom(r.Context()); n != nil {
				n.Objects = seq
			}
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-time.After(15 * time.Second):
			fmt.Fprint(w, ": still running\n\n") // keeps proxies from closing the stream
		}
	}
}

// jobReport fills the campaigns of the job's analysis that c may see.
func (u *UI) jobReport(r *http.Request, c *caller, v *jobPageView) error {
	a, err := u.analysisAs(r.Context(), c, v.Job.Analysis)
	if err != nil {
		return err
	}
	latest, err := u.st.Analysis(r.Context(), store.LatestAnalysis)
	if err != nil {
		return err
	}
	v.Latest = latest.ID == a.ID
	v.Campaigns = []campaignSummary{}
	for i := range a.Campaigns {
		v.Campaigns = append(v.Campaigns, summarise(&a.Campaigns[i]))
	}
	return nil
}
