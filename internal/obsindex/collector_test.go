package obsindex_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/scan"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

var sharedData = filepath.Join("..", "..", "..", "shared", "data")

func needShared(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{sharedData}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): %v", p, err)
	}
	return p
}

// indexOf scans paths with the given workers, one collector each
// (spilling every maxEntries values when > 0), and merges them.
func indexOf(t testing.TB, paths []string, workers, chunk, maxEntries int) []obsindex.Observation {
	var mu sync.Mutex
	var cols []*obsindex.Collector
	var spilled []obsindex.Observation
	cfg := scan.Config{Paths: paths, Registry: formats.Default(formats.Options{}), Workers: workers, ChunkSize: chunk,
		NewObserver: func() scan.Observer {
			c := obsindex.NewCollector()
			if maxEntries > 0 {
				c.MaxEntries = maxEntries
				c.Spill = func(list []obsindex.Observation) error {
					mu.Lock()
					spilled = append(spilled, list...)
					mu.Unlock()
					return nil
				}
			}
			mu.Lock()
			cols = append(cols, c)
			mu.Unlock()
			return c
		}}
	if _, err := scan.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	all := spilled
	for _, c := range cols {
		all = append(all, c.Flush()...)
	}
	return obsindex.MergeAll(all)
}

var addrEqual = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// The same logs give the same index whatever the workers, the chunks
// and the spills.
func TestIndexDoesNotDependOnTheSplit(t *testing.T) {
	dir := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	paths := []string{filepath.Join(dir, "dns.log.gz"), filepath.Join(dir, "json", "dns.json.gz"), filepath.Join(dir, "ssl.log.gz"), filepath.Join(dir, "x509.log.gz")}
	one := indexOf(t, paths, 1, -1, 0)
	if len(one) < 1000 {
		t.Fatalf("%d observations", len(one))
	}
	for _, c := range []struct{ workers, chunk, max int }{{4, 0, 0}, {3, 64 << 10, 0}, {2, 0, 500}} {
		got := indexOf(t, paths, c.workers, c.chunk, c.max)
		if diff := cmp.Diff(one, got, addrEqual); diff != "" {
			t.Errorf("%+v (-1 worker +this):\n%s", c, diff)
		}
	}
}

// Merging the collectors' sorted lists gives what sorting their union
// gives.
func TestMergeSortedIsMergeAll(t *testing.T) {
	dir := needShared(t, "telemetry", "zeek", "wrccdc-2018")
	paths := []string{filepath.Join(dir, "dns.log.gz"), filepath.Join(dir, "ssl.log.gz"), filepath.Join(dir, "x509.log.gz")}
	var mu sync.Mutex
	var cols []*obsindex.Collector
	cfg := scan.Config{Paths: paths, Registry: formats.Default(formats.Options{}), Workers: 3, ChunkSize: 64 << 10,
		NewObserver: func() scan.Observer {
			c := obsindex.NewCollector()
			mu.Lock()
			cols = append(cols, c)
			mu.Unlock()
			return c
		}}
	if _, err := scan.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	var lists [][]obsindex.Observation
	var all []obsindex.Observation
	for _, c := range cols {
		l := c.Flush()
		lists = append(lists, l)
		all = append(all, l...)
	}
	if len(lists) < 2 {
		t.Fatalf("%d collectors", len(lists))
	}
	want := obsindex.MergeAll(slices.Clone(all))
	if diff := cmp.Diff(want, obsindex.MergeSorted(lists...), addrEqual); diff != "" {
		t.Errorf("MergeSorted (-MergeAll +MergeSorted):\n%s", diff)
	}
}
