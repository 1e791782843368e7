package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
)

// pullEvery pulls on a schedule until SIGINT or SIGTERM.
func (app *App) pullEvery(ctx context.Context, opt hunt.PullOptions, keys *remoteFlags, every time.Duration) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	target, closeStore, err := app.openPullTarget(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	// A plan that cannot work (no subscription, an unknown --name) is an
	// error now, not a warning repeated at every round.
	if _, err := plannedPulls(ctx, target, opt, keys); err != nil {
		return err
	}
	app.infof("pulling every %s until stopped", every)
	return app.pullSchedule(every, func(ctx context.Context) ([]hunt.PullOptions, error) {
		return plannedPulls(ctx, target, opt, keys)
	}).Run(ctx, target)
}

// servePulls is the schedule `serve --pull-every` runs: every stored
// subscription, none while there are none.
func (app *App) servePulls(db hunt.PullTarget, every time.Duration, keys *remoteFlags) hunt.PullSchedule {
	return app.pullSchedule(every, func(ctx context.Context) ([]hunt.PullOptions, error) {
		subs, err := db.Subscriptions(ctx)
		if err != nil || len(subs) == 0 {
			return nil, err
		}
		return storedPulls(ctx, db, hunt.PullOptions{}, keys)
	})
}

func (app *App) pullSchedule(every time.Duration, round func(context.Context) ([]hunt.PullOptions, error)) hunt.PullSchedule {
	return hunt.PullSchedule{Every: every, Round: round, Report: app.reportPull}
}

// reportPull says what one scheduled pull did: a line (JSON with --json)
// for a pull, a warning for a failure, which the next round retries.
func (app *App) reportPull(o hunt.PullOptions, res *hunt.PullResult, err error) {
	if err != nil {
		what := "planning the pulls"
		if o.URL != "" {
			what = "pulling " + o.Name + " from " + o.URL
		}
		app.errorf("%s: %v (tried again at the next round)", what, err)
		app.diskHint(err)
		return
	}
	if app.JSON {
		enc := json.NewEncoder(app.Stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(pullsJSON([]*hunt.PullResult{res})[0]); err != nil {
			app.errorf("writing the pull's result: %v", err)
		}
		return
	}
	app.printPull(res)
}
