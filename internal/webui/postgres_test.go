package webui_test

import (
	"context"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
	"github.com/whodunit-project/whodunit/internal/store/storecopy"
	"github.com/whodunit-project/whodunit/internal/tlp"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// demoOnPostgres copies the demo's store into a fresh PostgreSQL
// database (pgtest skips loudly without a server, except under CI).
func demoOnPostgres(t *testing.T) *postgres.Store {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	lite := demoCopy(t)
	defer lite.Close()
	if _, err := storecopy.Copy(ctx, lite, pg, nil); err != nil {
		pg.Close()
		t.Fatal(err)
	}
	return pg
}

// The pages show the same figures, and the same TLP limits hold, on the
// team store.
func TestOnPostgres(t *testing.T) {
	t.Run("OverviewFigures", func(t *testing.T) {
		checkOverviewFigures(t, newEnvOn(t, webui.Config{}, demoOnPostgres(t)))
	})
	t.Run("GreenDoesNotSeeAmber", func(t *testing.T) {
		checkGreenDoesNotSeeAmber(t, newEnvOn(t, webui.Config{DefaultTLP: tlp.Green}, demoOnPostgres(t)))
	})
}
