package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

// sightingChunk is how many sightings one INSERT … SELECT FROM unnest
// carries: arrays have no parameter limit, this only bounds one message.
const sightingChunk = 5000

// PutSightings implements store.Store. Callers are serialised by an
// advisory lock held to commit, so the added time chosen under it is
// later than that of every batch committed before, on any client.
func (s *Store) PutSightings(ctx context.Context, list []match.Sighting) (int, error) {
	if len(list) == 0 {
		return 0, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockSightings); err != nil {
		return 0, err
	}
	added, err := nextAdded(ctx, tx)
	if err != nil {
		return 0, err
	}
	n := 0
	for start := 0; start < len(list); start += sightingChunk {
		k, err := insertSightings(ctx, tx, list[start:min(start+sightingChunk, len(list))], added)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, tx.Commit(ctx)
}

// insertSightings inserts one chunk and returns how many were new.
func insertSightings(ctx context.Context, tx pgx.Tx, list []match.Sighting, added string) (int, error) {
	cols := make([][]string, 7)
	datas := make([][]byte, len(list))
	var buf []byte // one array for the chunk's documents
	for i := range list {
		sg := &list[i]
		start := len(buf)
		var err error
		buf, err = sg.AppendJSON(buf)
		if err != nil {
			return 0, fmt.Errorf("sighting %s: %w", sg.Key(), err)
		}
		datas[i] = buf[start:len(buf):len(buf)]
		for c, v := range []string{sg.Key(), sg.IndicatorID, fmtTime(sg.Time), sg.Value, addrText(sg.SrcIP), addrText(sg.DstIP)} {
			cols[c] = append(cols[c], v)
		}
	}
	// the first of one key in the chunk wins, as one insert at a time would
	tag, err := tx.Exec(ctx, `INSERT INTO sightings(key, indicator_id, time, value, src, dst, data, added)
		SELECT k, i, t, v, s, d, j, $8 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[])
			WITH ORDINALITY AS u(k, i, t, v, s, d, j, ord) ORDER BY ord
		ON CONFLICT (key) DO NOTHING`, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], datas, added)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// nextAdded is the added time of a new batch: the server's clock, or just
// after the latest stored one should that clock be behind it.
func nextAdded(ctx context.Context, tx pgx.Tx) (string, error) {
	var last string
	var now time.Time
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(added), ''), clock_timestamp() FROM sightings").Scan(&last, &now); err != nil {
		return "", err
	}
	if t := parseTime(last); !t.Before(now) {
		now = t.Add(time.Nanosecond)
	}
	return fmtTime(now), nil
}

// sightingWhere is the WHERE conditions of q's filters.
func sightingWhere(q store.SightingQuery, p *params) ([]string, error) {
	var where []string
	if q.IndicatorID != "" {
		where = append(where, "indicator_id = "+p.add(q.IndicatorID))
	}
	if q.Value != "" {
		where = append(where, "value = "+p.add(q.Value))
	}
	if q.Host != "" {
		a, err := netip.ParseAddr(q.Host)
		if err != nil {
			return nil, fmt.Errorf("sighting query: host %q is not an IP address", q.Host)
		}
		h := p.add(a.String())
		where = append(where, "(src = "+h+" OR dst = "+h+")")
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= "+p.add(fmtTime(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "time <> '' AND time < "+p.add(fmtTime(q.Until)))
	}
	if !q.AddedAfter.IsZero() {
		where = append(where, "added > "+p.add(fmtTime(q.AddedAfter)))
	}
	return where, nil
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// Sightings implements store.Store.
func (s *Store) Sightings(ctx context.Context, q store.SightingQuery, fn func(*match.Sighting) error) error {
	p := &params{}
	where, err := sightingWhere(q, p)
	if err != nil {
		return err
	}
	query := "SELECT key, data FROM sightings" + whereClause(where) + " ORDER BY time, key"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.pool.Query(ctx, query, p.args...)
	if err != nil {
		return err
	}
	var key string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&key, &data}, func() error {
		var sg match.Sighting
		if err := json.Unmarshal(data, &sg); err != nil {
			return fmt.Errorf("stored sighting %s: %w", key, err)
		}
		return fn(&sg)
	})
	return err
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
	p := &params{}
	where, err := sightingWhere(q, p)
	if err != nil {
		return page, err
	}
	if key != "" {
		where = append(where, "(added, key) > ("+p.add(fmtTime(addedAt))+", "+p.add(key)+")")
	}
	// one more than the page tells whether there are more
	query := "SELECT key, added, data FROM sightings" + whereClause(where) + fmt.Sprintf(" ORDER BY added, key LIMIT %d", limit+1)
	rows, err := s.pool.Query(ctx, query, p.args...)
	if err != nil {
		return page, err
	}
	var k, lastKey, added, lastAdded string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&k, &added, &data}, func() error {
		if len(page.Sightings) == limit {
			page.More = true
			return nil
		}
		st := store.StoredSighting{Added: parseTime(added)}
		if err := json.Unmarshal(data, &st.Sighting); err != nil {
			return fmt.Errorf("stored sighting %s: %w", k, err)
		}
		page.Sightings = append(page.Sightings, st)
		lastKey, lastAdded = k, added
		return nil
	})
	if err != nil {
		return page, err
	}
	if lastKey != "" {
		page.Next = store.NewCursor(parseTime(lastAdded), lastKey)
	}
	return page, nil
}
