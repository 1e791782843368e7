package taxii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// query is a parsed TAXII filter: the store query, the page size and the
// store position to continue after.
type query struct {
	store.PageQuery
	limit int
	after store.Cursor
	scope string // what a next token is bound to: endpoint, collection, filters
}

// badRequest is an error the client caused: answered 400 with its text.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// filters are the match fields each endpoint takes.
var (
	objectsFilters  = []string{"id", "type", "version", "spec_version"}
	objectFilters   = []string{"version", "spec_version"}
	versionsFilters = []string{"spec_version"}
)

// parseQuery reads the filters of an endpoint. scope names the endpoint
// and collection so that a next token works only where it was issued.
func (s *Server) parseQuery(v url.Values, allowed []string, scope string) (query, error) {
	q := query{limit: s.cfg.MaxPage}
	if err := q.parseMatch(v, allowed); err != nil {
		return q, err
	}
	if a := v.Get("added_after"); a != "" {
		t, err := time.Parse(time.RFC3339Nano, a)
		if err != nil {
			return q, badf("added_after %q is not a timestamp (RFC 3339, e.g. 2024-01-02T03:04:05.000Z)", a)
		}
		q.AddedAfter = t.UTC()
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return q, badf("limit %q: want a positive integer", l)
		}
		q.limit = min(n, s.cfg.MaxPage)
	}
	q.scope = scope + "\x00" + q.canonical()
	if n := v.Get("next"); n != "" {
		c, err := s.openNext(n, q.scope)
		if err != nil {
			return q, err
		}
		q.after = c
	}
	return q, nil
}

func (q *query) parseMatch(v url.Values, allowed []string) error {
	for key := range v {
		name, ok := strings.CutPrefix(key, "match[")
		if !ok {
			continue
		}
		name, ok = strings.CutSuffix(name, "]")
		if !ok || !slices.Contains(allowed, name) {
			return badf("%s: this endpoint filters on match[%s]", key, strings.Join(allowed, "], match["))
		}
		var vals []string
		for _, raw := range v[key] {
			for _, one := range strings.Split(raw, ",") {
				if one = strings.TrimSpace(one); one != "" {
					vals = append(vals, one)
				}
			}
		}
		if err := q.setMatch(name, vals); err != nil {
			return err
		}
	}
	return nil
}

func (q *query) setMatch(name string, vals []string) error {
	switch name {
	case "id":
		q.IDs = vals
	case "type":
		q.Types = vals
	case "spec_version":
		q.SpecVersions = vals
	case "version":
		for _, v := range vals {
			if v == "first" || v == "last" || v == "all" {
				continue
			}
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return badf("match[version] %q: want first, last, all or a timestamp", v)
			}
		}
		q.Versions = vals
	}
	return nil
}

// canonical is the filter in one order, for binding next tokens.
func (q *query) canonical() string {
	parts := []string{q.AddedAfter.Format(time.RFC3339Nano)}
	for _, f := range [][]string{q.IDs, q.Types, q.Versions, q.SpecVersions} {
		f = slices.Clone(f)
		slices.Sort(f)
		parts = append(parts, strings.Join(f, ","))
	}
	return strings.Join(parts, "\x00")
}

// errBadNext is the one answer to every unusable next token: which part
// failed is not said.
var errBadNext = &badRequest{"next: not a token this server issued for this request"}

// sealNext turns a store position into a next token bound to scope.
func (s *Server) sealNext(c store.Cursor, scope string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c)) + "." + base64.RawURLEncoding.EncodeToString(s.mac(c, scope))
}

// openNext checks a next token's signature and scope.
func (s *Server) openNext(token, scope string) (store.Cursor, error) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return "", errBadNext
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(body)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(raw) == 0 {
		return "", errBadNext
	}
	c := store.Cursor(raw)
	if !hmac.Equal(mac, s.mac(c, scope)) {
		return "", errBadNext
	}
	return c, nil
}

func (s *Server) mac(c store.Cursor, scope string) []byte {
	h := hmac.New(sha256.New, s.cfg.CursorKey)
	h.Write([]byte("whodunit taxii next v1\x00"))
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(c))
	return h.Sum(nil)[:20]
}

// isBadCursor reports a store that refused a position: a token signed by
// an old key would be caught by the signature, so this is a store moved.
func isBadCursor(err error) bool { return errors.Is(err, store.ErrBadCursor) }
