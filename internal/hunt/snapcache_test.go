package hunt_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

var sharedIntel = filepath.Join("..", "..", "..", "shared", "data", "intel")

func importPaths(t *testing.T, db hunt.ImportTarget, paths ...string) {
	t.Helper()
	results, err := hunt.Import(context.Background(), db, hunt.ImportOptions{Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
	}
}

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.snap"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// The snapshot cache on a real SQLite store with the real APT1
// indicators: the second build loads the file the first wrote (same
// version); a damaged file is rebuilt; new intelligence gives a new file
// and a new version, and old files are pruned.
func TestSnapshotCacheOnStore(t *testing.T) { testSnapshotCache(t, openStore(t)) }

// The same on a PostgreSQL store (skipped loudly without a server, except
// under CI=true).
func TestSnapshotCacheOnPostgres(t *testing.T) {
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testSnapshotCache(t, db)
}

type cacheTestStore interface {
	hunt.ImportTarget
	hunt.MatchSource
}

func testSnapshotCache(t *testing.T, db cacheTestStore) {
	apt1 := filepath.Join(sharedIntel, "apt1")
	if _, err := os.Stat(apt1); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	ctx := context.Background()
	importPaths(t, db, filepath.Join(apt1, "apt1-fqdn.dat"), filepath.Join(examples, "intel", "warninglists"))
	dir := filepath.Join(t.TempDir(), "w.db.snapshot")

	first, err := hunt.BuildSnapshotCached(ctx, db, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := cacheFiles(t, dir)
	if len(files) != 1 || filepath.Base(files[0]) != first.Version()+".snap" {
		t.Fatalf("cache files %q, want %s.snap", files, first.Version())
	}
	info, _ := os.Stat(files[0])
	second, err := hunt.BuildSnapshotCached(ctx, db, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Version() != first.Version() || second.Len() != first.Len() {
		t.Fatalf("loaded %s (%d), built %s (%d)", second.Version(), second.Len(), first.Version(), first.Len())
	}
	if after, _ := os.Stat(files[0]); !after.ModTime().Equal(info.ModTime()) {
		t.Fatal("the second build wrote the cache again instead of loading it")
	}

	data, _ := os.ReadFile(files[0])
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := hunt.BuildSnapshotCached(ctx, db, dir, nil)
	if err != nil || third.Version() != first.Version() {
		t.Fatalf("after damage: %v, version %v", err, third)
	}
	if again, _ := os.ReadFile(files[0]); len(again) != len(data) || string(again) == string(data) {
		t.Fatal("the damaged cache file was not rewritten")
	}

	for _, f := range []string{"apt1-md5.dat", "apt1-certs.dat"} {
		importPaths(t, db, filepath.Join(apt1, f))
		next, err := hunt.BuildSnapshotCached(ctx, db, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if next.Version() == first.Version() || next.Len() <= first.Len() {
			t.Fatalf("after importing %s: version %s (%d indicators), before %s (%d)", f, next.Version(), next.Len(), first.Version(), first.Len())
		}
	}
	if files := cacheFiles(t, dir); len(files) != 2 {
		t.Fatalf("%d cache files after three versions, want 2 kept: %q", len(files), files)
	}
}
