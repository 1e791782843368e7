package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// DeleteObject implements store.ObjectDeleter. A list's compactly stored
// indicator goes with its row; its shape, which the rest of the list
// shares, stays.
func (s *Store) DeleteObject(ctx context.Context, id string, version time.Time) (int, error) {
	// a shaped indicator's version is its shape's: read it as Object does
	o, err := s.Object(ctx, id)
	if err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	current := fmtTime(o.Modified)
	err = tx.QueryRowContext(ctx, `SELECT modified FROM objects WHERE id = ?1
		UNION ALL SELECT ?2 FROM list_indicators WHERE id = ?1`, id, current).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) { // deleted meanwhile
		return 0, fmt.Errorf("object %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	var older int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM object_versions WHERE id = ? AND modified <> ?", id, current).Scan(&older); err != nil {
		return 0, err
	}
	removed, err := deleteVersions(ctx, tx, id, version, current, older)
	if err != nil {
		return 0, err
	}
	return removed, tx.Commit()
}

// deleteVersions removes one older version, or the whole object.
func deleteVersions(ctx context.Context, tx *sql.Tx, id string, version time.Time, current string, older int) (int, error) {
	if !version.IsZero() && fmtTime(version) != current {
		r, err := tx.ExecContext(ctx, "DELETE FROM object_versions WHERE id = ? AND modified = ?", id, fmtTime(version))
		if err != nil {
			return 0, err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return 0, fmt.Errorf("object %s version %s: %w", id, fmtTime(version), store.ErrNotFound)
		}
		return 1, nil
	}
	if !version.IsZero() && older > 0 {
		return 0, fmt.Errorf("object %s: %w", id, store.ErrCurrentVersion)
	}
	for _, q := range []string{
		"DELETE FROM objects WHERE id = ?1",
		"DELETE FROM list_indicators WHERE id = ?1",
		"DELETE FROM object_versions WHERE id = ?1",
		"DELETE FROM object_sources WHERE object_id = ?1",
		"DELETE FROM names WHERE object_id = ?1",
		"DELETE FROM relationships WHERE id = ?1",
		"DELETE FROM indicator_values WHERE indicator_id = ?1",
		"DELETE FROM match_indicators WHERE id = ?1",
		"DELETE FROM actor_links WHERE rule <> 'manual' AND (a = ?1 OR b = ?1)",
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return 0, err
		}
	}
	return older + 1, nil
}
