package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// DeleteObject implements store.ObjectDeleter, under the import lock so
// that no import writes the object meanwhile. A shaped indicator
// (shapes.go) goes with its list row, its one version; its shape, which
// the rest of the list shares, stays.
func (s *Store) DeleteObject(ctx context.Context, id string, version time.Time) (int, error) {
	removed := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockImport); err != nil {
			return err
		}
		var current string
		var listSource *int64 // the shape's source, for a shaped indicator
		// a shaped indicator's version is its shape's
		err := tx.QueryRow(ctx, `SELECT modified, NULL::bigint FROM objects WHERE id = $1
			UNION ALL SELECT sh.modified, sh.source_id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE l.id = $1`,
			id).Scan(&current, &listSource)
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
		if err != nil || listSource == nil {
			return err
		}
		// a shaped indicator has one version: it went whole
		return deleteImplied(ctx, tx, id, *listSource)
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
	return older + 1, deleteWhole(ctx, tx, id)
}

// deleteWhole removes every row of the object id, in whichever form.
func deleteWhole(ctx context.Context, tx pgx.Tx, id string) error {
	for _, q := range []string{
		"DELETE FROM objects WHERE id = $1",
		"DELETE FROM list_indicators WHERE id = $1",
		"DELETE FROM object_versions WHERE id = $1",
		"DELETE FROM object_sources WHERE object_id = $1",
		"DELETE FROM names WHERE object_id = $1",
		"DELETE FROM relationships WHERE id = $1",
		"DELETE FROM indicator_values WHERE indicator_id = $1",
		"DELETE FROM match_indicators WHERE id = $1",
		"DELETE FROM actor_links WHERE rule <> 'manual' AND (a = $1 OR b = $1)",
	} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// deleteImplied removes the "indicates" relationships that the list of
// the deleted shaped indicator id gave with it: derived from their ends
// and asserted by the list's source alone. The SQLite store keeps those
// in the shape, so they go with the indicator; left behind, they would
// still count it for its actor.
func deleteImplied(ctx context.Context, tx pgx.Tx, id string, source int64) error {
	rows, err := tx.Query(ctx, `SELECT r.id, r.target_ref FROM relationships r JOIN objects o ON o.id = r.id
		WHERE r.source_ref = $1 AND r.type = 'indicates' AND o.source_id = $2
		AND NOT EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = r.id)`, id, source)
	if err != nil {
		return err
	}
	var implied []string
	var rel, target string
	if _, err := pgx.ForEachRow(rows, []any{&rel, &target}, func() error {
		if rel == intel.DeriveID(intel.TypeRelationship, "indicates", id, target) {
			implied = append(implied, rel)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, rel := range implied {
		if err := deleteWhole(ctx, tx, rel); err != nil {
			return err
		}
	}
	return nil
}
