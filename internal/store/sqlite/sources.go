package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// SourceSummaries implements store.Store. Objects counts as IntelStats'
// BySource does: full objects, their further sources, and each shaped
// indicator with the relationship its shape implies.
func (s *Store) SourceSummaries(ctx context.Context) ([]store.SourceSummary, error) {
	srcs, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int{}
	rows, err := s.db.QueryContext(ctx, `SELECT source_id, count(*) FROM (
		SELECT source_id FROM objects UNION ALL SELECT source_id FROM object_sources
		UNION ALL SELECT sh.source_id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape
		UNION ALL SELECT sh.source_id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE sh.indicates <> ''
		UNION ALL SELECT source_id FROM warninglists) GROUP BY source_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]store.SourceSummary, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, store.SourceSummary{Source: src, Objects: counts[src.ID]})
	}
	return out, nil
}

// The sources being deleted, as a subquery.
const doomedSources = "(SELECT id FROM sources WHERE name = ?1)"

// DeleteSource implements store.Store.
func (s *Store) DeleteSource(ctx context.Context, name string) (store.DeleteResult, error) {
	res := store.DeleteResult{Name: name}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sources WHERE name = ?", name).Scan(&res.Sources); err != nil {
		return res, err
	}
	if res.Sources == 0 {
		return res, fmt.Errorf("source %q: %w", name, store.ErrNotFound)
	}
	// A list's indicator that another source also asserts becomes a full
	// object first, so that it can outlive the shape it shares.
	if err := unshapeShared(ctx, tx, name); err != nil {
		return res, err
	}
	if err := countKept(ctx, tx, name, &res); err != nil {
		return res, err
	}
	if err := deleteShaped(ctx, tx, name, &res); err != nil {
		return res, err
	}
	if err := deleteFull(ctx, tx, name, &res); err != nil {
		return res, err
	}
	if err := deleteSourceRows(ctx, tx, name, &res); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	s.forgetShapes()
	return res, nil
}

// countKept counts the objects the doomed sources assert that another
// source asserts too.
func countKept(ctx context.Context, tx *sql.Tx, name string, res *store.DeleteResult) error {
	return tx.QueryRowContext(ctx, `SELECT count(*) FROM (
		SELECT id FROM objects WHERE source_id IN `+doomedSources+`
		UNION SELECT object_id FROM object_sources WHERE source_id IN `+doomedSources+`
		UNION SELECT l.id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE sh.source_id IN `+doomedSources+`) x
		WHERE EXISTS (SELECT 1 FROM objects o WHERE o.id = x.id AND o.source_id NOT IN `+doomedSources+`)
		OR EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = x.id AND os.source_id NOT IN `+doomedSources+`)
		OR EXISTS (SELECT 1 FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape
			WHERE l.id = x.id AND sh.source_id NOT IN `+doomedSources+`)`, name).Scan(&res.Kept)
}

// unshapeShared turns the shaped indicators of the doomed sources' shapes
// that some other source asserts too into full objects. Another source
// that listed the same value for the same actor asserted the implied
// relationship too (the store kept it once), so it is recorded as one of
// the relationship's sources before the doomed ones go.
func unshapeShared(ctx context.Context, tx *sql.Tx, name string) error {
	rows, err := tx.QueryContext(ctx, `SELECT l.id, sh.indicates FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape
		WHERE sh.source_id IN `+doomedSources+` AND EXISTS (SELECT 1 FROM object_sources os
			WHERE os.object_id = l.id AND os.source_id NOT IN `+doomedSources+`) ORDER BY l.id`, name)
	if err != nil {
		return err
	}
	type shared struct{ id, actor string }
	var list []shared
	for rows.Next() {
		var r shared
		if err := rows.Scan(&r.id, &r.actor); err != nil {
			rows.Close()
			return err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(list) == 0 {
		return err
	}
	w, err := newWriter(ctx, tx, 0)
	if err != nil {
		return err
	}
	defer w.close()
	for _, r := range list {
		if err := w.unshape(ctx, r.id); err != nil {
			return fmt.Errorf("indicator %s: %w", r.id, err)
		}
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	for _, r := range list {
		if r.actor == "" {
			continue
		}
		rel := intel.DeriveID(intel.TypeRelationship, "indicates", r.id, r.actor)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO object_sources(object_id, source_id)
			SELECT ?2, os.source_id FROM object_sources os WHERE os.object_id = ?3 AND os.source_id NOT IN `+doomedSources+`
			AND EXISTS (SELECT 1 FROM indicator_shapes sh WHERE sh.source_id = os.source_id AND sh.indicates = ?4)`,
			name, rel, r.id, r.actor); err != nil {
			return err
		}
	}
	return nil
}

// deleteShaped removes the doomed sources' shapes with their indicators
// (no other source asserts them any more) and the versions kept of them.
func deleteShaped(ctx context.Context, tx *sql.Tx, name string, res *store.DeleteResult) error {
	inShapes := "(SELECT l.id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE sh.source_id IN " + doomedSources + ")"
	var n, rels int
	if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(sh.indicates <> ''), 0) FROM list_indicators l
		JOIN indicator_shapes sh ON sh.id = l.shape WHERE sh.source_id IN `+doomedSources, name).Scan(&n, &rels); err != nil {
		return err
	}
	res.Deleted += n + rels
	for _, q := range []string{
		"DELETE FROM object_versions WHERE id IN " + inShapes,
		"DELETE FROM object_sources WHERE object_id IN " + inShapes,
		"DELETE FROM list_indicators WHERE id IN " + inShapes,
		"DELETE FROM indicator_shapes WHERE source_id IN " + doomedSources,
	} {
		if _, err := tx.ExecContext(ctx, q, name); err != nil {
			return err
		}
	}
	return nil
}

// deleteFull removes the full objects only the doomed sources assert and
// hands the others to one of their remaining sources.
func deleteFull(ctx context.Context, tx *sql.Tx, name string, res *store.DeleteResult) error {
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS doomed_objects (id TEXT PRIMARY KEY) WITHOUT ROWID"); err != nil {
		return err
	}
	defer tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp.doomed_objects") //nolint:errcheck // the rollback drops it too
	r, err := tx.ExecContext(ctx, `INSERT INTO doomed_objects SELECT o.id FROM objects o WHERE o.source_id IN `+doomedSources+`
		AND NOT EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = o.id AND os.source_id NOT IN `+doomedSources+`)`, name)
	if err != nil {
		return err
	}
	n, _ := r.RowsAffected()
	res.Deleted += int(n)
	doomed := "(SELECT id FROM doomed_objects)"
	for _, q := range []string{
		"DELETE FROM objects WHERE id IN " + doomed,
		"DELETE FROM object_versions WHERE id IN " + doomed,
		"DELETE FROM object_sources WHERE object_id IN " + doomed,
		"DELETE FROM names WHERE object_id IN " + doomed,
		"DELETE FROM relationships WHERE id IN " + doomed,
		"DELETE FROM indicator_values WHERE indicator_id IN " + doomed,
		"DELETE FROM match_indicators WHERE id IN " + doomed,
		"DELETE FROM actor_links WHERE rule <> 'manual' AND (a IN " + doomed + " OR b IN " + doomed + ")",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// what is left of the doomed sources' objects, another source asserts
	_, err = tx.ExecContext(ctx, `UPDATE objects SET source_id = (SELECT min(os.source_id) FROM object_sources os
		WHERE os.object_id = objects.id AND os.source_id NOT IN `+doomedSources+`) WHERE source_id IN `+doomedSources, name)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "DELETE FROM object_sources WHERE source_id = (SELECT source_id FROM objects WHERE id = object_id)")
	return err
}

// deleteSourceRows removes what else the doomed sources gave: their
// names, their part in other objects, their warninglists and themselves.
func deleteSourceRows(ctx context.Context, tx *sql.Tx, name string, res *store.DeleteResult) error {
	r, err := tx.ExecContext(ctx, "DELETE FROM warninglists WHERE source_id IN "+doomedSources, name)
	if err != nil {
		return err
	}
	n, _ := r.RowsAffected()
	res.Warninglists = int(n)
	for _, q := range []string{
		"DELETE FROM object_sources WHERE source_id IN " + doomedSources,
		"DELETE FROM names WHERE source_id IN " + doomedSources,
		"DELETE FROM sources WHERE name = ?1",
	} {
		if _, err := tx.ExecContext(ctx, q, name); err != nil {
			return err
		}
	}
	return nil
}
