package webui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/tlp"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// markAmber imports a new version of a stored indicator marked
// TLP:AMBER, as a partner re-marking it would send it.
func markAmber(t *testing.T, e *env, id string) {
	t.Helper()
	o, err := e.db.Object(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(o.Raw, &m); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	amber, err := intel.TLPMarking("amber")
	if err != nil {
		t.Fatal(err)
	}
	m["object_marking_refs"] = []string{amber.ID}
	m["modified"] = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	bundle := map[string]any{"type": "bundle", "id": "bundle--6b4c8a3e-1f43-4c2a-9a8e-2d0c3b7f5e11", "objects": []any{m}}
	b, _ := json.Marshal(bundle)
	p := filepath.Join(t.TempDir(), "remarked.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := hunt.Import(context.Background(), e.db, hunt.ImportOptions{Paths: []string{p}})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("import: %v %+v", err, res)
	}
	if l := tlp.Of(mustObject(t, e, id), tlp.Green); l != tlp.Amber {
		t.Fatalf("re-marked indicator is %s", l)
	}
}

func mustObject(t *testing.T, e *env, id string) *intel.Object {
	o, err := e.db.Object(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func restsOn(c report.Campaign, id string) bool {
	if slices.Contains(c.Indicators, id) {
		return true
	}
	for _, ev := range c.Attribution.Evidence {
		if slices.Contains(ev.Indicators, id) {
			return true
		}
	}
	return false
}

// A green key does not see a campaign that rests on an amber indicator,
// on any page or API answer, and the counts it sees leave it out; an
// amber key sees it.
func TestGreenKeyDoesNotSeeAmber(t *testing.T) {
	checkGreenDoesNotSeeAmber(t, newEnv(t, webui.Config{DefaultTLP: tlp.Green}))
}

func checkGreenDoesNotSeeAmber(t *testing.T, e *env) {
	green, amber := e.key("partner", "green", false), e.key("analyst", "amber", false)
	doc := e.doc()
	target := doc.Campaigns[0]
	if len(target.Indicators) == 0 {
		t.Fatalf("campaign %s has no indicators", target.ID)
	}
	markAmber(t, e, target.Indicators[0])
	var hidden []string
	visibleSightings := 0
	for _, c := range doc.Campaigns {
		if restsOn(c, target.Indicators[0]) {
			hidden = append(hidden, c.ID)
		} else {
			visibleSightings += c.Sightings
		}
	}
	code, body, _ := e.get(green, "/")
	page := parse(t, body)
	if code != http.StatusOK || byID(page, "count-campaigns") != strconv.Itoa(len(doc.Campaigns)-len(hidden)) ||
		byID(page, "count-sightings") != strconv.Itoa(visibleSightings) {
		t.Errorf("green overview: %d, campaigns %q sightings %q; want %d and %d", code, byID(page, "count-campaigns"),
			byID(page, "count-sightings"), len(doc.Campaigns)-len(hidden), visibleSightings)
	}
	_, apiBody, _ := e.get(green, "/api/v1/overview")
	for _, id := range hidden {
		if strings.Contains(body, id) || strings.Contains(apiBody, id) {
			t.Errorf("the green key's overview names amber campaign %s", id)
		}
		for _, p := range []string{"/campaigns/", "/api/v1/campaigns/"} {
			if code, b, _ := e.get(green, p+id); code != http.StatusNotFound || strings.Contains(b, target.Attribution.Actor) && target.Attribution.Actor != "" {
				t.Errorf("green %s%s: %d", p, id, code)
			}
			if code, _, _ := e.get(amber, p+id); code != http.StatusOK {
				t.Errorf("amber %s%s: %d", p, id, code)
			}
		}
	}
	if _, b, _ := e.get(amber, "/"); !strings.Contains(b, target.ID) {
		t.Errorf("the amber key's overview lacks %s", target.ID)
	}
}

// With the findings at the default amber, a green key sees no campaign
// and no detection at all.
func TestGreenKeySeesNoAmberFindings(t *testing.T) {
	e := newEnv(t, webui.Config{})
	green := e.key("partner", "green", false)
	var ov struct {
		Counts    map[string]int
		Campaigns []any
	}
	if code := e.getJSON(green, "/api/v1/overview", &ov); code != http.StatusOK || len(ov.Campaigns) != 0 ||
		ov.Counts["detections"] != 0 || ov.Counts["sightings"] != 0 {
		t.Errorf("green overview: %d %+v", code, ov)
	}
	var det struct{ Total int }
	if code := e.getJSON(green, "/api/v1/detections?all=true", &det); code != http.StatusOK || det.Total != 0 {
		t.Errorf("green detections: %d total %d", code, det.Total)
	}
}

// A change from a browser session without its CSRF token is refused;
// with it, it is done.
func TestCSRF(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	b := e.browser(key)
	code, body, _ := e.do(b, mustReq(t, http.MethodGet, e.base+"/", ""))
	if code != http.StatusOK {
		t.Fatalf("signed in: GET / %d", code)
	}
	token := attrOf(parse(t, body), "input", "name", "csrf", "value")
	for _, form := range []url.Values{{}, {"csrf": {"forged"}}} {
		if code, _, _ := e.do(b, mustReq(t, http.MethodPost, e.base+"/logout", form.Encode()+"&x=1")); code != http.StatusForbidden {
			t.Errorf("logout with %v: %d, want 403", form, code)
		}
	}
	if code, _, _ := e.do(b, mustReq(t, http.MethodGet, e.base+"/", "")); code != http.StatusOK {
		t.Fatalf("a refused change ended the session: %d", code)
	}
	if code, _, _ := e.do(b, mustReq(t, http.MethodPost, e.base+"/logout", url.Values{"csrf": {token}}.Encode())); code != http.StatusSeeOther {
		t.Errorf("logout with the token: %d", code)
	}
	if code, _, h := e.do(b, mustReq(t, http.MethodGet, e.base+"/", "")); code != http.StatusSeeOther || h.Get("Location") != "/login" {
		t.Errorf("after logout: %d → %s", code, h.Get("Location"))
	}
	// A login form posted without the login cookie (from another site).
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if code, _, _ := e.do(plain, mustReq(t, http.MethodPost, e.base+"/login", url.Values{"csrf": {"x"}, "key": {key}}.Encode())); code != http.StatusForbidden {
		t.Errorf("login without its token: %d, want 403", code)
	}
}

// The session cookie is HttpOnly and SameSite=Strict, Secure under TLS;
// a wrong key opens no session.
func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, webui.Config{Secure: secure})
		key := e.key("analyst", "amber", false)
		plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := plain.Get(e.base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var login *http.Cookie
		for _, c := range resp.Cookies() {
			login = c
		}
		post := func(k string) *http.Response {
			req := mustReq(t, http.MethodPost, e.base+"/login", url.Values{"csrf": {login.Value}, "key": {k}}.Encode())
			req.AddCookie(&http.Cookie{Name: login.Name, Value: login.Value})
			r, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			return r
		}
		if r := post(key[:len(key)-1] + "x"); r.Header.Get("Location") != "/login?failed=1" || len(r.Cookies()) != 0 {
			t.Errorf("wrong key: %s, cookies %v", r.Header.Get("Location"), r.Cookies())
		}
		var sess *http.Cookie
		for _, c := range post(key).Cookies() {
			if c.Name == "whodunit_session" {
				sess = c
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure != secure || sess.Path != "/" || len(sess.Value) < 40 {
			t.Errorf("secure=%v: session cookie %+v", secure, sess)
		}
	}
}

// Every answer carries the security headers, signed in or not.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	for _, p := range []string{"/", "/login", "/detections", "/nope", "/api/v1/overview", "/static/app.js", "/campaigns/none"} {
		for _, k := range []string{"", key} {
			_, _, h := e.get(k, p)
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", p, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s: headers %v", p, h)
			}
		}
	}
}

const hostile = `<script>alert("x")</script>"><img src=x onerror=alert(1)>`

// Hostile names in a stored analysis (campaign, actor, hypothesis,
// evidence, record) are shown escaped on every page.
func TestHostileValuesEscaped(t *testing.T) {
	e := newEnv(t, webui.Config{})
	key := e.key("analyst", "amber", false)
	doc := e.doc()
	c := &doc.Campaigns[0]
	c.ID = "C-" + hostile
	c.Attribution.Actor, c.Attribution.Leading, c.Attribution.Named = hostile, hostile, true
	for i := range c.Attribution.Hypotheses {
		c.Attribution.Hypotheses[i].Name = hostile
	}
	for i := range c.Attribution.Evidence {
		c.Attribution.Evidence[i].Detail = hostile
		for j := range c.Attribution.Evidence[i].Sightings {
			c.Attribution.Evidence[i].Sightings[j].Record = hostile
		}
	}
	c.Victims = append(c.Victims, hostile)
	c.VictimDetails = append(c.VictimDetails, report.Victim{Address: hostile})
	if _, err := hunt.SaveAnalysis(context.Background(), e.db, doc, ""); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/campaigns/" + url.PathEscape(c.ID)} {
		code, body, _ := e.get(key, p)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", p, code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: a hostile value is not escaped", p)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("%s: the hostile value is not shown escaped", p)
		}
	}
	var got report.Campaign
	if code := e.getJSON(key, "/api/v1/campaigns/"+url.PathEscape(c.ID), &got); code != http.StatusOK || got.Attribution.Actor != hostile {
		t.Errorf("API: %d, actor %q", code, got.Attribution.Actor)
	}
}
