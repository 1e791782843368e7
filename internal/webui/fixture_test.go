package webui_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/whodunit-project/whodunit/internal/apikey"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/tlp"
	"github.com/whodunit-project/whodunit/internal/webui"
)

var demo struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// demoDB runs the demo (a real hunt on examples/) once per test binary
// and returns its database; skipped when the examples or the go command
// are absent, and in -short mode.
func demoDB(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("demo hunt skipped in -short mode")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if _, err := os.Stat(filepath.Join(root, "examples", "intel")); err != nil {
		t.Skipf("examples not available: %v", err)
	}
	goExe, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run the demo")
	}
	demo.once.Do(func() {
		demo.dir, demo.err = os.MkdirTemp("", "whodunit-webui-demo-")
		if demo.err != nil {
			return
		}
		cmd := exec.Command(goExe, "run", "./cmd/whodunit", "-q", "demo", "--out", demo.dir)
		cmd.Dir = root
		demo.out, demo.err = cmd.CombinedOutput()
	})
	if demo.err != nil {
		t.Fatalf("demo: %v\n%s", demo.err, demo.out)
	}
	return filepath.Join(demo.dir, "whodunit.db")
}

// env is a real server (the audit middleware, loopback) in front of a
// copy of the demo's store.
type env struct {
	t    testing.TB
	db   testStore
	ui   *webui.UI
	base string
	keys map[string]string // name → key text
}

// testStore is every role the tests use of a store.
type testStore interface {
	store.ServerStore
	store.VerdictStore
}

func newEnv(t testing.TB, cfg webui.Config) *env {
	t.Helper()
	return newEnvOn(t, cfg, demoCopy(t))
}

// newEnvOn serves db (closed when the test ends).
func newEnvOn(t testing.TB, cfg webui.Config, db testStore) *env {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, keys: map[string]string{}}
	var err error
	e.ui, err = webui.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.base = e.serve(e.ui)
	return e
}

// demoCopy opens a copy of the demo's SQLite store.
func demoCopy(t testing.TB) *sqlite.Store {
	t.Helper()
	src := demoDB(t)
	dst := filepath.Join(t.TempDir(), "whodunit.db")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func (e *env) serve(h http.Handler) string {
	addrs := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.Config{Listen: "127.0.0.1:0", Handler: h, Audit: e.db,
			Ready: func(a net.Addr) { addrs <- a.String() }})
	}()
	select {
	case a := <-addrs:
		e.t.Cleanup(func() { cancel(); <-done })
		return "http://" + a
	case err := <-done:
		cancel()
		e.t.Fatal(err)
	}
	return ""
}

// key makes and stores a key with this ceiling.
func (e *env) key(name, ceiling string, internal bool) string {
	e.t.Helper()
	l, err := tlp.Parse(ceiling)
	if err != nil {
		e.t.Fatal(err)
	}
	k, text, err := apikey.New(name, tlp.Ceiling{Max: l, Internal: internal}, false, []string{"*"}, nil, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.PutKey(context.Background(), k); err != nil {
		e.t.Fatal(err)
	}
	e.keys[name] = text
	return text
}

// doc is the stored latest analysis document.
func (e *env) doc() *report.Document {
	e.t.Helper()
	a, err := e.db.Analysis(context.Background(), store.LatestAnalysis)
	if err != nil {
		e.t.Fatal(err)
	}
	var d report.Document
	if err := json.Unmarshal(a.Document, &d); err != nil {
		e.t.Fatal(err)
	}
	return &d
}

// get asks with a Bearer key and returns the status and body.
func (e *env) get(key, path string) (int, string, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.base+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return e.do(http.DefaultClient, req)
}

func (e *env) do(c *http.Client, req *http.Request) (int, string, http.Header) {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (e *env) getJSON(key, path string, v any) int {
	e.t.Helper()
	code, body, _ := e.get(key, path)
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			e.t.Fatalf("%s: %v\n%s", path, err, body)
		}
	}
	return code
}

// browser is a client with a cookie jar that does not follow redirects,
// signed in through the login form as a browser is.
func (e *env) browser(key string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code, body, _ := e.do(c, mustReq(e.t, http.MethodGet, e.base+"/login", ""))
	if code != http.StatusOK {
		e.t.Fatalf("login form: %d", code)
	}
	form := url.Values{"csrf": {attrOf(parse(e.t, body), "input", "name", "csrf", "value")}, "key": {key}}
	code, _, h := e.do(c, mustReq(e.t, http.MethodPost, e.base+"/login", form.Encode()))
	if code != http.StatusSeeOther || h.Get("Location") != "/" {
		e.t.Fatalf("login: %d → %s", code, h.Get("Location"))
	}
	return c
}

func mustReq(t testing.TB, method, u, form string) *http.Request {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

func parse(t testing.TB, body string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// find returns every element for which match holds, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.ElementNode && match(x) {
			out = append(out, x)
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// attrOf is attribute want of the first tag element whose key is val.
func attrOf(doc *html.Node, tag, key, val, want string) string {
	for _, n := range find(doc, func(x *html.Node) bool { return x.Data == tag && attr(x, key) == val }) {
		return attr(n, want)
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// byID is the text of the element with this id; "" when there is none.
func byID(doc *html.Node, id string) string {
	for _, n := range find(doc, func(x *html.Node) bool { return attr(x, "id") == id }) {
		return text(n)
	}
	return ""
}
