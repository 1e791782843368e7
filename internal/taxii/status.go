package taxii

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// statusDoc is the TAXII 2.1 status resource.
type statusDoc struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	RequestTimestamp string          `json:"request_timestamp,omitempty"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []statusDetails `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []statusDetails `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
	Pendings         []statusDetails `json:"pendings,omitempty"`
}

type statusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// storedStatus is what the store keeps: the status and whose it is.
type storedStatus struct {
	Owner  string    `json:"owner"` // the key's ID
	Status statusDoc `json:"status"`
}

// count fills successes and failures: an object succeeded when the import
// stored it (or stored the same content before).
func (st *statusDoc) count(objs []posted, stored map[string]bool, res intel.FileResult, c Collection) {
	reasons := recordReasons(objs, res)
	for i, o := range objs {
		d := statusDetails{ID: o.ID, Version: o.version()}
		ok := res.Err == nil && (res.Already || stored[o.ID+"\x00"+normTime(o.version())])
		if ok {
			d.Message = "added to collection " + c.Alias
			st.Successes = append(st.Successes, d)
			continue
		}
		d.Message = reasons[i]
		if d.Message == "" {
			d.Message = "not stored: not a valid STIX 2.1 object"
		}
		st.Failures = append(st.Failures, d)
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
}

// recordReasons maps the importer's record errors, which name byte
// offsets of the array it read, to the objects.
func recordReasons(objs []posted, res intel.FileResult) map[int]string {
	out := map[int]string{}
	if res.Err != nil {
		msg := "the envelope was refused as a whole: " + strings.ReplaceAll(res.Err.Error(), res.Path+": ", "")
		msg = strings.ReplaceAll(msg, res.Path, "envelope")
		for i := range objs {
			out[i] = msg
		}
		return out
	}
	starts := make([]int64, len(objs))
	pos := int64(1)
	for i, o := range objs {
		starts[i] = pos
		pos += int64(len(o.raw)) + 1
	}
	for _, e := range res.Stats.Errors {
		for i, s := range starts {
			if e.Offset >= s-1 && e.Offset <= s {
				out[i] = "not stored: " + e.Err.Error()
			}
		}
	}
	return out
}

func normTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// status answers a status resource to the key that created it (and to
// admin keys); to every other key it does not exist.
func (s *Server) status(w http.ResponseWriter, r *request) {
	id := strings.ToLower(r.PathValue("status"))
	if !isUUID(id) {
		writeError(w, http.StatusNotFound, "no such status", "")
		return
	}
	doc, err := s.st.Status(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such status", "")
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	var st storedStatus
	if err := json.Unmarshal(doc, &st); err != nil || (st.Owner != r.key.ID && !r.key.Admin) {
		writeError(w, http.StatusNotFound, "no such status", "")
		return
	}
	writeJSON(w, http.StatusOK, st.Status)
}
