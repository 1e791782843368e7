package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/taxii"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

const shared = "../../../shared/data"

// serverStore is a store with every role the server needs.
type serverStore interface {
	taxii.Store
	store.AuditLog
	store.FindingWriter
	ObjectSources(ctx context.Context, id string) ([]intel.Source, error)
	Count(ctx context.Context, objType string) (int, error)
	Close() error
}

// fixture is a TAXII server over a real store holding real intelligence,
// with keys of every kind.
type fixture struct {
	t    testing.TB
	db   serverStore
	srv  *taxii.Server
	keys map[string]string // name -> key text
	ids  map[string]string // name -> key ID
}

func openSQLite(t testing.TB) serverStore {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newFixture(t testing.TB, db serverStore, cfg taxii.Config) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, keys: map[string]string{}, ids: map[string]string{}}
	f.key("amber", "amber", false, false, []string{"*"}, []string{"inbox"})
	f.key("green", "green", false, false, []string{"intel", "findings"}, nil)
	f.key("clear", "clear", false, false, []string{"*"}, nil)
	f.key("internal", "amber+strict", true, false, []string{"*"}, []string{"*"})
	f.key("writer", "amber", false, false, nil, []string{"inbox"})
	f.key("admin", "amber", false, true, []string{"*"}, []string{"*"})
	return f.instance(cfg)
}

// instance is another server over f's store (a restart, or a second
// instance), with f's keys.
func (f *fixture) instance(cfg taxii.Config) *fixture {
	f.t.Helper()
	if cfg.CursorKey == nil {
		key, err := taxii.CursorKeyFromStore(context.Background(), f.db, time.Now())
		if err != nil {
			f.t.Fatal(err)
		}
		cfg.CursorKey = key
	}
	srv, err := taxii.New(f.db, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	g := *f
	g.srv = srv
	return &g
}

func (f *fixture) key(name, max string, internal, admin bool, read, write []string) {
	c, err := tlp.ParseCeiling(max, internal)
	if err != nil {
		f.t.Fatal(err)
	}
	rec, text, err := apikey.New(name, c, admin, read, write, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.PutKey(context.Background(), rec); err != nil {
		f.t.Fatal(err)
	}
	f.keys[name], f.ids[name] = text, rec.ID
}

// importFile imports a file of intelligence as `intel import` does.
func (f *fixture) importFile(path, source string) {
	f.t.Helper()
	if _, err := os.Stat(path); err != nil && strings.HasPrefix(path, shared) {
		f.t.Skipf("shared data absent: %v", err)
	}
	opt := intel.DefaultOptions()
	opt.Source = source
	res, err := hunt.Import(context.Background(), f.db, hunt.ImportOptions{Paths: []string{path}, Labels: opt})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			f.t.Fatal(r.Err)
		}
	}
}

// importJSON imports STIX text.
func (f *fixture) importJSON(name, doc string) {
	f.t.Helper()
	p := filepath.Join(f.t.TempDir(), name)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.importFile(p, name)
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", r.code, err, r.body)
	}
	return m
}

// do sends a request as key (a key name of the fixture, or "" for none).
func (f *fixture) do(method, key, target string, body []byte, hdr ...string) response {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header.Set("Accept", taxii.MediaTAXII)
	if body != nil {
		req.Header.Set("Content-Type", taxii.MediaTAXII)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+f.keys[key])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return response{code: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func (f *fixture) get(key, target string, hdr ...string) response {
	return f.do(http.MethodGet, key, target, nil, hdr...)
}

// envelope is a TAXII envelope as a client reads it.
type envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

func (f *fixture) envelope(key, target string) (envelope, response) {
	f.t.Helper()
	r := f.get(key, target)
	if r.code != http.StatusOK {
		f.t.Fatalf("GET %s as %s: %d %s", target, key, r.code, r.body)
	}
	var e envelope
	if err := json.Unmarshal(r.body, &e); err != nil {
		f.t.Fatalf("GET %s: %v\n%s", target, err, r.body)
	}
	return e, r
}

// all pages through target with limit and returns every object's
// id and version (modified).
func (f *fixture) all(key, target string, limit int) []stixHead {
	f.t.Helper()
	var out []stixHead
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	next := ""
	for page := 0; ; page++ {
		u := fmt.Sprintf("%s%slimit=%d", target, sep, limit)
		if next != "" {
			u += "&next=" + next
		}
		e, _ := f.envelope(key, u)
		if len(e.Objects) > limit {
			f.t.Fatalf("page %d: %d objects, limit %d", page, len(e.Objects), limit)
		}
		for _, raw := range e.Objects {
			out = append(out, head(f.t, raw))
		}
		if !e.More {
			return out
		}
		if e.Next == "" {
			f.t.Fatal("more without next")
		}
		next = e.Next
		if page > 100000 {
			f.t.Fatal("paging does not end")
		}
	}
}

type stixHead struct {
	ID, Type, Modified string
	Markings           []string `json:"object_marking_refs"`
}

func head(t testing.TB, raw json.RawMessage) stixHead {
	var h stixHead
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("object is not JSON: %v: %s", err, raw)
	}
	return h
}

const (
	root    = "/whodunit/"
	intelC  = root + "collections/intel/"
	inboxC  = root + "collections/inbox/"
	findC   = root + "collections/findings/"
	tlpRed  = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
	tlpAmbS = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	tlpAmb  = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	tlpGrn  = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlpClr  = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
)

// markedIndicators is a bundle with one indicator per TLP level (and one
// unmarked), ids ending in the level's digit.
func markedIndicators() string {
	var objs []string
	for i, m := range []string{"", tlpClr, tlpGrn, tlpAmb, tlpAmbS, tlpRed} {
		refs := ""
		if m != "" {
			refs = fmt.Sprintf(`,"object_marking_refs":[%q]`, m)
		}
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-00000000000%d",`+
			`"created":"2024-01-0%dT00:00:00.000Z","modified":"2024-01-0%dT00:00:00.000Z","pattern":"[domain-name:value = 'level%d.example']",`+
			`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s}`, i, i+1, i+1, i, refs))
	}
	return `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[` + strings.Join(objs, ",") + `]}`
}

func markedID(i int) string {
	return fmt.Sprintf("indicator--00000000-0000-4000-8000-00000000000%d", i)
}

// with is f reporting to t (a fuzz target's input).
func (f *fixture) with(t testing.TB) *fixture {
	g := *f
	g.t = t
	return &g
}

func decodeEnvelope(t testing.TB, body []byte) envelope {
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%v: %.200s", err, body)
	}
	return e
}
