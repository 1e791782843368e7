package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/store"
)

// matchFetch is how many indicator rows one FETCH brings: enough to keep
// round trips few, few enough to keep memory flat for millions.
const matchFetch = 10000

// MatchIndicators implements store.Store: one pass over narrow rows
// through a server-side cursor in a read-only transaction, so the pass
// sees one snapshot and neither side holds the whole set.
func (s *Store) MatchIndicators(ctx context.Context, fn func(*intel.Object) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only: nothing to keep
	if _, err := tx.Exec(ctx, `DECLARE match_rows NO SCROLL CURSOR FOR
		SELECT id, modified, revoked, valid_from, valid_until, flags, pattern_type, pattern, lists, vals FROM match_indicators ORDER BY id`); err != nil {
		return err
	}
	for {
		rows, err := tx.Query(ctx, fmt.Sprintf("FETCH %d FROM match_rows", matchFetch))
		if err != nil {
			return err
		}
		var id, mod, from, until, ptype, pat, lists, vals string
		var revoked bool
		var flags int
		n := 0
		_, err = pgx.ForEachRow(rows, []any{&id, &mod, &revoked, &from, &until, &flags, &ptype, &pat, &lists, &vals}, func() error {
			n++
			o, err := matchObject(id, mod, revoked, from, until, flags, ptype, pat, lists, vals)
			if err != nil {
				return err
			}
			return fn(o)
		})
		if err != nil {
			return err
		}
		if n < matchFetch {
			return tx.Commit(ctx)
		}
	}
}

// matchObject rebuilds the lean indicator of one match_indicators row.
func matchObject(id, mod string, revoked bool, from, until string, flags int, ptype, pat, lists, vals string) (*intel.Object, error) {
	row := store.MatchRow{ID: id, Modified: parseTime(mod), Revoked: revoked, ValidFrom: parseTime(from), ValidUntil: parseTime(until),
		Flags: flags, PatternType: ptype, Pattern: pat, Lists: lists, Vals: vals}
	return row.Indicator()
}
