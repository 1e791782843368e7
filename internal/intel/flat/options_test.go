package flat_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

func TestOptionsLabelEveryFormat(t *testing.T) {
	files := map[string]string{
		"zeek-intel": "testdata/all-types.intel",
		"csv":        "testdata/indicators.csv",
		"list":       "testdata/list.txt",
	}
	tlps := []struct{ level, id string }{
		{"amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
		{"TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
		{"white", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
		{"amber/1.0", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
		{"clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
	}
	for i, im := range flat.Importers() {
		tlp := tlps[i%len(tlps)]
		t.Run(im.Name(), func(t *testing.T) {
			opt := intel.DefaultOptions()
			opt.TLP, opt.Actor, opt.Confidence, opt.Source = tlp.level, "Comment Crew", 65, "Analyst Desk"
			c, _ := mustRun(t, im, files[im.Name()], opt)

			marks := byType(c, intel.TypeMarkingDef)
			if len(marks) != 1 || marks[0].ID != tlp.id || marks[0].Marking == nil {
				t.Fatalf("marking-definitions %+v, want one %s", marks, tlp.id)
			}
			actors := byType(c, intel.TypeIntrusionSet)
			actorID := intel.DeriveID(intel.TypeIntrusionSet, "name", "comment crew")
			if len(actors) != 1 || actors[0].ID != actorID || actors[0].Name != "Comment Crew" {
				t.Fatalf("intrusion-sets %+v", actors)
			}
			sourceID := intel.DeriveID(intel.TypeIdentity, "name", "analyst desk")
			inds := byType(c, intel.TypeIndicator)
			rels := map[string]*intel.Object{}
			for _, r := range byType(c, intel.TypeRelationship) {
				rels[r.Relationship.SourceRef] = r
			}
			if len(inds) == 0 || len(rels) != len(inds) {
				t.Fatalf("%d indicators, %d relationships", len(inds), len(rels))
			}
			for _, o := range inds {
				if o.Confidence != 65 || o.CreatedBy != sourceID || !cmp.Equal(o.Markings, []string{tlp.id}) {
					t.Fatalf("indicator %s not labelled: confidence %d, created_by %q, markings %v", o.Name, o.Confidence, o.CreatedBy, o.Markings)
				}
				r := rels[o.ID]
				want := &intel.RelationshipSpec{Type: "indicates", SourceRef: o.ID, TargetRef: actorID}
				if r == nil || !cmp.Equal(r.Relationship, want) || r.ID != intel.DeriveID(intel.TypeRelationship, "indicates", o.ID, actorID) ||
					!cmp.Equal(r.Markings, []string{tlp.id}) {
					t.Fatalf("relationship of %s: %+v", o.Name, r)
				}
			}
			for _, id := range byType(c, intel.TypeIdentity) {
				if id.ID == sourceID && id.Name != "Analyst Desk" {
					t.Errorf("source identity %+v", id)
				}
			}
		})
	}
}

func TestOptionsRejected(t *testing.T) {
	bad := []func(*intel.Options){
		func(o *intel.Options) { o.Confidence = 101 },
		func(o *intel.Options) { o.TLP = "purple" },
		func(o *intel.Options) { o.TLP = "white/2.0" },
		func(o *intel.Options) { o.Type = "nope" },
	}
	for _, im := range flat.Importers() {
		for i, f := range bad {
			opt := intel.DefaultOptions()
			f(&opt)
			var c intel.Collector
			_, err := im.Import(t.Context(), strings.NewReader("evil.example\n"), "x", opt, &c)
			if err == nil || len(c.Objects) != 0 {
				t.Errorf("%s option %d: err %v, %d objects", im.Name(), i, err, len(c.Objects))
			}
		}
	}
}

func TestSameValueSameID(t *testing.T) {
	// the same value read from every format gets one id, so the store
	// records several sources for one indicator
	inputs := map[string]string{
		"zeek-intel": "#fields\tindicator\tindicator_type\n" + "Evil.Example.\tIntel::DOMAIN\n" + "D41D8CD98F00B204E9800998ECF8427E\tIntel::FILE_HASH\n" + "198.51.100.7\tIntel::ADDR\n",
		"csv":        "value,type\nevil[.]example,domain\nd41d8cd98f00b204e9800998ecf8427e,md5\n198.51.100.7,ip\n",
		"list":       "EVIL.example\n d41d8cd98f00b204e9800998ecf8427e \n198[.]51[.]100[.]7\n",
	}
	var first map[string]string
	for _, im := range flat.Importers() {
		for run := 0; run < 2; run++ {
			var c intel.Collector
			if _, err := im.Import(t.Context(), strings.NewReader(inputs[im.Name()]), "x", intel.DefaultOptions(), &c); err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for v, o := range byValue(t, &c) {
				ids[v] = o.ID
			}
			if first == nil {
				first = ids
				if len(ids) != 3 {
					t.Fatalf("ids %v", ids)
				}
			}
			if d := cmp.Diff(first, ids); d != "" {
				t.Errorf("%s run %d: ids differ (-first +got):\n%s", im.Name(), run, d)
			}
		}
	}
	if first["evil.example"] != intel.DeriveID("indicator", "domain", "evil.example") {
		t.Errorf("id of evil.example: %s", first["evil.example"])
	}
}

func TestDuplicatesInOneFile(t *testing.T) {
	var c intel.Collector
	st, err := flat.List{}.Import(t.Context(), strings.NewReader("evil.example\nEVIL.EXAMPLE.\nevil[.]example\n"), "x", intel.DefaultOptions(), &c)
	if err != nil || len(c.Objects) != 1 || st.Objects[intel.TypeIndicator] != 1 {
		t.Errorf("duplicates: %v, %d objects, %v", err, len(c.Objects), st)
	}
}

func TestSniff(t *testing.T) {
	files := map[string]string{
		"testdata/all-types.intel":     "zeek-intel",
		"testdata/separator.intel":     "zeek-intel",
		"testdata/bad-rows.intel":      "zeek-intel",
		"testdata/indicators.csv":      "csv",
		"testdata/urlhaus-style.csv":   "csv",
		"testdata/threatfox-style.csv": "csv",
		"testdata/misp-export.csv":     "csv",
		"testdata/headerless.csv":      "csv",
		"testdata/semicolon.csv":       "csv",
		"testdata/multiline.csv":       "csv",
		"testdata/list.txt":            "list",
		"testdata/NOTICE":              "",
	}
	if dir := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "apt1"); dirExists(dir) {
		for _, f := range []string{"apt1-fqdn.dat", "apt1-md5.dat", "apt1-certs.dat"} {
			files[filepath.Join(dir, f)] = "zeek-intel"
		}
		files[filepath.Join(dir, "README.rst")] = ""
	}
	for path, want := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > fileio.HeadSize {
			b = b[:fileio.HeadSize]
		}
		if got := sniff(b, path); got != want {
			t.Errorf("%s: sniffed %q, want %q", path, got, want)
		}
	}
	// names count only as a tie-break
	inline := []struct{ head, name, want string }{
		{"198.51.100.1\nevil.example\nhello world\n", "iocs", "list"},
		{"hello world\nfoo bar\nevil.example\n", "notes", ""},
		{"hello world\nfoo bar\nevil.example\n", "iocs.txt", "list"},
		{"a,b\nc,d\n", "x", "csv"},
		{"a,b\nc,d,e\nf\n", "x", ""},
		{"indicator\nevil.example\n", "feed.csv", "csv"},
		{`{"type":"bundle","objects":[]}`, "b.json", ""},
		{"#fields\tindicator\tindicator_type\n", "x", "zeek-intel"},
	}
	for _, tt := range inline {
		if got := sniff([]byte(tt.head), tt.name); got != tt.want {
			t.Errorf("%q (%s): sniffed %q, want %q", tt.head, tt.name, got, tt.want)
		}
	}
}

// sniff returns the first importer, in Importers order, that claims head.
func sniff(head []byte, name string) string {
	for _, im := range flat.Importers() {
		if im.Sniff(head, name) {
			return im.Name()
		}
	}
	return ""
}

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	in := strings.Repeat("evil.example\n", 5000)
	for _, im := range flat.Importers() {
		var c intel.Collector
		_, err := im.Import(ctx, strings.NewReader(in), "x.txt", intel.DefaultOptions(), &c)
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "x.txt:") {
			t.Errorf("%s: %v", im.Name(), err)
		}
	}
}

// failingSink refuses every object, as a store in trouble would.
type failingSink struct{ intel.Collector }

func (failingSink) Put(context.Context, *intel.Object) error { return errors.New("disk full") }

func TestSinkError(t *testing.T) {
	for _, im := range flat.Importers() {
		_, err := im.Import(t.Context(), strings.NewReader("#fields\tindicator\tindicator_type\nevil.example\tIntel::DOMAIN\n"), "x", intel.DefaultOptions(), &failingSink{})
		if im.Name() == "list" {
			// the list reader skips the header line and reads the value line
			_, err = im.Import(t.Context(), strings.NewReader("evil.example\n"), "x", intel.DefaultOptions(), &failingSink{})
		}
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: %v", im.Name(), err)
		}
	}
}

// failAfter accepts n objects and then fails.
type failAfter struct {
	intel.Collector
	n int
}

func (f *failAfter) Put(ctx context.Context, o *intel.Object) error {
	if f.n == 0 {
		return errors.New("disk full")
	}
	f.n--
	return f.Collector.Put(ctx, o)
}

func TestListStopsCleanly(t *testing.T) {
	// a sink failing in the middle of a long list stops every goroutine
	// of the reader before Import returns, and nothing after the failure
	// reaches the sink
	var b strings.Builder
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&b, "host%d.bad.example\n", i)
	}
	before := runtime.NumGoroutine()
	sink := &failAfter{n: 10_000}
	_, err := flat.List{}.Import(t.Context(), strings.NewReader(b.String()), "long.txt", intel.DefaultOptions(), sink)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v", err)
	}
	if len(sink.Objects) != 10_000 || sink.Objects[9_999].Name != "host9999.bad.example" {
		t.Errorf("%d objects reached the sink, last %s", len(sink.Objects), sink.Objects[len(sink.Objects)-1].Name)
	}
	// Import waits for its goroutines; give the runtime a moment to reap
	// ones that have finished, so only a real leak fails.
	after := runtime.NumGoroutine()
	for i := 0; i < 200 && after > before; i++ {
		time.Sleep(10 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		t.Errorf("%d goroutines before, %d after", before, after)
	}
}
