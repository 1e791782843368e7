package sqlite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
)

// TestShapeKnowsEveryField fails when intel.Object or IndicatorSpec gains
// a field: shapeKey and shape.object must then be taught where it goes
// (the key, the row, or "never shaped"), or a shaped indicator would
// silently lose it.
func TestShapeKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[intel.Object](): {
			"ID", "Name", "Raw", // the row
			"Type", "SpecVersion", "Description", "Created", "Modified", "Revoked", "Confidence", "Labels", "Markings", "CreatedBy", // the key
			"Aliases", "ExternalRefs", "KillChain", "Relationship", "Actor", "Marking", "Sighting", // never shaped
			"Indicator",
		},
		reflect.TypeFor[intel.IndicatorSpec](): {
			"Pattern", "Observables", "Warninglists", // the row
			"PatternType", "ValidFrom", "ValidUntil", "HostOnly", "Context", // the key
		},
		reflect.TypeFor[intel.Observable](): {"Type", "Value", "Port", "Issuer"}, // the row; Issuer never shaped
		reflect.TypeFor[intel.RelationshipSpec](): {"Type", "SourceRef", "TargetRef", // implied
			"StartTime", "StopTime"}, // never folded
	}
	for typ, fields := range known {
		want := map[string]bool{}
		for _, f := range fields {
			want[f] = true
		}
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); !want[f.Name] {
				t.Errorf("%s.%s: new field; teach shape.go where it goes", typ.Name(), f.Name)
			}
		}
		if typ.NumField() != len(fields) {
			t.Errorf("%s has %d fields, shape.go knows %d", typ.Name(), typ.NumField(), len(fields))
		}
	}
}

// teeSink records what an importer puts, marking some indicators as on a
// warninglist the way the import service does, and passes it on.
type teeSink struct {
	next intel.Sink
	seen []*intel.Object
	n    int
}

func (s *teeSink) Put(ctx context.Context, o *intel.Object) error {
	if o.Type == intel.TypeIndicator {
		if s.n++; s.n%7 == 0 {
			spec := *o.Indicator
			spec.Warninglists = []string{"List of known domains", "Second list"}
			cp := *o
			cp.Indicator = &spec
			o = &cp
		}
	}
	cp := *o // the reader may reuse its objects after Put
	s.seen = append(s.seen, &cp)
	return s.next.Put(ctx, o)
}

func (s *teeSink) PutWarninglist(ctx context.Context, w *intel.Warninglist) error {
	return s.next.PutWarninglist(ctx, w)
}

// TestShapedRealListsReadBack imports the real lists shipped in examples/
// and the APT1 Zeek intel files, with an actor, a TLP and a source label,
// and reads every object back: each must equal what the reader put, and
// most must have been kept compactly.
func TestShapedRealListsReadBack(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	files := []struct {
		path string
		imp  intel.Importer
	}{
		{filepath.Join(root, "examples", "intel", "actors", "APT1", "vendor-x-feed.txt"), flat.List{}},
		{filepath.Join(root, "examples", "intel", "actors", "APT28", "vendor-y-feed.txt"), flat.List{}},
		{filepath.Join(root, "..", "shared", "data", "intel", "apt1", "apt1-fqdn.dat"), flat.ZeekIntel{}},
		{filepath.Join(root, "..", "shared", "data", "intel", "apt1", "apt1-certs.dat"), flat.ZeekIntel{}},
		{filepath.Join(root, "..", "shared", "data", "intel", "apt1", "apt1-md5.dat"), flat.ZeekIntel{}},
	}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var all []*intel.Object
	for _, f := range files {
		in, err := os.Open(f.path)
		if os.IsNotExist(err) {
			t.Skipf("%s not present", f.path)
		}
		if err != nil {
			t.Fatal(err)
		}
		opt := intel.DefaultOptions()
		opt.Actor, opt.TLP, opt.Source, opt.Confidence = "APT1", "amber", "Mandiant", 85
		tee := &teeSink{}
		_, err = s.Import(ctx, intel.Source{Name: filepath.Base(f.path), Format: f.imp.Name(), SHA256: f.path}, func(sink intel.Sink) error {
			tee.next = sink
			_, err := f.imp.Import(ctx, in, f.path, opt, tee)
			return err
		})
		in.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
		all = append(all, tee.seen...)
	}
	var shaped, indicators int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM list_indicators").Scan(&shaped); err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		if o.Type == intel.TypeIndicator {
			indicators++
		}
	}
	if indicators < 3000 || shaped < indicators*9/10 {
		t.Errorf("%d of %d indicators kept compactly; want at least 90%%", shaped, indicators)
	}
	// Objects that two files assert are compared with their first version.
	first := map[string]*intel.Object{}
	for _, o := range all {
		if _, ok := first[o.ID]; !ok {
			first[o.ID] = o
		}
	}
	mismatches := 0
	for id, want := range first {
		var got *intel.Object
		if want.Type == intel.TypeRelationship {
			rels, err := s.Relationships(ctx, want.Relationship.SourceRef)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rels {
				if r.ID == id {
					got = r
				}
			}
		} else if got, err = s.Object(ctx, id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		// Marshal compacts Raw: compare it byte for byte too
		if string(w) != string(g) || got != nil && string(want.Raw) != string(got.Raw) {
			if mismatches++; mismatches <= 5 {
				t.Errorf("%s read back differs:\nput  %s\nread %s", id, w, g)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d objects differ", mismatches, len(first))
	}
}
