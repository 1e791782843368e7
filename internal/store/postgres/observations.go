package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

// migrationObservations adds the observable index: one row per (type,
// value, field), first and last seen in unix nanoseconds, hosts
// space-separated, records in obsindex's compact form naming their source
// and file by an id of observation_sources. IF NOT EXISTS lets a test
// that takes the schema back re-apply it.
const migrationObservations = `
CREATE TABLE IF NOT EXISTS observation_sources (
	id     bigint PRIMARY KEY,
	source ctext NOT NULL,
	file   ctext NOT NULL,
	UNIQUE (source, file)
);
CREATE TABLE IF NOT EXISTS observations (
	type    ctext NOT NULL,
	value   ctext NOT NULL,
	field   ctext NOT NULL,
	first   bigint NOT NULL,
	last    bigint NOT NULL,
	count   bigint NOT NULL,
	hosts   ctext NOT NULL,
	records bytea NOT NULL,
	PRIMARY KEY (type, value, field)
);
`

// lockObservations serialises index writers, so that two merges of one
// key never both read the old row.
const lockObservations int64 = 0x77686f64756e0107

const obsColumns = "type, value, field, first, last, count, hosts, records"

// obsChunk bounds the keys of one read and the rows of one COPY.
const obsChunk = 5000

// PutObservations implements store.ObservationStore: the stored rows of
// the batch's keys are read and merged in Go, the result is copied into a
// temporary table and upserted, in one transaction.
func (s *Store) PutObservations(ctx context.Context, list []obsindex.Observation) error {
	if len(list) == 0 {
		return nil
	}
	list = obsindex.MergeAll(append([]obsindex.Observation(nil), list...))
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockObservations); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE observations_in (LIKE observations) ON COMMIT DROP`); err != nil {
		return err
	}
	srcs, err := loadSources(ctx, tx)
	if err != nil {
		return err
	}
	for start := 0; start < len(list); start += obsChunk {
		if err := mergeChunk(ctx, tx, srcs, list[start:min(start+obsChunk, len(list))]); err != nil {
			return err
		}
	}
	if err := flushSources(ctx, tx, srcs); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO observations SELECT * FROM observations_in
		ON CONFLICT (type, value, field) DO UPDATE SET first = excluded.first, last = excluded.last,
			count = excluded.count, hosts = excluded.hosts, records = excluded.records`); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// mergeChunk merges one chunk (sorted, one row per key) with its stored
// rows and copies the result into observations_in.
func mergeChunk(ctx context.Context, tx pgx.Tx, srcs *obsindex.SourceTable, chunk []obsindex.Observation) error {
	cols := make([][]string, 3)
	at := make(map[obsindex.Key]int, len(chunk))
	for i := range chunk {
		o := &chunk[i]
		cols[0], cols[1], cols[2] = append(cols[0], string(o.Type)), append(cols[1], o.Value), append(cols[2], o.Field)
		at[o.Key()] = i
	}
	rows, err := tx.Query(ctx, `SELECT o.type, o.value, o.field, o.first, o.last, o.count, o.hosts, o.records FROM observations o
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(t, v, f) ON o.type = k.t AND o.value = k.v AND o.field = k.f`, cols[0], cols[1], cols[2])
	if err != nil {
		return err
	}
	merged := make([]obsindex.Observation, len(chunk))
	copy(merged, chunk)
	for rows.Next() {
		old, err := scanObservation(rows, srcs.Name)
		if err != nil {
			rows.Close()
			return err
		}
		i := at[old.Key()]
		old.Merge(&chunk[i])
		merged[i] = *old
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	out := make([][]any, len(merged))
	for i := range merged {
		o := &merged[i]
		recs := obsindex.AppendRecords(nil, o.Records, srcs.ID)
		out[i] = []any{string(o.Type), o.Value, o.Field, obsindex.UnixNano(o.First), obsindex.UnixNano(o.Last), o.Count, obsindex.HostsText(o.Hosts), recs}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"observations_in"}, strings.Split(strings.ReplaceAll(obsColumns, " ", ""), ","), pgx.CopyFromRows(out))
	return err
}

func scanObservation(row pgx.Row, name func(uint64) (obsindex.SourceKey, bool)) (*obsindex.Observation, error) {
	var o obsindex.Observation
	var typ, hosts string
	var first, last int64
	var recs []byte
	if err := row.Scan(&typ, &o.Value, &o.Field, &first, &last, &o.Count, &hosts, &recs); err != nil {
		return nil, err
	}
	o.Type, o.First, o.Last = intel.ValueType(typ), obsindex.FromUnixNano(first), obsindex.FromUnixNano(last)
	for _, p := range strings.Fields(hosts) {
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("stored host %q of %s %q: %w", p, typ, o.Value, err)
		}
		o.Hosts = append(o.Hosts, a)
	}
	var err error
	if o.Records, err = obsindex.DecodeRecords(recs, name); err != nil {
		return nil, fmt.Errorf("stored records of %s %q: %w", typ, o.Value, err)
	}
	return &o, nil
}

// Observations implements store.ObservationStore.
func (s *Store) Observations(ctx context.Context, q store.ObservationQuery, fn func(*obsindex.Observation) error) error {
	query := "SELECT " + obsColumns + " FROM observations WHERE ($1::text[] IS NULL OR type = ANY($1)) AND last >= $2 ORDER BY type, value, field"
	var types []string
	for _, t := range q.Types {
		types = append(types, string(t))
	}
	return s.streamObservations(ctx, fn, query, types, obsindex.UnixNano(q.SeenSince))
}

// LookupObservations implements store.ObservationStore.
func (s *Store) LookupObservations(ctx context.Context, keys []store.ObservationKey, fn func(*obsindex.Observation) error) error {
	keys = store.SortObservationKeys(append([]store.ObservationKey(nil), keys...))
	for start := 0; start < len(keys); start += obsChunk {
		chunk := keys[start:min(start+obsChunk, len(keys))]
		types, values := make([]string, len(chunk)), make([]string, len(chunk))
		for i, k := range chunk {
			types[i], values[i] = string(k.Type), k.Value
		}
		query := `SELECT o.type, o.value, o.field, o.first, o.last, o.count, o.hosts, o.records FROM observations o
			JOIN unnest($1::text[], $2::text[]) AS k(t, v) ON o.type = k.t AND o.value = k.v ORDER BY o.type, o.value, o.field`
		if err := s.streamObservations(ctx, fn, query, types, values); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) streamObservations(ctx context.Context, fn func(*obsindex.Observation) error, query string, args ...any) error {
	srcs, err := loadSources(ctx, s.pool)
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, query, args...)
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
	rows, err := s.pool.Query(ctx, `SELECT type, count(*), coalesce(sum(count), 0)::bigint, coalesce(min(nullif(first, 0)), 0), coalesce(max(last), 0)
		FROM observations GROUP BY type ORDER BY type`)
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

func loadSources(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) (*obsindex.SourceTable, error) {
	t := obsindex.NewSourceTable()
	rows, err := q.Query(ctx, "SELECT id, source, file FROM observation_sources")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k obsindex.SourceKey
		if err := rows.Scan(&id, &k.Source, &k.File); err != nil {
			return nil, err
		}
		t.Load(uint64(id), k)
	}
	return t, rows.Err()
}

// flushSources stores the sources new since the last flush.
func flushSources(ctx context.Context, tx pgx.Tx, t *obsindex.SourceTable) error {
	return t.TakeFresh(func(id uint64, k obsindex.SourceKey) error {
		_, err := tx.Exec(ctx, "INSERT INTO observation_sources(id, source, file) VALUES ($1, $2, $3)", int64(id), k.Source, k.File)
		return err
	})
}
