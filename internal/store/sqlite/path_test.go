package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// A database path with the characters that end or escape an SQLite URI
// ('#', '?', '%') opens exactly that file: two cases never share a store.
func TestPathsWithURICharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	names := []string{"case#2.db", "a?b.db", "c%41.db", "case"}
	for i, name := range names {
		db, err := sqlite.Open(ctx, filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Import(ctx, intel.Source{Name: name, Path: name, SHA256: name}, func(s intel.Sink) error {
			return s.Put(ctx, &intel.Object{ID: "identity--0000000" + string(rune('0'+i)) + "-0000-4000-8000-000000000000", Type: intel.TypeIdentity, Name: name})
		}); err != nil {
			t.Fatalf("%s: import: %v", name, err)
		}
		db.Close()
	}
	var got []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".db-wal" && filepath.Ext(e.Name()) != ".db-shm" && !isSidecar(e.Name()) {
			got = append(got, e.Name())
		}
	}
	want := append([]string(nil), names...)
	sort.Strings(want)
	sort.Strings(got)
	if len(got) != len(want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("files %q, want %q", got, want)
		}
	}
	for _, name := range names {
		db, err := sqlite.Open(ctx, filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		srcs, err := db.Sources(ctx)
		db.Close()
		if err != nil || len(srcs) != 1 || srcs[0].Name != name {
			t.Errorf("%s holds sources %+v (%v), want only its own", name, srcs, err)
		}
	}
}

func isSidecar(name string) bool {
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if len(name) > len(suffix) && name[len(name)-len(suffix):] == suffix {
			return true
		}
	}
	return false
}
