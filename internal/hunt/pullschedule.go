package hunt

import (
	"context"
	"errors"
	"time"
)

// PullSchedule keeps subscriptions fresh: a round of pulls now, then one
// every Every until the context ends.
type PullSchedule struct {
	Every time.Duration
	// Round gives the pulls of one round. It is asked again at every
	// round, so a subscription added meanwhile is pulled at the next.
	Round func(ctx context.Context) ([]PullOptions, error)
	// Report is told the outcome of every pull (and of every round that
	// could not be planned, with a zero PullOptions); nil = say nothing.
	Report func(PullOptions, *PullResult, error)
}

// Run pulls until ctx ends and then returns nil. A pull that fails is
// reported and tried again at the next round; the others go on. A pull
// cut short by the end of ctx leaves its subscription where its last
// whole page put it, so nothing is lost or doubled when it resumes.
func (s PullSchedule) Run(ctx context.Context, db PullTarget) error {
	if s.Every <= 0 {
		return errors.New("pull schedule: the interval must be positive")
	}
	report := s.Report
	if report == nil {
		report = func(PullOptions, *PullResult, error) {}
	}
	tick := time.NewTicker(s.Every)
	defer tick.Stop()
	for {
		s.round(ctx, db, report)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (s PullSchedule) round(ctx context.Context, db PullTarget, report func(PullOptions, *PullResult, error)) {
	runs, err := s.Round(ctx)
	if err != nil {
		if ctx.Err() == nil {
			report(PullOptions{}, nil, err)
		}
		return
	}
	for _, o := range runs {
		if ctx.Err() != nil {
			return
		}
		res, err := Pull(ctx, db, o)
		if ctx.Err() != nil && err != nil {
			return // stopped, not failed
		}
		report(o, res, err)
	}
}
