package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/store"
)

// SourceSummaries implements store.Store. Objects counts as IntelStats'
// BySource does: objects, their further (not latent) sources, the shaped
// indicators of their shapes (shapes.go), and warninglists.
func (s *Store) SourceSummaries(ctx context.Context) ([]store.SourceSummary, error) {
	srcs, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	// list rows are counted per shape before the join: a shape has many
	rows, err := s.pool.Query(ctx, `SELECT source_id, sum(n)::bigint FROM (
		SELECT source_id, 1 AS n FROM objects UNION ALL SELECT source_id, 1 FROM object_sources WHERE NOT latent
		UNION ALL SELECT sh.source_id, l.n FROM (SELECT shape, count(*) AS n FROM list_indicators GROUP BY shape) l
			JOIN indicator_shapes sh ON sh.id = l.shape
		UNION ALL SELECT source_id, 1 FROM warninglists) x GROUP BY source_id`)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int{}
	var id int64
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		counts[id] = n
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]store.SourceSummary, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, store.SourceSummary{Source: src, Objects: counts[src.ID]})
	}
	return out, nil
}

// asserted is the full objects the doomed sources ($1) assert, as a
// subquery. Their shaped indicators are not among them: each has only
// its shape's source, so none is kept (deleteListRows).
const asserted = `(SELECT id FROM objects WHERE source_id = ANY($1)
	UNION SELECT object_id FROM object_sources WHERE source_id = ANY($1) AND NOT latent)`

// DeleteSource implements store.Store, under the import lock so that no
// import runs meanwhile.
func (s *Store) DeleteSource(ctx context.Context, name string) (store.DeleteResult, error) {
	res := store.DeleteResult{Name: name}
	var gone []int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockImport); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT id FROM sources WHERE name = $1", name)
		if err != nil {
			return err
		}
		doomed, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if res.Sources = len(doomed); res.Sources == 0 {
			return fmt.Errorf("source %q: %w", name, store.ErrNotFound)
		}
		// a latent source of what the doomed ones assert takes it over
		if _, err := tx.Exec(ctx, `UPDATE object_sources SET latent = false
			WHERE latent AND source_id <> ALL($1) AND object_id IN `+asserted, doomed); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+asserted+` x
			WHERE EXISTS (SELECT 1 FROM objects o WHERE o.id = x.id AND o.source_id <> ALL($1))
			OR EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = x.id AND os.source_id <> ALL($1) AND NOT os.latent)`,
			doomed).Scan(&res.Kept); err != nil {
			return err
		}
		if err := deleteObjects(ctx, tx, doomed, &res); err != nil {
			return err
		}
		if gone, err = deleteListRows(ctx, tx, doomed, &res); err != nil {
			return err
		}
		return deleteSourceRows(ctx, tx, doomed, &res)
	})
	if err == nil {
		s.forgetShapes(gone)
	}
	return res, err
}

// deleteListRows removes the doomed sources' shapes and their shaped
// indicators, and returns the ids of the shapes.
func deleteListRows(ctx context.Context, tx pgx.Tx, doomed []int64, res *store.DeleteResult) ([]int64, error) {
	tag, err := tx.Exec(ctx, "DELETE FROM list_indicators WHERE shape IN (SELECT id FROM indicator_shapes WHERE source_id = ANY($1))", doomed)
	if err != nil {
		return nil, err
	}
	res.Deleted += int(tag.RowsAffected())
	rows, err := tx.Query(ctx, "DELETE FROM indicator_shapes WHERE source_id = ANY($1) RETURNING id", doomed)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// forgetShapes drops deleted shapes from the cache. Their ids are never
// given again, so this only frees the memory.
func (s *Store) forgetShapes(ids []int64) {
	s.shapes.mu.Lock()
	defer s.shapes.mu.Unlock()
	for _, id := range ids {
		delete(s.shapes.byID, id)
	}
}

// deleteObjects removes the objects only the doomed sources assert and
// hands the others to one of their remaining sources.
func deleteObjects(ctx context.Context, tx pgx.Tx, doomed []int64, res *store.DeleteResult) error {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE doomed_objects (id text COLLATE "C" PRIMARY KEY) ON COMMIT DROP`); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO doomed_objects SELECT o.id FROM objects o WHERE o.source_id = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM object_sources os WHERE os.object_id = o.id AND os.source_id <> ALL($1) AND NOT os.latent)`, doomed)
	if err != nil {
		return err
	}
	res.Deleted = int(tag.RowsAffected())
	const gone = "(SELECT id FROM doomed_objects)"
	for _, q := range []string{
		"DELETE FROM objects WHERE id IN " + gone,
		"DELETE FROM object_versions WHERE id IN " + gone,
		"DELETE FROM object_sources WHERE object_id IN " + gone,
		"DELETE FROM names WHERE object_id IN " + gone,
		"DELETE FROM relationships WHERE id IN " + gone,
		"DELETE FROM indicator_values WHERE indicator_id IN " + gone,
		"DELETE FROM match_indicators WHERE id IN " + gone,
		"DELETE FROM actor_links WHERE rule <> 'manual' AND (a IN " + gone + " OR b IN " + gone + ")",
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	// what is left of the doomed sources' objects, another source asserts
	if _, err := tx.Exec(ctx, `UPDATE objects SET source_id = (SELECT min(os.source_id) FROM object_sources os
		WHERE os.object_id = objects.id AND os.source_id <> ALL($1) AND NOT os.latent) WHERE source_id = ANY($1)`, doomed); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "DELETE FROM object_sources os USING objects o WHERE o.id = os.object_id AND o.source_id = os.source_id")
	return err
}

// deleteSourceRows removes what else the doomed sources gave: their
// names, their part in other objects, their warninglists and themselves.
func deleteSourceRows(ctx context.Context, tx pgx.Tx, doomed []int64, res *store.DeleteResult) error {
	tag, err := tx.Exec(ctx, "DELETE FROM warninglists WHERE source_id = ANY($1)", doomed)
	if err != nil {
		return err
	}
	res.Warninglists = int(tag.RowsAffected())
	for _, q := range []string{
		"DELETE FROM object_sources WHERE source_id = ANY($1)",
		"DELETE FROM names WHERE source_id = ANY($1)",
		"DELETE FROM sources WHERE id = ANY($1)",
	} {
		if _, err := tx.Exec(ctx, q, doomed); err != nil {
			return err
		}
	}
	return nil
}
