package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
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
	o := &intel.Object{ID: id, Type: intel.TypeIndicator, Modified: parseTime(mod), Revoked: revoked, Confidence: -1,
		Indicator: &intel.IndicatorSpec{ValidFrom: parseTime(from), ValidUntil: parseTime(until),
			HostOnly: flags&flagHostOnly != 0, Context: flags&flagContext != 0, PatternType: ptype, Pattern: pat}}
	if lists != "" {
		o.Indicator.Warninglists = strings.Split(lists, "\n")
	}
	for vals != "" {
		line, rest, _ := strings.Cut(vals, "\n")
		vals = rest
		typ, rest, ok1 := strings.Cut(line, "\t")
		value, rest, ok2 := strings.Cut(rest, "\t")
		portText, issuer, ok3 := strings.Cut(rest, "\t")
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("stored indicator %s: malformed observable %q", id, line)
		}
		port, _ := strconv.Atoi(portText)
		o.Indicator.Observables = append(o.Indicator.Observables, intel.Observable{Type: intel.ValueType(typ), Value: value, Port: port, Issuer: issuer})
	}
	return o, nil
}
