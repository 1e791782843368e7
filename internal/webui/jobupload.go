package webui

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/whodunit-project/whodunit/internal/server"
)

// maxUploadFiles bounds the files of one upload job.
const maxUploadFiles = 100

// startUploadJob keeps the uploaded files (multipart field "file", one
// or more, MaxUpload in all) in a private directory under their own
// names and runs a job on it; the directory is removed when the job
// ends. Unlike a path job it needs no jobs root.
func (u *UI) startUploadJob(r *http.Request, c *caller) (*job, error) {
	if !mayImport(c) {
		return nil, errMayNotDecide
	}
	if err := u.parseUpload(r); err != nil {
		return nil, badRequest{err}
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return nil, badRequest{errors.New("send the telemetry as multipart/form-data, field \"file\" (one or more)")}
	}
	files := r.MultipartForm.File["file"]
	if len(files) > maxUploadFiles {
		return nil, badRequest{fmt.Errorf("at most %d files in one job (got %d)", maxUploadFiles, len(files))}
	}
	dir, err := os.MkdirTemp("", "whodunit-job-")
	if err != nil {
		return nil, err
	}
	names, err := keepUploads(r, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return u.launch(r, c, "uploaded: "+strings.Join(names, ", "), dir, func() { os.RemoveAll(dir) })
}

// keepUploads writes each uploaded file into dir under its base name;
// two files of one name are refused (they would overwrite each other).
func keepUploads(r *http.Request, dir string) ([]string, error) {
	var names []string
	for _, hdr := range r.MultipartForm.File["file"] {
		name, err := uploadName(hdr.Filename)
		if err != nil {
			return nil, badRequest{err}
		}
		f, err := hdr.Open()
		if err != nil {
			return nil, err
		}
		err = writeFile(filepath.Join(dir, name), f)
		f.Close()
		if errors.Is(err, os.ErrExist) {
			return nil, badRequest{fmt.Errorf("two uploaded files are named %q", name)}
		}
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// jobStarter starts (or stops) a job for a request.
type jobStarter func(*http.Request, *caller) (*job, error)

// jobAnswer answers the API with the job started: 202 and where it is.
func (u *UI) jobAnswer(start jobStarter) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) {
		j, err := start(r, c)
		if err != nil {
			u.failJSON(w, err)
			return
		}
		w.Header().Set("Location", "/api/v1/jobs/"+j.ID)
		writeJSON(w, http.StatusAccepted, j.snapshot())
	}
}

// jobRedirect answers a form by showing the job's page.
func (u *UI) jobRedirect(start jobStarter) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) {
		j, err := start(r, c)
		if err != nil {
			u.failPage(w, err)
			return
		}
		http.Redirect(w, r, "/jobs/"+j.ID, http.StatusSeeOther)
	}
}

// stopJob cancels a running job: 409 when it is over.
func (u *UI) stopJob(r *http.Request, c *caller) (*job, error) {
	j, err := u.visibleJob(r, c)
	if err != nil {
		return nil, err
	}
	if err := j.stop(); err != nil {
		return nil, err
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects = 1
	}
	return j, nil
}

// analysisJob re-analyses the store without scanning: what verdicts and
// undone joins changed then shows in the campaigns. No jobs root needed.
const analysisJob = "analysis of the store"

// AnalysisOnly reports whether the job re-analyses without a scan.
func (v jobView) AnalysisOnly() bool { return v.Path == analysisJob }

func (u *UI) startAnalysisJob(r *http.Request, c *caller) (*job, error) {
	if !mayImport(c) {
		return nil, errMayNotDecide
	}
	return u.launch(r, c, analysisJob, "", func() {})
}
