package cli

import (
	"fmt"

	"github.com/whodunit-project/whodunit/internal/store/sqlite"
)

// diskHint names the database when a command failed because its disk is
// full or it had to be opened read-only: SQLite's own message names
// neither the file nor what to do.
func (app *App) diskHint(err error) {
	if app.diskHinted || app.DBPath == "" || isPostgresDSN(app.DBPath) {
		return
	}
	app.diskHinted = sqlite.DiskFull(err) || sqlite.ReadOnly(err)
	switch {
	case sqlite.DiskFull(err):
		fmt.Fprintf(app.Stderr, "whodunit: the disk holding %s is full: nothing of this write was kept; free space and run it again (commands that only read still work)\n", app.DBPath)
	case sqlite.ReadOnly(err):
		fmt.Fprintf(app.Stderr, "whodunit: %s could only be opened read-only (its disk is full, or it or its directory is not writable); commands that only read still work\n", app.DBPath)
	}
}
