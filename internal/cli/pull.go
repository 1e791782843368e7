package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/store"
	"github.com/whodunit-project/whodunit/internal/taxiiclient"
)

// remoteFlags say how to reach a TAXII server.
type remoteFlags struct {
	collection, key, keyFile, keyDir string
}

func (f *remoteFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.collection, "collection", "", "the remote collection's id or alias")
	fl.StringVar(&f.key, "key", "", "API key sent as a Bearer token (env WHODUNIT_TAXII_KEY; prefer it or --key-file, which ps does not show)")
	fl.StringVar(&f.keyFile, "key-file", "", "read the API key from this file")
}

// clientFor is the client for subscription name: the key in
// keyDir/NAME when there is one, else the flags' key.
func (f *remoteFlags) clientFor(name string) (*taxiiclient.Client, error) {
	c, err := f.client()
	if err != nil || f.keyDir == "" {
		return c, err
	}
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return c, nil // not a plain file name: never a path out of keyDir
	}
	b, err := os.ReadFile(filepath.Join(f.keyDir, name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("--key-dir: %w", err)
	}
	c.Key = strings.TrimSpace(string(b))
	return c, nil
}

// client is a TAXII client with the key from the flags, the file or the
// environment, in that order.
func (f *remoteFlags) client() (*taxiiclient.Client, error) {
	c := taxiiclient.New()
	c.Key = f.key
	if c.Key == "" && f.keyFile != "" {
		b, err := os.ReadFile(f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--key-file: %w", err)
		}
		c.Key = strings.TrimSpace(string(b))
	}
	if c.Key == "" {
		c.Key = os.Getenv("WHODUNIT_TAXII_KEY")
	}
	return c, nil
}

func newIntelPullCmd(app *App) *cobra.Command {
	var f remoteFlags
	var imp importFlags
	var name, since string
	var limit int
	var every time.Duration
	c := &cobra.Command{
		Use:   "pull [URL --collection ID|ALIAS] [--every DURATION]",
		Short: "Pull a remote TAXII 2.1 collection into the store, from where the last pull stopped",
		Long: `pull pages through a remote TAXII 2.1 collection and imports each page as one
transaction, under the subscription's name (--name, by default the
collection's alias): 'intel sources' lists every page imported, and the
subscriptions with where each stopped. URL is the API root, or a discovery
URL whose default API root is taken. After each page, the remote's
X-TAXII-Date-Added-Last is kept, so the next pull asks only for what was
added since; a pull killed midway starts again at the page it was
importing, which the store knows by its content and does not double.
Transient failures (network, 429, 5xx) are retried with backoff.
Without URL, every stored subscription (or the one --name gives) is pulled.
With --every, pulls go on at that interval until SIGINT or SIGTERM; each
round reads the subscriptions again, and one that fails is tried again at
the next round. --key-dir holds one key file per subscription name, for
subscriptions to partners with keys of their own.`,
		Example: `  WHODUNIT_TAXII_KEY=... whodunit intel pull https://cert.example/taxii2/ --collection intel
  whodunit intel pull            # every subscription again, from where each stopped
  whodunit intel pull --every 30m --key-dir /etc/whodunit/partner-keys`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			labels, err := imp.options()
			if err != nil {
				return err
			}
			client, err := f.clientFor(name)
			if err != nil {
				return err
			}
			opt := hunt.PullOptions{Client: client, Name: name, Since: since, Limit: limit, Labels: labels}
			if len(args) == 1 {
				if f.collection == "" {
					return usagef("--collection is required with a URL")
				}
				opt.URL, opt.Collection = args[0], f.collection
			}
			if every != 0 {
				return app.pullEvery(cmd.Context(), opt, &f, every)
			}
			return app.pull(cmd.Context(), opt, &f)
		},
	}
	f.register(c)
	fl := c.Flags()
	fl.StringVar(&name, "name", "", "the subscription and source name (default: the collection's alias or id)")
	fl.StringVar(&since, "since", "", "ask for what was added after this time (the remote's timestamp form), instead of where the last pull stopped")
	fl.IntVar(&limit, "limit", 1000, "objects asked for per page")
	fl.DurationVar(&every, "every", 0, "keep pulling at this interval (e.g. 30m) until stopped")
	fl.StringVar(&f.keyDir, "key-dir", "", "directory of keys by subscription: DIR/NAME is the key for subscription NAME")
	fl.StringVar(&imp.tlp, "tlp", "", "TLP marking for objects the remote leaves unmarked")
	fl.StringVar(&imp.reliability, "reliability", "", "Admiralty reliability grade of the remote source, A-F")
	fl.StringVar(&imp.actor, "actor", "", "attribute every pulled indicator to this actor")
	return c
}

// pull runs one pull, or one per stored subscription.
func (app *App) pull(ctx context.Context, opt hunt.PullOptions, keys *remoteFlags) error {
	target, closeStore, err := app.openPullTarget(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	runs, err := plannedPulls(ctx, target, opt, keys)
	if err != nil {
		return err
	}
	var results []*hunt.PullResult
	for _, o := range runs {
		res, err := hunt.Pull(ctx, target, o)
		if err != nil {
			app.diskHint(err)
			return fmt.Errorf("pulling %s: %w", o.URL, err)
		}
		results = append(results, res)
		if !app.JSON {
			app.printPull(res)
		}
	}
	if app.JSON {
		return app.printJSON(pullsJSON(results))
	}
	return nil
}

// openPullTarget opens (creating if needed) the store pulls write to.
func (app *App) openPullTarget(ctx context.Context) (hunt.PullTarget, func() error, error) {
	db, err := app.createStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	target, ok := db.(hunt.PullTarget)
	if !ok {
		db.Close()
		return nil, nil, errors.New("this store keeps no subscriptions")
	}
	return target, db.Close, nil
}

// plannedPulls is the pull opt names by its URL, or else one per stored
// subscription.
func plannedPulls(ctx context.Context, db store.SubscriptionStore, opt hunt.PullOptions, keys *remoteFlags) ([]hunt.PullOptions, error) {
	if opt.URL != "" {
		return []hunt.PullOptions{opt}, nil
	}
	return storedPulls(ctx, db, opt, keys)
}

// storedPulls is one pull per stored subscription (or the one named),
// each with its own key.
func storedPulls(ctx context.Context, db store.SubscriptionStore, opt hunt.PullOptions, keys *remoteFlags) ([]hunt.PullOptions, error) {
	subs, err := db.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	var runs []hunt.PullOptions
	for _, s := range subs {
		if opt.Name == "" || s.Name == opt.Name {
			o := opt
			o.URL, o.Collection, o.Name = s.URL, s.Collection, s.Name
			c, err := keys.clientFor(s.Name)
			if err != nil {
				return nil, err
			}
			o.Client = c
			runs = append(runs, o)
		}
	}
	if len(runs) == 0 && opt.Name != "" {
		return nil, fmt.Errorf("%w %q (see 'whodunit intel sources')", hunt.ErrNoSubscription, opt.Name)
	}
	if len(runs) == 0 {
		return nil, usagef("no subscriptions yet: give a URL and --collection")
	}
	return runs, nil
}

func (app *App) printPull(res *hunt.PullResult) {
	s := res.Subscription
	var objects, already int
	for _, r := range res.Results {
		if r.Already {
			already++
		}
		for _, n := range r.Stats.Objects {
			objects += n
		}
	}
	fmt.Fprintf(app.Stdout, "%s: %s collection %s: %d page(s), %d object(s) received, %d imported", s.Name, s.URL, s.Collection, res.Pages, res.Objects, objects)
	if already > 0 {
		fmt.Fprintf(app.Stdout, " (%d page(s) already imported)", already)
	}
	fmt.Fprintln(app.Stdout)
	if s.AddedAfter != "" {
		fmt.Fprintf(app.Stdout, "  next pull asks for what was added after %s\n", s.AddedAfter)
	}
	for _, r := range res.Results {
		for _, e := range r.Stats.Errors {
			fmt.Fprintf(app.Stderr, "  skipped: %v\n", e)
		}
	}
}

type pullJSON struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Collection string `json:"collection"`
	Pages      int    `json:"pages"`
	Received   int    `json:"received"`
	Imported   int    `json:"imported"`
	AddedAfter string `json:"added_after"`
}

func pullsJSON(results []*hunt.PullResult) []pullJSON {
	out := []pullJSON{}
	for _, res := range results {
		j := pullJSON{Name: res.Subscription.Name, URL: res.Subscription.URL, Collection: res.Subscription.Collection,
			Pages: res.Pages, Received: res.Objects, AddedAfter: res.Subscription.AddedAfter}
		for _, r := range res.Results {
			for _, n := range r.Stats.Objects {
				j.Imported += n
			}
		}
		out = append(out, j)
	}
	return out
}
