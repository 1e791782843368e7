package export_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/whodunit-project/whodunit/internal/export"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

var (
	apt1Dir     = filepath.Join("..", "..", "..", "shared", "data", "intel", "apt1")
	examplesDir = filepath.Join("..", "..", "examples", "intel")
	exportNow   = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
)

func need(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared data not available at %s: %v", path, err)
	}
}

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// importInto imports paths with labels and fails on any bad file.
func importInto(t testing.TB, s *sqlite.Store, labels intel.Options, format string, paths ...string) {
	t.Helper()
	res, err := hunt.Import(context.Background(), s, hunt.ImportOptions{Paths: paths, Labels: labels, Format: format})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("import %s: %v", r.Path, r.Err)
		}
	}
}

func labelled(actor, tlp string) intel.Options {
	o := intel.DefaultOptions()
	o.Actor, o.TLP = actor, tlp
	return o
}

// apt1Store holds the shared APT1 Zeek intel files, all attributed to APT1.
func apt1Store(t testing.TB) *sqlite.Store {
	need(t, apt1Dir)
	s := openStore(t)
	importInto(t, s, labelled("APT1", ""), "", apt1Dir)
	return s
}

// examplesStore is the demo's intelligence: examples/intel, with each
// examples/intel/actors/NAME feed attributed to NAME.
func examplesStore(t testing.TB) *sqlite.Store {
	s := openStore(t)
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range entries {
		if e.Name() != "actors" {
			paths = append(paths, filepath.Join(examplesDir, e.Name()))
		}
	}
	importInto(t, s, intel.DefaultOptions(), "", paths...)
	actors, err := os.ReadDir(filepath.Join(examplesDir, "actors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actors {
		importInto(t, s, labelled(a.Name(), ""), "", filepath.Join(examplesDir, "actors", a.Name()))
	}
	return s
}

func run(t testing.TB, db store.ActorReader, format string, opt export.Options) ([]byte, *export.Summary) {
	t.Helper()
	opt.Now = exportNow
	var b bytes.Buffer
	w, err := export.NewWriter(format, &b, opt.Now)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := export.Export(context.Background(), db, w, opt)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), sum
}

// values lists "type value" of every current indicator observable in db.
func values(t testing.TB, db store.IntelReader, q store.ObjectQuery) []string {
	t.Helper()
	q.Types = []string{intel.TypeIndicator}
	var out []string
	err := db.Objects(context.Background(), q, func(o *intel.Object) error {
		for _, ob := range o.Indicator.Observables {
			out = append(out, string(ob.Type)+" "+ob.Value)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// accounted is every indicator the summary speaks of.
func accounted(s *export.Summary) int {
	n := s.Exported + s.WithheldTotal() + s.Warninglisted + s.Revoked + s.Expired
	for _, v := range s.Unexpressible {
		n += v
	}
	return n
}

func stats(t testing.TB, db store.IntelReader) store.IntelStats {
	t.Helper()
	st, err := db.IntelStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// reimport writes data to a file and imports it into a fresh store.
func reimport(t testing.TB, data []byte, name, format string) *sqlite.Store {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	importInto(t, s, intel.DefaultOptions(), format, p)
	return s
}
