package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

func TestServerContract(t *testing.T) {
	storetest.RunServer(t, func(t *testing.T) store.ServerStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
