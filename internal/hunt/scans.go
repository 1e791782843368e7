package hunt

import (
	"context"
	"time"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/store"
)

// ScanRecorder is a store that keeps the summary of every scan; Scan
// records into a target that is one.
type ScanRecorder interface {
	PutScan(ctx context.Context, r store.ScanRecord) (store.ScanRecord, error)
}

// ScanHistory is a store that lists the scans it recorded.
type ScanHistory interface {
	Scans(ctx context.Context) ([]store.ScanRecord, error)
}

// recordScan stores res's summary when db keeps scans.
func recordScan(ctx context.Context, db any, res *ScanResult) error {
	rec, ok := db.(ScanRecorder)
	if !ok {
		return nil
	}
	s := res.Summary
	_, err := rec.PutScan(ctx, store.ScanRecord{At: time.Now(), Snapshot: s.Snapshot, Files: len(s.Files), Events: s.Events,
		Bytes: s.DataBytes, Sightings: int(s.Sightings + s.Suppressed), New: res.NewSightings, Detections: len(res.Detections)})
	return err
}

// withStoredTotals fills the events and bytes of sum from the scans db
// recorded, when the caller knows none (report or attribute after scan).
func withStoredTotals(ctx context.Context, db any, sum report.Summary) (report.Summary, error) {
	h, ok := db.(ScanHistory)
	if !ok || sum.Events != 0 || sum.Bytes != 0 {
		return sum, nil
	}
	scans, err := h.Scans(ctx)
	if err != nil {
		return sum, err
	}
	sum.Events, sum.Bytes = store.ScanTotals(scans)
	return sum, nil
}
