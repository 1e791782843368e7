package taxii

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
)

// deleteFilters are the match fields of Delete An Object (TAXII 2.1 §5.7).
var deleteFilters = []string{"version", "spec_version"}

// deleteObject answers DELETE (§5.7): the object, every version of it or
// the one version match[version] names, leaves the store. Keys may delete
// from writable (inbox) collections they may write to, and only what keys
// posted there; from intel collections only admin keys may; the findings
// are not deleted. What the key cannot see is a 404, as for GET.
func (s *Server) deleteObject(w http.ResponseWriter, r *request) {
	c, ok := s.deletableCollection(w, r)
	if !ok {
		return
	}
	id, ok := objectID(w, r)
	if !ok {
		return
	}
	q, err := s.parseQuery(r.URL.Query(), deleteFilters, "delete\x00"+c.ID+"\x00"+id)
	if err != nil {
		s.fail(w, err)
		return
	}
	version, ok := s.deleteTarget(w, r, c, id, q)
	if !ok {
		return
	}
	if c.Writable() && !s.onlyPosted(w, r.Context(), id) {
		return
	}
	n, err := s.st.DeleteObject(r.Context(), id, version)
	switch {
	case errors.Is(err, store.ErrCurrentVersion):
		writeError(w, http.StatusConflict, "conflict", err.Error())
		return
	case errors.Is(err, store.ErrNotFound):
		// visible a moment ago: not stored on its own (SQLite keeps a
		// list indicator's indicates relationship in the indicator's row)
		writeError(w, http.StatusConflict, "conflict", "this object is not stored on its own (it stands for a list indicator's relationship): delete the indicator")
		return
	case err != nil:
		s.fail(w, err)
		return
	}
	if note := server.NoteFrom(r.Context()); note != nil {
		note.Objects += n
	}
	s.cfg.Log.Info("taxii: object deleted", "key", r.key.Name, "collection", c.Alias, "id", id, "versions", n)
	writeBody(w, http.StatusOK, nil)
}

// deletableCollection is the collection of the path when the key may
// delete from it.
func (s *Server) deletableCollection(w http.ResponseWriter, r *request) (Collection, bool) {
	c, ok := s.find(r.PathValue("col"))
	if !ok {
		writeError(w, http.StatusNotFound, "no such collection", "")
		return c, false
	}
	canRead, canWrite := access(r, c)
	var why string
	switch {
	case c.Kind == KindFindings:
		why = "the findings are what this server concluded; they are not deleted through TAXII"
	case c.Writable() && !canWrite:
		why = "this key may not write to collection " + c.Alias
	case c.Kind == KindIntel && !r.key.Admin:
		why = "only admin keys may delete from collection " + c.Alias
	case !canRead: // whether the object exists is for keys that may read it
		why = "this key may not read collection " + c.Alias
	}
	if why != "" {
		writeError(w, http.StatusForbidden, "forbidden", why)
		return c, false
	}
	return c, true
}

// deleteTarget resolves match[version] against the versions of id the
// collection holds for the key: zero means every version. Every version
// must be within the key's ceiling.
func (s *Server) deleteTarget(w http.ResponseWriter, r *request, c Collection, id string, q query) (time.Time, bool) {
	want := q.Versions
	q.IDs, q.Versions, q.limit = []string{id}, []string{"all"}, s.cfg.MaxPage
	res, err := s.read(r.Context(), c, r.key, q)
	if err != nil {
		s.fail(w, err)
		return time.Time{}, false
	}
	if len(res.entries) == 0 {
		writeError(w, http.StatusNotFound, "no such object", "")
		return time.Time{}, false
	}
	if !s.allVersionsVisible(r.Context(), r.key, id, len(res.entries)) {
		writeError(w, http.StatusForbidden, "forbidden", "this key may not delete every version of this object")
		return time.Time{}, false
	}
	chosen := pickVersions(res.entries, want)
	switch {
	case len(chosen) == 0:
		writeError(w, http.StatusNotFound, "no such object version", "")
	case len(chosen) == len(res.entries):
		return time.Time{}, true
	case len(chosen) > 1:
		writeError(w, http.StatusBadRequest, "bad request", "match[version]: name one version, or all")
	default:
		return chosen[0], true
	}
	return time.Time{}, false
}

// pickVersions are the versions of entries (oldest first) that the
// match[version] values name; none names them all.
func pickVersions(entries []entry, want []string) []time.Time {
	var all []time.Time
	for _, e := range entries {
		all = append(all, e.version)
	}
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	all = slices.CompactFunc(all, func(a, b time.Time) bool { return a.Equal(b) })
	if len(want) == 0 {
		return all
	}
	var out []time.Time
	for _, v := range all {
		for _, w := range want {
			t, err := time.Parse(time.RFC3339Nano, w)
			if w == "all" || w == "first" && v.Equal(all[0]) || w == "last" && v.Equal(all[len(all)-1]) || err == nil && t.Equal(v) {
				out = append(out, v)
				break
			}
		}
	}
	return out
}

// allVersionsVisible reports whether the store holds no version of id
// beyond the visible ones the collection showed (a version above the
// key's ceiling is not the key's to delete).
func (s *Server) allVersionsVisible(ctx context.Context, key store.APIKey, id string, visible int) bool {
	pg, err := s.st.ObjectsPage(ctx, store.PageQuery{IDs: []string{id}, Versions: []string{"all"}}, "", s.cfg.MaxPage)
	if err != nil || pg.More {
		return false
	}
	ceiling := apikey.Ceiling(key)
	for _, it := range pg.Items {
		if !s.visible(ceiling, it.Object) {
			return false
		}
	}
	return len(pg.Items) == visible
}

// onlyPosted refuses to delete through an inbox what another source
// than a key's POSTs asserts too: that is intelligence, for admin keys
// to delete from intel.
func (s *Server) onlyPosted(w http.ResponseWriter, ctx context.Context, id string) bool {
	srcs, err := s.st.ObjectSources(ctx, id)
	if err == nil {
		var names []string
		if names, err = s.posters(ctx); err == nil {
			for _, src := range srcs {
				if !slices.Contains(names, src.Name) {
					writeError(w, http.StatusForbidden, "forbidden", "this object is also intelligence not posted by a key: an admin key may delete it from the intel collection")
					return false
				}
			}
			return true
		}
	}
	s.fail(w, err)
	return false
}
