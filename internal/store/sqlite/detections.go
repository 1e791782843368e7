package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/store"
)

// migrationDetectionKeys keeps store.DetectionKeys beside each
// detection's JSON so that a triage page is one indexed query, not a
// decode of every detection.
var migrationDetectionKeys = migration{upgrade: addDetectionKeys}

// detectionKeyColumns are the columns of store.DetectionKeys, in its order.
var detectionKeyColumns = []string{"analytic_fold", "analytic", "src", "src_order", "dst", "dst_fold",
	"dst_addr", "dst_name_fold", "first_seen", "series_count", "suppressed"}

func detectionKeyArgs(k store.DetectionKeys) []any {
	return []any{k.AnalyticFold, k.Analytic, k.Src, k.SrcOrder, k.Dst, k.DstFold, k.DstAddr, k.DstNameFold,
		k.FirstSeen, k.Count, k.Suppressed}
}

// addDetectionKeys adds the key columns that are missing (the upgrade
// tests roll a database back by hand) and fills them from the JSON.
func addDetectionKeys(ctx context.Context, tx *sql.Tx) error {
	for _, col := range detectionKeyColumns {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('detections') WHERE name = ?", col).Scan(&n); err != nil {
			return err
		}
		def := "TEXT NOT NULL DEFAULT ''"
		if col == "series_count" || col == "suppressed" {
			def = "INTEGER NOT NULL DEFAULT 0"
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE detections ADD COLUMN "+col+" "+def); err != nil {
				return err
			}
		}
	}
	for _, ix := range store.DetectionIndexes {
		if _, err := tx.ExecContext(ctx, ix); err != nil {
			return err
		}
	}
	return refillDetectionKeys(ctx, tx)
}

// refillDetectionKeys derives every stored detection's key columns again.
func refillDetectionKeys(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, data FROM detections")
	if err != nil {
		return err
	}
	keys := map[string]store.DetectionKeys{}
	if err := eachDetection(rows, func(d *behavior.Detection) error {
		keys[d.ID] = store.DetectionKeysOf(d)
		return nil
	}); err != nil {
		return err
	}
	set := ""
	for i, col := range detectionKeyColumns {
		if i > 0 {
			set += ", "
		}
		set += col + " = ?"
	}
	stmt, err := tx.PrepareContext(ctx, "UPDATE detections SET "+set+" WHERE id = ?")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for id, k := range keys {
		if _, err := stmt.ExecContext(ctx, append(detectionKeyArgs(k), id)...); err != nil {
			return err
		}
	}
	return nil
}

// PutDetections implements store.FindingWriter.
func (s *Store) PutDetections(ctx context.Context, list []behavior.Detection) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO detections(id, score, data, analytic_fold, analytic, src, src_order, dst,
		dst_fold, dst_addr, dst_name_fold, first_seen, series_count, suppressed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET score = excluded.score, data = excluded.data, analytic_fold = excluded.analytic_fold,
		analytic = excluded.analytic, src = excluded.src, src_order = excluded.src_order, dst = excluded.dst,
		dst_fold = excluded.dst_fold, dst_addr = excluded.dst_addr, dst_name_fold = excluded.dst_name_fold,
		first_seen = excluded.first_seen, series_count = excluded.series_count, suppressed = excluded.suppressed`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range list {
		if list[i].ID == "" {
			return fmt.Errorf("detection without an id (%s %s)", list[i].Analytic, list[i].Src)
		}
		data, err := json.Marshal(&list[i])
		if err != nil {
			return err
		}
		args := append([]any{list[i].ID, list[i].Score, data}, detectionKeyArgs(store.DetectionKeysOf(&list[i]))...)
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DetectionsPage implements store.FindingReader: the total and the page
// from one read transaction.
func (s *Store) DetectionsPage(ctx context.Context, q store.DetectionQuery) (store.DetectionPage, error) {
	var pg store.DetectionPage
	if err := q.Check(); err != nil {
		return pg, err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return pg, err
	}
	defer tx.Rollback()
	where, order, args := q.SQL(store.DetectionPlaceholderQ)
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM detections WHERE "+where, args...).Scan(&pg.Total); err != nil {
		return pg, fmt.Errorf("counting detections: %w", err)
	}
	pg.Items = []behavior.Detection{}
	if q.Limit == 0 || q.Offset >= pg.Total {
		return pg, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, data FROM detections WHERE "+where+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return pg, fmt.Errorf("reading detections: %w", err)
	}
	err = eachDetection(rows, func(d *behavior.Detection) error {
		pg.Items = append(pg.Items, *d)
		return nil
	})
	return pg, err
}

// Detections implements store.FindingReader.
func (s *Store) Detections(ctx context.Context, fn func(*behavior.Detection) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT id, data FROM detections ORDER BY score DESC, id")
	if err != nil {
		return err
	}
	return eachDetection(rows, fn)
}

// eachDetection decodes rows of (id, data) and closes them.
func eachDetection(rows *sql.Rows, fn func(*behavior.Detection) error) error {
	defer rows.Close()
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		var d behavior.Detection
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("stored detection %s: %w", id, err)
		}
		if err := fn(&d); err != nil {
			return err
		}
	}
	return rows.Err()
}
