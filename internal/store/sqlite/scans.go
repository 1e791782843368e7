package sqlite

import (
	"context"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// PutScan implements store.Store.
func (s *Store) PutScan(ctx context.Context, r store.ScanRecord) (store.ScanRecord, error) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	r.At = r.At.UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO scans(at, snapshot, files, events, bytes, sightings, new, detections)
		VALUES (?,?,?,?,?,?,?,?)`, fmtTime(r.At), r.Snapshot, r.Files, r.Events, r.Bytes, r.Sightings, r.New, r.Detections)
	if err != nil {
		return r, err
	}
	r.Seq, err = res.LastInsertId()
	return r, err
}

// Scans implements store.Store.
func (s *Store) Scans(ctx context.Context) ([]store.ScanRecord, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT seq, at, snapshot, files, events, bytes, sightings, new, detections FROM scans ORDER BY seq")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ScanRecord
	for rows.Next() {
		var r store.ScanRecord
		var at string
		if err := rows.Scan(&r.Seq, &at, &r.Snapshot, &r.Files, &r.Events, &r.Bytes, &r.Sightings, &r.New, &r.Detections); err != nil {
			return nil, err
		}
		r.At = parseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
