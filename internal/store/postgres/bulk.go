package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A first import into an empty store (a team server's first feed, a
// million-line list, `db copy`) writes its rows without the tables'
// secondary indexes and builds each index once at the end, in the same
// transaction: one sort of a million keys costs far less than placing
// each key on a random page of an index that outgrows the buffers. The
// primary keys stay: they find what is stored and make a duplicate fail
// the COPY, as on a store that is not empty.
//
// DROP INDEX holds the tables until commit, so a reader waits for the
// import rather than seeing it half done; on an empty store it had
// nothing to read yet.

// bulkTables are the tables an import writes many rows into.
var bulkTables = []string{"objects", "indicator_values", "relationships", "names", "object_sources"}

// bulkIndexes are the definitions of the indexes dropped for an import,
// to be created again before it commits.
type bulkIndexes []string

// dropIndexesIfEmpty drops the secondary indexes of bulkTables when no
// object is stored, and returns their definitions; nil otherwise.
func dropIndexesIfEmpty(ctx context.Context, tx pgx.Tx) (bulkIndexes, error) {
	var empty bool
	if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM objects)").Scan(&empty); err != nil || !empty {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
		ORDER BY i.indexname`, bulkTables)
	if err != nil {
		return nil, err
	}
	var names []string
	var defs bulkIndexes
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+pgx.Identifier{n}.Sanitize()); err != nil {
			return nil, fmt.Errorf("dropping index %s for a first import: %w", n, err)
		}
	}
	return defs, nil
}

// rebuild creates the dropped indexes again, with memory enough to sort
// a large import's keys at once.
func (b bulkIndexes) rebuild(ctx context.Context, tx pgx.Tx) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return err
	}
	for _, def := range b {
		if _, err := tx.Exec(ctx, def); err != nil {
			return fmt.Errorf("building an index after a first import (%s): %w", def, err)
		}
	}
	return nil
}
