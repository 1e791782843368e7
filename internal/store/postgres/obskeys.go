package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

// ObservationKeys implements store.ObservationStore: four columns
// of each row in the table's order, the records left undecoded but for
// their first ports.
func (s *Store) ObservationKeys(ctx context.Context, q store.ObservationQuery, fn func(obsindex.KeyPorts) error) error {
	var types []string
	for _, t := range q.Types {
		types = append(types, string(t))
	}
	// the records of an address only: ports bind only address indicators
	rows, err := s.pool.Query(ctx, `SELECT type, value, field, CASE WHEN type = ANY($3) THEN records END FROM observations
		WHERE ($1::text[] IS NULL OR type = ANY($1)) AND last >= $2`,
		types, obsindex.UnixNano(q.SeenSince), []string{string(intel.IPv4), string(intel.IPv6)})
	if err != nil {
		return err
	}
	defer rows.Close()
	var typ string
	var recs []byte
	for rows.Next() {
		var k obsindex.KeyPorts
		if err := rows.Scan(&typ, &k.Value, &k.Field, &recs); err != nil {
			return err
		}
		k.Type = intel.ValueType(typ)
		if len(recs) > 0 { // an address
			if k.SrcPort, k.DstPort, err = obsindex.FirstPorts(recs); err != nil {
				return fmt.Errorf("stored records of %s %q: %w", k.Type, k.Value, err)
			}
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return rows.Err()
}

// distinctTypes steps from one type to the next through the primary
// key, one seek each, where DISTINCT would read every row.
const distinctTypes = `WITH RECURSIVE t(type) AS (
	SELECT min(type) FROM observations
	UNION ALL SELECT (SELECT min(o.type) FROM observations o WHERE o.type > t.type) FROM t WHERE t.type IS NOT NULL
) SELECT type FROM t WHERE type IS NOT NULL`

// ObservationTypes implements store.ObservationStore.
func (s *Store) ObservationTypes(ctx context.Context) ([]intel.ValueType, error) {
	rows, err := s.pool.Query(ctx, distinctTypes)
	if err != nil {
		return nil, err
	}
	types, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := make([]intel.ValueType, len(types))
	for i, t := range types {
		out[i] = intel.ValueType(t)
	}
	return out, err
}
