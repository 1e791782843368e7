package taxii_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/taxii"
	"github.com/whodunit-project/whodunit/internal/tlp"
)

// apt1Fixture serves the APT1 report bundle plus one indicator per TLP
// level.
func apt1Fixture(t *testing.T) *fixture {
	f := newFixture(t, openStore(t), taxii.Config{MaxPage: 50})
	f.importFile(shared+"/intel/stix/apt1.json", "apt1.json")
	f.importJSON("marked.json", markedIndicators())
	return f
}

// TestListIndicatorsServeAsSTIX: indicators imported from a Zeek intel
// list (stored compactly) are served as valid STIX indicators.
func TestListIndicatorsServeAsSTIX(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{})
	f.importFile(shared+"/intel/apt1/apt1-fqdn.dat", "apt1-fqdn")
	seen := map[string]bool{}
	next := ""
	for {
		e, _ := f.envelope("amber", intelC+"objects/?match[type]=indicator&next="+next)
		for _, raw := range e.Objects {
			var o struct {
				Type, ID, Pattern, PatternType, ValidFrom, SpecVersion string
				P                                                      string `json:"pattern"`
				PT                                                     string `json:"pattern_type"`
				SV                                                     string `json:"spec_version"`
			}
			if err := json.Unmarshal(raw, &o); err != nil || o.Type != "indicator" || o.PT != "stix" || o.SV != "2.1" ||
				!strings.HasPrefix(o.P, "[domain-name:value = '") {
				t.Fatalf("%s", raw)
			}
			if seen[o.ID] {
				t.Fatalf("%s twice", o.ID)
			}
			seen[o.ID] = true
		}
		if !e.More {
			break
		}
		next = e.Next
	}
	if len(seen) < 2000 {
		t.Fatalf("%d APT1 domain indicators served", len(seen))
	}
}

// Spec 4.1: discovery names the API roots; every response is TAXII JSON.
func TestDiscoveryAndAPIRoot(t *testing.T) {
	f := apt1Fixture(t)
	r := f.get("green", "/taxii2/")
	if r.code != 200 || r.header.Get("Content-Type") != taxii.MediaTAXII {
		t.Fatalf("discovery: %d %q", r.code, r.header.Get("Content-Type"))
	}
	d := r.json(t)
	roots, _ := d["api_roots"].([]any)
	if len(roots) != 1 || !strings.HasSuffix(roots[0].(string), "/whodunit/") || d["default"] != roots[0] {
		t.Fatalf("discovery: %s", r.body)
	}
	a := f.get("green", root).json(t)
	if v, _ := a["versions"].([]any); len(v) != 1 || v[0] != taxii.MediaTAXII || a["max_content_length"].(float64) <= 0 {
		t.Fatalf("api root: %v", a)
	}
}

// Spec 1.6.8, 3.4: no key or a bad key is 401, with a TAXII error.
func TestUnauthorized(t *testing.T) {
	f := apt1Fixture(t)
	for _, auth := range []string{"", "Bearer nonsense", "Bearer " + f.keys["green"] + "x", "Basic Zm9vOmJhcg=="} {
		for _, path := range []string{"/taxii2/", root, intelC + "objects/", "/whodunit/nothing/"} {
			r := f.get("", path, "Authorization", auth)
			if r.code != 401 || r.json(t)["http_status"] != "401" || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%q %s: %d %s", auth, path, r.code, r.body)
			}
		}
	}
	// HTTP Basic with the key as the password is accepted
	req := f.get("", "/taxii2/", "Authorization", "")
	_ = req
	r := f.do(http.MethodGet, "", "/taxii2/", nil)
	if r.code != 401 {
		t.Fatal(r.code)
	}
}

func TestBasicAuth(t *testing.T) {
	f := apt1Fixture(t)
	r := f.get("", "/taxii2/", "Authorization", basic("any-user", f.keys["green"]))
	if r.code != 200 {
		t.Fatalf("basic auth: %d %s", r.code, r.body)
	}
}

// Spec 1.6.8: an Accept the server cannot answer is 406.
func TestNotAcceptable(t *testing.T) {
	f := apt1Fixture(t)
	for accept, want := range map[string]int{
		"application/json":                        406,
		"text/html":                               406,
		"application/taxii+json;version=2.0":      406,
		"application/taxii+json;version=2.1":      200,
		"application/taxii+json":                  200,
		"application/stix+json;version=2.1":       200,
		"text/html, application/taxii+json;q=0.5": 200,
		"application/taxii+json;version=2.1;q=0":  406,
		"*/*":                                     200,
		"garbage;;;":                              406,
	} {
		if r := f.get("green", intelC+"objects/?limit=1", "Accept", accept); r.code != want {
			t.Errorf("Accept %q: %d, want %d", accept, r.code, want)
		}
	}
}

// Spec 5.1, 5.2: collections list what the key may use, with aliases
// and the key's own can_read/can_write.
func TestCollections(t *testing.T) {
	f := apt1Fixture(t)
	var doc struct {
		Collections []struct {
			ID, Alias         string
			CanRead, CanWrite bool     `json:"-"`
			R                 bool     `json:"can_read"`
			W                 bool     `json:"can_write"`
			MediaTypes        []string `json:"media_types"`
		}
	}
	if err := json.Unmarshal(f.get("green", root+"collections/").body, &doc); err != nil {
		t.Fatal(err)
	}
	var aliases []string
	for _, c := range doc.Collections {
		aliases = append(aliases, c.Alias)
		if c.ID != taxii.CollectionID(c.Alias) || !c.R || c.W {
			t.Errorf("green sees %+v", c)
		}
	}
	if !slices.Equal(aliases, []string{"intel", "findings"}) {
		t.Fatalf("green sees %v", aliases)
	}
	w := f.get("writer", root+"collections/inbox/").json(t)
	if w["can_read"] != false || w["can_write"] != true || w["id"] != taxii.CollectionID("inbox") {
		t.Fatalf("writer's inbox: %v", w)
	}
	// by id as well as by alias
	if r := f.get("green", root+"collections/"+taxii.CollectionID("intel")+"/"); r.code != 200 {
		t.Fatal(r.code)
	}
	if r := f.get("green", root+"collections/inbox/"); r.code != 403 {
		t.Fatalf("green reads inbox: %d", r.code)
	}
	if r := f.get("green", root+"collections/"+taxii.CollectionID("nope")+"/"); r.code != 404 {
		t.Fatalf("absent collection: %d", r.code)
	}
	if r := f.get("writer", intelC+"objects/"); r.code != 403 {
		t.Fatalf("writer reads intel: %d", r.code)
	}
}

// Spec 5.3: objects in date-added order, paged by limit and next with
// more, and the added headers; nothing twice, nothing missed.
func TestObjectsPaging(t *testing.T) {
	f := apt1Fixture(t)
	whole := f.all("amber", intelC+"objects/", 1000)
	if len(whole) < 40 {
		t.Fatalf("intel holds %d objects", len(whole))
	}
	for _, limit := range []int{1, 7, 50} {
		paged := f.all("amber", intelC+"objects/", limit)
		if !slices.EqualFunc(paged, whole, func(a, b stixHead) bool { return a.ID == b.ID && a.Modified == b.Modified }) {
			t.Fatalf("limit %d: %d objects, whole %d", limit, len(paged), len(whole))
		}
	}
	// a limit above the server's maximum is cut to it
	e, r := f.envelope("amber", intelC+"objects/?limit=100000")
	if len(e.Objects) != 50 || !e.More {
		t.Fatalf("limit above max: %d objects more=%v", len(e.Objects), e.More)
	}
	first, last := r.header.Get("X-TAXII-Date-Added-First"), r.header.Get("X-TAXII-Date-Added-Last")
	tf, err1 := time.Parse(time.RFC3339Nano, first)
	tl, err2 := time.Parse(time.RFC3339Nano, last)
	if err1 != nil || err2 != nil || tl.Before(tf) {
		t.Fatalf("added headers %q %q", first, last)
	}
	// added_after the last of a page gives every version added strictly
	// after it (versions of one import share an added time)
	rest := f.all("amber", intelC+"objects/?added_after="+last, 1000)
	manifest := f.manifest("amber", intelC+"manifest/")
	after := 0
	for _, m := range manifest {
		if ta, _ := time.Parse(time.RFC3339Nano, m["date_added"]); ta.After(tl) {
			after++
		}
	}
	if len(rest) != after || len(manifest) != len(whole) {
		t.Fatalf("added_after %s: %d objects, manifest says %d", last, len(rest), after)
	}
	// the manifest lists the same versions in the same order
	var man struct {
		Objects []struct {
			ID, Version, MediaType string `json:"-"`
		} `json:"-"`
		Raw []map[string]string `json:"objects"`
	}
	if err := json.Unmarshal(f.get("amber", intelC+"manifest/?limit=50").body, &man); err != nil {
		t.Fatal(err)
	}
	for i, m := range man.Raw {
		if m["id"] != whole[i].ID || m["media_type"] != taxii.MediaSTIX || m["date_added"] == "" {
			t.Fatalf("manifest %d: %v, objects %v", i, m, whole[i])
		}
	}
}

// Spec 3.4: match filters, comma-separated values ORed, fields ANDed.
func TestMatchFilters(t *testing.T) {
	f := apt1Fixture(t)
	count := func(q string) int { return len(f.all("amber", intelC+"objects/?"+q, 1000)) }
	ind, mal := count("match[type]=indicator"), count("match[type]=malware")
	if ind == 0 || mal == 0 {
		t.Fatalf("indicators %d malware %d", ind, mal)
	}
	if got := count("match[type]=indicator,malware"); got != ind+mal {
		t.Fatalf("comma OR: %d, want %d", got, ind+mal)
	}
	if got := count("match[type]=indicator&match[type]=malware"); got != ind+mal {
		t.Fatalf("repeated parameter: %d, want %d", got, ind+mal)
	}
	ids := f.all("amber", intelC+"objects/?match[type]=indicator", 1000)
	two := ids[0].ID + "," + ids[1].ID
	got := f.all("amber", intelC+"objects/?match[id]="+two, 1000)
	if len(got) != 2 {
		t.Fatalf("match[id] of two: %d", len(got))
	}
	if n := count("match[id]=" + ids[0].ID + "&match[type]=malware"); n != 0 {
		t.Fatalf("id AND type: %d", n)
	}
	if n := count("match[spec_version]=2.1&match[type]=indicator"); n != ind {
		t.Fatalf("spec_version 2.1: %d, want %d", n, ind)
	}
	for _, q := range []string{"match[version]=yesterday", "match[colour]=red", "added_after=nope", "limit=0", "limit=-3", "limit=x"} {
		if r := f.get("amber", intelC+"objects/?"+q); r.code != 400 || r.json(t)["http_status"] != "400" {
			t.Errorf("%s: %d %s", q, r.code, r.body)
		}
	}
}

// Spec 3.4.2, medallion's sample collection: versions first, last, all
// and by timestamp; the versions endpoint; the object endpoint.
func TestVersionsMedallion(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{})
	objs := medallionObjects(t)
	st := f.post("internal", inboxC+"objects/", envelopeOf(objs))
	if st["success_count"].(float64) != float64(len(objs)) {
		t.Fatalf("status: %v", st)
	}
	ind := "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e"
	mods := func(q string) []string {
		var out []string
		for _, h := range f.all("internal", intelC+"objects/?match[id]="+ind+q, 1000) {
			out = append(out, h.Modified)
		}
		return out
	}
	if got := mods(""); !slices.Equal(got, []string{"2017-01-27T13:49:53.935Z"}) {
		t.Fatalf("default (last): %v", got)
	}
	if got := mods("&match[version]=first"); !slices.Equal(got, []string{"2016-11-03T12:30:59.000Z"}) {
		t.Fatalf("first: %v", got)
	}
	if got := mods("&match[version]=all"); len(got) != 3 {
		t.Fatalf("all: %v", got)
	}
	if got := mods("&match[version]=first,last"); len(got) != 2 {
		t.Fatalf("first,last: %v", got)
	}
	if got := mods("&match[version]=2016-12-25T12:30:59.444Z"); !slices.Equal(got, []string{"2016-12-25T12:30:59.444Z"}) {
		t.Fatalf("by timestamp: %v", got)
	}
	var v struct{ Versions []string }
	if err := json.Unmarshal(f.get("internal", intelC+"objects/"+ind+"/versions/").body, &v); err != nil || len(v.Versions) != 3 {
		t.Fatalf("versions: %v %v", v, err)
	}
	e, _ := f.envelope("internal", intelC+"objects/"+ind+"/")
	if len(e.Objects) != 1 || head(t, e.Objects[0]).Modified != "2017-01-27T13:49:53.935Z" {
		t.Fatalf("object: %s", e.Objects)
	}
	e, _ = f.envelope("internal", intelC+"objects/"+ind+"/?match[version]=all")
	if len(e.Objects) != 3 {
		t.Fatalf("object, all versions: %d", len(e.Objects))
	}
	// the inbox holds what keys posted
	if got := f.all("internal", inboxC+"objects/?match[version]=all", 1000); len(got) != len(objs) {
		t.Fatalf("inbox: %d objects, posted %d", len(got), len(objs))
	}
}

// Spec 5.5, 5.6: an absent object and one above the key's ceiling are
// the same 404.
func TestObjectNotFoundHidesWhatIsAboveTheCeiling(t *testing.T) {
	f := apt1Fixture(t)
	absent := f.get("green", intelC+"objects/indicator--11111111-2222-4333-8444-555555555555/")
	hidden := f.get("green", intelC+"objects/"+markedID(3)+"/")
	if absent.code != 404 || hidden.code != 404 || string(absent.body) != string(hidden.body) {
		t.Fatalf("absent %d %s / hidden %d %s", absent.code, absent.body, hidden.code, hidden.body)
	}
	for _, sub := range []string{"", "versions/"} {
		h := f.get("green", intelC+"objects/"+markedID(5)+"/"+sub)
		if h.code != 404 || string(h.body) != string(absent.body) {
			t.Fatalf("red %s: %d %s", sub, h.code, h.body)
		}
	}
	if r := f.get("amber", intelC+"objects/"+markedID(3)+"/"); r.code != 200 {
		t.Fatalf("amber key, amber object: %d", r.code)
	}
}

// TLP: each key gets exactly the levels its ceiling covers; RED never;
// AMBER+STRICT only to internal keys; unmarked counts as the default.
func TestTLPCeilings(t *testing.T) {
	f := apt1Fixture(t)
	want := map[string][]int{
		"clear":    {1},
		"green":    {1, 2},
		"amber":    {0, 1, 2, 3},
		"internal": {0, 1, 2, 3, 4},
	}
	for key, levels := range want {
		var got []int
		for _, h := range f.all(key, intelC+"objects/?match[type]=indicator", 3) {
			for i := 0; i <= 5; i++ {
				if h.ID == markedID(i) {
					got = append(got, i)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, levels) {
			t.Errorf("%s key: levels %v, want %v", key, got, levels)
		}
	}
	// APT1's unmarked objects are AMBER by default: a green key sees none
	for _, h := range f.all("green", intelC+"objects/", 1000) {
		if len(h.Markings) == 0 {
			t.Fatalf("green key got unmarked %s", h.ID)
		}
	}
	// with --default-tlp clear the green key sees them
	g := f.instance(taxii.Config{DefaultTLP: tlp.Clear})
	if n := len(g.all("green", intelC+"objects/?match[type]=intrusion-set", 1000)); n != 1 {
		t.Fatalf("default clear: %d intrusion sets", n)
	}
}

// A page the TLP filter thins is filled from the following store pages,
// so a client does not get an empty page that says more.
func TestFilteredPagesAreFilled(t *testing.T) {
	f := apt1Fixture(t)
	e, _ := f.envelope("clear", intelC+"objects/?limit=1")
	if len(e.Objects) != 1 || head(t, e.Objects[0]).ID != markedID(1) {
		t.Fatalf("clear key, limit 1: %s", e.Objects)
	}
}

// Next tokens: forged, tampered, from another collection or another
// filter are 400; from another instance over the same store they work.
func TestNextTokens(t *testing.T) {
	f := apt1Fixture(t)
	e, _ := f.envelope("amber", intelC+"objects/?limit=5")
	if !e.More || e.Next == "" {
		t.Fatal("no next")
	}
	tampered := []byte(e.Next)
	tampered[2] ^= 1
	for _, bad := range []string{"x", "abc.def", string(tampered), e.Next + "A", strings.Repeat("A", 5000),
		"czEAMjAyNC0wMS0wMVQwMDowMDowMC4wMDAwMDAwMDBaAGs.AAAA"} {
		if r := f.get("amber", intelC+"objects/?limit=5&next="+bad); r.code != 400 {
			t.Errorf("next %.30q: %d %s", bad, r.code, r.body)
		}
	}
	for _, other := range []string{findC + "objects/?next=", intelC + "manifest/?next=", intelC + "objects/?match[type]=malware&next="} {
		if r := f.get("amber", other+e.Next); r.code != 400 {
			t.Errorf("%s: %d", other, r.code)
		}
	}
	// a second instance over the same store (a restart) continues the page
	g := f.instance(taxii.Config{MaxPage: 50})
	e2, _ := g.envelope("amber", intelC+"objects/?limit=5&next="+e.Next)
	e1, _ := f.envelope("amber", intelC+"objects/?limit=5&next="+e.Next)
	if len(e2.Objects) != 5 || string(e2.Objects[0]) != string(e1.Objects[0]) {
		t.Fatal("another instance pages differently")
	}
	// another server with another cursor key refuses the token
	h := f.instance(taxii.Config{CursorKey: []byte("0123456789abcdef-another-key")})
	if r := h.get("amber", intelC+"objects/?limit=5&next="+e.Next); r.code != 400 {
		t.Fatalf("foreign key: %d", r.code)
	}
}

// Path tricks never reach another resource nor fail with 500.
func TestPathTricks(t *testing.T) {
	f := apt1Fixture(t)
	for _, p := range []string{
		"/whodunit/collections/..%2Finbox/objects/",
		"/whodunit/collections/inbox%2F..%2Fintel/objects/",
		"/whodunit/collections/intel/objects/indicator--00000000-0000-4000-8000-000000000005%2F/",
		"/whodunit/collections/intel/objects/..%2F..%2F..%2Fetc%2Fpasswd/",
		"/whodunit/collections/intel/objects/%00/",
		"/whodunit/status/whodunit:taxii-cursor-key/",
		"/whodunit/collections/intel/objects/indicator--" + markedID(5)[11:] + "/",
	} {
		r := f.get("green", p)
		if r.code != 404 && r.code != 403 {
			t.Errorf("%s: %d %s", p, r.code, r.body)
		}
		if strings.Contains(string(r.body), "level") || strings.Contains(string(r.body), "cursor") {
			t.Errorf("%s leaks: %s", p, r.body)
		}
	}
}

// manifest pages through a manifest.
func (f *fixture) manifest(key, target string) []map[string]string {
	f.t.Helper()
	var out []map[string]string
	next := ""
	for {
		var m struct {
			More    bool                `json:"more"`
			Next    string              `json:"next"`
			Objects []map[string]string `json:"objects"`
		}
		r := f.get(key, target+"?next="+next)
		if err := json.Unmarshal(r.body, &m); err != nil || r.code != 200 {
			f.t.Fatalf("manifest: %d %s", r.code, r.body)
		}
		out = append(out, m.Objects...)
		if !m.More {
			return out
		}
		next = m.Next
	}
}

// A path that is not clean gets a TAXII 404, one without its trailing
// slash a redirect to it; both answers are TAXII JSON, not the mux's HTML.
func TestUncleanPathsGetTAXIIAnswers(t *testing.T) {
	f := apt1Fixture(t)
	for p, want := range map[string]int{
		"//taxii2/": 404, "/whodunit/./collections/": 404, "/whodunit/collections/intel/../inbox/": 404,
		"/" + markedID(0): 308, "/taxii2": 308,
	} {
		r := f.get("green", p)
		if r.code != want || r.header.Get("Content-Type") != taxii.MediaTAXII || !json.Valid(r.body) {
			t.Errorf("%s: %d %s %s, want %d and TAXII JSON", p, r.code, r.header.Get("Content-Type"), r.body, want)
		}
		if strings.Contains(string(r.body), "indicator--") {
			t.Errorf("%s: the answer echoes the path: %s", p, r.body)
		}
	}
	if r := f.get("green", "/taxii2?x=1"); r.header.Get("Location") != "/taxii2/?x=1" {
		t.Errorf("/taxii2?x=1 redirects to %q", r.header.Get("Location"))
	}
	if r := f.get("", "/taxii2"); r.code != 401 {
		t.Errorf("/taxii2 without a key: %d", r.code)
	}
}
