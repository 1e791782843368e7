package hunt_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/scan/benchgen"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// failingAfter streams a real store's indicators and fails after n.
type failingAfter struct {
	*sqlite.Store
	n int
}

var errStreamCut = errors.New("stream cut")

func (f failingAfter) MatchIndicators(ctx context.Context, fn func(*intel.Object) error) error {
	seen := 0
	return f.Store.MatchIndicators(ctx, func(o *intel.Object) error {
		if seen++; seen > f.n {
			return errStreamCut
		}
		return fn(o)
	})
}

// TestBuildSnapshotReadsAheadOfTheBuilder compiles the real APT1
// indicators, read on one goroutine and compiled on another: all of them,
// the same snapshot as one more build gives; and a store that fails part
// way (after several batches and inside one) fails the build with its
// error.
func TestBuildSnapshotReadsAheadOfTheBuilder(t *testing.T) {
	db := openStore(t)
	// the real APT1 set and, for several batches, 10,000 generated ones
	gen := filepath.Join(t.TempDir(), "gen.dat")
	f, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	if err := benchgen.WriteZeekIntel(f, benchgen.Indicators(10_000, 1)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	importPaths(t, db, filepath.Join(sharedIntel, "apt1", "apt1-fqdn.dat"), filepath.Join(sharedIntel, "apt1", "apt1-md5.dat"), gen)
	ctx := context.Background()
	want, err := db.Count(ctx, intel.TypeIndicator)
	if err != nil {
		t.Fatal(err)
	}
	a, err := hunt.BuildSnapshot(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hunt.BuildSnapshot(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != want || a.Version() != b.Version() {
		t.Fatalf("snapshot of %d indicators (version %s, then %s), the store holds %d", a.Len(), a.Version(), b.Version(), want)
	}
	for _, n := range []int{0, 2 * 4096, 2*4096 + 17, want - 1} {
		if _, err := hunt.BuildSnapshot(ctx, failingAfter{db, n}, nil); !errors.Is(err, errStreamCut) {
			t.Errorf("store failing after %d of %d: build gave %v", n, want, err)
		}
	}
}
