package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/store"
)

// DeleteObject implements store.ObjectDeleter, under the import lock so
// that no import writes the object meanwhile.
func (s *Store) DeleteObject(ctx context.Context, id string, version time.Time) (int, error) {
	removed := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockImport); err != nil {
			return err
		}
		var current string
		err := tx.QueryRow(ctx, "SELECT modified FROM objects WHERE id = $1", id).Scan(&current)
		if isNoRows(err) {
			return fmt.Errorf("object %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var older int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM object_versions WHERE id = $1 AND modified <> $2", id, current).Scan(&older); err != nil {
			return err
		}
		removed, err = deleteVersions(ctx, tx, id, version, current, older)
		return err
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// deleteVersions removes one older version, or the whole object.
func deleteVersions(ctx context.Context, tx pgx.Tx, id string, version time.Time, current string, older int) (int, error) {
	if !version.IsZero() && fmtTime(version) != current {
		tag, err := tx.Exec(ctx, "DELETE FROM object_versions WHERE id = $1 AND modified = $2", id, fmtTime(version))
		if err != nil {
			return 0, err
		}
		if tag.RowsAffected() == 0 {
			return 0, fmt.Errorf("object %s version %s: %w", id, fmtTime(version), store.ErrNotFound)
		}
		return 1, nil
	}
	if !version.IsZero() && older > 0 {
		return 0, fmt.Errorf("object %s: %w", id, store.ErrCurrentVersion)
	}
	for _, q := range []string{
		"DELETE FROM objects WHERE id = $1",
		"DELETE FROM object_versions WHERE id = $1",
		"DELETE FROM object_sources WHERE object_id = $1",
		"DELETE FROM names WHERE object_id = $1",
		"DELETE FROM relationships WHERE id = $1",
		"DELETE FROM indicator_values WHERE indicator_id = $1",
		"DELETE FROM match_indicators WHERE id = $1",
		"DELETE FROM actor_links WHERE rule <> 'manual' AND (a = $1 OR b = $1)",
	} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return 0, err
		}
	}
	return older + 1, nil
}
