package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

// BenchmarkObjectsPage reads pages of 1,000 from a store of
// WHODUNIT_BENCH_OBJECTS list indicators (20,000 unless set; the README's
// figure is at 1,000,000), walking the whole store from cursor to cursor.
func BenchmarkObjectsPage(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchObjectsPage(b, s, nil)
}

var _ store.ServerStore = (*sqlite.Store)(nil)
