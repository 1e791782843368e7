package hunt

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
)

// AnalysisWriter stores analysis runs.
type AnalysisWriter interface {
	PutAnalysis(ctx context.Context, a store.Analysis) (store.Analysis, error)
}

// SaveAnalysis stores one analysis run: the report document and every
// campaign with its assessment, so that a server can show them (and their
// history across runs) without recomputing. snapshot names the matcher
// version of the scan the findings came from ("" when unknown).
func SaveAnalysis(ctx context.Context, db AnalysisWriter, doc *report.Document, snapshot string) (store.Analysis, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return store.Analysis{}, fmt.Errorf("encoding the report document: %w", err)
	}
	a := store.Analysis{Created: doc.Generated, Snapshot: snapshot, Document: raw}
	for i := range doc.Campaigns {
		c := &doc.Campaigns[i]
		data, err := json.Marshal(c)
		if err != nil {
			return store.Analysis{}, fmt.Errorf("encoding campaign %s: %w", c.ID, err)
		}
		a.Campaigns = append(a.Campaigns, store.CampaignRecord{ID: c.ID, Actor: c.Attribution.Actor,
			Estimate: c.Attribution.Estimate, Confidence: c.Attribution.Confidence, Likelihood: c.Attribution.Likelihood,
			FirstSeen: c.FirstSeen, LastSeen: c.LastSeen, Data: data})
	}
	return db.PutAnalysis(ctx, a)
}
