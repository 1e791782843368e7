package taxii

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
)

// postSource is the source name objects POSTed with key k are imported
// under: the key's name, so provenance says who sent them.
func postSource(k store.APIKey) string { return k.Name }

// posted is one object of a POSTed envelope.
type posted struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Modified string `json:"modified"`
	Created  string `json:"created"`
	raw      json.RawMessage
}

func (p posted) version() string {
	if p.Modified != "" {
		return p.Modified
	}
	return p.Created
}

func (s *Server) postObjects(w http.ResponseWriter, r *request) {
	c, ok := s.collectionFor(w, r, needWrite)
	if !ok {
		return
	}
	if !contentTypeOK(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported media type", "send "+MediaTAXII)
		return
	}
	objs, err := s.readEnvelope(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "request too large", fmt.Sprintf("the API root takes at most %d bytes", s.cfg.MaxBody))
			return
		}
		s.fail(w, err)
		return
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects += len(objs)
	}
	st, err := s.importEnvelope(r.Context(), c, r.key, objs)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

// readEnvelope reads a bounded body, refuses deep nesting and returns
// the envelope's objects.
func (s *Server) readEnvelope(w http.ResponseWriter, r *request) ([]posted, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		return nil, err
	}
	if err := checkDepth(body, s.cfg.MaxDepth); err != nil {
		return nil, err
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, badf("body is not a TAXII envelope: %v", err)
	}
	objs := make([]posted, 0, len(env.Objects))
	for i, raw := range env.Objects {
		var p posted
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, badf("objects[%d]: not a STIX object: %v", i, err)
		}
		p.raw = raw
		objs = append(objs, p)
	}
	return objs, nil
}

// checkDepth refuses JSON nested deeper than max, before any decoder
// recurses into it.
func checkDepth(body []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for i, b := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			if depth++; depth > max {
				return badf("offset %d: JSON nested deeper than %d", i, max)
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

// recordingTarget passes imports through to the store, naming the source
// after the request and noting every object the import stored.
type recordingTarget struct {
	hunt.ImportTarget
	path   string
	stored map[string]bool // id + "\x00" + version
}

func (t *recordingTarget) Import(ctx context.Context, src intel.Source, fn func(intel.Sink) error) (store.ImportResult, error) {
	src.Path = t.path
	return t.ImportTarget.Import(ctx, src, func(sink intel.Sink) error {
		return fn(&recordingSink{Sink: sink, t: t})
	})
}

type recordingSink struct {
	intel.Sink
	t *recordingTarget
}

func (r *recordingSink) Put(ctx context.Context, o *intel.Object) error {
	if err := r.Sink.Put(ctx, o); err != nil {
		return err
	}
	r.t.stored[o.ID+"\x00"+versionOf(o)] = true
	return nil
}

func versionOf(o *intel.Object) string {
	t := o.Modified
	if t.IsZero() {
		t = o.Created
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// importEnvelope imports the objects as one STIX file through the same
// path `intel import` takes (one transaction, warninglist flagging), and
// returns the status resource, stored for StatusLifetime.
func (s *Server) importEnvelope(ctx context.Context, c Collection, key store.APIKey, objs []posted) (statusDoc, error) {
	now := s.cfg.Now().UTC()
	st := statusDoc{ID: newUUID(), Status: "complete", RequestTimestamp: now.Format(timeFormat), TotalCount: len(objs)}
	target := &recordingTarget{ImportTarget: s.st, path: "taxii:" + c.Alias + "/" + st.ID, stored: map[string]bool{}}
	var res intel.FileResult
	if len(objs) > 0 {
		var err error
		if res, err = s.importObjects(ctx, target, key, objs); err != nil {
			return st, err
		}
	}
	st.count(objs, target.stored, res, c)
	doc, err := json.Marshal(storedStatus{Owner: key.ID, Status: st})
	if err == nil {
		err = s.st.PutStatus(ctx, st.ID, doc, now.Add(StatusLifetime))
	}
	return st, err
}

// importObjects writes the objects as a bare STIX array to a temporary
// file and imports it.
func (s *Server) importObjects(ctx context.Context, target *recordingTarget, key store.APIKey, objs []posted) (intel.FileResult, error) {
	f, err := os.CreateTemp("", "whodunit-taxii-*.json")
	if err != nil {
		return intel.FileResult{}, err
	}
	defer os.Remove(f.Name())
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, o := range objs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(o.raw)
	}
	buf.WriteByte(']')
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return intel.FileResult{}, err
	}
	opt := intel.DefaultOptions()
	opt.Source = postSource(key)
	results, err := hunt.Import(ctx, target, hunt.ImportOptions{Paths: []string{f.Name()}, Format: "stix", Labels: opt, Log: s.cfg.Log})
	if err != nil || len(results) != 1 {
		return intel.FileResult{}, fmt.Errorf("importing a posted envelope: %w (%d results)", err, len(results))
	}
	return results[0], nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
