package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/behavior"
	"github.com/whodunit-project/whodunit/internal/queue"
	"github.com/whodunit-project/whodunit/internal/watch"
)

// watchFlags are the flags of watch.
type watchFlags struct {
	state, alerts, format, mapping, sourceName, allowlist string
	natsURL, natsPrefix                                   string
	noBehavior, noIndex                                   bool
	windowEvents                                          int
	window, every, poll, settle, intelEvery               time.Duration
}

func newWatchCmd(app *App) *cobra.Command {
	var f watchFlags
	c := &cobra.Command{
		Use:   "watch DIR|FILE...",
		Short: "Follow live logs (Zeek's log directory and its rotation, EVE, JSON lines) and alert on every new record that matches",
		Long: `Follow growing telemetry files and match every new complete record
against the database's indicators: a directory gives its live logs (*.log,
*.json, *.jsonl; not dated archives), a file is followed by itself. A log
that Zeek rotates is read to its end, then its successor from the start.

Alerts are JSON lines on stdout, or appended to --alerts FILE (exactly
once, even across a kill); sightings and behaviour detections are stored
with the keys a scan of the same files gives, and every value seen goes
into the observable index (as scan keeps it) so that intelligence
imported later finds it; with --nats each alert is
also published on JetStream. The position in every file is checkpointed
in --state, so a restart goes on where the last run stopped. New
intelligence in the database is picked up without a restart.
SIGINT or SIGTERM finishes the current pass, writes the checkpoint and
exits 0.`,
		Example: `  whodunit watch --state /var/lib/whodunit/watch.json /opt/zeek/logs/current
  whodunit watch --state w.json --alerts alerts.jsonl --nats nats://127.0.0.1:4222 /var/log/suricata/eve.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.watch(cmd.Context(), args, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.state, "state", "", "checkpoint file (required): where every followed file was read to")
	fl.StringVar(&f.alerts, "alerts", "", "append alerts as JSON lines to this file instead of stdout")
	fl.StringVar(&f.format, "format", "", "force the telemetry format (zeek, zeek-json, eve, jsonl) instead of sniffing")
	fl.StringVar(&f.mapping, "mapping", "", "field mapping for jsonl input: inline 'field=key,…' or a file")
	fl.StringVar(&f.sourceName, "source-name", "", "name of the logical source, as for scan")
	fl.StringVar(&f.allowlist, "allowlist", "", "file of known-good addresses and names that the analytics must not flag")
	fl.BoolVar(&f.noBehavior, "no-behavior", false, "skip the behavioural C2 analytics")
	fl.BoolVar(&f.noIndex, "no-index", false, "do not keep the observable index that retro-hunts match later intelligence against")
	fl.DurationVar(&f.window, "window", time.Hour, "span of event time the behaviour analytics look at")
	fl.IntVar(&f.windowEvents, "window-events", watch.DefaultWindowEvents, "most events the behaviour window keeps (the oldest are dropped first)")
	fl.DurationVar(&f.every, "every", time.Minute, "how often the behaviour analytics run over the window")
	fl.DurationVar(&f.poll, "poll", 200*time.Millisecond, "how often the files are checked for new records")
	fl.DurationVar(&f.settle, "settle", 2*time.Second, "longest wait for a new file's first 4 KiB (which name it in sighting keys)")
	fl.DurationVar(&f.intelEvery, "intel-every", 5*time.Second, "how often the database is checked for new intelligence")
	fl.StringVar(&f.natsURL, "nats", "", "also publish every alert on this NATS JetStream server (message id = sighting key)")
	fl.StringVar(&f.natsPrefix, "nats-prefix", queue.DefaultPrefix, "prefix of the JetStream streams (alerts go to <prefix>.sightings.watch)")
	return c
}

func (app *App) watch(ctx context.Context, paths []string, f *watchFlags) error {
	if f.state == "" {
		return usagef("--state FILE is required: it keeps the position in every followed file")
	}
	opt := watch.Options{Paths: paths, State: f.state, AlertsFile: f.alerts, Format: f.format, SourceName: f.sourceName,
		NoBehavior: f.noBehavior, NoIndex: f.noIndex, Window: f.window, MaxWindowEvents: f.windowEvents, Every: f.every, Poll: f.poll, Settle: f.settle, IntelEvery: f.intelEvery, Log: app.Log}
	if f.alerts == "" {
		opt.Alerts = app.Stdout
	}
	if f.mapping != "" {
		m, err := loadMapping(f.mapping)
		if err != nil {
			return usagef("--mapping: %v", err)
		}
		opt.Mapping = m
	}
	if f.allowlist != "" {
		al, err := behavior.LoadAllowlist(f.allowlist)
		if err != nil {
			return err
		}
		opt.Allowlist = al
	}
	opt.OnDetection = func(d behavior.Detection) {
		dst := d.DstName
		if d.Dst.IsValid() {
			dst = d.Dst.String()
		}
		app.infof("detection: %s %s → %s score %.2f (%s)", d.Analytic, d.Src, dst, d.Score, d.ID)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.natsURL != "" {
		nc, err := app.connectNATS(f.natsURL, "watch")
		if err != nil {
			return err
		}
		defer nc.Drain()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		if opt.Publish, err = watch.NATSPublisher(ctx, js, queue.NamesFor(f.natsPrefix), 0); err != nil {
			return err
		}
	}
	db, err := app.createStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := watch.Run(ctx, db, opt)
	if err != nil {
		return err
	}
	if app.JSON {
		return json.NewEncoder(app.Stderr).Encode(st)
	}
	app.infof("watched: %d events, %d sightings, %d alerts, %d detections, %d bad records, %d snapshots",
		st.Events, st.Sightings, st.Alerts, st.Detections, st.BadRecords, st.Snapshots)
	return nil
}
