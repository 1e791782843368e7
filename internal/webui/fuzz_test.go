package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// FuzzParseTriage: any query string is read or refused with an error,
// what is read stays in range, and the store runs it without an error.
func FuzzParseTriage(f *testing.F) {
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "f.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.PutDetections(context.Background(), storetest.TriageDetections()); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "sort=host&order=asc", "page=3&min_score=0.5&all=true", "analytic=Beacon&destination=example",
		"page=0", "min_score=NaN", "sort=x", "page=1&page=2", "%zz", "host=10.0.0.1&all=1",
		"destination=%25_%5C&sort=destination", "host=fe80::1%25eth0&page=1000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseTriage(v)
		if err != nil {
			return
		}
		if q.Page < 1 || q.MinScore < 0 || q.MinScore > 1 || (q.Order != "asc" && q.Order != "desc") {
			t.Fatalf("%q read as %+v", raw, q)
		}
		pg, err := db.DetectionsPage(context.Background(), q.storeQuery(0.5, 10))
		if err != nil || len(pg.Items) > 10 || pg.Total < len(pg.Items) {
			t.Fatalf("%q as %+v: %d of %d, %v", raw, q, len(pg.Items), pg.Total, err)
		}
		_ = q.link(nil)
	})
}

// FuzzDecodeVerdict: any body is one verdict or an error, never a panic.
func FuzzDecodeVerdict(f *testing.F) {
	for _, s := range []string{`{"kind":"detection","target":"d1","decision":"false_positive","note":"x"}`, `{}`, `[`,
		`{"kind":"sighting"} {}`, `{"extra":1}`, `{"note":"\ud800"}`, strings.Repeat(`{"a":`, 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		in, err := decodeVerdict(strings.NewReader(body))
		if err != nil {
			return
		}
		_ = store.CheckVerdict(store.Verdict{Kind: in.Kind, Target: in.Target, Decision: in.Decision, Note: in.Note, By: "fuzz"})
	})
}

// fuzzUI is the handler over an empty store with one key.
func fuzzUI(f *testing.F) (*UI, string) {
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "f.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	k, text, err := apikey.New("fuzz", tlp.Ceiling{Max: tlp.Amber, Internal: true}, false, []string{"*"}, nil, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	if err := db.PutKey(context.Background(), k); err != nil {
		f.Fatal(err)
	}
	u, err := New(db, Config{})
	if err != nil {
		f.Fatal(err)
	}
	return u, text
}

// FuzzLoginForm: whatever a login POST holds, the answer is a redirect
// or a refusal, and a session starts only for the right key with the
// form's own token.
func FuzzLoginForm(f *testing.F) {
	u, key := fuzzUI(f)
	f.Add("csrf=t&key="+url.QueryEscape(key), "t")
	f.Add("csrf=t&key=whodunit_0000000000000000_AAAA", "t")
	f.Add("csrf=a&key=x", "b")
	f.Add("key=%zz&csrf=", "")
	f.Add(strings.Repeat("k=v&", 200), "x")
	f.Fuzz(func(t *testing.T, form, cookie string) {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" && (&http.Cookie{Name: loginCookie, Value: cookie}).Valid() == nil {
			req.AddCookie(&http.Cookie{Name: loginCookie, Value: cookie})
		}
		w := httptest.NewRecorder()
		u.ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther && w.Code != http.StatusForbidden {
			t.Fatalf("%q: status %d", form, w.Code)
		}
		opened := strings.Contains(w.Header().Get("Set-Cookie"), sessionCookie+"=") && !strings.Contains(w.Header().Get("Set-Cookie"), sessionCookie+"=;")
		v, _ := url.ParseQuery(form)
		if opened && (strings.TrimSpace(v.Get("key")) != key || v.Get("csrf") != cookie) {
			t.Fatalf("%q with cookie %q opened a session", form, cookie)
		}
	})
}

// FuzzAPIRequests: any query on the detections list, any search and any
// verdict body
// are answered with a status the API documents, never a panic or a 500.
func FuzzAPIRequests(f *testing.F) {
	u, key := fuzzUI(f)
	f.Add("sort=score&page=2", `{"kind":"detection","target":"x","decision":"confirmed"}`)
	f.Add("all=true&min_score=0.9", `{"kind":"sighting","target":"k","decision":"false_positive","note":"n"}`)
	f.Add("page=-1", `{`)
	f.Add("%", `{"kind":"detection","target":"","decision":"note"}`)
	f.Add("host=10.0.0.1", `{"kind":"actor_join","target":"intrusion-set--a intrusion-set--b","decision":"undone"}`)
	f.Add("", `{"kind":"actor_join","target":"b a","decision":"joined"}`)
	f.Fuzz(func(t *testing.T, query, body string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/detections", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		u.ServeHTTP(w, req)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("GET ?%q: %d %s", query, w.Code, w.Body)
		}
		req = httptest.NewRequest(http.MethodGet, "/api/v1/search", nil)
		req.URL.RawQuery = "q=" + url.QueryEscape(query)
		req.Header.Set("Authorization", "Bearer "+key)
		w = httptest.NewRecorder()
		u.ServeHTTP(w, req)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("search %q: %d %s", query, w.Code, w.Body)
		}
		req = httptest.NewRequest(http.MethodPost, "/api/v1/verdicts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		w = httptest.NewRecorder()
		u.ServeHTTP(w, req)
		if w.Code != http.StatusCreated && w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound && w.Code != http.StatusConflict {
			t.Fatalf("POST %q: %d %s", body, w.Code, w.Body)
		}
	})
}

// FuzzDecodeJob: any body is read as one job request or refused, and a
// path it names never resolves outside the jobs root.
func FuzzDecodeJob(f *testing.F) {
	for _, s := range []string{`{"path":"a"}`, `{"path":"../.."}`, `{"path":"/etc"}`, `{"path":"a/../../b"}`, `{}`, `{"path":1}`, `{"path":"a"}{}`, ``, `{"path":"a\u0000b"}`} {
		f.Add(s)
	}
	root := f.TempDir()
	js, err := newJobs(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		in, err := decodeJob(strings.NewReader(body))
		if err != nil {
			return
		}
		abs, _, err := js.resolve(in.Path)
		if err == nil && !within(js.root, abs) {
			t.Fatalf("%q resolved to %s outside %s", in.Path, abs, js.root)
		}
	})
}

// FuzzUploadForm: any multipart body is read or refused without panic,
// and an accepted file name is a plain base name.
func FuzzUploadForm(f *testing.F) {
	const boundary = "xYzZY"
	for _, s := range []string{
		"--xYzZY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.dat\"\r\n\r\nexample.com\r\n--xYzZY--\r\n",
		"--xYzZY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\n\r\nx\r\n--xYzZY--\r\n",
		"--xYzZY\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--xYzZY--\r\n",
		"--xYzZY\r\n\r\n", "", "--xYzZY--",
	} {
		f.Add(s)
	}
	u := &UI{cfg: Config{MaxUpload: 1 << 16}}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/intel/import", strings.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		if err := u.parseUpload(r); err != nil {
			return
		}
		fl, hdr, err := uploadedFile(r)
		if err != nil {
			return
		}
		defer fl.Close()
		if hdr.Filename != filepath.Base(hdr.Filename) || strings.ContainsAny(hdr.Filename, "/\\") || hdr.Filename == ".." {
			t.Fatalf("file name %q accepted", hdr.Filename)
		}
	})
}

// FuzzUploadJobFiles: any multipart body is refused or kept as files
// directly inside the job's directory, each under a plain base name.
func FuzzUploadJobFiles(f *testing.F) {
	const boundary = "xYzZY"
	part := func(name, body string) string {
		return "--xYzZY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n\r\n" + body + "\r\n"
	}
	for _, s := range []string{
		part("conn.log", "#fields\tts\n1\n") + part("dns.log", "x") + "--xYzZY--\r\n",
		part("../../x.log", "x") + "--xYzZY--\r\n",
		part("a.log", "1") + part("b/a.log", "2") + "--xYzZY--\r\n",
		part("..", "x") + "--xYzZY--\r\n", "", "--xYzZY--",
	} {
		f.Add(s)
	}
	u := &UI{cfg: Config{MaxUpload: 1 << 16}}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/jobs/upload", strings.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		if err := u.parseUpload(r); err != nil || r.MultipartForm == nil {
			return
		}
		dir := t.TempDir()
		names, err := keepUploads(r, dir)
		if err != nil {
			return
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != len(names) {
			t.Fatalf("%d files kept, %d named %v", len(entries), len(names), names)
		}
		for _, n := range names {
			if n != filepath.Base(n) || strings.ContainsAny(n, "/\\") || n == ".." || n == "." {
				t.Fatalf("file name %q kept", n)
			}
		}
	})
}
