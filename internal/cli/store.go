package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// openStore opens the existing database named by --db (a file, or a
// PostgreSQL DSN) for a command that
// reads it: a database that does not exist is an error, and nothing is
// created. Callers get the store interface, whichever implementation
// holds it.
func (app *App) openStore(ctx context.Context) (store.Store, error) {
	if isPostgresDSN(app.DBPath) {
		return postgres.Open(ctx, app.DBPath)
	}
	if _, err := os.Stat(app.DBPath); err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("no database at %s (import intelligence with 'whodunit intel import', or run 'whodunit hunt', first; --db names another)", app.DBPath)
		}
		return nil, err
	}
	return sqlite.Open(ctx, app.DBPath)
}

// createStore opens the database named by --db for a command that writes
// it, creating the database and its directory when they do not exist.
func (app *App) createStore(ctx context.Context) (store.Store, error) {
	if isPostgresDSN(app.DBPath) {
		return postgres.Open(ctx, app.DBPath) // the schema is created on first use
	}
	if dir := filepath.Dir(app.DBPath); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return sqlite.Open(ctx, app.DBPath)
}
