package intelgraph_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/intel/misp"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/intelgraph"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

var sharedIntel = filepath.Join("..", "..", "..", "shared", "data", "intel")

// originStore imports each file under its label into a fresh store.
func originStore(t *testing.T, files []labelled) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, f := range files {
		if _, err := os.Stat(f.path); err != nil && f.path != "" {
			t.Skipf("data absent: %v", err)
		}
		var r io.Reader = strings.NewReader(f.text)
		if f.path != "" {
			r = open(t, f.path)
		}
		opt := intel.DefaultOptions()
		opt.Actor = f.actor
		src := intel.Source{Name: f.label, Format: f.imp.Name(), SHA256: f.label + f.path + f.text}
		if _, err := db.Import(ctx, src, func(sink intel.Sink) error {
			_, err := f.imp.Import(ctx, r, f.label, opt, sink)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", f.label, err)
		}
	}
	return db
}

type labelled struct {
	label, path, text, actor string
	imp                      intel.Importer
}

// idsOf returns the ids of the objects of type typ whose name or
// pattern contains s.
func idsOf(t *testing.T, db store.Store, typ, s string) []string {
	t.Helper()
	var ids []string
	err := db.Objects(context.Background(), store.ObjectQuery{Types: []string{typ}}, func(o *intel.Object) error {
		if o.Name == s || o.Indicator != nil && strings.Contains(o.Indicator.Pattern, "'"+s+"'") {
			ids = append(ids, o.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestOrigins(t *testing.T) {
	db := originStore(t, []labelled{
		{label: "apt1.json", path: filepath.Join("..", "..", "examples", "intel", "apt1.json"), imp: stix.Importer{}},
		{label: "apt1-fqdn.dat", path: filepath.Join(sharedIntel, "apt1", "apt1-fqdn.dat"), actor: "APT1", imp: flat.ZeekIntel{}},
		{label: "apt1-md5.dat", path: filepath.Join(sharedIntel, "apt1", "apt1-md5.dat"), actor: "APT1", imp: flat.ZeekIntel{}},
		{label: "attack-subset.json.gz", path: filepath.Join("..", "..", "examples", "intel", "attack-subset.json.gz"), imp: stix.Importer{}},
		{label: "threat-actor.json", path: filepath.Join(sharedIntel, "misp-galaxy", "threat-actor.json"), imp: misp.GalaxyImporter{}},
		{label: "vendor-z", text: "185.86.151.2\n", actor: "APT28", imp: flat.List{}},
		{label: "vendor-z", text: "login-osce.org\n", actor: "APT28", imp: flat.List{}},
		{label: "other-feed", text: "standartnevvs.com\n", actor: "APT28", imp: flat.List{}},
	})
	g, err := intelgraph.New(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	msn := idsOf(t, db, intel.TypeIndicator, "msnhome.org")
	md5 := idsOf(t, db, intel.TypeIndicator, "001dd76872d80801692ff942308c64e6")
	ip := append(append(idsOf(t, db, intel.TypeIndicator, "185.86.151.2"), idsOf(t, db, intel.TypeIndicator, "login-osce.org")...),
		idsOf(t, db, intel.TypeIndicator, "standartnevvs.com")...)
	if len(msn) != 2 || len(md5) != 2 || len(ip) != 3 {
		t.Fatalf("indicators: msnhome.org %d, md5 %d, feeds %d; want 2, 2, 3", len(msn), len(md5), len(ip))
	}
	byOrigin := map[string][]string{}
	for _, id := range append(append(msn, md5...), ip...) {
		o := g.Origin(id)
		srcs, _ := db.ObjectSources(context.Background(), id)
		byOrigin[o] = append(byOrigin[o], srcs[0].Name)
	}
	// The STIX bundle and the two Zeek files all derive from the APT1 report.
	sort.Strings(byOrigin["report on APT1"])
	if got := strings.Join(byOrigin["report on APT1"], " "); got != "apt1-fqdn.dat apt1-md5.dat apt1.json apt1.json" {
		t.Errorf("report on APT1 holds %q, want the bundle and both Zeek files (origins %v)", got, byOrigin)
	}
	if got := byOrigin["source vendor-z"]; len(got) != 2 {
		t.Errorf("two files under one label are one origin: %v", byOrigin)
	}
	if got := byOrigin["source other-feed"]; len(got) != 1 {
		t.Errorf("another feed is its own origin: %v", byOrigin)
	}
	if len(byOrigin) != 3 {
		t.Errorf("want 3 origins, have %v", byOrigin)
	}
	// ATT&CK's APT1 and the galaxy's are records of different origins.
	attack, galaxy := idsOf(t, db, intel.TypeIntrusionSet, "APT1"), ""
	for _, id := range attack {
		if srcs, _ := db.ObjectSources(context.Background(), id); len(srcs) == 1 && srcs[0].Name == "threat-actor.json" {
			galaxy = id
		}
	}
	var attackID string
	for _, id := range attack {
		if o, _ := db.Object(context.Background(), id); o != nil && o.AttackID() == "G0006" {
			attackID = id
		}
	}
	if attackID == "" || galaxy == "" {
		t.Fatalf("APT1 records: ATT&CK %q, galaxy %q among %v", attackID, galaxy, attack)
	}
	if a, b := g.Origin(attackID), g.Origin(galaxy); a == b || a == "" || b == "" {
		t.Errorf("ATT&CK %q and the galaxy %q are one origin", a, b)
	}
}
