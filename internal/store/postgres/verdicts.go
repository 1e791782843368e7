package postgres

import (
	"context"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// migrationVerdicts keeps the analysts' verdicts (store.VerdictStore),
// appended and never changed. IF NOT EXISTS: the upgrade tests roll a
// database back to an older version by hand without knowing this table.
const migrationVerdicts = `
CREATE TABLE IF NOT EXISTS verdicts (
	seq      bigserial PRIMARY KEY,
	kind     ctext NOT NULL,
	target   ctext NOT NULL,
	indicator ctext NOT NULL,
	decision ctext NOT NULL,
	note     ctext NOT NULL,
	by_key   ctext NOT NULL,
	at       ctext NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_target ON verdicts(kind, target, seq);
`

// PutVerdict implements store.VerdictStore.
func (s *Store) PutVerdict(ctx context.Context, v store.Verdict) (store.Verdict, error) {
	if err := store.CheckVerdict(v); err != nil {
		return v, err
	}
	if v.At.IsZero() {
		v.At = time.Now()
	}
	v.At = parseTime(fmtTime(v.At))
	err := s.pool.QueryRow(ctx, `INSERT INTO verdicts(kind, target, indicator, decision, note, by_key, at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING seq`,
		v.Kind, v.Target, v.Indicator, v.Decision, v.Note, v.By, fmtTime(v.At)).Scan(&v.Seq)
	return v, err
}

// Verdicts implements store.VerdictStore.
func (s *Store) Verdicts(ctx context.Context, q store.VerdictQuery) ([]store.Verdict, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, kind, target, indicator, decision, note, by_key, at FROM verdicts
		WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR target = $2) ORDER BY seq`, q.Kind, q.Target)
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
