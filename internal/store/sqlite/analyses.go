package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/store"
)

// PutAnalysis implements store.Store.
func (s *Store) PutAnalysis(ctx context.Context, a store.Analysis) (store.Analysis, error) {
	if err := store.CheckAnalysis(&a); err != nil {
		return store.Analysis{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Analysis{}, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) + 1 FROM analyses").Scan(&a.Seq); err != nil {
		return store.Analysis{}, err
	}
	if a.ID == "" {
		a.ID = strconv.FormatInt(a.Seq, 10)
	}
	if a.Created.IsZero() {
		a.Created = time.Now()
	}
	a.Created = parseTime(fmtTime(a.Created)) // as it reads back
	var taken int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM analyses WHERE id = ?", a.ID).Scan(&taken); err != nil {
		return store.Analysis{}, err
	}
	if taken > 0 {
		return store.Analysis{}, fmt.Errorf("analysis %s is stored already", a.ID)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO analyses(seq, id, created, snapshot, document) VALUES (?,?,?,?,?)",
		a.Seq, a.ID, fmtTime(a.Created), a.Snapshot, nullBytes(a.Document)); err != nil {
		return store.Analysis{}, err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO analysis_campaigns(analysis_seq, ord, id, norm, actor, estimate, confidence, likelihood, first_seen, last_seen, data)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return store.Analysis{}, err
	}
	defer stmt.Close()
	a.Campaigns = append([]store.CampaignRecord(nil), a.Campaigns...)
	for i := range a.Campaigns {
		c := &a.Campaigns[i]
		c.FirstSeen, c.LastSeen = parseTime(fmtTime(c.FirstSeen)), parseTime(fmtTime(c.LastSeen))
		if _, err := stmt.ExecContext(ctx, a.Seq, i, c.ID, strings.ToLower(c.ID), c.Actor, c.Estimate, c.Confidence, c.Likelihood,
			fmtTime(c.FirstSeen), fmtTime(c.LastSeen), nullBytes(c.Data)); err != nil {
			return store.Analysis{}, fmt.Errorf("analysis %s: campaign %s: %w", a.ID, c.ID, err)
		}
	}
	return a, tx.Commit()
}

// Analyses implements store.Store.
func (s *Store) Analyses(ctx context.Context) ([]store.AnalysisInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.seq, a.id, a.created, a.snapshot,
		(SELECT count(*) FROM analysis_campaigns c WHERE c.analysis_seq = a.seq) FROM analyses a ORDER BY a.seq DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AnalysisInfo
	for rows.Next() {
		var in store.AnalysisInfo
		var created string
		if err := rows.Scan(&in.Seq, &in.ID, &created, &in.Snapshot, &in.Campaigns); err != nil {
			return nil, err
		}
		in.Created = parseTime(created)
		out = append(out, in)
	}
	return out, rows.Err()
}

// Analysis implements store.Store.
func (s *Store) Analysis(ctx context.Context, id string) (*store.Analysis, error) {
	q, args := "SELECT seq, id, created, snapshot, document FROM analyses WHERE id = ?", []any{id}
	if id == "" || id == store.LatestAnalysis {
		q, args = "SELECT seq, id, created, snapshot, document FROM analyses ORDER BY seq DESC LIMIT 1", nil
	}
	a := &store.Analysis{}
	var created string
	var doc []byte
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&a.Seq, &a.ID, &created, &a.Snapshot, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("analysis %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	a.Created = parseTime(created)
	if doc != nil {
		a.Document = doc
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+campaignCols+" FROM analysis_campaigns c WHERE c.analysis_seq = ? ORDER BY c.ord", a.Seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		a.Campaigns = append(a.Campaigns, c)
	}
	return a, rows.Err()
}

// CampaignVersions implements store.Store.
func (s *Store) CampaignVersions(ctx context.Context, campaignID string) ([]store.CampaignVersion, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT a.id, a.seq, a.created, "+campaignCols+` FROM analysis_campaigns c
		JOIN analyses a ON a.seq = c.analysis_seq WHERE c.norm = ? ORDER BY a.seq`, strings.ToLower(campaignID))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.CampaignVersion
	for rows.Next() {
		var v store.CampaignVersion
		var created string
		c, err := scanCampaign(rows, &v.AnalysisID, &v.AnalysisSeq, &created)
		if err != nil {
			return nil, err
		}
		v.Created, v.Campaign = parseTime(created), c
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("campaign %q: %w", campaignID, store.ErrNotFound)
	}
	return out, nil
}

const campaignCols = "c.id, c.actor, c.estimate, c.confidence, c.likelihood, c.first_seen, c.last_seen, c.data"

// scanCampaign reads a row of campaignCols, after the columns of before.
func scanCampaign(row interface{ Scan(...any) error }, before ...any) (store.CampaignRecord, error) {
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
