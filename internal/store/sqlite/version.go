package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// LatestSchemaVersion is the schema version Open migrates a database to.
func LatestSchemaVersion() int { return len(migrations) }

// SchemaVersion reads the schema version of the database file at path
// without migrating or creating it: 0 when the file does not exist yet.
func SchemaVersion(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return 0, nil
	}
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("%s: reading the schema version: %w", path, err)
	}
	return v, nil
}
