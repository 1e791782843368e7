package stix_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
)

var sharedData = filepath.Join("..", "..", "..", "..", "shared", "data")

func shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedData, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not present: %v", err)
	}
	return p
}

func importBytes(t testing.TB, data []byte) (*intel.Collector, intel.Stats, error) {
	t.Helper()
	var c intel.Collector
	st, err := stix.Importer{}.Import(context.Background(), bytes.NewReader(data), "test.json", intel.DefaultOptions(), &c)
	return &c, st, err
}

func TestAttackBundleCounts(t *testing.T) {
	f, err := os.Open(shared(t, "intel/attack/enterprise-attack.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var c intel.Collector
	st, err := stix.Importer{}.Import(context.Background(), zr, "enterprise-attack.json", intel.DefaultOptions(), &c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"intrusion-set": 187, "malware": 696, "tool": 91, "attack-pattern": 835, "relationship": 20048}
	for typ, n := range want {
		if st.Objects[typ] != n {
			t.Errorf("%s: %d, want %d", typ, st.Objects[typ], n)
		}
	}
	if st.Total() != 24771 || st.Skipped != 0 {
		t.Errorf("total %d skipped %d, want 24771 and 0", st.Total(), st.Skipped)
	}
	var apt1 *intel.Object
	for _, o := range c.Objects {
		if o.Type == intel.TypeIntrusionSet && o.Name == "APT1" {
			apt1 = o
		}
	}
	if apt1 == nil || apt1.AttackID() != "G0006" {
		t.Fatalf("APT1 with G0006 not found: %+v", apt1)
	}
	if diff := cmp.Diff([]string{"APT1", "Comment Crew", "Comment Group", "Comment Panda"}, apt1.Aliases); diff != "" {
		t.Errorf("APT1 aliases (-want +got):\n%s", diff)
	}
	// x_mitre_* custom properties stay in Raw, verbatim.
	if !bytes.Contains(apt1.Raw, []byte(`"x_mitre_version"`)) {
		t.Errorf("custom properties lost from Raw")
	}
}

func TestAPT1Report(t *testing.T) {
	data, err := os.ReadFile(shared(t, "intel/stix/apt1.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, st, err := importBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects["indicator"] != 12 || st.Objects["threat-actor"] != 5 || st.Objects["relationship"] != 30 {
		t.Errorf("stats %v", st.Objects)
	}
	for _, o := range c.Objects {
		if o.Type == intel.TypeThreatActor && o.Name == "Unit 61398" {
			if o.Actor == nil || o.Actor.ResourceLevel != "government" {
				t.Errorf("Unit 61398 actor spec = %+v", o.Actor)
			}
			return
		}
	}
	t.Error("Unit 61398 not read")
}

func TestEveryOASISExampleImports(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(shared(t, "intel/stix"), "*.json"))
	if len(files) == 0 {
		t.Skip("no examples")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !(stix.Importer{}).Sniff(data[:min(len(data), 4096)], f) {
			t.Errorf("%s: not sniffed as STIX", f)
		}
		if _, st, err := importBytes(t, data); err != nil || st.Skipped != 0 {
			t.Errorf("%s: err=%v skipped=%d %v", filepath.Base(f), err, st.Skipped, st.Errors)
		}
	}
}

func TestShapes(t *testing.T) {
	ind := `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","x_acme_score":7}`
	tests := []struct {
		name    string
		doc     string
		want    int
		skipped int
		errText string
	}{
		{"bundle", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + ind + `]}`, 1, 0, ""},
		{"objects before type", `{"objects":[` + ind + `],"id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","type":"bundle"}`, 1, 0, ""},
		{"bare object", ind, 1, 0, ""},
		{"array", `[` + ind + `,` + ind + `]`, 2, 0, ""},
		{"stix 2.0 bundle", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.1']","valid_from":"2016-01-01T00:00:00Z"}]}`, 1, 0, ""},
		{"x- object kept", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"x-acme-widget","id":"x-acme-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","spin":3}]}`, 1, 0, ""},
		{"bad id skipped", `[{"type":"malware","id":"malware--nope","name":"x"},` + ind + `]`, 1, 1, ""},
		{"wrong value type skipped", `[{"type":"malware","id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","name":42},` + ind + `]`, 1, 1, ""},
		{"bad timestamp skipped", `[{"type":"malware","id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"yesterday"}]`, 0, 1, ""},
		{"confidence out of range", `[{"type":"malware","id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","confidence":101}]`, 0, 1, ""},
		{"truncated", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + ind[:60], 0, 0, "offset"},
		{"garbage", "\x00\x01\x02binary", 0, 0, "offset 0"},
		{"empty", "", 0, 0, "empty input"},
		{"trailing data", ind + ` {"a":1}`, 1, 0, "trailing data"},
		{"objects not array", `{"type":"bundle","objects":{}}`, 0, 0, "not an array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, st, err := importBytes(t, []byte(tc.doc))
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) || !strings.Contains(err.Error(), "test.json") {
					t.Fatalf("err = %v, want one naming the file and containing %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Objects) != tc.want || st.Skipped != tc.skipped {
				t.Errorf("got %d objects, %d skipped (%v); want %d, %d", len(c.Objects), st.Skipped, st.Errors, tc.want, tc.skipped)
			}
			for _, e := range st.Errors {
				if e.File != "test.json" || e.Offset <= 0 && tc.name != "bare object" {
					t.Errorf("record error without position: %+v", e)
				}
			}
		})
	}
}

func TestRawIsVerbatimAndFieldsDecoded(t *testing.T) {
	obj := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}}`
	c, _, err := importBytes(t, []byte(obj))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Objects[0]
	var a, b any
	json.Unmarshal([]byte(obj), &a)
	json.Unmarshal(o.Raw, &b)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("raw (-want +got):\n%s", diff)
	}
	if o.Marking == nil || o.Marking.TLP != "amber+strict" || o.Marking.TLPVersion != "2.0" {
		t.Errorf("marking = %+v", o.Marking)
	}
}

func TestObservablesHook(t *testing.T) {
	var calls []string
	imp := stix.Importer{Observables: func(p string) ([]intel.Observable, bool, error) {
		calls = append(calls, p)
		return []intel.Observable{{Type: intel.IPv4, Value: "198.51.100.1"}}, true, nil
	}}
	var c intel.Collector
	doc := `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`
	if _, err := imp.Import(context.Background(), strings.NewReader(doc), "x", intel.DefaultOptions(), &c); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || len(c.Objects[0].Indicator.Observables) != 1 {
		t.Errorf("hook calls %v, observables %v", calls, c.Objects[0].Indicator.Observables)
	}
}

// endless yields an opening of an object and then never closes a string.
type endless struct{ sent bool }

func (e *endless) Read(p []byte) (int, error) {
	if !e.sent {
		e.sent = true
		return copy(p, `[{"type":"malware","description":"`), nil
	}
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestHugeObjectIsBounded(t *testing.T) {
	var c intel.Collector
	_, err := stix.Importer{}.Import(context.Background(), io.LimitReader(&endless{}, 1<<30), "huge.json", intel.DefaultOptions(), &c)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func FuzzImport(f *testing.F) {
	f.Add([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","pattern":"[x:y = 'z']","valid_from":"2016-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`[{"type":"relationship","id":"relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","relationship_type":"uses","source_ref":"a","target_ref":"b"}]`))
	f.Add([]byte(`{"type":"marking-definition","id":"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","definition_type":"tlp","definition":{"tlp":"red"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c intel.Collector
		st, err := stix.Importer{}.Import(context.Background(), bytes.NewReader(data), "fuzz.json", intel.DefaultOptions(), &c)
		if err == nil && st.Total() != len(c.Objects) {
			t.Fatalf("stats say %d objects, sink got %d", st.Total(), len(c.Objects))
		}
		for _, o := range c.Objects {
			if o.ID == "" || o.Type == "" {
				t.Fatalf("object without id/type: %+v", o)
			}
		}
	})
}
