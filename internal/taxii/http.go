package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
)

// Media types of TAXII 2.1 and STIX 2.1.
const (
	MediaTAXII = "application/taxii+json;version=2.1"
	MediaSTIX  = "application/stix+json;version=2.1"
)

// request is what every handler gets: the authenticated key.
type request struct {
	*http.Request
	key store.APIKey
}

// handle registers h behind media-type negotiation and authentication.
func (s *Server) handle(pattern string, h func(http.ResponseWriter, *request)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		key, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if !acceptable(r.Header.Values("Accept")) {
			writeError(w, http.StatusNotAcceptable, "not acceptable", "this server answers with "+MediaTAXII)
			return
		}
		h(w, &request{Request: r, key: key})
	})
}

// authenticate answers 401 unless the request carries a valid key, and
// notes the key's name for the audit trail.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (store.APIKey, bool) {
	presented := apikey.FromRequest(r)
	if presented == "" {
		unauthorized(w)
		return store.APIKey{}, false
	}
	key, err := apikey.Authenticate(r.Context(), s.st, presented)
	if err != nil {
		if !errors.Is(err, apikey.ErrUnauthorized) {
			s.cfg.Log.Error("taxii: authenticating", "err", err)
			writeError(w, http.StatusInternalServerError, "internal error", "")
			return store.APIKey{}, false
		}
		unauthorized(w)
		return store.APIKey{}, false
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Key = key.Name
	}
	return key, true
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="whodunit", Basic realm="whodunit"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", "a valid API key is required (Authorization: Bearer KEY, or Basic with the key as password)")
}

// acceptable reports whether an Accept header admits the TAXII 2.1 media
// type (or the STIX one, which the objects endpoints answer as TAXII
// envelopes). No Accept header admits anything.
func acceptable(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if acceptsOne(part) {
				return true
			}
		}
	}
	return false
}

func acceptsOne(part string) bool {
	mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
	if err != nil {
		return false
	}
	if q, ok := params["q"]; ok && strings.TrimLeft(q, "0.") == "" {
		return false // q=0 refuses
	}
	switch mt {
	case "*/*", "application/*":
		return true
	case "application/taxii+json", "application/stix+json":
		v, ok := params["version"]
		return !ok || v == "2.1"
	}
	return false
}

// contentTypeOK reports whether a POST body is declared as TAXII 2.1.
func contentTypeOK(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	v, ok := params["version"]
	return !ok || v == "2.1"
}

// taxiiError is the TAXII 2.1 error message resource.
type taxiiError struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

func writeError(w http.ResponseWriter, status int, title, description string) {
	writeJSON(w, status, taxiiError{Title: title, Description: description, HTTPStatus: strconv.Itoa(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString(`{"title":"internal error","http_status":"500"}`)
	}
	writeBody(w, status, buf.Bytes())
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", MediaTAXII)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
