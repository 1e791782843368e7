package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/store"
)

// migrationDetectionKeys keeps store.DetectionKeys beside each
// detection's JSON so that a triage page is one query, not a decode of
// every detection; fillDetectionKeys derives them for the stored ones.
var migrationDetectionKeys = `
ALTER TABLE detections
	ADD COLUMN IF NOT EXISTS analytic_fold ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS analytic ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS src ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS src_order ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS dst ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS dst_fold ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS dst_addr ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS dst_name_fold ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS first_seen ctext NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS series_count bigint NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS suppressed integer NOT NULL DEFAULT 0;
` + strings.Join(store.DetectionIndexes, ";\n") + ";\n"

const detectionKeySet = `analytic_fold = $2, analytic = $3, src = $4, src_order = $5, dst = $6, dst_fold = $7,
	dst_addr = $8, dst_name_fold = $9, first_seen = $10, series_count = $11, suppressed = $12`

func detectionKeyArgs(id string, k store.DetectionKeys) []any {
	return []any{id, k.AnalyticFold, k.Analytic, k.Src, k.SrcOrder, k.Dst, k.DstFold, k.DstAddr, k.DstNameFold,
		k.FirstSeen, k.Count, k.Suppressed}
}

// fillDetectionKeys derives the key columns of every stored detection.
func fillDetectionKeys(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, "SELECT id, data FROM detections")
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	err = eachDetection(rows, func(d *behavior.Detection) error {
		b.Queue("UPDATE detections SET "+detectionKeySet+" WHERE id = $1", detectionKeyArgs(d.ID, store.DetectionKeysOf(d))...)
		return nil
	})
	if err != nil || b.Len() == 0 {
		return err
	}
	return tx.SendBatch(ctx, b).Close()
}

// PutDetections implements store.FindingWriter.
func (s *Store) PutDetections(ctx context.Context, list []behavior.Detection) error {
	b := &pgx.Batch{}
	for i := range list {
		if list[i].ID == "" {
			return fmt.Errorf("detection without an id (%s %s)", list[i].Analytic, list[i].Src)
		}
		data, err := json.Marshal(&list[i])
		if err != nil {
			return err
		}
		args := append(detectionKeyArgs(list[i].ID, store.DetectionKeysOf(&list[i])), list[i].Score, data)
		b.Queue(`INSERT INTO detections(id, analytic_fold, analytic, src, src_order, dst, dst_fold, dst_addr,
			dst_name_fold, first_seen, series_count, suppressed, score, data) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
			ON CONFLICT (id) DO UPDATE SET score = excluded.score, data = excluded.data, `+detectionKeySet, args...)
	}
	if b.Len() == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
}

// DetectionsPage implements store.FindingReader: the total and the page
// from one snapshot.
func (s *Store) DetectionsPage(ctx context.Context, q store.DetectionQuery) (store.DetectionPage, error) {
	pg := store.DetectionPage{Items: []behavior.Detection{}}
	if err := q.Check(); err != nil {
		return pg, err
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		where, order, args := q.SQL(store.DetectionPlaceholderDollar)
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM detections WHERE "+where, args...).Scan(&pg.Total); err != nil {
			return fmt.Errorf("counting detections: %w", err)
		}
		if q.Limit == 0 || q.Offset >= pg.Total {
			return nil
		}
		n := len(args)
		rows, err := tx.Query(ctx, "SELECT id, data FROM detections WHERE "+where+" ORDER BY "+order+
			" LIMIT $"+strconv.Itoa(n+1)+" OFFSET $"+strconv.Itoa(n+2), append(args, q.Limit, q.Offset)...)
		if err != nil {
			return fmt.Errorf("reading detections: %w", err)
		}
		return eachDetection(rows, func(d *behavior.Detection) error {
			pg.Items = append(pg.Items, *d)
			return nil
		})
	})
	return pg, err
}

// Detections implements store.FindingReader.
func (s *Store) Detections(ctx context.Context, fn func(*behavior.Detection) error) error {
	rows, err := s.pool.Query(ctx, "SELECT id, data FROM detections ORDER BY score DESC, id")
	if err != nil {
		return err
	}
	return eachDetection(rows, fn)
}

// eachDetection decodes rows of (id, data) and closes them.
func eachDetection(rows pgx.Rows, fn func(*behavior.Detection) error) error {
	var id string
	var data []byte
	_, err := pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		var d behavior.Detection
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("stored detection %s: %w", id, err)
		}
		return fn(&d)
	})
	return err
}
