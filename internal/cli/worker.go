package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/queue"
	"github.com/whodunit-project/whodunit/internal/telemetry/formats"
)

// natsFlags are the flags worker and scan --nats share.
type natsFlags struct {
	url     string
	prefix  string
	ackWait time.Duration
}

func (f *natsFlags) add(c *cobra.Command, urlHelp string) {
	fl := c.Flags()
	fl.StringVar(&f.url, "nats", "", urlHelp)
	fl.StringVar(&f.prefix, "nats-prefix", queue.DefaultPrefix, "prefix of the JetStream streams and buckets (coordinator and workers must agree)")
	fl.DurationVar(&f.ackWait, "ack-wait", queue.DefaultSettings.AckWait, "how long a job may go unacknowledged before another worker gets it")
}

func (f *natsFlags) settings() queue.Settings {
	s := queue.DefaultSettings
	s.AckWait = f.ackWait
	return s
}

func (app *App) connectNATS(url, role string) (*nats.Conn, error) {
	// reconnect forever (queue.ConnectOptions): the coordinator and the
	// workers retry what an outage failed, so it only pauses the scan
	opts := append(queue.ConnectOptions(), nats.Name("whodunit "+role),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				app.infof("nats: disconnected: %v (reconnecting)", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { app.infof("nats: reconnected to %s", c.ConnectedUrlRedacted()) }))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS at %s: %w", url, err)
	}
	return nc, nil
}

func newWorkerCmd(app *App) *cobra.Command {
	var f natsFlags
	var workers int
	var mapping string
	c := &cobra.Command{
		Use:   "worker --nats URL",
		Short: "Take scan jobs from NATS JetStream: read each piece, match it, publish the findings (see docs/workers.md)",
		Long: `Run a scan worker: take jobs from the JetStream work queue that
'whodunit scan --nats' fills, build the matcher from the snapshot the
coordinator published (once per version), read the job's piece — from the
object store, or from the shared file system when the coordinator runs with
--shared-storage — and publish its sightings and behaviour features on the
results stream before acknowledging the job. Runs until interrupted.`,
		Example: `  whodunit worker --nats nats://127.0.0.1:4222 --workers 2`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.url == "" {
				return usagef("--nats URL is required")
			}
			opt := queue.WorkerOptions{Names: queue.NamesFor(f.prefix), Settings: f.settings(), Workers: workers, Log: app.Log}
			if mapping != "" {
				m, err := loadMapping(mapping)
				if err != nil {
					return usagef("--mapping: %v", err)
				}
				opt.Registry = formats.Default(formats.Options{Mapping: m})
			} else {
				opt.Registry = formats.Default(formats.Options{})
			}
			nc, err := app.connectNATS(f.url, "worker")
			if err != nil {
				return err
			}
			defer nc.Close()
			app.infof("worker: %d job(s) at a time from %s (prefix %s)", max(workers, 1), nc.ConnectedUrlRedacted(), f.prefix)
			return queue.RunWorker(cmd.Context(), nc, opt)
		},
	}
	f.add(c, "URL of the NATS server with JetStream (required)")
	c.Flags().IntVar(&workers, "workers", 1, "jobs read in parallel")
	c.Flags().StringVar(&mapping, "mapping", "", "field mapping for jsonl/csv input, as the coordinator's scan --mapping")
	return c
}

// scanNATS runs scan through the workers: this process cuts the files,
// publishes the jobs and stores what comes back.
func (app *App) scanNATS(ctx context.Context, db hunt.ScanTarget, opt hunt.ScanOptions, f *scanFlags) (*hunt.ScanResult, error) {
	nc, err := app.connectNATS(f.nats.url, "coordinator")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	qopt := queue.ScanOptions{ScanOptions: opt, Names: queue.NamesFor(f.nats.prefix), Settings: f.nats.settings(), Shared: f.sharedStorage}
	if !app.Quiet && !app.JSON {
		last := time.Time{}
		qopt.OnProgress = func(done, total int, events int64) {
			if now := time.Now(); now.Sub(last) >= time.Second || done == total {
				last = now
				of := "?"
				if total >= 0 {
					of = fmt.Sprint(total)
				}
				fmt.Fprintf(app.Stderr, "pieces %d/%s, %d events\n", done, of, events)
			}
		}
	}
	return queue.Scan(ctx, nc, db, qopt)
}
