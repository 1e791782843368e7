package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

// addrRecords is the records column of an address's row, NULL for the
// rest: ports bind only address indicators, and most rows are no
// address.
var addrRecords = "CASE WHEN type IN ('" + string(intel.IPv4) + "', '" + string(intel.IPv6) + "') THEN records END"

// ObservationKeys implements store.ObservationStore: four columns of
// each row in the table's order, the records left undecoded but for
// their first ports.
func (s *Store) ObservationKeys(ctx context.Context, q store.ObservationQuery, fn func(obsindex.KeyPorts) error) error {
	var where []string
	var args []any
	if len(q.Types) > 0 {
		where = append(where, "type IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.Types)), ",")+")")
		for _, t := range q.Types {
			args = append(args, string(t))
		}
	}
	if !q.SeenSince.IsZero() {
		where = append(where, "last >= ?")
		args = append(args, q.SeenSince.UnixNano())
	}
	// one type (as a retro-hunt asks, a type a part): not read per row
	typeCol := "type"
	if len(q.Types) == 1 {
		typeCol = "''"
	}
	query := "SELECT " + typeCol + ", value, field, " + addrRecords + " FROM observations"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	db, err := s.readers.get()
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var typ string
	var recs sql.RawBytes // valid until the next row: only its ports are kept
	for rows.Next() {
		var k obsindex.KeyPorts
		if err := rows.Scan(&typ, &k.Value, &k.Field, &recs); err != nil {
			return err
		}
		if k.Type = intel.ValueType(typ); typ == "" {
			k.Type = q.Types[0]
		}
		if len(recs) > 0 { // an address
			if k.SrcPort, k.DstPort, err = obsindex.FirstPorts(recs); err != nil {
				return fmt.Errorf("stored records of %s %q: %w", typ, k.Value, err)
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
	rows, err := s.db.QueryContext(ctx, distinctTypes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []intel.ValueType
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, intel.ValueType(t))
	}
	return out, rows.Err()
}

// readPool is a second handle on the database for reads side by side
// (WAL lets readers run beside each other and the writer), opened at its
// first use: the store's own handle has one connection, so two queries
// on it take turns.
type readPool struct {
	dsn  string
	once sync.Once
	db   *sql.DB
	err  error
}

// readerConns bounds the read pool's connections.
const readerConns = 4

func (p *readPool) get() (*sql.DB, error) {
	p.once.Do(func() {
		p.db, p.err = sql.Open("sqlite", p.dsn)
		if p.err == nil {
			p.db.SetMaxOpenConns(readerConns)
		}
	})
	return p.db, p.err
}

func (p *readPool) close() error {
	if p.db == nil {
		return nil
	}
	return p.db.Close()
}
