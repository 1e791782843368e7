package cli

import (
	"context"
	"os"
	"path/filepath"

	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// openStore opens the database named by --db, creating its directory.
func (app *App) openStore(ctx context.Context) (*sqlite.Store, error) {
	if dir := filepath.Dir(app.DBPath); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return sqlite.Open(ctx, app.DBPath)
}
