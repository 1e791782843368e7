package misp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/misp"
)

const (
	tlpAmber1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	tlpRed1   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
	tlpWhite1 = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	apt28ID   = "intrusion-set--5b4ee3ea-eee3-4c8e-8323-85ae32658754"
)

func uuidN(n int) string {
	return "5f1c0000-0000-4000-8000-" + strings.Repeat("0", 12-len(hex(n))) + hex(n)
}

func hex(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 16 {
		b = append([]byte{digits[n%16]}, b...)
	}
	return string(b)
}

func importFile(t *testing.T, path string, opt intel.Options) (*intel.Collector, intel.Stats) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !(misp.Importer{}).Sniff(data[:min(4096, len(data))], path) {
		t.Errorf("%s not sniffed as MISP", path)
	}
	var c intel.Collector
	st, err := misp.Importer{}.Import(context.Background(), bytes.NewReader(data), path, opt, &c)
	if err != nil {
		t.Fatal(err)
	}
	return &c, st
}

func objects(c *intel.Collector) map[string]*intel.Object {
	m := map[string]*intel.Object{}
	for _, o := range c.Objects {
		m[o.ID] = o
	}
	return m
}

func TestEveryMappedType(t *testing.T) {
	c, st := importFile(t, filepath.Join("testdata", "event-all-types.json"), intel.DefaultOptions())
	if st.Skipped != 0 {
		t.Fatalf("skipped: %v", st.Errors)
	}
	objs := objects(c)
	ind := func(n int) *intel.Object {
		t.Helper()
		o := objs["indicator--"+uuidN(n)]
		if o == nil || o.Indicator == nil {
			t.Fatalf("no indicator for attribute %d", n)
		}
		return o
	}
	type want struct {
		pattern string
		obs     []intel.Observable
	}
	ob := func(t intel.ValueType, v string) intel.Observable { return intel.Observable{Type: t, Value: v} }
	tests := map[int]want{
		1:  {"[ipv4-addr:value = '198.51.100.23']", []intel.Observable{ob(intel.IPv4, "198.51.100.23")}},
		2:  {"[ipv4-addr:value ISSUBSET '203.0.113.0/24']", []intel.Observable{ob(intel.CIDR, "203.0.113.0/24")}},
		3:  {"[network-traffic:src_ref.value = '198.51.100.24' AND network-traffic:src_port = 4444]", nil},
		4:  {"[network-traffic:dst_ref.value = '2001:db8::7' AND network-traffic:dst_port = 443]", []intel.Observable{{Type: intel.IPv6, Value: "2001:db8::7", Port: 443}}},
		5:  {"[domain-name:value = 'evil-updates.example.net']", []intel.Observable{ob(intel.Domain, "evil-updates.example.net")}},
		6:  {"[domain-name:value = 'c2.evil-updates.example.net']", []intel.Observable{ob(intel.Domain, "c2.evil-updates.example.net")}},
		7:  {"[domain-name:value = 'login-osce.example.org'] OR [ipv4-addr:value = '192.0.2.77']", []intel.Observable{ob(intel.Domain, "login-osce.example.org"), ob(intel.IPv4, "192.0.2.77")}},
		8:  {"[url:value = 'http://evil-updates.example.net/gate.php?id=1']", []intel.Observable{ob(intel.URL, "http://evil-updates.example.net/gate.php?id=1")}},
		9:  {"[url:value LIKE '%/wp-content/plugins/ajax.php']", []intel.Observable{ob(intel.URIPath, "/wp-content/plugins/ajax.php")}},
		10: {"[file:hashes.MD5 = '8c4fa713c5e2b009114adda758adc445']", []intel.Observable{ob(intel.MD5, "8c4fa713c5e2b009114adda758adc445")}},
		11: {"[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", []intel.Observable{ob(intel.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")}},
		12: {"[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']", []intel.Observable{ob(intel.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")}},
		13: {"[file:hashes.MD5 = '3b0ecd011500f61237c205834db0e13a']", []intel.Observable{ob(intel.MD5, "3b0ecd011500f61237c205834db0e13a")}},
		14: {"[file:hashes.'SHA-1' = '5ba4f2f4c2e2c1f5e0a5f7e3e5d1c2b3a4f5e6d7']", []intel.Observable{ob(intel.SHA1, "5ba4f2f4c2e2c1f5e0a5f7e3e5d1c2b3a4f5e6d7")}},
		15: {"[file:hashes.'SHA-256' = '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae']", []intel.Observable{ob(intel.SHA256, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")}},
		16: {"[email-addr:value = 'phisher@evil-updates.example.net']", []intel.Observable{ob(intel.Email, "phisher@evil-updates.example.net")}},
		17: {"[email-addr:value = 'victim@example.com']", []intel.Observable{ob(intel.Email, "victim@example.com")}},
		18: {"[email-message:subject = 'Invitation: NATO summit agenda']", []intel.Observable{ob(intel.EmailSubj, "Invitation: NATO summit agenda")}},
		19: {"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0 (Windows NT 6.1; SV1) XAgent']", []intel.Observable{ob(intel.UserAgent, "Mozilla/5.0 (Windows NT 6.1; SV1) XAgent")}},
		20: {"[x-ja3:value = 'e7d705a3286e19ea42f587b344ee6865']", []intel.Observable{ob(intel.JA3, "e7d705a3286e19ea42f587b344ee6865")}},
		21: {"[x509-certificate:hashes.'SHA-1' = 'a91d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c']", []intel.Observable{ob(intel.X509SHA1, "a91d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c")}},
		22: {"[x509-certificate:hashes.'SHA-256' = '8f43288ad272f3103b6fb1428485ea3014c0bcf547a2f1d2c2ad0e4a9e2d3c1f']", []intel.Observable{ob(intel.X509SHA256, "8f43288ad272f3103b6fb1428485ea3014c0bcf547a2f1d2c2ad0e4a9e2d3c1f")}},
		23: {"[autonomous-system:number = 64500]", []intel.Observable{ob(intel.ASN, "AS64500")}},
	}
	for n, w := range tests {
		o := ind(n)
		got := want{o.Indicator.Pattern, o.Indicator.Observables}
		if diff := cmp.Diff(w, got, cmp.AllowUnexported(want{})); diff != "" {
			t.Errorf("attribute %d (%s) (-want +got):\n%s", n, o.Labels[0], diff)
		}
		if o.Indicator.Context || o.Indicator.HostOnly || o.Indicator.PatternType != "stix" {
			t.Errorf("attribute %d: context %v host-only %v type %s, want a network detection indicator", n, o.Indicator.Context, o.Indicator.HostOnly, o.Indicator.PatternType)
		}
		if diff := cmp.Diff([]string{tlpAmber1, misp.DistributionMarkingID("3", "")}, o.Markings); diff != "" {
			t.Errorf("attribute %d markings (-want +got):\n%s", n, diff)
		}
	}
	if o := ind(13); o.Name != "coreshell.dll (3b0ecd011500f61237c205834db0e13a)" {
		t.Errorf("filename|md5 name %q", o.Name)
	}
	// to_ids false, unmapped types: context; host types with to_ids: host-only.
	for n, kind := range map[int]string{24: "context", 25: "context", 26: "host", 27: "context", 28: "context", 34: "context", 33: "network", 103: "context"} {
		o := ind(n)
		got := "network"
		if o.Indicator.Context {
			got = "context"
		} else if o.Indicator.HostOnly {
			got = "host"
		}
		if got != kind {
			t.Errorf("attribute %d (%v) is %s, want %s", n, o.Labels, got, kind)
		}
	}
	// Attribute markings override the event's TLP and distribution.
	if diff := cmp.Diff([]string{tlpRed1, misp.DistributionMarkingID("0", "")}, ind(29).Markings); diff != "" {
		t.Errorf("tlp:red attribute markings (-want +got):\n%s", diff)
	}
	sg := ind(30).Markings[1]
	if m := objs[sg]; m == nil || !strings.Contains(m.Marking.Statement, "NATO CERTs") {
		t.Errorf("sharing-group marking %v", m)
	}
	if !ind(31).Revoked {
		t.Error("deleted attribute not revoked")
	}
	if m := objs[tlpAmber1]; m == nil || m.Marking.TLP != "amber" || m.Marking.TLPVersion != "1.0" {
		t.Errorf("TLP amber marking object %+v", m)
	}
	// The APT28 galaxy cluster is the actor, with the galaxy file's id.
	actor := objs[apt28ID]
	if actor == nil || actor.Actor.Country != "RU" || actor.AttackID() != "G0007" {
		t.Fatalf("APT28 actor %+v", actor)
	}
	indicates := map[string][]string{}
	for _, o := range c.Objects {
		if o.Relationship != nil && o.Relationship.Type == "indicates" {
			indicates[o.Relationship.TargetRef] = append(indicates[o.Relationship.TargetRef], o.Relationship.SourceRef)
		}
	}
	// All 35 attributes and the 3 object attributes indicate APT28; the
	// APT1-tagged one indicates APT1 as well.
	if n := len(indicates[apt28ID]); n != 38 {
		t.Errorf("%d indicators indicate APT28, want 38", n)
	}
	// The event's galaxy tag names the cluster it came with: one APT28, not two.
	if st.Objects[intel.TypeIntrusionSet] != 2 {
		t.Errorf("%d intrusion sets, want APT28 (cluster) and APT1 (tag)", st.Objects[intel.TypeIntrusionSet])
	}
	apt1 := indicates[intel.DeriveID(intel.TypeIntrusionSet, "misp-galaxy", "apt1")]
	if diff := cmp.Diff([]string{"indicator--" + uuidN(32)}, apt1); diff != "" {
		t.Errorf("APT1 indicators (-want +got):\n%s", diff)
	}
	// Object attributes carry their object.
	if o := ind(102); !strings.Contains(string(o.Raw), `"domain-ip"`) || o.Indicator.Observables[0].Value != "192.0.2.102" {
		t.Errorf("object attribute %s %s", o.Indicator.Pattern, o.Raw)
	}
	// The event is a report listing its indicators.
	rep := objs["report--"+uuidN(0)]
	if rep == nil || rep.Name != "APT28 spear-phishing campaign (whodunit test event)" || rep.CreatedBy == "" {
		t.Fatalf("report %+v", rep)
	}
	var raw struct {
		Refs []string `json:"object_refs"`
	}
	if err := json.Unmarshal(rep.Raw, &raw); err != nil || len(raw.Refs) != 38 {
		t.Errorf("report object_refs %d (%v)", len(raw.Refs), err)
	}
	if st.Network != 31 || st.HostOnly != 1 { // 23 mapped types, 29–33, 35 and two object attributes
		t.Errorf("network %d host-only %d, want 31 and 1", st.Network, st.HostOnly)
	}
}

func TestBadAttributes(t *testing.T) {
	c, st := importFile(t, filepath.Join("testdata", "event-bad-attributes.json"), intel.DefaultOptions())
	if st.Skipped != 4 {
		t.Fatalf("skipped %d, want 4: %v", st.Skipped, st.Errors)
	}
	wantErr := []string{`unknown MISP attribute type "ip-sorce"`, "999.1.1.1", "no '|'", "attribute: json"}
	for i, e := range st.Errors {
		if !strings.Contains(e.Error(), wantErr[i]) || e.Offset == 0 {
			t.Errorf("error %d = %v, want %q with an offset", i, e, wantErr[i])
		}
	}
	if len(objects(c)) == 0 || objects(c)["indicator--"+uuidN(203)] == nil {
		t.Error("the good attribute was not imported")
	}
}

func TestRejectedFiles(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "event-all-types.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"truncated":   string(good[:len(good)/2]),
		"empty":       "",
		"not json":    "<xml/>",
		"no event":    `{"foo": 1}`,
		"bad tag":     `{"Event": {"info": "x", "Tag": "tlp:red"}}`,
		"trailing":    `{"Event": {"info": "x"}} {"Event": {}}`,
		"attr object": `{"Event": {"info": "x", "Attribute": {"type": "domain"}}}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			var c intel.Collector
			_, err := misp.Importer{}.Import(context.Background(), strings.NewReader(doc), "bad.json", intel.DefaultOptions(), &c)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "bad.json") {
				t.Errorf("error %q does not name the file", err)
			}
			if len(c.Objects) != 0 {
				t.Errorf("%d objects emitted from a rejected file", len(c.Objects))
			}
		})
	}
}

func TestShapes(t *testing.T) {
	ev := `{"uuid": "` + uuidN(500) + `", "info": "shape", "date": "2020-01-01", "Attribute": [{"uuid": "` + uuidN(501) + `", "type": "domain", "value": "shape.example", "to_ids": true}]}`
	for name, doc := range map[string]string{
		"wrapped":  `{"Event": ` + ev + `}`,
		"response": `{"response": [{"Event": ` + ev + `}]}`,
		"array":    `[{"Event": ` + ev + `}]`,
		"bare":     ev,
	} {
		t.Run(name, func(t *testing.T) {
			if !(misp.Importer{}).Sniff([]byte(doc), "x.json") {
				t.Error("not sniffed")
			}
			var c intel.Collector
			st, err := misp.Importer{}.Import(context.Background(), strings.NewReader(doc), "x.json", intel.DefaultOptions(), &c)
			if err != nil {
				t.Fatal(err)
			}
			if st.Network != 1 || objects(&c)["indicator--"+uuidN(501)] == nil {
				t.Errorf("stats %s", st.String())
			}
		})
	}
}

func TestOptions(t *testing.T) {
	opt := intel.DefaultOptions()
	opt.TLP, opt.Confidence, opt.Actor = "green", 70, "Sofacy"
	c, _ := importFile(t, filepath.Join("testdata", "event-bad-attributes.json"), opt)
	o := objects(c)["indicator--"+uuidN(203)]
	green2 := "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	if o.Confidence != 70 || len(o.Markings) == 0 || o.Markings[0] != green2 {
		t.Errorf("confidence %d markings %v", o.Confidence, o.Markings)
	}
	found := false
	for _, x := range c.Objects {
		found = found || x.Relationship != nil && x.Relationship.SourceRef == o.ID && x.Relationship.TargetRef == intel.DeriveID(intel.TypeIntrusionSet, "misp-galaxy", "sofacy")
	}
	if !found {
		t.Error("--actor did not link the indicators")
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestFeed(t *testing.T) {
	dir := filepath.Join("testdata", "feed")
	if !(misp.FeedImporter{}).IsDir(dir) || (misp.FeedImporter{}).IsDir("testdata") {
		t.Error("IsDir")
	}
	var c intel.Collector
	st, err := misp.ImportFeed(context.Background(), dir, intel.DefaultOptions(), &c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != 0 || st.Network != 4 || st.Objects[intel.TypeReport] != 2 {
		t.Fatalf("stats %s network %d: %v", st.String(), st.Network, st.Errors)
	}
	o := objects(&c)["indicator--"+uuidN(3011)]
	if o == nil || o.Indicator.Observables[0] != (intel.Observable{Type: intel.IPv4, Value: "192.0.2.51", Port: 8080}) || o.Markings[0] != tlpWhite1 {
		t.Errorf("feed attribute %+v", o)
	}

	// A tampered event value and a stale hashes.csv line are reported.
	tmp := copyDir(t, dir)
	p := filepath.Join(tmp, uuidN(302)+".json")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, bytes.Replace(b, []byte("feed-two.example.net/a"), []byte("feed-two.example.net/b"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "stray.json"), []byte(`{"Event": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var c2 intel.Collector
	st, err = misp.ImportFeed(context.Background(), tmp, intel.DefaultOptions(), &c2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != 3 || st.Network != 3 {
		t.Fatalf("tampered feed: %s, network %d: %v", st.String(), st.Network, st.Errors)
	}
	if !errors.Is(st.Errors[0], misp.ErrHashMismatch) || st.Errors[0].Offset == 0 ||
		!errors.Is(st.Errors[1], misp.ErrHashMismatch) || st.Errors[1].Line != 4 ||
		!strings.Contains(st.Errors[2].Error(), "stray.json") {
		t.Errorf("errors: %v", st.Errors)
	}

	// A manifest entry without its file is skipped; a broken manifest fails.
	if err := os.Remove(filepath.Join(tmp, uuidN(301)+".json")); err != nil {
		t.Fatal(err)
	}
	st, err = misp.ImportFeed(context.Background(), tmp, intel.DefaultOptions(), &intel.Collector{})
	if err != nil || !strings.Contains(st.Errors[0].Error(), "missing") {
		t.Errorf("missing event: %v %v", err, st.Errors)
	}
	if err := os.WriteFile(filepath.Join(tmp, "manifest.json"), []byte(`{"x": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := misp.ImportFeed(context.Background(), tmp, intel.DefaultOptions(), &intel.Collector{}); err == nil {
		t.Error("broken manifest accepted")
	}
	if _, err := misp.ImportFeed(context.Background(), t.TempDir(), intel.DefaultOptions(), &intel.Collector{}); err == nil {
		t.Error("directory without manifest accepted")
	}
}

func FuzzMISPEvent(f *testing.F) {
	for _, name := range []string{"event-all-types.json", "event-bad-attributes.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"response":[{"Event":{"info":"x","Attribute":[{"type":"ip-dst|port","value":"1.2.3.4|0","to_ids":"1"}]}}]}`))
	f.Add([]byte(`[{"Event":{"info":"x","Object":[{"Attribute":[{"type":"domain|ip","value":"a.b|::1"}]}]}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c intel.Collector
		st, err := misp.Importer{MaxBytes: 1 << 20}.Import(context.Background(), bytes.NewReader(data), "fuzz.json", intel.DefaultOptions(), &c)
		if err != nil {
			return
		}
		n := 0
		for _, o := range c.Objects {
			if o.ID == "" || !json.Valid(o.Raw) {
				t.Fatalf("bad object %+v", o)
			}
			if o.Indicator != nil && !o.Indicator.Context {
				n++
			}
		}
		if n != st.Network+st.HostOnly {
			t.Fatalf("%d detection indicators, counted %d+%d", n, st.Network, st.HostOnly)
		}
	})
}

func FuzzMISPGalaxy(f *testing.F) {
	f.Add([]byte(`{"type":"threat-actor","name":"Threat Actor","uuid":"7cdff317-a673-4474-84ec-4f1754947823","values":[{"value":"APT1","uuid":"1cb7e1cc-d695-42b1-92f4-fd0112a3c9be","meta":{"synonyms":["Comment Crew","G0006"],"country":"CN","refs":["https://attack.mitre.org/groups/G0006/"]},"related":[{"dest-uuid":"1cb7e1cc-d695-42b1-92f4-fd0112a3c9be","type":"similar"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c intel.Collector
		_, err := misp.GalaxyImporter{MaxBytes: 1 << 20}.Import(context.Background(), bytes.NewReader(data), "fuzz.json", intel.DefaultOptions(), &c)
		if err != nil {
			return
		}
		for _, o := range c.Objects {
			if o.ID == "" || !json.Valid(o.Raw) {
				t.Fatalf("bad object %+v", o)
			}
		}
	})
}

// An attribute's own galaxies and tags apply to it alone.
func TestAttributeTagsDoNotLeak(t *testing.T) {
	doc := `{"Event": {"uuid": "` + uuidN(600) + `", "info": "leak", "Attribute": [
	 {"uuid": "` + uuidN(601) + `", "type": "domain", "value": "a.example", "to_ids": true,
	  "Galaxy": [{"type": "threat-actor", "name": "Threat Actor", "GalaxyCluster": [{"uuid": "1cb7e1cc-d695-42b1-92f4-fd0112a3c9be", "value": "APT1", "tag_name": "misp-galaxy:threat-actor=\"APT1\""}]}]},
	 {"uuid": "` + uuidN(602) + `", "type": "domain", "value": "b.example", "to_ids": true,
	  "Tag": [{"name": "misp-galaxy:threat-actor=\"APT1\""}, {"name": "tlp:green"}]},
	 {"uuid": "` + uuidN(603) + `", "type": "domain", "value": "c.example", "to_ids": true}]}}`
	var c intel.Collector
	if _, err := (misp.Importer{}).Import(context.Background(), strings.NewReader(doc), "leak.json", intel.DefaultOptions(), &c); err != nil {
		t.Fatal(err)
	}
	targets := map[string][]string{}
	for _, o := range c.Objects {
		if o.Relationship != nil {
			targets[o.Relationship.SourceRef] = append(targets[o.Relationship.SourceRef], o.Relationship.TargetRef)
		}
	}
	want := map[string][]string{
		"indicator--" + uuidN(601): {"intrusion-set--1cb7e1cc-d695-42b1-92f4-fd0112a3c9be"},
		"indicator--" + uuidN(602): {intel.DeriveID(intel.TypeIntrusionSet, "misp-galaxy", "apt1")},
	}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("indicates (-want +got):\n%s", diff)
	}
	if m := objects(&c)["indicator--"+uuidN(603)].Markings; len(m) != 0 {
		t.Errorf("tlp:green of another attribute leaked: %v", m)
	}
}
