package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whodunit-project/whodunit/internal/store"
)

// PutAnalysis implements store.Store. Runs are numbered under an
// advisory lock, so that concurrent callers get 1, 2, … in commit order.
func (s *Store) PutAnalysis(ctx context.Context, a store.Analysis) (store.Analysis, error) {
	if err := store.CheckAnalysis(&a); err != nil {
		return store.Analysis{}, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockAnalyses); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) + 1 FROM analyses").Scan(&a.Seq); err != nil {
			return err
		}
		if a.ID == "" {
			a.ID = strconv.FormatInt(a.Seq, 10)
		}
		if a.Created.IsZero() {
			a.Created = time.Now()
		}
		a.Created = parseTime(fmtTime(a.Created)) // as it reads back
		var taken bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM analyses WHERE id = $1)", a.ID).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("analysis %s is stored already", a.ID)
		}
		b := &pgx.Batch{}
		b.Queue("INSERT INTO analyses(seq, id, created, snapshot, document) VALUES ($1,$2,$3,$4,$5)",
			a.Seq, a.ID, fmtTime(a.Created), a.Snapshot, nilIfEmpty(a.Document))
		a.Campaigns = append([]store.CampaignRecord(nil), a.Campaigns...)
		for i := range a.Campaigns {
			c := &a.Campaigns[i]
			c.FirstSeen, c.LastSeen = parseTime(fmtTime(c.FirstSeen)), parseTime(fmtTime(c.LastSeen))
			b.Queue(`INSERT INTO analysis_campaigns(analysis_seq, ord, id, norm, actor, estimate, confidence, likelihood, first_seen, last_seen, data)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, a.Seq, i, c.ID, strings.ToLower(c.ID), c.Actor, c.Estimate, c.Confidence,
				c.Likelihood, fmtTime(c.FirstSeen), fmtTime(c.LastSeen), nilIfEmpty(c.Data))
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("analysis %s: %w", a.ID, err)
		}
		return nil
	})
	if err != nil {
		return store.Analysis{}, err
	}
	return a, nil
}

// nilIfEmpty stores absent JSON as NULL, as SQLite's store does.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Analyses implements store.Store.
func (s *Store) Analyses(ctx context.Context) ([]store.AnalysisInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.seq, a.id, a.created, a.snapshot,
		(SELECT count(*) FROM analysis_campaigns c WHERE c.analysis_seq = a.seq) FROM analyses a ORDER BY a.seq DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AnalysisInfo, error) {
		var in store.AnalysisInfo
		var created string
		err := r.Scan(&in.Seq, &in.ID, &created, &in.Snapshot, &in.Campaigns)
		in.Created = parseTime(created)
		return in, err
	})
}

// Analysis implements store.Store.
func (s *Store) Analysis(ctx context.Context, id string) (*store.Analysis, error) {
	q, args := "SELECT seq, id, created, snapshot, document FROM analyses WHERE id = $1", []any{id}
	if id == "" || id == store.LatestAnalysis {
		q, args = "SELECT seq, id, created, snapshot, document FROM analyses ORDER BY seq DESC LIMIT 1", nil
	}
	a := &store.Analysis{}
	var created string
	var doc []byte
	err := s.pool.QueryRow(ctx, q, args...).Scan(&a.Seq, &a.ID, &created, &a.Snapshot, &doc)
	if isNoRows(err) {
		return nil, fmt.Errorf("analysis %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	a.Created = parseTime(created)
	if doc != nil {
		a.Document = doc
	}
	rows, err := s.pool.Query(ctx, "SELECT "+campaignCols+" FROM analysis_campaigns c WHERE c.analysis_seq = $1 ORDER BY c.ord", a.Seq)
	if err != nil {
		return nil, err
	}
	a.Campaigns, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CampaignRecord, error) { return scanCampaign(r) })
	return a, err
}

// CampaignVersions implements store.Store.
func (s *Store) CampaignVersions(ctx context.Context, campaignID string) ([]store.CampaignVersion, error) {
	rows, err := s.pool.Query(ctx, "SELECT a.id, a.seq, a.created, "+campaignCols+` FROM analysis_campaigns c
		JOIN analyses a ON a.seq = c.analysis_seq WHERE c.norm = $1 ORDER BY a.seq`, strings.ToLower(campaignID))
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CampaignVersion, error) {
		var v store.CampaignVersion
		var created string
		c, err := scanCampaign(r, &v.AnalysisID, &v.AnalysisSeq, &created)
		v.Created, v.Campaign = parseTime(created), c
		return v, err
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("campaign %q: %w", campaignID, store.ErrNotFound)
	}
	return out, nil
}

const campaignCols = "c.id, c.actor, c.estimate, c.confidence, c.likelihood, c.first_seen, c.last_seen, c.data"

// scanCampaign reads a row of campaignCols, after the columns of before.
func scanCampaign(row pgx.Row, before ...any) (store.CampaignRecord, error) {
	var c store.CampaignRecord
	var first, last string
	var data []byte
	dst := append(before, &c.ID, &c.Actor, &c.Estimate, &c.Confidence, &c.Likelihood, &first, &last, &data)
	if err := row.Scan(dst...); err != nil {
		return c, err
	}
	c.FirstSeen, c.LastSeen = parseTime(first), parseTime(last)
	if data != nil {
		c.Data = data
	}
	return c, nil
}

// PutScan implements store.Store.
func (s *Store) PutScan(ctx context.Context, r store.ScanRecord) (store.ScanRecord, error) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	r.At = parseTime(fmtTime(r.At)) // as it reads back
	err := s.pool.QueryRow(ctx, `INSERT INTO scans(at, snapshot, files, events, bytes, sightings, new, detections)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING seq`, fmtTime(r.At), r.Snapshot, r.Files, r.Events, r.Bytes, r.Sightings, r.New, r.Detections).Scan(&r.Seq)
	return r, err
}

// Scans implements store.Store.
func (s *Store) Scans(ctx context.Context) ([]store.ScanRecord, error) {
	rows, err := s.pool.Query(ctx, "SELECT seq, at, snapshot, files, events, bytes, sightings, new, detections FROM scans ORDER BY seq")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ScanRecord, error) {
		var r store.ScanRecord
		var at string
		err := row.Scan(&r.Seq, &at, &r.Snapshot, &r.Files, &r.Events, &r.Bytes, &r.Sightings, &r.New, &r.Detections)
		r.At = parseTime(at)
		return r, err
	})
}
