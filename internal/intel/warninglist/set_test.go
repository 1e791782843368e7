package warninglist_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
)

func wl(name, typ string, attrs []string, entries ...string) *intel.Warninglist {
	return &intel.Warninglist{Name: name, MatchType: typ, Attributes: attrs, Entries: entries}
}

var (
	ipAttrs     = []string{"ip-src", "ip-dst", "domain|ip"}
	domainAttrs = []string{"hostname", "domain", "url", "domain|ip"}
	emailAttrs  = []string{"email-src", "email-dst"}
)

func testSet(t *testing.T) *warninglist.Set {
	t.Helper()
	s, skipped, err := warninglist.NewSet([]*intel.Warninglist{
		wl("hosts", "hostname", domainAttrs, "example.com", "*.cdn.example.net"),
		wl("strings", "string", domainAttrs, ".google.com", "google.com", "Docs.Example.ORG"),
		wl("wide", "cidr", ipAttrs, "10.0.0.0/8", "2001:db8::/32"),
		wl("narrow", "cidr", ipAttrs, "10.1.0.0/16", "192.0.2.1"),
		wl("disposable", "substring", emailAttrs, "0-mail.com", "trashmail"),
		wl("contacts", "regex", emailAttrs, `/^(abuse|noc)\@.*$/i`, `/(?=lookahead)x/`),
		wl("hashes", "string", []string{"md5"}, "d41d8cd98f00b204e9800998ecf8427e"),
		wl("anything", "string", nil, "needle"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].List != "contacts" || !strings.Contains(skipped[0].Error(), "RE2") {
		t.Errorf("skipped = %v, want the look-ahead regex", skipped)
	}
	return s
}

func TestSetSemantics(t *testing.T) {
	s := testSet(t)
	tests := []struct {
		t     intel.ValueType
		value string
		want  []string
	}{
		{intel.Domain, "example.com", []string{"hosts"}},
		{intel.Domain, "a.b.Example.com.", []string{"hosts"}},
		{intel.Domain, "badexample.com", nil},
		{intel.Domain, "com", nil},
		{intel.Domain, "img.cdn.example.net", []string{"hosts"}},
		{intel.Domain, "mail.google.com", []string{"strings"}},
		{intel.Domain, "google.com", []string{"strings"}},
		{intel.Domain, "notgoogle.com", nil},
		{intel.Domain, "docs.example.org", []string{"strings"}},
		{intel.URL, "https://mail.google.com:443/x?y", []string{"strings"}},
		{intel.URL, "http://user@www.example.com/path", []string{"hosts"}},
		{intel.IPv4, "10.1.2.3", []string{"wide", "narrow"}},
		{intel.IPv4, "10.2.0.1", []string{"wide"}},
		{intel.IPv4, "192.0.2.1", []string{"narrow"}},
		{intel.IPv4, "192.0.2.2", nil},
		{intel.IPv6, "2001:db8::1", []string{"wide"}},
		{intel.CIDR, "10.1.128.0/24", []string{"wide", "narrow"}},
		{intel.CIDR, "10.0.0.0/7", nil},
		{intel.Domain, "10.1.2.3", nil}, // cidr lists apply to addresses only
		{intel.Email, "bob@x0-mail.com", []string{"disposable"}},
		{intel.Email, "BOB@TrashMail.example", []string{"disposable"}},
		{intel.Email, "NOC@example.org", []string{"contacts"}},
		{intel.Email, "alice@example.org", nil},
		{intel.MD5, "D41D8CD98F00B204E9800998ECF8427E", []string{"hashes"}},
		{intel.Domain, "d41d8cd98f00b204e9800998ecf8427e", nil}, // the hash list is for md5 only
		{intel.FileName, "needle", []string{"anything"}},        // no attributes: every type
		{intel.UnknownType, "10.1.2.3", []string{"wide", "narrow"}},
		{intel.UnknownType, "abuse@example.org", []string{"contacts"}},
		{intel.Domain, "", nil},
	}
	for _, tc := range tests {
		got := s.Check(tc.t, tc.value)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Check(%s, %q) (-want +got):\n%s", tc.t, tc.value, diff)
		}
		if s.Hit(tc.t, tc.value) != (len(tc.want) > 0) {
			t.Errorf("Hit(%s, %q) disagrees with Check", tc.t, tc.value)
		}
	}
	if typ, got := s.CheckValue(" 10.1.2.3 "); typ != intel.IPv4 || len(got) != 2 {
		t.Errorf("CheckValue = %s %v", typ, got)
	}
	var nilSet *warninglist.Set
	if nilSet.Check(intel.Domain, "example.com") != nil {
		t.Error("nil set hit")
	}
}

func TestFlag(t *testing.T) {
	s := testSet(t)
	var c intel.Collector
	sink := &warninglist.FlaggingSink{Set: s, Next: &c}
	on := &intel.Object{ID: "indicator--1", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{
		Observables: []intel.Observable{{Type: intel.Domain, Value: "evil.example"}, {Type: intel.IPv4, Value: "10.1.0.9"}}}}
	off := &intel.Object{ID: "indicator--2", Type: intel.TypeIndicator, Indicator: &intel.IndicatorSpec{
		Observables: []intel.Observable{{Type: intel.Domain, Value: "evil.example"}}}}
	for _, o := range []*intel.Object{on, off, {ID: "x", Type: intel.TypeIntrusionSet}} {
		if err := sink.Put(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"wide", "narrow"}, c.Objects[0].Indicator.Warninglists); diff != "" {
		t.Errorf("flagged (-want +got):\n%s", diff)
	}
	if c.Objects[1].Indicator.Warninglists != nil || sink.Flagged != 1 {
		t.Errorf("unlisted indicator flagged: %v (%d)", c.Objects[1].Indicator.Warninglists, sink.Flagged)
	}
}

func TestImportErrors(t *testing.T) {
	tests := map[string]string{
		"no name":      `{"list": ["a"], "type": "string"}`,
		"unknown type": `{"name": "x", "list": ["a"], "type": "glob"}`,
		"no list":      `{"name": "x", "type": "string"}`,
		"truncated":    `{"name": "x", "list": ["a", "b"`,
		"not object":   `["a"]`,
		"bad list":     `{"name": "x", "list": "a"}`,
		"empty":        ``,
		"trailing":     `{"name": "x", "list": []} {}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			var c intel.Collector
			_, err := warninglist.Importer{}.Import(context.Background(), strings.NewReader(doc), "list.json", intel.DefaultOptions(), &c)
			if err == nil || !strings.Contains(err.Error(), "list.json") {
				t.Errorf("err = %v, want an error naming the file", err)
			}
			if len(c.Warninglists) != 0 {
				t.Error("list emitted from a rejected file")
			}
		})
	}
	// Bad entries are skipped with their offsets; the list is kept.
	doc := `{"name": "cidrs", "type": "cidr", "list": ["10.0.0.0/8", "not-a-cidr", "192.0.2.1", "10.0.0.0/8"], "matching_attributes": ["ip-dst"]}`
	var c intel.Collector
	st, err := warninglist.Importer{}.Import(context.Background(), strings.NewReader(doc), "list.json", intel.DefaultOptions(), &c)
	if err != nil {
		t.Fatal(err)
	}
	var ve *intel.ValueError
	if st.Skipped != 1 || st.Errors[0].Offset != 57 || !errors.As(st.Errors[0], &ve) {
		t.Errorf("skipped %d: %v", st.Skipped, st.Errors)
	}
	if diff := cmp.Diff([]string{"10.0.0.0/8", "192.0.2.1/32", "10.0.0.0/8"}, c.Warninglists[0].Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if c.Warninglists[0].Category != "false-positive" {
		t.Errorf("category %q", c.Warninglists[0].Category)
	}
}

func TestNoAllocOnMiss(t *testing.T) {
	lists, _ := importAll(t, listsDir(t))
	s, _, err := warninglist.NewSet(lists)
	if err != nil {
		t.Fatal(err)
	}
	misses := []struct {
		t intel.ValueType
		v string
	}{
		{intel.Domain, "kavkazcentr.info"},
		{intel.IPv4, "137.175.4.132"}, // an APT18 C2 address
		{intel.URL, "http://n0vinite.com/watch?v=1"},
		{intel.Email, "sender@n0vinite.com"},
		{intel.MD5, "8c4fa713c5e2b009114adda758adc445"},
		{intel.Domain, "Mixed.Case.Example-Unlisted.INFO"},
	}
	for _, m := range misses {
		if got := s.Check(m.t, m.v); got != nil {
			t.Fatalf("%s on %v", m.v, got)
		}
		if raceDetector && m.t == intel.Email {
			t.Logf("%s: the e-mail lists are regexes; counted without the race detector (make test)", m.v)
			continue
		}
		if n := testing.AllocsPerRun(100, func() { s.Check(m.t, m.v) }); n != 0 {
			t.Errorf("Check(%s, %q) allocates %.0f times on a miss", m.t, m.v, n)
		}
	}
}

// BenchmarkImportAllWarninglists reads every list of the MISP snapshot
// from disk and compiles the Set (target: under 5 s). cpu-ns/op is the CPU
// time, which a loaded machine does not inflate.
func BenchmarkImportAllWarninglists(b *testing.B) {
	dir := listsDir(b)
	start := cpuTime()
	for b.Loop() {
		lists, _ := importAll(b, dir)
		if _, _, err := warninglist.NewSet(lists); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkCheck(b *testing.B) {
	lists, _ := importAll(b, listsDir(b))
	s, _, err := warninglist.NewSet(lists)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		t    intel.ValueType
		v    string
	}{
		{"domain-miss", intel.Domain, "c2.kavkazcentr.info"},
		{"domain-hit", intel.Domain, "mail.google.com"},
		{"ipv4-miss", intel.IPv4, "137.175.4.132"},
		{"ipv4-hit", intel.IPv4, "8.8.8.8"},
		{"url-miss", intel.URL, "http://n0vinite.com/watch?v=1"},
		{"email-miss", intel.Email, "sender@n0vinite.com"},
		{"md5-miss", intel.MD5, "8c4fa713c5e2b009114adda758adc445"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Hit(c.t, c.v)
			}
		})
	}
}

func FuzzWarninglist(f *testing.F) {
	f.Add([]byte(`{"name":"h","type":"hostname","list":["example.com","*.x.org"],"matching_attributes":["domain"]}`), "a.example.com")
	f.Add([]byte(`{"name":"c","type":"cidr","list":["10.0.0.0/8","::1"]}`), "10.1.1.1")
	f.Add([]byte(`{"name":"s","type":"substring","list":["ab","b","abc"]}`), "xxabcxx")
	f.Add([]byte(`{"name":"r","type":"regex","list":["/^a.*b$/i","#x#"]}`), "AxB")
	f.Add([]byte(`{"name":"t","type":"string","list":[".google.com",1]}`), "a.google.com")
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		var c intel.Collector
		if _, err := (warninglist.Importer{}).Import(context.Background(), bytes.NewReader(data), "list.json", intel.DefaultOptions(), &c); err != nil {
			return
		}
		s, _, err := warninglist.NewSet(c.Warninglists)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []intel.ValueType{intel.UnknownType, intel.Domain, intel.IPv4, intel.URL, intel.Email} {
			got := s.Check(typ, value)
			if (len(got) > 0) != s.Hit(typ, value) {
				t.Fatalf("Check and Hit disagree on %q", value)
			}
		}
	})
}
