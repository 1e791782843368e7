package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/sqlite"
	"github.com/whodunit-project/whodunit/internal/store/storecopy"
)

func newDBCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Migrate a database's schema, or copy a database to another"}
	cmd.AddCommand(newDBMigrateCmd(app), newDBCopyCmd(app))
	return cmd
}

// migrateResult is what 'db migrate' prints.
type migrateResult struct {
	Database string `json:"database"`
	Kind     string `json:"kind"` // sqlite or postgres
	Before   int    `json:"version_before"`
	After    int    `json:"version_after"`
}

func newDBMigrateCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the schema migrations to the database named by --db",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := migrateDB(cmd.Context(), app.DBPath)
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(res)
			}
			if !app.Quiet {
				fmt.Fprintf(app.Stdout, "%s database %s: schema version %d -> %d\n", res.Kind, res.Database, res.Before, res.After)
			}
			return nil
		},
	}
}

// migrateDB reads the schema version, migrates and reads it again. A
// SQLite file is migrated by opening it (and created when missing).
func migrateDB(ctx context.Context, db string) (migrateResult, error) {
	if isPostgresDSN(db) {
		res := migrateResult{Database: redactDSN(db), Kind: "postgres"}
		before, err := postgres.SchemaVersion(ctx, db)
		if err != nil {
			return res, err
		}
		after, err := postgres.Migrate(ctx, db)
		res.Before, res.After = before, after
		return res, err
	}
	res := migrateResult{Database: db, Kind: "sqlite"}
	before, err := sqlite.SchemaVersion(ctx, db)
	if err != nil {
		return res, err
	}
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		return res, err
	}
	if err := s.Close(); err != nil {
		return res, err
	}
	after, err := sqlite.SchemaVersion(ctx, db)
	res.Before, res.After = before, after
	return res, err
}

// redactDSN drops a password from a DSN shown back to the user.
func redactDSN(dsn string) string {
	if at := strings.LastIndexByte(dsn, '@'); at > 0 && strings.Contains(dsn, "://") {
		scheme := dsn[:strings.Index(dsn, "://")+3]
		user := dsn[len(scheme):at]
		if i := strings.IndexByte(user, ':'); i >= 0 {
			user = user[:i] + ":***"
		}
		return scheme + user + dsn[at:]
	}
	if strings.Contains(dsn, "password=") {
		return "(keyword DSN with a password)"
	}
	return dsn
}

func newDBCopyCmd(app *App) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "copy --from sqlite:PATH|postgres://… --to postgres://…|sqlite:PATH",
		Short: "Copy everything one database holds into another, empty, one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usagef("db copy needs --from and --to")
			}
			return app.copyDB(cmd.Context(), from, to)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the database to copy: sqlite:PATH (or a path) or a PostgreSQL DSN")
	cmd.Flags().StringVar(&to, "to", "", "the empty database to copy into: a PostgreSQL DSN or sqlite:PATH (created)")
	return cmd
}

func (app *App) copyDB(ctx context.Context, from, to string) error {
	src, err := openNamed(ctx, from, false)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openNamed(ctx, to, true)
	if err != nil {
		return err
	}
	defer dst.Close()
	progress := func(stage string, done, total int) {
		if total > 0 && done == total {
			app.infof("%s: %d", stage, done)
		}
	}
	c, err := storecopy.Copy(ctx, src, dst, progress)
	if err != nil {
		return fmt.Errorf("db copy %s -> %s: %w", redactDSN(from), redactDSN(to), err)
	}
	if app.JSON {
		return app.printJSON(c)
	}
	if !app.Quiet {
		fmt.Fprintf(app.Stdout, "copied %d sources (%d objects, %d versions, %d warninglists), %d manual and %d undone actor joins, %d sightings, %d detections, %d analyses, %d scans, %d indexed values\n",
			c.Sources, c.Objects, c.Versions, c.Warninglists, c.ManualLinks, c.UndoneLinks, c.Sightings, c.Detections, c.Analyses, c.Scans,
			c.Observations)
	}
	if c.Unsourced > 0 {
		app.errorf("%d objects that no source lists were not copied", c.Unsourced)
	}
	return nil
}

// openNamed opens sqlite:PATH, a plain path or a PostgreSQL DSN; a
// SQLite file that is read must exist.
func openNamed(ctx context.Context, name string, create bool) (store.Store, error) {
	if isPostgresDSN(name) {
		return postgres.Open(ctx, name)
	}
	path := strings.TrimPrefix(name, "sqlite:")
	if path == "" {
		return nil, usagef("%q names no database file", name)
	}
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s: %w", path, err)
		}
	}
	return sqlite.Open(ctx, path)
}
