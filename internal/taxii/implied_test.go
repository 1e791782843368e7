package taxii_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/taxii"
)

// A list imported with --actor says of every indicator that it indicates
// the actor. The intel collection serves those relationships like any
// other object: listed in added order beside their indicators, each once
// across pages, found by id and by match[id], in the manifest, and as
// many as the store counts.
func TestImpliedRelationshipsServed(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{MaxPage: 1000})
	f.importFile(shared+"/intel/stix/apt1.json", "apt1.json")
	opt := intel.DefaultOptions()
	opt.Source, opt.Actor = "apt1-fqdn", "APT1"
	if _, err := hunt.Import(context.Background(), f.db, hunt.ImportOptions{Paths: []string{shared + "/intel/apt1/apt1-fqdn.dat"}, Labels: opt}); err != nil {
		t.Fatal(err)
	}
	want, err := f.db.Count(context.Background(), "relationship")
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]relHead{}
	indicators := map[string]bool{}
	for _, h := range f.all("amber", intelC+"objects/", 97) {
		switch h.Type {
		case "indicator":
			indicators[h.ID] = true
		case "relationship":
			if _, dup := served[h.ID]; dup {
				t.Fatalf("%s served twice", h.ID)
			}
			served[h.ID] = relHead{}
		}
	}
	rels := f.all("amber", intelC+"objects/?match[type]=relationship", 89)
	if len(served) != want || len(rels) != want || want < 2000 {
		t.Fatalf("the store counts %d relationships; %d served in the whole collection, %d under match[type]", want, len(served), len(rels))
	}
	implied := 0
	for _, h := range rels {
		r := f.relationship(h.ID)
		if r.Type == "indicates" && r.Target != "" && indicators[r.Source] {
			implied++
		}
	}
	if implied < 2000 {
		t.Fatalf("%d relationships indicate an actor from a served indicator", implied)
	}
	ids := []string{rels[len(rels)-1].ID, rels[len(rels)/2].ID}
	got := f.all("amber", intelC+"objects/?match[id]="+ids[0]+","+ids[1], 10)
	if len(got) != 2 || !slices.ContainsFunc(got, func(h stixHead) bool { return h.ID == ids[0] }) {
		t.Fatalf("match[id] of two relationships: %v", got)
	}
	inManifest := 0
	for _, m := range f.manifest("amber", intelC+"manifest/") {
		if strings.HasPrefix(m["id"], "relationship--") {
			inManifest++
		}
	}
	if inManifest != want {
		t.Fatalf("manifest: %d relationships, want %d", inManifest, want)
	}
}

type relHead struct {
	Type   string `json:"relationship_type"`
	Source string `json:"source_ref"`
	Target string `json:"target_ref"`
}

// relationship GETs one relationship by its id.
func (f *fixture) relationship(id string) relHead {
	f.t.Helper()
	e, r := f.envelope("amber", intelC+"objects/"+id+"/")
	if r.code != http.StatusOK || len(e.Objects) != 1 {
		f.t.Fatalf("GET %s: %d, %d objects", id, r.code, len(e.Objects))
	}
	var h relHead
	if err := json.Unmarshal(e.Objects[0], &h); err != nil {
		f.t.Fatal(err)
	}
	return h
}
