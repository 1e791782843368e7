package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// nextObjectAdded is the added time of the first version one writer
// stores: now, or just after the latest stored added time should the
// clock be behind it. Import's transaction is BEGIN IMMEDIATE (the DSN's _txlock): it
// holds SQLite's write lock from its start to its commit, in this process
// and any other, so no other import commits between this read and this
// one's commit, and the time is later than every added time a reader can
// have seen.
func nextObjectAdded(ctx context.Context, tx *sql.Tx) (time.Time, error) {
	var last string
	err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(added) FROM objects), ''),
		coalesce((SELECT max(added) FROM object_versions), ''), coalesce((SELECT max(added) FROM list_indicators), ''))`).Scan(&last)
	if err != nil {
		return time.Time{}, err
	}
	now := time.Now().UTC()
	if t := parseTime(last); !t.Before(now) {
		now = t.Add(time.Nanosecond)
	}
	return now, nil
}

// stamp is the added time of the next version the writer stores.
func (w *writer) stamp() string {
	if w.keepAdded != "" {
		return w.keepAdded
	}
	t := w.addedBase.Add(time.Duration(w.addedN))
	w.addedN++
	return fmtTime(t)
}

// shapedAdded is the added time of the shaped indicator stored under id.
func (w *writer) shapedAdded(ctx context.Context, id string) (string, error) {
	var added string
	err := w.tx.QueryRowContext(ctx, "SELECT added FROM list_indicators WHERE id = ?", id).Scan(&added)
	return added, err
}
