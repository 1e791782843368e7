package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/obsindex"
	"github.com/whodunit-project/whodunit/internal/store"
)

// migrationObservations adds the observable index: one row per (type,
// value, field); hosts space-separated, records as JSON. IF NOT EXISTS
// lets a test that takes the schema back re-apply it.
var migrationObservations = migration{sql: `
CREATE TABLE IF NOT EXISTS observations (
	type    TEXT NOT NULL,
	value   TEXT NOT NULL,
	field   TEXT NOT NULL,
	first   TEXT NOT NULL,
	last    TEXT NOT NULL,
	count   INTEGER NOT NULL,
	hosts   TEXT NOT NULL,
	records BLOB NOT NULL,
	PRIMARY KEY (type, value, field)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS observations_last ON observations(last);
`}

var _ store.ObservationStore = (*Store)(nil)

const obsColumns = "type, value, field, first, last, count, hosts, records"

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
	get, err := tx.PrepareContext(ctx, "SELECT "+obsColumns+" FROM observations WHERE type = ? AND value = ? AND field = ?")
	if err != nil {
		return err
	}
	defer get.Close()
	put, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO observations("+obsColumns+") VALUES (?,?,?,?,?,?,?,?)")
	if err != nil {
		return err
	}
	defer put.Close()
	for i := range list {
		o := &list[i]
		old, err := scanObservation(get.QueryRowContext(ctx, o.Type, o.Value, o.Field))
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return fmt.Errorf("observation %s %q: %w", o.Type, o.Value, err)
		default:
			old.Merge(o)
			o = old
		}
		recs, err := json.Marshal(o.Records)
		if err != nil {
			return err
		}
		if _, err := put.ExecContext(ctx, o.Type, o.Value, o.Field, fmtTime(o.First), fmtTime(o.Last), o.Count, hostsText(o.Hosts), recs); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func hostsText(hs []netip.Addr) string {
	parts := make([]string, len(hs))
	for i, a := range hs {
		parts[i] = a.String()
	}
	return strings.Join(parts, " ")
}

func parseHosts(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, p := range strings.Fields(s) {
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("stored host %q: %w", p, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// scanObservation reads one row of obsColumns.
func scanObservation(row interface{ Scan(...any) error }) (*obsindex.Observation, error) {
	var o obsindex.Observation
	var typ, first, last, hosts string
	var recs []byte
	if err := row.Scan(&typ, &o.Value, &o.Field, &first, &last, &o.Count, &hosts, &recs); err != nil {
		return nil, err
	}
	o.Type, o.First, o.Last = intel.ValueType(typ), parseTime(first), parseTime(last)
	var err error
	if o.Hosts, err = parseHosts(hosts); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(recs, &o.Records); err != nil {
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
		args = append(args, fmtTime(q.SeenSince))
	}
	query := "SELECT " + obsColumns + " FROM observations"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, query+" ORDER BY type, value, field", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObservation(rows)
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
	for _, k := range keys {
		if err := s.lookupOne(ctx, k, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) lookupOne(ctx context.Context, k store.ObservationKey, fn func(*obsindex.Observation) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT "+obsColumns+" FROM observations WHERE type = ? AND value = ? ORDER BY field", string(k.Type), k.Value)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObservation(rows)
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
	rows, err := s.db.QueryContext(ctx, "SELECT type, count(*), coalesce(sum(count), 0), coalesce(min(nullif(first, '')), ''), coalesce(max(last), '') FROM observations GROUP BY type ORDER BY type")
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var typ, first, last string
		var n, sum int64
		if err := rows.Scan(&typ, &n, &sum, &first, &last); err != nil {
			return st, err
		}
		st.Add(intel.ValueType(typ), n, sum, parseTime(first), parseTime(last))
	}
	return st, rows.Err()
}
