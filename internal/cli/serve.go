package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/server"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/taxii"
	"github.com/whodunit-project/whodunit/internal/tlp"
	"github.com/whodunit-project/whodunit/internal/webui"
)

// serveOptions are the flags of `whodunit serve`.
type serveOptions struct {
	listen, tlsCert, tlsKey  string
	org, defaultTLP, apiRoot string
	collections, jobsRoot    string
	maxPage                  int
	pullEvery                time.Duration
	pullKeys                 remoteFlags
	ready                    func(net.Addr) // also told the address, when set
}

func newServeCmd(app *App) *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Use:   "serve [--listen ADDR] [--tls-cert F --tls-key F]",
		Short: "Serve the store over TAXII 2.1 to API keys, within each key's TLP ceiling",
		Long: `serve answers TAXII 2.1 at /taxii2/ (discovery) and /API-ROOT/ with the
collections intel (the store's intelligence), findings (STIX sightings of
the indicators whodunit matched) and inbox (where partners POST), plus
those a --collections file defines, and the analysts' web interface at /
(sign in with an API key) with its JSON API at /api/v1/. Every request needs an API key
('whodunit apikey create'); every object is served only within the key's
TLP ceiling, objects without a marking count as --default-tlp, and
TLP:RED never leaves. Every request is audited ('whodunit audit').

It listens on loopback unless --listen says otherwise (then give
--tls-cert and --tls-key). SIGINT or SIGTERM stops it gracefully.

With --pull-every, it also pulls every TAXII subscription ('intel pull')
at that interval, with the key in --pull-key-dir/NAME for subscription
NAME, or else WHODUNIT_TAXII_KEY.`,
		Example: `  whodunit apikey create partner --tlp-max green --read intel,findings --write inbox
  whodunit serve --org "Example CERT"
  curl -g -H 'Authorization: Bearer KEY' -H 'Accept: application/taxii+json;version=2.1' \
    http://127.0.0.1:8470/whodunit/collections/intel/objects/?limit=100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), app, o) },
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", server.DefaultListen, "address to listen on (host:port)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	f.StringVar(&o.org, "org", "", "the organisation serving (the discovery title)")
	f.StringVar(&o.defaultTLP, "default-tlp", "amber", "TLP of objects without a marking: clear, green, amber, amber+strict, red")
	f.StringVar(&o.apiRoot, "api-root", taxii.DefaultAPIRoot, "path segment of the API root")
	f.StringVar(&o.collections, "collections", "", "JSON file of more collections (alias, title, sources, actor, types)")
	f.StringVar(&o.jobsRoot, "jobs-root", "", "directory under which the web interface's jobs may scan telemetry (unset: no jobs)")
	f.IntVar(&o.maxPage, "max-page", taxii.DefaultMaxPage, "the most objects one page holds")
	f.DurationVar(&o.pullEvery, "pull-every", 0, "pull every TAXII subscription at this interval (e.g. 1h); 0 = never")
	f.StringVar(&o.pullKeys.keyDir, "pull-key-dir", "", "directory of keys by subscription: DIR/NAME is the key for subscription NAME")
	return c
}

func runServe(ctx context.Context, app *App, o serveOptions) error {
	cfg, err := o.taxiiConfig(app)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := app.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ss, ok := db.(interface {
		taxii.Store
		webui.Store
		store.AuditLog
	})
	if !ok {
		return fmt.Errorf("the store at %s cannot serve (no server roles)", app.DBPath)
	}
	if cfg.CursorKey, err = taxii.CursorKeyFromStore(ctx, ss, time.Now()); err != nil {
		return err
	}
	th, err := taxii.New(ss, cfg)
	if err != nil {
		return err
	}
	ui, err := webui.New(ss, webui.Config{DefaultTLP: cfg.DefaultTLP, Secure: o.tlsCert != "", Log: app.Log, JobsRoot: o.jobsRoot})
	if err != nil {
		return err
	}
	h, err := server.Mount(ui, webui.Reserved, th, "taxii2", cfg.APIRoot)
	if err != nil {
		return usagef("--api-root: %v", err)
	}
	if o.pullEvery > 0 {
		pulls, ok := db.(hunt.PullTarget)
		if !ok {
			return errors.New("--pull-every: this store keeps no subscriptions")
		}
		var wg sync.WaitGroup
		defer wg.Wait() // before the store closes
		wg.Go(func() { _ = app.servePulls(pulls, o.pullEvery, &o.pullKeys).Run(ctx, pulls) })
	}
	return server.Run(ctx, server.Config{Listen: o.listen, TLSCert: o.tlsCert, TLSKey: o.tlsKey,
		Handler: h, Audit: ss, Log: app.Log, MaxBody: cfg.MaxBody,
		Ready: func(a net.Addr) {
			scheme := "http"
			if o.tlsCert != "" {
				scheme = "https"
			}
			app.infof("serving TAXII 2.1 at %s://%s/taxii2/ (API root /%s/), the web interface at %s://%s/", scheme, a, cfg.APIRoot, scheme, a)
			if o.ready != nil {
				o.ready(a)
			}
		}})
}

func (o serveOptions) taxiiConfig(app *App) (taxii.Config, error) {
	lvl, err := tlp.Parse(o.defaultTLP)
	if err != nil {
		return taxii.Config{}, usagef("--default-tlp: %v", err)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return taxii.Config{}, usagef("--tls-cert and --tls-key go together")
	}
	cfg := taxii.Config{Title: o.org, APIRoot: o.apiRoot, DefaultTLP: lvl, MaxPage: o.maxPage, Log: app.Log,
		Description: "whodunit: intelligence and findings, shared under TLP 2.0"}
	if o.collections != "" {
		if cfg.Collections, err = taxii.LoadCollections(o.collections); err != nil {
			return taxii.Config{}, usagef("--collections: %v", err)
		}
	}
	return cfg, nil
}
