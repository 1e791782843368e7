package taxii_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/taxii"
)

// Operators' collections are subsets of the intelligence by actor,
// source and type, read-only, each with a fixed id.
func TestOperatorCollections(t *testing.T) {
	conf := `[{"alias":"apt1-indicators","title":"APT1","actor":"APT1","types":["indicator"]},
	{"alias":"marked","sources":["marked.json"]},
	{"alias":"malware","types":["malware","tool"]}]`
	p := filepath.Join(t.TempDir(), "collections.json")
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cols, err := taxii.LoadCollections(p)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, openStore(t), taxii.Config{Collections: cols})
	f.importFile(shared+"/intel/stix/apt1.json", "apt1.json")
	f.importJSON("marked.json", markedIndicators())
	base := root + "collections/"
	apt1 := f.all("internal", base+"apt1-indicators/objects/", 1000)
	whole := f.all("internal", intelC+"objects/?match[type]=indicator", 1000)
	if len(apt1) == 0 || len(apt1) >= len(whole) {
		t.Fatalf("APT1 indicators: %d of %d", len(apt1), len(whole))
	}
	for _, h := range apt1 {
		if h.Type != "indicator" || strings.HasPrefix(h.ID, "indicator--00000000") {
			t.Fatalf("apt1 collection holds %s", h.ID)
		}
	}
	if got := f.all("internal", base+"marked/objects/", 1000); len(got) != 5 { // RED stays home
		t.Fatalf("marked.json collection: %d objects", len(got))
	}
	for _, h := range f.all("internal", base+"malware/objects/", 1000) {
		if h.Type != "malware" && h.Type != "tool" {
			t.Fatalf("malware collection holds %s", h.ID)
		}
	}
	// a type filter outside the collection's types matches nothing
	if got := f.all("internal", base+"malware/objects/?match[type]=indicator", 1000); len(got) != 0 {
		t.Fatalf("indicators from the malware collection: %d", len(got))
	}
	if r := f.do("POST", "internal", base+"malware/objects/", envelopeOf(medallionObjects(t)[:1])); r.code != 403 {
		t.Fatalf("POST to an operator collection: %d", r.code)
	}
	c := f.get("internal", base+"apt1-indicators/").json(t)
	if c["id"] != taxii.CollectionID("apt1-indicators") || c["can_write"] != false {
		t.Fatalf("collection: %v", c)
	}
	for _, bad := range []string{`[{"alias":"intel"}]`, `[{"alias":"a/b"}]`, `[{"alias":"x","kind":"secret"}]`, `[{"alias":"x","id":"nope"}]`, `{`} {
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := taxii.LoadCollections(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// The same envelope posted twice succeeds twice (stored once).
func TestPostTwice(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{})
	env := envelopeOf(medallionObjects(t))
	a := f.post("writer", inboxC+"objects/", env)
	b := f.post("writer", inboxC+"objects/", env)
	if a["success_count"] != b["success_count"] || b["failure_count"].(float64) != 0 {
		t.Fatalf("first %v, second %v", a, b)
	}
	if got := f.all("internal", intelC+"objects/?match[version]=all", 1000); len(got) != 8 {
		t.Fatalf("stored %d versions", len(got))
	}
}

// Status resources are kept for at least 24 hours (48 here) and then go.
func TestStatusLifetime(t *testing.T) {
	base := newFixture(t, openStore(t), taxii.Config{})
	for _, c := range []struct {
		age  time.Duration
		want int
	}{{47 * time.Hour, 200}, {49 * time.Hour, 404}} {
		age := c.age
		f := base.instance(taxii.Config{Now: func() time.Time { return time.Now().Add(-age) }})
		st := f.post("writer", inboxC+"objects/", envelopeOf(medallionObjects(t)[:1]))
		r := f.get("writer", root+"status/"+st["id"].(string)+"/")
		if r.code != c.want {
			t.Fatalf("status posted %s ago: %d", age, r.code)
		}
		if r.code == 200 {
			var doc map[string]any
			_ = json.Unmarshal(r.body, &doc)
			if doc["total_count"].(float64) != 1 {
				t.Fatalf("status: %s", r.body)
			}
		}
	}
}
