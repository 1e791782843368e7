package postgres

import (
	"context"
	"fmt"
)

// LatestSchemaVersion is the schema version Open and Migrate bring a
// database to.
func LatestSchemaVersion() int { return len(migrations) }

// SchemaVersion reads the schema version of the database named by dsn
// without migrating it: 0 when no migration was ever applied.
func SchemaVersion(ctx context.Context, dsn string) (int, error) {
	pool, err := connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('schema_version') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int
	if err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres %s: reading the schema version: %w", redact(dsn), err)
	}
	return v, nil
}
