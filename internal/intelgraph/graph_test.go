package intelgraph_test

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/geo"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/flat"
	"github.com/whodunit-project/whodunit/internal/intel/stix"
	"github.com/whodunit-project/whodunit/internal/intelgraph"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// apt1Store imports into a fresh store the OASIS APT1 bundle (domains
// indicate APT1's persona Ugly Gorilla; CIDRs indicate a tool), graded B,
// the ATT&CK subset of the examples (APT1 as G0006 with its techniques), and
// a list of one Shanghai address labelled APT1.
func apt1Store(t *testing.T) *sqlite.Store {
	t.Helper()
	bundle := filepath.Join("..", "..", "..", "shared", "data", "intel", "stix", "apt1.json")
	if _, err := os.Stat(bundle); err != nil {
		t.Skipf("shared data absent: %v", err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	put := func(name string, r io.Reader, imp intel.Importer, opt intel.Options) {
		src := intel.Source{Name: name, Format: imp.Name(), Reliability: opt.Reliability, SHA256: name}
		if _, err := db.Import(ctx, src, func(sink intel.Sink) error {
			_, err := imp.Import(ctx, r, name, opt, sink)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	opt := intel.DefaultOptions()
	opt.Reliability = intel.UsuallyReliable
	put("apt1.json", open(t, bundle), stix.Importer{}, opt)
	put("attack-subset.json.gz", open(t, filepath.Join("..", "..", "examples", "intel", "attack-subset.json.gz")), stix.Importer{}, intel.DefaultOptions())
	opt = intel.DefaultOptions()
	opt.Actor = "APT1"
	put("shanghai.txt", strings.NewReader("58.246.20.7\n"), flat.List{}, opt)
	return db
}

func open(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if !strings.HasSuffix(path, ".gz") {
		return f
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// indicatorFor returns the id of the indicator whose pattern contains s.
func indicatorFor(t *testing.T, db store.Store, s string) string {
	t.Helper()
	var id string
	err := db.Objects(context.Background(), store.ObjectQuery{Types: []string{intel.TypeIndicator}}, func(o *intel.Object) error {
		if o.Indicator != nil && strings.Contains(o.Indicator.Pattern, s) {
			id = o.ID
		}
		return nil
	})
	if err != nil || id == "" {
		t.Fatalf("no indicator with %q (%v)", s, err)
	}
	return id
}

func TestAttributionsReachTheGroup(t *testing.T) {
	db := apt1Store(t)
	g, err := intelgraph.New(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := indicatorFor(t, db, "msnhome.org")
	paths := g.Attributions(id)
	if len(paths) != 1 || !strings.Contains(paths[0].Via, "Ugly Gorilla (attributed to APT1)") {
		t.Fatalf("paths %+v, want one through the persona", paths)
	}
	if a := g.Actor(paths[0].ActorID); a == nil || a.Name != "APT1" || a.AttackID != "G0006" {
		t.Errorf("the path leads to %+v, want ATT&CK's APT1 record", a)
	}
	if p := g.Attributions(indicatorFor(t, db, "223.166.0.0/15")); len(p) != 0 {
		t.Errorf("a CIDR that indicates a tool no actor uses leads to %+v", p)
	}
	if ind := g.Indicator(id); ind == nil || ind.ID != id {
		t.Errorf("Indicator(%s) = %+v", id, ind)
	}
	srcs := g.IndicatorSources(id)
	if len(srcs) != 1 || srcs[0].Name != "apt1.json" || srcs[0].Reliability != intel.UsuallyReliable {
		t.Errorf("sources %+v, want apt1.json graded B", srcs)
	}
	if err := g.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
}

func TestActorJoinsRecordsTechniquesAndInfrastructure(t *testing.T) {
	db := apt1Store(t)
	g, err := intelgraph.New(context.Background(), db, geo.Cached(mustGeo(t)))
	if err != nil {
		t.Fatal(err)
	}
	paths := g.Attributions(indicatorFor(t, db, "msnhome.org"))
	if len(paths) == 0 {
		t.Fatal("no path to APT1")
	}
	a := g.Actor(paths[0].ActorID)
	if a == nil || len(a.Techniques) == 0 {
		t.Fatalf("Actor = %+v, want ATT&CK's techniques", a)
	}
	for tid := range a.Techniques {
		if i := strings.IndexByte(tid, '.'); i > 0 && !a.Techniques[tid[:i]] {
			t.Errorf("sub-technique %s without its parent", tid)
		}
	}
	want := netip.MustParsePrefix("58.246.20.7/32")
	found := false
	for _, k := range a.KnownInfra {
		found = found || k.Prefix == want && k.Country == "CN"
	}
	if !found {
		t.Errorf("known infrastructure %+v lacks %s in CN", a.KnownInfra, want)
	}
	if g.Actor("intrusion-set--00000000-0000-4000-8000-000000000000") != nil {
		t.Error("an actor the store does not have is not nil")
	}
	if err := g.Err(); err != nil {
		t.Errorf("a missing object is not an error: %v", err)
	}
}

func mustGeo(t *testing.T) geo.Locator {
	t.Helper()
	d, err := geo.Default()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// flakyReader fails Object for one id with err, and answers the rest from s.
type flakyReader struct {
	intelgraph.Reader
	id  string
	err error
}

func (r flakyReader) Object(ctx context.Context, id string) (*intel.Object, error) {
	if id == r.id {
		return nil, r.err
	}
	return r.Reader.Object(ctx, id)
}

func TestErrKeepsStoreErrorsButNotNotFound(t *testing.T) {
	db := apt1Store(t)
	const id = "indicator--00000000-0000-4000-8000-000000000001"
	for _, tc := range []struct {
		err     error
		wantErr bool
	}{
		{fmt.Errorf("%s: %w", id, store.ErrNotFound), false},
		{errors.New("disk I/O error"), true},
		// Only ErrNotFound itself is absence; a message that merely says so is not.
		{errors.New("sqlite: schema not found"), true},
	} {
		g, err := intelgraph.New(context.Background(), flakyReader{Reader: db, id: id, err: tc.err}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if g.Indicator(id) != nil {
			t.Errorf("%v: Indicator is not nil", tc.err)
		}
		if got := g.Err(); (got != nil) != tc.wantErr || tc.wantErr && !errors.Is(got, tc.err) {
			t.Errorf("%v: Err() = %v, want error %v", tc.err, got, tc.wantErr)
		}
	}
}
