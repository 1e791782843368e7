package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// nextObjectAdded is the added time of the first version one import stores:
// the server's clock, or just after the latest stored added time (of
// objects, object_versions or list_indicators) should the clock be behind
// it (it stepped back, or an earlier import ran on a host whose clock was
// ahead).
//
// Why a reader paging by added time never misses a version: Import takes
// the import advisory lock (pg_advisory_xact_lock, held until the
// transaction ends) before calling this, and only imports write added
// times. PostgreSQL releases a transaction's locks only after its commit
// is visible, and under READ COMMITTED the SELECT below takes its snapshot
// after the lock was granted, so it sees every import that committed
// before; no other import can commit until this one ends. Hence the time
// chosen is later than every added time committed before, and every time a
// reader can have paged past (a reader sees only committed rows) is
// earlier than the time of every import still to commit.
func nextObjectAdded(ctx context.Context, tx pgx.Tx) (time.Time, error) {
	var cur, old, listed string
	var now time.Time
	err := tx.QueryRow(ctx, `SELECT coalesce((SELECT max(added) FROM objects), ''),
		coalesce((SELECT max(added) FROM object_versions), ''),
		coalesce((SELECT max(added) FROM list_indicators), ''), clock_timestamp()`).Scan(&cur, &old, &listed, &now)
	if err != nil {
		return time.Time{}, err
	}
	if t := parseTime(max(cur, old, listed)); !t.Before(now) {
		now = t.Add(time.Nanosecond)
	}
	return now.UTC(), nil
}

// stamp is the added time of the next version the import stores.
func (w *writer) stamp() string {
	t := w.addedBase.Add(time.Duration(w.addedN))
	w.addedN++
	return fmtTime(t)
}
