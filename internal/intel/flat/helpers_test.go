package flat_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// aptDir is the shared APT1 Zeek intel data, or the test is skipped.
func aptDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "intel", "apt1")
	if _, err := os.Stat(filepath.Join(dir, "apt1-fqdn.dat")); err != nil {
		t.Skipf("shared APT1 data not present: %v", err)
	}
	return dir
}

// run imports one file with im and returns what the sink got.
func run(t testing.TB, im intel.Importer, path string, opt intel.Options) (*intel.Collector, intel.Stats, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c intel.Collector
	st, err := im.Import(context.Background(), f, path, opt, &c)
	return &c, st, err
}

// mustRun is run for files that must import.
func mustRun(t testing.TB, im intel.Importer, path string, opt intel.Options) (*intel.Collector, intel.Stats) {
	t.Helper()
	c, st, err := run(t, im, path, opt)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c, st
}

// byType returns the objects of one type.
func byType(c *intel.Collector, typ string) []*intel.Object {
	var out []*intel.Object
	for _, o := range c.Objects {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	return out
}

// byValue indexes indicators by their (single) observable value.
func byValue(t testing.TB, c *intel.Collector) map[string]*intel.Object {
	t.Helper()
	m := map[string]*intel.Object{}
	for _, o := range byType(c, intel.TypeIndicator) {
		if o.Indicator == nil || len(o.Indicator.Observables) != 1 {
			t.Fatalf("indicator %s has no single observable: %+v", o.ID, o.Indicator)
		}
		m[o.Indicator.Observables[0].Value] = o
	}
	return m
}

// errLines lists the lines of the reported record errors.
func errLines(st intel.Stats) []int64 {
	var out []int64
	for _, e := range st.Errors {
		out = append(out, e.Line)
	}
	return out
}

// checkIndicators verifies what every indicator must satisfy, whatever
// the input: a derived id, a normalised value and a matching pattern.
func checkIndicators(t testing.TB, c *intel.Collector) {
	t.Helper()
	for _, o := range byType(c, intel.TypeIndicator) {
		if o.Indicator == nil || len(o.Indicator.Observables) != 1 {
			t.Fatalf("indicator %s: want exactly one observable, got %+v", o.ID, o.Indicator)
		}
		obs := o.Indicator.Observables[0]
		n, err := intel.Normalize(obs.Type, obs.Value)
		if err != nil || n != obs.Value {
			t.Errorf("indicator %s: value %q (%s) is not normalised: %q, %v", o.ID, obs.Value, obs.Type, n, err)
		}
		if obs.Port == 0 && o.ID != intel.DeriveID(intel.TypeIndicator, string(obs.Type), obs.Value) {
			t.Errorf("indicator %s: id is not derived from %s %q", o.ID, obs.Type, obs.Value)
		}
		switch o.Indicator.PatternType {
		case "stix":
			if o.Indicator.Pattern != obs.STIXPattern() {
				t.Errorf("indicator %s: pattern %q, want %q", o.ID, o.Indicator.Pattern, obs.STIXPattern())
			}
		case "zeek-intel", "plain":
			if obs.STIXPattern() != "" || o.Indicator.Pattern != obs.Value {
				t.Errorf("indicator %s: %s pattern %q for %s %q", o.ID, o.Indicator.PatternType, o.Indicator.Pattern, obs.Type, obs.Value)
			}
		default:
			t.Errorf("indicator %s: pattern type %q", o.ID, o.Indicator.PatternType)
		}
	}
}
