package postgres_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/storetest"
)

func TestVerdictContract(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var n atomic.Int64
	storetest.RunVerdicts(t, func(t *testing.T) storetest.VerdictStore {
		return openInSchema(t, dsn, fmt.Sprintf("verdicts_%d", n.Add(1)))
	})
}
