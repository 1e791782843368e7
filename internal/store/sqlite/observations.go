package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

// migrationObservations adds the observable index: one row per (type,
// value, field), first and last seen in unix nanoseconds, hosts
// space-separated, records in obsindex's compact form naming their source
// and file by an id of observation_sources. IF NOT EXISTS lets a test
// that takes the schema back re-apply it.
var migrationObservations = migration{sql: `
CREATE TABLE IF NOT EXISTS observation_sources (
	id     INTEGER PRIMARY KEY,
	source TEXT NOT NULL,
	file   TEXT NOT NULL,
	UNIQUE (source, file)
);
CREATE TABLE IF NOT EXISTS observations (
	type    TEXT NOT NULL,
	value   TEXT NOT NULL,
	field   TEXT NOT NULL,
	first   INTEGER NOT NULL,
	last    INTEGER NOT NULL,
	count   INTEGER NOT NULL,
	hosts   TEXT NOT NULL,
	records BLOB NOT NULL,
	PRIMARY KEY (type, value, field)
) WITHOUT ROWID;
`}

var _ store.ObservationStore = (*Store)(nil)

const obsColumns = "type, value, field, first, last, count, hosts, records"

// obsChunk is how many rows one SELECT or INSERT names (8 parameters each).
const obsChunk = 500

// PutObservations implements store.ObservationStore: stored rows with a
// key of list are read, merged and written back in one transaction.
func (s *Store) PutObservations(ctx context.Context, list []obsindex.Observation) error {
	if len(list) == 0 {
		return nil
	}
	list = obsindex.MergeAll(append([]obsindex.Observation(nil), list...))
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	srcs, err := loadSources(ctx, tx)
	if err != nil {
		return err
	}
	// a full chunk's INSERT is prepared once, not parsed per chunk (a
	// third of its cost in a profile)
	var full *sql.Stmt
	if len(list) >= obsChunk {
		if full, err = tx.PrepareContext(ctx, insertObservations(obsChunk)); err != nil {
			return err
		}
		defer full.Close()
	}
	for start := 0; start < len(list); start += obsChunk {
		if err := s.putChunk(ctx, tx, srcs, full, list[start:min(start+obsChunk, len(list))]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// putChunk merges one chunk (sorted, one row per key) with its stored rows
// and writes the result.
// full is the prepared INSERT of obsChunk rows, or nil.
func (s *Store) putChunk(ctx context.Context, tx *sql.Tx, srcs *obsindex.SourceTable, full *sql.Stmt, chunk []obsindex.Observation) error {
	merged, err := mergeStored(ctx, tx, srcs, chunk)
	if err != nil {
		return err
	}
	args := make([]any, 0, 8*len(chunk))
	for i := range merged {
		o := &merged[i]
		recs := obsindex.AppendRecords(nil, o.Records, srcs.ID)
		args = append(args, string(o.Type), o.Value, o.Field, obsindex.UnixNano(o.First), obsindex.UnixNano(o.Last), o.Count, obsindex.HostsText(o.Hosts), recs)
	}
	if err := flushSources(ctx, tx, srcs); err != nil {
		return err
	}
	if full != nil && len(merged) == obsChunk {
		_, err = full.ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, insertObservations(len(merged)), args...)
	}
	return err
}

// insertObservations is the INSERT of n rows.
func insertObservations(n int) string {
	return "INSERT OR REPLACE INTO observations(" + obsColumns + ") VALUES " + rowPlaceholders(n, 8)
}

// mergeStored is chunk (sorted, one row per key) merged with the rows
// stored under its keys.
func mergeStored(ctx context.Context, tx *sql.Tx, srcs *obsindex.SourceTable, chunk []obsindex.Observation) ([]obsindex.Observation, error) {
	merged := append([]obsindex.Observation(nil), chunk...)
	// one seek says whether any stored key falls between the chunk's
	// first and last (SQLite orders text as Go orders strings): in a new
	// index or for new values, none does, and the lookup of every key is
	// spared
	lo, hi := &chunk[0], &chunk[len(chunk)-1]
	var stored bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM observations WHERE (type, value, field) >= (?, ?, ?) AND (type, value, field) <= (?, ?, ?))",
		string(lo.Type), lo.Value, lo.Field, string(hi.Type), hi.Value, hi.Field).Scan(&stored); err != nil || !stored {
		return merged, err
	}
	args := make([]any, 0, 3*len(chunk))
	at := make(map[obsindex.Key]int, len(chunk))
	for i := range chunk {
		args = append(args, string(chunk[i].Type), chunk[i].Value, chunk[i].Field)
		at[chunk[i].Key()] = i
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+obsColumns+" FROM observations WHERE (type, value, field) IN (VALUES "+
		rowPlaceholders(len(chunk), 3)+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		old, err := scanObservation(rows, srcs.Name)
		if err != nil {
			return nil, err
		}
		i := at[old.Key()]
		old.Merge(&chunk[i])
		merged[i] = *old
	}
	return merged, rows.Err()
}

// rowPlaceholders is n groups of k question marks: "(?,?),(?,?)".
func rowPlaceholders(n, k int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?,", k), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(group+",", n), ",")
}

func loadSources(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) (*obsindex.SourceTable, error) {
	t := obsindex.NewSourceTable()
	rows, err := q.QueryContext(ctx, "SELECT id, source, file FROM observation_sources")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var k obsindex.SourceKey
		if err := rows.Scan(&id, &k.Source, &k.File); err != nil {
			return nil, err
		}
		t.Load(id, k)
	}
	return t, rows.Err()
}

// flushSources stores the sources new since the last flush.
func flushSources(ctx context.Context, tx *sql.Tx, t *obsindex.SourceTable) error {
	return t.TakeFresh(func(id uint64, k obsindex.SourceKey) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO observation_sources(id, source, file) VALUES (?,?,?)", id, k.Source, k.File)
		return err
	})
}

// scanObservation reads one row of obsColumns.
func scanObservation(row interface{ Scan(...any) error }, name func(uint64) (obsindex.SourceKey, bool)) (*obsindex.Observation, error) {
	var o obsindex.Observation
	var typ, hosts string
	var first, last int64
	var recs []byte
	if err := row.Scan(&typ, &o.Value, &o.Field, &first, &last, &o.Count, &hosts, &recs); err != nil {
		return nil, err
	}
	o.Type, o.First, o.Last = intel.ValueType(typ), obsindex.FromUnixNano(first), obsindex.FromUnixNano(last)
	var err error
	if o.Hosts, err = obsindex.ParseHosts(hosts); err != nil {
		return nil, err
	}
	if o.Records, err = obsindex.DecodeRecords(recs, name); err != nil {
		return nil, fmt.Errorf("stored records of %s %q: %w", typ, o.Value, err)
	}
	return &o, nil
}

// Observations implements store.ObservationStore.
func (s *Store) Observations(ctx context.Context, q store.ObservationQuery, fn func(*obsindex.Observation) error) error {
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
	query := "SELECT " + obsColumns + " FROM observations"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	srcs, err := loadSources(ctx, s.db)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, query+" ORDER BY type, value, field", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObservation(rows, srcs.Name)
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LookupObservations implements store.ObservationStore.
func (s *Store) LookupObservations(ctx context.Context, keys []store.ObservationKey, fn func(*obsindex.Observation) error) error {
	keys = store.SortObservationKeys(append([]store.ObservationKey(nil), keys...))
	srcs, err := loadSources(ctx, s.db)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.lookupOne(ctx, k, srcs, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) lookupOne(ctx context.Context, k store.ObservationKey, srcs *obsindex.SourceTable, fn func(*obsindex.Observation) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT "+obsColumns+" FROM observations WHERE type = ? AND value = ? ORDER BY field", string(k.Type), k.Value)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObservation(rows, srcs.Name)
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ObservationStats implements store.ObservationStore.
func (s *Store) ObservationStats(ctx context.Context) (store.ObservationStats, error) {
	st := store.ObservationStats{ByType: map[intel.ValueType]int64{}}
	rows, err := s.db.QueryContext(ctx, "SELECT type, count(*), coalesce(sum(count), 0), coalesce(min(nullif(first, 0)), 0), coalesce(max(last), 0) FROM observations GROUP BY type ORDER BY type")
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var typ string
		var n, sum, first, last int64
		if err := rows.Scan(&typ, &n, &sum, &first, &last); err != nil {
			return st, err
		}
		st.Add(intel.ValueType(typ), n, sum, obsindex.FromUnixNano(first), obsindex.FromUnixNano(last))
	}
	return st, rows.Err()
}
