package taxii

import (
	"net/http"

	"github.com/whodunit-project/whodunit/internal/apikey"
)

type discoveryDoc struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default"`
	APIRoots    []string `json:"api_roots"`
}

func (s *Server) discovery(w http.ResponseWriter, r *request) {
	root := baseURL(r.Request) + "/" + s.cfg.APIRoot + "/"
	writeJSON(w, http.StatusOK, discoveryDoc{Title: s.cfg.Title, Description: s.cfg.Description,
		Contact: s.cfg.Contact, Default: root, APIRoots: []string{root}})
}

// baseURL is the scheme and host the client reached the server at.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type apiRootDoc struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

func (s *Server) apiRoot(w http.ResponseWriter, r *request) {
	writeJSON(w, http.StatusOK, apiRootDoc{Title: s.cfg.Title, Description: s.cfg.Description,
		Versions: []string{MediaTAXII}, MaxContentLength: s.cfg.MaxBody})
}

type collectionDoc struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`
}

// access is what key r may do with c.
func access(r *request, c Collection) (read, write bool) {
	read = apikey.CanRead(r.key, c.ID, c.Alias)
	write = c.Writable() && apikey.CanWrite(r.key, c.ID, c.Alias)
	return read, write
}

func describe(r *request, c Collection) collectionDoc {
	read, write := access(r, c)
	return collectionDoc{ID: c.ID, Title: c.Title, Description: c.Description, Alias: c.Alias,
		CanRead: read, CanWrite: write, MediaTypes: []string{MediaSTIX}}
}

// collections lists the collections the key may read or write.
func (s *Server) collections(w http.ResponseWriter, r *request) {
	var docs []collectionDoc
	for _, c := range s.cols {
		if d := describe(r, c); d.CanRead || d.CanWrite {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Collections []collectionDoc `json:"collections"`
	}{docs})
}

func (s *Server) collection(w http.ResponseWriter, r *request) {
	c, ok := s.collectionFor(w, r, needAny)
	if ok {
		writeJSON(w, http.StatusOK, describe(r, c))
	}
}

// need is the access a handler needs to a collection.
type need int

const (
	needAny need = iota // read or write: the collection resource
	needRead
	needWrite
)

// collectionFor resolves the {col} of the path: 404 when there is no such
// collection, 403 when the key lacks the access the handler needs.
func (s *Server) collectionFor(w http.ResponseWriter, r *request, n need) (Collection, bool) {
	c, ok := s.find(r.PathValue("col"))
	if !ok {
		writeError(w, http.StatusNotFound, "no such collection", "")
		return Collection{}, false
	}
	canRead, canWrite := access(r, c)
	allowed := n == needRead && canRead || n == needWrite && canWrite || n == needAny && (canRead || canWrite)
	if !allowed {
		what := map[need]string{needAny: "use", needRead: "read", needWrite: "write to"}[n]
		writeError(w, http.StatusForbidden, "forbidden", "this key may not "+what+" collection "+c.Alias)
		return Collection{}, false
	}
	return c, true
}
