package match_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/intel/warninglist"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// sharedData is ../shared/data seen from this package.
var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func needShared(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{sharedData}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

// apt1Objects reads the real APT1 indicators (Mandiant report appendices,
// as Zeek intel files) in the lean form the store streams.
func apt1Objects(t testing.TB) []*intel.Object {
	dir := needShared(t, "intel", "apt1")
	var objs []*intel.Object
	for _, f := range []struct {
		file, zeekType string
		vt             intel.ValueType
	}{{"apt1-fqdn.dat", "Intel::DOMAIN", intel.Domain}, {"apt1-md5.dat", "Intel::FILE_HASH", intel.MD5},
		{"apt1-certs.dat", "Intel::CERT_HASH", intel.X509SHA1}} {
		fh, err := os.Open(filepath.Join(dir, f.file))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if len(cols) < 2 || cols[0] == "" || cols[0][0] == '#' || cols[1] != f.zeekType {
				continue
			}
			v, err := intel.Normalize(f.vt, cols[0])
			if err != nil {
				t.Fatalf("%s: %v", f.file, err)
			}
			objs = append(objs, &intel.Object{ID: intel.DeriveID(intel.TypeIndicator, string(f.vt), v), Type: intel.TypeIndicator,
				Confidence: -1, Indicator: &intel.IndicatorSpec{PatternType: "zeek-intel", Observables: []intel.Observable{{Type: f.vt, Value: v}}}})
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(objs) < 3000 {
		t.Fatalf("only %d APT1 indicators", len(objs))
	}
	return objs
}

type listSink struct{ lists []*intel.Warninglist }

func (s *listSink) Put(context.Context, *intel.Object) error { return nil }
func (s *listSink) PutWarninglist(_ context.Context, w *intel.Warninglist) error {
	s.lists = append(s.lists, w)
	return nil
}

// realWarninglists imports every MISP warninglist of the shared data.
func realWarninglists(t testing.TB) []*intel.Warninglist {
	dir := needShared(t, "intel", "misp-warninglists", "lists")
	files, err := filepath.Glob(filepath.Join(dir, "*", "list.json"))
	if err != nil || len(files) < 100 {
		t.Fatalf("%d warninglists in %s: %v", len(files), dir, err)
	}
	sink := &listSink{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = warninglist.Importer{}.Import(context.Background(), fh, f, intel.Options{}, sink)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return sink.lists
}

// realDNSEvents reads the first n events of the real WRCCDC 2018 Zeek DNS
// log.
func realDNSEvents(t testing.TB, n int) []*telemetry.Event {
	path := filepath.Join(needShared(t, "telemetry", "zeek", "wrccdc-2018"), "dns.log.gz")
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rd, err := zeek.TSV{}.Open(in.R, path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*telemetry.Event
	var ev telemetry.Event
	for len(out) < n {
		err := rd.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Clone())
	}
	if len(out) < n {
		t.Fatalf("%s: %d events, want %d", path, len(out), n)
	}
	return out
}
