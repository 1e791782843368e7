package openioc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/openioc"
	"github.com/whodunit-project/whodunit/internal/pattern"
)

func importBytes(t testing.TB, data []byte, name string) (*intel.Collector, intel.Stats, error) {
	t.Helper()
	var c intel.Collector
	st, err := openioc.Importer{}.Import(context.Background(), bytes.NewReader(data), name, intel.DefaultOptions(), &c)
	return &c, st, err
}

func importFile(t testing.TB, path string) (*intel.Collector, intel.Stats) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, st, err := importBytes(t, data, path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c, st
}

func byType(c *intel.Collector, typ string) []*intel.Object {
	var out []*intel.Object
	for _, o := range c.Objects {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	return out
}

func byID(c *intel.Collector) map[string]*intel.Object {
	m := map[string]*intel.Object{}
	for _, o := range c.Objects {
		m[o.ID] = o
	}
	return m
}

// indicatorsOf returns the ids of the indicators that a relationship says
// indicate target.
func indicatorsOf(c *intel.Collector, target string) map[string]bool {
	out := map[string]bool{}
	for _, o := range byType(c, intel.TypeRelationship) {
		if o.Relationship.Type == "indicates" && o.Relationship.TargetRef == target {
			out[o.Relationship.SourceRef] = true
		}
	}
	return out
}

func TestMixedLogic11(t *testing.T) {
	c, st := importFile(t, filepath.Join("testdata", "v11-mixed.ioc"))
	if st.Skipped != 0 {
		t.Fatalf("skipped %d: %v", st.Skipped, st.Errors)
	}
	type got struct {
		Pattern, PatternType string
		HostOnly             bool
		Observables          []intel.Observable
	}
	want := map[string]got{
		"it-domain":   {"[domain-name:value = 'evil.example.com']", "stix", false, []intel.Observable{{Type: intel.Domain, Value: "evil.example.com"}}},
		"it-ua":       {"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE 'Mozilla/4.0 (evil%']", "stix", false, nil},
		"it-uri":      {`[network-traffic:extensions.'http-request-ext'.request_value MATCHES '(?i)/Gate\\.php$']`, "stix", false, nil},
		"it-re":       {"[network-traffic:extensions.'http-request-ext'.request_value MATCHES '^/[a-f0-9]{16}/index$']", "stix", false, nil},
		"i-conn":      {"[network-traffic:dst_ref.value = '203.0.113.7' AND network-traffic:dst_port <= 1024]", "stix", false, nil},
		"i-mixed-and": {"FileItem/Md5sum is '0123456789ABCDEF0123456789ABCDEF' AND ProcessItem/name is 'evil.exe'", "openioc", true, nil},
		"i-and-or":    {"[file:size < 50000 AND file:name NOT MATCHES '(?i)Setup']", "stix", false, nil},
		"it-svc":      {"ServiceItem/name is 'evilsvc'", "openioc", true, nil},
		"it-from":     {"[email-addr:value = 'attacker@example.org']", "stix", false, []intel.Observable{{Type: intel.Email, Value: "attacker@example.org"}}},
	}
	inds := byType(c, intel.TypeIndicator)
	gotBy := map[string]got{}
	for _, o := range inds {
		var raw struct {
			OpenIOC struct {
				ID string `json:"id"`
			} `json:"openioc"`
		}
		if err := json.Unmarshal(o.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		gotBy[raw.OpenIOC.ID] = got{o.Indicator.Pattern, o.Indicator.PatternType, o.Indicator.HostOnly, o.Indicator.Observables}
		if o.Indicator.PatternType == "stix" {
			if _, err := pattern.Parse(o.Indicator.Pattern); err != nil {
				t.Errorf("%s: pattern does not parse: %v", o.Indicator.Pattern, err)
			}
		}
	}
	if diff := cmp.Diff(want, gotBy); diff != "" {
		t.Errorf("indicators (-want +got):\n%s", diff)
	}
	if st.Network != 7 || st.HostOnly != 2 {
		t.Errorf("network/host-only = %d/%d, want 7/2", st.Network, st.HostOnly)
	}
	// "APT 28" resolves to the same derived actor as "APT28".
	actor := byID(c)[openioc.ActorID("APT28")]
	if actor == nil || actor.Name != "APT 28" {
		t.Fatalf("no intrusion-set for the threatgroup link: %+v", actor)
	}
	if n := len(indicatorsOf(c, actor.ID)); n != 9 {
		t.Errorf("%d indicators indicate the actor, want 9", n)
	}
	mal := byType(c, intel.TypeMalware)
	if len(mal) != 1 || mal[0].Name != "TESTRAT" {
		t.Errorf("malware = %v", mal)
	}
	// The pruned AND keeps its whole logic in Raw.
	for _, o := range inds {
		if strings.Contains(string(o.Raw), `"i-and-or"`) && !strings.Contains(string(o.Raw), "CurrentVersion") {
			t.Errorf("host branch missing from the kept logic: %s", o.Raw)
		}
		if strings.Contains(string(o.Raw), `"it-domain"`) && !strings.Contains(string(o.Raw), "C2 server") {
			t.Errorf("parameter of it-domain not kept: %s", o.Raw)
		}
	}
	rep := byType(c, intel.TypeReport)
	if len(rep) != 1 || rep[0].Created.Format("2006-01-02") != "2015-03-01" || rep[0].Modified.Format("2006-01-02") != "2015-03-02" {
		t.Errorf("report = %+v", rep)
	}
}

func TestReimportIsIdempotent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "v11-mixed.ioc"))
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := importBytes(t, data, "a")
	b, _, _ := importBytes(t, data, "b")
	ids := func(c *intel.Collector) []string {
		var s []string
		for _, o := range c.Objects {
			s = append(s, o.ID)
		}
		sort.Strings(s)
		return s
	}
	if diff := cmp.Diff(ids(a), ids(b)); diff != "" {
		t.Errorf("ids differ between imports (-a +b):\n%s", diff)
	}
}

func sharedDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "openioc")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	return dir
}

func TestRealOpenIOC(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(sharedDir(t), "*", "*.ioc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 24 {
		t.Fatalf("found %d .ioc files, want 24", len(files))
	}
	var total intel.Stats
	items := map[string]int{}
	all := &intel.Collector{}
	for _, f := range files {
		head, _ := os.ReadFile(f)
		if !(openioc.Importer{}).Sniff(head[:min(len(head), 4096)], f) {
			t.Errorf("%s: not sniffed", f)
		}
		c, st := importFile(t, f)
		total.Add(st)
		all.Objects = append(all.Objects, c.Objects...)
		for _, r := range byType(c, intel.TypeReport) {
			var raw struct {
				Items map[string]int `json:"items"`
			}
			if err := json.Unmarshal(r.Raw, &raw); err != nil {
				t.Fatal(err)
			}
			for k, v := range raw.Items {
				items[k] += v
			}
		}
		for _, o := range byType(c, intel.TypeIndicator) {
			if o.Indicator.PatternType != "stix" {
				continue
			}
			if _, err := pattern.Parse(o.Indicator.Pattern); err != nil {
				t.Errorf("%s: %q does not parse: %v", filepath.Base(f), o.Indicator.Pattern, err)
			}
		}
	}
	if total.Skipped != 0 {
		t.Errorf("skipped %d: %v", total.Skipped, total.Errors)
	}
	// Counted from the files: 697 branches of top-level ORs, 576 of which
	// network data can evaluate; 799 IndicatorItems, 613 on network terms.
	if total.Objects[intel.TypeIndicator] != 697 || total.Network != 576 || total.HostOnly != 121 {
		t.Errorf("indicators %d (network %d, host-only %d), want 697 (576, 121)", total.Objects[intel.TypeIndicator], total.Network, total.HostOnly)
	}
	if diff := cmp.Diff(map[string]int{"network": 613, "host_only": 186}, items); diff != "" {
		t.Errorf("IndicatorItems (-want +got):\n%s", diff)
	}
	t.Logf("%s; items %v", total.String(), items)

	// The FireEye APT28 domains, linked to APT28 through the threatgroup link.
	apt28 := openioc.ActorID("APT28")
	linked := indicatorsOf(all, apt28)
	objs := byID(all)
	var patterns []string
	for id := range linked {
		if o := objs[id]; o != nil && strings.HasPrefix(o.Name, "APT28 DOMAINS") {
			patterns = append(patterns, o.Indicator.Pattern)
		}
	}
	sort.Strings(patterns)
	for _, d := range []string{"kavkazcentr.info", "rnil.am", "standartnevvs.com", "novinitie.com", "n0vinite.com", "qov.hu.com", "q0v.pl", "mail.g0v.pl", "poczta.mon.q0v.pl", "baltichost.org", "nato.nshq.in", "natoexhibitionff14.com", "login-osce.org", "smigroup-online.co.uk"} {
		want := "[domain-name:value LIKE '%" + d + "%']"
		i := sort.SearchStrings(patterns, want)
		if i == len(patterns) || patterns[i] != want {
			t.Errorf("APT28 domain %s not linked to APT28 (%d patterns)", d, len(patterns))
		}
	}
	if objs[apt28] == nil || objs[apt28].Name != "APT28" {
		t.Errorf("APT28 intrusion-set missing")
	}
	// A plain MD5 indicator of SOURFACE (APT28) with its observable.
	found := false
	for id := range linked {
		o := objs[id]
		if o != nil && len(o.Indicator.Observables) == 1 && o.Indicator.Observables[0] == (intel.Observable{Type: intel.MD5, Value: "8c4fa713c5e2b009114adda758adc445"}) {
			found = o.Indicator.Pattern == "[file:hashes.MD5 = '8c4fa713c5e2b009114adda758adc445']"
		}
	}
	if !found {
		t.Error("SOURFACE MD5 8c4fa713… not imported as a plain indicator of APT28")
	}
}

func TestBadInput(t *testing.T) {
	oldbait, err := os.ReadFile(filepath.Join("testdata", "apt28-oldbait.ioc"))
	if err != nil {
		t.Fatal(err)
	}
	unknownTerm := bytes.Replace(oldbait, []byte(`search="ProcessItem/name"`), []byte(`search="WidgetItem/name"`), 1)
	unknownCond := bytes.Replace(oldbait, []byte(`condition="contains"`), []byte(`condition="sounds-like"`), 1)
	deep := `<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="x"><definition>` + strings.Repeat("<Indicator operator=\"OR\">", 300) + strings.Repeat("</Indicator>", 300) + `</definition></ioc>`
	tests := []struct {
		name    string
		doc     string
		wantErr string // substring of the error; "" = imports with skips
		errIs   error
		skipped int
		indic   int
	}{
		{name: "billion laughs", doc: `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ioc xmlns="http://schemas.mandiant.com/2010/ioc"><short_description>&lol3;</short_description></ioc>`, wantErr: "line 6", errIs: openioc.ErrDTD},
		{name: "external entity", doc: `<?xml version="1.0"?><!DOCTYPE ioc [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ioc>&xxe;</ioc>`, errIs: openioc.ErrDTD},
		{name: "undeclared entity", doc: `<ioc xmlns="http://schemas.mandiant.com/2010/ioc">&lol9;</ioc>`, wantErr: "line 1: malformed XML"},
		{name: "malformed", doc: "<ioc xmlns=\"http://schemas.mandiant.com/2010/ioc\">\n<definition>\n<Indicator operator=\"OR\">\n</definition></ioc>", wantErr: "line 4: malformed XML"},
		{name: "truncated", doc: string(oldbait[:len(oldbait)/2]), wantErr: "malformed XML"},
		{name: "empty", doc: "", wantErr: "no XML element"},
		{name: "not openioc", doc: `<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1"/>`, wantErr: "not OpenIOC"},
		{name: "no definition", doc: `<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="x"><short_description>x</short_description></ioc>`, wantErr: "no definition section"},
		{name: "too deep", doc: deep, errIs: openioc.ErrTooDeep},
		{name: "utf-16", doc: "\xff\xfe<\x00i\x00o\x00c\x00", wantErr: "UTF-16"},
		{name: "unknown term", doc: string(unknownTerm), skipped: 1, indic: 2},
		{name: "unknown condition", doc: string(unknownCond), skipped: 1, indic: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, st, err := importBytes(t, []byte(tc.doc), "bad.ioc")
			if tc.wantErr != "" || tc.errIs != nil {
				if err == nil {
					t.Fatalf("no error; imported %s", st.String())
				}
				if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				if tc.errIs != nil && !errors.Is(err, tc.errIs) {
					t.Errorf("error %q is not %v", err, tc.errIs)
				}
				if !strings.Contains(err.Error(), "bad.ioc") {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Skipped != tc.skipped || len(byType(c, intel.TypeIndicator)) != tc.indic {
				t.Errorf("skipped %d, indicators %d; want %d, %d (%v)", st.Skipped, len(byType(c, intel.TypeIndicator)), tc.skipped, tc.indic, st.Errors)
			}
			for _, e := range st.Errors {
				if e.Line == 0 || e.File != "bad.ioc" {
					t.Errorf("record error without position: %v", e)
				}
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	doc := `<ioc xmlns="http://schemas.mandiant.com/2010/ioc"><description>` + strings.Repeat("x", 4096) + `</description></ioc>`
	var c intel.Collector
	_, err := openioc.Importer{MaxBytes: 1024}.Import(context.Background(), strings.NewReader(doc), "big.ioc", intel.DefaultOptions(), &c)
	if !errors.Is(err, openioc.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if len(c.Objects) != 0 {
		t.Errorf("objects emitted before the failure: %d", len(c.Objects))
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		head, name string
		want       bool
	}{
		{`<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="1">`, "x.xml", true},
		{`<OpenIOC xmlns="http://openioc.org/schemas/OpenIOC_1.1">`, "x", true},
		{`<ioc id="1">`, "a.ioc", true},
		{`{"type": "bundle"}`, "a.ioc", false},
		{`<html>`, "index.html", false},
	}
	for _, tc := range tests {
		if got := (openioc.Importer{}).Sniff([]byte(tc.head), tc.name); got != tc.want {
			t.Errorf("Sniff(%q, %q) = %v", tc.head, tc.name, got)
		}
	}
}

func FuzzOpenIOC(f *testing.F) {
	for _, name := range []string{"apt28-domains.ioc", "apt28-oldbait.ioc", "v11-mixed.ioc"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><ioc/>`))
	f.Add([]byte(`<ioc xmlns="http://schemas.mandiant.com/2010/ioc"><definition><Indicator operator="AND"><IndicatorItem condition="is"><Context search="PortItem/remotePort"/><Content>80</Content></IndicatorItem></Indicator></definition></ioc>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c intel.Collector
		st, err := openioc.Importer{MaxBytes: 1 << 20}.Import(context.Background(), bytes.NewReader(data), "fuzz.ioc", intel.DefaultOptions(), &c)
		if err != nil {
			return
		}
		for _, o := range c.Objects {
			if o.ID == "" || !json.Valid(o.Raw) {
				t.Fatalf("bad object %+v", o)
			}
			if o.Indicator != nil && o.Indicator.PatternType == "stix" {
				if _, err := pattern.Parse(o.Indicator.Pattern); err != nil {
					t.Fatalf("generated pattern %q does not parse: %v", o.Indicator.Pattern, err)
				}
			}
		}
		if st.Network+st.HostOnly != len(byType(&c, intel.TypeIndicator)) {
			t.Fatalf("counts %d+%d for %d indicators", st.Network, st.HostOnly, len(byType(&c, intel.TypeIndicator)))
		}
	})
}
