package webui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
)

// Job states.
const (
	jobRunning = "running"
	jobDone    = "done"
	jobFailed  = "failed"
	// jobCancelled: stopped on request. Sightings stored before the stop
	// stay (each is whole, keyed as a scan keys it); no analysis is stored.
	jobCancelled = "cancelled"
)

// Bounds of what is kept in memory: finished jobs and events per job.
const (
	jobHistory   = 20
	maxJobEvents = 500
)

var (
	errJobsOff     = errors.New("jobs on server-side paths are off: start the server with --jobs-root DIR, or upload the files")
	errOutsideRoot = errors.New("the path is outside the jobs root")
	errJobRunning  = errors.New("a job is running; one at a time")
	errNoJob       = errors.New("no such job")
	errJobOver     = errors.New("the job is not running")
)

// jobEvent is one progress step of a job, as the SSE stream sends it.
type jobEvent struct {
	Seq    int    `json:"seq"`
	Stage  string `json:"stage"`
	Detail string `json:"detail,omitempty"`
	Done   int    `json:"done"`
	Total  int    `json:"total"`
	TookMS int64  `json:"took_ms,omitempty"`
}

// job is one scan-and-analyse run on a server-side path.
type job struct {
	mu                    sync.Mutex
	ID, Path, By, State   string // Path is relative to the jobs root
	Started, Finished     time.Time
	Events                []jobEvent
	Dropped               int
	Analysis, Error       string
	Scanned, Sightings    int
	Detections, Campaigns int
	changed               chan struct{} // closed and replaced at every change
	cancel                context.CancelFunc
}

// snapshot copies the job for an answer, without its lock.
func (j *job) snapshot() jobView {
	j.mu.Lock()
	defer j.mu.Unlock()
	return jobView{ID: j.ID, Path: j.Path, By: j.By, State: j.State, Started: j.Started, Finished: j.Finished,
		Events: append([]jobEvent{}, j.Events...), Dropped: j.Dropped, Analysis: j.Analysis, Error: j.Error,
		EventsScanned: j.Scanned, Sightings: j.Sightings, Detections: j.Detections, Campaigns: j.Campaigns}
}

// jobView is a job as the pages and the API show it.
type jobView struct {
	ID            string     `json:"id"`
	Path          string     `json:"path"`
	By            string     `json:"by"`
	State         string     `json:"state"`
	Started       time.Time  `json:"started"`
	Finished      time.Time  `json:"finished,omitzero"`
	Events        []jobEvent `json:"events"`
	Dropped       int        `json:"dropped_events,omitempty"`
	Analysis      string     `json:"analysis,omitempty"`
	Error         string     `json:"error,omitempty"`
	EventsScanned int        `json:"events_scanned"`
	Sightings     int        `json:"new_sightings"`
	Detections    int        `json:"detections"`
	Campaigns     int        `json:"campaigns"`
}

// since returns the events after seq, whether the job is over, and a
// channel closed at the next change.
func (j *job) since(seq int) ([]jobEvent, bool, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []jobEvent
	for _, e := range j.Events {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out, j.State != jobRunning, j.changed
}

func (j *job) update(fn func()) {
	j.mu.Lock()
	fn()
	close(j.changed)
	j.changed = make(chan struct{})
	j.mu.Unlock()
}

func (j *job) progress(p hunt.Progress) {
	j.update(func() {
		seq := len(j.Events) + j.Dropped + 1
		if len(j.Events) >= maxJobEvents { // keep the first and the latest
			j.Events = append(j.Events[:1], j.Events[2:]...)
			j.Dropped++
		}
		j.Events = append(j.Events, jobEvent{Seq: seq, Stage: string(p.Stage), Detail: p.Detail, Done: p.Done, Total: p.Total, TookMS: p.Took.Milliseconds()})
	})
}

// jobs runs one job at a time and keeps the latest jobHistory.
type jobs struct {
	root string // "" when jobs are off; else absolute, symlinks resolved
	mu   sync.Mutex
	list []*job // oldest first
	next int
}

func newJobs(root string) (*jobs, error) {
	if root == "" {
		return &jobs{}, nil
	}
	abs, err := filepath.Abs(root)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("webui: jobs root: %w", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("webui: jobs root %s is not a directory", root)
	}
	return &jobs{root: abs}, nil
}

// resolve maps a requested path (relative to the root, or absolute) to a
// path under the root, refusing anything that leaves it, by "..", by an
// absolute path elsewhere or through a symbolic link.
func (js *jobs) resolve(p string) (abs, rel string, err error) {
	if js.root == "" {
		return "", "", errJobsOff
	}
	if p == "" || strings.ContainsRune(p, 0) || len(p) > 4096 {
		return "", "", badRequest{errors.New("field \"path\": want a path under the jobs root")}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(js.root, p)
	}
	if !within(js.root, filepath.Clean(p)) {
		return "", "", errOutsideRoot
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", "", badRequest{fmt.Errorf("field \"path\": %s does not exist under the jobs root", filepath.Base(p))}
	}
	if !within(js.root, real) {
		return "", "", errOutsideRoot
	}
	rel, _ = filepath.Rel(js.root, real)
	return real, rel, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// start registers a job unless one is running.
func (js *jobs) start(rel, by string, now time.Time, cancel context.CancelFunc) (*job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.list {
		if j.snapshot().State == jobRunning {
			return nil, errJobRunning
		}
	}
	js.next++
	j := &job{ID: fmt.Sprintf("J-%d", js.next), Path: rel, By: by, State: jobRunning, Started: now, Events: []jobEvent{}, changed: make(chan struct{}), cancel: cancel}
	js.list = append(js.list, j)
	if len(js.list) > jobHistory {
		js.list = js.list[len(js.list)-jobHistory:]
	}
	return j, nil
}

func (js *jobs) get(id string) (*job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.list {
		if j.ID == id {
			return j, nil
		}
	}
	return nil, errNoJob
}

// all lists the kept jobs, newest first.
func (js *jobs) all() []jobView {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := []jobView{}
	for i := len(js.list) - 1; i >= 0; i-- {
		out = append(out, js.list[i].snapshot())
	}
	return out
}

// stop cancels a running job.
func (j *job) stop() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.State != jobRunning {
		return errJobOver
	}
	j.cancel()
	return nil
}

// run scans the path, analyses the store and stores the analysis, as
// `whodunit hunt` does after its import; done runs at the end whatever
// happened (an upload's directory is removed).
func (u *UI) run(ctx context.Context, j *job, path string, done func()) {
	err := u.scanAndAnalyse(ctx, j, path)
	done() // before the job shows as over: what waits for it sees the upload gone
	j.update(func() {
		j.Finished = u.cfg.Now()
		j.State = jobDone
		switch {
		case err != nil && ctx.Err() != nil:
			j.State, j.Error = jobCancelled, "cancelled"
		case err != nil:
			j.State, j.Error = jobFailed, err.Error()
		}
	})
	if err != nil {
		u.cfg.Log.Warn("webui: job failed", "job", j.ID, "err", err)
	}
}

// scanAndAnalyse scans path, unless it is "" (re-analysing the store,
// as `whodunit attribute` does, after verdicts or joins changed), then
// analyses the store and stores the analysis.
func (u *UI) scanAndAnalyse(ctx context.Context, j *job, path string) error {
	res := &hunt.ScanResult{}
	opt := hunt.AnalyseOptions{Tool: "whodunit serve", Progress: j.progress}
	version := ""
	if path != "" {
		var err error
		if res, err = hunt.Scan(ctx, u.st, hunt.ScanOptions{Paths: []string{path}, Progress: j.progress, Log: u.cfg.Log}); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		opt.Summary.Events, opt.Summary.Bytes = res.Summary.Events, res.Summary.DataBytes
		version = res.Snapshot.Version()
	}
	data, err := hunt.Analyse(ctx, u.st, opt)
	if err != nil {
		return fmt.Errorf("analyse: %w", err)
	}
	a, err := hunt.SaveAnalysis(ctx, u.st, data.Doc, version)
	if err != nil {
		return fmt.Errorf("storing the analysis: %w", err)
	}
	j.update(func() {
		j.Analysis, j.Scanned, j.Sightings = a.ID, int(res.Summary.Events), res.NewSightings
		j.Detections, j.Campaigns = len(res.Detections), len(data.Doc.Campaigns)
	})
	return nil
}
