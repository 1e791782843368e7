package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// entry is one object version a response holds.
type entry struct {
	id      string
	raw     json.RawMessage
	added   time.Time
	version time.Time
	after   store.Cursor // the store position after a sighting (findings)
}

// result is one page of entries the key may see.
type result struct {
	entries []entry
	next    store.Cursor
	more    bool
}

// timeFormat writes added and version times exactly as stored, so a
// client passing them back (added_after, match[version]) names the same
// instant.
const timeFormat = time.RFC3339Nano

func (s *Server) getObjects(w http.ResponseWriter, r *request) {
	s.serveEntries(w, r, "objects", objectsFilters, "", s.writeEnvelope)
}

func (s *Server) manifest(w http.ResponseWriter, r *request) {
	s.serveEntries(w, r, "manifest", objectsFilters, "", writeManifest)
}

func (s *Server) getObject(w http.ResponseWriter, r *request) {
	id, ok := objectID(w, r)
	if ok {
		s.serveEntries(w, r, "object", objectFilters, id, s.writeEnvelope)
	}
}

func (s *Server) versions(w http.ResponseWriter, r *request) {
	id, ok := objectID(w, r)
	if ok {
		s.serveEntries(w, r, "versions", versionsFilters, id, writeVersions)
	}
}

// objectID is the {obj} of the path when it is a STIX identifier.
func objectID(w http.ResponseWriter, r *request) (string, bool) {
	id := r.PathValue("obj")
	typ, uuid, ok := strings.Cut(id, "--")
	if !ok || typ == "" || !isUUID(strings.ToLower(uuid)) || !validSegment(typ) {
		writeError(w, http.StatusNotFound, "no such object", "")
		return "", false
	}
	return id, true
}

// serveEntries answers one of the endpoints that page object versions.
// For the object endpoints (id set) an empty first page is a 404, whether
// the object is absent or above the key's ceiling: the two look the same.
func (s *Server) serveEntries(w http.ResponseWriter, r *request, endpoint string, filters []string, id string,
	render func(http.ResponseWriter, *request, result, string)) {
	c, ok := s.collectionFor(w, r, needRead)
	if !ok {
		return
	}
	q, err := s.parseQuery(r.URL.Query(), filters, endpoint+"\x00"+c.ID+"\x00"+id)
	if err != nil {
		s.fail(w, err)
		return
	}
	if id != "" {
		q.IDs = []string{id}
		if endpoint == "versions" {
			q.Versions = []string{"all"}
		}
	}
	res, err := s.read(r.Context(), c, r.key, q)
	if err != nil {
		s.fail(w, err)
		return
	}
	if id != "" && q.after == "" && len(res.entries) == 0 {
		writeError(w, http.StatusNotFound, "no such object", "")
		return
	}
	if n := server.NoteFrom(r.Context()); n != nil {
		n.Objects += len(res.entries)
	}
	next := ""
	if res.more {
		next = s.sealNext(res.next, q.scope)
	}
	if len(res.entries) > 0 {
		w.Header().Set("X-TAXII-Date-Added-First", res.entries[0].added.UTC().Format(timeFormat))
		w.Header().Set("X-TAXII-Date-Added-Last", res.entries[len(res.entries)-1].added.UTC().Format(timeFormat))
	}
	render(w, r, res, next)
}

// fail answers an error: 400 with its text when the client caused it,
// else 500 without details (logged).
func (s *Server) fail(w http.ResponseWriter, err error) {
	var bad *badRequest
	switch {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, "bad request", bad.msg)
	case isBadCursor(err):
		writeError(w, http.StatusBadRequest, "bad request", errBadNext.msg)
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "request cancelled", "")
	default:
		s.cfg.Log.Error("taxii: request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error", "")
	}
}

// read gets one page of what c holds for key.
func (s *Server) read(ctx context.Context, c Collection, key store.APIKey, q query) (result, error) {
	if c.Kind == KindFindings {
		return s.readFindings(ctx, key, q)
	}
	pq, empty, err := s.collectionQuery(ctx, c, q.PageQuery)
	if err != nil || empty {
		return result{next: q.after}, err
	}
	return s.readObjects(ctx, key, pq, q.after, q.limit)
}

// collectionQuery narrows a client's query to what collection c holds;
// empty reports a query nothing can match.
func (s *Server) collectionQuery(ctx context.Context, c Collection, pq store.PageQuery) (store.PageQuery, bool, error) {
	pq.Actor, pq.Sources = c.Actor, c.Sources
	if len(c.Types) > 0 {
		if len(pq.Types) == 0 {
			pq.Types = c.Types
		} else {
			pq.Types = slices.DeleteFunc(slices.Clone(pq.Types), func(t string) bool { return !slices.Contains(c.Types, t) })
			if len(pq.Types) == 0 {
				return pq, true, nil
			}
		}
	}
	if c.Kind == KindInbox {
		names, err := s.posters(ctx)
		if err != nil || len(names) == 0 {
			return pq, true, err
		}
		pq.Sources = names
	}
	return pq, false, nil
}

// posters are the source names POSTed objects are imported under: the
// names of the keys.
func (s *Server) posters(ctx context.Context) ([]string, error) {
	keys, err := s.st.Keys(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, k := range keys {
		if !slices.Contains(names, postSource(k)) {
			names = append(names, postSource(k))
		}
	}
	return names, nil
}

// readObjects reads store pages until limit visible versions are found,
// the store has no more, or maxReads pages were read. A page cut short
// continues just after the last version taken.
func (s *Server) readObjects(ctx context.Context, key store.APIKey, pq store.PageQuery, after store.Cursor, limit int) (result, error) {
	res := result{next: after}
	ceiling := apikey.Ceiling(key)
	for range maxReads {
		pg, err := s.st.ObjectsPage(ctx, pq, res.next, s.readSize(limit))
		if err != nil {
			return res, err
		}
		res.next, res.more = pg.Next, pg.More
		for i, it := range pg.Items {
			if s.visible(ceiling, it.Object) {
				if raw, ok := stixOf(it); ok {
					res.entries = append(res.entries, entry{id: it.Object.ID, raw: raw, added: it.Added, version: it.Version})
				}
			}
			if len(res.entries) == limit && i < len(pg.Items)-1 {
				res.next = it.After
				res.more = true
				return res, nil
			}
		}
		if !pg.More || len(res.entries) >= limit {
			break
		}
	}
	return res, nil
}

// readSize is how many versions to ask the store for to fill a page of
// limit: a small page is read in larger pieces, so that the TLP filter
// does not leave it empty after maxReads tiny reads.
func (s *Server) readSize(limit int) int { return max(limit, min(100, s.cfg.MaxPage)) }

// visible is the TLP rule of every way out: the object's level, or the
// default when it has none, must be within the key's ceiling. Objects no
// source wrote (the actor a list was attributed to, the relationships a
// list implies) are served too, rendered from the model: without them a
// partner would get indicators whose attribution points nowhere.
func (s *Server) visible(c tlp.Ceiling, o *intel.Object) bool {
	return o != nil && c.Allows(tlp.Of(o, s.cfg.DefaultTLP))
}

// writeEnvelope writes entries as a TAXII envelope, the raw STIX of each
// version copied as stored.
func (s *Server) writeEnvelope(w http.ResponseWriter, _ *request, res result, next string) {
	var buf bytes.Buffer
	buf.Grow(256 + 1024*len(res.entries))
	buf.WriteString(`{"more":`)
	buf.WriteString(boolText(res.more))
	if next != "" {
		buf.WriteString(`,"next":`)
		writeString(&buf, next)
	}
	if len(res.entries) > 0 {
		buf.WriteString(`,"objects":[`)
		for i, e := range res.entries {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(bytes.TrimSpace(e.raw))
		}
		buf.WriteByte(']')
	}
	buf.WriteString("}\n")
	writeBody(w, http.StatusOK, buf.Bytes())
}

type manifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

func writeManifest(w http.ResponseWriter, _ *request, res result, next string) {
	doc := struct {
		More    bool             `json:"more"`
		Next    string           `json:"next,omitempty"`
		Objects []manifestRecord `json:"objects,omitempty"`
	}{More: res.more, Next: next}
	for _, e := range res.entries {
		doc.Objects = append(doc.Objects, manifestRecord{ID: e.id, DateAdded: e.added.UTC().Format(timeFormat),
			Version: e.version.UTC().Format(timeFormat), MediaType: MediaSTIX})
	}
	writeJSON(w, http.StatusOK, doc)
}

func writeVersions(w http.ResponseWriter, _ *request, res result, next string) {
	doc := struct {
		More     bool     `json:"more"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}{More: res.more, Next: next}
	for _, e := range res.entries {
		doc.Versions = append(doc.Versions, e.version.UTC().Format(timeFormat))
	}
	writeJSON(w, http.StatusOK, doc)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}
