package sqlite

import (
	"context"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// migrationVerdicts keeps the analysts' verdicts (store.VerdictStore),
// appended and never changed. IF NOT EXISTS: the upgrade tests roll a
// database back to an older version by hand without knowing this table.
var migrationVerdicts = migration{sql: `
CREATE TABLE IF NOT EXISTS verdicts (
	seq      INTEGER PRIMARY KEY,
	kind     TEXT NOT NULL,
	target   TEXT NOT NULL,
	indicator TEXT NOT NULL,
	decision TEXT NOT NULL,
	note     TEXT NOT NULL,
	by_key   TEXT NOT NULL,
	at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_target ON verdicts(kind, target, seq);
`}

// PutVerdict implements store.VerdictStore.
func (s *Store) PutVerdict(ctx context.Context, v store.Verdict) (store.Verdict, error) {
	if err := store.CheckVerdict(v); err != nil {
		return v, err
	}
	if v.At.IsZero() {
		v.At = time.Now()
	}
	v.At = parseTime(fmtTime(v.At))
	res, err := s.db.ExecContext(ctx, `INSERT INTO verdicts(kind, target, indicator, decision, note, by_key, at) VALUES (?,?,?,?,?,?,?)`,
		v.Kind, v.Target, v.Indicator, v.Decision, v.Note, v.By, fmtTime(v.At))
	if err != nil {
		return v, err
	}
	v.Seq, err = res.LastInsertId()
	return v, err
}

// Verdicts implements store.VerdictStore.
func (s *Store) Verdicts(ctx context.Context, q store.VerdictQuery) ([]store.Verdict, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, kind, target, indicator, decision, note, by_key, at FROM verdicts
		WHERE (? = '' OR kind = ?) AND (? = '' OR target = ?) ORDER BY seq`, q.Kind, q.Kind, q.Target, q.Target)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Verdict
	for rows.Next() {
		var v store.Verdict
		var at string
		if err := rows.Scan(&v.Seq, &v.Kind, &v.Target, &v.Indicator, &v.Decision, &v.Note, &v.By, &at); err != nil {
			return nil, err
		}
		v.At = parseTime(at)
		out = append(out, v)
	}
	return out, rows.Err()
}
