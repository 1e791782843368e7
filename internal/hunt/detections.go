package hunt

import (
	"context"

	"github.com/whodunit-project/whodunit/internal/behavior"
)

// DetectionStore holds behavioural findings.
type DetectionStore interface {
	WarninglistSource
	Detections(ctx context.Context, fn func(*behavior.Detection) error) error
	PutDetections(ctx context.Context, d []behavior.Detection) error
}

// LoadDetections reads every stored detection.
func LoadDetections(ctx context.Context, db DetectionStore) ([]behavior.Detection, error) {
	var dets []behavior.Detection
	err := db.Detections(ctx, func(d *behavior.Detection) error {
		dets = append(dets, *d)
		return nil
	})
	return dets, err
}

// ReapplyAllowlist rescores the stored detections with the store's
// warninglists and al (so that allowlist changes take effect without a
// rescan), stores the result and returns it.
func ReapplyAllowlist(ctx context.Context, db DetectionStore, al *behavior.Allowlist) ([]behavior.Detection, error) {
	dets, err := LoadDetections(ctx, db)
	if err != nil {
		return nil, err
	}
	wl, err := CompileWarninglists(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	dets = behavior.Reapply(dets, benignFor(wl, al), behavior.DefaultConfig())
	if err := db.PutDetections(ctx, dets); err != nil {
		return nil, err
	}
	return dets, nil
}
