package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

func TestVerdictContract(t *testing.T) {
	storetest.RunVerdicts(t, func(t *testing.T) storetest.VerdictStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
