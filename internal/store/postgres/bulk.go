package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A first import into an empty store (a team server's first feed, a
// million-line list, `db copy`) writes its rows without the tables'
// indexes and builds each index once, in the same transaction: one sort
// of a million keys costs far less than placing each key on a random
// page of an index that outgrows the buffers (measured here: a million
// rows with a random text key take 17 s with the key in place, 4.4 s
// when the key is added after).
//
// The primary keys of the tables a list fills (keyTables) go too, so
// nothing may rely on them while they are away: the writer knows which
// ids it wrote (freshIDs), puts every object it has met before aside, and
// restores the keys before it writes those through the statement path.
// The other indexes are built at the end.
//
// DROP holds the tables until commit, so a reader waits for the import
// rather than seeing it half done; on an empty store it had nothing to
// read yet.

// bulkTables are the tables an import writes many rows into.
var bulkTables = []string{"objects", "indicator_values", "relationships", "names", "object_sources", "list_indicators"}

// keyTables are the tables whose primary key a first import drops: the
// ones written by COPY (copy.go).
var keyTables = []string{"objects", "indicator_values", "relationships", "match_indicators", "list_indicators"}

// bulkIndexes are what was dropped for an import, to be made again
// before it commits: statements adding the primary keys, and index
// definitions.
type bulkIndexes struct {
	keys    []string
	indexes []string
}

// dropped reports whether anything was dropped.
func (b *bulkIndexes) dropped() bool { return b != nil && len(b.keys)+len(b.indexes) > 0 }

// keysAway reports whether the primary keys are dropped.
func (b *bulkIndexes) keysAway() bool { return b != nil && len(b.keys) > 0 }

// dropIndexesIfEmpty drops the secondary indexes of bulkTables and the
// primary keys of keyTables when no object is stored, and returns how to
// make them again; nil otherwise.
func dropIndexesIfEmpty(ctx context.Context, tx pgx.Tx) (*bulkIndexes, error) {
	var empty bool
	if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM objects) AND NOT EXISTS (SELECT 1 FROM list_indicators)").Scan(&empty); err != nil || !empty {
		return nil, err
	}
	b := &bulkIndexes{}
	if err := b.dropIndexes(ctx, tx); err != nil {
		return nil, err
	}
	if err := b.dropKeys(ctx, tx); err != nil {
		return nil, err
	}
	return b, nil
}

// keyTablesEmpty reports whether every table of keyTables is empty: a row
// left in one of them (of no stored object) would break a restored key.
func keyTablesEmpty(ctx context.Context, tx pgx.Tx) (bool, error) {
	q := "SELECT true"
	for _, t := range keyTables {
		q += " AND NOT EXISTS (SELECT 1 FROM " + pgx.Identifier{t}.Sanitize() + ")"
	}
	var empty bool
	err := tx.QueryRow(ctx, q).Scan(&empty)
	return empty, err
}

// dropIndexes drops the indexes of bulkTables that back no constraint.
func (b *bulkIndexes) dropIndexes(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
		ORDER BY i.indexname`, bulkTables)
	if err != nil {
		return err
	}
	var drops []string
	var name, def string
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		drops = append(drops, "DROP INDEX "+pgx.Identifier{name}.Sanitize())
		b.indexes = append(b.indexes, def)
		return nil
	}); err != nil {
		return err
	}
	return execAll(ctx, tx, drops, "dropping an index for a first import")
}

// dropKeys drops the primary keys of keyTables, when they are empty.
func (b *bulkIndexes) dropKeys(ctx context.Context, tx pgx.Tx) error {
	if empty, err := keyTablesEmpty(ctx, tx); err != nil || !empty {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		WHERE c.contype = 'p' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1)
		ORDER BY t.relname`, keyTables)
	if err != nil {
		return err
	}
	var drops []string
	var table, name, def string
	if _, err := pgx.ForEachRow(rows, []any{&table, &name, &def}, func() error {
		t, n := pgx.Identifier{table}.Sanitize(), pgx.Identifier{name}.Sanitize()
		drops = append(drops, "ALTER TABLE "+t+" DROP CONSTRAINT "+n)
		b.keys = append(b.keys, "ALTER TABLE "+t+" ADD CONSTRAINT "+n+" "+def)
		return nil
	}); err != nil {
		return err
	}
	return execAll(ctx, tx, drops, "dropping a primary key for a first import")
}

// restoreKeys adds the dropped primary keys again; a second call does
// nothing. A row written twice makes it fail, and the import with it.
func (b *bulkIndexes) restoreKeys(ctx context.Context, tx pgx.Tx) error {
	if b == nil || len(b.keys) == 0 {
		return nil
	}
	keys := b.keys
	b.keys = nil
	if err := bigSorts(ctx, tx); err != nil {
		return err
	}
	return execAll(ctx, tx, keys, "restoring a primary key after a first import")
}

// rebuild restores the keys, if still away, and creates the dropped
// indexes again.
func (b *bulkIndexes) rebuild(ctx context.Context, tx pgx.Tx) error {
	if !b.dropped() {
		return nil
	}
	if err := b.restoreKeys(ctx, tx); err != nil {
		return err
	}
	if err := bigSorts(ctx, tx); err != nil {
		return err
	}
	return execAll(ctx, tx, b.indexes, "building an index after a first import")
}

// bigSorts gives the transaction memory enough to sort a large import's
// keys at once.
func bigSorts(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'")
	return err
}

func execAll(ctx context.Context, tx pgx.Tx, stmts []string, what string) error {
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s (%s): %w", what, s, err)
		}
	}
	return nil
}
