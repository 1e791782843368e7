package taxii_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/taxii"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// medallionObjects are the objects of the reference server's "High Value
// Indicator Collection", without its bookkeeping.
func medallionObjects(t testing.TB) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(shared + "/conformance/taxii/medallion-default_data.json")
	if err != nil {
		t.Skipf("medallion data: %v", err)
	}
	var d map[string]struct {
		Collections []struct {
			ID      string                       `json:"id"`
			Objects []map[string]json.RawMessage `json:"objects"`
		} `json:"collections"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	for _, c := range d["trustgroup1"].Collections {
		if c.ID != "91a7b528-80eb-42ed-a74d-c6fbd5a26116" {
			continue
		}
		for _, o := range c.Objects {
			delete(o, "__meta")
			raw, _ := json.Marshal(o)
			out = append(out, raw)
		}
	}
	if len(out) != 8 {
		t.Fatalf("medallion collection: %d objects", len(out))
	}
	return out
}

func envelopeOf(objs []json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"objects": objs})
	return b
}

// post sends an envelope and returns the status resource.
func (f *fixture) post(key, target string, body []byte) map[string]any {
	f.t.Helper()
	r := f.do(http.MethodPost, key, target, body)
	if r.code != http.StatusAccepted {
		f.t.Fatalf("POST %s: %d %s", target, r.code, r.body)
	}
	return r.json(f.t)
}

// Spec 5.4: a POST is imported in one transaction under the key's name;
// its status counts each object's success or failure, and is kept for
// the key that posted it.
func TestPostStatus(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{})
	good := medallionObjects(t)[1] // indicator--cd981c25
	bad := json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"indicator--12345678-1234-4234-8234-123456789012","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[this is not a pattern","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`)
	st := f.post("writer", inboxC+"objects/", envelopeOf([]json.RawMessage{good, bad}))
	if st["status"] != "complete" || st["total_count"].(float64) != 2 || st["success_count"].(float64) != 1 || st["failure_count"].(float64) != 1 {
		t.Fatalf("status: %v", st)
	}
	fails := st["failures"].([]any)
	if fails[0].(map[string]any)["id"] != "indicator--12345678-1234-4234-8234-123456789012" {
		t.Fatalf("failure: %v", fails)
	}
	id := st["id"].(string)
	got := f.get("writer", root+"status/"+id+"/")
	if got.code != 200 || got.json(t)["success_count"].(float64) != 1 {
		t.Fatalf("status resource: %d %s", got.code, got.body)
	}
	if r := f.get("green", root+"status/"+id+"/"); r.code != 404 {
		t.Fatalf("another key reads the status: %d", r.code)
	}
	if r := f.get("admin", root+"status/"+id+"/"); r.code != 200 {
		t.Fatalf("admin reads the status: %d", r.code)
	}
	// provenance: the object's source is the key's name
	srcs, err := f.db.ObjectSources(context.Background(), "indicator--cd981c25-8042-4166-8945-51178443bdac")
	if err != nil || len(srcs) != 1 || srcs[0].Name != "writer" || srcs[0].Format != "stix" {
		t.Fatalf("sources %+v %v", srcs, err)
	}
	e, _ := f.envelope("amber", intelC+"objects/?match[id]=indicator--cd981c25-8042-4166-8945-51178443bdac")
	if len(e.Objects) != 1 {
		t.Fatal("posted object not in intel")
	}
}

func TestPostRefusals(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{MaxBody: 4096, MaxDepth: 16})
	env := envelopeOf(medallionObjects(t)[:1])
	if r := f.do(http.MethodPost, "writer", inboxC+"objects/", env, "Content-Type", "application/json"); r.code != 415 {
		t.Fatalf("wrong content type: %d", r.code)
	}
	if r := f.do(http.MethodPost, "writer", inboxC+"objects/", env, "Content-Type", "application/stix+json;version=2.1"); r.code != 415 {
		t.Fatalf("stix content type: %d", r.code)
	}
	big := []byte(`{"objects":[` + strings.Repeat(`{"type":"x"},`, 1000) + `{}]}`)
	if r := f.do(http.MethodPost, "writer", inboxC+"objects/", big); r.code != 413 {
		t.Fatalf("oversized: %d", r.code)
	}
	deep := []byte(`{"objects":[` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `]}`)
	if r := f.do(http.MethodPost, "writer", inboxC+"objects/", deep); r.code != 400 {
		t.Fatalf("deep JSON: %d %s", r.code, r.body)
	}
	for _, junk := range []string{`nope`, `{"objects":7}`, `{"objects":[7]}`, `[`} {
		if r := f.do(http.MethodPost, "writer", inboxC+"objects/", []byte(junk)); r.code != 400 {
			t.Errorf("%s: %d %s", junk, r.code, r.body)
		}
	}
	if r := f.do(http.MethodPost, "green", inboxC+"objects/", env); r.code != 403 {
		t.Fatalf("key without write: %d", r.code)
	}
	if r := f.do(http.MethodPost, "internal", intelC+"objects/", env); r.code != 403 {
		t.Fatalf("write to intel: %d", r.code)
	}
	// a refused envelope leaves the store as it was
	if e, _ := f.envelope("internal", intelC+"objects/"); len(e.Objects) != 0 {
		t.Fatalf("refused posts stored %d objects", len(e.Objects))
	}
	if r := f.do(http.MethodDelete, "internal", inboxC+"objects/"+markedID(1)+"/", nil); r.code != 404 {
		t.Fatalf("delete of what is absent: %d", r.code)
	}
	f.post("writer", inboxC+"objects/", env)
	posted := "relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463"
	if r := f.do(http.MethodDelete, "writer", inboxC+"objects/"+posted+"/", nil); r.code != 403 {
		t.Fatalf("delete by a key without a read grant: %d", r.code)
	}
}

// The findings collection shares sightings of indicators, never above
// the indicator's marking.
func TestFindings(t *testing.T) {
	f := apt1Fixture(t)
	now := time.Now().UTC()
	var sg []match.Sighting
	for i := 0; i <= 5; i++ {
		sg = append(sg, match.Sighting{IndicatorID: markedID(i), Type: "domain", Indicator: "level.example", Field: "dns.query",
			Value: "level.example", Time: now, Source: "dns.log", Line: int64(i + 1)})
	}
	if _, err := f.db.PutSightings(context.Background(), sg); err != nil {
		t.Fatal(err)
	}
	seen := func(key string) map[string]bool {
		out := map[string]bool{}
		e, _ := f.envelope(key, findC+"objects/")
		for _, raw := range e.Objects {
			var s struct {
				Type, SightingOfRef string   `json:"-"`
				T                   string   `json:"type"`
				Of                  string   `json:"sighting_of_ref"`
				Marks               []string `json:"object_marking_refs"`
			}
			if err := json.Unmarshal(raw, &s); err != nil || s.T != "sighting" || len(s.Marks) != 1 {
				t.Fatalf("%s", raw)
			}
			out[s.Of] = true
		}
		return out
	}
	amber := seen("amber")
	if !amber[markedID(3)] || !amber[markedID(0)] || amber[markedID(4)] || amber[markedID(5)] || len(amber) != 4 {
		t.Fatalf("amber key sees sightings of %v", amber)
	}
	if internal := seen("internal"); !internal[markedID(4)] || internal[markedID(5)] {
		t.Fatalf("internal key sees %v", internal)
	}
	if green := seen("green"); len(green) != 0 {
		// findings are AMBER by default: the green key sees none
		t.Fatalf("green key sees %v", green)
	}
	if e, _ := f.envelope("amber", findC+"objects/?match[type]=indicator"); len(e.Objects) != 0 {
		t.Fatal("match[type]=indicator on findings")
	}
}
