package taxii_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/taxii"
)

// fuzzFixture is one server for all inputs of a fuzz target.
func fuzzFixture(f *testing.F) *fixture {
	fx := newFixture(f, openStore(f), taxii.Config{MaxPage: 20, MaxBody: 1 << 16})
	fx.importFile(shared+"/intel/stix/apt1.json", "apt1.json")
	fx.importJSON("marked.json", markedIndicators())
	return fx
}

// checkAnswer is what every answer must be: no server error, TAXII JSON,
// nothing above the green key's ceiling.
func checkAnswer(t *testing.T, r response, what string) {
	if r.code >= 500 {
		t.Fatalf("%s: %d %s", what, r.code, r.body)
	}
	if !json.Valid(r.body) {
		t.Fatalf("%s: %d not JSON: %s", what, r.code, r.body)
	}
	for _, hidden := range []string{markedID(0), markedID(3), markedID(4), markedID(5), "level3.example", "level5.example"} {
		if strings.Contains(string(r.body), hidden) {
			t.Fatalf("%s: green key got %s", what, hidden)
		}
	}
}

func FuzzObjectsQuery(f *testing.F) {
	fx := fuzzFixture(f)
	for _, s := range []string{"", "limit=1", "match[type]=indicator,malware", "match[version]=all&limit=3",
		"match[id]=" + markedID(5), "added_after=2016-01-01T00:00:00Z", "match[version]=2016-12-25T12:30:59.444Z",
		"match[spec_version]=2.0,2.1", "next=abc.def", "limit=99999999999999999999", "match[type]=%00", "match[id]=,,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, ep := range []string{"objects/", "manifest/", "objects/" + markedID(2) + "/", "objects/" + markedID(5) + "/versions/"} {
			for _, col := range []string{intelC, findC} {
				target := col + ep + "?" + q
				if !requestable(target) {
					return
				}
				checkAnswer(t, fx.with(t).get("green", target), target)
			}
		}
	})
}

func FuzzEnvelopePost(f *testing.F) {
	fx := fuzzFixture(f)
	f.Add(envelopeOf(medallionObjects(f)))
	f.Add([]byte(markedIndicators()))
	f.Add([]byte(`{"objects":[{"type":"indicator","id":"indicator--00000000-0000-4000-8000-000000000009"}]}`))
	f.Add([]byte(`{"objects":[[[[[[]]]]]]}`))
	f.Add([]byte(`{"more":false}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fx.with(t).do(http.MethodPost, "writer", inboxC+"objects/", body)
		if r.code >= 500 || !json.Valid(r.body) {
			t.Fatalf("POST: %d %s", r.code, r.body)
		}
		if r.code == http.StatusAccepted {
			var st struct {
				Total, Success, Failure int `json:"-"`
				T                       int `json:"total_count"`
				S                       int `json:"success_count"`
				F                       int `json:"failure_count"`
			}
			if err := json.Unmarshal(r.body, &st); err != nil || st.S+st.F != st.T {
				t.Fatalf("status does not add up: %s", r.body)
			}
		}
		checkAnswer(t, fx.with(t).get("green", intelC+"objects/"), "GET after POST")
	})
}

func FuzzPath(f *testing.F) {
	fx := fuzzFixture(f)
	for _, p := range []string{"/taxii2/", root, intelC, intelC + "objects/" + markedID(3) + "/", root + "status/00000000-0000-4000-8000-000000000000/",
		"/whodunit/collections/..%2Finbox/objects/", "//taxii2/", "/whodunit/./collections/"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") {
			return
		}
		if !requestable(p) {
			return
		}
		for _, m := range []string{http.MethodGet, http.MethodDelete} {
			checkAnswer(t, fx.with(t).do(m, "green", p, nil), m+" "+p)
		}
	})
}

// FuzzDelete sends DELETE (§5.7) with any object id and query as an
// admin key to a fresh store: every answer is a TAXII answer, and the
// object is gone after a 200 and still there after anything else.
func FuzzDelete(f *testing.F) {
	for _, q := range []string{"", "match[version]=first", "match[version]=last,all", "match[version]=2024-01-04T00:00:00Z",
		"match[spec_version]=2.1", "match[version]=%00", "match[id]=x", "next=a.b", "match[version]=2020-01-01T00:00:00Z"} {
		f.Add(markedID(3), q)
	}
	f.Add("indicator--00000000-0000-4000-8000-00000000000", "")
	f.Fuzz(func(t *testing.T, id, q string) {
		target := intelC + "objects/" + url.PathEscape(id) + "/?" + q
		if !requestable(target) {
			return
		}
		fx := newFixture(t, openStore(t), taxii.Config{MaxPage: 20})
		fx.importJSON("marked.json", markedIndicators())
		r := fx.do(http.MethodDelete, "admin", target, nil)
		if r.code != http.StatusOK {
			checkAnswer(t, r, "DELETE "+target)
		} else if len(r.body) != 0 {
			t.Fatalf("DELETE %s: 200 with a body: %s", target, r.body)
		}
		after := fx.get("admin", intelC+"objects/"+markedID(3)+"/").code
		if (r.code == http.StatusOK && id == markedID(3)) != (after == http.StatusNotFound) {
			t.Fatalf("DELETE %s answered %d; the object then answers %d", target, r.code, after)
		}
	})
}

func FuzzNextToken(f *testing.F) {
	fx := fuzzFixture(f)
	e, _ := fx.envelope("green", intelC+"objects/?limit=1")
	f.Add(e.Next)
	f.Add("")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, next string) {
		r := fx.with(t).get("green", intelC+"objects/?limit=1&next="+url.QueryEscape(next))
		checkAnswer(t, r, "next "+next)
		if r.code != 200 && r.code != 400 {
			t.Fatalf("next %q: %d", next, r.code)
		}
	})
}

// requestable reports a target a client can send on a request line.
func requestable(target string) bool {
	if _, err := url.ParseRequestURI(target); err != nil {
		return false
	}
	return !strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
