package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/match"
	"github.com/whodunit-project/whodunit/internal/store"
)

// addrText is an address as the src and dst columns hold it; "" for none.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// PutSightings implements store.Store. The one connection serialises
// concurrent calls, and the transaction takes the write lock at BEGIN, so
// the added time read here is the latest one when the batch is written.
func (s *Store) PutSightings(ctx context.Context, list []match.Sighting) (int, error) {
	if len(list) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	added, err := nextAdded(ctx, tx)
	if err != nil {
		return 0, err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO sightings(key, indicator_id, time, data, value, src, dst, added)
		VALUES (?,?,?,?,?,?,?,?)`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	n := 0
	var data []byte // the driver copies what it binds
	for i := range list {
		sg := &list[i]
		data, err = sg.AppendJSON(data[:0])
		if err != nil {
			return 0, err
		}
		r, err := stmt.ExecContext(ctx, sg.Key(), sg.IndicatorID, fmtTime(sg.Time), data, sg.Value, addrText(sg.SrcIP), addrText(sg.DstIP), added)
		if err != nil {
			return 0, err
		}
		if k, _ := r.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, tx.Commit()
}

// nextAdded is the added time of a new batch: now, or just after the
// latest stored one should the clock have gone back, so that every batch
// sorts after the ones before it.
func nextAdded(ctx context.Context, tx *sql.Tx) (string, error) {
	var last sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT max(added) FROM sightings").Scan(&last); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	if t := parseTime(last.String); !t.Before(now) {
		now = t.Add(time.Nanosecond)
	}
	return fmtTime(now), nil
}

// sightingWhere is the WHERE clause of q's filters, with its arguments.
func sightingWhere(q store.SightingQuery) ([]string, []any, error) {
	var where []string
	var args []any
	if q.IndicatorID != "" {
		where = append(where, "indicator_id = ?")
		args = append(args, q.IndicatorID)
	}
	if q.Value != "" {
		where = append(where, "value = ?")
		args = append(args, q.Value)
	}
	if q.Host != "" {
		a, err := netip.ParseAddr(q.Host)
		if err != nil {
			return nil, nil, fmt.Errorf("sighting query: host %q is not an IP address", q.Host)
		}
		where = append(where, "(src = ? OR dst = ?)")
		args = append(args, a.String(), a.String())
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, fmtTime(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "time <> '' AND time < ?")
		args = append(args, fmtTime(q.Until))
	}
	if !q.AddedAfter.IsZero() {
		where = append(where, "added > ?")
		args = append(args, fmtTime(q.AddedAfter))
	}
	return where, args, nil
}

// Sightings implements store.Store.
func (s *Store) Sightings(ctx context.Context, q store.SightingQuery, fn func(*match.Sighting) error) error {
	where, args, err := sightingWhere(q)
	if err != nil {
		return err
	}
	query := "SELECT data FROM sightings"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY time, key"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return err
		}
		var sg match.Sighting
		if err := json.Unmarshal(data, &sg); err != nil {
			return fmt.Errorf("stored sighting: %w", err)
		}
		if err := fn(&sg); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SightingsPage implements store.Store.
func (s *Store) SightingsPage(ctx context.Context, q store.SightingQuery, after store.Cursor, limit int) (store.SightingPage, error) {
	page := store.SightingPage{Next: after}
	addedAt, key, err := after.Position()
	if err != nil {
		return page, err
	}
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	where, args, err := sightingWhere(q)
	if err != nil {
		return page, err
	}
	if key != "" {
		at := fmtTime(addedAt)
		// a row value, which SQLite answers from the (added, key) index
		where = append(where, "(added, key) > (?, ?)")
		args = append(args, at, key)
	}
	query := "SELECT key, added, data FROM sightings"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY added, key LIMIT %d", limit+1) // one more tells whether there are more
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	var lastKey, lastAdded string
	for rows.Next() {
		if len(page.Sightings) == limit {
			page.More = true
			break
		}
		var data []byte
		if err := rows.Scan(&lastKey, &lastAdded, &data); err != nil {
			return page, err
		}
		st := store.StoredSighting{Added: parseTime(lastAdded)}
		if err := json.Unmarshal(data, &st.Sighting); err != nil {
			return page, fmt.Errorf("stored sighting %s: %w", lastKey, err)
		}
		page.Sightings = append(page.Sightings, st)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if lastKey != "" {
		page.Next = store.NewCursor(parseTime(lastAdded), lastKey)
	}
	return page, nil
}
